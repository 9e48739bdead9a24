"""Two `maestro worker` processes on real Redis, one tick: each (user, agent) computed once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.conftest import REDIS_URL, require_server

from maestro.clock import SystemClock
from maestro.recommend.agents import REGISTRY
from maestro.recommend.store import UserStateRepo
from maestro.sim.users import UserSimulator
from maestro.store.db import Database
from maestro.store.tables.recommend import AgentOutputRow
from maestro.store.tenancy import TenancyRepo

USERS = 60
BATCH = 7
MAESTRO = str(Path(sys.executable).with_name("maestro"))


@pytest.fixture
def redis_url() -> str:
    require_server("redis", REDIS_URL, 6379)
    return REDIS_URL


async def _results(pool: object, prefix: str, deadline: float) -> list[dict[str, object]]:
    """Wait for the claimed tick's batch jobs to finish; return their results."""
    from arq.jobs import Job

    redis = pool  # an ArqRedis
    while time.monotonic() < deadline:
        ticks = [k async for k in redis.scan_iter(match=f"{prefix}precompute:*:tick")]  # type: ignore[attr-defined]
        if ticks:
            ts = ticks[0].decode().split(":")[-2]
            n = -(-USERS // BATCH)
            infos = [await Job(f"precompute:{ts}:{i}", redis).result_info() for i in range(n)]  # type: ignore[arg-type]
            if all(info is not None for info in infos):
                return [info.result for info in infos]  # type: ignore[union-attr]
        await asyncio.sleep(0.2)
    raise AssertionError("the workers did not finish the tick in time")


@pytest.mark.slow
async def test_two_workers_compute_each_output_once(
    db: Database, db_settings: dict[str, str | None], redis_url: str
) -> None:
    from arq import create_pool
    from arq.connections import RedisSettings

    clock = SystemClock()
    ws = (await TenancyRepo(db, clock).create_workspace("acme")).id
    sim = UserSimulator(5)
    await sim.populate(UserStateRepo(db, clock), ws, sim.users(USERS), clock.now())

    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    env = {
        **os.environ,
        "MAESTRO_DATABASE_URL": str(db_settings["database_url"]),
        "MAESTRO_COORD_URL": redis_url,
        "MAESTRO_KEY_PREFIX": prefix,
        "MAESTRO_RECOMMEND__BATCH_SIZE": str(BATCH),
        "MAESTRO_JOBS__WORKER_MAX_JOBS": "2",
        "MAESTRO_LOG_LEVEL": "WARNING",
    }
    if db_settings["database_schema"]:
        env["MAESTRO_DATABASE_SCHEMA"] = str(db_settings["database_schema"])
    started = time.monotonic()
    workers = [
        await asyncio.create_subprocess_exec(
            MAESTRO,
            "worker",
            "--tick-now",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    try:
        results = await _results(pool, prefix, time.monotonic() + 90)
        print(f"tick done {time.monotonic() - started:.1f}s after the workers started")
    finally:
        for w in workers:
            w.send_signal(signal.SIGTERM)
        logs = [(await w.communicate())[1].decode() for w in workers]
        keys = [k async for k in pool.scan_iter(match=f"{prefix}*")]
        keys += [k async for k in pool.scan_iter(match="arq:*precompute*")]
        if keys:
            await pool.delete(*keys)
        await pool.aclose()

    assert not any(r["skipped"] for r in results), logs  # type: ignore[index]
    assert sum(r["computed"] for r in results) == USERS * len(REGISTRY)  # type: ignore[index, misc]
    per_agent: dict[str, int] = {}
    for r in results:
        for agent, n in r["by_agent"].items():  # type: ignore[index, union-attr]
            per_agent[agent] = per_agent.get(agent, 0) + n
    assert per_agent == {a.id: USERS for a in REGISTRY}
    async with db.read() as s:
        rows = await s.scalar(select(func.count()).select_from(AgentOutputRow))
    assert rows == USERS * len(REGISTRY)
