"""Learned patterns: institutional knowledge every agent reads (seed 000 D.1-D.2).

Lifecycle: :meth:`PatternStore.feedback` (each feedback cycle) validates or
weakens the brand's active patterns from posts published since each pattern
last looked, discovers new ones, then archives those whose effective confidence
fell below the archive threshold. Effective confidence is never stored: it is
``confidence * exp(-days_since_validated / decay_days)`` computed at read time.
Archived patterns stay searchable but are never injected into prompts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, get_args

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from maestro.clock import Clock
from maestro.errors import NotFoundError, ValidationError
from maestro.llm.templates import RenderedPrompt, render
from maestro.memory._store import bounded, writing
from maestro.memory.lifecycle import (
    GLOBAL_BRAND,
    PatternType,
    Verdict,
    effective_confidence,
    find_discoveries,
    judge,
    validated_confidence,
    weakened_confidence,
)
from maestro.memory.policy import PatternPolicy
from maestro.memory.weighted import PostSample
from maestro.store.db import Database
from maestro.store.tables.memory import LearnedPatternRow

__all__ = ["KNOWLEDGE_TEMPLATE", "FeedbackReport", "Pattern", "PatternStore"]

KNOWLEDGE_TEMPLATE = "institutional-knowledge-v1"
_STRATEGY = "strategy_performance"


@dataclass(frozen=True, slots=True)
class Pattern:
    """A learned pattern with its effective confidence as of the read."""

    id: int
    workspace_id: str
    user_id: str | None
    pattern_type: str
    brand: str
    strategy: str
    description: str
    confidence: float
    evidence_count: int
    discovered_by: str
    discovered_at: datetime
    last_validated_at: datetime
    metadata: Mapping[str, Any]
    archived: bool
    effective_confidence: float


@dataclass(frozen=True, slots=True)
class FeedbackReport:
    """What one feedback cycle did to one brand's patterns."""

    validated: tuple[Pattern, ...] = ()
    weakened: tuple[Pattern, ...] = ()
    discovered: tuple[Pattern, ...] = ()
    archived: tuple[Pattern, ...] = ()


