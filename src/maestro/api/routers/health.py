"""Liveness and readiness (no authentication: for load balancers and orchestrators)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from maestro.api.deps import EngineDep
from maestro.health import overall_status

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "a component is down"}})
async def ready(engine: EngineDep) -> JSONResponse:
    """Every component's check: 503 when one is down; ``degraded`` still serves (200)."""
    components: dict[str, dict[str, Any]] = await engine.health()
    status = overall_status(components)
    return JSONResponse(
        {"status": status, "components": components},
        status_code=503 if status == "down" else 200,
    )
