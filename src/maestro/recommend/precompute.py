"""The precompute job: refresh expired and outdated agent outputs, in batches, once per tick.

A tick (every 15 minutes by default, aligned to the clock) splits the users into
id ranges of ``batch_size`` and, for each range, reads the users, their stored
outputs and their state with one query per table, runs the agents whose output
is stale, and writes the results with one bulk upsert.

"Stale" means: no output yet, an output of another ``agent_version``, or one
that expires within ``refresh_ahead_s`` of the tick. Nothing else is recomputed.

Work is done once per tick across every process sharing the coordinator: the
tick is claimed (``SET NX``) by one process, and each batch is claimed again
before it runs, so an arq retry or a second replica never computes it twice. A
batch that fails releases its claim so a retry can take it.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from maestro.clock import Clock
from maestro.coord import Coordinator
from maestro.recommend.agents import REGISTRY, SnippetAgent, check_registry
from maestro.recommend.outputs import OUTPUTS, existing_in, write_outputs
from maestro.recommend.settings import RecommendSettings
from maestro.recommend.state import UserState, output_id
from maestro.recommend.store import IdRange, in_range, load_states
from maestro.store.db import Database
from maestro.store.tables.recommend import RecUserRow

__all__ = ["Batch", "BatchReport", "Precompute", "TickReport", "is_stale"]


@dataclass(frozen=True)
class Batch:
    """Users whose id is in ``[lo, hi)`` (``hi`` None: to the end)."""

    index: int
    lo: str
    hi: str | None

    @property
    def ids(self) -> IdRange:
        return (self.lo, self.hi)


@dataclass(frozen=True)
class BatchReport:
    batch: int
    users: int = 0
    computed: int = 0
    """Agent runs (= outputs written) in this batch."""
    by_agent: dict[str, int] = field(default_factory=dict)
    skipped: bool = False
    """True when another process had claimed the batch."""
    worker: str = ""
    """``host:pid`` of the process that ran it."""


@dataclass(frozen=True)
class TickReport:
    tick: datetime
    claimed: bool
    """False when another process had already claimed this tick."""
    batches: int = 0
    users: int = 0
    computed: int = 0
    by_agent: dict[str, int] = field(default_factory=dict)


def is_stale(
    stored: tuple[datetime, str] | None, agent: SnippetAgent, stale_before: datetime
) -> bool:
    """Whether an output (``(expires_at, agent_version)`` or None) must be recomputed."""
    if stored is None:
        return True
    expires_at, version = stored
    return version != agent.version or expires_at <= stale_before


def _worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"


class Precompute:
    """Refreshes ``agent_outputs`` for every user of every workspace."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        coord: Coordinator,
        *,
        settings: RecommendSettings | None = None,
        agents: Sequence[SnippetAgent] = REGISTRY,
    ) -> None:
        self._db = db
        self._clock = clock
        self._coord = coord
        self.settings = settings or RecommendSettings()
        self.agents = check_registry(agents)

    @property
    def every(self) -> timedelta:
        return timedelta(seconds=self.settings.precompute_every_s)

    def ttl(self, agent: SnippetAgent) -> timedelta:
        override = self.settings.agent_ttl_s.get(agent.id)
        return agent.ttl if override is None else timedelta(seconds=override)

    def tick_of(self, now: datetime) -> datetime:
        """The start of the tick ``now`` falls in (ticks align to the epoch)."""
        step = int(self.settings.precompute_every_s)
        return datetime.fromtimestamp(int(now.timestamp()) // step * step, tz=UTC)

    def _key(self, as_of: datetime, *parts: str) -> str:
        return self._coord.key("precompute", str(int(as_of.timestamp())), *parts)

    async def claim_tick(self, as_of: datetime) -> bool:
        """True for exactly one caller per tick among all processes sharing the coordinator."""
        ttl = 4 * self.settings.precompute_every_s
        return await self._coord.set(self._key(as_of, "tick"), _worker_name(), ttl=ttl, nx=True)

    async def plan(self) -> list[Batch]:
        """Id ranges of ``batch_size`` users each, from one query."""
        rn = func.row_number().over(order_by=RecUserRow.id).label("rn")
        inner = select(RecUserRow.id.label("id"), rn).subquery()
        q = (
            select(inner.c.id)
            .where((inner.c.rn - 1) % self.settings.batch_size == 0)
            .order_by(inner.c.id)
        )
        async with self._db.read() as s:
            starts = list((await s.execute(q)).scalars())
        return [
            Batch(i, lo, starts[i + 1] if i + 1 < len(starts) else None)
            for i, lo in enumerate(starts)
        ]

    async def run_tick(self, as_of: datetime | None = None) -> TickReport:
        """Claim the tick and run every batch here (the in-process scheduler's path)."""
        as_of = as_of or self._clock.now()
        if not await self.claim_tick(as_of):
            return TickReport(tick=as_of, claimed=False)
        reports = [await self.run_batch(b, as_of) for b in await self.plan()]
        return summarise(as_of, reports)

    async def run_batch(self, batch: Batch, as_of: datetime, *, claim: bool = True) -> BatchReport:
        """Refresh the stale outputs of one batch; skipped if another process claimed it."""
        key = self._key(as_of, "batch", str(batch.index))
        ttl = 4 * self.settings.precompute_every_s
        if claim and not await self._coord.set(key, _worker_name(), ttl=ttl, nx=True):
            return BatchReport(batch=batch.index, skipped=True, worker=_worker_name())
        try:
            return await self._refresh(batch, as_of)
        except BaseException:
            if claim:
                await self._coord.delete(key)
            raise

    async def _refresh(self, batch: Batch, as_of: datetime) -> BatchReport:
        stale_before = as_of + timedelta(seconds=self.settings.refresh_ahead_s)
        since = as_of - timedelta(days=self.settings.event_window_days)
        async with self._db.read() as s:
            uq = select(
                RecUserRow.id,
                RecUserRow.workspace_id,
                RecUserRow.key,
                RecUserRow.timezone,
                RecUserRow.focus_areas,
            ).where(in_range(RecUserRow.id, batch.ids))
            users = [dict(r._mapping) for r in (await s.execute(uq)).all()]
            stored = await existing_in(s, in_range(OUTPUTS.c.user_id, batch.ids))
            todo = {
                u["id"]: [
                    a for a in self.agents if is_stale(stored.get((u["id"], a.id)), a, stale_before)
                ]
                for u in users
            }
            needed = [u for u in users if todo[u["id"]]]
            states = await load_states(s, needed, since=since, ids=batch.ids) if needed else []
        rows = await asyncio.to_thread(self._compute, states, todo, as_of)
        if rows:
            async with self._db.write() as s:
                await write_outputs(s, rows, stale_before=stale_before)
        return BatchReport(
            batch=batch.index,
            users=len(users),
            computed=len(rows),
            by_agent=dict(Counter(r["agent_id"] for r in rows)),
            worker=_worker_name(),
        )

    def _compute(
        self, states: list[UserState], todo: dict[str, list[SnippetAgent]], as_of: datetime
    ) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for state in states:
            for agent in todo[state.id]:
                snippet = agent.run(state, as_of)
                rows.append(
                    {
                        "id": output_id(state.id, agent.id),
                        "workspace_id": state.workspace_id,
                        "user_id": state.id,
                        "agent_id": agent.id,
                        "prompt_text": snippet.text,
                        "signals_snapshot": snippet.signals,
                        "computed_at": as_of,
                        "expires_at": as_of + self.ttl(agent),
                        "agent_version": agent.version,
                    }
                )
        return rows


def summarise(as_of: datetime, reports: Sequence[BatchReport]) -> TickReport:
    by_agent: Counter[str] = Counter()
    for r in reports:
        by_agent.update(r.by_agent)
    return TickReport(
        tick=as_of,
        claimed=True,
        batches=len(reports),
        users=sum(r.users for r in reports),
        computed=sum(r.computed for r in reports),
        by_agent=dict(by_agent),
    )
