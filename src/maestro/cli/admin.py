"""``maestro db``, ``maestro workspace`` and ``maestro key``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from maestro.cli._common import console, run, with_engine

if TYPE_CHECKING:
    from maestro.engine import Maestro
    from maestro.store.db import Database

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
workspace_app = typer.Typer(help="Workspaces: the unit of tenancy.", no_args_is_help=True)
key_app = typer.Typer(
    help="API keys (only a hash is stored; a key is shown once).", no_args_is_help=True
)


def _database() -> Database:
    from maestro.config import Settings
    from maestro.store.db import Database

    settings = Settings.load()
    return Database(settings.database_url, schema=settings.database_schema)


@db_app.command("upgrade")
def db_upgrade(
    revision: str = typer.Argument("heads", help="Target revision; 'heads' applies everything."),
) -> None:
    """Apply pending migrations to the configured database."""
    db = _database()

    async def go() -> None:
        try:
            await db.upgrade(revision)
        finally:
            await db.dispose()

    run(go())
    console.print(f"database at [bold]{db.safe_url}[/] is at [green]{revision}[/]")


@db_app.command("downgrade")
def db_downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. 'base' to drop everything."),
) -> None:
    """Revert migrations down to REVISION."""
    db = _database()

    async def go() -> None:
        try:
            await db.downgrade(revision)
        finally:
            await db.dispose()

    run(go())
    console.print(f"database at [bold]{db.safe_url}[/] is at [yellow]{revision}[/]")


@workspace_app.command("create")
def workspace_create(name: str = typer.Argument(..., help="Unique workspace name.")) -> None:
    """Create a workspace."""
    ws = with_engine(lambda e: e.tenancy.create_workspace(name))
    console.print(f"created workspace [bold]{ws.name}[/] ({ws.id})")


@workspace_app.command("list")
def workspace_list() -> None:
    """List workspaces."""
    rows = with_engine(lambda e: e.tenancy.list_workspaces())
    table = Table("name", "id", "created")
    for ws in rows:
        table.add_row(ws.name, ws.id, ws.created_at.isoformat(timespec="seconds"))
    console.print(table)


@key_app.command("create")
def key_create(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    label: str = typer.Option("", help="A note to recognise the key by."),
) -> None:
    """Create an API key; the secret is printed once and never stored."""

    async def go(engine: Maestro) -> tuple[str, str]:
        info, secret = await engine.tenancy.create_key(workspace, label=label)
        return info.prefix, secret

    prefix, secret = with_engine(go)
    console.print(f"key [bold]{prefix}[/] created; store it now, it is not shown again:")
    print(secret)


@key_app.command("list")
def key_list(workspace: str = typer.Argument(..., help="Workspace name or id.")) -> None:
    """List a workspace's keys (prefixes only)."""
    rows = with_engine(lambda e: e.tenancy.list_keys(workspace))
    table = Table("prefix", "label", "created", "revoked")
    for k in rows:
        table.add_row(
            k.prefix,
            k.label,
            k.created_at.isoformat(timespec="seconds"),
            k.revoked_at.isoformat(timespec="seconds") if k.revoked_at else "",
        )
    console.print(table)


@key_app.command("revoke")
def key_revoke(
    key: str = typer.Argument(..., help="The key's prefix, id or whole secret."),
) -> None:
    """Revoke an API key; requests presenting it get 401 from now on."""
    info = with_engine(lambda e: e.tenancy.revoke_key(key))
    console.print(f"key [bold]{info.prefix}[/] revoked")
