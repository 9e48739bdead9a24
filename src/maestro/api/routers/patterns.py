"""``GET /api/patterns``: learned patterns with their decayed confidence and state.

Effective confidence is never stored; it is computed at read time from the
pattern's confidence and the days since it was last validated, so this endpoint
shows the same numbers the prompt builder acts on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from maestro.api.deps import CurrentWorkspace, EngineDep
from maestro.memory.patterns import Pattern, PatternStore
from maestro.memory.policy import PatternPolicy

__all__ = ["PatternOut", "PatternState", "PatternsOut", "pattern_state", "router"]

router = APIRouter(prefix="/api", tags=["patterns"])

PatternState = Literal["injected", "active", "archived"]


async def get_pattern_store(engine: EngineDep) -> PatternStore:
    """The store with the configured pattern policy (thresholds, decay)."""
    return PatternStore(engine.db, engine.clock, engine.settings.memory.patterns)


PatternStoreDep = Annotated[PatternStore, Depends(get_pattern_store)]


class PatternOut(BaseModel):
    """A learned pattern as of now."""

    id: int
    pattern_type: str
    brand: str = Field(description="A brand, or ``_global_``.")
    strategy: str
    description: str
    confidence: float = Field(description="Stored confidence, before decay.")
    effective_confidence: float = Field(
        description="confidence * exp(-days_since_validated / decay_days)."
    )
    state: PatternState = Field(
        description=(
            "``injected``: above the injection threshold, eligible for prompts; "
            "``archived``: archived, or decayed below the archive threshold; "
            "``active``: in between."
        )
    )
    archived: bool = Field(description="The stored flag (set by the feedback cycle).")
    evidence_count: int
    discovered_by: str
    discovered_at: datetime
    last_validated_at: datetime
    metadata: dict[str, Any]


class PatternsOut(BaseModel):
    """Patterns, best effective confidence first, with the thresholds that set their state."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    patterns: list[PatternOut]
    inject_threshold: float
    """Effective confidence strictly above which a pattern goes into prompts."""
    archive_threshold: float
    """Effective confidence strictly below which a pattern is archived."""
    decay_days: float
    """The e-folding time of the decay, in days."""


def pattern_state(pattern: Pattern, policy: PatternPolicy) -> PatternState:
    """Where the pattern stands in its lifecycle right now.

    A pattern that decayed below the archive threshold is reported archived even
    before the next feedback cycle sets the flag: it is already out of prompts.
    """
    eff = pattern.effective_confidence
    if pattern.archived or eff < policy.archive_threshold:
        return "archived"
    return "injected" if eff > policy.inject_threshold else "active"


def pattern_out(pattern: Pattern, policy: PatternPolicy) -> PatternOut:
    return PatternOut(
        id=pattern.id,
        pattern_type=pattern.pattern_type,
        brand=pattern.brand,
        strategy=pattern.strategy,
        description=pattern.description,
        confidence=pattern.confidence,
        effective_confidence=pattern.effective_confidence,
        state=pattern_state(pattern, policy),
        archived=pattern.archived,
        evidence_count=pattern.evidence_count,
        discovered_by=pattern.discovered_by,
        discovered_at=pattern.discovered_at,
        last_validated_at=pattern.last_validated_at,
        metadata=dict(pattern.metadata),
    )


@router.get("/patterns")
async def patterns(
    workspace: CurrentWorkspace,
    store: PatternStoreDep,
    brand: str | None = Query(
        None,
        min_length=1,
        max_length=50,
        description="Only this brand's patterns (and the ``_global_`` ones).",
    ),
    include_archived: bool = Query(False, description="Include archived patterns."),
) -> PatternsOut:
    """This workspace's learned patterns, best effective confidence first."""
    found = await store.list_patterns(workspace.id, brand=brand, include_archived=include_archived)
    policy = store.policy
    return PatternsOut(
        patterns=[pattern_out(p, policy) for p in found],
        inject_threshold=policy.inject_threshold,
        archive_threshold=policy.archive_threshold,
        decay_days=policy.decay_days,
    )
