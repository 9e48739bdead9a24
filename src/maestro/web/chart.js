// The diversity line: inline SVG, no library. Time on x (index when all points share
// a moment), diversity 0..1 on y, the target as a dashed line.
import { fmt, svg } from "./ui.js";

const W = 640, H = 170, L = 36, R = 12, T = 10, B = 26;

export function diversityChart(history, target) {
  const times = history.map((p) => Date.parse(p.recorded_at));
  const t0 = Math.min(...times), t1 = Math.max(...times);
  const span = W - L - R;
  const x = (i) => {
    if (t1 > t0) return L + ((times[i] - t0) / (t1 - t0)) * span;
    return L + (history.length > 1 ? (i / (history.length - 1)) * span : span / 2);
  };
  const y = (v) => T + (1 - v) * (H - T - B);
  const parts = [];
  for (const v of [0, 0.5, 1]) {
    parts.push(svg("line", { class: "grid-line", x1: L, x2: W - R, y1: y(v), y2: y(v) }));
    parts.push(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end", text: v.toFixed(1) }));
  }
  parts.push(svg("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }));
  parts.push(svg("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  parts.push(svg("line", { class: "target", x1: L, x2: W - R, y1: y(target), y2: y(target) }));
  parts.push(svg("text", {
    class: "target-label", x: W - R, y: y(target) - 4, "text-anchor": "end", text: `target ${target}`,
  }));
  const points = history.map((p, i) => `${x(i).toFixed(1)},${y(p.diversity).toFixed(1)}`);
  parts.push(svg("polyline", { class: "line", points: points.join(" ") }));
  history.forEach((p, i) => parts.push(svg("circle", { class: "dot", cx: x(i), cy: y(p.diversity), r: 3 },
    svg("title", {
      text: `${fmt.time(p.recorded_at)} ${p.event}: ${fmt.num(p.diversity)} (${p.agents} agents)`,
    }))));
  const first = history[0], last = history[history.length - 1];
  parts.push(svg("text", { x: L, y: H - 8, text: fmt.time(first.recorded_at) }));
  if (history.length > 1) {
    parts.push(svg("text", { x: W - R, y: H - 8, "text-anchor": "end", text: fmt.time(last.recorded_at) }));
  }
  return svg("svg", {
    class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img",
    "aria-label": `Diversity over time: ${history.length} points, ` +
      `latest ${fmt.num(last.diversity)}, target ${target}`,
  }, parts);
}
