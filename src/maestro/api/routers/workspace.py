"""The caller's own workspace."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from maestro.api.deps import CurrentWorkspace

router = APIRouter(prefix="/api", tags=["workspace"])


class WorkspaceOut(BaseModel):
    id: str
    name: str
    created_at: datetime


@router.get("/workspace")
async def my_workspace(workspace: CurrentWorkspace) -> WorkspaceOut:
    """The workspace the API key belongs to."""
    return WorkspaceOut(id=workspace.id, name=workspace.name, created_at=workspace.created_at)
