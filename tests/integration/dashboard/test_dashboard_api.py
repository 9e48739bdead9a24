"""The dashboard's read endpoints: population and patterns, scoped to the caller's workspace."""

from __future__ import annotations

import math
import random
import re
from importlib import resources

import httpx
import pytest
from tests.conftest import ClientFactory

from maestro.agents.evolution import found_population
from maestro.agents.population_store import PopulationStore
from maestro.agents.strategies import DEFAULT_STRATEGIES
from maestro.api.routers.dashboard import ASSETS
from maestro.clock import ManualClock
from maestro.engine import Maestro
from maestro.memory.patterns import Pattern, PatternStore

STRATEGIES = [s.name for s in DEFAULT_STRATEGIES]


async def _found(engine: Maestro, workspace: str, *, size: int = 6, seed: int = 1) -> list[str]:
    """A founded population saved the way the studio saves it; returns the agent ids."""
    store = PopulationStore(engine.db, engine.clock)
    agents = found_population(
        STRATEGIES, now=engine.clock.now(), rng=random.Random(seed), size=size
    )
    await store.save_agents(workspace, agents)
    await store.record_diversity(workspace, agents, "founding")
    return [a.id for a in agents]


def _patterns(engine: Maestro) -> PatternStore:
    return PatternStore(engine.db, engine.clock, engine.settings.memory.patterns)


async def _learned(
    store: PatternStore, workspace: str, brand: str, strategy: str, text: str, confidence: float
) -> Pattern:
    """A strategy pattern recorded the way an analyzer records one."""
    return await store.add(
        workspace,
        pattern_type="strategy_performance",
        brand=brand,
        strategy=strategy,
        description=text,
        discovered_by="agent-1",
        confidence=confidence,
    )


# --------------------------------------------------------------------------- population
async def test_an_empty_population_is_empty_lists_not_an_error(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/population")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "agents": [],
        "diversity": 0.0,
        "target_diversity": 0.6,
        "meets_target": False,
        "primaries": {},
        "history": [],
        "gene_pool_size": 0,
    }


async def test_population_shows_agents_diversity_history_and_gene_pool(
    engine: Maestro, workspace_id: str, api: httpx.AsyncClient, clock: ManualClock
) -> None:
    ids = await _found(engine, workspace_id)
    store = PopulationStore(engine.db, engine.clock)
    clock.advance(3600)
    await store.retire(workspace_id, ids[0])
    remaining = await store.list_agents(workspace_id)
    await store.record_diversity(workspace_id, remaining, "manual")

    body = (await api.get("/api/population")).json()
    assert [a["id"] for a in body["agents"]] == [a.id for a in remaining]
    assert {a["id"] for a in body["agents"]} == set(ids[1:]), "the retired agent is not listed"
    first = body["agents"][0]
    saved = remaining[0]
    assert first["primary_strategy"] == saved.primary
    assert first["top_strategies"] == list(saved.top(2))
    assert first["protected_strategy"] == saved.protected_strategy
    assert first["temperature"] == saved.dna.temperature
    assert first["personality"] == saved.dna.personality
    assert math.isclose(sum(first["strategy_weights"].values()), 1.0)
    assert first["generation"] == 0 and first["parents"] == []
    primaries = [a["primary_strategy"] for a in body["agents"]]
    most_common = max(primaries.count(p) for p in primaries)
    assert body["diversity"] == pytest.approx(1 - most_common / len(primaries))
    assert body["meets_target"] is (body["diversity"] >= 0.6)
    assert sum(body["primaries"].values()) == 5
    assert [(p["event"], p["agents"]) for p in body["history"]] == [("founding", 6), ("manual", 5)]
    assert body["gene_pool_size"] == 1


async def test_history_limit_keeps_the_most_recent_points(
    engine: Maestro, workspace_id: str, api: httpx.AsyncClient, clock: ManualClock
) -> None:
    await _found(engine, workspace_id)
    store = PopulationStore(engine.db, engine.clock)
    agents = await store.list_agents(workspace_id)
    for _ in range(3):
        clock.advance(60)
        await store.record_diversity(workspace_id, agents, "adaptation")
    body = (await api.get("/api/population", params={"history_limit": 2})).json()
    assert [p["event"] for p in body["history"]] == ["adaptation", "adaptation"]
    times = [p["recorded_at"] for p in body["history"]]
    assert times == sorted(times)


# --------------------------------------------------------------------------- patterns
async def test_patterns_carry_decayed_confidence_and_state(
    engine: Maestro, workspace_id: str, api: httpx.AsyncClient, clock: ManualClock
) -> None:
    store = _patterns(engine)
    strong = await _learned(store, workspace_id, "fitbrand", "story", "stories win", 0.9)
    middling = await _learned(store, workspace_id, "_global_", "data-driven", "numbers help", 0.35)
    weak = await _learned(store, workspace_id, "fitbrand", "hot-take", "hot takes fade", 0.12)
    clock.advance(10 * 86400)

    body = (await api.get("/api/patterns")).json()
    assert body["inject_threshold"] == 0.3 and body["archive_threshold"] == 0.1
    by_id = {p["id"]: p for p in body["patterns"]}
    assert [p["id"] for p in body["patterns"]] == [strong.id, middling.id, weak.id]
    decay = math.exp(-10 / 30)
    assert by_id[strong.id]["effective_confidence"] == pytest.approx(0.9 * decay)
    assert by_id[strong.id]["state"] == "injected"
    assert by_id[middling.id]["effective_confidence"] == pytest.approx(0.35 * decay)
    assert by_id[middling.id]["state"] == "active"
    assert by_id[weak.id]["effective_confidence"] == pytest.approx(0.12 * decay)
    assert by_id[weak.id]["state"] == "archived", "decayed below 0.1: out of prompts already"
    assert by_id[weak.id]["archived"] is False, "the stored flag waits for the feedback cycle"
    assert by_id[strong.id]["description"] == "stories win"
    assert by_id[strong.id]["discovered_by"] == "agent-1"


