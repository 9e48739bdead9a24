"""Configuration of the rate limiter (``Settings.ratelimit``, env ``MAESTRO_RATELIMIT__*``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from maestro.llm.ratelimit.policy import BucketPolicy

__all__ = [
    "DEFAULT_PROBE_BACKOFF",
    "DEFAULT_WAITER_LEASE",
    "OnUnavailable",
    "RateLimitSettings",
]

DEFAULT_PROBE_BACKOFF = 5.0
DEFAULT_WAITER_LEASE = 15.0

OnUnavailable = Literal["local_share", "fail_closed", "fail_open"]


class RateLimitSettings(BaseModel):
    """The priority token buckets: numbers per quota key and behaviour without Redis."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: BucketPolicy = BucketPolicy()
    """The bucket every quota key gets unless ``overrides`` names it or its kind."""
    overrides: dict[str, BucketPolicy] = Field(default_factory=dict)
    """Policies by exact quota key (``model:gpt-4o``) or by kind (``workspace``); exact wins."""
    on_unavailable: OnUnavailable = "local_share"
    """Redis unreachable: a local bucket with this replica's share, refuse, or allow all."""
    replicas: int = Field(default=1, ge=1)
    """How many replicas share the quota; the local share is the quota divided by this."""
    probe_backoff: float = Field(default=DEFAULT_PROBE_BACKOFF, gt=0)
    """Seconds between attempts to return to Redis while degraded."""
    waiter_lease: float = Field(default=DEFAULT_WAITER_LEASE, gt=0)
    """Seconds a waiting caller keeps its queue place on Redis without asking again."""
    redis_clock: Literal["server", "client"] = "server"
    """``server``: buckets use Redis ``TIME`` (replicas agree); ``client``: the injected clock."""

    def policy_for(self, key: str) -> BucketPolicy:
        """The policy of quota key ``key``."""
        exact = self.overrides.get(key)
        if exact is not None:
            return exact
        return self.overrides.get(key.split(":", 1)[0], self.default)
