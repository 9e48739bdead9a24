"""Offline replay of the studio's strategy choice: compare learners in seconds, not minutes.

``maestro bench learning --suite studio`` runs the whole cycle (gateway, model,
stores) and takes minutes; most of that has nothing to do with which strategy is
chosen. This replay keeps only the choice: the benchmark's brands, topics and
slots (6 agents, one post per agent, brand and day, topics rotating as in the
burst, published at midnight with a quality drawn from 0.8-1.0 like the offline
model's), the same audience simulator, outcomes learned before the next day's
burst. It is how the defaults of :mod:`maestro.learning.bandits.linear` were chosen;
the real benchmark remains the measurement.

Run ``python -m maestro.bench.studio_replay [seeds]`` for the table of the
learners on both audiences (``bench/results/studio_replay.md``), and with
``--ceiling [--plot]`` for the learner against two references, by drift speed
(``bench/results/studio_ceiling.md`` and ``.png``): oracles told the truth late,
and a learner told the simulator's formula (:class:`FormulaThompson`).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

import numpy as np

from maestro.agents.strategies import DEFAULT_STRATEGIES
from maestro.cycles.choice import relative_reward
from maestro.demo.runner import DEFAULT_BRANDS
from maestro.learning.bandits import LinearThompson, make_policy
from maestro.learning.kalman import Array
from maestro.sim.audience import DEFAULT_DRIFT_PERIOD_DAYS, AudienceSimulator, Mode

__all__ = [
    "CeilingRow",
    "FormulaThompson",
    "Replay",
    "ceiling",
    "ceiling_rows",
    "learners",
    "plot_ceiling",
    "recovery",
    "replay",
]

STRATEGIES = tuple(s.name for s in DEFAULT_STRATEGIES)
AGENTS = 6
BRANDS = 3
DAYS = 28
SWITCH_DAY = 14


@dataclass(frozen=True)
class Replay:
    """Daily engagement / oracle ratios of one learner on one audience and seed."""

    daily: list[float]

    @property
    def vs_oracle(self) -> float:
        return mean(self.daily)


def replay(
    mode: Mode,
    seed: int,
    learner: str = "linear",
    *,
    drift_period_days: tuple[float, float] = DEFAULT_DRIFT_PERIOD_DAYS,
    lag: int | None = None,
    homogeneous: bool = False,
    **params: Any,
) -> Replay:
    """The learner ``learner`` choosing on the studio's slots.

    ``learner``: ``linear`` (the studio's default policy), ``formula``
    (:class:`FormulaThompson`, a reference) or the name of a plain bandit.

    ``lag``: instead of learning, choose the best strategy in the truth of ``lag``
    days earlier (an oracle that is told the truth late: a ceiling for learners).
    ``homogeneous``: a brand's whole burst follows its first draw (the baseline
    population of the studio benchmark) instead of each post drawing anew.
    """
    names = list(DEFAULT_BRANDS)[:BRANDS]
    topics: list[str] = []  # in order of first appearance, as the studio's simulator sink
    for n in names:
        topics += [t for t in DEFAULT_BRANDS[n][1] if t not in topics]
    sim, truth = (
        AudienceSimulator(
            seed=seed,
            brands=names,
            strategies=STRATEGIES,
            topics=topics,
            mode=mode,
            drift_period_days=drift_period_days,
        )
        for _ in range(2)
    )
    rng = np.random.default_rng(seed)
    choose, learn = _learner(learner, truth, seed, params)
    daily: list[float] = []
    for day in range(DAYS):
        t = float(day)
        studio = oracle = 0.0
        posts: list[tuple[int, int, str, float, float]] = []
        for b, brand in enumerate(names):
            pending: list[int] = []
            brand_topics = DEFAULT_BRANDS[brand][1]
            for i in range(AGENTS):
                topic = brand_topics[(day + i + b) % len(brand_topics)]
                quality = float(rng.uniform(0.8, 1.0))
                values = [truth.expected(brand, s, topic, 0, quality, t) for s in STRATEGIES]
                if homogeneous and pending:
                    arm = pending[0]
                elif lag is None:
                    arm = choose(b, t, pending, topic, quality)
                else:
                    late = max(0.0, t - lag)
                    arm = int(
                        np.argmax(
                            [truth.expected(brand, s, topic, 0, quality, late) for s in STRATEGIES]
                        )
                    )
                pending.append(arm)
                studio += values[arm]
                oracle += max(values)
                outcome = sim.engagement(brand, STRATEGIES[arm], topic, 0, quality, t)
                posts.append((b, arm, topic, quality, outcome))
        for b, arm, topic, quality, outcome in posts:
            learn(b, arm, topic, quality, outcome, t)
        daily.append(studio / oracle)
    return Replay(daily)


Chooser = Callable[[int, float, list[int], str, float], int]
Learner = Callable[[int, int, str, float, float, float], None]


class FormulaThompson:
    """A learner told the simulator's formula: a ceiling for learners, not a product.

    It knows every hidden factor except the strategy effects (base, topic, hour and
    quality effects, the noise) and that each effect is
    ``mu + amplitude * (sin(2 pi t / period + phase) - sin(phase))`` with ``mu`` drawn
    from ``N(0, strategy_spread)`` and the period from the simulator's range. It keeps
    the exact posterior over ``(mu, phase, period)`` on a grid per brand and strategy
    and chooses by Thompson sampling. No product can know this much, so what it earns
    is a reference for what a learner can earn on the same evidence (a reference,
    not a proof: Thompson sampling is not the optimal policy). Drifting and
    stationary audiences only (a switch is not in the formula).
    """

    MU_POINTS, PHASE_POINTS, PERIOD_POINTS = 81, 32, 15

    def __init__(self, truth: AudienceSimulator, seed: int) -> None:
        if truth.mode == "switching":
            raise ValueError("the formula learner knows drifting and stationary audiences only")
        self._truth = truth
        spread = truth.strategy_spread
        mu, phase, period = (
            a.ravel()
            for a in np.meshgrid(
                np.linspace(-4 * spread, 4 * spread, self.MU_POINTS),
                np.linspace(0.0, 2 * math.pi, self.PHASE_POINTS, endpoint=False),
                np.linspace(*truth.drift_period_days, self.PERIOD_POINTS),
                indexing="ij",
            )
        )
        self._mu, self._phase, self._period = mu, phase, period
        self._amplitude = truth.drift_amplitude if truth.mode == "drifting" else 0.0
        shape = (len(truth.brands), len(truth.strategies), len(mu))
        self._log_post = np.broadcast_to(-0.5 * (mu / spread) ** 2, shape).copy()
        self._rng = np.random.default_rng(seed)

    def _effects(self, t: float) -> Array:
        """Every grid point's strategy effect at day ``t``."""
        wave = np.sin(2 * math.pi * t / self._period + self._phase) - np.sin(self._phase)
        return self._mu + self._amplitude * wave

    def _offsets(self, b: int, topic: str, quality: float, t: float) -> list[float]:
        """Log expected engagement per strategy minus its strategy effect: all it is told."""
        brand = self._truth.brands[b]
        effects = self._truth.strategy_effects(brand, t)
        return [
            math.log(max(self._truth.expected(brand, s, topic, 0, quality, t), 1e-12)) - effects[s]
            for s in self._truth.strategies
        ]

    def choose(self, b: int, t: float, topic: str, quality: float) -> int:
        effects = self._effects(t)
        offsets = self._offsets(b, topic, quality, t)
        drawn = []
        for s, log_post in enumerate(self._log_post[b]):
            w = np.exp(log_post - log_post.max())
            point = int(np.searchsorted(np.cumsum(w), self._rng.uniform(0.0, float(w.sum()))))
            drawn.append(float(effects[min(point, len(w) - 1)]) + offsets[s])
        return int(np.argmax(drawn))

    def learn(self, b: int, arm: int, topic: str, quality: float, e: float, t: float) -> None:
        noise = self._truth.noise
        # The simulator's noise is log-normal with mean 1: E[log e] is log(mean) - noise^2 / 2.
        y = math.log(max(e, 1e-4)) - self._offsets(b, topic, quality, t)[arm] + noise**2 / 2
        self._log_post[b, arm] += -0.5 * ((y - self._effects(t)) / noise) ** 2


