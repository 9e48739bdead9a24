"""``/api/strategies``: the catalog, adding your own (idempotent by name), tenancy, bad input."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from tests.conftest import ClientFactory
from typer.testing import CliRunner

from maestro.agents.population_store import PopulationStore
from maestro.agents.strategies import DEFAULT_STRATEGIES
from maestro.cli import app
from maestro.config import Settings
from maestro.engine import Maestro

BTS = {
    "name": "behind-the-scenes",
    "title": "Behind the scenes",
    "prompt_fragment": "Show how the thing is made, one honest detail at a time.",
    "description": "Trust through openness.",
}


async def test_the_catalog_is_the_eight_defaults_then_your_own(
    api: httpx.AsyncClient, engine: Maestro, workspace_id: str
) -> None:
    before = (await api.get("/api/strategies")).json()
    assert [s["name"] for s in before] == [s.name for s in DEFAULT_STRATEGIES]
    assert all(s["builtin"] for s in before)
    created = await api.post("/api/strategies", json=BTS)
    assert created.status_code == 201, created.text
    assert created.json() == {**BTS, "builtin": False}
    after = (await api.get("/api/strategies")).json()
    assert [s["name"] for s in after][-1] == "behind-the-scenes" and len(after) == 9
    catalog = await PopulationStore(engine.db, engine.clock).catalog(workspace_id)
    assert catalog.fragment("behind-the-scenes") == BTS["prompt_fragment"]


async def test_the_name_is_the_idempotency_key(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/strategies", json=BTS)).status_code == 201
    again = await api.post("/api/strategies", json=BTS)
    assert again.status_code == 200 and again.json()["name"] == BTS["name"]
    other = await api.post("/api/strategies", json={**BTS, "title": "Another"})
    assert other.status_code == 409 and other.json()["error"]["field"] == "name"
    default = {**BTS, "name": DEFAULT_STRATEGIES[0].name}
    taken = await api.post("/api/strategies", json=default)
    assert taken.status_code == 409 and "default strategy" in taken.json()["error"]["message"]
    assert len((await api.get("/api/strategies")).json()) == 9


async def test_one_workspace_never_sees_anothers_strategies(
    api: httpx.AsyncClient, make_client: ClientFactory, other_workspace_id: str
) -> None:
    await api.post("/api/strategies", json=BTS)
    other = await make_client(other_workspace_id)
    assert "behind-the-scenes" not in {
        s["name"] for s in (await other.get("/api/strategies")).json()
    }
    # The same name is free there: catalogs are per workspace.
    assert (await other.post("/api/strategies", json={**BTS, "title": "Theirs"})).status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BTS, "name": "Behind The Scenes"}, "name"),
        ({**BTS, "name": "x"}, "name"),
        ({**BTS, "title": ""}, "title"),
        ({**BTS, "prompt_fragment": ""}, "prompt_fragment"),
        ({**BTS, "prompt_fragment": "x" * 2001}, "prompt_fragment"),
        ({k: v for k, v in BTS.items() if k != "title"}, "title"),
        ({**BTS, "colour": "red"}, "colour"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_adds_nothing(
    api: httpx.AsyncClient, body: dict[str, str], field: str
) -> None:
    r = await api.post("/api/strategies", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert len((await api.get("/api/strategies")).json()) == 8


def test_the_cli_adds_and_lists_strategies(cli_env: None) -> None:

    async def setup() -> None:
        async with Maestro.from_settings(Settings.load()) as engine:
            await engine.tenancy.create_workspace("cli-strategies")

    asyncio.run(setup())
    runner = CliRunner()
    add = ["studio", "strategies", "add", "cli-strategies", "behind-the-scenes"]
    added = runner.invoke(app, [*add, "--title", "Behind", "--fragment", "Show it."])
    assert added.exit_code == 0, added.output
    again = runner.invoke(app, [*add, "--title", "Behind", "--fragment", "Show it."])
    assert again.exit_code == 1 and "already exists" in again.output
    bad = runner.invoke(app, [*add[:-1], "Bad Name", "--title", "x", "--fragment", "y"])
    assert bad.exit_code == 1 and "invalid strategy name" in bad.output
    listed = runner.invoke(app, ["studio", "strategies", "list", "cli-strategies"])
    assert listed.exit_code == 0
    assert "behind-the-scenes" in listed.output and "Show it." in listed.output
    assert listed.output.count("default") == 8 and listed.output.count("custom") == 1
