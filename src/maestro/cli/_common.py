"""What every CLI command shares: running coroutines, the engine, clean errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

from maestro.errors import MaestroError

if TYPE_CHECKING:
    from maestro.engine import Maestro
    from maestro.orchestration.service import Orchestration

__all__ = ["console", "err_console", "orchestration_for", "run", "with_engine"]

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro``; a MaestroError becomes a one-line message and exit code 1."""
    try:
        return asyncio.run(coro)
    except MaestroError as exc:
        err_console.print(f"[bold red]error[/]: {exc.message}")
        raise typer.Exit(1) from None


def with_engine(fn: Callable[[Maestro], Awaitable[T]]) -> T:
    """Start an engine from settings, run ``fn`` with it, close it."""

    from maestro.engine import Maestro

    async def go() -> T:
        async with Maestro.from_settings() as engine:
            return await fn(engine)

    return run(go())


def orchestration_for(engine: Maestro) -> Orchestration:
    """The engine's orchestration service (imported on use: it is heavy)."""
    from maestro.orchestration.service import orchestration_for as build

    return build(engine)
