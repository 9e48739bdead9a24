"""The FastAPI application: routers, error handlers and the engine's lifetime."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from maestro._version import __version__
from maestro.api.errors import install_error_handlers
from maestro.engine import Maestro

__all__ = ["ROUTER_MODULES", "create_app"]

ROUTER_MODULES: list[str] = [
    "maestro.api.routers.health",
    "maestro.api.routers.workspace",
    "maestro.api.routers.keys",
    "maestro.api.routers.metrics",
    "maestro.api.routers.costs",
    "maestro.api.routers.ratelimit",
    "maestro.api.routers.orchestrate",
    "maestro.api.routers.runs",
    "maestro.api.routers.approvals",
    "maestro.api.routers.agents",
    "maestro.api.routers.experiments",
    "maestro.api.routers.metrics_ingest",
    "maestro.api.routers.studio_items",
    "maestro.api.routers.users",
    "maestro.api.routers.recommend",
    "maestro.api.routers.population",
    "maestro.api.routers.strategies",
    "maestro.api.routers.patterns",
    "maestro.api.routers.dashboard",
]
"""Each module exposes ``router``; add one line per area."""


def create_app(
    engine: Maestro | None = None,
    *,
    manage_engine: bool | None = None,
    run_jobs: bool | None = None,
) -> FastAPI:
    """The app serving ``engine`` (built from settings if omitted).

    The app starts and closes the engine it built itself; an engine passed in is
    the caller's to manage unless ``manage_engine`` says otherwise. An app that
    manages its engine also runs the periodic jobs on the in-process scheduler
    when ``jobs.in_process`` is set (``run_jobs`` overrides).
    """
    owned = engine is None if manage_engine is None else manage_engine
    eng = engine or Maestro.from_settings()
    jobs = (owned and eng.settings.jobs.in_process) if run_jobs is None else run_jobs

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if owned:
            await eng.start()
        scheduler = None
        if jobs:
            from maestro.jobs.defaults import default_scheduler

            scheduler = default_scheduler(eng)
            eng.health_checks["scheduler"] = scheduler.health
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                await scheduler.stop()
                eng.health_checks.pop("scheduler", None)
            if owned:
                await eng.close()

    app = FastAPI(
        title="Maestro",
        version=__version__,
        description="Self-improving multi-agent orchestration engine.",
        lifespan=lifespan,
    )
    app.state.engine = eng
    install_error_handlers(app)
    for name in ROUTER_MODULES:
        app.include_router(importlib.import_module(name).router)
    return app
