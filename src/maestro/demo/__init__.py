"""``maestro demo``: the content studio on simulated days, with a report and a plot.

- :mod:`maestro.demo.runner`: builds the embedded engine, runs the studio's jobs on
  simulated time against the audience simulator and records every publication
  next to what a random and an all-knowing strategy choice would have earned.
- :mod:`maestro.demo.report`: the report (JSON-able) and its console rendering.
- :mod:`maestro.demo.plot`: engagement and diversity over time as a PNG.
"""

from maestro.demo.runner import DEFAULT_DAYS, DemoConfig, DemoRun, run_demo

__all__ = ["DEFAULT_DAYS", "DemoConfig", "DemoRun", "run_demo"]
