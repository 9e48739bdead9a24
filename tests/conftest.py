"""Shared fixtures: a manual clock, every storage and coordination backend, workspaces, the API.

Server URLs come from MAESTRO_TEST_POSTGRES_URL / MAESTRO_TEST_REDIS_URL (local
defaults). With CI=true a missing server fails the run; elsewhere the tests that
need it are skipped, and the summary says why.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from fastapi import FastAPI

# pytest-xdist workers inherit COLUMNS=80, and Rich freezes a console's width at
# construction; drop it so CLI tests see the width they ask for.
os.environ.pop("COLUMNS", None)

from maestro.api.app import create_app
from maestro.clock import ManualClock
from maestro.config import Settings
from maestro.coord import Coordinator, connect
from maestro.engine import Maestro
from maestro.store.db import Database

POSTGRES_URL = os.environ.get(
    "MAESTRO_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("MAESTRO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"
START = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("+asyncpg", ""))
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 1
        ):
            return True
    except OSError:
        return False


def require_server(name: str, url: str, port: int) -> None:
    """Skip (locally) or fail (CI) when a server the test needs is down."""
    if _reachable(url, port):
        return
    message = f"{name} is not reachable at {url} (set MAESTRO_TEST_{name.upper()}_URL)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def require_program(name: str, path: str, install: str) -> None:
    """Skip (locally) or fail (CI) when a program a test drives is not installed at ``path``."""
    if os.path.isfile(path) and os.access(path, os.X_OK):
        return
    message = f"{name} is not installed at {path} ({install})"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        params = getattr(item, "callspec", None)
        values = {v for v in params.params.values() if isinstance(v, str)} if params else set()
        if "postgres" in values:
            item.add_marker(pytest.mark.postgres)
        if "redis" in values:
            item.add_marker(pytest.mark.redis)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


# --- coordination -----------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
def coord_url(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        require_server("redis", REDIS_URL, 6379)
        return REDIS_URL
    return "memory://"


@pytest.fixture
def key_prefix() -> str:
    return f"test:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def coord(coord_url: str, key_prefix: str, clock: ManualClock) -> AsyncIterator[Coordinator]:
    c = connect(coord_url, prefix=key_prefix, clock=clock)
    yield c
    if coord_url.startswith("redis"):
        client = c.client  # type: ignore[attr-defined]
        keys = [k async for k in client.scan_iter(match=f"{key_prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    await c.close()


# --- storage ----------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def db_backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        require_server("postgres", POSTGRES_URL, 5432)
    return str(request.param)


@pytest.fixture
async def db_settings(db_backend: str, tmp_path: Path) -> AsyncIterator[dict[str, str | None]]:
    """``database_url`` and ``database_schema`` of a fresh, empty database."""
    if db_backend == "sqlite":
        yield {
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'maestro.db'}",
            "database_schema": None,
        }
        return
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = Database(POSTGRES_URL)
    async with admin.engine.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield {"database_url": POSTGRES_URL, "database_schema": schema}
    finally:
        async with admin.engine.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.dispose()


@pytest.fixture
def cli_env(
    db_settings: dict[str, str | None], key_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Environment for running ``maestro`` commands in process against the test database."""
    monkeypatch.setenv("MAESTRO_DATABASE_URL", str(db_settings["database_url"]))
    if db_settings["database_schema"]:
        monkeypatch.setenv("MAESTRO_DATABASE_SCHEMA", str(db_settings["database_schema"]))
    monkeypatch.setenv("MAESTRO_KEY_PREFIX", key_prefix)
    monkeypatch.setenv("COLUMNS", "300")  # Rich tables unwrapped, for assertions


@pytest.fixture
def db_url(db_settings: dict[str, str | None]) -> str:
    return str(db_settings["database_url"])


@pytest.fixture
async def db(db_settings: dict[str, str | None]) -> AsyncIterator[Database]:
    """A migrated database (every part's migrations at head)."""
    database = Database(str(db_settings["database_url"]), schema=db_settings["database_schema"])
    await database.upgrade()
    yield database
    await database.dispose()


# --- engine, workspaces and API -----------------------------------------------------


@pytest.fixture
async def engine(
    db_settings: dict[str, str | None], clock: ManualClock, key_prefix: str
) -> AsyncIterator[Maestro]:
    """An engine on the test database, in-process coordination and the manual clock."""
    settings = Settings.load(**db_settings, coord_url="memory://", key_prefix=key_prefix)
    eng = Maestro.from_settings(settings, clock=clock)
    await eng.start()
    yield eng
    await eng.close()


@pytest.fixture
async def workspace_id(engine: Maestro) -> str:
    return (await engine.tenancy.create_workspace("acme")).id


@pytest.fixture
async def other_workspace_id(engine: Maestro) -> str:
    return (await engine.tenancy.create_workspace("globex")).id


ClientFactory = Callable[[str], Awaitable[httpx.AsyncClient]]


async def client_for(
    engine: Maestro, workspace: str, app: FastAPI | None = None
) -> httpx.AsyncClient:
    """An API client of ``engine``'s app (or ``app``) holding a fresh key for ``workspace``."""
    _, secret = await engine.tenancy.create_key(workspace)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app or create_app(engine, manage_engine=False)),
        base_url="http://maestro.test",
        headers={"Authorization": f"Bearer {secret}"},
    )


@pytest.fixture
async def make_client(engine: Maestro) -> AsyncIterator[ClientFactory]:
    """``await make_client(workspace_id)``: an API client holding a fresh key for it."""
    app = create_app(engine, manage_engine=False)
    clients: list[httpx.AsyncClient] = []

    async def factory(workspace: str) -> httpx.AsyncClient:
        client = await client_for(engine, workspace, app)
        clients.append(client)
        return client

    yield factory
    for c in clients:
        await c.aclose()


@pytest.fixture
async def api(make_client: ClientFactory, workspace_id: str) -> httpx.AsyncClient:
    """An API client authenticated as ``workspace_id``."""
    return await make_client(workspace_id)


@pytest.fixture
async def anon(engine: Maestro) -> AsyncIterator[httpx.AsyncClient]:
    """An API client without a key."""
    app = create_app(engine, manage_engine=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://maestro.test"
    ) as client:
        yield client
