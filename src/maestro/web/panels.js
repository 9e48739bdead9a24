// One loader per panel: fetch its endpoint, return the nodes to show. A loader that
// throws leaves the error in its own panel (see dashboard.js); the others still fill.
import { ApiError, api, describe } from "./api.js";
import { diversityChart } from "./chart.js";
import { badge, bar, el, empty, fmt, interval, num, stats, table } from "./ui.js";

async function health() {
  const data = await api("/health/ready", { allow: [503] });
  const tone = { ok: "ok", degraded: "warn" }[data.status] || "bad";
  // Nested objects (a scheduler's jobs) show their keys; the full JSON is the tooltip.
  const show = (v) => (v && typeof v === "object" ? Object.keys(v).join(", ") : String(v));
  const rows = Object.entries(data.components).map(([name, c]) => {
    const fields = Object.entries(c).filter(([k]) => k !== "ok");
    return [name, badge(c.ok ? "up" : "down", c.ok ? "ok" : "bad"), el("span", {
      class: "details", title: JSON.stringify(Object.fromEntries(fields)),
      text: fields.map(([k, v]) => `${k}: ${show(v)}`).join("; "),
    })];
  });
  return [stats([["Overall", badge(data.status, tone)]]), table(["Component", "State", "Details"], rows)];
}

async function budget() {
  const b = await api("/api/budget");
  const used = b.daily_usd > 0 ? b.spent_today_usd / b.daily_usd : 0;
  const out = [
    stats([["Daily budget", fmt.usd(b.daily_usd)], ["Spent today", fmt.usd(b.spent_today_usd)],
      ["Remaining", fmt.usd(b.remaining_today_usd)], ["Used", fmt.pct(used)]]),
    bar(used, `${fmt.pct(used)} of today's budget spent`, used >= 0.9),
  ];
  const byPriority = b.outcomes_by_priority;
  const priorities = Object.keys(byPriority).sort();
  if (!priorities.length) return [...out, empty("No gateway calls yet.")];
  const outcomes = [...new Set(priorities.flatMap((p) => Object.keys(byPriority[p])))].sort();
  out.push(table(["Priority", ...outcomes.map(num)],
    priorities.map((p) => [p, ...outcomes.map((o) => fmt.int(byPriority[p][o] || 0))]),
    "Gateway calls by priority and outcome (all time)"));
  return out;
}

async function costs() {
  const c = await api("/api/costs?group_by=agent");
  if (!c.rows.length) return empty("No LLM calls recorded yet.");
  const calls = c.rows.reduce((s, r) => s + r.calls, 0);
  const hits = c.rows.reduce((s, r) => s + r.cache_hits, 0);
  return [
    stats([["Total cost", fmt.usd(c.total_usd)], ["Calls", fmt.int(calls)],
      ["Cache hit rate", calls ? fmt.pct(hits / calls) : "—"]]),
    table(["Agent", num("Calls"), num("Cache hits"), num("Hit rate"), num("Prompt tokens"),
      num("Completion tokens"), num("Cost")],
    c.rows.map((r) => [r.key, fmt.int(r.calls), fmt.int(r.cache_hits),
      r.calls ? fmt.pct(r.cache_hits / r.calls) : "—", fmt.int(r.prompt_tokens),
      fmt.int(r.completion_tokens), fmt.usd(r.cost_usd)])),
  ];
}

function bucketRow(b) {
  const level = b.capacity ? b.tokens / b.capacity : 0;
  const counts = Object.entries(b.priorities).map(([p, s]) => {
    const extra = [["waits", s.waits], ["deferred", s.defers], ["skipped", s.skips],
      ["timeouts", s.timeouts]].filter(([, n]) => n).map(([k, n]) => `${k} ${n}`);
    return `${p} ${s.calls}` + (extra.length ? ` (${extra.join(", ")})` : "");
  }).join("; ");
  return [b.key,
    el("div", {}, `${fmt.num(b.tokens, 1)} / ${fmt.num(b.capacity, 0)}`,
      bar(level, `${b.key}: ${fmt.pct(level)} full`, level < 0.1)),
    fmt.num(b.refill_per_minute, 1), fmt.int(b.waiting), fmt.int(b.calls_last_hour), counts || "—"];
}

async function rateLimit() {
  const r = await api("/api/rate-limit");
  return [
    stats([["Backend", r.backend], ["State", r.degraded ? badge("degraded", "warn") : badge("ok", "ok")]]),
    table(["Bucket", "Tokens", num("Refill/min"), num("Waiting"), num("Calls (1 h)"), "Calls by priority"],
      [r.workspace, ...r.buckets].map(bucketRow)),
  ];
}

