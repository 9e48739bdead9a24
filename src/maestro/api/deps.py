"""Request dependencies: the engine, and the caller's workspace from its API key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from maestro.engine import Maestro
from maestro.errors import AuthenticationError
from maestro.store.tenancy import Workspace

__all__ = ["CurrentWorkspace", "EngineDep", "get_engine", "get_workspace"]

_bearer = HTTPBearer(auto_error=False, description="A workspace API key: `mk_...`")


async def get_engine(request: Request) -> Maestro:
    """The app's engine (``async`` so FastAPI does not hop to its thread pool for it)."""
    engine: Maestro = request.app.state.engine
    return engine


EngineDep = Annotated[Maestro, Depends(get_engine)]


async def get_workspace(
    engine: EngineDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Workspace:
    """The workspace of the presented key; 401 without saying what was wrong."""
    workspace = None
    if credentials is not None and credentials.scheme.lower() == "bearer":
        workspace = await engine.tenancy.authenticate(credentials.credentials)
    if workspace is None:
        raise AuthenticationError("a valid API key is required")
    return workspace


CurrentWorkspace = Annotated[Workspace, Depends(get_workspace)]
