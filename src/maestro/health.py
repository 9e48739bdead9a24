"""Component health, the overall status, and alerts when it changes (seed 004).

Each check answers ``{"ok": bool, ...details}`` and may add ``"degraded": True``
when the component still serves but not as configured (the limiter on its local
fallback, a slow model provider). The overall status is

- ``down`` when a check is not ok: readiness answers 503;
- ``degraded`` when every check is ok but one reports itself degraded;
- ``ok`` otherwise.

Every change of the overall status is POSTed to the alert webhook
(``health.alert.url``) in the background, so a slow receiver never delays a
readiness probe. Checks run concurrently, each under a timeout, so one hung
backend cannot hang the probe.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from maestro.clock import Clock
from maestro.orchestration.settings import WebhookSettings

if TYPE_CHECKING:
    from maestro.llm.ratelimit.keys import QuotaKind
    from maestro.llm.ratelimit.limiter import RateLimiter
    from maestro.llm.routing import LLMStack

__all__ = [
    "DEFAULT_PROVIDER_LATENCY_MS",
    "HealthCheck",
    "HealthMonitor",
    "HealthSettings",
    "ProviderProbe",
    "Status",
    "overall_status",
]

DEFAULT_PROVIDER_LATENCY_MS = 500.0
"""Seed 004: the model provider should answer within 500 ms."""

Status = Literal["ok", "degraded", "down"]
HealthCheck = Callable[[], Awaitable[dict[str, Any]]]
"""Returns ``{"ok": bool, ...details}``."""


class HealthSettings(BaseModel):
    """Health checks and the alert sent when the overall status changes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    check_timeout_seconds: float = Field(default=2.0, gt=0.0)
    """A check that takes longer counts as down."""
    provider_latency_ms: float = Field(default=DEFAULT_PROVIDER_LATENCY_MS, gt=0.0)
    """A model provider slower than this is reported degraded."""
    provider_probe: bool = True
    """Time one tiny completion of the default model (off: no provider check)."""
    provider_probe_every_seconds: float = Field(default=60.0, ge=0.0)
    """Reuse a probe's result this long, so frequent readiness probes cost no model calls."""
    alert: WebhookSettings = WebhookSettings()
    """Where status changes are POSTed (``event: health.status``); no URL, no alert."""


def overall_status(components: Mapping[str, Mapping[str, Any]]) -> Status:
    """``down`` if any check failed, ``degraded`` if any reports itself so, else ``ok``."""
    if not all(c.get("ok") for c in components.values()):
        return "down"
    if any(c.get("degraded") for c in components.values()):
        return "degraded"
    return "ok"


class ProviderProbe:
    """Times one 1-token completion of the default model, at most once per period.

    The probe is a diagnostic, so it takes its token at P0 from the provider and
    model buckets the gateway uses: replicas probing a paid provider stay inside
    the shared quota. (No workspace bucket: health belongs to no workspace.)
    """

    def __init__(
        self,
        stack: LLMStack,
        settings: HealthSettings,
        clock: Clock,
        *,
        limiter: RateLimiter,
        quota_kinds: tuple[QuotaKind, ...],
    ) -> None:
        self._stack = stack
        self._settings = settings
        self._clock = clock
        self._limiter = limiter
        self._quota_kinds = quota_kinds
        self._last: dict[str, Any] | None = None
        self._at = float("-inf")

    async def __call__(self) -> dict[str, Any]:
        now = self._clock.now().timestamp()
        if self._last is not None and now - self._at < self._settings.provider_probe_every_seconds:
            return {**self._last, "cached": True}
        from maestro.llm.ratelimit.keys import model_key, provider_key
        from maestro.llm.types import CompletionRequest, Priority

        spec = self._stack.router.spec("default")
        model = spec.name
        keys = {"provider": provider_key(spec.provider), "model": model_key(model)}
        for kind in self._quota_kinds:
            if kind in keys:
                await self._limiter.acquire(keys[kind], Priority.P0)
        request = CompletionRequest.of("health check: answer OK", model=model, max_tokens=1)
        started = time.perf_counter()
        await self._stack.provider.complete(request, model)
        latency_ms = (time.perf_counter() - started) * 1000.0
        limit = self._settings.provider_latency_ms
        self._last = {
            "ok": True,
            "degraded": latency_ms > limit,
            "model": model,
            "latency_ms": round(latency_ms, 2),
            "limit_ms": limit,
        }
        self._at = now
        return dict(self._last)


class HealthMonitor:
    """Runs the registered checks and alerts on every change of the overall status."""

    def __init__(
        self, settings: HealthSettings, clock: Clock, *, checks: dict[str, HealthCheck]
    ) -> None:
        self.settings = settings
        self.checks = checks
        self._clock = clock
        self._status: Status | None = None
        self._alerts: set[asyncio.Task[Any]] = set()
        self.alerts_sent = 0

    @property
    def status(self) -> Status | None:
        """The overall status at the last run (None before the first)."""
        return self._status

    async def run(self) -> dict[str, dict[str, Any]]:
        """Every check's answer; a check that raises or times out is down."""
        names = list(self.checks)
        answers = await asyncio.gather(*(self._one(self.checks[n]) for n in names))
        components = dict(zip(names, answers, strict=True))
        self._observe(overall_status(components), components)
        return components

    async def _one(self, check: HealthCheck) -> dict[str, Any]:
        try:
            return await asyncio.wait_for(check(), self.settings.check_timeout_seconds)
        except TimeoutError:
            limit = self.settings.check_timeout_seconds
            return {"ok": False, "error": f"no answer within {limit} s"}
        except Exception as exc:
            return {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"}

    def _observe(self, status: Status, components: dict[str, dict[str, Any]]) -> None:
        previous, self._status = self._status, status
        if previous == status or (previous is None and status == "ok"):
            return
        if not self.settings.alert.url:
            return
        failing = {n: c for n, c in components.items() if not c.get("ok") or c.get("degraded")}
        payload = {
            "status": status,
            "previous": previous,
            "at": self._clock.now().isoformat(),
            "components": failing,
        }
        task = asyncio.create_task(self._send(payload))
        self._alerts.add(task)
        task.add_done_callback(self._alerts.discard)

    async def _send(self, payload: dict[str, Any]) -> None:
        from maestro.orchestration.webhooks import WebhookNotifier

        delivery = await WebhookNotifier(self.settings.alert, self._clock).send(
            "health.status", payload
        )
        if delivery.ok:
            self.alerts_sent += 1

    async def drain(self) -> None:
        """Wait for alerts still being delivered (on shutdown, and in tests)."""
        if self._alerts:
            await asyncio.gather(*list(self._alerts), return_exceptions=True)
