"""``POST /api/metrics``: engagement of published posts, pushed by the platform.

The post is named by ``item_id`` (what the webhook sink sent when it published
it) or by ``post_id``. Idempotent by the client's ``key``: the first report is
applied (201), the same report again changes nothing (200, ``duplicate: true``), a
different report under a used key is a conflict (409). Invalid bodies get a 422
naming the field; a post of another workspace is not found (404).
"""

from __future__ import annotations

import math
from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from maestro.api.deps import CurrentWorkspace, EngineDep
from maestro.cycles.inbox import MetricsInbox

router = APIRouter(prefix="/api", tags=["metrics ingestion"])


class MetricsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(min_length=1, max_length=200, description="Client-supplied idempotency key.")
    item_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=36,
        description="The published item, as the webhook sent it (or give post_id).",
    )
    post_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=36,
        validate_default=True,
        description="The post (or give item_id).",
    )
    engagement: float = Field(ge=0.0, description="Engagement rate or score, >= 0.")
    metrics: dict[str, float] = Field(
        default_factory=dict, max_length=50, description="Raw counters (likes, saves, ...)."
    )

    @field_validator("engagement")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError("must be a finite number")
        return v

    @field_validator("post_id")
    @classmethod
    def _one_target(cls, v: str | None, info: ValidationInfo) -> str | None:
        if (v is None) == (info.data.get("item_id") is None):
            raise ValueError("give exactly one of item_id and post_id")
        return v

    @field_validator("metrics")
    @classmethod
    def _finite_metrics(cls, v: dict[str, float]) -> dict[str, float]:
        for name, value in v.items():
            if not name or len(name) > 50:
                raise ValueError(f"metric name {name[:60]!r} must be 1-50 characters")
            if not math.isfinite(value):
                raise ValueError(f"metric {name!r} must be a finite number")
        return v


class MetricsOut(BaseModel):
    key: str
    post_id: str
    engagement: float
    received_at: datetime
    duplicate: bool


@router.post("/metrics", status_code=201)
async def ingest_metrics(
    body: MetricsIn, workspace: CurrentWorkspace, engine: EngineDep, response: Response
) -> MetricsOut:
    """Record a post's engagement; the content cycle learns from it at its next collection."""
    result = await MetricsInbox(engine.db, engine.clock).ingest(
        workspace.id,
        client_key=body.key,
        post_id=body.post_id,
        item_id=body.item_id,
        engagement=body.engagement,
        metrics=body.metrics,
    )
    if result.duplicate:
        response.status_code = 200
    return MetricsOut(
        key=result.client_key,
        post_id=result.post_id,
        engagement=result.engagement,
        received_at=result.received_at,
        duplicate=result.duplicate,
    )
