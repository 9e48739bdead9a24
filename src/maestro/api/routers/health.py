"""Liveness and readiness (no authentication: for load balancers and orchestrators)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from maestro.api.deps import EngineDep

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "a component is down"}})
async def ready(engine: EngineDep) -> JSONResponse:
    """Every component answers: database and coordination backend reported separately."""
    components: dict[str, dict[str, Any]] = await engine.health()
    ok = all(c.get("ok") for c in components.values())
    return JSONResponse(
        {"status": "ok" if ok else "degraded", "components": components},
        status_code=200 if ok else 503,
    )
