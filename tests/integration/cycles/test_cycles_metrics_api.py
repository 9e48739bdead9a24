"""POST /api/metrics: idempotent by client key, strict about its body, scoped to the workspace."""

from __future__ import annotations

import httpx
import pytest
from tests.conftest import ClientFactory

from maestro.cycles.items import ItemStore, NewItem
from maestro.engine import Maestro
from maestro.memory.posts import PostMetricsRepo


@pytest.fixture
async def post_id(engine: Maestro, workspace_id: str) -> str:
    repo = PostMetricsRepo(engine.db, engine.clock)
    post = await repo.record_post(workspace_id, brand="alpha", agent_id="a1", strategy="story")
    return post.id


async def test_same_key_twice_applies_once(
    api: httpx.AsyncClient, engine: Maestro, workspace_id: str, post_id: str
) -> None:
    body = {"key": "k-1", "post_id": post_id, "engagement": 0.12, "metrics": {"likes": 40}}
    first = await api.post("/api/metrics", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["duplicate"] is False
    again = await api.post("/api/metrics", json=body)
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["received_at"] == first.json()["received_at"]
    post = await PostMetricsRepo(engine.db, engine.clock).get(workspace_id, post_id)
    assert post.engagement == 0.12 and post.metrics == {"likes": 40.0}


async def test_a_used_key_with_another_report_is_a_conflict(
    api: httpx.AsyncClient, engine: Maestro, workspace_id: str, post_id: str
) -> None:
    await api.post("/api/metrics", json={"key": "k", "post_id": post_id, "engagement": 0.1})
    r = await api.post("/api/metrics", json={"key": "k", "post_id": post_id, "engagement": 0.5})
    assert r.status_code == 409
    assert r.json()["error"]["field"] == "client_key"
    post = await PostMetricsRepo(engine.db, engine.clock).get(workspace_id, post_id)
    assert post.engagement == 0.1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"post_id": "p", "engagement": 0.1}, "key"),
        ({"key": "k", "post_id": "p", "engagement": -1}, "engagement"),
        ({"key": "k", "post_id": "p", "engagement": "lots"}, "engagement"),
        ({"key": "k", "engagement": 0.1}, "post_id"),
        (
            {"key": "k", "post_id": "p", "engagement": 0.1, "metrics": {"likes": "x"}},
            "metrics.likes",
        ),
        ({"key": "", "post_id": "p", "engagement": 0.1}, "key"),
        ({"key": "k", "post_id": "p", "engagement": 0.1, "extra": 1}, "extra"),
    ],
)
async def test_bad_payload_is_422_naming_the_field(
    api: httpx.AsyncClient, engine: Maestro, workspace_id: str, body: dict[str, object], field: str
) -> None:
    r = await api.post("/api/metrics", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert await PostMetricsRepo(engine.db, engine.clock).samples(workspace_id) == []


async def test_another_workspace_cannot_touch_the_post(
    make_client: object,
    engine: Maestro,
    workspace_id: str,
    other_workspace_id: str,
    post_id: str,
) -> None:
    other = await make_client(other_workspace_id)  # type: ignore[operator]
    r = await other.post("/api/metrics", json={"key": "k", "post_id": post_id, "engagement": 0.9})
    assert r.status_code == 404
    assert r.json()["error"]["field"] == "post_id"
    post = await PostMetricsRepo(engine.db, engine.clock).get(workspace_id, post_id)
    assert post.engagement is None
    # Keys are per workspace: the owner may use the same key afterwards.
    own = await make_client(workspace_id)  # type: ignore[operator]
    ok = await own.post("/api/metrics", json={"key": "k", "post_id": post_id, "engagement": 0.2})
    assert ok.status_code == 201


async def test_without_a_key_nothing_is_ingested(anon: httpx.AsyncClient, post_id: str) -> None:
    r = await anon.post("/api/metrics", json={"key": "k", "post_id": post_id, "engagement": 0.2})
    assert r.status_code == 401


async def test_a_platform_may_name_the_published_item_instead_of_the_post(
    api: httpx.AsyncClient,
    make_client: ClientFactory,
    engine: Maestro,
    workspace_id: str,
    other_workspace_id: str,
    post_id: str,
) -> None:
    item = NewItem(
        id="item-1",
        seq=1,
        brand="alpha",
        agent_id="a1",
        strategy="story",
        topic="sleep",
        text="A post.",
        quality=0.9,
        drafts=1,
    )
    await ItemStore(engine.db, engine.clock).add(
        workspace_id, item, status="published", post_id=post_id
    )
    body = {"key": "k-item", "item_id": "item-1", "engagement": 0.2}
    first = await api.post("/api/metrics", json=body)
    assert first.status_code == 201 and first.json()["post_id"] == post_id
    # The same report named by its post is the same report: a duplicate, not a conflict.
    again = await api.post(
        "/api/metrics", json={"key": "k-item", "post_id": post_id, "engagement": 0.2}
    )
    assert again.status_code == 200 and again.json()["duplicate"] is True
    both = await api.post("/api/metrics", json={**body, "key": "k2", "post_id": post_id})
    assert both.status_code == 422 and both.json()["error"]["field"] == "post_id"
    unknown = await api.post("/api/metrics", json={**body, "key": "k3", "item_id": "nope"})
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "item_id"
    other = await make_client(other_workspace_id)
    theirs = await other.post("/api/metrics", json={**body, "key": "k4"})
    assert theirs.status_code == 404 and theirs.json()["error"]["field"] == "item_id"
    post = await PostMetricsRepo(engine.db, engine.clock).get(workspace_id, post_id)
    assert post.engagement == 0.2
