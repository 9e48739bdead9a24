"""Held studio items decided by hand: the API, the retry tick, the timeout, tenancy, restarts.

Every proposal is held (``auto_approve_quality`` 1.0: nothing scores above it). The
studio's jobs are called directly on the simulated clock, so a failing job fails the
test instead of being logged by the scheduler.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect
from tests.conftest import client_for
from tests.integration.cycles.conftest import StudioFactory

from maestro.clock import ManualClock
from maestro.cycles.context import PublishEvent
from maestro.cycles.items import Decision, ItemRecord, ItemStore, NewItem
from maestro.cycles.settings import StudioSettings
from maestro.cycles.studio import Studio
from maestro.engine import Maestro
from maestro.errors import ConflictError, NotFoundError
from maestro.store.db import Database
from maestro.store.tables.cycles import CycleItemRow

HELD = StudioSettings(brands=("alpha",), auto_approve_quality=1.0)
"""One brand, six agents: a burst holds six items."""
WINDOW = timedelta(hours=1)
"""The default approval timeout (``orchestration.approval_timeout_seconds``)."""
RETRY = timedelta(minutes=30)


@asynccontextmanager
async def _client(engine: Maestro, workspace_id: str) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(engine, workspace_id) as client:
        yield client


async def _held_studio(
    make_studio: StudioFactory, **overrides: Any
) -> tuple[Studio, Maestro, list[PublishEvent]]:
    studio, _, engine = await make_studio(studio=HELD, **overrides)
    published: list[PublishEvent] = []
    studio.ctx.on_publish.append(published.append)
    report = await studio.burst(engine.clock.now())
    assert (report.proposals, report.held, report.published) == (6, 6, 0)
    return studio, engine, published


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _advance(engine: Maestro, by: timedelta) -> None:
    assert isinstance(engine.clock, ManualClock)
    engine.clock.advance(by.total_seconds())


async def test_a_human_approves_and_rejects_and_the_retry_tick_publishes(
    make_studio: StudioFactory,
) -> None:
    studio, engine, published = await _held_studio(make_studio)
    ws = studio.ctx.workspace_id
    start = engine.clock.now()
    async with _client(engine, ws) as client:
        r = await client.get("/api/studio/items")
        assert r.status_code == 200, r.text
        held = r.json()
        assert len(held) == 6 and {i["status"] for i in held} == {"held"}
        assert {i["brand"] for i in held} == {"alpha"}
        assert all(i["quality"] <= 1.0 and i["text"] and i["drafts"] >= 1 for i in held)
        assert {_at(i["expires_at"]) for i in held} == {start + WINDOW}
        assert all(i["decided_at"] is None and i["rule"] is None for i in held)
        a, b = held[0]["id"], held[1]["id"]

        r = await client.post(f"/api/studio/items/{a}/approve", json={"by": "ana", "note": "ok"})
        assert r.status_code == 200, r.text
        approved = r.json()
        assert approved["status"] == "approved" and approved["rule"] == "human:approve"
        assert (approved["decided_by"], approved["note"]) == ("ana", "ok")
        assert _at(approved["decided_at"]) == start
        # The same decision again (a client retrying) is answered with the item unchanged.
        _advance(engine, timedelta(minutes=1))
        again = await client.post(f"/api/studio/items/{a}/approve", json={"by": "bob"})
        assert again.status_code == 200 and again.json() == approved
        conflict = await client.post(f"/api/studio/items/{a}/reject")
        assert conflict.status_code == 409, conflict.text
        assert conflict.json()["error"]["field"] == "item_id"
        assert a in conflict.json()["error"]["message"]
        assert "ana" in conflict.json()["error"]["message"]

        r = await client.post(f"/api/studio/items/{b}/reject")  # no body: by "api"
        assert r.status_code == 200, r.text
        rejected = r.json()
        assert (rejected["status"], rejected["rule"], rejected["decided_by"]) == (
            "rejected",
            "human:reject",
            "api",
        )
        assert (await client.post(f"/api/studio/items/{b}/reject")).json() == rejected
        assert (await client.post(f"/api/studio/items/{b}/approve")).status_code == 409

        listed = {
            s: [i["id"] for i in (await client.get(f"/api/studio/items?status={s}")).json()]
            for s in ("held", "approved", "rejected", "published", "all")
        }
        assert listed["approved"] == [a] and listed["rejected"] == [b]
        assert len(listed["held"]) == 4 and listed["published"] == []
        assert set(listed["all"]) == {i["id"] for i in held}
        assert (await client.get("/api/studio/items?status=all&limit=2")).json()[0]["id"] == (
            listed["all"][0]
        )
        assert len((await client.get("/api/studio/items?status=all&limit=2")).json()) == 2
        assert (await client.get("/api/studio/items?status=all&brand=beta")).json() == []
        assert len((await client.get("/api/studio/items?brand=alpha")).json()) == 4

        # Nothing is published before the retry tick; the tick publishes what was approved.
        assert published == []
        _advance(engine, RETRY)
        out = await studio.retry(engine.clock.now())
        assert out["settled"] == 1
        assert [e.item.item_id for e in published] == [a]
        assert studio.ctx.stats.released_by_human == 1 and studio.ctx.stats.published == 1

        item = (await client.get(f"/api/studio/items/{a}")).json()
        assert (item["status"], item["rule"], item["decided_by"], item["note"]) == (
            "published",
            "human:approve",
            "ana",
            "ok",
        )
        assert _at(item["decided_at"]) == start  # the moment the human decided
        assert item["post_id"] and item["external_id"]
        post = await studio.ctx.memory.posts.get(ws, item["post_id"])
        assert post.content_id == a and post.published_at == engine.clock.now()
        rejected_now = (await client.get(f"/api/studio/items/{b}")).json()
        assert rejected_now == rejected and rejected_now["post_id"] is None

        # Approving a published item again changes nothing; rejecting it is a conflict.
        assert (await client.post(f"/api/studio/items/{a}/approve")).json() == item
        assert (await client.post(f"/api/studio/items/{a}/reject")).status_code == 409
        assert (await studio.retry(engine.clock.now()))["settled"] == 0
        assert [e.item.item_id for e in published] == [a]  # published once


@pytest.mark.parametrize("outcome", ["reject", "approve"])
async def test_after_the_window_a_decision_is_409_and_the_timeout_outcome_applies(
    make_studio: StudioFactory, outcome: str
) -> None:
    studio, engine, published = await _held_studio(
        make_studio, orchestration={"approval_timeout_outcome": outcome}
    )
    ws = studio.ctx.workspace_id
    async with _client(engine, ws) as client:
        held = (await client.get("/api/studio/items")).json()
        first = held[0]["id"]
        _advance(engine, WINDOW - timedelta(seconds=1))
        assert (await studio.retry(engine.clock.now()))["settled"] == 0
        _advance(engine, timedelta(seconds=1))  # now == expires_at: the window is closed
        late = await client.post(f"/api/studio/items/{first}/approve", json={"by": "ana"})
        assert late.status_code == 409, late.text
        assert "approval window" in late.json()["error"]["message"]
        assert "timeout outcome applies" in late.json()["error"]["message"]
        assert (await client.get(f"/api/studio/items/{first}")).json()["status"] == "held"

        assert (await studio.retry(engine.clock.now()))["settled"] == 6
        items = (await client.get("/api/studio/items?status=all")).json()
        assert {i["rule"] for i in items} == {f"timeout:{outcome}"}
        assert all(i["decided_by"] == "timeout" for i in items)
        if outcome == "approve":
            assert {i["status"] for i in items} == {"published"}
            assert len(published) == 6 and studio.ctx.stats.released == 6
        else:
            assert {i["status"] for i in items} == {"rejected"}
            assert published == [] and studio.ctx.stats.rejected == 6
        # The timeout decided: any human decision now is a conflict naming it.
        for decision in ("approve", "reject"):
            r = await client.post(f"/api/studio/items/{first}/{decision}")
            assert r.status_code == 409
            assert "approval timeout" in r.json()["error"]["message"]
        assert (await studio.retry(engine.clock.now()))["settled"] == 0


async def test_another_workspace_cannot_list_get_or_decide_the_items(
    make_studio: StudioFactory,
) -> None:
    studio, engine, _ = await _held_studio(make_studio)
    ws = studio.ctx.workspace_id
    other = (await engine.tenancy.create_workspace("other")).id
    async with _client(engine, ws) as mine, _client(engine, other) as theirs:
        item = (await mine.get("/api/studio/items")).json()[0]
        assert (await theirs.get("/api/studio/items")).json() == []
        assert (await theirs.get("/api/studio/items?status=all")).json() == []
        r = await theirs.get(f"/api/studio/items/{item['id']}")
        assert r.status_code == 404 and r.json()["error"]["field"] == "item_id"
        for decision in ("approve", "reject"):
            r = await theirs.post(f"/api/studio/items/{item['id']}/{decision}")
            assert r.status_code == 404, r.text
            assert r.json()["error"]["field"] == "item_id"
        assert (await mine.get(f"/api/studio/items/{item['id']}")).json() == item
        assert (await mine.get("/api/studio/items/no-such-item")).status_code == 404
        assert (await mine.post("/api/studio/items/no-such-item/approve")).status_code == 404
    assert (await ItemStore(engine.db, engine.clock).counts(ws)) == {"held": 6}


async def test_a_reopened_studio_publishes_and_settles_items_held_before_the_restart(
    make_studio: StudioFactory,
) -> None:
    studio, engine, before = await _held_studio(make_studio)
    ws = studio.ctx.workspace_id
    async with _client(engine, ws) as client:
        held = [i["id"] for i in (await client.get("/api/studio/items")).json()]
        assert (await client.post(f"/api/studio/items/{held[0]}/approve")).status_code == 200
        assert (await client.post(f"/api/studio/items/{held[1]}/reject")).status_code == 200
    await studio.close()

    # A new process: its counters know nothing of what the old one held.
    again = await Studio.open(engine, ws)
    after: list[PublishEvent] = []
    again.ctx.on_publish.append(after.append)
    _advance(engine, RETRY)
    assert (await again.retry(engine.clock.now()))["settled"] == 1
    assert [e.item.item_id for e in after] == [held[0]] and before == []
    assert again.ctx.stats.released_by_human == 1
    _advance(engine, WINDOW)
    assert (await again.retry(engine.clock.now()))["settled"] == 4
    store = ItemStore(engine.db, engine.clock)
    assert await store.counts(ws) == {"published": 1, "rejected": 5}
    rules = {i.id: i.rule for i in await store.list_items(ws, limit=10)}
    assert rules[held[0]] == "human:approve" and rules[held[1]] == "human:reject"
    assert [r for i, r in rules.items() if i not in held[:2]] == ["timeout:reject"] * 4

    # The reopened studio numbers its proposals after the ones before the restart.
    assert again.ctx.seq == 6
    await again.burst(engine.clock.now())
    seqs = sorted(i.seq for i in await store.list_items(ws, limit=20))
    assert seqs == list(range(1, 13))


async def test_bad_requests_are_422_naming_the_field_and_change_nothing(
    make_studio: StudioFactory,
) -> None:
    studio, engine, _ = await _held_studio(make_studio)
    async with _client(engine, studio.ctx.workspace_id) as client:
        item = (await client.get("/api/studio/items")).json()[0]
        url = f"/api/studio/items/{item['id']}"
        for body, field in [
            ({"by": ""}, "by"),
            ({"by": "x" * 101}, "by"),
            ({"by": 7}, "by"),
            ({"note": "x" * 2001}, "note"),
            ({"verdict": "yes"}, "verdict"),
        ]:
            for decision in ("approve", "reject"):
                r = await client.post(f"{url}/{decision}", json=body)
                assert r.status_code == 422, (body, r.text)
                assert r.json()["error"]["field"] == field, r.text
        for query, field in [
            ("status=bogus", "status"),
            ("limit=0", "limit"),
            ("limit=501", "limit"),
            ("brand=", "brand"),
        ]:
            r = await client.get(f"/api/studio/items?{query}")
            assert r.status_code == 422 and r.json()["error"]["field"] == field, r.text
        assert len((await client.get("/api/studio/items?limit=500")).json()) == 6
        assert (await client.get(url)).json() == item


# --- the compare-and-set, on the store ------------------------------------------------


def _new(n: int) -> NewItem:
    return NewItem(
        id=f"item-{n}",
        seq=n,
        brand="alpha",
        agent_id="agent",
        strategy="story",
        topic="sleep",
        text=f"Proposal {n}.",
        quality=0.5,
        drafts=1,
    )


async def _stored(engine: Maestro, workspace_id: str, n: int) -> ItemStore:
    store = ItemStore(engine.db, engine.clock)
    for i in range(n):
        await store.add(
            workspace_id,
            _new(i),
            status="held",
            expires_at=engine.clock.now() + WINDOW,
        )
    return store


async def test_concurrent_opposite_decisions_exactly_one_wins(
    engine: Maestro, workspace_id: str
) -> None:
    store = await _stored(engine, workspace_id, 8)
    for i in range(8):
        pair: tuple[Decision, Decision] = ("approve", "reject") if i % 2 else ("reject", "approve")
        results = await asyncio.gather(
            *(store.human_decision(workspace_id, f"item-{i}", d, by=d) for d in pair),
            return_exceptions=True,
        )
        won = [r for r in results if isinstance(r, ItemRecord)]
        lost = [r for r in results if isinstance(r, ConflictError)]
        assert len(won) == 1 and len(lost) == 1, results
        stored = await store.get(workspace_id, f"item-{i}")
        assert stored == won[0]
        assert stored.status == ("approved" if stored.rule == "human:approve" else "rejected")
        assert f"item-{i}" in lost[0].message


async def test_concurrent_same_decisions_both_answer_the_one_decision(
    engine: Maestro, workspace_id: str
) -> None:
    store = await _stored(engine, workspace_id, 1)
    results = await asyncio.gather(
        *(store.human_decision(workspace_id, "item-0", "approve", by=f"u{n}") for n in range(4))
    )
    assert len({r.decided_by for r in results}) == 1
    assert all(r == results[0] and r.status == "approved" for r in results)


async def test_the_timeout_never_overwrites_a_human_decision_and_vice_versa(
    engine: Maestro, workspace_id: str, other_workspace_id: str
) -> None:
    store = await _stored(engine, workspace_id, 3)
    await store.human_decision(workspace_id, "item-0", "approve", by="ana", note="fine")
    # A settlement that read item-0 as held a moment earlier finds it decided: no write.
    assert not await store.decide(
        workspace_id, "item-0", "rejected", expect="held", rule="timeout:reject"
    )
    kept = await store.get(workspace_id, "item-0")
    assert (kept.status, kept.rule, kept.decided_by, kept.note) == (
        "approved",
        "human:approve",
        "ana",
        "fine",
    )
    assert [i.id for i in (await store.due(workspace_id)).approved] == ["item-0"]
    assert (await store.due(other_workspace_id)).approved == []

    assert isinstance(engine.clock, ManualClock)
    engine.clock.advance(WINDOW.total_seconds())
    due = await store.due(workspace_id)
    assert [i.id for i in due.approved] == ["item-0"]
    assert [i.id for i in due.expired] == ["item-1", "item-2"]
    assert await store.decide(
        workspace_id, "item-1", "rejected", expect="held", rule="timeout:reject"
    )
    with pytest.raises(ConflictError, match="approval timeout"):
        await store.human_decision(workspace_id, "item-1", "reject", by="ana")
    with pytest.raises(ConflictError, match="approval window"):
        await store.human_decision(workspace_id, "item-2", "approve", by="ana")
    with pytest.raises(NotFoundError) as missing:
        await store.human_decision(other_workspace_id, "item-2", "approve", by="ana")
    assert missing.value.field == "item_id" and "item-2" in missing.value.message
    assert (await store.get(workspace_id, "item-2")).status == "held"


async def test_an_auto_approved_item_cannot_be_decided(engine: Maestro, workspace_id: str) -> None:
    store = ItemStore(engine.db, engine.clock)
    await store.add(workspace_id, _new(0), status="published", rule="quality_above:0.7")
    decisions: tuple[Decision, ...] = ("approve", "reject")
    for decision in decisions:
        with pytest.raises(ConflictError, match="never held"):
            await store.human_decision(workspace_id, "item-0", decision, by="ana")


async def test_migration_0009_matches_the_model(db: Database) -> None:
    def columns() -> set[str]:
        return {c.name for c in CycleItemRow.__table__.columns}

    async def stored() -> dict[str, Any]:
        async with db.engine.connect() as conn:
            cols = await conn.run_sync(lambda c: inspect(c).get_columns("cycle_items"))
        return {c["name"]: c for c in cols}

    now = await stored()
    assert set(now) == columns()
    assert now["decided_by"]["nullable"] and now["note"]["nullable"]
    assert getattr(now["decided_by"]["type"], "length", None) == 100
    await db.downgrade("0008_cycles")
    assert set(await stored()) == columns() - {"decided_by", "note"}
    await db.upgrade()
    assert set(await stored()) == columns()
