"""Migrations and tenancy at the repository level, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from maestro.clock import ManualClock
from maestro.config import Settings
from maestro.engine import Maestro
from maestro.errors import BackendUnavailableError, ConflictError, NotFoundError, ValidationError
from maestro.store.db import Database
from maestro.store.tables.tenancy import ApiKeyRow
from maestro.store.tenancy import TenancyRepo


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migrations_go_up_and_down(db_settings: dict[str, str | None]) -> None:
    db = Database(str(db_settings["database_url"]), schema=db_settings["database_schema"])
    await db.upgrade()
    assert {"workspaces", "api_keys"} <= await _tables(db)
    await db.downgrade("base")
    assert await _tables(db) <= {"alembic_version"}
    await db.upgrade()
    assert {"workspaces", "api_keys"} <= await _tables(db)
    await db.dispose()


async def test_upgrade_is_idempotent(db: Database) -> None:
    before = await _tables(db)
    await db.upgrade()
    assert await _tables(db) == before


async def test_workspace_names_are_unique_and_validated(db: Database, clock: ManualClock) -> None:
    repo = TenancyRepo(db, clock)
    await repo.create_workspace("acme")
    with pytest.raises(ConflictError, match="acme"):
        await repo.create_workspace("acme")
    with pytest.raises(ValidationError) as err:
        await repo.create_workspace("bad name!")
    assert err.value.field == "name"
    assert [w.name for w in await repo.list_workspaces()] == ["acme"]


async def test_keys_are_hashed_and_authenticate_only_their_workspace(
    db: Database, clock: ManualClock
) -> None:
    repo = TenancyRepo(db, clock)
    a = await repo.create_workspace("a")
    b = await repo.create_workspace("b")
    _, key_a = await repo.create_key("a")
    _, key_b = await repo.create_key(b.id)
    async with db.read() as s:
        stored = [r.key_hash for r in await s.scalars(select(ApiKeyRow))]
    assert key_a not in stored and key_b not in stored
    assert all(len(h) == 64 for h in stored)
    assert (await repo.authenticate(key_a)) == a
    assert (await repo.authenticate(key_b)) == b
    assert await repo.authenticate(key_a[:-1] + ("x" if key_a[-1] != "x" else "y")) is None
    assert await repo.authenticate("nonsense") is None


async def test_workspace_a_cannot_list_workspace_b_keys(db: Database, clock: ManualClock) -> None:
    repo = TenancyRepo(db, clock)
    await repo.create_workspace("a")
    await repo.create_workspace("b")
    ka, _ = await repo.create_key("a", label="mine")
    kb, _ = await repo.create_key("b", label="theirs")
    assert [k.prefix for k in await repo.list_keys("a")] == [ka.prefix]
    assert [k.prefix for k in await repo.list_keys("b")] == [kb.prefix]


async def test_revoked_key_no_longer_authenticates(db: Database, clock: ManualClock) -> None:
    repo = TenancyRepo(db, clock)
    await repo.create_workspace("a")
    _info, secret = await repo.create_key("a")
    clock.advance(60)
    revoked = await repo.revoke_key(secret)
    assert revoked.revoked_at == clock.now()
    assert await repo.authenticate(secret) is None
    with pytest.raises(NotFoundError):
        await repo.revoke_key("deadbeef")


async def test_a_cached_key_is_revoked_at_once_here_and_within_the_bound_elsewhere(
    db: Database, clock: ManualClock
) -> None:
    here = TenancyRepo(db, clock, auth_cache_s=5)
    elsewhere = TenancyRepo(db, clock, auth_cache_s=5)  # another process on the same database
    a = await here.create_workspace("a")
    _, first = await here.create_key("a")
    _, second = await here.create_key("a")
    assert await here.authenticate(first) == a
    assert await elsewhere.authenticate(first) == a
    await here.revoke_key(first)
    assert await here.authenticate(first) is None
    clock.advance(4)
    assert await elsewhere.authenticate(first) == a  # within the documented staleness bound
    clock.advance(1.5)
    assert await elsewhere.authenticate(first) is None
    assert await here.authenticate(second) == a
    await elsewhere.revoke_key(second)
    clock.advance(5.5)
    assert await here.authenticate(second) is None


async def test_unreachable_database_names_url_without_password() -> None:
    db = Database("postgresql+asyncpg://maestro:hunter2@127.0.0.1:1/prod")
    with pytest.raises(BackendUnavailableError) as err:
        await db.check()
    assert "127.0.0.1:1" in err.value.message
    assert "hunter2" not in err.value.message
    await db.dispose()


async def test_auth_cache_setting_zero_sees_another_process_revocation_at_once(
    tmp_path: Path, clock: ManualClock
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}"
    settings = Settings.load(database_url=url, api={"auth_cache_seconds": 0})
    async with Maestro.from_settings(settings, clock=clock) as engine:
        ws = await engine.tenancy.create_workspace("a")
        _, secret = await engine.tenancy.create_key("a")
        assert await engine.tenancy.authenticate(secret) == ws
        await TenancyRepo(engine.db, clock).revoke_key(secret)  # as the CLI would
        assert await engine.tenancy.authenticate(secret) is None
