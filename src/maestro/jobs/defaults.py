"""The periodic jobs an engine runs on its in-process scheduler (the embedded default).

``maestro serve`` starts this scheduler when ``jobs.in_process`` is true; with
``maestro worker`` processes running the same jobs, ticks are still done once
because each job claims its tick in the coordinator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maestro.jobs.scheduler import Scheduler
from maestro.recommend.precompute import Precompute

if TYPE_CHECKING:
    from maestro.engine import Maestro

__all__ = ["default_scheduler"]


def default_scheduler(engine: Maestro) -> Scheduler:
    """A scheduler on the engine's clock with Maestro's periodic jobs registered (not started)."""
    scheduler = Scheduler(engine.clock, lag_alert_s=engine.settings.jobs.lag_alert_s)
    precompute = Precompute(
        engine.db, engine.clock, engine.coord, settings=engine.settings.recommend
    )
    scheduler.register("precompute", precompute.every, precompute.run_tick)
    return scheduler
