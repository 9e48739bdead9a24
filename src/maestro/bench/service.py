"""Benchmark: the recommendation service under load, and the precompute job's throughput.

``/recommend`` (latency and throughput):
  A ``maestro serve``-equivalent server (uvicorn, one worker process, pinned to
  2 cores when the machine has more than 2) runs the real API over a database of
  users with fresh agent outputs, with the offline model behind the real gateway
  (its provider bucket raised so the quota does not throttle a load test). A
  separate process (this one) sends open-loop load at a fixed rate (100
  requests/s by default) and records each request's latency from its intended
  send time (so a late send, from a slow server or a slow generator, counts
  against the server rather than being hidden), then a closed loop
  of 16 concurrent clients measures the maximum throughput. The peer is what a
  team would otherwise build: compute the snippets on request (load the user's
  state, run the five agents, then the same prompt and gateway call), served by
  the same process at ``/bench/recommend-live``.

Precompute (outputs per second):
  N users (100k; ``quick``: 2k) with tasks and events from the user simulator.
  ``in-process``: one tick in this process (bulk reads, agents in a thread, one
  ``INSERT ... ON CONFLICT`` per batch). ``arq x1`` / ``arq x2``: one and two
  ``maestro worker`` processes on Redis; the clock starts when the tick job is
  enqueued and stops when the last batch job's arq result is stored (start-up
  excluded); the outputs are then counted once to check the tick was complete.
  The peer is the row-by-row ORM version (``session.merge`` per output, one
  transaction per batch) over the first users only, extrapolated per second.

Both on SQLite (a file) and PostgreSQL (when reachable).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import delete, func, select, text

from maestro.api.app import create_app
from maestro.api.deps import CurrentWorkspace, EngineDep
from maestro.api.routers.recommend import RecommendBody, RecommenderDep
from maestro.clock import SystemClock
from maestro.config import Settings
from maestro.engine import Maestro
from maestro.llm.templates import render
from maestro.llm.types import CompletionRequest, Priority
from maestro.recommend.agents import REGISTRY
from maestro.recommend.precompute import Precompute
from maestro.recommend.state import output_id
from maestro.recommend.store import UserStateRepo, load_states
from maestro.sim.users import UserSimulator
from maestro.store.db import Database
from maestro.store.tables.recommend import AgentOutputRow, RecUserRow
from maestro.store.tenancy import TenancyRepo

__all__ = ["live_app", "run"]

POSTGRES_URL = os.environ.get(
    "MAESTRO_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("MAESTRO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
RATE = 100.0
CONCURRENCY = 16
OFFLINE_BUCKET = json.dumps(
    {"provider:offline": {"capacity": 1_000_000, "refill_per_minute": 100_000_000}}
)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), 1):
            return True
    except OSError:
        return False


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


# --- the peer served next to the real API ---------------------------------------------


def live_app(engine: Maestro | None = None) -> FastAPI:
    """The real app plus ``POST /bench/recommend-live``: snippets computed on request."""
    app = create_app(engine)

    @app.post("/bench/recommend-live")
    async def recommend_live(
        body: RecommendBody,
        workspace: CurrentWorkspace,
        engine: EngineDep,
        rec: RecommenderDep,
    ) -> dict[str, str]:
        user = await rec.users.get_user(workspace.id, body.user_id)
        now = engine.clock.now()
        state = await rec.users.state(user, since=now - timedelta(days=28))
        snippets = [{"agent_id": a.id, "text": a.run(state, now).text} for a in REGISTRY]
        rendered = render("v4-orchestrator", topic="your tasks", snippets=snippets)
        request = CompletionRequest.of(
            rendered.text, model="tip-generator", max_tokens=120, temperature=0.7
        )
        result = await engine.gateway.complete(
            request, workspace=workspace.id, agent="bench", purpose="bench", priority=Priority.P1
        )
        return {"text": result.text}

    return app


# --- data -------------------------------------------------------------------------------


@asynccontextmanager
async def _database(backend: str, tmp: Path) -> AsyncIterator[dict[str, str | None]]:
    if backend == "sqlite":
        yield {"database_url": f"sqlite+aiosqlite:///{tmp / 'service.db'}", "database_schema": None}
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield {"database_url": POSTGRES_URL, "database_schema": schema}
    finally:
        async with admin.engine.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.dispose()


async def _populate(db: Database, users: int) -> tuple[str, list[str]]:
    clock = SystemClock()
    tenancy = TenancyRepo(db, clock)
    ws = await tenancy.create_workspace(f"bench-{uuid.uuid4().hex[:6]}")
    sim = UserSimulator(7)
    people = sim.users(users)
    await sim.populate(UserStateRepo(db, clock), ws.id, people, clock.now(), chunk=2000)
    _, secret = await tenancy.create_key(ws.id)
    return secret, [p.key for p in people]


async def _clear_outputs(db: Database) -> None:
    """Empty ``agent_outputs`` between runs, so each run starts from the same table.

    On PostgreSQL ``TRUNCATE``: a ``DELETE`` leaves every row dead in the table and
    its index until vacuum, and each later run's upserts had to step over them.
    """
    async with db.write() as s:
        if db.is_sqlite:
            await s.execute(delete(AgentOutputRow))
        else:
            await s.execute(text("TRUNCATE agent_outputs"))


async def _count_outputs(db: Database) -> int:
    async with db.read() as s:
        return int(await s.scalar(select(func.count()).select_from(AgentOutputRow)) or 0)


# --- /recommend under load ----------------------------------------------------------------


def _env(dbs: dict[str, str | None], prefix: str, coord: str = "memory://") -> dict[str, str]:
    env = {
        **os.environ,
        "MAESTRO_DATABASE_URL": str(dbs["database_url"]),
        "MAESTRO_COORD_URL": coord,
        "MAESTRO_KEY_PREFIX": prefix,
        "MAESTRO_RATELIMIT__OVERRIDES": OFFLINE_BUCKET,
        "MAESTRO_LOG_LEVEL": "WARNING",
        "MAESTRO_BUDGET__DAILY_USD": "1000000",
    }
    if dbs["database_schema"]:
        env["MAESTRO_DATABASE_SCHEMA"] = str(dbs["database_schema"])
    return env


def _pin_two_cores() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > 2:
        os.sched_setaffinity(0, cpus[:2])


async def _server(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "uvicorn",
        "maestro.bench.service:live_app",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        preexec_fn=_pin_two_cores,
    )
    deadline = time.monotonic() + 120
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            try:
                if (await client.get(f"http://127.0.0.1:{port}/docs")).status_code == 200:
                    return proc
            except httpx.TransportError:
                await asyncio.sleep(0.25)
    proc.kill()
    raise RuntimeError("the benchmark server did not start")


async def _open_loop(
    client: httpx.AsyncClient, path: str, users: list[str], rate: float, seconds: float
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0

    async def one(i: int, intended: float) -> None:
        nonlocal errors
        t = intended
        try:
            r = await client.post(path, json={"user_id": users[i % len(users)]})
        except httpx.HTTPError:
            errors += 1
            return
        if r.status_code == 200:
            latencies.append((time.perf_counter() - t) * 1000)
        else:
            errors += 1

    tasks = []
    start = time.perf_counter()
    n = int(rate * seconds)
    for i in range(n):
        intended = start + i / rate
        delay = intended - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, intended)))
    await asyncio.gather(*tasks)
    return {
        "requests": n,
        "errors": errors,
        "p50_ms": _pct(latencies, 0.50),
        "p95_ms": _pct(latencies, 0.95),
        "p99_ms": _pct(latencies, 0.99),
        "mean_ms": statistics.fmean(latencies) if latencies else float("nan"),
    }


async def _closed_loop(
    client: httpx.AsyncClient, path: str, users: list[str], seconds: float
) -> dict[str, float]:
    done = errors = 0
    stop = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        nonlocal done, errors
        i = k
        while time.perf_counter() < stop:
            try:
                r = await client.post(path, json={"user_id": users[i % len(users)]})
                ok = r.status_code == 200
            except httpx.HTTPError:
                ok = False
            done += ok
            errors += not ok
            i += CONCURRENCY

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))
    return {"throughput_rps": done / (time.perf_counter() - start), "errors": errors}


async def _recommend_bench(
    backend: str, tmp: Path, users: int, seconds: float, *, in_process: bool = False
) -> dict[str, Any]:
    async with _database(backend, tmp) as dbs:
        db = Database(str(dbs["database_url"]), schema=dbs["database_schema"])
        await db.upgrade()
        secret, keys = await _populate(db, users)
        from maestro.coord import connect

        pre = Precompute(db, SystemClock(), connect("memory://"))
        await pre.run_tick()
        await db.dispose()
        headers = {"Authorization": f"Bearer {secret}"}
        if in_process:  # quick mode: the app in this process, no server start-up
            env = _env(dbs, f"bench:{uuid.uuid4().hex[:8]}:")
            overrides = {k[8:].lower(): v for k, v in env.items() if k.startswith("MAESTRO_")}
            engine = Maestro.from_settings(Settings.load(**_nested(overrides)))
            await engine.start()
            transport = httpx.ASGITransport(app=live_app(engine))
            try:
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://bench", headers=headers
                ) as client:
                    return await _load(client, keys, seconds)
            finally:
                await engine.close()
        port = _free_port()
        server = await _server(_env(dbs, f"bench:{uuid.uuid4().hex[:8]}:"), port)
        try:
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{port}",
                headers=headers,
                timeout=httpx.Timeout(60.0, pool=None),
                limits=httpx.Limits(max_connections=1000),
            ) as client:
                return await _load(client, keys, seconds)
        finally:
            server.terminate()
            await server.wait()


def _nested(flat: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in flat.items():
        parts = key.split("__")
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = json.loads(value) if value.startswith("{") else value
    return out


async def _load(client: httpx.AsyncClient, keys: list[str], seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, path in (
        ("maestro (precomputed)", "/api/recommend"),
        ("peer (snippets on request)", "/bench/recommend-live"),
    ):
        await _open_loop(client, path, keys, RATE, min(1.0, seconds))  # warm-up
        row = await _open_loop(client, path, keys, RATE, seconds)
        row.update(await _closed_loop(client, path, keys, seconds))
        out[name] = row
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- precompute throughput ----------------------------------------------------------------


async def _orm_peer(db: Database, users: int) -> float:
    """Outputs/s of the row-by-row ORM version (session.merge per output) on ``users`` users."""
    now = datetime.now(tz=UTC)
    async with db.read() as s:
        rows = (
            await s.execute(
                select(
                    RecUserRow.id,
                    RecUserRow.workspace_id,
                    RecUserRow.key,
                    RecUserRow.timezone,
                    RecUserRow.focus_areas,
                )
                .order_by(RecUserRow.id)
                .limit(users)
            )
        ).all()
    people = [dict(r._mapping) for r in rows]
    start = time.perf_counter()
    n = 0
    for i in range(0, len(people), 500):
        part = people[i : i + 500]
        async with db.read() as s:
            states = await load_states(s, part, since=now - timedelta(days=28))
        async with db.write() as s:
            for st in states:
                for a in REGISTRY:
                    snip = a.run(st, now)
                    await s.merge(
                        AgentOutputRow(
                            id=output_id(st.id, a.id),
                            workspace_id=st.workspace_id,
                            user_id=st.id,
                            agent_id=a.id,
                            prompt_text=snip.text,
                            signals_snapshot=snip.signals,
                            computed_at=now,
                            expires_at=now + a.ttl,
                            agent_version=a.version,
                        )
                    )
                    n += 1
    return n / (time.perf_counter() - start)


async def _arq_tick(dbs: dict[str, str | None], workers: int, expected: int) -> float:
    """Outputs/s of one tick on ``workers`` worker processes (start-up excluded)."""
    from arq import create_pool
    from arq.connections import RedisSettings

    from maestro.jobs.worker import TICK_JOB, queue_name

    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    env = _env(dbs, prefix, REDIS_URL)
    settings = Settings.load(
        database_url=str(dbs["database_url"]), coord_url=REDIS_URL, key_prefix=prefix
    )
    procs = [
        await asyncio.create_subprocess_exec(
            str(Path(sys.executable).with_name("maestro")),
            "worker",
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(workers)
    ]
    pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    db = Database(str(dbs["database_url"]), schema=dbs["database_schema"])
    try:
        health = f"{queue_name(settings)}:health-check"
        deadline = time.monotonic() + 180
        while len([k async for k in pool.scan_iter(match=f"{health}*")]) < 1:
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start")
            await asyncio.sleep(0.2)
        from maestro.coord import connect

        batches = len(await Precompute(db, SystemClock(), connect("memory://")).plan())
        await asyncio.sleep(2.0)  # let every worker finish start-up
        start = time.perf_counter()
        await pool.enqueue_job(TICK_JOB, _queue_name=queue_name(settings))
        # Done when every batch job has stored its arq result (after its commit).
        # Polling Redis, not ``count(*)`` over the outputs table: counting half a
        # million rows 20 times a second took CPU from the workers being measured.
        deadline = time.monotonic() + 1800
        while await _results(pool) < batches:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} worker(s) did not finish the tick in 30 minutes")
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - start
        written = await _count_outputs(db)
        if written != expected:
            raise RuntimeError(f"{workers} worker(s) wrote {written} outputs, not {expected}")
        return expected / elapsed
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                await asyncio.wait_for(p.wait(), timeout=30)
            except TimeoutError:
                p.kill()
                await p.wait()
        keys = [k async for k in pool.scan_iter(match=f"{prefix}*")]
        keys += [k async for k in pool.scan_iter(match="arq:*precompute*")]
        if keys:
            await pool.delete(*keys)
        await pool.aclose()
        await db.dispose()


async def _results(pool: Any) -> int:
    """How many precompute batch jobs have finished (their arq results are stored)."""
    return len([k async for k in pool.scan_iter(match="arq:result:precompute:*", count=1000)])


async def _precompute_bench(
    backend: str, tmp: Path, users: int, peer_users: int, *, workers: bool
) -> dict[str, Any]:
    from maestro.coord import connect

    async with _database(backend, tmp) as dbs:
        db = Database(str(dbs["database_url"]), schema=dbs["database_schema"])
        await db.upgrade()
        t = time.perf_counter()
        await _populate(db, users)
        populate_s = time.perf_counter() - t
        expected = users * len(REGISTRY)
        out: dict[str, Any] = {"users": users, "populate_s": round(populate_s, 1)}
        t = time.perf_counter()
        report = await Precompute(db, SystemClock(), connect("memory://")).run_tick()
        out["maestro in-process"] = report.computed / (time.perf_counter() - t)
        await db.dispose()
        if workers and _reachable("127.0.0.1", 6379):
            for n in (1, 2):
                db = Database(str(dbs["database_url"]), schema=dbs["database_schema"])
                await _clear_outputs(db)
                await db.dispose()
                out[f"maestro arq x{n}"] = await _arq_tick(dbs, n, expected)
        db = Database(str(dbs["database_url"]), schema=dbs["database_schema"])
        await _clear_outputs(db)
        out["peer ORM row-by-row"] = await _orm_peer(db, peer_users)
        await db.dispose()
        return out


# --- entry point ----------------------------------------------------------------------------


async def run(out: Path, quick: bool = False) -> dict[str, Any]:
    pg = not quick and _reachable("127.0.0.1", 5432)
    backends = ["sqlite"] + (["postgres"] if pg else [])
    rec_users, seconds = (30, 1.0) if quick else (2_000, 10.0)
    pre_users, peer_users = (300, 100) if quick else (100_000, 10_000)
    result: dict[str, Any] = {
        "benchmark": "service",
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "method": {
            "recommend_rate_rps": RATE,
            "recommend_seconds": seconds,
            "recommend_users": rec_users,
            "closed_loop_concurrency": CONCURRENCY,
            "server_cores": min(2, len(os.sched_getaffinity(0))),
            "server": "in-process ASGI (quick)" if quick else "uvicorn in a separate process",
            "precompute_users": pre_users,
            "orm_peer_users": peer_users,
        },
        "recommend": {},
        "precompute": {},
    }
    loads: dict[str, list[float]] = {"start": _loadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        for backend in backends:
            sub = Path(tmp) / backend
            sub.mkdir()
            result["recommend"][backend] = await _recommend_bench(
                backend, sub, rec_users, seconds, in_process=quick
            )
            loads[f"after recommend {backend}"] = _loadavg()
            (sub / "service.db").unlink(missing_ok=True)
            result["precompute"][backend] = await _precompute_bench(
                backend, sub, pre_users, peer_users, workers=not quick
            )
            loads[f"after precompute {backend}"] = _loadavg()
    result["load_average"] = loads
    await asyncio.to_thread(_write, out, result)
    return result


def _loadavg() -> list[float]:
    """The machine's 1, 5 and 15 minute load averages (other work competes for the cores)."""
    return [round(x, 2) for x in os.getloadavg()]


