"""Coordination backends, chosen by URL: ``memory://`` or ``redis://``."""

from __future__ import annotations

from maestro.clock import Clock
from maestro.coord.base import Coordinator, LocalState, Lock, Script, ScriptArg, Subscription
from maestro.errors import ConfigurationError

__all__ = [
    "Coordinator",
    "LocalState",
    "Lock",
    "Script",
    "ScriptArg",
    "Subscription",
    "connect",
]

SCHEMES = ("memory", "redis", "rediss")


def connect(url: str, *, prefix: str = "maestro:", clock: Clock | None = None) -> Coordinator:
    """The coordinator for ``url``; unknown schemes name the accepted ones."""
    scheme = url.split("://", 1)[0]
    if scheme == "memory":
        from maestro.coord.memory import MemoryCoordinator

        return MemoryCoordinator(url, prefix=prefix, clock=clock)
    if scheme in ("redis", "rediss"):
        from maestro.coord.redis import RedisCoordinator

        return RedisCoordinator(url, prefix=prefix)
    raise ConfigurationError(
        f"unsupported coordination URL scheme {scheme!r} in {url!r}; accepted: "
        + ", ".join(f"{s}://" for s in SCHEMES),
        field="coord_url",
    )
