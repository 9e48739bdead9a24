"""Post metrics (decay-weighted) and critiques on SQLite and PostgreSQL."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from maestro.clock import ManualClock
from maestro.errors import NotFoundError, ValidationError
from maestro.memory import MemoryManager
from maestro.store.db import Database

DAY = 86_400.0


@pytest.fixture
def memory(db: Database, clock: ManualClock) -> MemoryManager:
    return MemoryManager(db, clock)


async def test_weighted_strategy_and_agent_performance_by_hand(
    memory: MemoryManager, clock: ManualClock, workspace_id: str
) -> None:
    now = clock.now()
    p = memory.posts
    await p.record_post(
        workspace_id,
        brand="b",
        agent_id="ada",
        strategy="curiosity",
        published_at=now - timedelta(days=30),
        engagement=40,
    )
    await p.record_post(
        workspace_id,
        brand="b",
        agent_id="ada",
        strategy="curiosity",
        published_at=now,
        engagement=100,
    )
    await p.record_post(
        workspace_id,
        brand="b",
        agent_id="bob",
        strategy="stat",
        published_at=now - timedelta(days=60),
        engagement=90,
    )
    pending = await p.record_post(workspace_id, brand="b", agent_id="bob", strategy="stat")
    assert pending.engagement is None  # no metrics yet: not evidence

    e1 = math.exp(-1)
    by_strategy = await p.strategy_performance(workspace_id, "b")
    assert by_strategy["curiosity"].mean == pytest.approx((100 + 40 * e1) / (1 + e1))
    assert by_strategy["stat"].mean == pytest.approx(90)
    assert by_strategy["stat"].count == 1

    clock.advance(3 * 3600)
    updated = await p.record_metrics(workspace_id, pending.id, engagement=10, metrics={"likes": 7})
    assert updated.metrics == {"likes": 7} and updated.metrics_updated_at == clock.now()
    by_agent = await p.agent_performance(workspace_id, "b")
    now2 = clock.now()
    w60 = math.exp(-(now2 - (now - timedelta(days=60))).total_seconds() / DAY / 30)
    w0 = math.exp(-(3 / 24) / 30)
    assert by_agent["bob"].mean == pytest.approx((90 * w60 + 10 * w0) / (w60 + w0))
    assert await p.brands(workspace_id) == ["b"]


async def test_post_errors_name_the_field(
    memory: MemoryManager, workspace_id: str, other_workspace_id: str
) -> None:
    with pytest.raises(ValidationError) as err:
        await memory.posts.record_post(workspace_id, brand="", agent_id="a", strategy="s")
    assert err.value.field == "brand"
    post = await memory.posts.record_post(workspace_id, brand="b", agent_id="a", strategy="s")
    with pytest.raises(ValidationError) as err:
        await memory.posts.record_metrics(workspace_id, post.id, engagement=-1)
    assert err.value.field == "engagement"
    with pytest.raises(NotFoundError):  # another workspace cannot touch it
        await memory.posts.record_metrics(other_workspace_id, post.id, engagement=5)
    with pytest.raises(NotFoundError):
        await memory.posts.get(other_workspace_id, post.id)


async def test_critiques_are_kept_7_days_per_content_item(
    memory: MemoryManager, clock: ManualClock, workspace_id: str
) -> None:
    c = memory.critiques
    first = await c.record(
        workspace_id,
        "post-1",
        critique="too long",
        issues=["length", "no hook"],
        scores={"clarity": 0.4},
        quality=0.5,
    )
    assert first.issue_count == 2
    clock.advance(6 * DAY)
    second = await c.record(workspace_id, "post-1", critique="better", issues=[])
    await c.record(workspace_id, "post-2", critique="fine")
    assert [x.id for x in await c.for_content(workspace_id, "post-1")] == [second.id, first.id]
    clock.advance(1 * DAY + 1)
    assert [x.id for x in await c.for_content(workspace_id, "post-1")] == [second.id]
    report = await memory.purge_expired()
    assert (report.tasks, report.critiques) == (0, 1)
    with pytest.raises(ValidationError) as err:
        await c.record(workspace_id, "post-3", critique="x", scores={"clarity": 2.0})
    assert err.value.field == "clarity"


async def test_workspace_b_never_sees_a_critiques(
    memory: MemoryManager, workspace_id: str, other_workspace_id: str
) -> None:
    await memory.critiques.record(workspace_id, "post-1", critique="confidential")
    assert await memory.critiques.for_content(other_workspace_id, "post-1") == []
    assert await memory.critiques.recent(other_workspace_id) == []
    assert len(await memory.critiques.recent(workspace_id)) == 1
