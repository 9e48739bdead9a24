"""``maestro studio items`` against a real database (the app is mounted by ``maestro.cli``)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from typer.testing import CliRunner

from maestro.cli import app
from maestro.config import Settings
from maestro.cycles.items import ItemStore, NewItem
from maestro.engine import Maestro


def _item(n: int) -> NewItem:
    return NewItem(
        id=f"cli-item-{n}",
        seq=n,
        brand="alpha" if n < 2 else "beta",
        agent_id="agent",
        strategy="story",
        topic="sleep",
        text=f"Proposal number {n}.",
        quality=0.5,
        drafts=2,
    )


def test_cli_lists_approves_and_rejects_held_items(cli_env: None) -> None:

    async def setup() -> str:
        async with Maestro.from_settings(Settings.load()) as engine:
            ws = (await engine.tenancy.create_workspace("cli-studio")).id
            await engine.tenancy.create_workspace("cli-other")
            store = ItemStore(engine.db, engine.clock)
            for n in range(3):
                await store.add(
                    ws, _item(n), status="held", expires_at=engine.clock.now() + timedelta(hours=1)
                )
            return ws

    async def stored(ws: str, item_id: str) -> tuple[str, str | None, str | None, str | None]:
        async with Maestro.from_settings(Settings.load()) as engine:
            item = await ItemStore(engine.db, engine.clock).get(ws, item_id)
            return item.status, item.rule, item.decided_by, item.note

    ws = asyncio.run(setup())
    runner = CliRunner()
    listed = runner.invoke(app, ["studio", "items", "list", "cli-studio"])
    assert listed.exit_code == 0, listed.output
    assert all(f"cli-item-{n}" in listed.output for n in range(3))
    assert "held" in listed.output and "Proposal number 0." in listed.output
    beta = runner.invoke(app, ["studio", "items", "list", ws, "--brand", "beta"])
    assert beta.exit_code == 0 and "cli-item-2" in beta.output and "cli-item-0" not in beta.output

    approved = runner.invoke(
        app,
        ["studio", "items", "approve", "cli-studio", "cli-item-0", "--by", "ana", "--note", "nice"],
    )
    assert approved.exit_code == 0, approved.output
    assert "approved by ana" in approved.output and "within seconds" in approved.output
    assert asyncio.run(stored(ws, "cli-item-0")) == ("approved", "human:approve", "ana", "nice")
    again = runner.invoke(app, ["studio", "items", "approve", "cli-studio", "cli-item-0"])
    assert again.exit_code == 0 and "approved by ana" in again.output

    rejected = runner.invoke(app, ["studio", "items", "reject", "cli-studio", "cli-item-1"])
    assert rejected.exit_code == 0 and "rejected by cli" in rejected.output
    conflict = runner.invoke(app, ["studio", "items", "reject", "cli-studio", "cli-item-0"])
    assert conflict.exit_code == 1 and "already decided by ana" in conflict.output
    assert asyncio.run(stored(ws, "cli-item-0"))[0] == "approved"

    other = runner.invoke(app, ["studio", "items", "approve", "cli-other", "cli-item-2"])
    assert other.exit_code == 1 and "cli-item-2" in other.output
    assert asyncio.run(stored(ws, "cli-item-2"))[0] == "held"
    assert "cli-item" not in runner.invoke(app, ["studio", "items", "list", "cli-other"]).output

    held = runner.invoke(app, ["studio", "items", "list", "cli-studio"])
    assert "cli-item-2" in held.output and "cli-item-0" not in held.output
    everything = runner.invoke(app, ["studio", "items", "list", "cli-studio", "--status", "all"])
    assert all(f"cli-item-{n}" in everything.output for n in range(3))
    assert "ana" in everything.output
    bad = runner.invoke(app, ["studio", "items", "list", "cli-studio", "--status", "bogus"])
    assert bad.exit_code == 2 and "--status" in bad.output
