"""Background jobs: a periodic scheduler on the injected clock, and arq workers on Redis.

:mod:`maestro.jobs.scheduler` runs periodic jobs inside one process (the
embedded default); :mod:`maestro.jobs.worker` runs the same jobs on arq workers
for scale-out. Both use the coordinator so a tick's work happens once.
"""

from maestro.jobs.settings import JobsSettings

__all__ = ["JobsSettings"]
