"""``maestro experiments list/show`` against a real (SQLite) database."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from maestro.cli import app
from maestro.config import Settings
from maestro.engine import Maestro
from maestro.learning.experiments import ExperimentSpec, VariantSpec, experiments_for


def test_list_and_show(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"

    async def seed() -> str:
        async with Maestro.from_settings(Settings.load(database_url=url)) as engine:
            ws = await engine.tenancy.create_workspace("studio")
            experiments = experiments_for(engine)
            spec = ExperimentSpec("Hook Style Test", [VariantSpec("control"), VariantSpec("emo")])
            exp = await experiments.create(ws.id, spec)
            await experiments.start(ws.id, exp.id)
            await experiments.record_outcome(ws.id, exp.id, value=1, variant_id=exp.variants[1].id)
            return exp.id

    exp_id = asyncio.run(seed())
    runner = CliRunner()
    env = {"MAESTRO_DATABASE_URL": url, "COLUMNS": "200"}
    listed = runner.invoke(app, ["experiments", "list", "studio"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "Hook Style Test" in listed.output and exp_id in listed.output

    shown = runner.invoke(app, ["experiments", "show", "studio", exp_id], env=env)
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["experiment"]["status"] == "running"
    assert data["analysis"]["outcomes"] == 1

    missing = runner.invoke(app, ["experiments", "show", "studio", "nope"], env=env)
    assert missing.exit_code == 1
