// DOM builders and number formats. Text from the API only ever goes in through
// textContent (never innerHTML): pattern descriptions and personalities are data.

export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const SVG_NS = "http://www.w3.org/2000/svg";

export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "text") node.textContent = String(value);
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

const SIGNED_PCT = new Intl.NumberFormat("en-US",
  { style: "percent", maximumFractionDigits: 0, signDisplay: "exceptZero" });

export const fmt = {
  usd: (v) => "$" + (v === 0 || Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3)),
  pct: (v) => (100 * v).toFixed(1) + "%",
  /** A relative change as a whole signed percent: "+31%", "-8%", "0%"; null is "—". */
  lift: (v) => (v === null || v === undefined ? "—" : SIGNED_PCT.format(v)),
  num: (v, digits = 2) => Number(v).toFixed(digits),
  int: (v) => Number(v).toLocaleString("en-US"),
  time: (iso) => {
    if (!iso) return "—";
    const d = new Date(iso);
    return isNaN(d) ? String(iso) : d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  },
};

/** A numeric (right-aligned) column header. */
export const num = (label) => ({ label, num: true });

export function badge(text, tone) {
  return el("span", { class: "badge " + tone, text });
}

export function table(headers, rows, caption) {
  const head = el("tr", {}, headers.map((h) =>
    el("th", { scope: "col", class: h.num ? "num" : null, text: h.label || h })));
  const body = rows.map((cells) => el("tr", {}, cells.map((c, i) => {
    const cls = headers[i] && headers[i].num ? "num" : null;
    return c instanceof Node ? el("td", { class: cls }, c) : el("td", { class: cls, text: c });
  })));
  return el("table", {}, caption ? el("caption", { text: caption }) : null,
    el("thead", {}, head), el("tbody", {}, body));
}

export function stats(pairs) {
  return el("dl", { class: "stats" }, pairs.map(([label, value]) =>
    el("div", {}, el("dt", { text: label }),
      value instanceof Node ? el("dd", {}, value) : el("dd", { text: value }))));
}

export function bar(fraction, label, hot) {
  const inner = el("span");
  inner.style.width = Math.max(0, Math.min(1, fraction)) * 100 + "%";
  return el("div", { class: hot ? "bar hot" : "bar", role: "img", "aria-label": label, title: label },
    inner);
}

/**
 * An interval on a shared scale [lo, hi]: the bar from `low` to `high`, a mark at
 * `value`, a dashed line at zero. `label` is its text alternative (the numbers).
 */
export function interval(value, low, high, lo, hi, label) {
  const pos = (v) => (hi > lo ? ((Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo)) * 100 : 50);
  const part = (cls, from, to) => {
    const node = el("span", { class: cls });
    node.style.left = pos(from) + "%";
    if (to !== undefined) node.style.width = pos(to) - pos(from) + "%";
    return node;
  };
  return el("div", { class: "interval", role: "img", "aria-label": label, title: label },
    part("range", low, high), lo <= 0 && 0 <= hi ? part("zero", 0) : null, part("point", value));
}

export const empty = (text) => el("p", { class: "empty", text });
