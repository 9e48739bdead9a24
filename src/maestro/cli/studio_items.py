"""``maestro studio items``: the studio's held items; approve or reject from the terminal.

Works on the configured database like ``maestro approvals``. An approved item is
announced on the coordinator: a running studio that hears it (Redis, or the same
process) publishes it at once; otherwise it finds it in the database within
``studio.approval_poll_seconds`` (15 s).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.padding import Padding

from maestro.cli._common import console, with_engine

if TYPE_CHECKING:
    from maestro.cycles.items import Decision, ItemRecord
    from maestro.engine import Maestro

__all__ = ["items_app"]

STATUSES = ("held", "approved", "published", "rejected", "failed", "all")

items_app = typer.Typer(
    help="Items of the content studio: list, approve or reject held ones.", no_args_is_help=True
)


def _fate(r: ItemRecord) -> str:
    """``held until ...`` or ``published by ana at ...``: what a reviewer needs to know."""
    at = r.expires_at if r.status == "held" else r.decided_at
    when = at.strftime("%Y-%m-%d %H:%MZ") if at is not None else ""
    if r.status == "held":
        return f"[yellow]held[/] until {when}"
    who = f" by {r.decided_by}" if r.decided_by else f" ({r.rule})" if r.rule else ""
    return f"{r.status}{who} at {when}"


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

    items = with_engine(go)
    for r in items:  # a block per item: reviewers read the text, and need the whole id
        console.print(f"[bold]{r.id}[/]  {_fate(r)}")
        console.print(
            f"  {r.brand} · {r.strategy} · {r.topic} · quality {r.quality:.2f} · "
            f"{r.drafts} draft{'s' * (r.drafts != 1)}",
            style="dim",
        )
        text = " ".join(r.text.split())
        console.print(Padding(text if len(text) <= 280 else text[:277] + "...", (0, 0, 1, 2)))
    if not items:
        console.print(f"no {status if status != 'all' else ''} items".replace("  ", " "))


def _decide(workspace: str, item_id: str, decision: Decision, by: str, note: str | None) -> None:
    async def go(engine: Maestro) -> ItemRecord:
        from maestro.cycles.runner import decide_item

        ws = await engine.tenancy.get_workspace(workspace)
        return await decide_item(engine, ws.id, item_id, decision, by=by, note=note)

    item = with_engine(go)
    then = (
        "; a running studio publishes it within seconds, a stopped one when it starts"
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
    """Approve a held item; a running studio publishes it within seconds."""
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
