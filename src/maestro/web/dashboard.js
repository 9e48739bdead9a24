// Maestro dashboard: vanilla JS, no dependencies, no build step.
//
// The key lives in sessionStorage (gone when the tab closes) and goes to the API as
// "Authorization: Bearer". Every panel loads on its own: one failing endpoint shows
// its error in its own panel and never blanks the others. Text from the API is only
// ever set with textContent (never innerHTML): pattern descriptions and agent
// personalities are data, not markup.
"use strict";

(() => {
  const KEY_STORAGE = "maestro.apiKey";
  const REFRESH_MS = 5000;

  // ------------------------------------------------------------------ helpers
  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field || null;
    }
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = String(value);
      else if (name === "onclick") node.addEventListener("click", value);
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (name === "text") node.textContent = String(value);
      else node.setAttribute(name, String(value));
    }
    for (const child of children.flat()) if (child) node.append(child);
    return node;
  }

  const fmt = {
    usd: (v) => "$" + (Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(4)),
    pct: (v) => (100 * v).toFixed(1) + "%",
    num: (v, d = 2) => Number(v).toFixed(d),
    int: (v) => Number(v).toLocaleString("en-US"),
    time: (iso) => {
      if (!iso) return "—";
      const d = new Date(iso);
      return isNaN(d) ? String(iso) : d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
    },
  };

  function badge(text, tone) {
    return el("span", { class: "badge " + tone, text });
  }

  function table(headers, rows, caption) {
    const head = el("tr", {}, headers.map((h) =>
      el("th", { scope: "col", class: h.num ? "num" : null, text: h.label || h })));
    const body = rows.map((cells) => el("tr", {}, cells.map((c, i) => {
      const cls = headers[i] && headers[i].num ? "num" : null;
      return c instanceof Node ? el("td", { class: cls }, c) : el("td", { class: cls, text: c });
    })));
    return el("table", {}, caption ? el("caption", { text: caption }) : null,
      el("thead", {}, head), el("tbody", {}, body));
  }

  function stats(pairs) {
    return el("dl", { class: "stats" }, pairs.map(([label, value]) =>
      el("div", {}, el("dt", { text: label }), value instanceof Node ? el("dd", {}, value)
        : el("dd", { text: value }))));
  }

  function bar(fraction, label, hot) {
    const inner = el("span");
    inner.style.width = Math.max(0, Math.min(1, fraction)) * 100 + "%";
    return el("div", {
      class: hot ? "bar hot" : "bar", role: "img", "aria-label": label, title: label,
    }, inner);
  }

  const empty = (text) => el("p", { class: "empty", text });

  // ------------------------------------------------------------------ API
  const getKey = () => sessionStorage.getItem(KEY_STORAGE) || "";

  async function api(path, { method = "GET", body, allow = [] } = {}) {
    const headers = { Accept: "application/json" };
    if (!path.startsWith("/health")) {
      const key = getKey();
      if (!key) throw new ApiError(0, "no_key", "enter an API key above to load this panel");
      headers.Authorization = "Bearer " + key;
    }
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let response;
    try {
      response = await fetch(path, {
        method, headers, cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, "network", "cannot reach the API (" + err.message + ")");
    }
    let data = null;
    try { data = await response.json(); } catch { data = null; }
    if (!response.ok && !allow.includes(response.status)) {
      const e = data && data.error;
      throw new ApiError(response.status, e ? e.code : "http_error",
        e ? e.message : "HTTP " + response.status, e ? e.field : null);
    }
    return data;
  }

  function describe(err) {
    if (!(err instanceof ApiError)) return "unexpected error: " + err.message;
    return err.status ? `${err.status} ${err.code}: ${err.message}` : err.message;
  }

  // ------------------------------------------------------------------ panels
  const loaders = {};
  let rejectedKey = false;

  async function load(id) {
    const root = document.getElementById(id);
    const body = root.querySelector(".body");
    const error = root.querySelector(".error");
    try {
      const content = await loaders[id]();
      body.replaceChildren(...[content].flat());
      error.hidden = true;
      error.textContent = "";
    } catch (err) {
      error.textContent = describe(err);
      error.hidden = false;
      if (err instanceof ApiError && (err.status === 401 || err.code === "no_key")) {
        body.replaceChildren();  // never leave another key's numbers on screen
        if (err.status === 401) rejectedKey = true;
      }
      root.setAttribute("data-error", err instanceof ApiError ? String(err.status) : "js");
      return;
    }
    root.removeAttribute("data-error");
    root.setAttribute("data-loaded", "true");
  }

  loaders["panel-health"] = async () => {
    const data = await api("/health/ready", { allow: [503] });
    const tone = { ok: "ok", degraded: "warn" }[data.status] || "bad";
    const rows = Object.entries(data.components).map(([name, c]) => {
      const details = Object.entries(c).filter(([k]) => k !== "ok")
        .map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ");
      return [name, badge(c.ok ? "up" : "down", c.ok ? "ok" : "bad"), details];
    });
    return [stats([["Overall", badge(data.status, tone)]]),
      table(["Component", "State", "Details"], rows)];
  };

  loaders["panel-budget"] = async () => {
    const b = await api("/api/budget");
    const used = b.daily_usd > 0 ? b.spent_today_usd / b.daily_usd : 0;
    const out = [
      stats([["Daily budget", fmt.usd(b.daily_usd)], ["Spent today", fmt.usd(b.spent_today_usd)],
        ["Remaining", fmt.usd(b.remaining_today_usd)]]),
      bar(used, `${fmt.pct(used)} of today's budget spent`, used >= 0.9),
    ];
    const priorities = Object.keys(b.outcomes_by_priority).sort();
    if (priorities.length) {
      const outcomes = [...new Set(priorities.flatMap((p) =>
        Object.keys(b.outcomes_by_priority[p])))].sort();
      out.push(table(["Priority", ...outcomes.map((o) => ({ label: o, num: true }))],
        priorities.map((p) => [p, ...outcomes.map((o) => fmt.int(b.outcomes_by_priority[p][o] || 0))]),
        "Gateway calls by priority and outcome (all time)"));
    } else {
      out.push(empty("No gateway calls yet."));
    }
    return out;
  };

  loaders["panel-costs"] = async () => {
    const c = await api("/api/costs?group_by=agent");
    if (!c.rows.length) return empty("No LLM calls recorded yet.");
    const calls = c.rows.reduce((s, r) => s + r.calls, 0);
    const hits = c.rows.reduce((s, r) => s + r.cache_hits, 0);
    const num = (label) => ({ label, num: true });
    return [
      stats([["Total cost", fmt.usd(c.total_usd)], ["Calls", fmt.int(calls)],
        ["Cache hit rate", calls ? fmt.pct(hits / calls) : "—"]]),
      table(["Agent", num("Calls"), num("Cache hits"), num("Hit rate"), num("Prompt tokens"),
        num("Completion tokens"), num("Cost")],
      c.rows.map((r) => [r.key, fmt.int(r.calls), fmt.int(r.cache_hits),
        r.calls ? fmt.pct(r.cache_hits / r.calls) : "—", fmt.int(r.prompt_tokens),
        fmt.int(r.completion_tokens), fmt.usd(r.cost_usd)])),
    ];
  };

  loaders["panel-ratelimit"] = async () => {
    const r = await api("/api/rate-limit");
    const num = (label) => ({ label, num: true });
    const row = (b) => {
      const level = b.capacity ? b.tokens / b.capacity : 0;
      const counts = Object.entries(b.priorities).map(([p, s]) =>
        `${p} ${s.calls}` + (s.waits ? ` (waits ${s.waits})` : "") +
        (s.defers ? ` (deferred ${s.defers})` : "") + (s.skips ? ` (skipped ${s.skips})` : "") +
        (s.timeouts ? ` (timeouts ${s.timeouts})` : "")).join(", ");
      return [b.key, el("div", {}, `${fmt.num(b.tokens, 1)} / ${fmt.num(b.capacity, 0)}`,
        bar(level, `${b.key}: ${fmt.pct(level)} full`, level < 0.1)),
      fmt.num(b.refill_per_minute, 1), fmt.int(b.waiting), fmt.int(b.calls_last_hour), counts || "—"];
    };
    return [
      stats([["Backend", r.backend], ["State", r.degraded ? badge("degraded", "warn") : badge("ok", "ok")]]),
      table(["Bucket", "Tokens", num("Refill/min"), num("Waiting"), num("Calls (1 h)"), "By priority"],
        [r.workspace, ...r.buckets].map(row)),
    ];
  };

  function diversityChart(history, target) {
    const W = 640, H = 170, L = 36, R = 12, T = 10, B = 26;
    const times = history.map((p) => Date.parse(p.recorded_at));
    const t0 = Math.min(...times), t1 = Math.max(...times);
    const x = (i) => (t1 > t0 ? L + ((times[i] - t0) / (t1 - t0)) * (W - L - R)
      : L + (history.length > 1 ? (i / (history.length - 1)) * (W - L - R) : (W - L - R) / 2));
    const y = (v) => T + (1 - v) * (H - T - B);
    const parts = [];
    for (const v of [0, 0.5, 1]) {
      parts.push(svg("line", { class: "grid-line", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
      parts.push(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", text: v.toFixed(1) }));
    }
    parts.push(svg("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }));
    parts.push(svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
    parts.push(svg("line", { class: "target", x1: L, x2: W - R, y1: y(target), y2: y(target) }));
    parts.push(svg("text", { class: "target-label", x: W - R, y: y(target) - 4,
      "text-anchor": "end", text: `target ${target}` }));
    const points = history.map((p, i) => `${x(i).toFixed(1)},${y(p.diversity).toFixed(1)}`);
    parts.push(svg("polyline", { class: "line", points: points.join(" ") }));
    history.forEach((p, i) => parts.push(svg("circle", { class: "dot", cx: x(i), cy: y(p.diversity), r: 3 },
      svg("title", { text: `${fmt.time(p.recorded_at)} ${p.event}: ${fmt.num(p.diversity)} (${p.agents} agents)` }))));
    parts.push(svg("text", { x: L, y: H - 8, text: fmt.time(history[0].recorded_at) }));
    if (history.length > 1) {
      parts.push(svg("text", { x: W - R, y: H - 8, "text-anchor": "end",
        text: fmt.time(history[history.length - 1].recorded_at) }));
    }
    const last = history[history.length - 1];
    return svg("svg", {
      class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `Diversity over time: ${history.length} points, latest ${fmt.num(last.diversity)}, target ${target}`,
    }, parts);
  }

  loaders["panel-population"] = async () => {
    const p = await api("/api/population");
    const tone = p.meets_target ? "ok" : "warn";
    const out = [stats([
      ["Active agents", fmt.int(p.agents.length)],
      ["Diversity", el("span", {}, fmt.num(p.diversity) + " ",
        badge(p.meets_target ? "meets target" : "below target", tone))],
      ["Target", fmt.num(p.target_diversity)],
      ["Gene pool", fmt.int(p.gene_pool_size)],
    ])];
    if (p.history.length) out.push(diversityChart(p.history, p.target_diversity));
    else out.push(empty("No diversity history yet."));
    if (!p.agents.length) {
      out.push(empty("No content agents: the population is founded when the studio first runs."));
      return out;
    }
    const num = (label) => ({ label, num: true });
    out.push(table(["Agent", "Primary", "Top 2", "Protected", "Weights (top 4)", num("Temp."),
      "Personality", num("Performance"), num("Survival"), num("Gen.")],
    p.agents.map((a) => [a.name, a.primary_strategy, a.top_strategies.join(", "), a.protected_strategy,
      Object.entries(a.strategy_weights).sort((x, y) => y[1] - x[1]).slice(0, 4)
        .map(([s, w]) => `${s} ${fmt.num(w)}`).join(", "),
      fmt.num(a.temperature), a.personality, fmt.num(a.performance), fmt.num(a.survival_score, 1),
      fmt.int(a.generation)])));
    return out;
  };

  loaders["panel-patterns"] = async () => {
    const archived = document.getElementById("include-archived").checked;
    const d = await api("/api/patterns?include_archived=" + archived);
    if (!d.patterns.length) return empty("No learned patterns yet.");
    const tone = { injected: "ok", active: "warn", archived: "bad" };
    const num = (label) => ({ label, num: true });
    return table(["State", "Brand", "Strategy", "Type", "Description", num("Effective"),
      num("Stored"), num("Evidence"), "Last validated"],
    d.patterns.map((p) => [badge(p.state, tone[p.state]), p.brand, p.strategy, p.pattern_type,
      p.description, fmt.num(p.effective_confidence), fmt.num(p.confidence),
      fmt.int(p.evidence_count), fmt.time(p.last_validated_at)]),
    `Injected into prompts above ${d.inject_threshold}, archived below ${d.archive_threshold}; ` +
      `confidence decays with exp(-days / ${d.decay_days}).`);
  };

  loaders["panel-experiments"] = async () => {
    const list = await api("/api/experiments?limit=20");
    if (!list.length) return empty("No experiments yet.");
    const tone = { running: "ok", draft: "warn", completed: "ok" };
    return table(["Name", "Type", "Allocation", "Status", "Variants (n, mean)", "Winner", "Created"],
      list.map((e) => {
        const winner = e.variants.find((v) => v.id === e.winner_variant_id);
        return [e.name, e.kind, e.allocation, badge(e.status, tone[e.status] || "warn"),
          e.variants.map((v) => `${v.name} (${v.n}, ${v.mean === null ? "—" : fmt.num(v.mean, 3)})`)
            .join("; "), winner ? winner.name : "—", fmt.time(e.created_at)];
      }));
  };

  function notify(text, conflict) {
    const notice = document.querySelector("#panel-approvals .notice");
    notice.textContent = text;
    notice.classList.toggle("conflict", Boolean(conflict));
    notice.hidden = false;
  }

  async function decide(approval, action, buttons) {
    buttons.forEach((b) => { b.disabled = true; });
    const verb = action === "approve" ? "Approved" : "Rejected";
    try {
      await api(`/api/approvals/${encodeURIComponent(approval.id)}/${action}`,
        { method: "POST", body: { by: "dashboard" } });
      notify(`${verb} “${approval.checkpoint}” (run ${approval.run_id}).`, false);
    } catch (err) {
      if (err instanceof ApiError && err.status === 409) {
        notify(`Already decided: ${err.message}`, true);
      } else {
        notify(`Could not ${action}: ${describe(err)}`, true);
      }
    }
    await load("panel-approvals");
  }

  loaders["panel-approvals"] = async () => {
    const list = await api("/api/approvals");
    if (!list.length) return empty("Nothing waiting for a decision.");
    return table(["Checkpoint", "Description", "Run", "Requested", "Expires", "Decision"],
      list.map((a) => {
        const approve = el("button", { type: "button", class: "approve",
          "aria-label": `Approve ${a.checkpoint} for run ${a.run_id}`, text: "Approve" });
        const reject = el("button", { type: "button", class: "reject",
          "aria-label": `Reject ${a.checkpoint} for run ${a.run_id}`, text: "Reject" });
        approve.addEventListener("click", () => decide(a, "approve", [approve, reject]));
        reject.addEventListener("click", () => decide(a, "reject", [approve, reject]));
        return [a.checkpoint, a.description || "—", el("code", { text: a.run_id }),
          fmt.time(a.requested_at), `${fmt.time(a.expires_at)} (then ${a.timeout_outcome})`,
          el("div", { class: "actions" }, approve, reject)];
      }));
  };

  // ------------------------------------------------------------------ refresh and key
  let inFlight = null;

  async function refreshAll({ skipIfBusy = false } = {}) {
    if (inFlight) {
      if (skipIfBusy) return inFlight;
      await inFlight;  // an explicit refresh (new key, button) must use the current key
      if (inFlight) return inFlight;
    }
    rejectedKey = false;
    inFlight = Promise.allSettled(Object.keys(loaders).map(load)).then(() => {
      document.getElementById("updated").textContent =
        "updated " + new Date().toISOString().slice(11, 19) + " UTC";
      const status = document.getElementById("key-status");
      if (rejectedKey) {
        status.textContent = "The API rejected this key (401): check it or enter another one.";
        status.classList.add("bad");
      } else if (!getKey()) {
        status.textContent = "No API key: only health is shown. Enter a workspace key (mk_...).";
        status.classList.remove("bad");
      }
      inFlight = null;
    });
    return inFlight;
  }

  async function connect(event) {
    event.preventDefault();
    const input = document.getElementById("api-key");
    const key = input.value.trim();
    const status = document.getElementById("key-status");
    if (!key) {
      status.textContent = "Enter an API key first.";
      status.classList.add("bad");
      return;
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    input.value = "";
    try {
      const ws = await api("/api/workspace");
      status.textContent = `Connected to workspace “${ws.name}” (${ws.id}).`;
      status.classList.remove("bad");
    } catch (err) {
      status.textContent = "Key not accepted: " + describe(err);
      status.classList.add("bad");
    }
    await refreshAll();
  }

  async function showWorkspace() {
    if (!getKey()) return;
    try {
      const ws = await api("/api/workspace");
      const status = document.getElementById("key-status");
      status.textContent = `Connected to workspace “${ws.name}” (${ws.id}).`;
      status.classList.remove("bad");
    } catch { /* the panels report the error */ }
  }

  function forget() {
    sessionStorage.removeItem(KEY_STORAGE);
    document.getElementById("key-status").classList.remove("bad");
    refreshAll();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.getElementById("key-form").addEventListener("submit", connect);
    document.getElementById("forget-key").addEventListener("click", forget);
    document.getElementById("refresh").addEventListener("click", () => refreshAll());
    document.getElementById("include-archived").addEventListener("change", () => load("panel-patterns"));
    setInterval(() => {
      if (document.getElementById("auto-refresh").checked && !document.hidden) {
        refreshAll({ skipIfBusy: true });
      }
    }, REFRESH_MS);
    showWorkspace().then(refreshAll);
  });
})();