def _learner(
    name: str, truth: AudienceSimulator, seed: int, params: dict[str, Any]
) -> tuple[Chooser, Learner]:
    brands = len(truth.brands)
    if name == "formula":
        informed = FormulaThompson(truth, seed)
        return (
            lambda b, t, pending, topic, quality: informed.choose(b, t, topic, quality),
            informed.learn,
        )
    if name == "linear":
        models = [
            LinearThompson(len(STRATEGIES), seed=seed * 10 + b, **params) for b in range(brands)
        ]

        def choose(b: int, t: float, pending: list[int], topic: str, quality: float) -> int:
            return models[b].choose(t, pending)

        def learn(b: int, arm: int, topic: str, quality: float, e: float, t: float) -> None:
            cov = {f"topic={topic}": 1.0, "quality": quality - 0.5}
            models[b].observe(arm, math.log(max(e, 1e-4)), cov, at=t)

        return choose, learn
    bandits = [
        make_policy(name, len(STRATEGIES), seed=seed * 10 + b, **params) for b in range(brands)
    ]
    means: dict[int, tuple[float, int]] = {}

    def select(b: int, t: float, pending: list[int], topic: str, quality: float) -> int:
        return bandits[b].select()

    def update(b: int, arm: int, topic: str, quality: float, e: float, t: float) -> None:
        log_mean, n = means.get(b, (math.log(max(e, 1e-4)), 0))
        bandits[b].update(arm, relative_reward(e, log_mean, 4.0))
        log_mean += (math.log(max(e, 1e-4)) - log_mean) / min(40.0, n + 1.0)
        means[b] = (log_mean, n + 1)

    return select, update


