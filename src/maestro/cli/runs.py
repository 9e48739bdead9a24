"""``maestro runs``: list, show, resume and recover orchestration runs."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from maestro.cli._common import console, orchestration_for, with_engine

if TYPE_CHECKING:
    from maestro.engine import Maestro
    from maestro.orchestration.service import RunView


runs_app = typer.Typer(
    help="Orchestration runs (workflows, self-correction, debates).", no_args_is_help=True
)


@runs_app.command("list")
def runs_list(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    status: str | None = typer.Option(None, help="Only runs in this status."),
    limit: int = typer.Option(50, min=1, max=500),
) -> None:
    """This workspace's runs, newest first."""

    async def go(engine: Maestro) -> list[tuple[str, ...]]:
        ws = await engine.tenancy.get_workspace(workspace)
        rows = await orchestration_for(engine).list_runs(ws.id, status=status, limit=limit)
        return [
            (r.id, r.kind, r.status, r.created_at.isoformat(timespec="seconds"), r.goal[:60])
            for r in rows
        ]

    table = Table("id", "kind", "status", "created", "goal")
    for row in with_engine(go):
        table.add_row(*row)
    console.print(table)


@runs_app.command("show")
def runs_show(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    run_id: str = typer.Argument(..., help="The run id."),
) -> None:
    """A run with its steps, approvals and result, as JSON."""

    async def go(engine: Maestro) -> RunView:
        ws = await engine.tenancy.get_workspace(workspace)
        return await orchestration_for(engine).get_run(ws.id, run_id)

    view = with_engine(go)
    print(json.dumps(_view(view), indent=2, default=str))


@runs_app.command("resume")
def runs_resume(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    run_id: str = typer.Argument(..., help="The run id."),
    force: bool = typer.Option(False, help="Take the run over even if a worker's lease is live."),
) -> None:
    """Continue a run from its persisted state (completed steps are not repeated)."""

    async def go(engine: Maestro) -> str:
        ws = await engine.tenancy.get_workspace(workspace)
        run = await orchestration_for(engine).resume(ws.id, run_id, force=force)
        return run.status

    console.print(f"run [bold]{run_id}[/] is [green]{with_engine(go)}[/]")


@runs_app.command("recover")
def runs_recover() -> None:
    """Resume every run whose worker died, and apply due approval timeouts."""
    resumed = with_engine(lambda e: orchestration_for(e).recover())
    console.print(f"resumed {len(resumed)} run(s)")


def _view(view: RunView) -> dict[str, object]:
    r = view.run
    return {
        "id": r.id,
        "kind": r.kind,
        "status": r.status,
        "goal": r.goal,
        "correlation_id": r.context.get("correlation_id"),
        "result": r.result,
        "error": r.error,
        "created_at": r.created_at,
        "finished_at": r.finished_at,
        "steps": [
            {"name": s.name, "status": s.status, "attempts": s.attempts, "quality": s.quality}
            for s in view.steps
        ],
        "approvals": [
            {"id": a.id, "checkpoint": a.checkpoint, "status": a.status, "by": a.decided_by}
            for a in view.approvals
        ],
    }