async function population() {
  const p = await api("/api/population");
  const out = [stats([
    ["Active agents", fmt.int(p.agents.length)],
    ["Diversity", el("span", {}, fmt.num(p.diversity) + " ",
      badge(p.meets_target ? "meets target" : "below target", p.meets_target ? "ok" : "warn"))],
    ["Target", fmt.num(p.target_diversity)],
    ["Gene pool", fmt.int(p.gene_pool_size)],
  ])];
  out.push(p.history.length ? diversityChart(p.history, p.target_diversity)
    : empty("No diversity history yet."));
  if (!p.agents.length) {
    return [...out, empty("No content agents: the population is founded when the studio first runs.")];
  }
  const topWeights = (w) => Object.entries(w).sort((a, b) => b[1] - a[1]).slice(0, 4)
    .map(([s, v]) => `${s} ${fmt.num(v)}`).join(", ");
  out.push(table(["Agent", "Primary", "Top 2", "Protected", "Weights (top 4)", num("Temp."),
    "Personality", num("Performance"), num("Survival"), num("Gen.")],
  p.agents.map((a) => [a.name, a.primary_strategy, a.top_strategies.join(", "), a.protected_strategy,
    topWeights(a.strategy_weights), fmt.num(a.temperature), a.personality, fmt.num(a.performance),
    fmt.num(a.survival_score, 1), fmt.int(a.generation)])));
  return out;
}

/** One brand's beliefs: a heading line and a row per strategy, best first. */
function brandBeliefs(b) {
  const posts = `${fmt.int(b.posts)} ${b.posts === 1 ? "post" : "posts"} learned`;
  const known = b.strategies.filter((s) => s.lift !== null);
  // One scale for the brand's bars (zero included), so their lengths compare.
  const lo = Math.min(0, ...known.map((s) => s.low));
  const hi = Math.max(0, ...known.map((s) => s.high));
  const caption = `Learner: ${b.policy}.` + (known.length ? ""
    : " It keeps no estimate of lift: strategies by recent share.");
  const rows = b.strategies.map((s) => {
    if (s.lift === null) return [s.strategy, "—", "", "—", fmt.pct(s.recent_share)];
    const range = `${fmt.lift(s.low)} to ${fmt.lift(s.high)}`;
    return [s.strategy, fmt.lift(s.lift),
      interval(s.lift, s.low, s.high, lo, hi, `${s.strategy}: lift ${fmt.lift(s.lift)}, ` +
        `90% interval ${range}`),
      range, fmt.pct(s.recent_share)];
  });
  return el("div", { class: "brand-beliefs" },
    el("h3", { text: `${b.brand} — ${posts}` + (b.best ? `, best: ${b.best}` : "") }),
    table(["Strategy", num("Lift"), "Chart", "90% interval", num("Recent share")], rows, caption));
}

async function learned() {
  const brands = await api("/api/studio/learned");
  if (!brands.length) {
    return empty("Nothing learned yet: the studio learns once its first posts are measured.");
  }
  return [
    el("p", {
      class: "muted note",
      text: "Lift: a strategy's estimated engagement relative to the brand's average strategy, " +
        "with its 90% interval (chart: the bar is the interval, the mark the estimate, the dashed " +
        "line zero). Recent share: its share of the brand's posts of the last 7 days.",
    }),
    ...brands.map(brandBeliefs),
  ];
}

async function patterns() {
  const archived = document.getElementById("include-archived").checked;
  const d = await api("/api/patterns?include_archived=" + archived);
  if (!d.patterns.length) return empty("No learned patterns yet.");
  const tone = { injected: "ok", active: "warn", archived: "bad" };
  return table(["State", "Brand", "Strategy", "Type", "Description", num("Effective"), num("Stored"),
    num("Evidence"), "Last validated"],
  d.patterns.map((p) => [badge(p.state, tone[p.state]), p.brand, p.strategy, p.pattern_type,
    p.description, fmt.num(p.effective_confidence), fmt.num(p.confidence), fmt.int(p.evidence_count),
    fmt.time(p.last_validated_at)]),
  `Injected into prompts above ${d.inject_threshold}, archived below ${d.archive_threshold}; ` +
    `confidence decays as exp(-days since validated / ${d.decay_days}).`);
}

async function experiments() {
  const list = await api("/api/experiments?limit=20");
  if (!list.length) return empty("No experiments yet.");
  const tone = { running: "ok", draft: "warn", completed: "ok" };
  return table(["Name", "Type", "Allocation", "Status", "Variants (n, mean)", "Winner", "Created"],
    list.map((e) => {
      const winner = e.variants.find((v) => v.id === e.winner_variant_id);
      const variants = e.variants
        .map((v) => `${v.name} (${v.n}, ${v.mean === null ? "—" : fmt.num(v.mean, 3)})`).join("; ");
      return [e.name, e.kind, e.allocation, badge(e.status, tone[e.status] || "warn"), variants,
        winner ? winner.name : "—", fmt.time(e.created_at)];
    }));
}

function notify(panel, text, conflict) {
  const notice = document.querySelector(`#${panel} .notice`);
  notice.textContent = text;
  notice.classList.toggle("conflict", Boolean(conflict));
  notice.hidden = false;
}

