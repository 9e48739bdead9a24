"""Accounting: every gateway call, recorded and aggregated.

One row per call (including refused ones, so budgets and limits are visible),
plus Prometheus counters by model, agent and priority for dashboards.

Rows are written in batches: a call appends to a buffer, and the buffer is
flushed in one transaction when it holds ``batch_size`` rows, ``flush_after_s``
seconds after its first row, before every read, and when the engine closes. A
commit per call was the largest share of database time in the demo; the price is
that a crash loses at most the unflushed rows (never a budget reservation:
budgets live in the coordinator, not here).

A full batch is flushed by a background task, so the call that happens to fill
it does not pay for writing everyone's rows (that was the p99 of ``/recommend``).
Only when ``MAX_BUFFERED_BATCHES * batch_size`` rows are waiting (the database
cannot keep up) does a call wait for the flush, which bounds the buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from prometheus_client import Counter, Histogram
from sqlalchemy import Select, func, insert, select

from maestro.clock import Clock
from maestro.llm.types import CacheLevel, Priority
from maestro.logs import correlation_id
from maestro.store.base import new_id
from maestro.store.db import Database
from maestro.store.tables.gateway import LlmCallRow

__all__ = ["CallRecord", "CostRow", "Ledger", "Outcome"]

Outcome = Literal["ok", "error", "timeout", "deferred", "skipped", "rate_limited", "over_budget"]

LLM_CALLS = Counter(
    "maestro_llm_calls_total", "Gateway calls", ["model", "agent", "priority", "outcome", "cache"]
)
LLM_TOKENS = Counter("maestro_llm_tokens_total", "Tokens used", ["model", "direction"])
LLM_COST = Counter("maestro_llm_cost_usd_total", "Spend in USD", ["model", "agent"])
LLM_LATENCY = Histogram(
    "maestro_llm_latency_seconds",
    "Gateway call latency",
    ["model", "cache"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


@dataclass(frozen=True)
class CallRecord:
    workspace: str
    agent: str
    purpose: str
    priority: Priority
    model: str
    outcome: Outcome
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_ms: float = 0.0
    cache_level: CacheLevel | None = None
    template_version: str | None = None


@dataclass(frozen=True)
class CostRow:
    key: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    cache_hits: int


GroupBy = Literal["agent", "model", "day", "purpose", "priority"]
MAX_BUFFERED_BATCHES = 8
"""Full batches the buffer may hold before a call waits for the flush (backpressure)."""


class Ledger:
    """Writes call records (in batches) and answers cost questions, per workspace."""

    def __init__(
        self, db: Database, clock: Clock, *, batch_size: int = 64, flush_after_s: float = 1.0
    ) -> None:
        self._db = db
        self._clock = clock
        self._batch_size = batch_size
        self._flush_after_s = flush_after_s
        self._pending: list[dict[str, object]] = []
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._background: set[asyncio.Task[None]] = set()

    async def record(self, rec: CallRecord) -> None:
        cache = rec.cache_level or "miss"
        LLM_CALLS.labels(rec.model, rec.agent, f"P{int(rec.priority)}", rec.outcome, cache).inc()
        if rec.outcome == "ok":
            LLM_TOKENS.labels(rec.model, "in").inc(rec.prompt_tokens)
            LLM_TOKENS.labels(rec.model, "out").inc(rec.completion_tokens)
            LLM_COST.labels(rec.model, rec.agent).inc(rec.cost_usd)
            LLM_LATENCY.labels(rec.model, cache).observe(rec.latency_ms / 1000.0)
        self._pending.append(
            {
                "id": new_id(),
                "workspace_id": rec.workspace,
                "agent": rec.agent,
                "purpose": rec.purpose,
                "priority": int(rec.priority),
                "model": rec.model,
                "prompt_tokens": rec.prompt_tokens,
                "completion_tokens": rec.completion_tokens,
                "cost_usd": rec.cost_usd,
                "latency_ms": rec.latency_ms,
                "cache_level": rec.cache_level,
                "outcome": rec.outcome,
                "template_version": rec.template_version,
                "correlation_id": correlation_id.get(),
                "created_at": self._clock.now(),
            }
        )
        waiting = len(self._pending)
        if waiting >= MAX_BUFFERED_BATCHES * self._batch_size:
            await self.flush()
        elif waiting >= self._batch_size and not self._background:
            if self._timer is not None:
                self._timer.cancel()
            self._flush_soon()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(
                self._flush_after_s, self._flush_soon
            )

    def _flush_soon(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self.flush())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def flush(self) -> None:
        """Write every buffered row now."""
        async with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            rows, self._pending = self._pending, []
            if rows:
                async with self._db.write() as s:
                    await s.execute(insert(LlmCallRow), rows)

    async def close(self) -> None:
        """Flush, and wait for any flush already under way."""
        for task in list(self._background):
            with contextlib.suppress(Exception):
                await task
        await self.flush()

    async def costs(
        self,
        workspace: str,
        *,
        group_by: GroupBy = "agent",
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[CostRow]:
        """Calls, tokens, spend and cache hits of ``workspace`` grouped by ``group_by``."""
        col = {
            "agent": LlmCallRow.agent,
            "model": LlmCallRow.model,
            "purpose": LlmCallRow.purpose,
            "priority": LlmCallRow.priority,
            "day": func.date(LlmCallRow.created_at),
        }[group_by]
        stmt: Select[Any, int, int, int, float, int] = (
            select(
                col.label("key"),
                func.count(),
                func.coalesce(func.sum(LlmCallRow.prompt_tokens), 0),
                func.coalesce(func.sum(LlmCallRow.completion_tokens), 0),
                func.coalesce(func.sum(LlmCallRow.cost_usd), 0.0),
                func.count(LlmCallRow.cache_level),
            )
            .where(LlmCallRow.workspace_id == workspace)
            .group_by(col)
            .order_by(col)
        )
        if since is not None:
            stmt = stmt.where(LlmCallRow.created_at >= since)
        if until is not None:
            stmt = stmt.where(LlmCallRow.created_at < until)
        await self.flush()
        async with self._db.read() as s:
            rows = (await s.execute(stmt)).all()
        return [
            CostRow(
                key=str(r[0]),
                calls=int(r[1]),
                prompt_tokens=int(r[2]),
                completion_tokens=int(r[3]),
                cost_usd=float(r[4]),
                cache_hits=int(r[5]),
            )
            for r in rows
        ]

    async def outcomes_by_priority(self, workspace: str) -> dict[str, dict[str, int]]:
        """``{"P1": {"ok": 12, "deferred": 0, ...}, ...}`` for the whole history."""
        stmt = (
            select(LlmCallRow.priority, LlmCallRow.outcome, func.count())
            .where(LlmCallRow.workspace_id == workspace)
            .group_by(LlmCallRow.priority, LlmCallRow.outcome)
        )
        await self.flush()
        async with self._db.read() as s:
            rows = (await s.execute(stmt)).all()
        out: dict[str, dict[str, int]] = {}
        for prio, outcome, n in rows:
            out.setdefault(f"P{prio}", {})[str(outcome)] = int(n)
        return out
