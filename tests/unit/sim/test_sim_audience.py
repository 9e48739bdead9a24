from __future__ import annotations

import math
import statistics
from datetime import timedelta

import pytest

from maestro.errors import ValidationError
from maestro.sim.audience import DEFAULT_START, AudienceSimulator, Mode, SimulatorSettings

BRANDS = ("longevity", "healthy", "fitlab", "mindful", "kitchen")
STRATEGIES = (
    "curiosity-hook",
    "stat-hook",
    "story",
    "contrarian",
    "how-to",
    "listicle",
    "question",
    "social-proof",
)
TOPICS = ("sleep", "nutrition", "training")


def simulator(mode: Mode = "stationary", seed: int = 3, **kwargs: object) -> AudienceSimulator:
    return AudienceSimulator(
        seed=seed, brands=BRANDS, strategies=STRATEGIES, topics=TOPICS, mode=mode, **kwargs
    )  # type: ignore[arg-type]


def max_relative_change(a: dict[str, float], b: dict[str, float]) -> float:
    return max(abs(a[s] - b[s]) / a[s] for s in a)


def test_stationary_truth_never_changes() -> None:
    sim = simulator("stationary")
    for brand in BRANDS:
        first = sim.truth(brand, 0.0)
        assert sim.truth(brand, 45.5) == first
        assert sim.truth(brand, DEFAULT_START + timedelta(days=300)) == first


def test_brands_prefer_different_strategies() -> None:
    sim = simulator("stationary")
    assert len({sim.best_strategies(b, 0.0, 1)[0] for b in BRANDS}) >= 3


def test_drifting_truth_changes_gradually() -> None:
    sim = simulator("drifting")
    for brand in BRANDS:
        day = 0.0
        while day < 60:
            nxt = day + 1 / 24
            assert max_relative_change(sim.truth(brand, day), sim.truth(brand, nxt)) < 0.02
            day += 1.0
    changed = [
        brand
        for brand in BRANDS
        if sim.best_strategies(brand, 0.0, 1) != sim.best_strategies(brand, 30.0, 1)
    ]
    assert changed, "over a month some brand's best strategy must move"
    assert max(max_relative_change(sim.truth(b, 0.0), sim.truth(b, 20.0)) for b in BRANDS) > 0.3


@pytest.mark.parametrize("seed", [3, 4, 5, 6])
def test_switching_truth_is_constant_between_switch_points_and_jumps_at_them(seed: int) -> None:
    sim = simulator("switching", seed=seed, switch_every_days=10.0)
    for brand in BRANDS:
        for regime in range(4):
            start, end = 10.0 * regime, 10.0 * regime + 9.99
            assert sim.truth(brand, start) == sim.truth(brand, end)
            assert sim.regime(start) == sim.regime(end) == regime
            if regime:
                before, after = sim.truth(brand, start - 1e-6), sim.truth(brand, start)
                assert sim.best_strategies(brand, start - 1e-6, 1) != sim.best_strategies(
                    brand, start, 1
                )
                assert max_relative_change(before, after) > 0.2


def test_explicit_switch_points_are_honoured() -> None:
    sim = simulator("switching", switch_points=[3.0, 17.5])
    assert [sim.regime(d) for d in (0.0, 2.99, 3.0, 17.4, 17.5, 90.0)] == [0, 0, 1, 1, 2, 2]
    assert sim.truth("fitlab", 4.0) == sim.truth("fitlab", 17.0)
    assert sim.truth("fitlab", 2.0) != sim.truth("fitlab", 4.0)


def test_same_seed_same_world_and_same_samples() -> None:
    a, b = simulator("drifting", seed=11), simulator("drifting", seed=11)
    assert a.truth("healthy", 12.0) == b.truth("healthy", 12.0)
    draws_a = [a.engagement("healthy", s, "sleep", 9, 0.7, 1.5) for s in STRATEGIES * 5]
    draws_b = [b.engagement("healthy", s, "sleep", 9, 0.7, 1.5) for s in STRATEGIES * 5]
    assert draws_a == draws_b
    c = simulator("drifting", seed=12)
    assert c.truth("healthy", 12.0) != a.truth("healthy", 12.0)


