"""The audience simulator: hidden engagement the learners must discover.

Expected engagement (a rate in [0, 1]) of a post is a product of hidden factors::

    base[brand]
      * exp(strategy[brand, strategy](t) + topic[brand, topic] + mix[brand, strategy, topic])
      * hour[brand](hour) * quality_factor(quality)

``strategy(t)`` is where the modes differ: fixed (``stationary``); moving along
a slow sinusoid per brand and strategy (``drifting``); constant between switch
points, then re-dealt so that each brand's best strategy changes
(``switching``). The hidden factors are a pure function of ``seed``; sampled
engagement adds log-normal noise from a separate random stream, so reading the
ground truth never changes what the learners observe.

Two surfaces, kept apart on purpose:

- observation: :meth:`AudienceSimulator.engagement` (what a metrics source returns);
- evaluation only: :meth:`~AudienceSimulator.expected`, :meth:`~AudienceSimulator.truth`,
  :meth:`~AudienceSimulator.strategy_effects`, :meth:`~AudienceSimulator.best_strategies`,
  :meth:`~AudienceSimulator.regime`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from maestro.errors import ValidationError

__all__ = [
    "DEFAULT_DRIFT_AMPLITUDE",
    "DEFAULT_DRIFT_PERIOD_DAYS",
    "DEFAULT_NOISE",
    "DEFAULT_START",
    "DEFAULT_SWITCH_EVERY_DAYS",
    "AudienceSimulator",
    "Instant",
    "Mode",
    "SimulatorSettings",
]

Mode = Literal["stationary", "drifting", "switching"]
Instant = datetime | float
"""A moment: an aware datetime, or days since the simulator's ``start``."""

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_NOISE = 0.3
"""Sigma of the log-normal noise on each sampled engagement."""
DEFAULT_STRATEGY_SPREAD = 0.5
"""Sigma of the log strategy effects: how much strategies differ."""
DEFAULT_TOPIC_SPREAD = 0.25
DEFAULT_INTERACTION = 0.1
"""Sigma of the strategy x topic interaction (log scale)."""
DEFAULT_HOUR_AMPLITUDE = 0.35
"""Largest relative swing of engagement over the day."""
DEFAULT_DRIFT_AMPLITUDE = 0.6
"""Amplitude (log scale) of a drifting strategy effect."""
DEFAULT_DRIFT_PERIOD_DAYS = (14.0, 42.0)
DEFAULT_SWITCH_EVERY_DAYS = 14.0
DEFAULT_QUALITY_WEIGHT = 1.0
"""Quality factor is ``1 + weight * (quality - 0.5)``: 0.5 is neutral."""
_BASE_RANGE = (0.02, 0.08)
_TRUTH_QUALITY = 0.5

Array = npt.NDArray[np.float64]


