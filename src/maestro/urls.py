"""Backend URLs: the accepted schemes, and rendering them without passwords."""

from __future__ import annotations

__all__ = ["COORD_SCHEMES", "STORAGE_SCHEMES", "redact_url", "scheme_of"]

STORAGE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")
COORD_SCHEMES = ("memory", "redis", "rediss")


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0]


def redact_url(url: str) -> str:
    """The URL with any password replaced by ``***`` (for messages and logs)."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1] if "@" in url else url
