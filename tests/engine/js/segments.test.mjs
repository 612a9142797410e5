// The engine's segment evaluator gives every case of tests/vectors/segments.json the answer the page must give,
// with the parsed patterns the server's configuration would carry for those trees.
import assert from "node:assert/strict";
import { test } from "node:test";
import { engineParts, parsedByServer, vectors } from "./load.mjs";

const { reLearn, segMatches } = engineParts();
const shared = vectors("segments.json");
reLearn(parsedByServer({ segments: shared.cases.map((c) => c.conditionsData) }).patterns);

// The context as the engine holds it: the visitor's clock as a weekday (0: Monday) and minute of the day,
// the moment in milliseconds, and JS_CODE run as a function body (the page runs it as an inline script).
function visitorOf(context) {
  const visitor = { ...context };
  if (context.localTime !== undefined) {
    const [date, time] = context.localTime.split("T");
    const day = new Date(date + "T00:00:00Z").getUTCDay();
    visitor.localTime = { weekday: (day + 6) % 7, minute: Number(time.slice(0, 2)) * 60 + Number(time.slice(3, 5)) };
  }
  if (context.now !== undefined) visitor.now = Date.parse(context.now);
  visitor.code = (source) => {
    try {
      return new Function(source)();
    } catch (error) {
      return false;
    }
  };
  return visitor;
}

test("every shared segment vector gives the page's answer", () => {
  assert.ok(shared.cases.length > 50);
  for (const c of shared.cases) {
    assert.equal(segMatches(c.conditionsData, visitorOf(c.context)), c.expected, c.name);
  }
});
