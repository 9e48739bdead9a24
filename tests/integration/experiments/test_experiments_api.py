"""/api/experiments over HTTP: the whole lifecycle, idempotent writes, clear 4xx errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx

BODY = {
    "name": "Hook Style Test",
    "variants": [
        {"name": "control", "description": "Current hook style"},
        {"name": "curiosity_gap", "description": "Curiosity gap hook"},
    ],
    "metric_name": "engagement_rate",
    "experiment_type": "ab_test",
    "allocation_strategy": "thompson",
    "min_sample_size": 20,
    "confidence_level": 0.95,
}


async def _running(api: httpx.AsyncClient) -> dict[str, object]:
    created = await api.post("/api/experiments", json=BODY)
    assert created.status_code == 201, created.text
    exp = created.json()
    started = await api.post(f"/api/experiments/{exp['id']}/start")
    assert started.status_code == 200 and started.json()["status"] == "running"
    return dict(started.json())


async def test_lifecycle_over_http(api: httpx.AsyncClient) -> None:
    exp = await _running(api)
    eid = exp["id"]
    first = (await api.post(f"/api/experiments/{eid}/assign", json={"unit_id": "u1"})).json()
    again = (await api.post(f"/api/experiments/{eid}/assign", json={"unit_id": "u1"})).json()
    assert again["variant_id"] == first["variant_id"] and again["new"] is False

    for i in range(30):
        unit = f"unit-{i}"
        a = (await api.post(f"/api/experiments/{eid}/assign", json={"unit_id": unit})).json()
        value = 1.0 if a["variant_name"] == "curiosity_gap" else float(i % 5 == 0)
        r = await api.post(
            f"/api/experiments/{eid}/outcomes", json={"value": value, "unit_id": unit}
        )
        assert r.status_code == 201, r.text

    analysis = (await api.get(f"/api/experiments/{eid}/analysis")).json()
    assert analysis["outcomes"] == 30
    assert {v["name"] for v in analysis["variants"]} == {"control", "curiosity_gap"}
    assert all(0 <= v["prob_best"] <= 1 for v in analysis["variants"])

    listed = (await api.get("/api/experiments", params={"status": "running"})).json()
    assert [e["id"] for e in listed] == [eid]
    done = await api.post(f"/api/experiments/{eid}/complete", json={})
    assert done.status_code == 200 and done.json()["status"] == "completed"
    assert (await api.get(f"/api/experiments/{eid}")).json()["status"] == "completed"


async def test_outcome_writes_are_idempotent(api: httpx.AsyncClient) -> None:
    exp = await _running(api)
    eid, vid = exp["id"], exp["variants"][0]["id"]  # type: ignore[index]
    body = {"value": 1, "variant_id": vid}
    headers = {"Idempotency-Key": "evt-1"}
    first = await api.post(f"/api/experiments/{eid}/outcomes", json=body, headers=headers)
    second = await api.post(f"/api/experiments/{eid}/outcomes", json=body, headers=headers)
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"] and second.json()["duplicate"] is True
    clash = await api.post(
        f"/api/experiments/{eid}/outcomes", json={"value": 0, "variant_id": vid}, headers=headers
    )
    assert clash.status_code == 409 and clash.json()["error"]["field"] == "idempotency_key"
    analysis = (await api.get(f"/api/experiments/{eid}/analysis")).json()
    assert analysis["outcomes"] == 1


async def test_bad_input_gets_a_clear_4xx_and_changes_nothing(api: httpx.AsyncClient) -> None:
    exp = await _running(api)
    eid, vid = exp["id"], exp["variants"][0]["id"]  # type: ignore[index]
    url = f"/api/experiments/{eid}/outcomes"
    cases = [
        ({"value": 0.5, "variant_id": vid}, 422, "value"),
        ({"value": 1, "variant_id": "nope"}, 422, "variant_id"),
        ({"value": 1, "unit_id": "ghost"}, 422, "unit_id"),
        ({"value": "high", "variant_id": vid}, 422, "value"),
    ]
    for body, status, field in cases:
        r = await api.post(url, json=body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["error"]["field"] == field
    bad_type = await api.post("/api/experiments", json={**BODY, "experiment_type": "vibes"})
    assert bad_type.status_code == 422 and bad_type.json()["error"]["field"] == "experiment_type"
    one = await api.post("/api/experiments", json={**BODY, "variants": [BODY["variants"][0]]})  # type: ignore[index]
    assert one.status_code == 422 and one.json()["error"]["field"] == "variants"
    assert (await api.get(f"/api/experiments/{eid}/analysis")).json()["outcomes"] == 0
    assert len((await api.get("/api/experiments")).json()) == 1

    await api.post(f"/api/experiments/{eid}/complete", json={"winner_variant_id": vid})
    stopped = await api.post(url, json={"value": 1, "variant_id": vid})
    assert stopped.status_code == 409 and stopped.json()["error"]["field"] == "experiment_id"
    restart = await api.post(f"/api/experiments/{eid}/start")
    assert restart.status_code == 409


async def test_another_workspace_cannot_see_or_touch_it(
    api: httpx.AsyncClient,
    make_client: Callable[[str], Awaitable[httpx.AsyncClient]],
    other_workspace_id: str,
) -> None:
    exp = await _running(api)
    other = await make_client(other_workspace_id)
    assert (await other.get(f"/api/experiments/{exp['id']}")).status_code == 404
    r = await other.post(f"/api/experiments/{exp['id']}/assign", json={"unit_id": "x"})
    assert r.status_code == 404
    assert (await other.get("/api/experiments")).json() == []


async def test_requests_need_a_key(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/api/experiments")).status_code == 401
