"""Task memory: what was asked, which agents did it, how it went (seed 003).

Results are kept ``task_retention_days`` (30): reads never return older rows
and :meth:`TaskMemory.purge` deletes them. Similar goals are found with an
exact cosine search over goal embeddings held in a per-workspace in-process
:class:`~maestro.memory.index.VectorIndex`: loaded from the database on first
use, appended on write, and topped up from the database before every query so
rows written by other replicas are seen (each top-up reads only rows created
since the previous one, minus ``index_sync_overlap_seconds`` for commits that
land out of timestamp order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

import numpy as np
from sqlalchemy import ColumnElement, CursorResult, delete, select
from sqlalchemy.orm import defer

from maestro.clock import Clock, utc_from_timestamp
from maestro.embeddings import Embedder
from maestro.errors import ValidationError
from maestro.memory._store import writing
from maestro.memory.index import VectorIndex
from maestro.memory.policy import MemorySettings
from maestro.store.db import Database
from maestro.store.tables.memory import TaskHistoryRow

__all__ = [
    "DEFAULT_TASK_TYPE",
    "AgentPerformance",
    "NewTask",
    "SimilarTask",
    "TaskMemory",
    "TaskRecord",
]

DEFAULT_TASK_TYPE = "general"
_THREAD_THRESHOLD = 1_000_000  # rows x dim above which a search leaves the event loop
_MAX_IN_IDS = 1_000


@dataclass(frozen=True, slots=True)
class NewTask:
    """A finished task to remember."""

    goal: str
    agent_sequence: Sequence[str]
    success: bool
    quality: float | None = None
    duration_s: float | None = None
    error: str | None = None
    task_type: str = DEFAULT_TASK_TYPE
    user_id: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A remembered task."""

    id: str
    workspace_id: str
    goal: str
    task_type: str
    agent_sequence: tuple[str, ...]
    success: bool
    quality: float | None
    duration_s: float | None
    error: str | None
    user_id: str | None
    created_at: datetime
    metadata: Mapping[str, Any]


class SimilarTask(NamedTuple):
    """A remembered task and the cosine similarity of its goal to the query."""

    task: TaskRecord
    score: float


@dataclass(frozen=True, slots=True)
class AgentPerformance:
    """How one agent has done on one task type, from the retained task history."""

    agent: str
    task_type: str
    tasks: int
    successes: int
    success_rate: float
    mean_quality: float | None


