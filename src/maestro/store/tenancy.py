"""Workspaces and API keys.

A key is shown once, at creation; only its SHA-256 is stored (keys are 256-bit
random secrets, so a fast hash is the right tool: there is nothing to brute-force).
Keys look like ``mk_<prefix>_<secret>``; the prefix finds the row, the hash proves it.

Authentication runs on every request, so a successful lookup is remembered for
``auth_cache_s`` seconds (5 by default), keyed by the key's hash. A revocation
made through this repository (the API's ``DELETE /api/keys/...``) drops the entry
at once; one made by another process (the CLI, another replica) takes effect
there within ``auth_cache_s``. Unknown, wrong and revoked keys are never cached.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from maestro.clock import Clock
from maestro.errors import ConflictError, NotFoundError, ValidationError
from maestro.store.db import Database
from maestro.store.tables.tenancy import ApiKeyRow, WorkspaceRow

__all__ = ["ApiKeyInfo", "TenancyRepo", "Workspace"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
AUTH_CACHE_S = 5.0
"""Default bound on how long another process's revocation can go unnoticed here."""
_AUTH_CACHE_MAX = 10_000


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyInfo:
    id: str
    workspace_id: str
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _ws(row: WorkspaceRow) -> Workspace:
    return Workspace(id=row.id, name=row.name, created_at=row.created_at)


def _key(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        workspace_id=row.workspace_id,
        prefix=row.prefix,
        label=row.label,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


class TenancyRepo:
    def __init__(self, db: Database, clock: Clock, *, auth_cache_s: float = AUTH_CACHE_S) -> None:
        self._db = db
        self._clock = clock
        self._auth_cache_s = auth_cache_s
        self._auth: dict[str, tuple[datetime, Workspace]] = {}
        """``sha256(secret) -> (valid until, workspace)`` of recently authenticated keys."""
        self._revocations = 0
        """Bumped after each revocation commits, so a lookup that raced it is not cached."""

    async def create_workspace(self, name: str) -> Workspace:
        if not _NAME.match(name):
            raise ValidationError(
                f"workspace name {name!r} must be 1-100 letters, digits, '_', '.' or '-'",
                field="name",
            )
        try:
            async with self._db.write() as s:
                row = WorkspaceRow(name=name, created_at=self._clock.now())
                s.add(row)
                await s.flush()
                return _ws(row)
        except IntegrityError:
            raise ConflictError(f"workspace {name!r} already exists", field="name") from None

    async def get_workspace(self, ref: str) -> Workspace:
        """A workspace by id or by name."""
        async with self._db.read() as s:
            row = await s.scalar(
                select(WorkspaceRow).where((WorkspaceRow.id == ref) | (WorkspaceRow.name == ref))
            )
        if row is None:
            raise NotFoundError(f"no workspace {ref!r}", field="workspace")
        return _ws(row)

    async def list_workspaces(self) -> list[Workspace]:
        async with self._db.read() as s:
            rows = await s.scalars(select(WorkspaceRow).order_by(WorkspaceRow.name))
            return [_ws(r) for r in rows]

    async def create_key(self, workspace: str, *, label: str = "") -> tuple[ApiKeyInfo, str]:
        """A new key for ``workspace`` (id or name): its record and the secret, shown once."""
        ws = await self.get_workspace(workspace)
        prefix = secrets.token_hex(4)
        secret = f"mk_{prefix}_{secrets.token_urlsafe(32)}"
        async with self._db.write() as s:
            row = ApiKeyRow(
                workspace_id=ws.id,
                prefix=prefix,
                key_hash=_hash(secret),
                label=label,
                created_at=self._clock.now(),
            )
            s.add(row)
            await s.flush()
            return _key(row), secret

    async def list_keys(self, workspace: str) -> list[ApiKeyInfo]:
        ws = await self.get_workspace(workspace)
        async with self._db.read() as s:
            rows = await s.scalars(
                select(ApiKeyRow)
                .where(ApiKeyRow.workspace_id == ws.id)
                .order_by(ApiKeyRow.created_at)
            )
            return [_key(r) for r in rows]

    async def revoke_key(self, ref: str) -> ApiKeyInfo:
        """Revoke a key by id, prefix or the whole secret."""
        prefix = ref.split("_")[1] if ref.startswith("mk_") and ref.count("_") >= 2 else ref
        async with self._db.write() as s:
            row = await s.scalar(
                select(ApiKeyRow).where((ApiKeyRow.id == ref) | (ApiKeyRow.prefix == prefix))
            )
            if row is None:
                raise NotFoundError(f"no API key {prefix!r}", field="key")
            if row.revoked_at is None:
                row.revoked_at = self._clock.now()
            info, digest = _key(row), row.key_hash
        self._revocations += 1
        self._auth.pop(digest, None)
        return info

    async def authenticate(self, secret: str) -> Workspace | None:
        """The workspace a key belongs to, or None for an unknown, wrong or revoked key."""
        parts = secret.split("_", 2)
        if len(parts) != 3 or parts[0] != "mk":
            return None
        digest = _hash(secret)
        now = self._clock.now()
        cached = self._auth.get(digest)
        if cached is not None:
            if cached[0] > now:
                return cached[1]
            self._auth.pop(digest, None)
        q = (
            select(ApiKeyRow.key_hash, ApiKeyRow.revoked_at, WorkspaceRow)
            .join(WorkspaceRow, WorkspaceRow.id == ApiKeyRow.workspace_id)
            .where(ApiKeyRow.prefix == parts[1])
        )
        generation = self._revocations
        async with self._db.read() as s:
            found = (await s.execute(q)).first()
        if found is None or found[1] is not None:
            return None
        if not hmac.compare_digest(found[0], digest):
            return None
        ws = _ws(found[2])
        if self._auth_cache_s > 0 and generation == self._revocations:
            if len(self._auth) >= _AUTH_CACHE_MAX:
                self._auth.clear()
            self._auth[digest] = (now + timedelta(seconds=self._auth_cache_s), ws)
        return ws
