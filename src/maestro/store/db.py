"""The database: an async SQLAlchemy engine chosen by URL, plus migrations.

SQLite (the embedded default) runs in WAL mode with a busy timeout; write
transactions start with ``BEGIN IMMEDIATE`` and are serialised within the process,
so concurrent writers queue instead of failing half-way with "database is locked".
PostgreSQL uses asyncpg and its own MVCC.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from maestro.errors import BackendUnavailableError, ConfigurationError
from maestro.urls import STORAGE_SCHEMES, redact_url

__all__ = ["Database"]

SQLITE_BUSY_TIMEOUT_MS = 10_000
_MIGRATION_LOCK_ID = 7_314_159  # PostgreSQL advisory lock held while migrating


def _sqlite_setup(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One engine and its sessions. ``read()`` for queries, ``write()`` for changes."""

    def __init__(
        self, url: str, *, echo: bool = False, pool_size: int = 10, schema: str | None = None
    ) -> None:
        scheme = url.split("://", 1)[0]
        if scheme not in STORAGE_SCHEMES:
            accepted = ", ".join(STORAGE_SCHEMES)
            raise ConfigurationError(
                f"unsupported storage URL scheme {scheme!r}; accepted: {accepted}",
                field="database_url",
            )
        self.url = url
        self.is_sqlite = scheme.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if not self.is_sqlite:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
            if schema:
                kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
        self.engine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _sqlite_setup(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self._migrated = False

    @property
    def safe_url(self) -> str:
        return redact_url(self.url)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries; it is rolled back at the end."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session whose changes commit together at the end, or not at all.

        Do not nest: on SQLite writes are serialised by a process-wide lock.
        """
        async with self._write_guard(), self._sessions() as session:
            if self.is_sqlite:
                await session.connection(execution_options={"sqlite_immediate": True})
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    @asynccontextmanager
    async def _write_guard(self) -> AsyncIterator[None]:
        if self._write_lock is None:
            yield
        else:
            async with self._write_lock:
                yield

    async def ping(self) -> bool:
        """True when the database answers a trivial query; never raises."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def check(self) -> None:
        """Raise :class:`BackendUnavailableError` naming the URL (without password)."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (OperationalError, OSError, ConnectionError) as exc:
            raise BackendUnavailableError(
                f"cannot reach the database at {self.safe_url}: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0] if str(exc) else ''}"
            ) from None

    async def upgrade(self, revision: str = "heads") -> None:
        """Apply migrations up to ``revision`` (all parts' heads by default)."""
        await self._alembic("upgrade", revision)
        self._migrated = True

    async def downgrade(self, revision: str = "base") -> None:
        await self._alembic("downgrade", revision)
        self._migrated = False

    async def ensure_migrated(self) -> None:
        """Migrate once per process (the embedded default's first use)."""
        if not self._migrated:
            await self.upgrade()

    async def _alembic(self, command_name: str, revision: str) -> None:
        from alembic import command

        await self.check()
        cfg = alembic_config(self.url)

        def run(conn: Connection) -> None:
            cfg.attributes["connection"] = conn
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})"))
            getattr(command, command_name)(cfg, revision)

        if self._write_lock is None:
            async with self.engine.begin() as conn:
                await conn.run_sync(run)
        else:
            async with self._write_lock, self.engine.connect() as conn:
                conn = await conn.execution_options(sqlite_immediate=True)
                async with conn.begin():
                    await conn.run_sync(run)

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(url: str) -> Any:
    """An Alembic config pointing at the migrations shipped in the package."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option(
        "script_location", str(resources.files("maestro.store").joinpath("migrations"))
    )
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg
