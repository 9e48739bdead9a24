"""Task memory on SQLite and PostgreSQL: similarity, retention, agent performance, isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from maestro.clock import ManualClock
from maestro.embeddings import HashingEmbedder
from maestro.errors import NotFoundError, ValidationError
from maestro.memory import MemorySettings, NewTask, TaskMemory
from maestro.store.db import Database


@pytest.fixture
def tasks(db: Database, clock: ManualClock) -> TaskMemory:
    return TaskMemory(db, clock, HashingEmbedder())


async def test_similar_goals_come_back_ranked_with_scores(
    tasks: TaskMemory, workspace_id: str
) -> None:
    blog = await tasks.record(
        workspace_id,
        goal="Create a blog post about AI trends",
        agent_sequence=["content", "blog_writer"],
        success=True,
        quality=0.92,
        duration_s=12.5,
        task_type="content_generation",
    )
    await tasks.record(
        workspace_id,
        goal="Reconcile the quarterly invoices",
        agent_sequence=["finance"],
        success=True,
    )
    hits = await tasks.similar(workspace_id, "Write a blog post about AI", k=2)
    assert hits[0].task.id == blog.id
    assert hits[0].task.agent_sequence == ("content", "blog_writer")
    assert hits[0].task.quality == 0.92 and hits[0].task.duration_s == 12.5
    assert len(hits) == 1 or hits[0].score > hits[1].score
    assert 0.0 < hits[0].score <= 1.0
    task, score = hits[0]  # a (task, score) pair
    assert task == blog and score == hits[0].score


async def test_filters_success_and_task_type(tasks: TaskMemory, workspace_id: str) -> None:
    failed = await tasks.record(
        workspace_id,
        goal="blog post about AI",
        agent_sequence=["content"],
        success=False,
        error="provider timeout",
    )
    ok = await tasks.record(
        workspace_id,
        goal="blog post about AI",
        agent_sequence=["content"],
        success=True,
        task_type="blog",
    )
    assert {h.task.id for h in await tasks.similar(workspace_id, "blog post about AI", 5)} == {
        failed.id,
        ok.id,
    }
    only_ok = await tasks.similar(workspace_id, "blog post about AI", 5, success_only=True)
    assert [h.task.id for h in only_ok] == [ok.id]
    assert [h.task.id for h in await tasks.similar(workspace_id, "blog", 5, task_type="blog")] == [
        ok.id
    ]
    assert only_ok[0].task.error is None
    assert failed.error == "provider timeout"


async def test_a_second_replica_sees_tasks_written_after_its_index_loaded(
    db: Database, clock: ManualClock, workspace_id: str
) -> None:
    a = TaskMemory(db, clock, HashingEmbedder())
    b = TaskMemory(db, clock, HashingEmbedder())
    await a.record(workspace_id, goal="first goal about cats", agent_sequence=["x"], success=True)
    assert len(await b.similar(workspace_id, "cats", 5)) == 1  # b's index is now loaded
    clock.advance(10)
    await a.record(workspace_id, goal="second goal about cats", agent_sequence=["y"], success=True)
    goals = {h.task.goal for h in await b.similar(workspace_id, "goal about cats", 5)}
    assert goals == {"first goal about cats", "second goal about cats"}


async def test_tasks_are_kept_30_days_then_purged(
    tasks: TaskMemory, clock: ManualClock, workspace_id: str
) -> None:
    old = await tasks.record(
        workspace_id, goal="launch newsletter", agent_sequence=["a"], success=True
    )
    assert [h.task.id for h in await tasks.similar(workspace_id, "launch newsletter", 3)] == [
        old.id
    ]
    clock.advance(timedelta(days=29, hours=23).total_seconds())
    fresh = await tasks.record(
        workspace_id, goal="launch newsletter", agent_sequence=["b"], success=True
    )
    assert len(await tasks.similar(workspace_id, "launch newsletter", 3)) == 2
    clock.advance(timedelta(hours=2).total_seconds())  # old is now 30 days + 1 hour old
    assert [h.task.id for h in await tasks.similar(workspace_id, "launch newsletter", 3)] == [
        fresh.id
    ]
    assert [t.id for t in await tasks.recent(workspace_id)] == [fresh.id]
    assert await tasks.purge(None) == 1
    assert await tasks.purge(None) == 0
    assert [t.id for t in await tasks.recent(workspace_id)] == [fresh.id]


async def test_retention_is_configuration(
    db: Database, clock: ManualClock, workspace_id: str
) -> None:
    tasks = TaskMemory(db, clock, HashingEmbedder(), MemorySettings(task_retention_days=1))
    await tasks.record(workspace_id, goal="short lived", agent_sequence=["a"], success=True)
    clock.advance(timedelta(days=1, seconds=1).total_seconds())
    assert await tasks.similar(workspace_id, "short lived", 3) == []
    assert await tasks.purge(workspace_id) == 1


async def test_agent_performance_by_hand(tasks: TaskMemory, workspace_id: str) -> None:
    await tasks.record_many(
        workspace_id,
        [
            NewTask("g1", ["research", "writer"], True, quality=0.9, task_type="blog"),
            NewTask("g2", ["writer"], False, quality=0.3, task_type="blog"),
            NewTask("g3", ["writer", "writer"], True, task_type="blog"),
            NewTask("g4", ["writer"], True, quality=0.7, task_type="email"),
        ],
    )
    perf = {(p.agent, p.task_type): p for p in await tasks.agent_performance(workspace_id)}
    writer_blog = perf[("writer", "blog")]
    assert (writer_blog.tasks, writer_blog.successes) == (3, 2)
    assert writer_blog.success_rate == pytest.approx(2 / 3)
    assert writer_blog.mean_quality == pytest.approx((0.9 + 0.3) / 2)
    assert perf[("research", "blog")].success_rate == 1.0
    assert perf[("writer", "email")].mean_quality == pytest.approx(0.7)
    assert await tasks.best_agent(workspace_id, "blog") == "research"
    assert await tasks.best_agent(workspace_id, "blog", min_tasks=2) == "writer"
    assert await tasks.best_agent(workspace_id, "video") is None


async def test_workspace_b_never_sees_a_tasks(
    tasks: TaskMemory, workspace_id: str, other_workspace_id: str
) -> None:
    await tasks.record(
        workspace_id, goal="secret roadmap for acme", agent_sequence=["a"], success=True
    )
    assert await tasks.similar(other_workspace_id, "secret roadmap for acme", 5) == []
    assert await tasks.recent(other_workspace_id) == []
    assert await tasks.agent_performance(other_workspace_id) == []
    assert await tasks.purge(other_workspace_id, older_than=datetime(2100, 1, 1, tzinfo=UTC)) == 0
    assert len(await tasks.similar(workspace_id, "secret roadmap for acme", 5)) == 1


async def test_bad_input_names_the_field(tasks: TaskMemory, workspace_id: str) -> None:
    cases = [
        ({"goal": "  "}, "goal"),
        ({"quality": 1.5}, "quality"),
        ({"duration_s": -1.0}, "duration_s"),
        ({"agent_sequence": ["ok", ""]}, "agent_sequence"),
    ]
    for override, field in cases:
        kwargs = {"goal": "g", "agent_sequence": ["a"], "success": True, **override}
        with pytest.raises(ValidationError) as err:
            await tasks.record(workspace_id, **kwargs)  # type: ignore[arg-type]
        assert err.value.field == field
    with pytest.raises(ValidationError) as err:
        await tasks.similar(workspace_id, "g", k=0)
    assert err.value.field == "k"
    with pytest.raises(NotFoundError) as nf:
        await tasks.record("no-such-workspace", goal="g", agent_sequence=["a"], success=True)
    assert nf.value.field == "workspace_id"