def recovery(daily: list[float], hold: int = 3, switch: int = SWITCH_DAY) -> int:
    """Days after the switch until the ``hold``-day mean is back at 90% of the week before."""
    target = 0.9 * mean(daily[switch - 7 : switch])
    for d in range(switch, len(daily)):
        if mean(daily[d : d + hold]) >= target:
            return d - switch
    return len(daily) - switch


CEILING_PERIODS: tuple[tuple[float, float], ...] = ((7, 21), (14, 42), (28, 84), (56, 168))
"""Drift periods (days) of :func:`ceiling_rows`: 2x faster than the default, it, 2x, 4x slower."""
CEILING_LAGS = (1, 2, 3)


def _replay(job: tuple[Mode, int, str, dict[str, Any]]) -> Replay:
    mode, seed, learner, kw = job
    return replay(mode, seed, learner, **kw)


def _over_seeds(
    pool: ProcessPoolExecutor, seeds: range, mode: Mode, learner: str = "linear", **kw: Any
) -> list[Replay]:
    """:func:`replay` on every seed, in the pool's processes."""
    return list(pool.map(_replay, [(mode, s, learner, kw) for s in seeds]))


@dataclass(frozen=True)
class CeilingRow:
    """One audience of :func:`ceiling_rows`: shares of the slot oracle, means over seeds."""

    audience: str
    period: str
    """Drift period range in days, or ``-``."""
    learner: float
    learner_after_week: float
    formula: float | None
    """:class:`FormulaThompson` (None on a switching audience)."""
    late: tuple[float, ...]
    """Oracles told the truth ``CEILING_LAGS`` days late."""


def ceiling_rows(seeds: range, processes: int = 2) -> list[CeilingRow]:
    """The learner against two references, by how fast the audience drifts.

    The target of 90% of the oracle is a question of evidence per change: 6 posts
    per brand and day, 30% noise, 8 strategies. Per audience: what the learner earns
    (over the whole run, and from its second week on, once the cold start is behind
    it), what a learner told the simulator's formula earns on the same evidence
    (:class:`FormulaThompson`), and what perfect knowledge ``lag`` days old earns.
    """
    with ProcessPoolExecutor(processes) as pool:

        def row(audience: str, period: str, mode: Mode, **kw: Any) -> CeilingRow:
            linear = _over_seeds(pool, seeds, mode, **kw)
            formula = (
                None if mode == "switching" else _over_seeds(pool, seeds, mode, "formula", **kw)
            )
            return CeilingRow(
                audience,
                period,
                mean(r.vs_oracle for r in linear),
                mean(mean(r.daily[7:]) for r in linear),
                None if formula is None else mean(r.vs_oracle for r in formula),
                tuple(
                    mean(r.vs_oracle for r in _over_seeds(pool, seeds, mode, lag=g, **kw))
                    for g in CEILING_LAGS
                ),
            )

        rows = []
        for low, high in CEILING_PERIODS:
            period = (float(low), float(high))
            default = " (default)" if period == DEFAULT_DRIFT_PERIOD_DAYS else ""
            rows.append(
                row("drifting", f"{low:g}-{high:g}{default}", "drifting", drift_period_days=period)
            )
        rows.append(row(f"switching (day {SWITCH_DAY})", "-", "switching"))
        rows.append(row("stationary", "-", "stationary"))
        return rows


