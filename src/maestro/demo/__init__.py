"""``maestro demo``: the content studio on simulated days, with a report and a plot.

- :mod:`maestro.demo.runner`: builds the embedded engine, runs the studio's jobs on
  simulated time against the audience simulator and records every publication
  next to what a random and an all-knowing strategy choice would have earned.
- :mod:`maestro.demo.report`: the report (JSON-able) and its console rendering.
- :mod:`maestro.demo.plot`: engagement and diversity over time as a PNG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from maestro.demo.runner import DemoConfig, DemoRun, run_demo

__all__ = ["DEFAULT_DAYS", "DemoConfig", "DemoRun", "run_demo"]

DEFAULT_DAYS: Final = 30
"""Simulated days of ``maestro demo``: about a minute on 2 cores."""


def __getattr__(name: str) -> Any:
    # The runner imports the whole engine; load it only when it is asked for.
    if name in ("DemoConfig", "DemoRun", "run_demo"):
        from maestro.demo import runner

        return getattr(runner, name)
    raise AttributeError(name)
