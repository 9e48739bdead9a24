"""Prometheus exposition of every metric Maestro records."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Latency histograms, LLM calls/tokens/cost, cache hits, bucket levels, job lag."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
