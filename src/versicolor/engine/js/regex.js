// User patterns run in linear time: JavaScript's RegExp backtracks, so patterns are compiled here into a
// Pike VM program (a simulated NFA, every thread advanced in lock-step over the text: time O(text x
// pattern)). The syntax is the RE2 subset docs/engine.md lists; anything else throws, and the caller treats
// the condition as not holding. A search finds the pattern anywhere in the text, as the server's does.
const RE_MAX_PROGRAM = 20000;
const RE_WORD = [[48, 57], [65, 90], [95, 95], [97, 122]];
const RE_DIGIT = [[48, 57]];
const RE_SPACE = [[9, 10], [12, 13], [32, 32]];

function reInRanges(ranges, c) {
  for (const r of ranges) if (c >= r[0] && c <= r[1]) return true;
  return false;
}

function reCompile(source) {
  let i = 0;
  let fold = false;
  const cps = Array.from(source);
  const at = (k) => cps[i + (k || 0)];
  // Patterns are checked when saved (docs/engine.md lists the syntax); what fails here names the spot only.
  const fail = (why) => {
    throw new SyntaxError("unsupported in pattern " + JSON.stringify(source) + ": " + why);
  };
  if (cps.slice(0, 4).join("") === "(?i)") {
    fold = true;
    i = 4;
  }
  // A matcher is {r: ranges, n: negated}; with `fold`, a character also matches by its other case.
  const set = (r, n) => ({ r, n: !!n });
  const escape = (inClass) => {
    const c = cps[++i];
    i++;
    if (c === undefined) fail("trailing \\");
    const lower = c.toLowerCase();
    if ("dws".includes(lower)) return set(lower === "d" ? RE_DIGIT : lower === "w" ? RE_WORD : RE_SPACE, c !== lower);
    const simple = { n: 10, t: 9, r: 13, f: 12, v: 11 }[c];
    if (simple) return set([[simple, simple]]);
    if (c === "x") {
      const hex = /^[0-9a-fA-F]{2}/.exec(cps.slice(i, i + 2).join(""));
      if (!hex) fail("\\x");
      i += 2;
      const code = parseInt(hex[0], 16);
      return set([[code, code]]);
    }
    if (!inClass && "bBAz".includes(c)) return { a: c };
    if (/[0-9A-Za-z]/.test(c)) fail("\\" + c);
    const code = c.codePointAt(0);
    return set([[code, code]]);
  };
  const klass = () => {
    i++;
    const negated = at() === "^";
    if (negated) i++;
    const ranges = [];
    let first = true;
    while (at() !== "]" || first) {
      if (at() === undefined) fail("[");
      first = false;
      let low;
      if (at() === "\\") {
        const m = escape(true);
        if (m.n || m.r.length > 1 || m.r[0][0] !== m.r[0][1]) {
          if (m.n) fail("\\D in []");
          ranges.push(...m.r);
          continue;
        }
        low = m.r[0][0];
      } else if (at() === "[" && at(1) === ":") {
        fail("[:");
      } else {
        low = at().codePointAt(0);
        i++;
      }
      let high = low;
      if (at() === "-" && at(1) !== "]" && at(1) !== undefined) {
        i++;
        if (at() === "\\") {
          const m = escape(true);
          if (m.n || m.r.length > 1) fail("range");
          high = m.r[0][0];
        } else {
          high = at().codePointAt(0);
          i++;
        }
        if (high < low) fail("range");
      }
      ranges.push([low, high]);
    }
    i++;
    return set(ranges, negated);
  };
  const atom = () => {
    const c = at();
    if (c === "(") {
      i++;
      if (at() === "?") {
        const rest = cps.slice(i, i + 3).join("");
        if (rest.startsWith("?:")) i += 2;
        else if (rest === "?P<" || rest.startsWith("?<")) {
          while (at() !== undefined && at() !== ">") i++;
          if (at() !== ">") fail("(?<");
          i++;
        } else fail("(" + rest);
      }
      const inner = alternation();
      if (at() !== ")") fail("(");
      i++;
      return inner;
    }
    if (c === "[") return { m: klass() };
    if (c === "\\") {
      const m = escape(false);
      return m.a ? m : { m };
    }
    if (c === ".") {
      i++;
      return { m: set([[10, 10]], true) };
    }
    if (c === "^" || c === "$") {
      i++;
      return { a: c };
    }
    if ("*+?".includes(c)) fail(c);
    if (c === ")") fail(")");
    i++;
    const code = c.codePointAt(0);
    return { m: set([[code, code]]) };
  };
  const repeat = () => {
    let node = atom();
    let repeated = false;
    for (;;) {
      const c = at();
      let min, max;
      if (c === "*" || c === "+" || c === "?") {
        i++;
        min = c === "+" ? 1 : 0;
        max = c === "?" ? 1 : -1;
      } else if (c === "{" && /^\{\d+(,\d*)?\}/.test(cps.slice(i, i + 12).join(""))) {
        const m = /^\{(\d+)(,(\d*))?\}/.exec(cps.slice(i, i + 12).join(""));
        i += m[0].length;
        min = +m[1];
        max = m[2] === undefined ? min : m[3] === "" ? -1 : +m[3];
        if (min > 1000 || max > 1000 || (max >= 0 && max < min)) fail("{}");
      } else return node;
      if (repeated) fail("repeat of repeat");
      if (node.a) fail("repeat of assertion");
      if (at() === "?") i++; // lazy: the same answer for a search that only asks whether there is a match
      repeated = true;
      node = { min, max, x: node };
    }
  };
  const sequence = () => {
    const items = [];
    while (at() !== undefined && at() !== "|" && at() !== ")") items.push(repeat());
    return { s: items };
  };
  function alternation() {
    const options = [sequence()];
    while (at() === "|") {
      i++;
      options.push(sequence());
    }
    return options.length > 1 ? { o: options } : options[0];
  }
  const tree = alternation();
  if (i < cps.length) fail(")");

  // Instructions: {m} one character, {a} an assertion, {j} jump, {j, k} split to both, {} match.
  const program = [];
  const emit = (op) => {
    if (program.length >= RE_MAX_PROGRAM) fail("too large");
    program.push(op);
    return program.length - 1;
  };
  const gen = (node) => {
    if (node.m) emit({ m: node.m });
    else if (node.a) emit({ a: node.a });
    else if (node.s) node.s.forEach(gen);
    else if (node.o) {
      const jumps = [];
      node.o.forEach((option, index) => {
        const split = index < node.o.length - 1 ? emit({ j: 0, k: 0 }) : -1;
        if (split >= 0) program[split].j = split + 1;
        gen(option);
        if (split >= 0) {
          jumps.push(emit({ j: 0 }));
          program[split].k = program.length;
        }
      });
      for (const jump of jumps) program[jump].j = program.length;
    } else {
      for (let n = 0; n < node.min; n++) gen(node.x);
      if (node.max < 0) {
        const split = emit({ j: 0, k: 0 });
        program[split].j = split + 1;
        gen(node.x);
        emit({ j: split });
        program[split].k = program.length;
      } else {
        const splits = [];
        for (let n = node.min; n < node.max; n++) {
          const split = emit({ j: 0, k: 0 });
          program[split].j = split + 1;
          splits.push(split);
          gen(node.x);
        }
        for (const split of splits) program[split].k = program.length;
      }
    }
  };
  gen(tree);
  emit({});
  return { p: program, f: fold };
}

function reCharMatches(matcher, c, fold) {
  let hit = reInRanges(matcher.r, c);
  if (!hit && fold) {
    const s = String.fromCodePoint(c);
    const other = (s === s.toLowerCase() ? s.toUpperCase() : s.toLowerCase()).codePointAt(0);
    hit = other !== c && reInRanges(matcher.r, other);
  }
  return hit !== matcher.n;
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
        const before = chars[pos - 1], here = chars[pos];
        const ok =
          op.a === "^" || op.a === "A" ? pos === 0
          : op.a === "$" || op.a === "z" ? pos === chars.length
          : (isWord(before) !== isWord(here)) === (op.a === "b");
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
      if (reCharMatches(program[pc].m, chars[pos], compiled.f) && add(next, pc + 1, pos + 1)) return true;
    }
    [current, next] = [next, []];
  }
}
