"""``maestro studio``: run a workspace's content studio on the wall clock."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING, Any

import typer

from maestro.cli._common import console, run, with_engine
from maestro.cli.studio_items import items_app

if TYPE_CHECKING:
    from maestro.agents.strategies import Strategy
    from maestro.cycles.runner import JobDone
    from maestro.engine import Maestro

__all__ = ["studio_app"]

studio_app = typer.Typer(
    help="The content studio: run its cycle for real; decide held items.", no_args_is_help=True
)
studio_app.add_typer(items_app, name="items")


@studio_app.command("run")
def studio_run(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    burst_now: bool = typer.Option(
        False, "--burst-now", help="Write a burst at start instead of waiting for its tick."
    ),
) -> None:
    """Run the studio's jobs (burst, metrics, feedback, evolution, scouting) until Ctrl-C.

    Brands, sink and periods come from the settings' [studio] section; ticks are
    aligned to UTC (the daily burst runs at midnight).
    """
    run(_run(workspace, burst_now))


async def _run(workspace: str, burst_now: bool) -> None:
    from maestro.cycles.runner import claim, run_studio
    from maestro.cycles.studio import Studio
    from maestro.engine import Maestro

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
            loop.add_signal_handler(sig, stop.set)
    async with Maestro.from_settings() as engine:
        ws = await engine.tenancy.get_workspace(workspace)
        async with claim(engine.db, ws.id, engine.clock, stop):  # before open: it may write
            studio = await Studio.open(engine, ws.id)
            cfg = studio.ctx.settings
            console.print(
                f"[bold]studio[/] of workspace [bold]{ws.name}[/]: "
                f"{_n(len(cfg.brands), 'brand')} ({', '.join(cfg.brands)}), "
                f"{_n(len(studio.ctx.agents), 'agent')}, sink {studio.ctx.sink.name}; "
                f"burst every {cfg.burst_every_hours:g} h. Ctrl-C stops."
            )
            try:
                scheduler = await run_studio(
                    studio,
                    stop,
                    burst_now=burst_now,
                    on_job=_print,
                    coord=engine.coord,
                    claimed=True,
                )
            finally:
                await studio.close()
    runs = sum(j.runs for j in scheduler.jobs.values())
    failures = sum(j.failures for j in scheduler.jobs.values())
    console.print(f"stopped after {runs} scheduled job runs ({failures} failed)")


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _print(done: JobDone) -> None:
    at = done.tick.isoformat(timespec="seconds")
    if done.error is not None:
        console.print(f"{at} [bold red]{done.job} failed[/]: {done.error}")
    else:
        console.print(f"{at} {done.job}: {_summary(done.result)}")


def _summary(result: Any) -> str:
    """A short line for what a job returned (a report dataclass, a count, a dict)."""
    fields = getattr(result, "__dataclass_fields__", None)
    if fields is not None:
        result = {k: getattr(result, k) for k in fields}
    if isinstance(result, dict):
        return ", ".join(f"{k} {_value(v)}" for k, v in result.items())
    return "done" if result is None else _value(result)


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.2f}"
    if isinstance(v, tuple | list):
        return str(len(v))
    return str(v)


strategies_app = typer.Typer(
    help="The workspace's strategy catalog: the eight defaults and your own.",
    no_args_is_help=True,
)
studio_app.add_typer(strategies_app, name="strategies")


@strategies_app.command("list")
def strategies_list(workspace: str = typer.Argument(..., help="Workspace name or id.")) -> None:
    """The catalog: defaults first, then the workspace's own in the order they were added."""
    from rich.table import Table

    from maestro.agents.population_store import PopulationStore

    async def go(engine: Maestro) -> list[Strategy]:
        ws = await engine.tenancy.get_workspace(workspace)
        return list(await PopulationStore(engine.db, engine.clock).catalog(ws.id))

    table = Table("name", "title", "prompt fragment", "")
    for s in with_engine(go):
        table.add_row(s.name, s.title, s.prompt_fragment, "default" if s.builtin else "custom")
    console.print(table)


@strategies_app.command("add")
def strategies_add(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    name: str = typer.Argument(..., help="Slug: 2-30 characters a-z, 0-9 and '-'."),
    title: str = typer.Option(..., help="Human-readable name."),
    fragment: str = typer.Option(..., help="Instruction inserted into generation prompts."),
    description: str = typer.Option("", help="Why and when it works, for people."),
) -> None:
    """Add a strategy; the studio's agents and policies take it up when the studio next opens."""

    from maestro.agents.population_store import PopulationStore
    from maestro.agents.strategies import Strategy

    async def go(engine: Maestro) -> Strategy:
        ws = await engine.tenancy.get_workspace(workspace)
        wanted = Strategy(name=name, title=title, prompt_fragment=fragment, description=description)
        return await PopulationStore(engine.db, engine.clock).add_strategy(ws.id, wanted)

    added = with_engine(go)
    console.print(
        f"added strategy [bold]{added.name}[/]; a running studio takes it up when restarted"
    )


@studio_app.command("learned")
def studio_learned(workspace: str = typer.Argument(..., help="Workspace name or id.")) -> None:
    """Per brand, what the studio's learner believes about each strategy."""
    from rich.table import Table

    from maestro.cycles.beliefs import BrandBeliefs, brand_beliefs
    from maestro.learning.policy_store import PolicyStore

    async def go(engine: Maestro) -> list[BrandBeliefs]:
        ws = await engine.tenancy.get_workspace(workspace)
        store = PolicyStore(engine.db, engine.clock, engine.settings.learning)
        return await brand_beliefs(engine.db, engine.clock, store, ws.id)

    found = with_engine(go)
    if not found:
        console.print("nothing learned yet: the studio learns once its first posts are measured")
    for b in found:
        table = Table(
            "strategy",
            "lift",
            "90% interval",
            "share of last 7 days",
            title=f"{b.brand}: {b.posts} posts learned ({b.policy}), best: {b.best or '-'}",
            title_justify="left",
        )
        for r in b.strategies:
            table.add_row(
                r.strategy,
                _pct(r.lift),
                f"{_pct(r.low)} to {_pct(r.high)}" if r.low is not None else "-",
                f"{r.recent_share:.0%}",
            )
        console.print(table)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0%}"
