"""The curated public surface: ``from maestro import ...`` works for every name."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

import maestro


def test_every_exported_name_resolves_to_its_defining_object() -> None:
    for name in maestro.__all__:
        value = getattr(maestro, name)
        if name != "__version__":
            assert value.__name__ == name, name


def test_unknown_name_is_an_attribute_error_naming_it() -> None:
    with pytest.raises(AttributeError, match="'NoSuchThing'"):
        _ = maestro.NoSuchThing  # type: ignore[attr-defined]


def test_importing_the_package_does_not_load_the_engine() -> None:
    code = "import sys, maestro; print('maestro.engine' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


async def test_readme_library_example_runs_on_the_embedded_default(tmp_path: Path) -> None:
    from maestro import Maestro, Priority
    from maestro.llm.types import CompletionRequest

    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    async with Maestro.from_settings(database_url=url) as engine:
        ws = await engine.tenancy.create_workspace("acme")
        result = await engine.gateway.complete(
            CompletionRequest.of("Write a post about sleep. Strategy: story"),
            workspace=ws.id,
            agent="writer",
            purpose="draft",
            priority=Priority.P1,
        )
    assert result.text
    assert result.model


async def test_readme_studio_example_runs_a_burst(tmp_path: Path) -> None:
    from maestro import Maestro
    from maestro.cycles import Studio, StudioSettings
    from maestro.cycles.runner import JobDone, run_studio

    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    seen: list[JobDone] = []
    async with Maestro.from_settings(
        database_url=url, studio=StudioSettings(brands=("acme",))
    ) as engine:
        ws = await engine.tenancy.create_workspace("acme-studio")
        studio = await Studio.open(engine, ws.id)
        stop = asyncio.Event()

        def on_job(done: JobDone) -> None:
            seen.append(done)
            stop.set()

        await run_studio(studio, stop, burst_now=True, on_job=on_job, coord=engine.coord)
        await studio.close()
    assert [d.job for d in seen] == ["burst"]
    assert seen[0].result.proposals == 6
