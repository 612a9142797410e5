// User patterns run in linear time: JavaScript's RegExp backtracks, so a pattern runs here on a Pike VM (a
// simulated NFA, every thread advanced in lock-step over the text: time O(text x pattern)). The page parses
// nothing: the configuration carries each pattern as the server parsed it when it was saved (core/patterns.py,
// `parsed`: its tree and whether it ignores case), and reProgram turns that tree into the VM's program. A
// pattern the configuration did not parse throws, and the caller treats the condition as not holding.
const RE_PARSED = new Map();
const RE_WORD = [48, 57, 65, 90, 95, 95, 97, 122];

// Ranges are flat: [low, high, low, high, ...].
function reInRanges(ranges, c) {
  for (let i = 0; i < ranges.length; i += 2) if (c >= ranges[i] && c <= ranges[i + 1]) return true;
  return false;
}

// The parsed patterns of a configuration (`patterns`: source -> {ignoreCase, tree}).
function reLearn(patterns) {
  for (const source in patterns) RE_PARSED.set(source, patterns[source]);
}

// The program of a pattern, made from its parsed form. Instructions: {m: ranges, n: negated} one character, {a} an assertion
// ("^", "$", "b", "B"), {j} jump, {j, k} split to both, {} match. The server's `steps` counts them the same way.
function reProgram(source) {
  const parsed = RE_PARSED.get(source);
  if (!parsed) throw new Error("the configuration has no parsed form of the pattern " + JSON.stringify(source));
  const program = [];
  const emit = (op) => {
    if (program.push(op) > 20000) throw new Error("pattern too large"); // the server refuses such a pattern
    return program.length - 1;
  };
  // A split whose first branch is the next instruction; the second is set once it is known.
  const split = () => emit({ j: program.length + 1, k: 0 });
  const gen = (node) => {
    if (typeof node === "number") emit({ m: [node, node] });
    else if (typeof node === "string") emit({ a: node });
    else {
      const [kind, ...parts] = node;
      if (kind === "set" || kind === "not") emit({ m: parts, n: kind === "not" });
      else if (kind === "seq") parts.forEach(gen);
      else if (kind === "alt") {
        const jumps = [];
        parts.forEach((option, index) => {
          const last = index === parts.length - 1;
          const at = last ? 0 : split();
          gen(option);
          if (!last) {
            jumps.push(emit({ j: 0 }));
            program[at].k = program.length;
          }
        });
        for (const jump of jumps) program[jump].j = program.length;
      } else if (kind === "rep") {
        const [min, max, repeated] = parts;
        for (let n = 0; n < min; n++) gen(repeated);
        if (max === null) {
          const at = split();
          gen(repeated);
          emit({ j: at });
          program[at].k = program.length;
        } else {
          const splits = [];
          for (let n = min; n < max; n++) {
            splits.push(split());
            gen(repeated);
          }
          for (const at of splits) program[at].k = program.length;
        }
      } else throw new Error("unknown pattern node " + kind);
    }
  };
  gen(parsed.tree);
  emit({});
  return { p: program, f: parsed.ignoreCase };
}

function reCharMatches(op, c, fold) {
  let hit = reInRanges(op.m, c);
  if (!hit && fold) {
    const s = String.fromCodePoint(c);
    const other = (s === s.toLowerCase() ? s.toUpperCase() : s.toLowerCase()).codePointAt(0);
    hit = other !== c && reInRanges(op.m, other);
  }
  return hit !== !!op.n;
}

// Whether the compiled pattern matches somewhere in `text`.
function reSearch(compiled, text) {
  const program = compiled.p;
  const chars = Array.from(text, (s) => s.codePointAt(0));
  const seen = new Int32Array(program.length).fill(-1);
  const isWord = (c) => c !== undefined && reInRanges(RE_WORD, c);
  let current = [];
  let next = [];
  let step = 0;
  // Follows jumps, splits and assertions from `pc` at `pos`; parks character instructions in `list`.
  const add = (list, pc, pos) => {
    const stack = [pc];
    while (stack.length) {
      const at = stack.pop();
      if (seen[at] === step) continue;
      seen[at] = step;
      const op = program[at];
      if (op.m) list.push(at);
      else if (op.a) {
        const ok =
          op.a === "^" ? pos === 0
          : op.a === "$" ? pos === chars.length
          : (isWord(chars[pos - 1]) !== isWord(chars[pos])) === (op.a === "b");
        if (ok) stack.push(at + 1);
      } else if (op.j !== undefined) {
        if (op.k !== undefined) stack.push(op.k);
        stack.push(op.j);
      } else return true;
    }
    return false;
  };
  for (let pos = 0; ; pos++) {
    if (add(current, 0, pos)) return true;
    if (pos === chars.length) return false;
    step++;
    for (const pc of current) {
      if (reCharMatches(program[pc], chars[pos], compiled.f) && add(next, pc + 1, pos + 1)) return true;
    }
    [current, next] = [next, []];
  }
}
