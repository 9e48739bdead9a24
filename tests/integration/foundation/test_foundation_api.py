"""The HTTP skeleton: authentication, tenancy, health, errors."""

from __future__ import annotations

import httpx
import pytest
from tests.conftest import ClientFactory

from maestro.api.app import create_app
from maestro.coord import connect
from maestro.engine import Maestro


async def test_openapi_schema_is_served(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/openapi.json")
    assert r.status_code == 200
    assert "/api/workspace" in r.json()["paths"]


async def test_liveness_and_readiness(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/health/live")).json() == {"status": "ok"}
    r = await anon.get("/health/ready")
    assert r.status_code == 200
    body = r.json()
    assert body["components"]["database"]["ok"] is True
    assert body["components"]["coordination"]["ok"] is True


async def test_readiness_is_503_and_names_the_component_that_is_down(engine: Maestro) -> None:
    broken = Maestro(engine.settings, clock=engine.clock, coord=connect("redis://127.0.0.1:1/0"))
    app = create_app(broken, manage_engine=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        r = await client.get("/health/ready")
    assert r.status_code == 503
    comps = r.json()["components"]
    assert comps["database"]["ok"] is True
    assert comps["coordination"]["ok"] is False
    await broken.close()


@pytest.mark.parametrize(
    "header",
    [None, "Bearer nonsense", "Bearer mk_00000000_wrong", "Basic abc"],
    ids=["missing", "garbage", "unknown", "wrong-scheme"],
)
async def test_bad_keys_get_401_without_a_hint(anon: httpx.AsyncClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    r = await anon.get("/api/workspace", headers=headers)
    assert r.status_code == 401
    assert r.json()["error"] == {
        "code": "unauthorized",
        "message": "a valid API key is required",
        "field": None,
    }


async def test_a_key_sees_only_its_own_workspace(
    make_client: ClientFactory, workspace_id: str, other_workspace_id: str
) -> None:
    a = await make_client(workspace_id)
    b = await make_client(other_workspace_id)
    assert (await a.get("/api/workspace")).json()["id"] == workspace_id
    assert (await b.get("/api/workspace")).json()["id"] == other_workspace_id
    b_keys = [k["prefix"] for k in (await b.get("/api/keys")).json()]
    a_keys = [k["prefix"] for k in (await a.get("/api/keys")).json()]
    assert set(a_keys).isdisjoint(b_keys)
    r = await a.delete(f"/api/keys/{b_keys[0]}")
    assert r.status_code == 404, "a cannot revoke b's key"
    assert (await b.get("/api/workspace")).status_code == 200


async def test_revoked_key_gets_401(api: httpx.AsyncClient, anon: httpx.AsyncClient) -> None:
    created = (await api.post("/api/keys", json={"label": "rotate"})).json()
    new = {"Authorization": f"Bearer {created['secret']}"}
    assert (await anon.get("/api/workspace", headers=new)).status_code == 200
    assert (await api.delete(f"/api/keys/{created['prefix']}")).status_code == 200
    assert (await anon.get("/api/workspace", headers=new)).status_code == 401


async def test_malformed_json_is_422_and_writes_nothing(api: httpx.AsyncClient) -> None:
    before = len((await api.get("/api/keys")).json())
    r = await api.post(
        "/api/keys", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 422
    assert r.json()["error"]["code"] == "validation_error"
    assert len((await api.get("/api/keys")).json()) == before


async def test_wrong_field_is_422_naming_it_and_writes_nothing(api: httpx.AsyncClient) -> None:
    before = len((await api.get("/api/keys")).json())
    r = await api.post("/api/keys", json={"label": "x" * 101})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "label"
    r = await api.post("/api/keys", json={"lable": "typo"})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "lable"
    assert len((await api.get("/api/keys")).json()) == before


async def test_unknown_route_is_json_404(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/api/nope")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "not_found"


async def test_prometheus_metrics_are_exposed(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert "# TYPE" in r.text
