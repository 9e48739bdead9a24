"""The content cycle (seed 000): per workspace and brand, on the in-process scheduler.

- :class:`Studio` (``cycles/studio.py``): opens a workspace's studio and registers its jobs.
- ``burst``, ``feedback``, ``evolve``, ``scout``: what each job does.
- :mod:`~maestro.cycles.choice`: which strategy an agent writes with, and learning from outcomes.
- :mod:`~maestro.cycles.sinks`: where content goes and where its metrics come from.
- :mod:`~maestro.cycles.simclock`: simulated time for the demo, tests and benchmarks.

Settings import eagerly (``maestro.config`` needs them); everything else loads on
first attribute access, because it imports the engine, which imports the config.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from maestro.cycles.settings import StudioSettings, WebhookSinkSettings

if TYPE_CHECKING:
    from maestro.cycles.simclock import SimulatedClock, SimulationDriver
    from maestro.cycles.sinks import (
        HttpWebhookSink,
        MetricSource,
        PublishedItem,
        PushedMetrics,
        SimulatorSink,
        Sink,
    )
    from maestro.cycles.studio import Studio

_LAZY = {
    "Studio": "studio",
    "SimulatedClock": "simclock",
    "SimulationDriver": "simclock",
    "HttpWebhookSink": "sinks",
    "MetricSource": "sinks",
    "PublishedItem": "sinks",
    "PushedMetrics": "sinks",
    "SimulatorSink": "sinks",
    "Sink": "sinks",
}

__all__ = [
    "HttpWebhookSink",
    "MetricSource",
    "PublishedItem",
    "PushedMetrics",
    "SimulatedClock",
    "SimulationDriver",
    "SimulatorSink",
    "Sink",
    "Studio",
    "StudioSettings",
    "WebhookSinkSettings",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'maestro.cycles' has no attribute {name!r}")
    return getattr(importlib.import_module(f"maestro.cycles.{module}"), name)
