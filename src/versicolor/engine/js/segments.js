// Segments, by the server's rules (core/segments/): both levels are ORs of AND-runs (AND binds tighter); a
// condition on something the page does not know (the country) does not hold, and `include: false` turns that
// into a match. JS_CODE conditions, which only a page can decide, run here through `visitor.code`. The shared
// vectors (tests/vectors/segments.json) hold both implementations to the same answers.
const SEG_PATTERNS = new Map();
const SEG_DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];

function segPattern(matchType, pattern) {
  const key = matchType + "\u0000" + pattern;
  if (!SEG_PATTERNS.has(key)) {
    let test;
    if (matchType === "CONTAINS") test = (text) => text.includes(pattern);
    else if (matchType === "CORRESPONDS_EXACTLY") test = (text) => text === pattern;
    else if (matchType === "REGULAR_EXPRESSION") {
      const compiled = reProgram(pattern);
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

const segList = (value) => (Array.isArray(value) ? value : [value]);
const segText = (field) => (c, text) => text != null && segPattern(c.matchType, c[field])(text);
const segLower = (text) => (text == null ? null : String(text).toLowerCase());
const segMinutes = (text) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));

// Whether the condition's test is true for the visitor, before `include` is applied.
const SEG_TESTS = {
  PAGE_URL: (c, v) => segText("url")(c, v.pageUrl),
  PAGE_TITLE: (c, v) => segText("title")(c, v.pageTitle),
  LANDING_PAGE: (c, v) => segText("url")(c, v.landingPageUrl),
  PREVIOUS_PAGE: (c, v) => segText("url")(c, v.previousPageUrl),
  ORIGIN: (c, v) => segText("url")(c, v.referrer),
  VISITED_PAGES: (c, v) => (v.visitedPages || []).some((page) => segText("url")(c, page)),
  DEVICE_TYPE: (c, v) => segList(c.device).includes(v.deviceType === "MOBILE" ? "PHONE" : v.deviceType),
  BROWSER: (c, v) => segList(c.browser).includes(v.browser),
  OPERATING_SYSTEM: (c, v) => segList(c.os).includes(v.os),
  NEW_VISITORS: (c, v) => v.newVisitor === (c.visitorType !== "RETURNING"),
  GEOLOCATION: (c, v) =>
    v.country != null &&
    segList(c.country).includes(v.country.toUpperCase()) &&
    (c.region == null || segLower(v.region) === segLower(c.region)) &&
    (c.city == null || segLower(v.city) === segLower(c.city)),
  CUSTOM_DATUM: (c, v) => segCustomDatum(c, (v.customData || {})[c.customDataIndex]),
  JS_CODE: (c, v) => !!v.code(c.jsCode),
  COOKIE: (c, v) =>
    Object.keys(v.cookies || {}).some(
      (name) =>
        segPattern(c.nameMatchType || "CORRESPONDS_EXACTLY", c.name)(name) &&
        (c.value == null || segPattern(c.valueMatchType, c.value)(v.cookies[name])),
    ),
  DAY_OF_WEEK: (c, v) => v.localTime != null && segList(c.day).includes(SEG_DAYS[v.localTime.weekday]),
  HOUR_MINUTE_RANGE: (c, v) => {
    if (v.localTime == null) return false;
    const minute = v.localTime.minute, start = segMinutes(c.start), end = segMinutes(c.end);
    return start < end ? start <= minute && minute < end : minute >= start || minute < end;
  },
  TIME_RANGE: (c, v) =>
    v.now != null &&
    (c.dateStart == null || v.now >= Date.parse(c.dateStart)) &&
    (c.dateEnd == null || v.now < Date.parse(c.dateEnd)),
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
