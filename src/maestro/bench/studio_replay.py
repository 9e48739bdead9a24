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
learners below on both audiences, and with ``--ceiling`` for the learner against
oracles that are told the truth late, by drift speed (``bench/results/studio_ceiling.md``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from statistics import mean
from typing import Any

import numpy as np

from maestro.agents.strategies import DEFAULT_STRATEGIES
from maestro.cycles.choice import relative_reward
from maestro.demo.runner import DEFAULT_BRANDS
from maestro.learning.bandits import LinearThompson, make_policy
from maestro.sim.audience import DEFAULT_DRIFT_PERIOD_DAYS, AudienceSimulator, Mode

__all__ = ["Replay", "ceiling", "recovery", "replay"]

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
    **params: Any,
) -> Replay:
    """The learner ``learner`` (``linear`` or a bandit name) choosing on the studio's slots.

    ``lag``: instead of learning, choose the best strategy in the truth of ``lag``
    days earlier (an oracle that is told the truth late: a ceiling for learners).
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
    choose, learn = _learner(learner, len(names), seed, params)
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
                if lag is None:
                    arm = choose(b, t, pending)
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


Chooser = Callable[[int, float, list[int]], int]
Learner = Callable[[int, int, str, float, float, float], None]


def _learner(name: str, brands: int, seed: int, params: dict[str, Any]) -> tuple[Chooser, Learner]:
    if name == "linear":
        models = [
            LinearThompson(len(STRATEGIES), seed=seed * 10 + b, **params) for b in range(brands)
        ]

        def choose(b: int, t: float, pending: list[int]) -> int:
            return models[b].choose(t, pending)

        def learn(b: int, arm: int, topic: str, quality: float, e: float, t: float) -> None:
            cov = {f"topic={topic}": 1.0, "quality": quality - 0.5}
            models[b].observe(arm, math.log(max(e, 1e-4)), cov, at=t)

        return choose, learn
    bandits = [
        make_policy(name, len(STRATEGIES), seed=seed * 10 + b, **params) for b in range(brands)
    ]
    means: dict[int, tuple[float, int]] = {}

    def select(b: int, t: float, pending: list[int]) -> int:
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
"""Drift periods (days) for :func:`ceiling`: twice as fast as the default, it, 2x and 4x slower."""
CEILING_LAGS = (1, 2, 3)


def ceiling(seeds: range) -> str:
    """Markdown: the learner against oracles told the truth late, by how fast the audience drifts.

    The target of 90% of the oracle is a question of evidence per change: 6 posts
    per brand and day, 30% noise, 8 strategies. This table shows what the learner
    earns as the drift slows (over the whole run, and from its second week on, once
    the cold start is behind it), next to what perfect knowledge ``lag`` days old earns.
    """

    def learner(mode: Mode, **kw: Any) -> list[str]:
        runs = [replay(mode, s, **kw) for s in seeds]
        return [
            f"{mean(r.vs_oracle for r in runs):.1%}",
            f"{mean(mean(r.daily[7:]) for r in runs):.1%}",
        ]

    def late(mode: Mode, **kw: Any) -> list[str]:
        return [
            f"{mean(replay(mode, s, lag=lag, **kw).vs_oracle for s in seeds):.1%}"
            for lag in CEILING_LAGS
        ]

    head = [
        "learner",
        "learner, days 8-28",
        *(f"truth {lag} day{'s' * (lag > 1)} late" for lag in CEILING_LAGS),
    ]
    lines = [
        f"Studio replay ({len(seeds)} seeds, {DAYS} days, {BRANDS} brands x {AGENTS} posts a day):"
        " share of the slot oracle's engagement.",
        "",
        "| audience | drift period (days) | " + " | ".join(head) + " |",
        "|---|---|" + "---:|" * len(head),
    ]
    for low, high in CEILING_PERIODS:
        period = (float(low), float(high))
        row = learner("drifting", drift_period_days=period)
        row += late("drifting", drift_period_days=period)
        default = " (default)" if period == DEFAULT_DRIFT_PERIOD_DAYS else ""
        lines.append(f"| drifting | {low:g}-{high:g}{default} | " + " | ".join(row) + " |")
    others: tuple[tuple[Mode, str], ...] = (
        ("switching", f"switching (day {SWITCH_DAY})"),
        ("stationary", "stationary"),
    )
    for mode, label in others:
        row = learner(mode) + late(mode)
        lines.append(f"| {label} | - | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main(seeds: range) -> None:
    for learner in ("adaptive", "linear"):
        drifting = [replay("drifting", s, learner) for s in seeds]
        switching = [replay("switching", s, learner) for s in seeds]
        print(
            f"{learner:10} drifting {mean(r.vs_oracle for r in drifting):.3f} "
            f"switching {mean(r.vs_oracle for r in switching):.3f} "
            f"recovery {mean(recovery(r.daily) for r in switching):.1f} days"
        )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--ceiling"]
    chosen = range(1, 1 + (int(args[0]) if args else 16))
    if "--ceiling" in sys.argv:
        print(ceiling(chosen), end="")
    else:
        main(chosen)
