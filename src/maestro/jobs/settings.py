"""Background job settings: the in-process scheduler and the arq workers."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DEFAULT_LAG_ALERT_S", "DEFAULT_WORKER_MAX_JOBS", "JobsSettings"]

DEFAULT_LAG_ALERT_S: Final = 300.0
"""Maestro's choice: scheduler lag above which its health check reports degraded."""
DEFAULT_WORKER_MAX_JOBS: Final = 4
"""Maestro's choice: jobs one arq worker runs at a time (batches are CPU and database bound)."""


class JobsSettings(BaseModel):
    """Where periodic jobs run and how."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    in_process: bool = True
    """Run periodic jobs on the in-process scheduler of ``maestro serve`` (off when
    ``maestro worker`` processes run them)."""
    lag_alert_s: float = Field(default=DEFAULT_LAG_ALERT_S, gt=0)
    """Scheduler lag (seconds behind schedule) that marks the scheduler unhealthy."""
    worker_max_jobs: int = Field(default=DEFAULT_WORKER_MAX_JOBS, ge=1)
    """Jobs one ``maestro worker`` process runs concurrently."""
    worker_job_timeout_s: float = Field(default=600.0, gt=0)
    """A job running longer than this is cancelled (and retried by arq)."""
    queue: str = "jobs"
    """arq queue name, under the settings' ``key_prefix``."""
