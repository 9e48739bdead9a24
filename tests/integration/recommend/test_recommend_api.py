"""The HTTP surface: user state ingestion, /recommend, tips and feedback, on both databases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from maestro.clock import ManualClock
from maestro.engine import Maestro
from maestro.recommend.agents import REGISTRY
from maestro.recommend.precompute import Precompute
from maestro.recommend.state import output_id, row_id
from maestro.store.tables.recommend import (
    RecUserRow,
    TaskRow,
    TipFeedbackRow,
    TipRow,
    UserEventRow,
)

ClientFactory = Callable[[str], Awaitable[httpx.AsyncClient]]


async def _count(engine: Maestro, table: Any) -> int:
    async with engine.db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(table)) or 0)


async def _seed_user(api: httpx.AsyncClient, clock: ManualClock, user: str = "u1") -> None:
    r = await api.put(
        f"/api/users/{user}", json={"timezone": "Europe/Paris", "focus_areas": ["health"]}
    )
    assert r.status_code == 200, r.text
    due = (clock.now() - timedelta(days=2)).isoformat()
    r = await api.put(
        f"/api/users/{user}/tasks/t1",
        json={"title": "Book the dentist", "due_at": due, "area": "health"},
    )
    assert r.status_code == 200, r.text
    r = await api.post(
        f"/api/users/{user}/events",
        json={"key": "e1", "kind": "completion", "occurred_at": clock.now().isoformat()},
    )
    assert r.status_code == 200, r.text


async def test_ingestion_is_idempotent_by_client_key(
    api: httpx.AsyncClient, engine: Maestro, clock: ManualClock
) -> None:
    await _seed_user(api, clock)
    await _seed_user(api, clock)
    assert await _count(engine, RecUserRow) == 1
    assert await _count(engine, TaskRow) == 1
    assert await _count(engine, UserEventRow) == 1
    events = [
        {
            "user_id": "u1",
            "key": f"k{i % 3}",
            "kind": "session",
            "occurred_at": "2026-01-01T08:00:00Z",
            "duration_min": 25,
        }
        for i in range(6)
    ]
    r = await api.post("/api/events/bulk", json={"items": events})
    assert r.json() == {"created": 3, "existing": 0}
    r = await api.post("/api/events/bulk", json={"items": events})
    assert r.json() == {"created": 0, "existing": 3}
    assert await _count(engine, UserEventRow) == 4


async def test_an_event_key_resent_with_other_content_is_a_conflict_and_writes_nothing(
    api: httpx.AsyncClient, engine: Maestro, clock: ManualClock
) -> None:
    await _seed_user(api, clock)
    first = {"user_id": "u1", "key": "s1", "kind": "session", "occurred_at": "2026-01-01T08:00:00Z"}
    r = await api.post("/api/events/bulk", json={"items": [first]})
    assert r.json() == {"created": 1, "existing": 0}
    same = {**first, "occurred_at": "2026-01-01T09:00:00+01:00"}  # the same instant
    new = {**first, "key": "s2"}
    r = await api.post("/api/events/bulk", json={"items": [new, same]})
    assert r.json() == {"created": 1, "existing": 1}
    before = await _count(engine, UserEventRow)
    clash = {**first, "duration_min": 25}
    r = await api.post("/api/events/bulk", json={"items": [{**first, "key": "s3"}, clash]})
    assert r.status_code == 409 and r.json()["error"]["field"] == "key"
    assert "s1" in r.json()["error"]["message"]
    twice = [{**first, "key": "s4"}, {**first, "key": "s4", "kind": "completion"}]
    r = await api.post("/api/events/bulk", json={"items": twice})
    assert r.status_code == 409
    assert await _count(engine, UserEventRow) == before


async def test_user_state_is_scoped_to_the_workspace(
    api: httpx.AsyncClient, make_client: ClientFactory, other_workspace_id: str, clock: ManualClock
) -> None:
    await _seed_user(api, clock)
    other = await make_client(other_workspace_id)
    assert (await other.get("/api/users/u1")).status_code == 404
    r = await other.put("/api/users/u1/tasks/t9", json={"title": "x"})
    assert r.status_code == 404 and r.json()["error"]["field"] == "user_id"


async def test_bad_input_is_a_clear_4xx_and_writes_nothing(
    api: httpx.AsyncClient, engine: Maestro, clock: ManualClock
) -> None:
    await _seed_user(api, clock)
    tasks_before, events_before = await _count(engine, TaskRow), await _count(engine, UserEventRow)

    r = await api.put("/api/users/ghost/tasks/t1", json={"title": "x"})
    assert r.status_code == 404 and "ghost" in r.json()["error"]["message"]

    r = await api.put("/api/users/u1/tasks/t2", json={"title": "x", "due_at": "next tuesday"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "due_at"

    r = await api.put("/api/users/u1/tasks/t2", json={"title": "x", "due_at": "2026-01-05T10:00"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "due_at"  # no time zone

    r = await api.put("/api/users/u2", json={"timezone": "Mars/Olympus"})
    assert r.status_code == 422 and "Mars/Olympus" in r.json()["error"]["message"]

    good = {"user_id": "u1", "task_id": "ok", "title": "fine"}
    r = await api.post(
        "/api/tasks/bulk",
        json={"items": [good, {**good, "task_id": "bad", "due_at": "2026-13-40"}]},
    )
    assert r.status_code == 422 and r.json()["error"]["field"] == "items.1.due_at"

    r = await api.post("/api/tasks/bulk", json={"items": [good, {**good, "user_id": "ghost"}]})
    assert r.status_code == 404

    r = await api.post("/api/recommend", json={"user_id": "ghost"})
    assert r.status_code == 404 and r.json()["error"]["field"] == "user_id"

    assert await _count(engine, TaskRow) == tasks_before
    assert await _count(engine, UserEventRow) == events_before
    assert await _count(engine, RecUserRow) == 1
    assert await _count(engine, TipRow) == 0


async def test_recommend_uses_the_callers_fresh_outputs_and_explains_itself(
    api: httpx.AsyncClient,
    make_client: ClientFactory,
    engine: Maestro,
    workspace_id: str,
    other_workspace_id: str,
    clock: ManualClock,
) -> None:
    other = await make_client(other_workspace_id)
    await _seed_user(api, clock)
    await _seed_user(other, clock)  # same client key "u1" in another workspace
    await Precompute(engine.db, clock, engine.coord).run_tick(clock.now())

    r = await api.post("/api/recommend", json={"user_id": "u1"})
    assert r.status_code == 200, r.text
    tip = r.json()
    assert tip["agents"] == [a.id for a in REGISTRY]
    assert tip["template_version"] == "v4-orchestrator" and tip["fallback"] is False
    assert tip["text"]

    detail = (await api.get(f"/api/tips/{tip['id']}")).json()
    mine = row_id(workspace_id, "user", "u1")
    assert {i["output_id"] for i in detail["inputs"]} == {output_id(mine, a.id) for a in REGISTRY}
    assert "[overdue-task]" in detail["prompt"] and "Book the dentist" in detail["prompt"]
    assert (await other.get(f"/api/tips/{tip['id']}")).status_code == 404

    clock.advance(20 * 60)  # time-of-day expired; no tick ran
    tip = (await api.post("/api/recommend", json={"user_id": "u1"})).json()
    assert "time-of-day" not in tip["agents"] and "overdue-task" in tip["agents"]


async def test_without_fresh_outputs_recommend_falls_back_to_raw_signals(
    api: httpx.AsyncClient, engine: Maestro, clock: ManualClock
) -> None:
    await _seed_user(api, clock)
    r = await api.post("/api/recommend", json={"user_id": "u1"})
    tip = r.json()
    assert r.status_code == 200 and tip["fallback"] is True and tip["agents"] == []
    assert tip["template_version"] == "v1-raw-signals"
    detail = (await api.get(f"/api/tips/{tip['id']}")).json()
    assert {"raw_signal": "Overdue tasks: 1"} in detail["inputs"]

    await Precompute(engine.db, clock, engine.coord).run_tick(clock.now())
    clock.advance(25 * 3600)  # every output expired
    assert (await api.post("/api/recommend", json={"user_id": "u1"})).json()["fallback"] is True


async def test_feedback_is_stored_once_and_scoped(
    api: httpx.AsyncClient,
    make_client: ClientFactory,
    engine: Maestro,
    other_workspace_id: str,
    clock: ManualClock,
) -> None:
    await _seed_user(api, clock)
    tip = (await api.post("/api/recommend", json={"user_id": "u1"})).json()
    url = f"/api/tips/{tip['id']}/feedback"

    r = await api.post(url, json={"reaction": "done"})
    assert r.status_code == 201 and r.json()["reward_milli"] == 1000
    r = await api.post(url, json={"reaction": "done"})
    assert r.status_code == 200 and r.json()["created"] is False
    assert await _count(engine, TipFeedbackRow) == 1

    r = await api.post(url, json={"reaction": "loved"})
    assert r.status_code == 422 and r.json()["error"]["field"] == "reaction"

    other = await make_client(other_workspace_id)
    r = await other.post(url, json={"reaction": "liked"})
    assert r.status_code == 404 and r.json()["error"]["field"] == "tip_id"

    r = await api.post(url, json={"reaction": "dismissed", "key": "done"})
    assert r.status_code == 409
    assert await _count(engine, TipFeedbackRow) == 1
