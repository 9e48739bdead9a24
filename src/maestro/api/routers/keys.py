"""Key rotation for the caller's own workspace."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from maestro.api.deps import CurrentWorkspace, EngineDep
from maestro.errors import NotFoundError
from maestro.store.tenancy import ApiKeyInfo

router = APIRouter(prefix="/api/keys", tags=["workspace"])


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(default="", max_length=100, description="A note to recognise the key by.")


class KeyOut(BaseModel):
    prefix: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(KeyOut):
    secret: str = Field(description="The key itself: shown once, never stored.")


def _out(k: ApiKeyInfo) -> KeyOut:
    return KeyOut(prefix=k.prefix, label=k.label, created_at=k.created_at, revoked_at=k.revoked_at)


@router.get("")
async def list_keys(workspace: CurrentWorkspace, engine: EngineDep) -> list[KeyOut]:
    """This workspace's keys (prefixes only)."""
    return [_out(k) for k in await engine.tenancy.list_keys(workspace.id)]


@router.post("", status_code=201)
async def create_key(body: KeyCreate, workspace: CurrentWorkspace, engine: EngineDep) -> KeyCreated:
    """A new key for this workspace; the secret appears only in this response."""
    info, secret = await engine.tenancy.create_key(workspace.id, label=body.label)
    return KeyCreated(**_out(info).model_dump(), secret=secret)


@router.delete("/{prefix}")
async def revoke_key(prefix: str, workspace: CurrentWorkspace, engine: EngineDep) -> KeyOut:
    """Revoke one of this workspace's keys."""
    mine = {k.prefix for k in await engine.tenancy.list_keys(workspace.id)}
    if prefix not in mine:
        raise NotFoundError(f"no API key {prefix!r} in this workspace", field="prefix")
    return _out(await engine.tenancy.revoke_key(prefix))