/**
 * POST a decision with the row's buttons disabled, say in the panel's notice what
 * happened (`done`, or `conflict(message)` for a 409), then reload the panel.
 */
async function decide(panel, path, action, buttons, reload, { done, conflict }) {
  buttons.forEach((b) => { b.disabled = true; });
  try {
    await api(path, { method: "POST", body: { by: "dashboard" } });
    notify(panel, done, false);
  } catch (err) {
    if (err instanceof ApiError && err.status === 409) notify(panel, conflict(err.message), true);
    else notify(panel, `Could not ${action}: ${describe(err)}`, true);
  }
  await reload();
}

/** The Approve and Reject buttons of one row, named for `what` (screen readers, tests). */
function decisionButtons(what, onClick) {
  const button = (action, label) => el("button", {
    type: "button", class: action, "aria-label": `${label} ${what}`, text: label,
  });
  const approve = button("approve", "Approve");
  const reject = button("reject", "Reject");
  approve.addEventListener("click", () => onClick("approve", [approve, reject]));
  reject.addEventListener("click", () => onClick("reject", [approve, reject]));
  return el("div", { class: "actions" }, approve, reject);
}

function approvalsLoader(reload) {
  return async () => {
    const list = await api("/api/approvals");
    if (!list.length) return empty("Nothing waiting for a decision.");
    return table(["Checkpoint", "Description", "Run", "Requested", "Expires", "Decision"],
      list.map((a) => {
        const buttons = decisionButtons(`${a.checkpoint} for run ${a.run_id}`, (action, row) => {
          const verb = action === "approve" ? "Approved" : "Rejected";
          return decide("panel-approvals", `/api/approvals/${encodeURIComponent(a.id)}/${action}`,
            action, row, reload, {
              done: `${verb} “${a.checkpoint}” (run ${a.run_id}).`,
              conflict: (message) => `Already decided: ${message}`,
            });
        });
        return [a.checkpoint, a.description || "—", el("code", { text: a.run_id }),
          fmt.time(a.requested_at), `${fmt.time(a.expires_at)} (then ${a.timeout_outcome})`,
          buttons];
      }));
  };
}

const HELD_LIMIT = 50;

/** When a held item's approval window closes; flagged once it has (a decision is then a 409). */
function windowCloses(iso) {
  if (!iso) return "—";
  const closed = new Date(iso).getTime() <= Date.now();
  return el("span", {}, fmt.time(iso), closed ? [" ", badge("closed", "warn")] : null);
}

function heldLoader(reload) {
  return async () => {
    const [list, studio] = await Promise.all([
      api(`/api/studio/items?status=held&limit=${HELD_LIMIT}`), api("/api/studio")]);
    if (!list.length) return empty("Nothing held.");
    const then = studio.running
      ? "the running studio publishes it now."
      : "it is published when the workspace's studio runs (maestro studio run).";
    const more = list.length === HELD_LIMIT ? ` (the ${HELD_LIMIT} newest; more are held)` : "";
    return table(["Brand", "Strategy", "Topic", num("Quality"), "Window closes", "Text", "Decision"],
      list.map((item) => {
        const post = `the ${item.brand} post on “${item.topic}”`;
        const what = `${post} (item ${item.id})`;
        const buttons = decisionButtons(what, (action, row) => decide("panel-held",
          `/api/studio/items/${encodeURIComponent(item.id)}/${action}`, action, row, reload, {
            done: action === "approve"
              ? `Approved ${post}: ${then}`
              : `Rejected ${post}: it will not be published.`,
            conflict: (message) => `Could not ${action}: ${message}`,
          }));
        const text = el("div", {
          class: "post-text", tabindex: "0", role: "region", "aria-label": `Text of ${what}`,
          text: item.text,
        });
        return [item.brand, item.strategy, item.topic, fmt.num(item.quality),
          windowCloses(item.expires_at), text, buttons];
      }),
    `${fmt.int(list.length)} held, newest first${more}. What nobody decides before its window ` +
      "closes gets the studio's timeout outcome. " +
      (studio.runner
        ? `The studio is running (process ${studio.runner.pid} on ${studio.runner.host} since ` +
          `${fmt.time(studio.runner.since)}).`
        : "No studio is running for this workspace."));
  };
}

/** Panel element id -> loader; `reload(id)` re-renders one panel (after a decision). */
export function panelLoaders(reload) {
  return {
    "panel-health": health,
    "panel-budget": budget,
    "panel-costs": costs,
    "panel-approvals": approvalsLoader(() => reload("panel-approvals")),
    "panel-held": heldLoader(() => reload("panel-held")),
    "panel-ratelimit": rateLimit,
    "panel-population": population,
    "panel-learned": learned,
    "panel-patterns": patterns,
    "panel-experiments": experiments,
  };
}
