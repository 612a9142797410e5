// The page engine's matcher gives every case of tests/vectors/regex.json the server's (RE2's) answer, and
// accepts every pattern the server accepts (docs/patterns.md).
import assert from "node:assert/strict";
import { test } from "node:test";
import { engineParts, vectors } from "./load.mjs";

const { reCompile, reSearch } = engineParts();
const shared = vectors("regex.json");

test("every shared regex vector gives the server's answer", () => {
  assert.ok(shared.cases.length > 1000);
  for (const c of shared.cases) {
    assert.equal(reSearch(reCompile(c.pattern), c.text), c.expected, `${c.pattern} on ${JSON.stringify(c.text)}`);
  }
});
