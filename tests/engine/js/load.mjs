// Loads the engine's pure parts (as the server concatenates them) into a fresh context, for the tests here.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const folder = fileURLToPath(new URL("../../../src/versicolor/engine/js/", import.meta.url));
const parts = ["assign.js", "regex.js", "segments.js"].map((name) => readFileSync(folder + name, "utf8"));

export function engineParts() {
  const context = vm.createContext({ TextEncoder });
  return vm.runInContext(
    '"use strict";' + parts.join("\n") + "\n;({ murmur3, assign, reCompile, reSearch, segMatches })",
    context,
  );
}

export function vectors(name) {
  return JSON.parse(readFileSync(fileURLToPath(new URL("../../vectors/" + name, import.meta.url)), "utf8"));
}
