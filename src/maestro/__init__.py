"""Maestro: a self-improving multi-agent orchestration engine.

The public surface is the names in ``__all__``. They are imported on first use
so that ``import maestro`` (and ``maestro --version``) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from maestro._version import __version__

if TYPE_CHECKING:
    from maestro.clock import Clock, ManualClock, SystemClock
    from maestro.config import Settings
    from maestro.engine import Maestro
    from maestro.errors import MaestroError
    from maestro.llm.types import CompletionRequest, CompletionResult, Message, Priority

_EXPORTS: dict[str, str] = {
    "Clock": "maestro.clock",
    "CompletionRequest": "maestro.llm.types",
    "CompletionResult": "maestro.llm.types",
    "Maestro": "maestro.engine",
    "MaestroError": "maestro.errors",
    "ManualClock": "maestro.clock",
    "Message": "maestro.llm.types",
    "Priority": "maestro.llm.types",
    "Settings": "maestro.config",
    "SystemClock": "maestro.clock",
}
"""Public name -> the module that defines it."""

__all__ = [
    "Clock",
    "CompletionRequest",
    "CompletionResult",
    "Maestro",
    "MaestroError",
    "ManualClock",
    "Message",
    "Priority",
    "Settings",
    "SystemClock",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'maestro' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
