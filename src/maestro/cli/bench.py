"""``maestro bench NAME``: run a benchmark against its peer, write bench/results/."""

from __future__ import annotations

import asyncio
import importlib
import json
from pathlib import Path
from typing import Any

import typer

from maestro.cli._common import console, err_console

SUITES: dict[str, str] = {
    "ratelimit": "maestro.bench.ratelimit",
    "cache": "maestro.bench.cache",
    "memory": "maestro.bench.memory",
    "learning:bandits": "maestro.bench.learning_bandits",
    "learning:studio": "maestro.bench.learning_studio",
    "orchestration": "maestro.bench.orchestration",
    "service": "maestro.bench.service",
}
"""Benchmark name -> module exposing ``async def run(out: Path, quick: bool) -> dict``."""


def _resolve(name: str, suite: str | None) -> list[str]:
    if name == "all":
        return list(SUITES)
    if name == "learning":
        return [f"learning:{suite}"] if suite else ["learning:bandits", "learning:studio"]
    if name not in SUITES:
        accepted = ", ".join(sorted({n.split(":")[0] for n in SUITES} | {"all"}))
        err_console.print(f"[bold red]error[/]: unknown benchmark {name!r}; accepted: {accepted}")
        raise typer.Exit(2)
    return [name]


def bench(
    name: str = typer.Argument(
        ..., help="ratelimit, cache, memory, learning, orchestration, service or all."
    ),
    suite: str | None = typer.Option(None, help="For 'learning': bandits or studio."),
    out: Path = typer.Option(
        Path("bench/results"), help="Folder for the JSON and Markdown results."
    ),
    quick: bool = typer.Option(False, help="A small, fast run (a smoke test, not a measurement)."),
) -> None:
    """Run Maestro and its peer side by side; write JSON and a Markdown table."""
    out.mkdir(parents=True, exist_ok=True)
    for key in _resolve(name, suite):
        try:
            module = importlib.import_module(SUITES[key])
        except ModuleNotFoundError as exc:
            err_console.print(
                f"[bold red]error[/]: {key}: {exc} (install the bench extra: make bench)"
            )
            raise typer.Exit(1) from None
        console.rule(f"bench {key}")
        result: dict[str, Any] = asyncio.run(module.run(out, quick=quick))
        md = out / f"{SUITES[key].rsplit('.', 1)[1]}.md"
        if md.exists():
            console.print(md.read_text())
        else:
            console.print_json(json.dumps(result, default=str))
