"""``maestro runs`` and ``maestro approvals`` against a real database."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from maestro.cli import app
from maestro.config import Settings
from maestro.engine import Maestro
from maestro.orchestration.context import AgentContext
from maestro.orchestration.service import orchestration_for
from maestro.orchestration.spec import CheckpointSpec, StageSpec, StepSpec, WorkflowSpec


def test_cli_lists_runs_and_approves(cli_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAESTRO_RATELIMIT__DEFAULT__CAPACITY", "100000")

    async def setup() -> str:
        async with Maestro.from_settings(Settings.load()) as engine:
            ws = (await engine.tenancy.create_workspace("cli-studio")).id
            spec = WorkflowSpec(
                goal="A post about tea",
                stages=(StageSpec(name="s", steps=(StepSpec(name="a", agent="seo_expert"),)),),
                checkpoints=(CheckpointSpec(name="gate", condition="before_execution"),),
            )
            run = await orchestration_for(engine).run_workflow(spec, AgentContext(workspace_id=ws))
            return run.id

    run_id = asyncio.run(setup())
    runner = CliRunner()
    listed = runner.invoke(app, ["runs", "list", "cli-studio"])
    assert listed.exit_code == 0, listed.output
    assert "waiting_approval" in listed.output
    approvals = runner.invoke(app, ["approvals", "list", "cli-studio"])
    assert approvals.exit_code == 0 and "gate" in approvals.output
    shown = runner.invoke(app, ["runs", "show", "cli-studio", run_id])
    [approval] = json.loads(shown.output)["approvals"]
    approved = runner.invoke(app, ["approvals", "approve", "cli-studio", approval["id"]])
    assert approved.exit_code == 0, approved.output
    assert "completed" in approved.output
    again = runner.invoke(app, ["approvals", "reject", "cli-studio", approval["id"]])
    assert again.exit_code == 1 and "already decided" in again.output
