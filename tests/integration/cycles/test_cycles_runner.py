"""The studio for real: ``maestro studio run`` on the wall clock, and ``run_studio`` in process."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from tests.conftest import REDIS_URL, client_for, require_server
from tests.integration.cycles.conftest import StudioFactory

from maestro.api.app import create_app
from maestro.clock import SystemClock
from maestro.config import Settings
from maestro.cycles.items import ItemStore
from maestro.cycles.lease import StudioLease, current_runner
from maestro.cycles.runner import (
    LEASE_SECONDS,
    JobDone,
    claim,
    decide_item,
    run_studio,
)
from maestro.cycles.settings import StudioSettings
from maestro.cycles.simclock import SimulatedClock
from maestro.cycles.studio import Studio
from maestro.engine import Maestro
from maestro.errors import ConflictError
from maestro.llm.settings import GatewaySettings
from maestro.sim.audience import DEFAULT_START
from maestro.store.db import Database
from maestro.store.tables.cycles import CycleItemRow, StudioRunnerRow
from maestro.store.tenancy import TenancyRepo

MAESTRO = str(Path(sys.executable).with_name("maestro"))


async def _published(db: Database, workspace_id: str) -> int:
    async with db.read() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(CycleItemRow)
                .where(
                    CycleItemRow.workspace_id == workspace_id, CycleItemRow.status == "published"
                )
            )
            or 0
        )


@pytest.mark.slow
async def test_studio_run_writes_a_burst_on_the_wall_clock_and_stops_cleanly(
    db: Database, db_settings: dict[str, str | None], tmp_path: Path
) -> None:
    ws = (await TenancyRepo(db, SystemClock()).create_workspace("live")).id
    env = {
        **os.environ,
        "MAESTRO_DATABASE_URL": str(db_settings["database_url"]),
        "MAESTRO_COORD_URL": "memory://",
        "MAESTRO_STUDIO__BRANDS": '["acme", "zen"]',
        "MAESTRO_LOG_LEVEL": "WARNING",
        # The default 150 calls/hour would spread the burst over ~30 s of waiting for tokens.
        "MAESTRO_RATELIMIT__DEFAULT__CAPACITY": "500",
    }
    env.pop("MAESTRO_CONFIG", None)  # cwd is an empty folder: no maestro.toml either
    if db_settings["database_schema"]:
        env["MAESTRO_DATABASE_SCHEMA"] = str(db_settings["database_schema"])
    proc = await asyncio.create_subprocess_exec(
        MAESTRO,
        "studio",
        "run",
        "live",
        "--burst-now",
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while await _published(db, ws) < 12:  # 6 agents x 2 brands
            assert proc.returncode is None, (await proc.communicate())[1].decode()
            assert time.monotonic() < deadline, "no burst was published in time"
            await asyncio.sleep(0.2)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert "2 brands (acme, zen), 6 agents, sink simulator" in text
    assert "burst: proposals 12, published 12" in text
    assert "stopped after" in text


async def test_run_studio_reports_each_job_and_stops_when_asked(
    make_studio: StudioFactory,
) -> None:
    studio, _driver, engine = await make_studio(studio=StudioSettings(brands=("alpha",)))
    stop = asyncio.Event()
    seen: list[JobDone] = []

    def on_job(done: JobDone) -> None:
        seen.append(done)
        stop.set()

    scheduler = await run_studio(studio, stop, burst_now=True, on_job=on_job)
    assert [d.job for d in seen] == ["burst"]
    assert seen[0].error is None and seen[0].result.published == 6
    assert set(scheduler.jobs) == {
        f"studio:{studio.ctx.workspace_id}:{n}"
        for n in ("burst", "metrics", "feedback", "evolution", "scout", "research", "retry")
    }
    assert all(job.runs == 0 and not job.running for job in scheduler.jobs.values())
    assert await engine.tenancy.get_workspace(studio.ctx.workspace_id)


async def test_an_approval_reaches_the_running_studio_at_once(
    make_studio: StudioFactory,
) -> None:
    studio, _driver, engine = await make_studio(
        studio=StudioSettings(brands=("alpha",), auto_approve_quality=1.0)  # every item held
    )
    report = await studio.burst(engine.clock.now())
    assert report.held == 6
    assert isinstance(engine.clock, SimulatedClock)
    engine.clock.advance(60)  # past the aligned ticks: no scheduled job is due while we look
    store = ItemStore(engine.db, engine.clock)
    held = await store.list_items(studio.ctx.workspace_id, status="held")
    stop = asyncio.Event()
    released: list[JobDone] = []

    def on_job(done: JobDone) -> None:
        if done.job == "release":
            released.append(done)
            stop.set()

    ready = asyncio.Event()
    running = asyncio.create_task(
        run_studio(studio, stop, on_job=on_job, coord=engine.coord, ready=ready)
    )
    await asyncio.wait_for(ready.wait(), timeout=10)
    item = await decide_item(
        engine, studio.ctx.workspace_id, held[0].id, "approve", by="ana", note=None
    )
    assert item.status == "approved"
    scheduler = await asyncio.wait_for(running, timeout=10)
    assert [d.error for d in released] == [None] and released[0].result == 1
    after = await store.get(studio.ctx.workspace_id, held[0].id)
    assert (after.status, after.rule, after.decided_by) == ("published", "human:approve", "ana")
    assert all(job.runs == 0 for job in scheduler.jobs.values())  # not the retry tick's doing
    others = await store.list_items(studio.ctx.workspace_id, status="held")
    assert len(others) == 5


@pytest.mark.parametrize("coordination", ["redis", "memory"])
async def test_an_approval_made_in_another_process_reaches_the_running_studio(
    db_settings: dict[str, str | None], key_prefix: str, coordination: str
) -> None:
    """Two engines (an API replica and the studio's process) share the database, and Redis
    or nothing: over Redis the announcement arrives; with ``memory://`` each, the poll of
    the database finds the approval."""
    if coordination == "redis":
        require_server("redis", REDIS_URL, 6379)
    clock = SimulatedClock(DEFAULT_START)
    settings = Settings.load(
        **db_settings,
        coord_url=REDIS_URL if coordination == "redis" else "memory://",
        key_prefix=key_prefix,
        gateway=GatewaySettings(quota_keys=("workspace",)),
        studio=StudioSettings(brands=("alpha",), auto_approve_quality=1.0),
    )
    async with (
        Maestro.from_settings(settings, clock=clock) as home,
        Maestro.from_settings(settings, clock=clock) as elsewhere,
    ):
        ws = (await home.tenancy.create_workspace("two-processes")).id
        studio = await Studio.open(home, ws)
        try:
            assert (await studio.burst(clock.now())).held == 6
            clock.advance(60)
            held = await ItemStore(home.db, clock).list_items(ws, status="held")
            stop, ready = asyncio.Event(), asyncio.Event()
            done: list[JobDone] = []

            def on_job(event: JobDone) -> None:
                done.append(event)
                stop.set()

            running = asyncio.create_task(
                run_studio(studio, stop, on_job=on_job, coord=home.coord, ready=ready)
            )
            await asyncio.wait_for(ready.wait(), timeout=10)
            assert (
                await current_runner(elsewhere.db, clock, ws) is not None
            )  # the API's process knows
            await decide_item(elsewhere, ws, held[-1].id, "approve", by="ops", note="ok")
            if coordination == "memory":
                assert done == []  # the announcement stayed in the API's process
                clock.advance(settings.studio.approval_poll_seconds)
            await asyncio.wait_for(running, timeout=10)
        finally:
            await studio.close()
        assert [(d.job, d.result) for d in done] == [("release", 1)]
        item = await ItemStore(elsewhere.db, clock).get(ws, held[-1].id)
        assert (item.status, item.decided_by, item.note) == ("published", "ops", "ok")


async def test_a_second_runner_of_the_same_workspace_is_refused(
    make_studio: StudioFactory,
) -> None:
    studio, _driver, engine = await make_studio(studio=StudioSettings(brands=("alpha",)))
    assert isinstance(engine.clock, SimulatedClock)
    engine.clock.advance(60)  # no scheduled job is due
    stop, ready = asyncio.Event(), asyncio.Event()
    first = asyncio.create_task(run_studio(studio, stop, coord=engine.coord, ready=ready))
    await asyncio.wait_for(ready.wait(), timeout=10)
    with pytest.raises(ConflictError) as caught:
        await run_studio(studio, asyncio.Event(), coord=engine.coord, burst_now=True)
    assert caught.value.field == "workspace_id" and "already running" in caught.value.message
    assert await ItemStore(engine.db, engine.clock).list_items(studio.ctx.workspace_id) == []
    stop.set()
    await asyncio.wait_for(first, timeout=10)
    again = asyncio.Event()
    again.set()  # the lease was released: a new runner starts (and stops at once)
    await run_studio(studio, again, coord=engine.coord)


async def test_the_api_says_whether_the_studio_runs(make_studio: StudioFactory) -> None:
    studio, _driver, engine = await make_studio(studio=StudioSettings(brands=("alpha",)))
    assert isinstance(engine.clock, SimulatedClock)
    ws = studio.ctx.workspace_id
    other = (await engine.tenancy.create_workspace("elsewhere")).id
    app = create_app(engine, manage_engine=False)

    async def status(workspace: str) -> dict[str, object]:
        async with await client_for(engine, workspace, app) as client:
            r = await client.get("/api/studio")
            assert r.status_code == 200, r.text
            body: dict[str, object] = r.json()
            return body

    assert await status(ws) == {"running": False, "runner": None, "items": {}}
    await studio.burst(engine.clock.now())
    engine.clock.advance(60)
    stop, ready = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(run_studio(studio, stop, coord=engine.coord, ready=ready))
    await asyncio.wait_for(ready.wait(), timeout=10)
    now = await status(ws)
    runner = now.pop("runner")
    assert now == {"running": True, "items": {"published": 6}}
    assert isinstance(runner, dict) and runner["pid"] == os.getpid()
    assert runner["host"] == socket.gethostname()
    assert runner["since"] < runner["lease_until"]
    other_status = await status(other)  # its own studio, not ours
    assert other_status == {"running": False, "runner": None, "items": {}}
    stop.set()
    await asyncio.wait_for(running, timeout=10)
    assert (await status(ws))["running"] is False


async def test_a_studio_whose_lease_is_taken_over_stops(make_studio: StudioFactory) -> None:
    studio, _driver, engine = await make_studio(studio=StudioSettings(brands=("alpha",)))
    assert isinstance(engine.clock, SimulatedClock)
    ws = studio.ctx.workspace_id
    stop = asyncio.Event()
    async with claim(engine.db, ws, engine.clock, stop):
        with pytest.raises(ConflictError) as caught:
            async with claim(engine.db, ws, engine.clock, asyncio.Event()):
                pass
        assert f"process {os.getpid()} on " in caught.value.message  # names who runs it
        # Another process takes over, as if this one had stalled past the lease.
        async with engine.db.write() as session:
            await session.execute(delete(StudioRunnerRow).where(StudioRunnerRow.workspace_id == ws))
        assert await current_runner(engine.db, engine.clock, ws) is None
        successor = StudioLease(engine.db, engine.clock, ws)
        assert await successor.acquire(LEASE_SECONDS)
        assert not stop.is_set()
        await asyncio.wait_for(engine.clock.parked.wait(), timeout=10)  # the keeper waits
        engine.clock.advance(LEASE_SECONDS / 3)
        await asyncio.wait_for(stop.wait(), timeout=10)
    runner = await current_runner(engine.db, engine.clock, ws)  # the successor keeps it
    assert runner is not None and runner.holder == successor.holder


async def test_engines_sharing_only_the_database_see_one_runner(
    db_settings: dict[str, str | None],
) -> None:
    """Two processes of the embedded profile (memory:// each) share only the database."""
    clock = SimulatedClock(DEFAULT_START)
    settings = Settings.load(**db_settings, coord_url="memory://")
    async with (
        Maestro.from_settings(settings, clock=clock) as one,
        Maestro.from_settings(settings, clock=clock) as other,
    ):
        ws = (await one.tenancy.create_workspace("shared-db")).id
        elsewhere = (await one.tenancy.create_workspace("elsewhere")).id
        stop = asyncio.Event()
        async with claim(one.db, ws, clock, stop):
            assert await current_runner(other.db, clock, ws) is not None
            assert await current_runner(other.db, clock, elsewhere) is None
            with pytest.raises(ConflictError, match="already running"):
                async with claim(other.db, ws, clock, asyncio.Event()):
                    pass
            async with claim(other.db, elsewhere, clock, asyncio.Event()):
                pass  # another workspace's studio is not ours to block
        assert await current_runner(other.db, clock, ws) is None
        async with claim(other.db, ws, clock, asyncio.Event()):  # released: free again
            assert await current_runner(one.db, clock, ws) is not None
        crashed = StudioLease(one.db, clock, ws)  # acquired, then never renewed nor released
        assert await crashed.acquire(LEASE_SECONDS)
        assert not await StudioLease(other.db, clock, ws).acquire(LEASE_SECONDS)
        clock.advance(LEASE_SECONDS)
        assert await current_runner(other.db, clock, ws) is None
        assert await StudioLease(other.db, clock, ws).acquire(LEASE_SECONDS)
        assert not await crashed.extend(LEASE_SECONDS)  # it has lost the lease for good
