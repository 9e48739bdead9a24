"""Every table, imported so that ``Base.metadata`` is complete (Alembic, tests).

Each part of Maestro keeps its tables in its own module here and ships its own
migration in ``maestro/store/migrations/versions``.
"""

from maestro.store.tables import (
    cycles,
    experiments,
    gateway,
    memory,
    orchestration,
    recommend,
    studio,
    tenancy,
)

__all__ = [
    "cycles",
    "experiments",
    "gateway",
    "memory",
    "orchestration",
    "recommend",
    "studio",
    "tenancy",
]
