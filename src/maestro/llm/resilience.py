"""Resilience as thin provider wrappers: a timeout, retries, a fallback chain.

Each wrapper is a :class:`~maestro.llm.types.Provider` around another and does
one thing. They compose as ``FallbackProvider(RetryProvider(TimeoutProvider(p)))``
(see :func:`resilient`): every attempt has its own timeout; every model in the
chain gets ``1 + retries`` attempts; so one request makes at most
``(1 + retries) * (1 + fallbacks)`` upstream calls.

What is retried: only :class:`~maestro.errors.TransientProviderError` (429, 5xx,
a dropped connection). A timeout is not retried on the same model, it moves to
the next model of the chain: a provider that did not answer in time is likely
to keep not answering, and waiting twice doubles the caller's latency.
What falls back: any :class:`~maestro.errors.ProviderError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Sequence

from pydantic import BaseModel, ConfigDict, Field

from maestro.clock import Clock
from maestro.errors import ProviderError, ProviderTimeoutError, TransientProviderError
from maestro.llm.types import CompletionRequest, Provider, ProviderReply

__all__ = [
    "DEFAULT_BACKOFF_BASE_S",
    "DEFAULT_BACKOFF_MAX_S",
    "DEFAULT_MAX_FALLBACKS",
    "DEFAULT_RETRIES",
    "DEFAULT_TIMEOUT_S",
    "FallbackProvider",
    "RetryPolicy",
    "RetryProvider",
    "TimeoutProvider",
    "resilient",
]

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF_BASE_S = 0.5
DEFAULT_BACKOFF_MAX_S = 8.0
DEFAULT_MAX_FALLBACKS = 2


class RetryPolicy(BaseModel):
    """How transient provider errors are retried."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    retries: int = Field(default=DEFAULT_RETRIES, ge=0)
    """Extra attempts after the first, on transient errors only."""
    backoff_base_s: float = Field(default=DEFAULT_BACKOFF_BASE_S, ge=0.0)
    """Delay before the first retry; doubles on each further retry."""
    backoff_max_s: float = Field(default=DEFAULT_BACKOFF_MAX_S, ge=0.0)
    """Upper bound of any single delay."""
    jitter: float = Field(default=0.5, ge=0.0, le=1.0)
    """Fraction of each delay drawn at random (0: exact exponential; 1: full jitter)."""

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        base = min(self.backoff_max_s, self.backoff_base_s * 2 ** (retry - 1))
        return float(base * (1.0 - self.jitter * rng.random()))


class TimeoutProvider:
    """Cuts a call off after ``timeout_s`` on ``clock``, even if the provider never answers."""

    def __init__(self, inner: Provider, *, timeout_s: float, clock: Clock) -> None:
        self.inner = inner
        self.name = inner.name
        self.timeout_s = timeout_s
        self._clock = clock

    async def complete(self, request: CompletionRequest, model: str) -> ProviderReply:
        call = asyncio.ensure_future(self.inner.complete(request, model))
        timer = asyncio.ensure_future(self._clock.sleep(self.timeout_s))
        try:
            await asyncio.wait({call, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not call.done():
                call.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await call
        if call.cancelled():
            raise ProviderTimeoutError(
                f"model {model!r} did not answer within {self.timeout_s}s", field="model"
            )
        return call.result()


class RetryProvider:
    """Retries transient errors with exponential backoff and jitter, sleeping on ``clock``."""

    def __init__(
        self,
        inner: Provider,
        *,
        policy: RetryPolicy,
        clock: Clock,
        rng: random.Random | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.policy = policy
        self._clock = clock
        self._rng = rng or random.Random()

    async def complete(self, request: CompletionRequest, model: str) -> ProviderReply:
        for retry in range(1, self.policy.retries + 1):
            try:
                return await self.inner.complete(request, model)
            except TransientProviderError:
                await self._clock.sleep(self.policy.delay(retry, self._rng))
        return await self.inner.complete(request, model)


class FallbackProvider:
    """Tries ``model``, then the models of its chain, on any provider error.

    ``chain(request, model)`` names the fallbacks (the router knows them); at most
    ``max_fallbacks`` of them are tried. The reply's ``model`` says who answered.
    If all fail, the last error is raised.
    """

    def __init__(
        self,
        inner: Provider,
        *,
        chain: Callable[[CompletionRequest, str], Sequence[str]],
        max_fallbacks: int = DEFAULT_MAX_FALLBACKS,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self._chain = chain
        self.max_fallbacks = max_fallbacks

    async def complete(self, request: CompletionRequest, model: str) -> ProviderReply:
        fallbacks = [m for m in self._chain(request, model) if m != model]
        models = [model, *dict.fromkeys(fallbacks)][: 1 + self.max_fallbacks]
        for candidate in models[:-1]:
            try:
                return await self.inner.complete(request, candidate)
            except ProviderError:
                continue
        return await self.inner.complete(request, models[-1])


def resilient(
    provider: Provider,
    *,
    clock: Clock,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    policy: RetryPolicy | None = None,
    chain: Callable[[CompletionRequest, str], Sequence[str]] | None = None,
    max_fallbacks: int = DEFAULT_MAX_FALLBACKS,
    rng: random.Random | None = None,
) -> Provider:
    """``provider`` with a per-attempt timeout, retries and (given a chain) fallbacks."""
    wrapped: Provider = TimeoutProvider(provider, timeout_s=timeout_s, clock=clock)
    wrapped = RetryProvider(wrapped, policy=policy or RetryPolicy(), clock=clock, rng=rng)
    if chain is not None:
        wrapped = FallbackProvider(wrapped, chain=chain, max_fallbacks=max_fallbacks)
    return wrapped
