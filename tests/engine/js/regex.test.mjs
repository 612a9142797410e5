// The engine's linear-time matcher on the server's parsed patterns: the answers JavaScript's own RegExp gives
// for the supported syntax, patterns that make a backtracking engine take exponential time, and a pattern the
// configuration did not parse (the page parses none itself).
import assert from "node:assert/strict";
import { test } from "node:test";
import { engineParts, parsedByServer } from "./load.mjs";

const { reLearn, reProgram, reSearch } = engineParts();
const search = (pattern, text) => reSearch(reProgram(pattern), text);

const PATTERNS = [
  "abc", "^abc", "abc$", "^abc$", "a.c", "a*", "a+b", "ab?c", "a{2}", "a{2,}", "a{1,3}b", "(ab)+", "(?:ab|cd)+e",
  "a|b|c", "^(foo|bar)$", "[abc]+", "[^abc]", "[a-z0-9_-]+", "\\d+", "\\D", "\\w+\\s\\w+", "\\bcat\\b", "\\Bat",
  "x*?y", "colou?r", "^/checkout/(step-[0-9]+)?$", "\\.html$", "[.]", "\\(\\)", "a.*b.*c", "^$", "(a|ab)(c|bcd)",
  "(?P<n>x)y", "(?<n>x)y", "[\\]]", "[\\-a]", "a{0}", "\\x41", "[\\d.]+", "(a*)*b", "^.{3,5}$",
];
const TEXTS = ["", "abc", "xabcx", "aabbcc", "ab", "abab", "cde", "foo", "bar", "foobar", "a-b_c", "123", "4 5",
  "the cat sat", "concat", "color", "colour", "/checkout/step-3", "/checkout/", "index.html", ".", "()", "a1b2c3",
  "axxbyyc", "abcd", "xy", "xxxy", "A", "]", "-", "3.14", "aaab", "aaaa", "\u00e9t\u00e9", "😀ab", "a\nb"];
const OTHERS = ["(?i)^checkout", "(?i)[a-c]+x", "^checkout", "^.$", "^a.b$", "(a+)+$", "(a|aa)*b", "^(a*)*$",
  "(x+x+)+y", "^(ab){1000}$", "\\Acat\\z"];
reLearn(parsedByServer({ patterns: [...PATTERNS, ...OTHERS] }).patterns);

test("answers as JavaScript's RegExp does on the supported syntax", () => {
  for (const pattern of PATTERNS) {
    const native = new RegExp(pattern.replace("(?P<", "(?<"), "u");
    for (const text of TEXTS) {
      assert.equal(search(pattern, text), native.test(text), `${pattern} on ${JSON.stringify(text)}`);
    }
  }
});

test("a leading (?i) ignores case", () => {
  assert.equal(search("(?i)^checkout", "CheckOut/now"), true);
  assert.equal(search("(?i)[a-c]+x", "BCAX"), true);
  assert.equal(search("^checkout", "CheckOut"), false);
});

test("the dot takes one character, also outside the Basic Multilingual Plane, but not a newline", () => {
  assert.equal(search("^.$", "😀"), true);
  assert.equal(search("^a.b$", "a\nb"), false);
});

test("\\A and \\z are the text's start and end", () => {
  assert.equal(search("\\Acat\\z", "cat"), true);
  assert.equal(search("\\Acat\\z", "concat"), false);
});

test("a pattern the configuration did not parse is not run: it throws, and the condition does not hold", () => {
  assert.throws(() => reProgram("(a"), /no parsed form/);
  assert.throws(() => reProgram("abc "), /no parsed form/);
});

test("patterns that make a backtracking engine take exponential time stay linear", { timeout: 20000 }, () => {
  const text = "a".repeat(20000) + "!";
  assert.equal(search("(a+)+$", text), false);
  assert.equal(search("(a|aa)*b", text), false);
  assert.equal(search("^(a*)*$", text), false);
  assert.equal(search("(x+x+)+y", "x".repeat(5000)), false);
});

test("repeats are counted out into the program", () => {
  assert.equal(search("^(ab){1000}$", "ab".repeat(1000)), true);
  assert.equal(search("^(ab){1000}$", "ab".repeat(999)), false);
  assert.equal(reProgram("^(ab){1000}$").p.length, 2003);
});
