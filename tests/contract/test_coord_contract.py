"""One behaviour for every coordination backend (memory:// and the real Redis)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from maestro.clock import ManualClock
from maestro.coord import Coordinator, LocalState, Script, ScriptArg, connect
from maestro.errors import BackendUnavailableError, ConfigurationError


def _swap_local(state: LocalState, keys: Sequence[str], args: Sequence[ScriptArg]) -> bytes | None:
    old = state.get(keys[0])
    state.set(keys[0], str(args[0]).encode())
    return old if isinstance(old, bytes) else None


SWAP = Script("test_swap", _swap_local, package="tests_lua")


@pytest.fixture(autouse=True)
def _lua_package(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path_factory.mktemp("lua")
    pkg = root / "tests_lua"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "test_swap.lua").write_text(
        "local old = redis.call('GET', KEYS[1])\n"
        "redis.call('SET', KEYS[1], ARGV[1])\n"
        "if old then return old end\nreturn nil\n"
    )
    monkeypatch.syspath_prepend(str(root))


async def test_set_get_delete(coord: Coordinator) -> None:
    k = coord.key("a")
    assert await coord.get(k) is None
    assert await coord.set(k, "v1")
    assert await coord.get(k) == b"v1"
    assert await coord.delete(k, coord.key("missing")) == 1
    assert await coord.get(k) is None


async def test_set_nx_writes_only_when_absent(coord: Coordinator) -> None:
    k = coord.key("nx")
    assert await coord.set(k, "first", nx=True)
    assert not await coord.set(k, "second", nx=True)
    assert await coord.get(k) == b"first"


async def test_ttl_is_reported(coord: Coordinator) -> None:
    k = coord.key("ttl")
    await coord.set(k, "v", ttl=30)
    left = await coord.ttl(k)
    assert left is not None and 29 <= left <= 30
    await coord.set(k, "v")
    assert await coord.ttl(k) is None


async def test_memory_ttl_follows_the_clock(clock: ManualClock) -> None:
    c = connect("memory://", clock=clock)
    await c.set(c.key("k"), "v", ttl=10)
    clock.advance(9.9)
    assert await c.get(c.key("k")) == b"v"
    clock.advance(0.2)
    assert await c.get(c.key("k")) is None


async def test_counter_with_ttl_on_creation(coord: Coordinator) -> None:
    k = coord.key("n")
    assert await coord.incr(k, ttl=60) == 1
    assert await coord.incr(k, 5) == 6
    left = await coord.ttl(k)
    assert left is not None and left <= 60


async def test_concurrent_increments_are_not_lost(coord: Coordinator) -> None:
    k = coord.key("race")
    await asyncio.gather(*(coord.incr(k) for _ in range(200)))
    assert await coord.get(k) == b"200"


async def test_script_runs_atomically_with_same_result(coord: Coordinator) -> None:
    k = coord.key("swap")
    assert await coord.run_script(SWAP, [k], ["one"]) is None
    assert await coord.run_script(SWAP, [k], ["two"]) == b"one"
    assert await coord.get(k) == b"two"


async def test_lock_is_exclusive_and_released(coord: Coordinator) -> None:
    a, b = coord.lock("job", ttl=30), coord.lock("job", ttl=30)
    assert await a.acquire(blocking=False)
    assert not await b.acquire(blocking=False)
    assert not await b.release(), "a non-holder cannot release"
    assert await a.release()
    assert await b.acquire(blocking=False)
    await b.release()


async def test_lock_lease_extends_only_for_holder(coord: Coordinator) -> None:
    a, b = coord.lock("lease", ttl=5), coord.lock("lease", ttl=5)
    assert await a.acquire(blocking=False)
    assert await a.extend(60)
    left = await coord.ttl(coord.key("lock", "lease"))
    assert left is not None and left > 5
    assert not await b.extend(60)
    await a.release()


async def test_memory_lock_expires_with_the_clock(clock: ManualClock) -> None:
    c = connect("memory://", clock=clock)
    a, b = c.lock("x", ttl=5), c.lock("x", ttl=5)
    assert await a.acquire(blocking=False)
    clock.advance(5.1)
    assert await b.acquire(blocking=False), "an expired lease is free"
    assert not await a.release(), "the old holder cannot release the new holder's lock"


async def test_blocking_lock_waits_for_release(coord: Coordinator) -> None:
    a, b = coord.lock("wait", ttl=30), coord.lock("wait", ttl=30)
    await a.acquire()
    waiter = asyncio.create_task(b.acquire(timeout=5))
    await asyncio.sleep(0.05)
    assert not waiter.done()
    await a.release()
    assert await waiter
    await b.release()


async def test_publish_reaches_subscribers_of_other_connections(
    coord_url: str, key_prefix: str, clock: ManualClock
) -> None:
    pub = connect(coord_url, prefix=key_prefix, clock=clock)
    sub_side = pub if coord_url == "memory://" else connect(coord_url, prefix=key_prefix)
    sub = await sub_side.subscribe(f"{key_prefix}events")
    assert await pub.publish(f"{key_prefix}events", "hello") >= 1
    assert await sub.next(timeout=5) == b"hello"
    assert await sub.next(timeout=0.05) is None
    await sub.close()
    if sub_side is not pub:
        await sub_side.close()
    await pub.close()


async def test_ping(coord: Coordinator) -> None:
    assert await coord.ping()


async def test_unreachable_redis_is_a_clear_error() -> None:
    c = connect("redis://127.0.0.1:1/0")
    assert not await c.ping()
    with pytest.raises(BackendUnavailableError, match="127.0.0.1:1"):
        await c.get(c.key("x"))
    await c.close()


def test_unknown_scheme_names_accepted_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"memory://.*redis://"):
        connect("etcd://localhost")
