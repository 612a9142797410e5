// Loads the engine's pure parts (as the server concatenates them) into a fresh context, for the tests here, and
// asks the server's code for the parsed patterns a configuration would carry (parsed_patterns.py).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const folder = fileURLToPath(new URL("../../../src/versicolor/engine/js/", import.meta.url));
const parts = ["assign.js", "regex.js", "segments.js"].map((name) => readFileSync(folder + name, "utf8"));
// tests/engine/test_javascript.py names its own interpreter; run alone, the repository's virtual environment.
const python = process.env.VERSICOLOR_PYTHON || fileURLToPath(new URL("../../../.venv/bin/python", import.meta.url));

export function engineParts() {
  const context = vm.createContext({ TextEncoder });
  return vm.runInContext(
    '"use strict";' + parts.join("\n") + "\n;({ murmur3, assign, reLearn, reProgram, reSearch, segMatches })",
    context,
  );
}

export function vectors(name) {
  return JSON.parse(readFileSync(fileURLToPath(new URL("../../vectors/" + name, import.meta.url)), "utf8"));
}

// {patterns: {source: parsed}, steps: {source: instructions}} for these pattern sources and segment trees.
export function parsedByServer({ patterns = [], segments = [] }) {
  const answer = execFileSync(python, [fileURLToPath(new URL("parsed_patterns.py", import.meta.url))], {
    input: JSON.stringify({ patterns, segments }),
    maxBuffer: 256 << 20,
  });
  return JSON.parse(answer);
}