def _write(out: Path, result: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "service.json").write_text(json.dumps(result, indent=2, default=str))
    (out / "service.md").write_text(_markdown(result))


def _markdown(r: dict[str, Any]) -> str:
    m = r["method"]
    lines = [
        "# Service benchmark: `/recommend` and precompute",
        "",
        f"{r['when']}, Python {r['machine']['python']}, {r['machine']['cpus']} CPUs"
        + (" (quick run: not a measurement)" if r["quick"] else ""),
        "",
        "Load average (1, 5, 15 min): "
        + "; ".join(
            f"{when} {', '.join(f'{x:.2f}' for x in v)}"
            for when, v in r.get("load_average", {}).items()
        ),
        "",
        f"## `/recommend` at {m['recommend_rate_rps']:.0f} requests/s for "
        f"{m['recommend_seconds']:.0f} s (server on {m['server_cores']} cores, offline model), "
        f"then {m['closed_loop_concurrency']} concurrent clients",
        "",
        "| database | implementation | p50 ms | p95 ms | p99 ms | errors | max req/s | "
        "p95 vs peer |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for backend, rows in r["recommend"].items():
        peer = rows.get("peer (snippets on request)", {})
        for name, row in rows.items():
            ratio = peer.get("p95_ms", float("nan")) / row["p95_ms"] if row["p95_ms"] else 0
            lines.append(
                f"| {backend} | {name} | {row['p50_ms']:.1f} | {row['p95_ms']:.1f} | "
                f"{row['p99_ms']:.1f} | {row['errors']} | {row['throughput_rps']:.0f} | "
                f"{ratio:.2f}x |"
            )
    lines += [
        "",
        f"## Precompute, {m['precompute_users']:,} users x 5 agents (outputs per second)",
        "",
        "| database | implementation | outputs/s | vs ORM peer |",
        "|---|---|---:|---:|",
    ]
    for backend, row in r["precompute"].items():
        peer = row["peer ORM row-by-row"]
        for name, value in row.items():
            if name in ("users", "populate_s"):
                continue
            lines.append(f"| {backend} | {name} | {value:,.0f} | {value / peer:.1f}x |")
    lines += [
        "",
        "Latency is measured from each request's intended send time (open loop), so a late "
        "send counts against the server. "
        f"The ORM peer ran on the first {m['orm_peer_users']:,} users. The arq rows are one tick "
        "on one and two `maestro worker` processes (start-up excluded; the clock stops when the "
        "last batch job's result is stored). Targets: `/recommend` p95 under 20 ms at 100 "
        "requests/s on 2 cores; at least 5,000 outputs/s per worker.",
        "",
    ]
    return "\n".join(lines)
