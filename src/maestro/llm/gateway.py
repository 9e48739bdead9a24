"""The gateway: the one door every model call in Maestro goes through.

``cache -> model choice -> budget -> rate limit -> provider -> accounting``

Each stage is its own part (``llm/cache``, ``llm/routing``, ``llm/budget``,
``llm/ratelimit``, ``llm/resilience``, ``llm/accounting``); this module only
sequences them and guarantees the bookkeeping: a budget reservation is always
settled, and every call, served or refused, leaves one accounting record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from typing import Protocol

from maestro.errors import (
    BudgetExceededError,
    DeferredError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitedError,
    SkippedError,
)
from maestro.llm.accounting import CallRecord, Ledger, Outcome
from maestro.llm.budget import Budget, Reservation
from maestro.llm.ratelimit.keys import model_key, provider_key, workspace_key
from maestro.llm.ratelimit.limiter import RateLimiter
from maestro.llm.ratelimit.policy import Deferred, Skipped
from maestro.llm.routing import LLMStack, Route
from maestro.llm.settings import GatewaySettings
from maestro.llm.types import (
    CacheLevel,
    CompletionRequest,
    CompletionResult,
    Priority,
    Usage,
)

__all__ = ["CachedAnswer", "GatewaySettings", "LLMGateway", "ResponseCache"]


class CachedAnswer(Protocol):
    @property
    def level(self) -> CacheLevel: ...
    @property
    def text(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def usage(self) -> Usage: ...


class ResponseCache(Protocol):
    """What the gateway needs from :mod:`maestro.llm.cache`."""

    async def lookup(self, request: CompletionRequest, workspace: str) -> CachedAnswer | None: ...

    async def store(
        self, request: CompletionRequest, workspace: str, result: CompletionResult
    ) -> object: ...


class LLMGateway:
    """Serves :class:`CompletionRequest` objects for a workspace, an agent and a purpose."""

    def __init__(
        self,
        *,
        stack: LLMStack,
        limiter: RateLimiter,
        budget: Budget,
        ledger: Ledger,
        cache: ResponseCache | None = None,
        settings: GatewaySettings | None = None,
    ) -> None:
        self.stack = stack
        self.limiter = limiter
        self.budget = budget
        self.ledger = ledger
        self.cache = cache
        self.settings = settings or GatewaySettings()

    async def complete(
        self,
        request: CompletionRequest,
        *,
        workspace: str,
        agent: str,
        purpose: str,
        priority: Priority = Priority.P1,
    ) -> CompletionResult:
        """The answer to ``request``, from cache or a provider.

        Raises:
            BudgetExceededError: the day's budget cannot cover even the cheapest model
                (always for refused priorities, P2 and P3 by default).
            DeferredError: a P2 call found no token now; reschedule at ``retry_at``.
            SkippedError: a P3 call found the quota under its floor.
            RateLimitedError: a P0/P1 call waited past its timeout.
            ProviderError: every model of the fallback chain failed.
        """
        started = time.perf_counter()
        record = partial(
            CallRecord, workspace=workspace, agent=agent, purpose=purpose, priority=priority
        )

        hit = await self._cached(request, workspace)
        if hit is not None:
            result = CompletionResult(
                text=hit.text,
                model=hit.model,
                usage=hit.usage,
                cost_usd=0.0,
                latency_ms=(time.perf_counter() - started) * 1000,
                cache_level=hit.level,
                template_version=request.template_version,
            )
            await self.ledger.record(
                record(
                    model=hit.model,
                    outcome="ok",
                    prompt_tokens=hit.usage.prompt_tokens,
                    completion_tokens=hit.usage.completion_tokens,
                    latency_ms=result.latency_ms,
                    cache_level=hit.level,
                    template_version=request.template_version,
                )
            )
            return result

        route, reservation = await self._route_within_budget(request, workspace, priority, record)
        bounded = request
        if request.max_tokens is None:
            # Bound the completion so the real cost cannot exceed the reservation.
            bounded = request.model_copy(
                update={"max_tokens": self.stack.router.settings.expected_output_tokens}
            )
        try:
            await self._take_tokens(route.model, workspace, priority)
            reply = await self.stack.provider.complete(bounded, route.model)
        except BaseException as exc:
            await self.budget.settle(reservation, 0.0)
            await self.ledger.record(
                record(
                    model=route.model,
                    outcome=_outcome_of(exc),
                    template_version=request.template_version,
                )
            )
            raise

        spec = self.stack.router.spec(reply.model)
        cost = spec.cost(reply.usage.prompt_tokens, reply.usage.completion_tokens)
        await self.budget.settle(reservation, cost)
        result = CompletionResult(
            text=reply.text,
            model=reply.model,
            usage=reply.usage,
            cost_usd=cost,
            latency_ms=(time.perf_counter() - started) * 1000,
            template_version=request.template_version,
        )
        if self._cacheable(request) and self.cache is not None:
            await self.cache.store(request, workspace, result)
        await self.ledger.record(
            record(
                model=reply.model,
                outcome="ok",
                prompt_tokens=reply.usage.prompt_tokens,
                completion_tokens=reply.usage.completion_tokens,
                cost_usd=cost,
                latency_ms=result.latency_ms,
                template_version=request.template_version,
            )
        )
        return result

    def _cacheable(self, request: CompletionRequest) -> bool:
        if not self.settings.cache_enabled or request.cache == "bypass":
            return False
        return request.deterministic or request.cache == "opt_in"

    async def _cached(self, request: CompletionRequest, workspace: str) -> CachedAnswer | None:
        if self.cache is None or not self._cacheable(request):
            return None
        return await self.cache.lookup(request, workspace)

    async def _route_within_budget(
        self,
        request: CompletionRequest,
        workspace: str,
        priority: Priority,
        record: Callable[..., CallRecord],
    ) -> tuple[Route, Reservation]:
        """The route, with its worst-case cost reserved; a cheaper model when over budget."""
        router = self.stack.router
        route = router.choose(request)
        worst = route.estimated_cost_usd
        if route.fallbacks:
            tokens = _tokens(request)  # counted once, not once per fallback
            worst = max(
                worst, *(router.estimate(router.spec(m), request, tokens) for m in route.fallbacks)
            )
        reservation = await self.budget.reserve(workspace, worst)
        if reservation is not None:
            return route, reservation
        if priority not in self.settings.refuse_over_budget:
            remaining = await self.budget.remaining_usd(workspace)
            try:
                cheaper = router.choose(
                    request.model_copy(update={"model": "auto"}), ceiling_usd=remaining
                )
            except BudgetExceededError:
                cheaper = None
            if cheaper is not None:
                reservation = await self.budget.reserve(workspace, cheaper.estimated_cost_usd)
                if reservation is not None:
                    return cheaper, reservation
        await self.ledger.record(
            record(
                model=route.model, outcome="over_budget", template_version=request.template_version
            )
        )
        limit = self.budget.limit_usd(workspace)
        raise BudgetExceededError(
            f"workspace daily budget of {limit} USD is spent; P{int(priority)} call refused",
            field="budget",
        )

    async def _take_tokens(self, model: str, workspace: str, priority: Priority) -> None:
        spec = self.stack.router.spec(model)
        keys = {
            "provider": provider_key(spec.provider),
            "model": model_key(spec.name),
            "workspace": workspace_key(workspace),
        }
        for kind in self.settings.quota_keys:
            outcome = await self.limiter.acquire(keys[kind], priority)
            if isinstance(outcome, Deferred):
                raise DeferredError(
                    f"no token for {keys[kind]} now; retry at {outcome.retry_at.isoformat()}",
                    retry_at=outcome.retry_at,
                )
            if isinstance(outcome, Skipped):
                raise SkippedError(f"{keys[kind]} is below the P3 floor; low-priority call skipped")


def _tokens(request: CompletionRequest) -> int:
    from maestro.llm.compress import count_tokens

    return sum(count_tokens(m.content) + 4 for m in request.messages)


def _outcome_of(exc: BaseException) -> Outcome:
    if isinstance(exc, DeferredError):
        return "deferred"
    if isinstance(exc, SkippedError):
        return "skipped"
    if isinstance(exc, RateLimitedError):
        return "rate_limited"
    if isinstance(exc, ProviderTimeoutError):
        return "timeout"
    if isinstance(exc, ProviderError):
        return "error"
    return "error"
