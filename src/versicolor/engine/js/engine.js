// The page engine (docs/engine.md). `SETTINGS` is the site's part, written by the server after this code:
// {site, timeout, consent}. Nothing here may throw into the page: every entry point catches what it calls.
const W = window, D = document, L = location, NOW = () => Date.now();
const PREFIX = "[versicolor]";
const VISIT_GAP = 30 * 60 * 1000; // a visit ends after 30 minutes without a page view
const SEND_GAP = 1000; // at most one tracking request a second per page
const BATCH_DELAY = 200; // events of one moment (a visit, its exposures) travel together
const MAX_STORED_EVENTS = 500;
const MAX_BATCH_BYTES = 60000; // keepalive requests may carry 64 KiB at most
const CODE_PATTERN = /^[a-z0-9]{16}$/;
const KEYS = {
  visitor: "vcVisitor",
  queue: "vc.queue",
  visit: "vc.visit",
  goals: "vc.goals",
  consent: "vc.consent",
  pages: "vc.pages",
};
const MAX_PAGES = 50; // the visitor's most recent pages, for VISITED_PAGES conditions
const SESSION_KEYS = { preview: "vc.preview", debug: "vc.debug" };

function engine(SETTINGS) {
  if (W.versicolor && W.versicolor.engine) return; // the page loads the script twice: one engine
  const mark = (name) => performance.mark && performance.mark("versicolor:" + name);
  mark("start");
  const script = D.currentScript;
  const source = (script && script.src) || "";
  const base = source.slice(0, source.indexOf("/data/v1/"));
  const endpoint = base + "/data/v1/sites/" + SETTINGS.site;
  const hider = D.getElementById("versicolor-hide");
  const nonce = (script && script.nonce) || (hider && hider.nonce) || undefined;
  const listeners = { assign: [], error: [] };
  const assigned = new Map(); // experiment id -> variation id (0: the original), for this page view
  const applied = new Map(); // experiment id -> its style elements, once its code ran in this document
  const customData = {};
  const converted = new Set(); // goals converted in this page view (for goals counted once per page)
  const retried = new Set(); // events already sent once more after a refused batch
  let debugOn = session(SESSION_KEYS.debug) === "1";
  let consented = !SETTINGS.consent;
  let denied = false;
  let started = false;
  let authorised = false; // the configuration arrived: the host may run experiences; only now is anything stored
  let newCode = false;
  let revealed = false; // the engine itself showed the page (the snippet's timeout did not)
  let pagesSeen = [];
  let config = null;
  let preview = null;
  let visitorCode = null;
  let visit = null;
  let queue = [];
  let lastSent = 0;
  let sending = false;
  let flushTimer = 0;
  let failures = 0;
  const ua = navigator.userAgent;
  const device = /iPad|Tablet|PlayBook|Silk|Android(?!.*Mobi)/i.test(ua)
    ? "TABLET"
    : /Mobi|iPhone|iPod|Android|BlackBerry|Opera Mini|IEMobile/i.test(ua)
      ? "PHONE"
      : "DESKTOP";
  const os = /Windows Phone/.test(ua)
    ? "WINDOWS_PHONE"
    : /Windows/.test(ua)
      ? "WINDOWS"
      : /iPhone|iPad|iPod/.test(ua)
        ? "IOS"
        : /Mac OS X|Macintosh/.test(ua)
          ? "MAC"
          : /Android/.test(ua)
            ? "ANDROID"
            : /Linux/.test(ua)
              ? "LINUX"
              : null;
  const browser = /Edg(e|A|iOS)?\//.test(ua)
    ? "EDGE"
    : /OPR\/|Opera/.test(ua)
      ? "OPERA"
      : /SamsungBrowser/.test(ua)
        ? "SAMSUNG_INTERNET"
        : /Firefox\/|FxiOS/.test(ua)
          ? "FIREFOX"
          : /MSIE |Trident\//.test(ua)
            ? "INTERNET_EXPLORER"
            : /Chrome\/|CriOS/.test(ua)
              ? "CHROME"
              : /Safari\//.test(ua)
                ? "SAFARI"
                : "OTHER";

  function log(...args) {
    if (debugOn) console.info(PREFIX, ...args);
  }

  function report(what, error) {
    console.warn(PREFIX, what + ":", error);
    emit("error", { source: what, error });
  }

  function emit(name, detail) {
    for (const fn of listeners[name]) {
      try {
        fn(detail);
      } catch (error) {
        console.warn(PREFIX, "an " + name + " listener threw:", error);
      }
    }
  }

  function guard(fn) {
    return function () {
      try {
        return fn.apply(this, arguments);
      } catch (error) {
        report("engine", error);
      }
    };
  }

  // Storage: every access may throw (blocked cookies or storage, sandboxed frames); then it is only missing.
  function stored(key, value) {
    try {
      if (value === undefined) return JSON.parse(localStorage.getItem(key));
      if (!authorised || !consented || denied || preview) return null;
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify(value));
    } catch (error) {
      return null;
    }
    return null;
  }

  function session(key, value) {
    try {
      if (value === undefined) return sessionStorage.getItem(key);
      if (value === null) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, value);
    } catch (error) {
      return null;
    }
    return null;
  }

  function cookie(value, maxAge) {
    try {
      if (value === undefined) {
        const found = cookies(true);
        return found.find((code) => CODE_PATTERN.test(code)) || found[0] || null;
      }
      if (maxAge > 0 && (!authorised || !consented || denied || preview)) return null;
      // The widest domain the browser accepts (shop.example rather than www.shop.example), so that every
      // subdomain of the site shares the visitor; a public suffix (co.uk) is refused by the browser itself.
      const parts = L.hostname.split(".");
      const tail = "; path=/; max-age=" + maxAge + "; SameSite=Lax" + (L.protocol === "https:" ? "; Secure" : "");
      D.cookie = KEYS.visitor + "=; path=/; max-age=0"; // a host-only one (another tool's, or malformed) goes
      for (let n = 2; n <= parts.length; n++) {
        const domain = parts.slice(-n).join(".");
        D.cookie = KEYS.visitor + "=" + value + "; domain=" + domain + tail;
        if (maxAge > 0 && cookie() === value) return null;
      }
      D.cookie = KEYS.visitor + "=" + value + tail;
    } catch (error) {
      return null;
    }
    return null;
  }

  // The page's cookies by name; `visitorCodes`: every value of the visitor cookie (a host-only one may shadow).
  function cookies(visitorCodes) {
    const found = {}, codes = [];
    try {
      for (const part of D.cookie.split(/;\s*/)) {
        const at = part.indexOf("=");
        const name = part.slice(0, at), value = part.slice(at + 1);
        if (at > 0) found[name] = value;
        if (name === KEYS.visitor) codes.push(value);
      }
    } catch (error) {
      // cookies blocked: none known
    }
    return visitorCodes ? codes : found;
  }

  function randomCode(length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    return Array.from(bytes, (b) => "abcdefghijklmnopqrstuvwxyz0123456789"[b % 36]).join("");
  }

  function reveal() {
    const style = D.getElementById("versicolor-hide");
    if (style) {
      style.remove();
      revealed = true;
    }
    mark("revealed");
  }

  // Runs a piece of the account's code as an inline script (with the page's nonce, so CSP pages can allow
  // it): it behaves as if the page had it in a <script> tag. An error in it, also a syntax error, is caught
  // by a capturing listener that keeps it from the page's own handlers, and reported.
  function run(code, what, condition) {
    if (!code) return true;
    if (condition) code = "document.currentScript.result=(function(){" + code + "\n})()";
    let failure = null;
    let ran = false;
    const catcher = (event) => {
      failure = event.error || event.message;
      event.preventDefault(); // reported below, once
    };
    W.addEventListener("error", catcher, true);
    try {
      const element = D.createElement("script");
      if (nonce) element.nonce = nonce;
      // The first line tells that the script ran at all: a Content-Security-Policy without the nonce stops it.
      element.text = "document.currentScript.ran=1;" + code + "\n//# sourceURL=versicolor:" + what.replace(/\s+/g, "-");
      (D.head || D.documentElement).appendChild(element);
      ran = element.ran;
      element.remove();
      if (condition && ran && !failure) return !!element.result;
    } catch (error) {
      failure = error;
    }
    if (!ran && !failure) failure = new Error("did not run (Content-Security-Policy nonce?)");
    W.removeEventListener("error", catcher, true);
    if (failure) report(what, failure);
    return !failure && !condition;
  }

  function style(css, what) {
    if (!css) return null;
    const element = D.createElement("style");
    if (nonce) element.nonce = nonce;
    element.setAttribute("data-versicolor", what);
    element.textContent = css;
    (D.head || D.documentElement).appendChild(element);
    return element;
  }

  function whenReady(fn) {
    if (D.readyState === "loading") D.addEventListener("DOMContentLoaded", guard(fn), { once: true });
    else fn();
  }

  // --- events and their delivery -------------------------------------------------------------------
  function track(type, fields) {
    if (!started || denied || preview || !consented || !visitorCode) return;
    const event = {
      id: randomCode(20),
      type,
      visitorCode,
      visitId: visit.id,
      timestamp: NOW(),
      deviceType: device,
      browser,
      newVisitor: visit.newVisitor,
      ...fields,
    };
    if (Object.keys(customData).length) event.customData = { ...customData };
    queue.push(event);
    if (queue.length > MAX_STORED_EVENTS) queue.splice(0, queue.length - MAX_STORED_EVENTS);
    stored(KEYS.queue, queue);
    log("event", type, fields);
    schedule(BATCH_DELAY);
  }

  function schedule(delay) {
    if (flushTimer || !queue.length) return;
    const wait = Math.max(delay, lastSent + SEND_GAP - NOW());
    flushTimer = setTimeout(() => {
      flushTimer = 0;
      flush();
    }, wait);
  }

  function flush(leaving) {
    if (sending || !queue.length || denied || preview || !authorised) return;
    if (NOW() - lastSent < SEND_GAP) {
      if (!leaving) schedule(0);
      return; // leaving: what is left stays stored and goes with the next page
    }
    const batch = [];
    let size = 12;
    for (const event of queue) {
      size += JSON.stringify(event).length + 1;
      if (batch.length && size > MAX_BATCH_BYTES) break;
      batch.push(event);
    }
    const body = JSON.stringify({ events: batch });
    lastSent = NOW();
    sending = true;
    // text/plain keeps the request simple (no CORS preflight); the server reads it as JSON.
    const settle = guard((status, answer) => {
      sending = false;
      const ids = new Set(batch.map((event) => event.id));
      if (status === 202 || status === 403 || status === 404 || status === 413) {
        queue = queue.filter((event) => !ids.has(event.id));
        failures = 0;
      } else if (status === 400) {
        // Refused whole, naming the events at fault (an experiment deleted meanwhile): drop those, send the
        // rest once more; a batch refused again without naming them is dropped.
        const named = new Set();
        for (const detail of (answer && answer.details) || []) {
          const found = /^events\[(\d+)\]/.exec(detail.field || "");
          if (found) named.add(batch[Number(found[1])].id);
        }
        queue = queue.filter((event) => !ids.has(event.id) || (!named.has(event.id) && named.size && !retried.has(event.id)));
        for (const event of queue) if (ids.has(event.id)) retried.add(event.id);
        report("events refused", (answer && answer.message) || status);
      } else {
        failures++; // unreachable, 429, 5xx: kept, and tried again later (on this page or the next)
      }
      stored(KEYS.queue, queue);
      if (status === 403) denied = true;
      if (failures < 4) schedule(failures ? 5000 * failures : 0);
    });
    try {
      fetch(endpoint + "/events", { method: "POST", body, keepalive: true, headers: { "Content-Type": "text/plain" } })
        .then((response) =>
          response.status === 400 ? response.json().then((answer) => settle(400, answer), () => settle(400)) : settle(response.status),
        )
        .catch(() => settle(0));
    } catch (error) {
      sending = false;
      if (!navigator.sendBeacon(endpoint + "/events", body)) failures++;
    }
  }

  // --- deciding and applying -----------------------------------------------------------------------
  function attributes() {
    const now = new Date();
    return {
      pageUrl: L.href,
      pageTitle: D.title,
      landingPageUrl: visit.landing,
      previousPageUrl: visit.previous,
      referrer: visit.referrer,
      visitedPages: pagesSeen,
      deviceType: device,
      browser,
      os,
      newVisitor: visit.newVisitor,
      customData,
      cookies: cookies(),
      now: now.getTime(),
      localTime: { weekday: (now.getDay() + 6) % 7, minute: now.getHours() * 60 + now.getMinutes() },
      code: (source) => run(source, "segment condition JS_CODE", true),
    };
  }

  function inSegment(experiment) {
    if (experiment.targetingSegmentId == null) return true;
    const segment = (config.segments || []).find((s) => s.id === experiment.targetingSegmentId);
    if (!segment) return false;
    try {
      return segMatches(segment.conditionsData, attributes());
    } catch (error) {
      report("segment " + segment.id, error);
      return false;
    }
  }

  // Where an experiment runs (its targetingConfiguration, as core/experiments/targeting.py reads it): SITE and
  // the others every page; PAGE its baseURL's page (query and fragment aside); URL pages beginning with it.
  function runsHere(experiment) {
    const kind = experiment.targetingConfiguration, base = experiment.baseURL || "";
    const page = (url) => {
      try {
        const u = new URL(url);
        return u.protocol + "//" + u.host + (u.pathname.replace(/\/+$/, "") || "/");
      } catch (error) {
        return null;
      }
    };
    if (kind === "PAGE") return page(L.href) !== null && page(L.href) === page(base);
    if (kind === "URL") return L.href.startsWith(base);
    return true;
  }

  function experiments() {
    const list = (config.experiments || []).filter((e) => !preview || e.id !== preview.experiment.id);
    return preview ? list.concat([preview.experiment]) : list;
  }

  // Which experiments run here and what they show; `late`: the anti-flicker timeout passed before the
  // configuration arrived, so this page view keeps the original rather than change under the visitor's eyes.
  // Seen in this document already (a single-page application navigated): its code does not run again; its
  // styles follow the targeting.
  function follow(seen, targeted) {
    for (const element of seen) if (targeted !== element.isConnected) targeted ? D.head.appendChild(element) : element.remove();
  }

  function decide(late) {
    // Personalizations: everyone in the segment sees the code (no assignment, nothing tracked), applied as a
    // variation is; late, the original stays for this page view.
    for (const p of config.personalizations || []) {
      const key = "p" + p.id, what = "personalization " + p.id, targeted = inSegment(p), seen = applied.get(key);
      if (seen) follow(seen, targeted);
      else if (targeted && !late) {
        applied.set(key, [style(p.cssCode, what)].filter(Boolean));
        whenReady(() => run(p.javaScriptCode, what + " javaScriptCode"));
      }
    }
    for (const experiment of experiments()) {
      const id = experiment.id;
      const forced = preview && preview.experiment.id === id;
      const targeted = runsHere(experiment) && (forced || inSegment(experiment));
      const seen = applied.get(id);
      if (seen) {
        follow(seen, targeted);
        continue;
      }
      if (!targeted) {
        log("experiment", id, "not targeted here");
        continue;
      }
      const styles = [];
      applied.set(id, styles);
      run(experiment.globalScript, "experiment " + id + " globalScript");
      const variationId = forced ? preview.variationId : assign(id, visitorCode, experiment.deviations || {});
      if (variationId === null) {
        log("experiment", id, "outside the deviations");
        continue;
      }
      if (late && !forced) {
        log("experiment", id, "late: the original stays");
        continue;
      }
      const variation = (experiment.variations || []).find((v) => v.id === variationId);
      assigned.set(id, variationId);
      log("experiment", id, forced ? "preview of variation" : "variation", variationId);
      if (variation) {
        if (redirect(variation.redirection, id, variationId)) return;
        for (const element of [
          style(experiment.commonCssCode, "experiment " + id),
          style(variation.cssCode, "variation " + variationId),
        ])
          if (element) styles.push(element);
        whenReady(() => {
          run(experiment.commonJavaScriptCode, "experiment " + id + " commonJavaScriptCode");
          run(variation.jsCode, "experiment " + id + " variation " + variationId + " jsCode");
        });
      }
      whenReady(() => expose(id, variationId));
    }
  }

  function expose(experimentId, variationId) {
    emit("assign", { experimentId, variationId });
    if (!visit.exposed.includes(experimentId)) {
      visit.exposed.push(experimentId);
      stored(KEYS.visit, visit);
      track("EXPOSURE", { experimentId, variationId });
    }
  }

  function redirect(redirection, experimentId, variationId) {
    if (!redirection) return false;
    const target = new URL(L.href);
    if (redirection.type === "GLOBAL_REDIRECTION") {
      const to = new URL(redirection.url, L.href);
      if (redirection.includeQueryParameters) target.searchParams.forEach((value, key) => to.searchParams.append(key, value));
      to.hash = to.hash || target.hash;
      if (to.href === target.href || to.origin + to.pathname === target.origin + target.pathname) return false;
      target.href = to.href;
    } else {
      const extra = new URLSearchParams(redirection.parameters || "");
      let missing = false;
      extra.forEach((value, key) => {
        if (target.searchParams.get(key) !== value) missing = true;
        target.searchParams.set(key, value);
      });
      if (!missing) return false; // already on the redirected page
    }
    expose(experimentId, variationId);
    flush(true);
    log("experiment", experimentId, "redirects to", target.href);
    L.replace(target.href);
    return true;
  }

  // --- goals ---------------------------------------------------------------------------------------
  function convert(goal, revenue) {
    if (!goal || goal.status === "INACTIVE") return;
    if (!goal.hasMultipleConversions) {
      const done = stored(KEYS.goals) || [];
      if (done.includes(goal.id) || converted.has(goal.id)) return;
      converted.add(goal.id);
      stored(KEYS.goals, done.concat([goal.id]));
    }
    track("CONVERSION", revenue == null ? { goalId: goal.id } : { goalId: goal.id, revenue: Number(revenue) });
  }

  function goals(type) {
    return ((config && config.goals) || []).filter((goal) => goal.type === type && goal.status !== "INACTIVE");
  }

  function pageGoals() {
    for (const goal of goals("URL")) {
      try {
        if (segPattern(goal.params.matchType, goal.params.matchString)(L.href)) convert(goal);
      } catch (error) {
        report("goal " + goal.id, error);
      }
    }
    for (const goal of goals("PAGE_VIEWS")) {
      if (visit.pageViews >= goal.params.pageViews && !visit.goals.includes(goal.id)) {
        visit.goals.push(goal.id);
        stored(KEYS.visit, visit);
        convert(goal);
      }
    }
  }

  function watchGoals() {
    // Clicks are watched on the document, so elements added later count too.
    D.addEventListener(
      "click",
      guard((event) => {
        for (const goal of goals("CLICK")) {
          const selector = goal.params.cssSelector;
          if (selector && event.target.closest && event.target.closest(selector)) convert(goal);
        }
      }),
      true,
    );
    const scrolled = new Set();
    const onScroll = guard(() => {
      const root = D.documentElement;
      const height = root.scrollHeight - W.innerHeight;
      const percent = height > 0 ? (100 * W.scrollY) / height : 100;
      for (const goal of goals("SCROLL")) {
        if (!scrolled.has(goal.id) && percent >= goal.params.scrollValue) {
          scrolled.add(goal.id);
          convert(goal);
        }
      }
    });
    W.addEventListener("scroll", onScroll, { passive: true });
    whenReady(onScroll);
    for (const goal of goals("TIME_SPENT")) {
      if (visit.goals.includes(goal.id)) continue;
      setTimeout(
        guard(() => {
          if (!visit.goals.includes(goal.id)) {
            visit.goals.push(goal.id);
            stored(KEYS.visit, visit);
            convert(goal);
          }
        }),
        Math.max(0, visit.start + goal.params.timeSeconds * 1000 - NOW()),
      );
    }
  }

  // --- the page view -------------------------------------------------------------------------------
  function newPageView() {
    const now = NOW();
    let fresh = false;
    if (!visit || now - visit.last > VISIT_GAP) {
      visit = {
        id: randomCode(16),
        start: now,
        pageViews: 0,
        exposed: [],
        goals: [],
        newVisitor: newCode,
        landing: L.href,
        referrer: D.referrer || null,
      };
      fresh = true;
    }
    visit.previous = visit.here || null;
    visit.here = L.href;
    visit.last = now;
    visit.pageViews++;
    pagesSeen = pagesSeen.filter((page) => page !== L.href).concat([L.href]).slice(-MAX_PAGES);
    return fresh;
  }

  function begin() {
    if (started || denied || !consented) return;
    started = true;
    const previous = cookie() || (stored(KEYS.visitor) || "") + "";
    newCode = !CODE_PATTERN.test(previous); // none, or malformed or foreign: a new visitor
    visitorCode = newCode ? randomCode(16) : previous;
    const known = stored(KEYS.visit);
    visit = !newCode && known && known.id ? known : null;
    pagesSeen = (!newCode && stored(KEYS.pages)) || [];
    const freshVisit = newPageView();
    const url = new URL(L.href);
    const previewToken = url.searchParams.has("versicolor_preview")
      ? url.searchParams.get("versicolor_preview")
      : session(SESSION_KEYS.preview);
    session(SESSION_KEYS.preview, previewToken || null);
    const get = (path) =>
      fetch(endpoint + path, { credentials: "omit" }).then((response) => {
        if (!response.ok) throw new Error(path + " answered " + response.status);
        return response.json();
      });
    Promise.all([get("/config"), previewToken ? get("/preview?token=" + encodeURIComponent(previewToken)) : null])
      .then(
        guard(([answer, previewAnswer]) => {
          mark("config");
          // Late: the snippet's timeout showed the page before the variations could be applied.
          const late = !!hider && !hider.isConnected && !revealed;
          config = answer;
          reLearn(config.patterns);
          preview = previewAnswer;
          authorised = true;
          if (preview) log("preview of experiment", preview.experiment.id, "variation", preview.variationId, "(nothing is tracked)");
          api.visitorCode = visitorCode;
          cookie(visitorCode, 400 * 86400);
          stored(KEYS.visitor, visitorCode);
          stored(KEYS.visit, visit);
          stored(KEYS.pages, pagesSeen);
          if (SETTINGS.consent) stored(KEYS.consent, 1);
          queue = (stored(KEYS.queue) || []).filter((event) => event && event.id).concat(queue);
          if (freshVisit) track("VISIT", {});
          run(config.trackingScript, "site trackingScript");
          decide(late);
          whenReady(() => {
            reveal();
            mark("applied");
          });
          pageGoals();
          watchGoals();
          watchNavigation();
          W.addEventListener("pagehide", () => flush(true));
          D.addEventListener("visibilitychange", () => D.visibilityState === "hidden" && flush(true));
          for (const fn of pending.splice(0)) fn();
          schedule(BATCH_DELAY); // what earlier pages left unsent goes now
        }),
      )
      .catch((error) => {
        reveal();
        report("configuration", error);
      });
  }

  function watchNavigation() {
    let where = L.href;
    const changed = guard(() => {
      if (L.href === where) return;
      where = L.href;
      newPageView();
      stored(KEYS.visit, visit);
      stored(KEYS.pages, pagesSeen);
      log("navigation to", where);
      decide();
      pageGoals();
    });
    for (const name of ["pushState", "replaceState"]) {
      const original = history[name];
      history[name] = function () {
        const result = original.apply(this, arguments);
        changed();
        return result;
      };
    }
    W.addEventListener("popstate", changed);
    W.addEventListener("hashchange", changed);
  }

  function forget() {
    denied = true;
    queue = [];
    clearTimeout(flushTimer);
    cookie("", 0);
    try {
      for (const key of Object.values(KEYS)) localStorage.removeItem(key);
    } catch (error) {
      // storage blocked: nothing was stored
    }
    visitorCode = null;
    visit = null;
    api.visitorCode = null;
    log("consent withdrawn: visitor forgotten");
  }

  const api = {
    engine: 1,
    visitorCode: null,
    getVariation: (experimentId) => (assigned.has(Number(experimentId)) ? assigned.get(Number(experimentId)) : null),
    track: guard((goalId, options) => {
      const goal = ((config && config.goals) || []).find((g) => g.id === Number(goalId));
      const revenue = options && options.revenue;
      if (!consented || denied) log("not tracked: no consent");
      else if (!config) pending.push(() => api.track(goalId, options));
      else if (goal) convert(goal, revenue);
      else track("CONVERSION", revenue == null ? { goalId: Number(goalId) } : { goalId: Number(goalId), revenue: Number(revenue) });
    }),
    consent: guard((granted) => {
      if (granted) {
        consented = true;
        denied = false;
        stored(KEYS.consent, 1);
        log("consent given");
        begin();
      } else forget();
    }),
    on: guard((name, fn) => {
      if (!listeners[name] || typeof fn !== "function") throw new Error("versicolor.on: unknown event " + name);
      listeners[name].push(fn);
      if (name === "assign") for (const [experimentId, variationId] of assigned) fn({ experimentId, variationId });
    }),
    debug: guard((on) => {
      debugOn = on !== false;
      session(SESSION_KEYS.debug, debugOn ? "1" : null);
      log("debug on; visitor", visitorCode, "assignments", Object.fromEntries(assigned));
    }),
    customData: guard((index, value) => {
      customData[index] = value;
    }),
    push: guard((item) => {
      if (typeof item === "function") item(api);
      else if (Array.isArray(item) && typeof api[item[0]] === "function") api[item[0]](...item.slice(1));
      else throw new Error("push: a function or [method, ...arguments]");
    }),
  };
  const pending = [];
  const earlier = Array.isArray(W.versicolor) ? W.versicolor : [];
  W.versicolor = api;
  if (SETTINGS.consent && stored(KEYS.consent) === 1) consented = true;
  for (const item of earlier) api.push(item);
  if (!consented) {
    reveal();
    log("waiting for consent");
  } else begin();
}
