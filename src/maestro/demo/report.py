"""The demo's report: what was learned, what it earned, what it spent.

:func:`build_report` returns a JSON-able dict with two parts: ``result`` (a pure
function of the configuration: the same seed gives the same result) and
``timing`` (wall-clock seconds, which vary). :func:`render` prints it with Rich.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from maestro.demo.runner import DayRecord, DemoRun

__all__ = ["behavioural_diversity", "build_report", "render", "write_report"]

_EDGE_DAYS = 5
_RECENT_DAYS = 3
"""Days whose posts reveal what the studio currently believes works for a brand."""


def _r(x: float, digits: int = 6) -> float:
    return round(float(x), digits)


def behavioural_diversity(rec: DayRecord) -> float | None:
    """1 - (agents sharing a brand's most used strategy) / (agents), averaged over brands."""
    values = []
    for counts in rec.behaviour.values():
        total = sum(counts.values())
        if total:
            values.append(1.0 - max(counts.values()) / total)
    return sum(values) / len(values) if values else None


async def build_report(run: DemoRun) -> dict[str, Any]:
    """The report of a finished run."""
    ctx = run.studio.ctx
    ws = ctx.workspace_id
    days = sorted(run.recorder.days)
    series = [_day(d, run.recorder.days[d]) for d in days]
    total = {
        k: sum(run.recorder.days[d].__dict__[k] for d in days)
        for k in ("studio", "oracle", "random")
    }
    edge = min(_EDGE_DAYS, max(1, len(days) // 3))
    first = _window(run, days[:edge])
    last = _window(run, days[-edge:])
    state = await ctx.limiter.state(ctx.quota_key)
    calls = {
        name: {
            "used": s.calls,
            "waited": s.waits,
            "deferred": s.defers,
            "skipped": s.skips,
            "timed_out": s.timeouts,
        }
        for name, s in sorted(state.priorities.items())
    }
    ledger = run.engine.ledger
    by_purpose = {r.key: r.calls for r in await ledger.costs(ws, group_by="purpose")}
    cache = run.cache.stats() if run.cache is not None else None
    result: dict[str, Any] = {
        "config": {
            "days": run.config.days,
            "seed": run.config.seed,
            "audience": run.config.audience,
            "brands": list(ctx.brands),
            "agents": len(ctx.active_agents()),
            "strategies": list(ctx.catalog.names()),
            "sharing": run.config.sharing,
        },
        "brands": await _brands(run),
        "patterns": await _patterns(run),
        "engagement": {
            "studio": _r(total["studio"]),
            "oracle": _r(total["oracle"]),
            "random": _r(total["random"]),
            "studio_vs_oracle": _r(
                total["studio"] / total["oracle"] if total["oracle"] else 0.0, 4
            ),
            "studio_vs_random": _r(
                total["studio"] / total["random"] if total["random"] else 0.0, 4
            ),
            "first_days": first,
            "last_days": last,
        },
        "api_calls": {
            "quota_key": "workspace",
            "by_priority": calls,
            "by_purpose": dict(sorted(by_purpose.items())),
            "outcomes_by_priority": await ledger.outcomes_by_priority(ws),
        },
        "cache": None
        if cache is None
        else {
            "lookups": cache.lookups,
            "hits": dict(cache.hits),
            "hit_rate": _r(cache.hit_rate, 4),
            "skipped": cache.skipped,
        },
        "diversity": {
            "min_population": _r(
                min((s["diversity"] for s in series if s["diversity"] is not None), default=0.0), 4
            ),
            "mean_behaviour": _r(
                _mean(
                    [
                        s["behaviour_diversity"]
                        for s in series
                        if s["behaviour_diversity"] is not None
                    ]
                ),
                4,
            ),
        },
        "cycle": ctx.stats.as_dict(),
        "items": dict(sorted((await ctx.items.counts(ws)).items())),
        "jobs": run.jobs,
        "series": series,
    }
    return {
        "result": result,
        "timing": {
            "wall_seconds": round(run.wall_seconds, 2),
            "simulated_days_per_second": round(run.config.days / run.wall_seconds, 2)
            if run.wall_seconds
            else None,
        },
    }


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _day(day: int, rec: DayRecord) -> dict[str, Any]:
    n = max(1, rec.posts)
    return {
        "day": day,
        "posts": rec.posts,
        "studio": _r(rec.studio / n),
        "oracle": _r(rec.oracle / n),
        "random": _r(rec.random / n),
        "quality": _r(rec.quality / n, 4),
        "best_share": _r(rec.best_share / n, 4),
        "diversity": None if rec.diversity is None else _r(rec.diversity, 4),
        "behaviour_diversity": None if (b := behavioural_diversity(rec)) is None else _r(b, 4),
    }


def _window(run: DemoRun, days: list[int]) -> dict[str, float]:
    recs = [run.recorder.days[d] for d in days]
    posts = sum(r.posts for r in recs) or 1
    studio = sum(r.studio for r in recs)
    oracle = sum(r.oracle for r in recs)
    return {
        "days": len(days),
        "studio_per_post": _r(studio / posts),
        "random_per_post": _r(sum(r.random for r in recs) / posts),
        "oracle_per_post": _r(oracle / posts),
        "studio_vs_oracle": _r(studio / oracle if oracle else 0.0, 4),
        "best_share": _r(sum(r.best_share for r in recs) / posts, 4),
    }


async def _brands(run: DemoRun) -> dict[str, Any]:
    """Per brand: what the studio writes now and what its memory ranks best, vs the truth.

    "Now" is the share of the brand's posts per strategy over the last days: the
    policy's current belief, revealed by its choices. Memory is the decay-weighted
    mean engagement per strategy (30-day e-folding), which lags a moving audience.
    """
    ctx = run.studio.ctx
    recent = sorted(run.recorder.days)[-_RECENT_DAYS:]
    out: dict[str, Any] = {}
    for brand in ctx.brands:
        perf = await ctx.memory.posts.strategy_performance(ctx.workspace_id, brand)
        memory = sorted(perf, key=lambda s: (-perf[s].mean, s))
        used: dict[str, int] = {}
        for d in recent:
            for strategy, n in run.recorder.days[d].behaviour.get(brand, {}).items():
                used[strategy] = used.get(strategy, 0) + n
        total = sum(used.values()) or 1
        learned = sorted(used, key=lambda s: (-used[s], -(perf[s].mean if s in perf else 0.0), s))
        truth = run.simulator.truth(brand, run.ended)
        order = sorted(truth, key=lambda s: (-truth[s], s))
        best = learned[0] if learned else None
        out[brand] = {
            "learned_top3": learned[:3],
            "learned_share": {s: _r(used[s] / total, 4) for s in learned[:3]},
            "memory_top3": memory[:3],
            "truth_top3": order[:3],
            "learned_best_matches_truth": best == order[0],
            "learned_best_in_truth_top2": best in order[:2],
            "learned_best_truth_ratio": _r(truth[best] / truth[order[0]], 4) if best else None,
            "posts_per_strategy": {s: perf[s].count for s in sorted(perf)},
        }
    return out


async def _patterns(run: DemoRun) -> list[dict[str, Any]]:
    ctx = run.studio.ctx
    patterns = await ctx.memory.patterns.list_patterns(ctx.workspace_id, include_archived=True)
    return [
        {
            "brand": p.brand,
            "strategy": p.strategy,
            "description": p.description,
            "effective_confidence": _r(p.effective_confidence, 4),
            "evidence_count": p.evidence_count,
            "archived": p.archived,
        }
        for p in sorted(patterns, key=lambda p: (p.brand, -p.effective_confidence, p.strategy))
    ]


def write_report(report: dict[str, Any], out: Path) -> Path:
    path = out / "report.json"
    path.write_text(json.dumps(report, indent=2, sort_keys=True))
    return path


def render(report: dict[str, Any], console: Console) -> None:
    """Print the report's headline tables."""
    res = report["result"]
    eng = res["engagement"]
    console.rule("[bold]What the studio learned")
    t = Table(
        "brand",
        "writes now (last 3 days)",
        "true best 3 now",
        "best matches",
        "true value of its pick",
    )
    for brand, b in res["brands"].items():
        t.add_row(
            brand,
            ", ".join(f"{s} {b['learned_share'][s]:.0%}" for s in b["learned_top3"]),
            ", ".join(b["truth_top3"]),
            "yes"
            if b["learned_best_matches_truth"]
            else ("top-2" if b["learned_best_in_truth_top2"] else "no"),
            f"{b['learned_best_truth_ratio']:.0%}" if b["learned_best_truth_ratio"] else "-",
        )
    console.print(t)
    active = [p for p in res["patterns"] if not p["archived"]]
    console.print(
        f"[bold]Patterns[/]: {len(res['patterns'])} learned, {len(active)} active "
        f"(injected into prompts when effective confidence > 0.3)"
    )
    for p in active[:8]:
        console.print(f"  - {p['description']} (confidence {p['effective_confidence']:.2f})")
    console.rule("[bold]Engagement (expected, per the simulator's truth)")
    t = Table("", "studio", "random strategy", "oracle", "studio / oracle")
    for label, w in (("first days", eng["first_days"]), ("last days", eng["last_days"])):
        t.add_row(
            f"{label} ({w['days']})",
            f"{w['studio_per_post']:.4f}",
            f"{w['random_per_post']:.4f}",
            f"{w['oracle_per_post']:.4f}",
            f"{w['studio_vs_oracle']:.0%}",
        )
    t.add_row(
        "whole run (sum)",
        f"{eng['studio']:.2f}",
        f"{eng['random']:.2f}",
        f"{eng['oracle']:.2f}",
        f"{eng['studio_vs_oracle']:.0%}",
    )
    console.print(t)
    console.rule("[bold]API calls (one bucket: 30 tokens, 2.5/min)")
    t = Table("priority", "used", "waited", "deferred", "skipped")
    for name, c in res["api_calls"]["by_priority"].items():
        t.add_row(name, str(c["used"]), str(c["waited"]), str(c["deferred"]), str(c["skipped"]))
    console.print(t)
    cache = res["cache"]
    if cache:
        console.print(
            f"[bold]Cache[/]: {cache['hit_rate']:.1%} of {cache['lookups']} cacheable lookups hit"
        )
    div = res["diversity"]
    console.print(
        f"[bold]Diversity[/]: population >= {div['min_population']:.2f} every day (target 0.6); "
        f"agents on different strategies (per brand and day): {div['mean_behaviour']:.2f} mean"
    )
    cyc = res["cycle"]
    console.print(
        f"[bold]Cycle[/]: {cyc['proposals']} proposals, {cyc['revisions']} self-corrections, "
        f"{cyc['published']} published, {cyc['held']} held for approval, "
        f"{cyc['healed']} healed at P0"
    )
    console.print(f"[dim]wall clock: {report['timing']['wall_seconds']} s[/]")
