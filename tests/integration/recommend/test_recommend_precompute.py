"""Precompute on SQLite and PostgreSQL with a manual clock: exactly the stale outputs refresh."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from maestro.clock import ManualClock
from maestro.coord import connect
from maestro.recommend.agents import REGISTRY, MomentumAgent
from maestro.recommend.outputs import write_outputs
from maestro.recommend.precompute import Precompute
from maestro.recommend.settings import RecommendSettings
from maestro.recommend.state import output_id
from maestro.recommend.store import UserStateRepo
from maestro.sim.users import UserSimulator
from maestro.store.db import Database
from maestro.store.tables.recommend import AgentOutputRow
from maestro.store.tenancy import TenancyRepo

USERS = 23


class MomentumV2(MomentumAgent):
    version = "2"


async def _setup(db: Database, clock: ManualClock) -> tuple[Precompute, str]:
    ws = (await TenancyRepo(db, clock).create_workspace("acme")).id
    sim = UserSimulator(3)
    await sim.populate(UserStateRepo(db, clock), ws, sim.users(USERS), clock.now())
    pre = Precompute(
        db, clock, connect("memory://", clock=clock), settings=RecommendSettings(batch_size=5)
    )
    return pre, ws


async def _computed_at(db: Database) -> dict[tuple[str, str], datetime]:
    async with db.read() as s:
        rows = (
            await s.execute(
                select(AgentOutputRow.user_id, AgentOutputRow.agent_id, AgentOutputRow.computed_at)
            )
        ).all()
    return {(u, a): c for u, a, c in rows}


async def test_first_tick_computes_every_user_and_agent_once(
    db: Database, clock: ManualClock
) -> None:
    pre, _ = await _setup(db, clock)
    report = await pre.run_tick(clock.now())
    assert report.claimed and report.batches == 5 and report.users == USERS
    assert report.computed == USERS * len(REGISTRY)
    assert report.by_agent == {a.id: USERS for a in REGISTRY}
    async with db.read() as s:
        assert (await s.scalar(select(func.count()).select_from(AgentOutputRow))) == USERS * 5


async def test_ttl_expiry_refreshes_exactly_the_expired_outputs(
    db: Database, clock: ManualClock
) -> None:
    pre, _ = await _setup(db, clock)
    t0 = clock.now()
    await pre.run_tick(t0)
    before = await _computed_at(db)

    clock.advance(15 * 60)  # time-of-day (15 min) expired, nothing else
    report = await pre.run_tick(clock.now())
    assert report.by_agent == {"time-of-day": USERS}
    after = await _computed_at(db)
    changed = {k for k in after if after[k] != before[k]}
    assert changed == {k for k in after if k[1] == "time-of-day"}

    clock.advance(45 * 60)  # t0 + 1h: overdue-task (1h) and time-of-day again
    report = await pre.run_tick(clock.now())
    assert report.by_agent == {"time-of-day": USERS, "overdue-task": USERS}

    clock.set(t0 + timedelta(hours=6))  # momentum (6h) joins
    report = await pre.run_tick(clock.now())
    assert set(report.by_agent) == {"time-of-day", "overdue-task", "momentum"}


async def test_nothing_is_recomputed_before_anything_expires(
    db: Database, clock: ManualClock
) -> None:
    pre, _ = await _setup(db, clock)
    await pre.run_tick(clock.now())
    clock.advance(10 * 60)
    report = await pre.run_tick(clock.now())
    assert report.claimed and report.computed == 0


async def test_a_version_bump_recomputes_only_that_agents_outputs(
    db: Database, clock: ManualClock
) -> None:
    pre, _ = await _setup(db, clock)
    await pre.run_tick(clock.now())
    before = await _computed_at(db)
    clock.advance(60)
    agents = [MomentumV2() if a.id == "momentum" else a for a in REGISTRY]
    bumped = Precompute(db, clock, pre._coord, settings=pre.settings, agents=agents)
    report = await bumped.run_tick(clock.now())
    assert report.by_agent == {"momentum": USERS}
    after = await _computed_at(db)
    assert {k for k in after if after[k] != before[k]} == {k for k in after if k[1] == "momentum"}
    async with db.read() as s:
        versions = set(
            (
                await s.execute(
                    select(AgentOutputRow.agent_version).where(
                        AgentOutputRow.agent_id == "momentum"
                    )
                )
            ).scalars()
        )
    assert versions == {"2"}


async def test_a_tick_is_claimed_once_and_a_claimed_batch_is_skipped(
    db: Database, clock: ManualClock
) -> None:
    pre, _ = await _setup(db, clock)
    tick = pre.tick_of(clock.now())
    batches = await pre.plan()
    assert await pre.claim_tick(tick)
    assert (await pre.run_tick(tick)).claimed is False
    first = await pre.run_batch(batches[0], tick)
    again = await pre.run_batch(batches[0], tick)
    assert first.computed == 5 * 5 and not first.skipped
    assert again.skipped and again.computed == 0


async def test_a_late_write_never_overwrites_a_fresher_output(
    db: Database, clock: ManualClock
) -> None:
    pre, ws = await _setup(db, clock)
    early = clock.now()
    clock.advance(30 * 60)
    await pre.run_tick(clock.now())
    fresh = await _computed_at(db)
    (user_id, agent_id), _ = next(iter(fresh.items()))
    agent = next(a for a in REGISTRY if a.id == agent_id)
    straggler = {  # what a batch of the older tick would write, arriving late
        "id": output_id(user_id, agent_id),
        "workspace_id": ws,
        "user_id": user_id,
        "agent_id": agent_id,
        "prompt_text": "stale",
        "signals_snapshot": {},
        "computed_at": early,
        "expires_at": early + agent.ttl,
        "agent_version": agent.version,
    }
    async with db.write() as s:
        await write_outputs(s, [straggler], stale_before=early + timedelta(minutes=1))
    assert await _computed_at(db) == fresh
