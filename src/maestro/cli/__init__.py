"""The ``maestro`` command line (Typer + Rich).

Each area lives in its own module and is registered here with one line.
"""

from __future__ import annotations

import typer

from maestro._version import __version__
from maestro.cli._common import console
from maestro.cli.admin import db_app, key_app, workspace_app
from maestro.cli.approvals import approvals_app
from maestro.cli.bench import bench
from maestro.cli.demo import demo
from maestro.cli.experiments import experiments_app
from maestro.cli.recommend import recommend_app
from maestro.cli.runs import runs_app
from maestro.cli.studio import studio_app
from maestro.cli.worker import worker_app

__all__ = ["app", "main"]

app = typer.Typer(
    name="maestro",
    help="Maestro: a self-improving multi-agent orchestration engine.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(db_app, name="db")
app.add_typer(workspace_app, name="workspace")
app.add_typer(key_app, name="key")
app.add_typer(runs_app, name="runs")
app.add_typer(approvals_app, name="approvals")
app.add_typer(experiments_app, name="experiments")
app.add_typer(recommend_app, name="recommend")
app.add_typer(worker_app, name="worker")
app.add_typer(studio_app, name="studio")
app.command("bench")(bench)
app.command("demo")(demo)


def _version(value: bool) -> None:
    if value:
        console.print(f"maestro {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Maestro: a self-improving multi-agent orchestration engine."""


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Interface to bind (default: settings api.host)."),
    port: int | None = typer.Option(None, help="Port (default: settings api.port)."),
) -> None:
    """Run the HTTP API and dashboard."""
    import uvicorn

    from maestro.api.app import create_app
    from maestro.config import Settings
    from maestro.logs import configure_logging

    settings = Settings.load()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    uvicorn.run(
        create_app(),
        host=host or settings.api.host,
        port=port or settings.api.port,
        log_config=None,
    )


@app.command("serve-model")
def serve_model(
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    port: int = typer.Option(8100, help="Port to listen on."),
    api_key: str | None = typer.Option(
        None, envvar="MAESTRO_SERVE_MODEL_API_KEY", help="Require this bearer key."
    ),
) -> None:
    """Serve the offline model as an OpenAI-compatible API (/v1/chat/completions, /v1/models)."""
    from maestro.config import Settings
    from maestro.llm.serve_model import run

    run(host=host, port=port, seed=Settings.load().llm.offline_seed, api_key=api_key)


def main() -> None:
    app()
