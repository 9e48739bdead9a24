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
    scheduler.register("memory-retention", 3600.0, lambda _tick: _purge_memory(engine))
    scheduler.register("approval-timeouts", 60.0, lambda _tick: _expire_approvals(engine))
    return scheduler


async def _purge_memory(engine: Maestro) -> object:
    """Drop task history past 30 days and critiques past 7 (every workspace)."""
    from maestro.memory.manager import MemoryManager

    manager = MemoryManager(engine.db, engine.clock, settings=engine.settings.memory)
    return await manager.purge_expired()


async def _expire_approvals(engine: Maestro) -> object:
    """Apply the configured timeout outcome to pending approvals past their deadline."""
    from maestro.orchestration.service import orchestration_for

    return await orchestration_for(engine).expire_approvals()
