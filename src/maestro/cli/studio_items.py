"""``maestro studio items``: the studio's held items; approve or reject from the terminal.

Works on the configured database like ``maestro approvals``. An approved item is
announced on the coordinator: a running studio that hears it (Redis, or the same
process) publishes it at once; otherwise the studio's next retry tick does (every
30 minutes by default).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from maestro.cli._common import console, with_engine

if TYPE_CHECKING:
    from maestro.cycles.items import Decision, ItemRecord
    from maestro.engine import Maestro

__all__ = ["items_app"]

STATUSES = ("held", "approved", "published", "rejected", "failed", "all")

items_app = typer.Typer(
    help="Items of the content studio: list, approve or reject held ones.", no_args_is_help=True
)


def _when(record: ItemRecord) -> str:
    at = record.expires_at if record.status == "held" else record.decided_at
    return at.isoformat(timespec="seconds") if at is not None else ""


@items_app.command("list")
def items_list(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    status: str = typer.Option("held", help=", ".join(STATUSES) + "."),
    brand: str | None = typer.Option(None, help="Only this brand."),
    limit: int = typer.Option(100, min=1, max=500, help="At most this many, newest first."),
) -> None:
    """Items of a workspace, newest first (held ones by default)."""
    if status not in STATUSES:
        raise typer.BadParameter(f"must be one of {', '.join(STATUSES)}", param_hint="--status")

    async def go(engine: Maestro) -> list[ItemRecord]:
        from maestro.cycles.items import ITEM_STATUSES, ItemStore

        ws = await engine.tenancy.get_workspace(workspace)
        wanted = next((s for s in ITEM_STATUSES if s == status), None)  # None: all
        return await ItemStore(engine.db, engine.clock).list_items(
            ws.id, status=wanted, brand=brand, limit=limit
        )

    table = Table(
        "id", "brand", "strategy", "topic", "quality", "status", "expires/decided", "by", "text"
    )
    for r in with_engine(go):
        table.add_row(
            r.id,
            r.brand,
            r.strategy,
            r.topic,
            f"{r.quality:.2f}",
            r.status,
            _when(r),
            r.decided_by or "",
            r.text if len(r.text) <= 60 else r.text[:57] + "...",
        )
    console.print(table)


def _decide(workspace: str, item_id: str, decision: Decision, by: str, note: str | None) -> None:
    async def go(engine: Maestro) -> ItemRecord:
        from maestro.cycles.runner import decide_item

        ws = await engine.tenancy.get_workspace(workspace)
        return await decide_item(engine, ws.id, item_id, decision, by=by, note=note)

    item = with_engine(go)
    then = (
        "; a running studio that hears of it publishes it now, else at its next retry tick"
        if item.status == "approved"
        else ""
    )
    console.print(
        f"item [bold]{item.id}[/] ({item.brand}) {item.status} by {item.decided_by}{then}"
    )


@items_app.command("approve")
def items_approve(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    item_id: str = typer.Argument(..., metavar="ITEM", help="The item's id."),
    by: str = typer.Option("cli", help="Who decides."),
    note: str | None = typer.Option(None, help="Why (kept with the decision)."),
) -> None:
    """Approve a held item; a running studio publishes it now (at the latest on its retry tick)."""
    _decide(workspace, item_id, "approve", by, note)


@items_app.command("reject")
def items_reject(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    item_id: str = typer.Argument(..., metavar="ITEM", help="The item's id."),
    by: str = typer.Option("cli", help="Who decides."),
    note: str | None = typer.Option(None, help="Why (kept with the decision)."),
) -> None:
    """Reject a held item; it is never published."""
    _decide(workspace, item_id, "reject", by, note)
