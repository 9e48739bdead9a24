"""``maestro approvals``: the approval queue; approve or reject from the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from maestro.cli._common import console, orchestration_for, with_engine

if TYPE_CHECKING:
    from maestro.engine import Maestro
    from maestro.orchestration.records import ApprovalRecord


approvals_app = typer.Typer(help="Human-in-the-loop approvals.", no_args_is_help=True)


@approvals_app.command("list")
def approvals_list(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    status: str = typer.Option("pending", help="pending, approved, rejected, notified or all."),
) -> None:
    """Approvals of a workspace (pending by default)."""

    async def go(engine: Maestro) -> list[ApprovalRecord]:
        ws = await engine.tenancy.get_workspace(workspace)
        wanted = None if status == "all" else status
        return await orchestration_for(engine).list_approvals(ws.id, status=wanted)

    table = Table("id", "run", "checkpoint", "status", "expires", "decided by")
    for a in with_engine(go):
        table.add_row(
            a.id,
            a.run_id,
            a.checkpoint + (f" ({a.scope})" if a.scope else ""),
            a.status,
            a.expires_at.isoformat(timespec="seconds"),
            a.decided_by or "",
        )
    console.print(table)


def _decide(workspace: str, approval_id: str, decision: str, by: str, note: str | None) -> None:
    async def go(engine: Maestro) -> tuple[ApprovalRecord, str]:
        ws = await engine.tenancy.get_workspace(workspace)
        orch = orchestration_for(engine)
        a = await orch.decide(ws.id, approval_id, decision, by=by, note=note)  # type: ignore[arg-type]
        run = await orch.store.get_run(ws.id, a.run_id)
        return a, run.status

    approval, run_status = with_engine(go)
    console.print(
        f"approval [bold]{approval.id}[/] {approval.status}; run {approval.run_id} is {run_status}"
    )


@approvals_app.command("approve")
def approvals_approve(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    approval_id: str = typer.Argument(...),
    by: str = typer.Option("cli", help="Who decides."),
    note: str | None = typer.Option(None),
) -> None:
    """Approve and resume the run (in this process, until it finishes or waits again)."""
    _decide(workspace, approval_id, "approve", by, note)


@approvals_app.command("reject")
def approvals_reject(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    approval_id: str = typer.Argument(...),
    by: str = typer.Option("cli", help="Who decides."),
    note: str | None = typer.Option(None),
) -> None:
    """Reject; the run ends as rejected."""
    _decide(workspace, approval_id, "reject", by, note)
