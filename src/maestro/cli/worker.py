"""``maestro worker``: run periodic jobs on arq workers over Redis."""

from __future__ import annotations

import typer

from maestro.cli._common import err_console

worker_app = typer.Typer(
    help="Run background jobs (the precompute tick) on an arq worker over Redis.",
    invoke_without_command=True,
)


@worker_app.callback()
def worker(
    tick_now: bool = typer.Option(
        False, "--tick-now", help="Also run the current precompute tick at start-up."
    ),
    burst: bool = typer.Option(False, help="Exit once the queue is empty."),
) -> None:
    """Run a worker until stopped; start several for scale-out (each tick is done once)."""
    from maestro.config import Settings
    from maestro.errors import MaestroError
    from maestro.jobs.worker import run_worker
    from maestro.logs import configure_logging

    try:
        settings = Settings.load()
        configure_logging(settings.log_level, json_lines=settings.log_json)
        run_worker(settings, tick_now=tick_now, burst=burst)
    except MaestroError as exc:
        err_console.print(f"[bold red]error[/]: {exc.message}")
        raise typer.Exit(1) from None
