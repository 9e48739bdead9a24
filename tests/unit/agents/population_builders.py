"""Builders for content agents used by the population tests (imported, not a conftest)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from maestro.agents.content import AgentDNA, ContentAgent
from maestro.agents.strategies import DEFAULT_STRATEGIES

STRATEGIES: tuple[str, ...] = tuple(s.name for s in DEFAULT_STRATEGIES)
NOW = datetime(2026, 1, 1, tzinfo=UTC)

AgentFactory = Callable[..., ContentAgent]


def make_agent(
    agent_id: str,
    top: Sequence[str],
    *,
    protected: str | None = None,
    strategies: Sequence[str] = STRATEGIES,
    top_weights: Sequence[float] = (0.3, 0.2),
    performance: float = 0.0,
    born_at: datetime = NOW,
    overrides: dict[str, float] | None = None,
) -> ContentAgent:
    """An agent ranking ``top`` first (0.3, 0.2 by default), the rest shared evenly."""
    fixed = dict(zip(top, top_weights, strict=False))
    rest = (1.0 - sum(fixed.values())) / (len(strategies) - len(fixed))
    weights = {s: fixed.get(s, rest) for s in strategies}
    weights.update(overrides or {})
    return ContentAgent(
        id=agent_id,
        name=f"agent {agent_id}",
        dna=AgentDNA(
            strategy_weights=weights,
            temperature=0.7,
            personality="plain",
            protected_strategy=protected or top[0],
        ),
        born_at=born_at,
        performance=performance,
    )
