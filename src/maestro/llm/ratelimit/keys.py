"""Quota keys: which bucket a call draws from (a provider, a model, a workspace)."""

from __future__ import annotations

from typing import Literal

from maestro.errors import ValidationError

__all__ = ["QuotaKind", "check_key", "model_key", "provider_key", "quota_key", "workspace_key"]

QuotaKind = Literal["provider", "model", "workspace"]
KINDS: tuple[QuotaKind, ...] = ("provider", "model", "workspace")


def quota_key(kind: QuotaKind, name: str) -> str:
    """``kind:name``, e.g. ``model:gpt-4o-mini``."""
    if kind not in KINDS:
        raise ValidationError(
            f"unknown quota kind {kind!r}; accepted: {', '.join(KINDS)}", field="kind"
        )
    if not name or any(c.isspace() for c in name):
        raise ValidationError(f"quota name {name!r} must be non-empty without spaces", field="key")
    return f"{kind}:{name}"


def provider_key(provider: str) -> str:
    """The bucket shared by every model of ``provider``."""
    return quota_key("provider", provider)


def model_key(model: str) -> str:
    """The bucket of one model."""
    return quota_key("model", model)


def workspace_key(workspace_id: str) -> str:
    """The bucket of one workspace (tenant)."""
    return quota_key("workspace", workspace_id)


def check_key(key: str) -> str:
    """``key`` if it is a usable quota key, else :class:`ValidationError`."""
    if not key or len(key) > 200 or any(c.isspace() for c in key):
        raise ValidationError(
            f"quota key {key!r} must be 1-200 characters without spaces", field="key"
        )
    return key
