from __future__ import annotations

from dataclasses import replace

import pytest
from population_builders import NOW, make_agent

from maestro.agents.content import AgentDNA, ContentAgent, normalize_weights, ranked
from maestro.errors import ValidationError


def test_weights_are_normalised_to_sum_one() -> None:
    dna = AgentDNA(
        strategy_weights={"story": 3.0, "how-to": 1.0},
        temperature=0.5,
        personality="x",
        protected_strategy="how-to",
    )
    assert dna.strategy_weights == {"how-to": 0.25, "story": 0.75}
    assert dna.primary == "story"
    assert dna.top(2) == ("story", "how-to")


def test_ties_rank_by_name_so_top2_is_stable() -> None:
    assert ranked({"story": 0.4, "how-to": 0.4, "question": 0.2}) == ("how-to", "story", "question")


@pytest.mark.parametrize(
    ("weights", "temperature", "protected", "field"),
    [
        ((("story", -0.1), ("how-to", 1.0)), 0.7, "story", "strategy_weights"),
        ((("story", 1.0),), 0.7, "story", "strategy_weights"),
        ((("story", 0.0), ("how-to", 0.0)), 0.7, "story", "strategy_weights"),
        ((("story", float("nan")), ("how-to", 1.0)), 0.7, "story", "strategy_weights"),
        ((("story", 0.5), ("how-to", 0.5)), 2.5, "story", "temperature"),
        ((("story", 0.5), ("how-to", 0.5)), 0.7, "question", "protected_strategy"),
    ],
)
def test_invalid_dna_is_rejected_naming_the_field(
    weights: tuple[tuple[str, float], ...], temperature: float, protected: str, field: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        AgentDNA(
            strategy_weights=dict(weights),
            temperature=temperature,
            personality="x",
            protected_strategy=protected,
        )
    assert exc.value.field == field


def test_survival_score_is_performance_points_plus_exploration_bonus() -> None:
    agent = make_agent("a", ["story", "how-to"], performance=0.42)
    assert agent.survival_score == pytest.approx(42.0)
    assert replace(agent, exploration_bonus=10.0).survival_score == pytest.approx(52.0)


def test_performance_outside_unit_interval_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        make_agent("a", ["story", "how-to"], performance=1.5)
    assert exc.value.field == "performance"


def test_dna_round_trips_through_json() -> None:
    agent = make_agent("a", ["story", "how-to"])
    assert AgentDNA.from_json(agent.dna.to_json()) == agent.dna


def test_with_weights_returns_a_new_agent_and_keeps_the_old_one() -> None:
    agent = make_agent("a", ["story", "how-to"])
    changed = agent.with_weights({**agent.weights, "question": 5.0})
    assert changed.primary == "question"
    assert agent.primary == "story"
    assert isinstance(changed, ContentAgent)
    assert changed.born_at == NOW


def test_normalize_rejects_bad_strategy_names() -> None:
    with pytest.raises(ValidationError):
        normalize_weights({"Bad Name": 1.0, "story": 1.0})