def ceiling(rows: list[CeilingRow], seeds: range) -> str:
    """Markdown table of :func:`ceiling_rows`."""
    head = [
        "learner",
        "learner, days 8-28",
        "learner told the formula",
        *(f"truth {lag} day{'s' * (lag > 1)} late" for lag in CEILING_LAGS),
    ]
    lines = [
        f"Studio replay ({len(seeds)} seeds, {DAYS} days, {BRANDS} brands x {AGENTS} posts a day):"
        " share of the slot oracle's engagement.",
        "",
        "| audience | drift period (days) | " + " | ".join(head) + " |",
        "|---|---|" + "---:|" * len(head),
    ]
    for r in rows:
        cells = [r.learner, r.learner_after_week, r.formula, *r.late]
        text = ["-" if c is None else f"{c:.1%}" for c in cells]
        lines.append(f"| {r.audience} | {r.period} | " + " | ".join(text) + " |")
    return "\n".join(lines) + "\n"


def plot_ceiling(rows: list[CeilingRow], path: Path, target: float = 0.9) -> Path:
    """The drifting and stationary rows as lines against the target (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in rows if r.formula is not None]
    x = list(range(len(shown)))
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for g, lag in enumerate(CEILING_LAGS):
        label = f"oracle told the truth {lag} day{'s' * (lag > 1)} late"
        ax.plot(x, [r.late[g] for r in shown], color="#8d99ae", lw=1, ls=":", marker=".")
        ax.annotate(
            label,
            (x[1], shown[1].late[g]),
            fontsize=7,
            color="#5c677d",
            xytext=(4, 2),
            textcoords="offset points",
        )
    ax.plot(
        x,
        [r.formula or 0.0 for r in shown],
        color="#2a9d8f",
        marker="o",
        label="learner told the simulator's formula",
    )
    ax.plot(
        x,
        [r.learner for r in shown],
        color="#e76f51",
        lw=2,
        marker="o",
        label="Maestro's learner (linear-thompson)",
    )
    ax.axhline(target, color="#c1121f", lw=1, ls="--", label=f"target {target:.0%}")
    ax.set_xticks(x, [r.period if r.period != "-" else r.audience for r in shown], fontsize=8)
    ax.set_xlabel("drift period of each strategy's effect (days)")
    ax.set_ylabel("share of the oracle's engagement")
    lowest = min(min(r.learner, r.formula or 1.0, *r.late) for r in shown)
    ax.set_ylim(min(0.75, lowest - 0.02), 1.01)
    ax.set_title("Studio replay: what the evidence allows, by drift speed", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def learners(seeds: range, processes: int = 2) -> str:
    """Markdown: the studio's learner against the earlier bandit and the homogeneous
    population (one draw per brand and burst), on both audiences, with recovery after
    the switch at day ``SWITCH_DAY`` (days until the 3-day mean, or a single day, is
    back at 90% of the week before) and the share of the oracle in the week after it."""
    contestants: tuple[tuple[str, str, dict[str, Any]], ...] = (
        ("linear-thompson (the studio)", "linear", {}),
        ("linear-thompson, homogeneous", "linear", {"homogeneous": True}),
        ("adaptive bandit (before)", "adaptive", {}),
    )
    lines = [
        f"Studio replay ({len(seeds)} seeds, {DAYS} days, {BRANDS} brands x {AGENTS} posts a day,"
        f" switch at day {SWITCH_DAY}): share of the slot oracle's engagement.",
        "",
        "| learner | drifting | switching | recovery, days (3-day mean) | recovery, days "
        "(single day) | week after the switch |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    with ProcessPoolExecutor(processes) as pool:
        for label, learner, kw in contestants:
            drifting, switching = (
                _over_seeds(pool, seeds, mode, learner, **kw) for mode in ("drifting", "switching")
            )
            cells = [
                f"{mean(r.vs_oracle for r in drifting):.1%}",
                f"{mean(r.vs_oracle for r in switching):.1%}",
                f"{mean(recovery(r.daily) for r in switching):.1f}",
                f"{mean(recovery(r.daily, hold=1) for r in switching):.1f}",
                f"{mean(mean(r.daily[SWITCH_DAY : SWITCH_DAY + 7]) for r in switching):.1%}",
            ]
            lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    flags = {"--ceiling", "--plot"}
    args = [a for a in sys.argv[1:] if a not in flags]
    chosen = range(1, 1 + (int(args[0]) if args else 16))
    if "--ceiling" in sys.argv:
        found = ceiling_rows(chosen)
        print(ceiling(found, chosen), end="")
        if "--plot" in sys.argv:
            print(f"plot: {plot_ceiling(found, Path('bench/results/studio_ceiling.png'))}")
    else:
        print(learners(chosen), end="")
