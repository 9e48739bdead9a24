"""``GET /api/rate-limit``: the caller's workspace quota and the shared provider/model buckets."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from maestro.api.deps import CurrentWorkspace, EngineDep
from maestro.llm.ratelimit import BucketState, workspace_key

router = APIRouter(prefix="/api", tags=["rate-limit"])

_SHARED_KINDS = ("provider:", "model:")


class RateLimitOut(BaseModel):
    """Token buckets the caller may see: its own workspace's and the shared ones."""

    workspace: BucketState
    """The caller's workspace quota (``workspace:<id>``)."""
    buckets: list[BucketState]
    """Provider and model buckets (shared by every workspace), by key."""
    degraded: bool
    """True while Redis is unreachable and the fallback policy applies."""
    backend: str
    """``memory`` or ``redis``."""


@router.get("/rate-limit")
async def rate_limit(engine: EngineDep, workspace: CurrentWorkspace) -> RateLimitOut:
    """Tokens, calls in the last hour and counters by priority, per bucket.

    Other workspaces' buckets are never listed.
    """
    limiter = engine.limiter
    mine = await limiter.state(workspace_key(workspace.id))
    shared = [k for k in await limiter.keys() if k.startswith(_SHARED_KINDS)]
    buckets = [await limiter.state(k) for k in shared]
    return RateLimitOut(
        workspace=mine, buckets=buckets, degraded=limiter.degraded, backend=limiter.backend
    )
