"""Timeouts, retries of transient errors only, fallback chains, and the bound on upstream calls."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.clock import ManualClock
from maestro.errors import ProviderError, ProviderTimeoutError, TransientProviderError
from maestro.llm.offline import OfflineModel
from maestro.llm.resilience import (
    FallbackProvider,
    RetryPolicy,
    RetryProvider,
    TimeoutProvider,
    resilient,
)
from maestro.llm.types import CompletionRequest, ProviderReply, Usage

REQUEST = CompletionRequest.of("Topic: tea\nWrite a caption.")


class Upstream:
    """A stand-in for a remote provider: fails as scripted per model, records every call."""

    name = "upstream"

    def __init__(self, failures: dict[str, Sequence[Exception | None]] | None = None) -> None:
        self.failures = {k: list(v) for k, v in (failures or {}).items()}
        self.calls: list[str] = []

    async def complete(self, request: CompletionRequest, model: str) -> ProviderReply:
        self.calls.append(model)
        script = self.failures.get(model, [])
        error = script.pop(0) if script else None
        if error is not None:
            raise error
        return ProviderReply(text=f"from {model}", model=model, usage=Usage())


class Silent:
    """A provider that never answers."""

    name = "silent"

    async def complete(self, request: CompletionRequest, model: str) -> ProviderReply:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_timeout_fires_on_the_clock_even_if_the_provider_never_answers(
    clock: ManualClock,
) -> None:
    provider = TimeoutProvider(Silent(), timeout_s=30, clock=clock)
    call = asyncio.create_task(provider.complete(REQUEST, "m"))
    await settle()
    clock.advance(29.9)
    await settle()
    assert not call.done()
    clock.advance(0.2)
    with pytest.raises(ProviderTimeoutError) as err:
        await call
    assert "30" in str(err.value)


async def test_timeout_returns_the_answer_when_it_comes_in_time(clock: ManualClock) -> None:
    provider = TimeoutProvider(OfflineModel(), timeout_s=1, clock=clock)
    reply = await provider.complete(REQUEST, "offline")
    assert reply.text == OfflineModel().respond(REQUEST.messages[0].content)
    assert clock.sleepers == 0


async def test_transient_errors_are_retried_with_growing_backoff(clock: ManualClock) -> None:
    upstream = Upstream({"m": [TransientProviderError("503"), TransientProviderError("429")]})
    policy = RetryPolicy(retries=2, backoff_base_s=1.0, backoff_max_s=60, jitter=0.0)
    provider = RetryProvider(upstream, policy=policy, clock=clock)
    call = asyncio.create_task(provider.complete(REQUEST, "m"))
    await settle()
    assert upstream.calls == ["m"]
    clock.advance(1.0)
    await settle()
    assert upstream.calls == ["m", "m"]
    clock.advance(1.9)
    await settle()
    assert len(upstream.calls) == 2  # the second delay is 2 s
    clock.advance(0.1)
    assert (await call).text == "from m"
    assert len(upstream.calls) == 3


async def test_permanent_errors_and_timeouts_are_not_retried(clock: ManualClock) -> None:
    for error in (ProviderError("400 bad request"), ProviderTimeoutError("slow")):
        upstream = Upstream({"m": [error]})
        provider = RetryProvider(upstream, policy=RetryPolicy(retries=5), clock=clock)
        with pytest.raises(type(error)):
            await provider.complete(REQUEST, "m")
        assert upstream.calls == ["m"]


def test_backoff_is_capped_and_jitter_only_shortens_it() -> None:
    policy = RetryPolicy(backoff_base_s=0.5, backoff_max_s=4.0, jitter=0.5)
    rng = random.Random(1)
    delays = [policy.delay(r, rng) for r in range(1, 10)]
    assert all(d <= 4.0 for d in delays)
    assert all(d >= 0.25 * 2 ** min(r - 1, 3) for r, d in zip(range(1, 10), delays, strict=True))


async def test_fallback_moves_down_the_chain_and_says_who_answered() -> None:
    upstream = Upstream({"a": [ProviderError("down")], "b": [ProviderTimeoutError("slow")]})
    provider = FallbackProvider(upstream, chain=lambda _r, _m: ["b", "c", "d"], max_fallbacks=3)
    reply = await provider.complete(REQUEST, "a")
    assert reply.model == "c"
    assert upstream.calls == ["a", "b", "c"]


async def test_when_the_whole_chain_fails_the_last_error_is_raised() -> None:
    upstream = Upstream({m: [ProviderError(f"{m} down")] for m in "abc"})
    provider = FallbackProvider(upstream, chain=lambda _r, _m: ["b", "c"])
    with pytest.raises(ProviderError, match="c down"):
        await provider.complete(REQUEST, "a")


class AlwaysFailing(Upstream):
    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def complete(self, request: CompletionRequest, model: str) -> ProviderReply:
        self.calls.append(model)
        raise self.error


@settings(max_examples=40, deadline=None)
@given(
    retries=st.integers(0, 4),
    fallbacks=st.integers(0, 4),
    chain_length=st.integers(0, 6),
    transient=st.booleans(),
)
def test_upstream_calls_never_exceed_one_plus_retries_times_one_plus_fallbacks(
    retries: int, fallbacks: int, chain_length: int, transient: bool
) -> None:
    async def scenario() -> list[str]:
        clock = ManualClock()
        error = TransientProviderError("503") if transient else ProviderError("400")
        upstream = AlwaysFailing(error)
        provider = resilient(
            upstream,
            clock=clock,
            timeout_s=5,
            policy=RetryPolicy(retries=retries, backoff_base_s=0.0, jitter=0.0),
            chain=lambda _r, _m: [f"f{i}" for i in range(chain_length)],
            max_fallbacks=fallbacks,
        )
        with pytest.raises(ProviderError):
            await provider.complete(REQUEST, "m")
        return upstream.calls

    calls = asyncio.run(scenario())
    models = 1 + min(fallbacks, chain_length)
    assert len(calls) <= (1 + retries) * (1 + fallbacks)
    assert len(calls) == (1 + retries if transient else 1) * models
