// The page engine's matcher, given the server's parsed form of each pattern, gives every case of
// tests/vectors/regex.json the server's (RE2's) answer.
import assert from "node:assert/strict";
import { test } from "node:test";
import { engineParts, parsedByServer, vectors } from "./load.mjs";

const { reLearn, reProgram, reSearch } = engineParts();
const shared = vectors("regex.json");
const sources = [...new Set(shared.cases.map((c) => c.pattern))];
const parsed = parsedByServer({ patterns: sources });
reLearn(parsed.patterns);

test("every shared regex vector gives the server's answer", () => {
  assert.ok(shared.cases.length > 1000);
  assert.equal(Object.keys(parsed.patterns).length, sources.length);
  for (const c of shared.cases) {
    assert.equal(reSearch(reProgram(c.pattern), c.text), c.expected, `${c.pattern} on ${JSON.stringify(c.text)}`);
  }
});

test("the program has as many instructions as the server counted for the size rule", () => {
  for (const [source, steps] of Object.entries(parsed.steps)) {
    assert.equal(reProgram(source).p.length, steps, source);
  }
});
