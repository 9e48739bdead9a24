"""``maestro recommend``: the recommendation pipeline (precompute now, reward report, demo)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from maestro.cli._common import console, run, with_engine
from maestro.engine import Maestro
from maestro.recommend.report import RewardReport

recommend_app = typer.Typer(help="The recommendation pipeline.", no_args_is_help=True)


@recommend_app.command("precompute")
def precompute() -> None:
    """Run one precompute tick now, in this process (claims the current tick)."""
    from maestro.recommend.precompute import Precompute

    async def go(engine: Maestro) -> None:
        pre = Precompute(engine.db, engine.clock, engine.coord, settings=engine.settings.recommend)
        report = await pre.run_tick(pre.tick_of(engine.clock.now()))
        if not report.claimed:
            console.print(f"tick {report.tick.isoformat()} was already claimed by another process")
            return
        console.print(
            f"tick {report.tick.isoformat()}: {report.batches} batches, {report.users} users, "
            f"{report.computed} outputs refreshed {report.by_agent}"
        )

    with_engine(go)


@recommend_app.command("report")
def report_cmd(
    workspace: str | None = typer.Option(None, help="Workspace name or id (default: all)."),
    log: Path | None = typer.Option(
        None, help="Read reactions from this JSON log file instead of the database."
    ),
    since: datetime | None = typer.Option(None, help="Only reactions since this time (UTC)."),
) -> None:
    """Reward (reward_milli) by contributing agent and by the user's local hour."""
    from datetime import UTC

    from maestro.recommend import report as rr

    if log is not None:
        records = rr.from_log(log)
    else:

        async def go(engine: Maestro) -> list[rr.FeedbackRecord]:
            ws_id = None
            if workspace is not None:
                ws_id = next(
                    (
                        w.id
                        for w in await engine.tenancy.list_workspaces()
                        if workspace in (w.id, w.name)
                    ),
                    None,
                )
                if ws_id is None:
                    from maestro.errors import NotFoundError

                    raise NotFoundError(f"no workspace {workspace!r}", field="workspace")
            start = since.replace(tzinfo=since.tzinfo or UTC) if since else None
            return await rr.from_db(engine.db, workspace_id=ws_id, since=start)

        records = with_engine(go)
    print_report(rr.summarise(records))


def print_report(report: RewardReport) -> None:
    console.print(f"{report.reactions} reactions, mean reward {report.mean_reward_milli:.0f} milli")
    for title, groups in (
        ("by contributing agent", report.by_agent),
        ("by local hour of the tip", report.by_hour),
        ("by reaction", report.by_reaction),
    ):
        table = Table(title, "reactions", "mean reward_milli", "total", title_justify="left")
        for g in groups:
            table.add_row(
                g.key, str(g.count), f"{g.mean_reward_milli:.0f}", str(g.total_reward_milli)
            )
        console.print(table)


@recommend_app.command("demo")
def demo(
    users: int = typer.Option(100, min=1, help="Simulated users."),
    days: int = typer.Option(3, min=1, help="Simulated days (one tip per user per day)."),
    seed: int = typer.Option(0, help="Simulator seed."),
) -> None:
    """Simulated users, daily tips through the whole pipeline, and the reward report."""
    from maestro.config import Settings
    from maestro.recommend.demo import run_demo

    settings = Settings.load()
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("tips", total=users * days)
        result = run(
            run_demo(
                settings,
                users=users,
                days=days,
                seed=seed,
                progress=lambda done, total: bar.update(task, completed=done),
            )
        )
    console.print(
        f"{result.tips} tips for {result.users} users over {result.days} days "
        f"({result.fallback_tips} from raw signals), "
        f"{result.outputs_computed} agent outputs computed"
    )
    console.print(f"a tip: [italic]{result.sample_tip}[/]")
    print_report(result.report)
    console.print(
        "simulator truth (users whose tips land when this agent contributes): "
        + ", ".join(f"{k} {v}" for k, v in sorted(result.truth.items()))
    )
