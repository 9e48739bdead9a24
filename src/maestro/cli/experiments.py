"""``maestro experiments``: list a workspace's experiments, show one with its analysis."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from maestro.cli._common import console, with_engine

if TYPE_CHECKING:
    from maestro.engine import Maestro
    from maestro.learning.bayes import Analysis
    from maestro.learning.experiments import Experiment, ExperimentEngine


def experiments_for(engine: Maestro) -> ExperimentEngine:
    from maestro.learning.experiments import experiments_for as build

    return build(engine)


experiments_app = typer.Typer(help="Experiments (A/B, multivariate, bandit, sequential).")


@experiments_app.command("list")
def experiments_list(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    status: str | None = typer.Option(None, help="Only experiments in this status."),
    limit: int = typer.Option(50, min=1, max=500),
) -> None:
    """This workspace's experiments, newest first."""

    async def go(engine: Maestro) -> list[Experiment]:
        ws = await engine.tenancy.get_workspace(workspace)
        return await experiments_for(engine).list_experiments(ws.id, status=status, limit=limit)

    table = Table("name", "type", "allocation", "status", "outcomes", "winner")
    table.add_column("id", overflow="fold")
    for e in with_engine(go):
        names = {v.id: v.name for v in e.variants}
        winner = names.get(e.winner_variant_id or "", "")
        outcomes = str(sum(v.n for v in e.variants))
        table.add_row(e.name, e.kind, e.allocation, e.status, outcomes, winner, e.id)
    console.print(table)


@experiments_app.command("show")
def experiments_show(
    workspace: str = typer.Argument(..., help="Workspace name or id."),
    experiment_id: str = typer.Argument(..., help="The experiment id."),
) -> None:
    """An experiment, its variants and its current analysis, as JSON."""

    async def go(engine: Maestro) -> tuple[Experiment, Analysis]:
        ws = await engine.tenancy.get_workspace(workspace)
        experiments = experiments_for(engine)
        return (
            await experiments.get(ws.id, experiment_id),
            await experiments.analyze(ws.id, experiment_id),
        )

    experiment, analysis = with_engine(go)
    out = {"experiment": dataclasses.asdict(experiment), "analysis": dataclasses.asdict(analysis)}
    print(json.dumps(out, indent=2, default=str))