def test_reading_the_ground_truth_does_not_disturb_the_samples() -> None:
    a, b = simulator("switching"), simulator("switching")
    seen_a, seen_b = [], []
    for i in range(50):
        seen_a.append(a.engagement("mindful", "story", "sleep", 20, 0.5, i * 0.5))
        b.truth("mindful", i * 0.5)
        b.best_strategies("kitchen", i * 0.5)
        b.expected("mindful", "story", "sleep", 20, 0.5, i * 0.5)
        seen_b.append(b.engagement("mindful", "story", "sleep", 20, 0.5, i * 0.5))
    assert seen_a == seen_b


def test_samples_are_noisy_around_the_hidden_expectation() -> None:
    sim = simulator("stationary", noise=0.3)
    expected = sim.expected("kitchen", "how-to", "nutrition", 12, 0.5, 2.0)
    draws = [sim.engagement("kitchen", "how-to", "nutrition", 12, 0.5, 2.0) for _ in range(4000)]
    assert len(set(draws)) > 3000
    assert statistics.fmean(draws) == pytest.approx(expected, rel=0.03)
    assert all(0.0 <= d <= 1.0 for d in draws)


def test_without_noise_a_sample_is_the_expectation() -> None:
    sim = simulator("drifting", noise=0.0)
    assert sim.engagement("kitchen", "story", "sleep", 7, 0.9, 3.0) == sim.expected(
        "kitchen", "story", "sleep", 7, 0.9, 3.0
    )


def test_examined_quality_multiplies_engagement() -> None:
    sim = simulator()
    low, mid, high = (sim.expected("fitlab", "story", "sleep", 12, q, 0.0) for q in (0.1, 0.5, 0.9))
    assert low < mid < high
    assert high / mid == pytest.approx(1.4)


def test_engagement_depends_on_hour_topic_and_strategy() -> None:
    sim = simulator()
    by_hour = {sim.expected("fitlab", "story", "sleep", h, 0.5, 0.0) for h in range(24)}
    by_topic = {sim.expected("fitlab", "story", t, 12, 0.5, 0.0) for t in TOPICS}
    by_strategy = {sim.expected("fitlab", s, "sleep", 12, 0.5, 0.0) for s in STRATEGIES}
    assert len(by_hour) == 24 and len(by_topic) == 3 and len(by_strategy) == 8
    assert max(by_hour) / min(by_hour) > 1.2


def test_best_strategies_ranks_the_truth() -> None:
    sim = simulator("drifting")
    truth = sim.truth("longevity", 9.0)
    ranked = sim.best_strategies("longevity", 9.0)
    assert [truth[s] for s in ranked] == sorted(truth.values(), reverse=True)
    assert sim.best_strategies("longevity", 9.0, 2) == ranked[:2]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: s.engagement("nobody", "story", "sleep", 1, 0.5, 0.0), "brand"),
        (lambda s: s.engagement("fitlab", "memes", "sleep", 1, 0.5, 0.0), "strategy"),
        (lambda s: s.engagement("fitlab", "story", "crypto", 1, 0.5, 0.0), "topic"),
        (lambda s: s.engagement("fitlab", "story", "sleep", 24, 0.5, 0.0), "hour"),
        (lambda s: s.engagement("fitlab", "story", "sleep", 1, 1.5, 0.0), "quality"),
        (lambda s: s.truth("nobody", 0.0), "brand"),
    ],
)
def test_invalid_queries_name_the_field(call: object, field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        call(simulator())  # type: ignore[operator]
    assert exc.value.field == field


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        simulator("chaotic")  # type: ignore[arg-type]
    assert exc.value.field == "mode"


def test_from_settings_uses_the_configured_mode_and_seed() -> None:
    settings = SimulatorSettings(seed=5, mode="switching", switch_every_days=3.0)
    sim = AudienceSimulator.from_settings(
        settings, brands=BRANDS, strategies=STRATEGIES, topics=TOPICS
    )
    assert sim.mode == "switching" and sim.regime(7.0) == 2
    assert sim.truth("fitlab", 1.0) == simulator("switching", seed=5).truth("fitlab", 1.0)


def test_strategy_effects_are_the_part_of_expected_engagement_that_moves() -> None:
    sim = simulator("drifting")
    assert sim.strategy_effects("healthy", 0.0) == simulator().strategy_effects("healthy", 0.0)
    assert sim.strategy_effects("healthy", 10.0) != sim.strategy_effects("healthy", 0.0)

    def rest(t: float) -> float:
        effect = sim.strategy_effects("healthy", t)["story"]
        return sim.expected("healthy", "story", "sleep", 9, 0.7, t) / math.exp(effect)

    assert rest(10.0) == pytest.approx(rest(0.0))