class SimulatorSettings(BaseModel):
    """The audience simulator (the embedded default's source of outcomes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 7
    """Seed of the hidden preferences and of the noise."""
    mode: Mode = "drifting"
    """``stationary``, ``drifting`` (gradual) or ``switching`` (abrupt)."""
    noise: float = Field(default=DEFAULT_NOISE, ge=0, le=2)
    """Sigma of the log-normal noise on sampled engagement."""
    drift_amplitude: float = Field(default=DEFAULT_DRIFT_AMPLITUDE, ge=0, le=3)
    """Log-scale amplitude of drifting strategy effects."""
    switch_every_days: float = Field(default=DEFAULT_SWITCH_EVERY_DAYS, gt=0)
    """Days between preference switches in ``switching`` mode."""
    quality_weight: float = Field(default=DEFAULT_QUALITY_WEIGHT, ge=0, le=2)
    """How much the examined quality multiplies engagement."""


def _names(values: Sequence[str], field: str) -> tuple[str, ...]:
    names = tuple(values)
    if not names or len(set(names)) != len(names):
        raise ValidationError(
            f"{field} must be non-empty and distinct, got {list(names)}", field=field
        )
    return names


class AudienceSimulator:
    """Hidden, seeded engagement per brand x strategy x topic x hour of day."""

    def __init__(
        self,
        *,
        seed: int,
        brands: Sequence[str],
        strategies: Sequence[str],
        topics: Sequence[str],
        mode: Mode = "stationary",
        noise: float = DEFAULT_NOISE,
        start: datetime = DEFAULT_START,
        strategy_spread: float = DEFAULT_STRATEGY_SPREAD,
        topic_spread: float = DEFAULT_TOPIC_SPREAD,
        interaction: float = DEFAULT_INTERACTION,
        hour_amplitude: float = DEFAULT_HOUR_AMPLITUDE,
        drift_amplitude: float = DEFAULT_DRIFT_AMPLITUDE,
        drift_period_days: tuple[float, float] = DEFAULT_DRIFT_PERIOD_DAYS,
        switch_every_days: float = DEFAULT_SWITCH_EVERY_DAYS,
        switch_points: Sequence[float] | None = None,
        quality_weight: float = DEFAULT_QUALITY_WEIGHT,
    ) -> None:
        if mode not in ("stationary", "drifting", "switching"):
            raise ValidationError(
                f"unknown simulator mode {mode!r}; accepted: stationary, drifting, switching",
                field="mode",
            )
        if noise < 0 or not math.isfinite(noise):
            raise ValidationError(f"noise must be >= 0, got {noise!r}", field="noise")
        if not 0 <= hour_amplitude < 1:
            raise ValidationError(
                f"hour_amplitude must be in [0, 1), got {hour_amplitude!r}", field="hour_amplitude"
            )
        if not 0 < drift_period_days[0] <= drift_period_days[1]:
            raise ValidationError(
                f"drift_period_days must be 0 < low <= high, got {drift_period_days!r}",
                field="drift_period_days",
            )
        if switch_every_days <= 0:
            raise ValidationError(
                f"switch_every_days must be > 0, got {switch_every_days!r}",
                field="switch_every_days",
            )
        if start.tzinfo is None:
            raise ValidationError("start must be an aware datetime", field="start")
        self.seed = seed
        self.brands = _names(brands, "brands")
        self.strategies = _names(strategies, "strategies")
        self.topics = _names(topics, "topics")
        if len(self.strategies) < 2:
            raise ValidationError("the simulator needs at least 2 strategies", field="strategies")
        self.mode: Mode = mode
        self.noise = noise
        self.start = start
        self.strategy_spread = strategy_spread
        self.drift_amplitude = drift_amplitude
        self.drift_period_days = drift_period_days
        self.switch_every_days = switch_every_days
        self.switch_points: tuple[float, ...] | None = (
            tuple(sorted(switch_points)) if switch_points is not None else None
        )
        self.quality_weight = quality_weight
        self._b = {n: i for i, n in enumerate(self.brands)}
        self._s = {n: i for i, n in enumerate(self.strategies)}
        self._k = {n: i for i, n in enumerate(self.topics)}
        nb, ns, nk = len(self.brands), len(self.strategies), len(self.topics)
        hidden = np.random.default_rng(np.random.SeedSequence([seed, 0]))
        self._base: Array = hidden.uniform(*_BASE_RANGE, size=nb)
        self._mu: Array = hidden.normal(0.0, strategy_spread, size=(nb, ns))
        self._topic: Array = hidden.normal(0.0, topic_spread, size=(nb, nk))
        self._mix: Array = hidden.normal(0.0, interaction, size=(nb, ns, nk))
        self._peak: Array = hidden.uniform(0.0, 24.0, size=nb)
        self._hour_amp: Array = hidden.uniform(0.5, 1.0, size=nb) * hour_amplitude
        self._phase: Array = hidden.uniform(0.0, 2 * math.pi, size=(nb, ns))
        self._period: Array = hidden.uniform(*drift_period_days, size=(nb, ns))
        self._regimes: dict[tuple[int, int], Array] = {}
        self._noise_rng = np.random.default_rng(np.random.SeedSequence([seed, 2]))

    @classmethod
    def from_settings(
        cls,
        settings: SimulatorSettings,
        *,
        brands: Sequence[str],
        strategies: Sequence[str],
        topics: Sequence[str],
        start: datetime = DEFAULT_START,
    ) -> AudienceSimulator:
        return cls(
            seed=settings.seed,
            brands=brands,
            strategies=strategies,
            topics=topics,
            mode=settings.mode,
            noise=settings.noise,
            start=start,
            drift_amplitude=settings.drift_amplitude,
            switch_every_days=settings.switch_every_days,
            quality_weight=settings.quality_weight,
        )

    # ------------------------------------------------------------------ observation
    def engagement(
        self, brand: str, strategy: str, topic: str, hour: int, quality: float, t: Instant
    ) -> float:
        """One sampled engagement rate in [0, 1] for a post published at ``t``."""
        mean = self.expected(brand, strategy, topic, hour, quality, t)
        if self.noise == 0:
            return mean
        shock = self._noise_rng.normal(0.0, self.noise)
        return min(1.0, max(0.0, mean * math.exp(shock - self.noise**2 / 2)))

    # ------------------------------------------------------------- evaluation only
    def expected(
        self, brand: str, strategy: str, topic: str, hour: int, quality: float, t: Instant
    ) -> float:
        """Ground truth: the mean engagement :meth:`engagement` samples around."""
        b, s, k = self._index(brand, strategy, topic)
        if not 0 <= hour < 24:
            raise ValidationError(f"hour must be in [0, 24), got {hour!r}", field="hour")
        if not 0 <= quality <= 1:
            raise ValidationError(f"quality must be in [0, 1], got {quality!r}", field="quality")
        day = self._day(t)
        log_effect = self._strategy_effects(b, day)[s] + self._topic[b, k] + self._mix[b, s, k]
        value = self._base[b] * math.exp(log_effect) * self._hour(b, hour) * self._quality(quality)
        return float(min(1.0, max(0.0, value)))

    def truth(self, brand: str, t: Instant) -> dict[str, float]:
        """Ground truth: expected engagement per strategy for ``brand`` at ``t``.

        Averaged over topics (equally) and hours of the day at neutral quality.
        """
        b = self._brand(brand)
        day = self._day(t)
        effects = self._strategy_effects(b, day)
        hours = np.array([self._hour(b, h) for h in range(24)])
        result: dict[str, float] = {}
        for s, name in enumerate(self.strategies):
            per_topic = self._base[b] * np.exp(effects[s] + self._topic[b] + self._mix[b, s])
            grid = np.minimum(1.0, np.outer(per_topic, hours) * self._quality(_TRUTH_QUALITY))
            result[name] = float(grid.mean())
        return result

    def strategy_effects(self, brand: str, t: Instant) -> dict[str, float]:
        """Ground truth: each strategy's log effect for ``brand`` at ``t`` (the part that moves)."""
        effects = self._strategy_effects(self._brand(brand), self._day(t))
        return {name: float(effects[s]) for s, name in enumerate(self.strategies)}

    def best_strategies(self, brand: str, t: Instant, k: int | None = None) -> list[str]:
        """Ground truth: strategies from best to worst for ``brand`` at ``t`` (top ``k``)."""
        truth = self.truth(brand, t)
        order = sorted(truth, key=lambda name: (-truth[name], name))
        return order if k is None else order[:k]

    def regime(self, t: Instant) -> int:
        """Ground truth: how many switch points lie at or before ``t`` (0 outside switching)."""
        if self.mode != "switching":
            return 0
        day = self._day(t)
        if self.switch_points is not None:
            return bisect.bisect_right(self.switch_points, day)
        return max(0, math.floor(day / self.switch_every_days))

    # ------------------------------------------------------------------ internals
    def _day(self, t: Instant) -> float:
        if isinstance(t, datetime):
            if t.tzinfo is None:
                raise ValidationError("t must be an aware datetime", field="t")
            return (t - self.start).total_seconds() / 86_400.0
        if not math.isfinite(t):
            raise ValidationError(f"t must be finite, got {t!r}", field="t")
        return float(t)

    def _brand(self, brand: str) -> int:
        try:
            return self._b[brand]
        except KeyError:
            raise ValidationError(f"unknown brand {brand!r}", field="brand") from None

    def _index(self, brand: str, strategy: str, topic: str) -> tuple[int, int, int]:
        b = self._brand(brand)
        if strategy not in self._s:
            raise ValidationError(f"unknown strategy {strategy!r}", field="strategy")
        if topic not in self._k:
            raise ValidationError(f"unknown topic {topic!r}", field="topic")
        return b, self._s[strategy], self._k[topic]

    def _hour(self, b: int, hour: float) -> float:
        return 1.0 + float(self._hour_amp[b]) * math.cos(2 * math.pi * (hour - self._peak[b]) / 24)

    def _quality(self, quality: float) -> float:
        return max(0.0, 1.0 + self.quality_weight * (quality - 0.5))

    def _strategy_effects(self, b: int, day: float) -> Array:
        mu: Array = self._mu[b]
        if self.mode == "drifting":
            angle = 2 * math.pi * day / self._period[b] + self._phase[b]
            drifted: Array = mu + self.drift_amplitude * (np.sin(angle) - np.sin(self._phase[b]))
            return drifted
        if self.mode == "switching":
            return self._regime_effects(b, self.regime(day))
        return mu

    def _regime_effects(self, b: int, regime: int) -> Array:
        """Regime 0 is the base preferences; each later one re-deals them so the best moves."""
        known = max((r for (bb, r) in self._regimes if bb == b and r <= regime), default=0)
        effects: Array = self._mu[b] if known == 0 else self._regimes[(b, known)]
        # The best strategy in truth also depends on the topic mix; keep dealing until it moves.
        mix = np.log(np.exp(self._topic[b] + self._mix[b]).sum(axis=1))
        for r in range(known + 1, regime + 1):
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, 1, b, r]))
            dealt: Array = rng.permutation(effects)
            while int(np.argmax(dealt + mix)) == int(np.argmax(effects + mix)):
                dealt = rng.permutation(effects)
            self._regimes[(b, r)] = dealt
            effects = dealt
        return effects
