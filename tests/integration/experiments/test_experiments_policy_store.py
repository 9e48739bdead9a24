"""Bandit policy state in the database: exact round trips, independent contexts, conflicts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maestro.clock import ManualClock
from maestro.engine import Maestro
from maestro.errors import ConflictError, NotFoundError, ValidationError
from maestro.learning.bandits import POLICY_NAMES, make_policy
from maestro.learning.policy_store import PolicyStore
from maestro.store.db import Database
from maestro.store.tenancy import TenancyRepo


@pytest.fixture
def store(engine: Maestro) -> PolicyStore:
    return PolicyStore(engine.db, engine.clock, engine.settings.learning)


@pytest.mark.parametrize("name", POLICY_NAMES)
async def test_a_stored_policy_makes_the_same_next_decisions(
    store: PolicyStore, workspace_id: str, name: str
) -> None:
    policy = make_policy(name, 4, seed=42)
    for t in range(300):
        arm = policy.select()
        policy.update(arm, ((t * 7919) % 101) / 100.0)
    await store.save(workspace_id, "strategy:brand=acme", policy)
    stored = await store.get(workspace_id, "strategy:brand=acme")
    assert stored is not None and stored.version == 1
    clone = stored.policy
    for t in range(100):
        a, b = policy.select(), clone.select()
        assert a == b
        policy.update(a, (t % 3) / 2.0)
        clone.update(b, (t % 3) / 2.0)


async def test_contexts_and_workspaces_keep_independent_state(
    store: PolicyStore, workspace_id: str, other_workspace_id: str
) -> None:
    for _ in range(30):
        await store.update(workspace_id, "strategy:brand=acme", 0, 1.0, n_arms=3, seed=1)
    await store.update(workspace_id, "strategy:brand=zen", 2, 0.0, n_arms=3, seed=1)
    acme = await store.get(workspace_id, "strategy:brand=acme")
    zen = await store.get(workspace_id, "strategy:brand=zen")
    assert acme is not None and zen is not None
    assert acme.policy.t == 30 and zen.policy.t == 1
    assert await store.get(other_workspace_id, "strategy:brand=acme") is None
    assert await store.keys(workspace_id, prefix="strategy:") == [
        "strategy:brand=acme",
        "strategy:brand=zen",
    ]
    assert acme.policy.name == "adaptive"  # the configured default


async def test_select_creates_then_advances_the_stored_random_stream(
    store: PolicyStore, workspace_id: str
) -> None:
    reference = make_policy("thompson", 5, seed=9)
    for _ in range(20):
        expected = reference.select()
        got = await store.select(workspace_id, "ctx", 5, policy="thompson", seed=9)
        assert got == expected


async def test_bad_updates_change_nothing(store: PolicyStore, workspace_id: str) -> None:
    version = await store.update(workspace_id, "ctx", 1, 0.5, n_arms=3, seed=3)
    with pytest.raises(ValidationError) as err:
        await store.update(workspace_id, "ctx", 3, 0.5)
    assert err.value.field == "arm"
    with pytest.raises(ValidationError) as err:
        await store.update(workspace_id, "ctx", 0, 1.5)
    assert err.value.field == "reward"
    with pytest.raises(ValidationError) as err:
        await store.select(workspace_id, "ctx", 4)
    assert err.value.field == "n_arms"
    with pytest.raises(NotFoundError):
        await store.update(workspace_id, "missing", 0, 0.5)
    stored = await store.get(workspace_id, "ctx")
    assert stored is not None and stored.version == version and stored.policy.t == 1


async def test_save_with_a_stale_version_is_a_conflict(
    store: PolicyStore, workspace_id: str
) -> None:
    policy = make_policy("ucb1", 2, seed=0)
    assert await store.save(workspace_id, "ctx", policy, expected_version=0) == 1
    policy.update(0, 1.0)
    assert await store.save(workspace_id, "ctx", policy, expected_version=1) == 2
    with pytest.raises(ConflictError) as err:
        await store.save(workspace_id, "ctx", policy, expected_version=1)
    assert err.value.field == "expected_version"


# --- hypothesis: arbitrary histories survive the store bit for bit (SQLite) --------


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    path: Path = tmp_path_factory.mktemp("policies") / "p.db"
    url = f"sqlite+aiosqlite:///{path}"

    async def setup() -> str:
        db = Database(url)
        await db.upgrade()
        ws = await TenancyRepo(db, ManualClock()).create_workspace("hyp")
        await db.dispose()
        return ws.id

    yield url, asyncio.run(setup())


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(POLICY_NAMES),
    n_arms=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    history=st.lists(st.floats(0.0, 1.0), max_size=80),
    future=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40),
)
def test_store_round_trip_gives_identical_next_decisions(
    sqlite_store: tuple[str, str],
    name: str,
    n_arms: int,
    seed: int,
    history: list[float],
    future: list[float],
) -> None:
    url, workspace_id = sqlite_store

    async def go() -> None:
        db = Database(url)
        try:
            store = PolicyStore(db, ManualClock())
            policy = make_policy(name, n_arms, seed=seed)
            for r in history:
                policy.update(policy.select(), r)
            key = f"hyp:{name}:{seed}:{len(history)}"
            await store.save(workspace_id, key, policy)
            stored = await store.get(workspace_id, key)
            assert stored is not None
            clone = stored.policy
            for r in future:
                a, b = policy.select(), clone.select()
                assert a == b
                policy.update(a, r)
                clone.update(b, r)
            await store.delete(workspace_id, key)
        finally:
            await db.dispose()

    asyncio.run(go())
