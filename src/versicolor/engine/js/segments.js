// Segments, by the server's rules (core/segments/evaluator.py): both levels are ORs of AND-runs (AND binds
// tighter); a condition on an attribute the page does not know does not hold, and `include: false` turns
// that into a match. The shared vectors in tests/vectors/ hold both implementations to the same answers.
const SEG_PATTERNS = new Map();

function segPattern(matchType, pattern) {
  const key = matchType + "\u0000" + pattern;
  if (!SEG_PATTERNS.has(key)) {
    let test;
    if (matchType === "CONTAINS") test = (text) => text.includes(pattern);
    else if (matchType === "CORRESPONDS_EXACTLY") test = (text) => text === pattern;
    else if (matchType === "REGULAR_EXPRESSION") {
      const compiled = reCompile(pattern);
      test = (text) => reSearch(compiled, text);
    } else throw new Error("unknown match type " + matchType);
    SEG_PATTERNS.set(key, test);
  }
  return SEG_PATTERNS.get(key);
}

function segRuns(items, orOperators) {
  const runs = [[]];
  items.forEach((item, index) => {
    if (index > 0 && orOperators[index - 1]) runs.push([]);
    runs[runs.length - 1].push(item);
  });
  return runs;
}

function segNumber(value) {
  if (typeof value === "number") return isFinite(value) ? value : null;
  if (typeof value !== "string" || !value.trim()) return null;
  const number = Number(value.trim());
  return isFinite(number) ? number : null;
}

function segScalar(condition, value) {
  const kind = condition.matchType;
  if (kind === "TRUE") return value === true;
  if (kind === "FALSE") return value === false;
  if (kind === "CONTAINS" || kind === "CORRESPONDS_EXACTLY" || kind === "REGULAR_EXPRESSION") {
    return typeof value === "string" && segPattern(kind, condition.value)(value);
  }
  const number = typeof value === "boolean" ? null : segNumber(value);
  const wanted = condition.value;
  if (number === null || typeof wanted !== "number") return false;
  if (kind === "EQUAL") return number === wanted;
  if (kind === "LESS") return number < wanted;
  if (kind === "LESS_OR_EQUAL") return number <= wanted;
  if (kind === "GREATER") return number > wanted;
  if (kind === "GREATER_OR_EQUAL") return number >= wanted;
  return false;
}

function segCustomDatum(condition, value) {
  const empty = value === undefined || value === null;
  if (condition.matchType === "DEFINED") {
    if (empty || value === "") return false;
    return typeof value !== "object" || Object.keys(value).length > 0;
  }
  if (empty) return false;
  // A LIST holds when any of its values does; a COUNT_LIST is tested on its values (the keys).
  if (Array.isArray(value)) return value.some((item) => segScalar(condition, item));
  if (typeof value === "object") return Object.keys(value).some((item) => segScalar(condition, item));
  return segScalar(condition, value);
}

const SEG_VALUES = (condition) => (Array.isArray(condition.value) ? condition.value : [condition.value]);

// Whether the condition's test is true for the visitor, before `include` is applied.
const SEG_TESTS = {
  PAGE_URL: (c, v) => v.pageUrl != null && segPattern(c.matchType, c.value)(v.pageUrl),
  DEVICE_TYPE: (c, v) => v.deviceType != null && SEG_VALUES(c).includes(v.deviceType),
  BROWSER: (c, v) => v.browser != null && SEG_VALUES(c).includes(v.browser),
  COUNTRY: (c, v) => v.country != null && SEG_VALUES(c).includes(v.country),
  NEW_VISITOR: (c, v) => v.newVisitor === true,
  CUSTOM_DATUM: (c, v) => segCustomDatum(c, (v.customData || {})[c.customDataIndex]),
};

function segMatches(conditionsData, visitor) {
  return segRuns(conditionsData.firstLevel, conditionsData.firstLevelOrOperators || []).some((run) =>
    run.every((group) =>
      segRuns(group.conditions, group.orOperators || []).some((conditions) =>
        conditions.every((condition) => {
          const test = SEG_TESTS[condition.targetingType];
          if (!test) throw new Error("the page cannot evaluate " + condition.targetingType + " conditions");
          return test(condition, visitor) === (condition.include !== false);
        }),
      ),
    ),
  );
}
