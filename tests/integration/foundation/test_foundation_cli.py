"""The CLI as a user runs it: version, migrations, workspaces and keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from maestro.cli import app


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("MAESTRO_DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.chdir(tmp_path)
    return db


def test_version() -> None:
    r = CliRunner().invoke(app, ["--version"])
    assert r.exit_code == 0 and "maestro" in r.stdout


def test_help_lists_commands() -> None:
    r = CliRunner().invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in ("db", "workspace", "key", "serve"):
        assert cmd in r.stdout


def test_workspace_and_key_lifecycle(cli_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["workspace", "create", "acme"]).exit_code == 0
    dup = runner.invoke(app, ["workspace", "create", "acme"])
    assert dup.exit_code == 1 and "already exists" in dup.output
    created = runner.invoke(app, ["key", "create", "acme", "--label", "ci"])
    assert created.exit_code == 0
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("mk_")
    listed = runner.invoke(app, ["key", "list", "acme"])
    assert secret.split("_")[1] in listed.stdout and secret not in listed.stdout
    assert runner.invoke(app, ["key", "revoke", secret]).exit_code == 0
    assert "revoked" in runner.invoke(app, ["key", "revoke", secret]).stdout
    missing = runner.invoke(app, ["key", "create", "nobody"])
    assert missing.exit_code == 1 and "nobody" in missing.output


def test_db_downgrade_then_upgrade(cli_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    assert runner.invoke(app, ["db", "downgrade", "base"]).exit_code == 0
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
