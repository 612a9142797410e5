// The engine assigns exactly as the server: every case of tests/vectors/assignment.json.
import assert from "node:assert/strict";
import { test } from "node:test";
import { engineParts, vectors } from "./load.mjs";

const { murmur3, assign } = engineParts();
const shared = vectors("assignment.json");

test("MurmurHash3 gives the published values", () => {
  for (const m of shared.murmur3) {
    const bytes = m.inputHex !== undefined ? Buffer.from(m.inputHex, "hex") : new TextEncoder().encode(m.input);
    assert.equal(murmur3(bytes, m.seed), m.hash, JSON.stringify(m));
  }
});

test("every assignment vector gives its variation", () => {
  assert.ok(shared.assignment.length > 10);
  for (const c of shared.assignment) {
    assert.equal(assign(c.experimentId, c.visitorCode, c.deviations), c.variationId, JSON.stringify(c));
  }
});