async def test_archived_patterns_only_on_request_and_brand_filter_keeps_global(
    engine: Maestro, workspace_id: str, api: httpx.AsyncClient, clock: ManualClock
) -> None:
    store = _patterns(engine)
    kept = await _learned(store, workspace_id, "fitbrand", "story", "a", 0.8)
    other = await _learned(store, workspace_id, "techbrand", "story", "b", 0.8)
    glob = await _learned(store, workspace_id, "_global_", "list", "c", 0.8)
    doomed = await _learned(store, workspace_id, "fitbrand", "meme", "d", 0.11)
    clock.advance(5 * 86400)
    assert [p.id for p in await store.archive_stale(workspace_id)] == [doomed.id]

    listed = (await api.get("/api/patterns")).json()["patterns"]
    assert {p["id"] for p in listed} == {kept.id, other.id, glob.id}
    everything = (await api.get("/api/patterns", params={"include_archived": "true"})).json()
    archived = [p for p in everything["patterns"] if p["id"] == doomed.id]
    assert archived and archived[0]["archived"] is True and archived[0]["state"] == "archived"
    fit = (await api.get("/api/patterns", params={"brand": "fitbrand"})).json()["patterns"]
    assert {p["id"] for p in fit} == {kept.id, glob.id}


async def test_no_patterns_is_an_empty_list(api: httpx.AsyncClient) -> None:
    r = await api.get("/api/patterns", params={"brand": "nobody"})
    assert r.status_code == 200 and r.json()["patterns"] == []


# --------------------------------------------------------------------------- tenancy, errors
async def test_workspace_b_sees_none_of_workspace_a(
    engine: Maestro, make_client: ClientFactory, workspace_id: str, other_workspace_id: str
) -> None:
    await _found(engine, workspace_id)
    await _patterns(engine).add(
        workspace_id,
        pattern_type="timing",
        brand="fitbrand",
        strategy="story",
        description="mornings",
        discovered_by="a",
        confidence=0.9,
    )
    a = await make_client(workspace_id)
    b = await make_client(other_workspace_id)
    assert len((await a.get("/api/population")).json()["agents"]) == 6
    assert len((await a.get("/api/patterns")).json()["patterns"]) == 1
    b_pop = (await b.get("/api/population")).json()
    assert b_pop["agents"] == [] and b_pop["history"] == [] and b_pop["gene_pool_size"] == 0
    for params in ({}, {"include_archived": "true"}, {"brand": "fitbrand"}):
        assert (await b.get("/api/patterns", params=params)).json()["patterns"] == []


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/api/patterns", {"include_archived": "maybe"}, "include_archived"),
        ("/api/patterns", {"brand": ""}, "brand"),
        ("/api/patterns", {"brand": "x" * 51}, "brand"),
        ("/api/population", {"history_limit": "0"}, "history_limit"),
        ("/api/population", {"history_limit": "many"}, "history_limit"),
        ("/api/population", {"since": "last tuesday"}, "since"),
    ],
)
async def test_bad_query_parameters_get_422_naming_the_field(
    api: httpx.AsyncClient, path: str, params: dict[str, str], field: str
) -> None:
    r = await api.get(path, params=params)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "validation_error" and error["field"] == field
    assert error["message"].startswith(f"{field}: ")


@pytest.mark.parametrize("path", ["/api/population", "/api/patterns"])
async def test_the_endpoints_need_a_key(anon: httpx.AsyncClient, path: str) -> None:
    r = await anon.get(path)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


async def test_the_endpoints_are_in_the_openapi_schema(anon: httpx.AsyncClient) -> None:
    schema = (await anon.get("/openapi.json")).json()
    for path in ("/api/population", "/api/patterns"):
        assert "200" in schema["paths"][path]["get"]["responses"]
    assert {"PopulationOut", "AgentOut", "PatternsOut", "PatternOut"} <= set(
        schema["components"]["schemas"]
    )
    assert "/dashboard" not in schema["paths"]


# --------------------------------------------------------------------------- the page
async def test_the_page_and_its_files_are_served_without_a_key(anon: httpx.AsyncClient) -> None:
    page = await anon.get("/dashboard")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert '<script type="module" src="/dashboard/dashboard.js">' in page.text
    for name, media in ASSETS.items():
        r = await anon.get(f"/dashboard/{name}")
        assert r.status_code == 200 and r.headers["content-type"] == media
    missing = await anon.get("/dashboard/secrets.txt")
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "name"


async def test_the_page_loads_nothing_from_elsewhere(anon: httpx.AsyncClient) -> None:
    """Offline deployments: no CDN, no web fonts, no remote script or style."""
    for name in ASSETS:
        text = (await anon.get(f"/dashboard/{name}")).text
        urls = set(re.findall(r"https?://[^\s\"'`)]+", text))
        assert urls <= {"http://www.w3.org/2000/svg"}, urls
        assert "@import" not in text and "@font-face" not in text


def test_every_file_of_the_page_is_served() -> None:
    """A new script module must be listed in ASSETS, or the browser gets a 404."""
    shipped = {
        p.name
        for p in resources.files("maestro.web").iterdir()
        if p.name.endswith((".html", ".css", ".js"))
    }
    assert shipped == set(ASSETS)
    imported = set()
    for name in shipped:
        text = resources.files("maestro.web").joinpath(name).read_text()
        imported |= set(re.findall(r'from "\./([\w.]+)"', text))
    assert imported and imported <= set(ASSETS)
