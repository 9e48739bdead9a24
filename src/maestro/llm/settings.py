"""Gateway settings, kept apart from the gateway so reading configuration stays cheap."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from maestro.llm.types import Priority

__all__ = ["GatewaySettings", "QuotaKind"]

QuotaKind = Literal["provider", "model", "workspace"]


class GatewaySettings(BaseModel):
    """How the gateway applies quotas."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    quota_keys: tuple[QuotaKind, ...] = ("provider",)
    """Buckets every call takes a token from: the model's provider, the model, the workspace."""
    cache_enabled: bool = True
    """Consult and fill the response cache."""
    refuse_over_budget: tuple[Priority, ...] = Field(default=(Priority.P2, Priority.P3))
    """Priorities refused when the budget is spent; the others move to a cheaper model."""
