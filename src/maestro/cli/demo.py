"""``maestro demo``: the content studio on simulated days, with progress, a report and a plot."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from maestro.cli._common import console, run
from maestro.demo import DEFAULT_DAYS

if TYPE_CHECKING:
    from maestro.demo.runner import DemoConfig

__all__ = ["demo"]


def demo(
    days: float = typer.Option(DEFAULT_DAYS, min=1, help="Simulated days to run."),
    seed: int = typer.Option(7, help="Seed of the audience and of the studio's choices."),
    audience: str = typer.Option(
        "drifting", help="How hidden preferences move: drifting, switching or stationary."
    ),
    out: Path = typer.Option(Path("demo-out"), help="Folder for the report, plot and database."),
    recommend: bool = typer.Option(
        False,
        "--recommend",
        help="Run the recommendation pipeline instead: simulated users get daily tips "
        "(same as `maestro recommend demo`).",
    ),
) -> None:
    """Run a studio of 5 brands and 6 agents over 8 strategies against the audience simulator."""
    if recommend:
        from maestro.cli.recommend import demo as recommend_demo

        recommend_demo(users=100, days=3, seed=seed)
        return
    if audience not in ("drifting", "switching", "stationary"):
        raise typer.BadParameter(
            f"{audience!r}; accepted: drifting, switching, stationary", param_hint="--audience"
        )
    from maestro.demo.runner import DemoConfig

    config = DemoConfig(days=days, seed=seed, audience=audience, out=out)  # type: ignore[arg-type]
    run(_demo(config))


async def _demo(config: DemoConfig) -> None:
    from maestro.demo.plot import plot_report
    from maestro.demo.report import build_report, render, write_report
    from maestro.demo.runner import run_demo

    console.print(
        f"[bold]Maestro studio[/]: {config.days:g} simulated days, {config.audience} audience, "
        f"seed {config.seed} (offline model, SQLite in {config.out})"
    )
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TextColumn("day {task.completed:.0f}/{task.total:.0f}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("simulating", total=config.days)
        result = await run_demo(
            config, on_progress=lambda day: progress.update(task, completed=min(day, config.days))
        )
    try:
        report = await build_report(result)
    finally:
        await result.close()
    path = write_report(report, config.out)
    plot = await asyncio.to_thread(plot_report, report, config.out / "demo.png")
    render(report, console)
    console.print(f"report: {path}\nplot:   {plot}")
