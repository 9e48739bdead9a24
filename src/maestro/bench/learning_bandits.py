"""Benchmark: Maestro's bandit policies against MABWiser and a tuned sliding window.

Three Bernoulli environments over ``T`` steps and ``K = 5`` arms: ``stationary``;
``abrupt`` (four change points at which the arms swap ranks); ``sinusoidal``
(every arm's mean follows a sine wave, phases spread so the best arm keeps
changing). Each run draws one reward table (T x K) from a seed, and every policy
plays that same table, so differences between policies are paired. Regret is the
pseudo-regret ``sum_t max_k mu_t[k] - mu_t[a_t]``.

Contestants: every Maestro policy through :func:`make_policy` with its default
parameters; MABWiser's Thompson sampling and UCB1; and sliding-window Thompson
sampling whose window is tuned per environment with knowledge of the change
rate (the best of a grid of windows on separate tuning seeds). The speed column
is microseconds per ``select`` + ``update`` pair through each library's public
API, measured on one extra stationary run of ``SPEED_STEPS`` steps.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from maestro.learning.bandits import BANDIT_POLICY_NAMES, make_policy

__all__ = ["ENVIRONMENTS", "make_means", "run", "run_policy"]

ARMS = 5
FULL_T = 20_000
FULL_RUNS = 100
QUICK_T = 1_000
QUICK_RUNS = 2
SPEED_STEPS = 3_000
SPEED_SEED = 7
TUNING_RUNS = 10
TUNING_SEED_OFFSET = 1_000_000
WINDOW_GRID = (250, 500, 1000, 2000, 4000, 20_000)
ENVIRONMENTS = ("stationary", "abrupt", "sinusoidal")
SEGMENTS = 5
SINE_PERIODS = 2.0

# Arms' means in each segment of the abrupt environment: the best arm changes every time.
_ABRUPT_LEVELS = np.array([0.2, 0.35, 0.5, 0.6, 0.7])
_ABRUPT_ORDERS = (
    (0, 1, 2, 3, 4),
    (4, 3, 0, 1, 2),
    (1, 4, 3, 2, 0),
    (3, 0, 4, 2, 1),
    (2, 1, 0, 4, 3),
)


def make_means(env: str, horizon: int) -> np.ndarray[Any, Any]:
    """The (horizon x ARMS) table of each arm's success probability at each step."""
    t = np.arange(horizon)[:, None]
    if env == "stationary":
        return np.tile(np.array([0.25, 0.35, 0.45, 0.5, 0.55]), (horizon, 1))
    if env == "abrupt":
        seg = np.minimum(t[:, 0] * SEGMENTS // horizon, SEGMENTS - 1)
        table = np.array([_ABRUPT_LEVELS[list(order)] for order in _ABRUPT_ORDERS])
        return np.asarray(table[seg])
    if env == "sinusoidal":
        phase = 2 * np.pi * np.arange(ARMS)[None, :] / ARMS
        return 0.5 + 0.3 * np.sin(2 * np.pi * SINE_PERIODS * t / horizon + phase)
    raise ValueError(f"unknown environment {env!r}")


def change_count(env: str) -> int:
    """How many times the environment changes (what a tuned baseline is told)."""
    return {"stationary": 0, "abrupt": SEGMENTS - 1, "sinusoidal": int(2 * ARMS * SINE_PERIODS)}[
        env
    ]


class _Agent(Protocol):
    def select(self) -> int: ...
    def update(self, arm: int, reward: float) -> None: ...


class _MabwiserAgent:
    """MABWiser's policy objects.

    ``public=True`` goes through ``MAB.predict`` / ``MAB.partial_fit`` (used for the
    speed column); otherwise the same policy object (``MAB._imp``) is called
    directly, skipping only MABWiser's per-call input validation and conversion,
    so the 100-run regret measurement fits in the time budget. Decisions are the
    same either way.
    """

    def __init__(self, kind: str, seed: int, *, public: bool = False) -> None:
        from mabwiser.mab import MAB, LearningPolicy  # type: ignore[import-untyped]

        lp = LearningPolicy.ThompsonSampling() if kind == "ts" else LearningPolicy.UCB1(alpha=1.0)
        self._mab = MAB(arms=list(range(ARMS)), learning_policy=lp, seed=seed)
        self._public = public
        self._warmup: list[tuple[int, float]] = []
        self._fitted = False

    def select(self) -> int:
        if not self._fitted:  # play each arm once, as UCB1 prescribes, then fit on those plays
            return len(self._warmup)
        return int(self._mab.predict() if self._public else self._mab._imp.predict())

    def update(self, arm: int, reward: float) -> None:
        if not self._fitted:
            self._warmup.append((arm, reward))
            if len(self._warmup) == ARMS:
                self._mab.fit([a for a, _ in self._warmup], [r for _, r in self._warmup])
                self._fitted = True
        elif self._public:
            self._mab.partial_fit([arm], [reward])
        else:
            self._mab._imp.partial_fit(np.array([arm]), np.array([reward]))


@dataclass(frozen=True)
class Contestant:
    label: str
    factory: str  # "maestro:<policy>[:window]" or "mabwiser:<ts|ucb1>"
    window: int | None = None


def _agent(c: Contestant, seed: int, *, public: bool = False) -> _Agent:
    kind, name = c.factory.split(":", 1)
    if kind == "mabwiser":
        return _MabwiserAgent(name, seed, public=public)
    params: dict[str, Any] = {"window": c.window} if c.window else {}
    return make_policy(name, ARMS, seed=seed, **params)


def _table(env: str, horizon: int, seed: int) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    means = make_means(env, horizon)
    rewards = (np.random.default_rng(seed).random(means.shape) < means).astype(float)
    return means, rewards


def run_policy(c: Contestant, env: str, horizon: int, seed: int) -> float:
    """The pseudo-regret of one run."""
    means, rewards = _table(env, horizon, seed)
    agent = _agent(c, seed)
    table = rewards.tolist()
    arms = np.empty(horizon, dtype=np.int64)
    for t in range(horizon):
        a = agent.select()
        agent.update(a, table[t][a])
        arms[t] = a
    return float((means.max(axis=1) - means[np.arange(horizon), arms]).sum())


def speed(c: Contestant, steps: int = SPEED_STEPS) -> float:
    """Microseconds per ``select`` + ``update`` through the library's public API."""
    _, rewards = _table("stationary", steps, SPEED_SEED)
    agent = _agent(c, SPEED_SEED, public=True)
    table = rewards.tolist()
    start = time.perf_counter()
    for t in range(steps):
        a = agent.select()
        agent.update(a, table[t][a])
    return (time.perf_counter() - start) / steps * 1e6


def _task(args: tuple[Contestant, str, int, int]) -> float:
    return run_policy(*args)


def _map(pool: Any, tasks: list[tuple[Contestant, str, int, int]]) -> list[float]:
    if pool is None:
        return [_task(t) for t in tasks]
    return list(pool.map(_task, tasks, chunksize=max(1, len(tasks) // 64)))


def _tune_window(pool: Any, env: str, horizon: int, runs: int) -> int:
    """The sliding-window Thompson window with the least mean regret on tuning seeds."""
    grid = [w for w in WINDOW_GRID if w <= horizon] or [horizon]
    best, best_regret = grid[-1], math.inf
    for w in grid:
        c = Contestant("sw-ts", "maestro:sliding-window-thompson", w)
        seeds = range(TUNING_SEED_OFFSET, TUNING_SEED_OFFSET + runs)
        regret = float(np.mean(_map(pool, [(c, env, horizon, s) for s in seeds])))
        if regret < best_regret:
            best, best_regret = w, regret
    return best


def contestants(tuned: dict[str, int], env: str) -> list[Contestant]:
    maestro = [Contestant(f"maestro {name}", f"maestro:{name}") for name in BANDIT_POLICY_NAMES]
    return [
        *maestro,
        Contestant("MABWiser Thompson", "mabwiser:ts"),
        Contestant("MABWiser UCB1", "mabwiser:ucb1"),
        Contestant(
            f"sliding-window Thompson, tuned (W={tuned[env]})",
            "maestro:sliding-window-thompson",
            tuned[env],
        ),
    ]


def _evaluate(
    pool: Any, horizon: int, runs: int, tuning_runs: int, progress: Callable[[str], None]
) -> dict[str, Any]:
    tuned = {env: _tune_window(pool, env, horizon, tuning_runs) for env in ENVIRONMENTS}
    progress(f"tuned windows: {tuned}")
    results: dict[str, Any] = {}
    speeds: dict[str, float] = {}
    for env in ENVIRONMENTS:
        rows = []
        for c in contestants(tuned, env):
            regrets = np.array(_map(pool, [(c, env, horizon, seed) for seed in range(runs)]))
            if c.label not in speeds:
                speeds[c.label] = speed(c, min(SPEED_STEPS, horizon // 3))
            rows.append(
                {
                    "policy": c.label,
                    "baseline": not c.factory.startswith("maestro:") or c.window is not None,
                    "regret_mean": float(regrets.mean()),
                    "regret_std": float(regrets.std(ddof=1)) if runs > 1 else 0.0,
                    "us_per_step": speeds[c.label],
                }
            )
            progress(f"{env:>10} {c.label:<45} regret {rows[-1]['regret_mean']:9.1f}")
        results[env] = {"tuned_window": tuned[env], "changes": change_count(env), "rows": rows}
    return results


def _verdict(results: dict[str, Any]) -> dict[str, Any]:
    verdict: dict[str, Any] = {}
    for env, res in results.items():
        rows = res["rows"]
        adaptive = next(r for r in rows if r["policy"] == "maestro adaptive")
        best = min((r for r in rows if r["baseline"]), key=lambda r: r["regret_mean"])
        verdict[env] = {
            "adaptive": adaptive["regret_mean"],
            "best_baseline": best["policy"],
            "best_baseline_regret": best["regret_mean"],
            "ratio": adaptive["regret_mean"] / best["regret_mean"],
            "met": adaptive["regret_mean"] <= best["regret_mean"],
        }
    return verdict


def _markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Bandits: Maestro against MABWiser and a tuned sliding window",
        "",
        f"T = {report['horizon']}, {report['runs']} runs per environment, {ARMS} Bernoulli arms, "
        f"same reward tables for every policy. Regret = pseudo-regret; ratio = regret / "
        f"regret of `maestro adaptive`. Wall time {report['seconds']:.0f} s on "
        f"{report['processes']} processes.",
        "",
    ]
    for env, res in report["results"].items():
        v = report["verdict"][env]
        adaptive = v["adaptive"]
        lines += [
            f"## {env} ({res['changes']} changes; tuned window {res['tuned_window']})",
            "",
            "| policy | regret mean | regret std | ratio to adaptive | µs per select+update |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in sorted(res["rows"], key=lambda r: r["regret_mean"]):
            ratio = r["regret_mean"] / adaptive if adaptive else float("nan")
            lines.append(
                f"| {r['policy']} | {r['regret_mean']:.1f} | {r['regret_std']:.1f} | "
                f"{ratio:.2f} | {r['us_per_step']:.1f} |"
            )
        status = "met" if v["met"] else "NOT met"
        lines += [
            "",
            f"Target (adaptive <= best baseline, {v['best_baseline']}): **{status}** "
            f"({adaptive:.1f} vs {v['best_baseline_regret']:.1f}, ratio {v['ratio']:.2f}).",
            "",
        ]
    return "\n".join(lines)


def _compute(horizon: int, runs: int, tuning_runs: int, processes: int) -> dict[str, Any]:
    start = time.perf_counter()

    def progress(msg: str) -> None:
        if os.environ.get("MAESTRO_BENCH_VERBOSE"):
            print(msg, flush=True)

    if processes > 1:
        with multiprocessing.get_context("spawn").Pool(processes) as pool:
            results = _evaluate(pool, horizon, runs, tuning_runs, progress)
    else:
        results = _evaluate(None, horizon, runs, tuning_runs, progress)
    return {
        "suite": "bandits",
        "horizon": horizon,
        "runs": runs,
        "tuning_runs": tuning_runs,
        "arms": ARMS,
        "processes": processes,
        "results": results,
        "verdict": _verdict(results),
        "seconds": time.perf_counter() - start,
    }


def _write(out: Path, report: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "learning_bandits.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "learning_bandits.md").write_text(_markdown(report) + "\n")


async def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Run the suite and write ``learning_bandits.json`` and ``.md`` under ``out``."""
    import asyncio

    horizon, runs = (QUICK_T, QUICK_RUNS) if quick else (FULL_T, FULL_RUNS)
    tuning = 1 if quick else TUNING_RUNS
    processes = 1 if quick else min(2, os.cpu_count() or 1)
    report = await asyncio.to_thread(_compute, horizon, runs, tuning, processes)
    await asyncio.to_thread(_write, out, report)
    return report