class PatternStore:
    """The ``learned_patterns`` table and its lifecycle."""

    def __init__(self, db: Database, clock: Clock, policy: PatternPolicy | None = None) -> None:
        self._db = db
        self._clock = clock
        self.policy = policy or PatternPolicy()

    async def add(
        self,
        workspace_id: str,
        *,
        pattern_type: PatternType,
        brand: str,
        strategy: str,
        description: str,
        discovered_by: str,
        confidence: float | None = None,
        evidence_count: int = 1,
        metadata: Mapping[str, Any] | None = None,
        user_id: str | None = None,
    ) -> Pattern:
        """Record a pattern found elsewhere (an analyzer, an operator)."""
        if pattern_type not in get_args(PatternType):
            raise ValidationError(
                f"unknown pattern_type {pattern_type!r}; accepted: "
                f"{', '.join(get_args(PatternType))}",
                field="pattern_type",
            )
        conf = self.policy.initial_confidence if confidence is None else confidence
        if not 0.0 <= conf <= 1.0:
            raise ValidationError(f"confidence must be in [0, 1], got {conf}", field="confidence")
        now = self._clock.now()
        row = LearnedPatternRow(
            workspace_id=workspace_id,
            user_id=user_id,
            pattern_type=pattern_type,
            brand=bounded("brand", brand, 50),
            strategy=bounded("strategy", strategy, 30),
            description=description,
            confidence=conf,
            evidence_count=evidence_count,
            discovered_by=bounded("discovered_by", discovered_by, 50),
            discovered_at=now,
            last_validated_at=now,
            meta=dict(metadata or {}),
            archived=False,
        )
        async with writing(self._db, workspace_id) as session:
            session.add(row)
        return self._pattern(row, now)

    async def get(self, workspace_id: str, pattern_id: int) -> Pattern:
        async with self._db.read() as session:
            row = await session.scalar(
                select(LearnedPatternRow).where(
                    LearnedPatternRow.workspace_id == workspace_id,
                    LearnedPatternRow.id == pattern_id,
                )
            )
        if row is None:
            raise NotFoundError(f"pattern {pattern_id!r} not found", field="pattern_id")
        return self._pattern(row, self._clock.now())

    async def feedback(
        self,
        workspace_id: str,
        brand: str,
        samples: Sequence[PostSample],
        *,
        user_id: str | None = None,
    ) -> FeedbackReport:
        """One feedback cycle for ``brand``: validate/weaken, discover, archive.

        ``samples`` are the brand's posts with engagement (all of them: each
        pattern only looks at posts newer than the ones it already judged).
        """
        now = self._clock.now()
        validated: list[Pattern] = []
        weakened: list[Pattern] = []
        discovered: list[Pattern] = []
        async with writing(self._db, workspace_id) as session:
            active = await self._active(session, workspace_id, brand)
            for row in active:
                verdict = self._judge(row, samples, now)
                if verdict == "validated":
                    validated.append(self._pattern(row, now))
                elif verdict == "weakened":
                    weakened.append(self._pattern(row, now))
            known = frozenset(r.strategy for r in active)
            for d in find_discoveries(samples, now, self.policy, known_strategies=known):
                row = LearnedPatternRow(
                    workspace_id=workspace_id,
                    user_id=user_id,
                    pattern_type=_STRATEGY,
                    brand=brand,
                    strategy=d.strategy,
                    description=(
                        f"'{d.strategy}' beats the {brand} average by {d.lift:.0%} "
                        f"over {d.sample_size} posts"
                    ),
                    confidence=self.policy.initial_confidence,
                    evidence_count=d.evidence_count,
                    discovered_by=d.agent_id,
                    discovered_at=now,
                    last_validated_at=d.last_evidence_at,
                    meta={
                        "lift": d.lift,
                        "avg_engagement": d.mean,
                        "brand_avg_engagement": d.brand_mean,
                        "sample_size": d.sample_size,
                        "judged_through": _latest(samples).isoformat(),
                    },
                    archived=False,
                )
                session.add(row)
                await session.flush()
                discovered.append(self._pattern(row, now))
            archived = await self._archive(session, workspace_id, now)
        return FeedbackReport(tuple(validated), tuple(weakened), tuple(discovered), tuple(archived))

    async def archive_stale(self, workspace_id: str) -> list[Pattern]:
        """Mark ``archived`` every active pattern whose effective confidence fell below the
        archive threshold; returns them."""
        async with self._db.write() as session:
            return await self._archive(session, workspace_id, self._clock.now())

    async def _archive(
        self, session: AsyncSession, workspace_id: str, now: datetime
    ) -> list[Pattern]:
        out: list[Pattern] = []
        rows = await session.scalars(
            select(LearnedPatternRow).where(
                LearnedPatternRow.workspace_id == workspace_id,
                LearnedPatternRow.archived.is_(False),
            )
        )
        for row in rows:
            if self._effective(row, now) < self.policy.archive_threshold:
                row.archived = True
                out.append(self._pattern(row, now))
        return out

    async def list_patterns(
        self, workspace_id: str, *, brand: str | None = None, include_archived: bool = False
    ) -> list[Pattern]:
        """Patterns (of ``brand`` and ``_global_`` if given), best effective confidence first."""
        return await self.search(
            workspace_id, brand=brand, include_archived=include_archived, limit=None
        )

    async def injectable(self, workspace_id: str, brand: str) -> list[Pattern]:
        """Patterns to inject into a prompt for ``brand``: active, above the injection threshold."""
        patterns = await self.list_patterns(workspace_id, brand=brand)
        chosen = [p for p in patterns if p.effective_confidence > self.policy.inject_threshold]
        return chosen[: self.policy.max_injected]

    async def knowledge_section(self, workspace_id: str, brand: str) -> RenderedPrompt | None:
        """The "institutional knowledge" prompt section for ``brand`` (None: nothing to say)."""
        patterns = await self.injectable(workspace_id, brand)
        return render(KNOWLEDGE_TEMPLATE, patterns=patterns) if patterns else None

    async def search(
        self,
        workspace_id: str,
        text: str | None = None,
        *,
        brand: str | None = None,
        strategy: str | None = None,
        pattern_type: PatternType | None = None,
        include_archived: bool = True,
        limit: int | None = 50,
    ) -> list[Pattern]:
        """Patterns whose description contains ``text`` (case-insensitive), archived included
        by default, highest effective confidence first."""
        stmt = select(LearnedPatternRow).where(LearnedPatternRow.workspace_id == workspace_id)
        if text:
            escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(
                func.lower(LearnedPatternRow.description).like(f"%{escaped}%", escape="\\")
            )
        if brand is not None:
            stmt = stmt.where(
                or_(LearnedPatternRow.brand == brand, LearnedPatternRow.brand == GLOBAL_BRAND)
            )
        if strategy is not None:
            stmt = stmt.where(LearnedPatternRow.strategy == strategy)
        if pattern_type is not None:
            stmt = stmt.where(LearnedPatternRow.pattern_type == pattern_type)
        if not include_archived:
            stmt = stmt.where(LearnedPatternRow.archived.is_(False))
        async with self._db.read() as session:
            rows = list(await session.scalars(stmt))
        now = self._clock.now()
        found = sorted(
            (self._pattern(r, now) for r in rows), key=lambda p: (-p.effective_confidence, p.id)
        )
        return found if limit is None else found[:limit]

    def _judge(
        self, row: LearnedPatternRow, samples: Sequence[PostSample], now: datetime
    ) -> Verdict:
        through = row.meta.get("judged_through")
        since = datetime.fromisoformat(through) if through else row.last_validated_at
        fresh = [s for s in samples if s.published_at > since]
        j = judge(row.strategy, fresh, now, self.policy)
        if j.verdict == "inconclusive":
            return j.verdict
        meta = {**row.meta, "judged_through": _latest(fresh).isoformat(), "last_lift": j.lift}
        if j.verdict == "validated":
            row.confidence = validated_confidence(row.confidence, self.policy)
            row.last_validated_at = min(j.last_evidence_at or now, now)
            row.evidence_count += j.sample_size
            meta["validations"] = int(meta.get("validations", 0)) + 1
        else:
            row.confidence = weakened_confidence(row.confidence, self.policy)
            meta["weakenings"] = int(meta.get("weakenings", 0)) + 1
        row.meta = meta
        return j.verdict

    async def _active(
        self, session: AsyncSession, workspace_id: str, brand: str
    ) -> list[LearnedPatternRow]:
        rows = await session.scalars(
            select(LearnedPatternRow)
            .where(
                LearnedPatternRow.workspace_id == workspace_id,
                LearnedPatternRow.brand == brand,
                LearnedPatternRow.pattern_type == _STRATEGY,
                LearnedPatternRow.archived.is_(False),
            )
            .order_by(LearnedPatternRow.id)
        )
        return list(rows)

    def _effective(self, row: LearnedPatternRow, now: datetime) -> float:
        return effective_confidence(
            row.confidence, row.last_validated_at, now, self.policy.decay_days
        )

    def _pattern(self, row: LearnedPatternRow, now: datetime) -> Pattern:
        return Pattern(
            id=row.id,
            workspace_id=row.workspace_id,
            user_id=row.user_id,
            pattern_type=row.pattern_type,
            brand=row.brand,
            strategy=row.strategy,
            description=row.description,
            confidence=row.confidence,
            evidence_count=row.evidence_count,
            discovered_by=row.discovered_by,
            discovered_at=row.discovered_at,
            last_validated_at=row.last_validated_at,
            metadata=dict(row.meta),
            archived=row.archived,
            effective_confidence=self._effective(row, now),
        )


def _latest(samples: Sequence[PostSample]) -> datetime:
    return max(s.published_at for s in samples)