class TaskMemory:
    """Stores task results and answers "have we done something like this before?"."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        embedder: Embedder,
        settings: MemorySettings | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._embedder = embedder
        self._settings = settings or MemorySettings()
        self._embedder_key = f"{embedder.name}-{embedder.dim}"
        self._indexes: dict[str, VectorIndex] = {}
        self._synced_at: dict[str, float] = {}  # clock time each index last read the database
        self._locks: dict[str, asyncio.Lock] = {}

    async def record(
        self,
        workspace_id: str,
        *,
        goal: str,
        agent_sequence: Sequence[str],
        success: bool,
        quality: float | None = None,
        duration_s: float | None = None,
        error: str | None = None,
        task_type: str = DEFAULT_TASK_TYPE,
        user_id: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> TaskRecord:
        """Remember one finished task."""
        task = NewTask(
            goal=goal,
            agent_sequence=agent_sequence,
            success=success,
            quality=quality,
            duration_s=duration_s,
            error=error,
            task_type=task_type,
            user_id=user_id,
            metadata=dict(metadata or {}),
        )
        return (await self.record_many(workspace_id, [task]))[0]

    async def record_many(self, workspace_id: str, tasks: Sequence[NewTask]) -> list[TaskRecord]:
        """Remember several tasks in one transaction (imports, backfills)."""
        for task in tasks:
            _check(task)
        if not tasks:
            return []
        vectors = await self._embedder.embed([t.goal for t in tasks])
        now = self._clock.now()
        rows = [
            TaskHistoryRow(
                workspace_id=workspace_id,
                user_id=t.user_id,
                task_type=t.task_type,
                goal=t.goal,
                goal_embedding=np.asarray(v, dtype="<f4").tobytes(),
                embedder=self._embedder_key,
                agent_sequence=list(t.agent_sequence),
                success=t.success,
                quality=t.quality,
                duration_s=t.duration_s,
                error=t.error,
                meta=dict(t.metadata),
                created_at=now,
            )
            for t, v in zip(tasks, vectors, strict=True)
        ]
        async with writing(self._db, workspace_id) as session:
            session.add_all(rows)
        index = self._indexes.get(workspace_id)
        if index is not None:
            async with self._lock(workspace_id):
                index.add(
                    [r.id for r in rows],
                    vectors.astype(np.float32, copy=False),
                    [now.timestamp()] * len(rows),
                    [r.success for r in rows],
                    [r.task_type for r in rows],
                )
        return [_record(r) for r in rows]

    async def similar(
        self,
        workspace_id: str,
        goal: str,
        k: int = 5,
        *,
        success_only: bool = False,
        task_type: str | None = None,
        min_score: float = 0.0,
    ) -> list[SimilarTask]:
        """The ``k`` retained tasks of this workspace whose goals are most like ``goal``."""
        if k < 1:
            raise ValidationError(f"k must be at least 1, got {k}", field="k")
        if not goal.strip():
            raise ValidationError("goal must not be empty", field="goal")
        query = (await self._embedder.embed([goal]))[0]
        cutoff = self._cutoff()
        index = await self._synced_index(workspace_id, cutoff)
        async with self._lock(workspace_id):
            kwargs: dict[str, Any] = {
                "not_before": cutoff.timestamp(),
                "success_only": success_only,
                "task_type": task_type,
                "min_score": min_score,
            }
            if len(index) * index.dim > _THREAD_THRESHOLD:
                hits = await asyncio.to_thread(index.search, query, k, **kwargs)
            else:
                hits = index.search(query, k, **kwargs)
        if not hits:
            return []
        async with self._db.read() as session:
            rows = await session.scalars(
                # By primary key alone: given a workspace_id (or created_at) bound too,
                # SQLite's planner picks the (workspace_id, created_at) index and scans the
                # whole workspace. The vector index already applied the retention cutoff.
                select(TaskHistoryRow)
                .options(defer(TaskHistoryRow.goal_embedding))
                .where(TaskHistoryRow.id.in_([h[0] for h in hits]))
            )
            by_id = {r.id: r for r in rows if r.workspace_id == workspace_id}
        return [SimilarTask(_record(by_id[i]), s) for i, s in hits if i in by_id]

    async def recent(
        self, workspace_id: str, limit: int = 50, *, task_type: str | None = None
    ) -> list[TaskRecord]:
        """The newest retained tasks of this workspace, newest first."""
        stmt = select(TaskHistoryRow).where(
            TaskHistoryRow.workspace_id == workspace_id,
            TaskHistoryRow.created_at >= self._cutoff(),
        )
        if task_type is not None:
            stmt = stmt.where(TaskHistoryRow.task_type == task_type)
        stmt = stmt.order_by(TaskHistoryRow.created_at.desc(), TaskHistoryRow.id).limit(limit)
        async with self._db.read() as session:
            return [_record(r) for r in await session.scalars(stmt)]

    async def agent_performance(
        self, workspace_id: str, *, task_type: str | None = None
    ) -> list[AgentPerformance]:
        """Success rate and mean quality per (agent, task type) over retained tasks.

        A task credits every agent in its sequence once.
        """
        stmt = select(
            TaskHistoryRow.agent_sequence,
            TaskHistoryRow.task_type,
            TaskHistoryRow.success,
            TaskHistoryRow.quality,
        ).where(
            TaskHistoryRow.workspace_id == workspace_id,
            TaskHistoryRow.created_at >= self._cutoff(),
        )
        if task_type is not None:
            stmt = stmt.where(TaskHistoryRow.task_type == task_type)
        async with self._db.read() as session:
            result = (await session.execute(stmt)).all()
        acc: dict[tuple[str, str], list[float]] = {}  # tasks, successes, quality sum, n quality
        for agents, ttype, success, quality in result:
            for agent in dict.fromkeys(agents):
                a = acc.setdefault((agent, ttype), [0, 0, 0.0, 0])
                a[0] += 1
                a[1] += 1 if success else 0
                if quality is not None:
                    a[2] += quality
                    a[3] += 1
        return [
            AgentPerformance(
                agent=agent,
                task_type=ttype,
                tasks=int(n),
                successes=int(ok),
                success_rate=ok / n,
                mean_quality=(qsum / qn) if qn else None,
            )
            for (agent, ttype), (n, ok, qsum, qn) in sorted(acc.items())
        ]

    async def best_agent(
        self, workspace_id: str, task_type: str, *, min_tasks: int = 1
    ) -> str | None:
        """The agent with the best success rate (then quality) on ``task_type``, if any."""
        perf = [
            p
            for p in await self.agent_performance(workspace_id, task_type=task_type)
            if p.tasks >= min_tasks
        ]
        if not perf:
            return None
        best = max(perf, key=lambda p: (p.success_rate, p.mean_quality or 0.0, p.tasks))
        return best.agent

    async def purge(self, workspace_id: str | None, *, older_than: datetime | None = None) -> int:
        """Delete tasks created before ``older_than`` (default: the retention cutoff).

        ``workspace_id=None`` purges every workspace (the scheduled job).
        """
        cutoff = older_than or self._cutoff()
        stmt = delete(TaskHistoryRow).where(TaskHistoryRow.created_at < cutoff)
        if workspace_id is not None:
            stmt = stmt.where(TaskHistoryRow.workspace_id == workspace_id)
        async with self._db.write() as session:
            result = await session.execute(stmt)
            deleted = cast("CursorResult[Any]", result).rowcount
        for ws, index in list(self._indexes.items()):
            if workspace_id is None or ws == workspace_id:
                async with self._lock(ws):
                    index.drop_before(cutoff.timestamp())
        return int(deleted or 0)

    def _cutoff(self) -> datetime:
        return self._clock.now() - timedelta(days=self._settings.task_retention_days)

    def _lock(self, workspace_id: str) -> asyncio.Lock:
        return self._locks.setdefault(workspace_id, asyncio.Lock())

    async def _synced_index(self, workspace_id: str, cutoff: datetime) -> VectorIndex:
        async with self._lock(workspace_id):
            started = self._clock.time()
            index = self._indexes.get(workspace_id)
            if index is None:
                index = VectorIndex(self._embedder.dim)
                await self._load(workspace_id, index, since=cutoff)
                self._indexes[workspace_id] = index
            else:
                overlap = self._settings.index_sync_overlap_seconds
                since = max(self._synced_at[workspace_id] - overlap, cutoff.timestamp())
                await self._load(workspace_id, index, since=utc_from_timestamp(since))
                index.drop_before(cutoff.timestamp())
            self._synced_at[workspace_id] = started
            return index

    async def _load(self, workspace_id: str, index: VectorIndex, *, since: datetime) -> None:
        where: tuple[ColumnElement[bool], ...] = (
            TaskHistoryRow.workspace_id == workspace_id,
            TaskHistoryRow.created_at >= since,
            TaskHistoryRow.embedder == self._embedder_key,
        )
        async with self._db.read() as session:
            if len(index):
                ids = [i for i in await session.scalars(select(TaskHistoryRow.id).where(*where))]
                fresh = [i for i in ids if i not in index]
                if not fresh:
                    return
                if len(fresh) <= _MAX_IN_IDS:  # else re-read the window; add() skips known ids
                    where = (*where, TaskHistoryRow.id.in_(fresh))
            result = (
                await session.execute(
                    select(
                        TaskHistoryRow.id,
                        TaskHistoryRow.goal_embedding,
                        TaskHistoryRow.created_at,
                        TaskHistoryRow.success,
                        TaskHistoryRow.task_type,
                    )
                    .where(*where)
                    .order_by(TaskHistoryRow.created_at)
                )
            ).all()
        if not result:
            return
        vectors = np.frombuffer(b"".join(r[1] for r in result), dtype="<f4").reshape(
            len(result), self._embedder.dim
        )
        index.add(
            [r[0] for r in result],
            vectors.astype(np.float32, copy=False),
            [r[2].timestamp() for r in result],
            [bool(r[3]) for r in result],
            [r[4] for r in result],
        )


def _check(task: NewTask) -> None:
    if not task.goal.strip():
        raise ValidationError("goal must not be empty", field="goal")
    if any(not a for a in task.agent_sequence):
        raise ValidationError(
            f"agent_sequence has an empty agent name: {list(task.agent_sequence)!r}",
            field="agent_sequence",
        )
    if task.quality is not None and not 0.0 <= task.quality <= 1.0:
        raise ValidationError(f"quality must be in [0, 1], got {task.quality}", field="quality")
    if task.duration_s is not None and task.duration_s < 0:
        raise ValidationError(
            f"duration_s must not be negative, got {task.duration_s}", field="duration_s"
        )
    if not task.task_type or len(task.task_type) > 50:
        raise ValidationError(
            f"task_type must be 1-50 characters, got {task.task_type!r}", field="task_type"
        )


def _record(row: TaskHistoryRow) -> TaskRecord:
    return TaskRecord(
        id=row.id,
        workspace_id=row.workspace_id,
        goal=row.goal,
        task_type=row.task_type,
        agent_sequence=tuple(row.agent_sequence),
        success=row.success,
        quality=row.quality,
        duration_s=row.duration_s,
        error=row.error,
        user_id=row.user_id,
        created_at=row.created_at,
        metadata=dict(row.meta),
    )
