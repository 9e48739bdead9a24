"""Checkpoint notifications: a JSON POST to a webhook, retried with backoff.

A delivery that still fails after the configured attempts is reported (the
caller records it on the approval) and never fails the run: a human can always
find pending approvals through the API and the dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from maestro.clock import Clock
from maestro.orchestration.settings import WebhookSettings

__all__ = ["Delivery", "WebhookNotifier"]


@dataclass(frozen=True, slots=True)
class Delivery:
    ok: bool
    attempts: int
    status: int | None
    error: str | None

    def describe(self) -> str:
        if self.ok:
            return f"delivered (HTTP {self.status}) after {self.attempts} attempt(s)"
        return f"failed after {self.attempts} attempt(s): {self.error}"


class WebhookNotifier:
    """POSTs events to ``settings.url``; a 2xx answer is success, anything else is retried."""

    def __init__(
        self,
        settings: WebhookSettings,
        clock: Clock,
        *,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._client = client

    @property
    def enabled(self) -> bool:
        return bool(self.settings.url)

    async def send(self, event: str, payload: dict[str, Any]) -> Delivery:
        """Deliver ``{"event": event, **payload}``; never raises."""
        if not self.settings.url:
            return Delivery(ok=False, attempts=0, status=None, error="no webhook configured")
        body = {"event": event, **payload}
        delay = self.settings.backoff_seconds
        status: int | None = None
        error: str | None = None
        client = self._client or httpx.AsyncClient(timeout=self.settings.timeout_seconds)
        try:
            for attempt in range(1, self.settings.attempts + 1):
                try:
                    response = await client.post(self.settings.url, json=body)
                    status = response.status_code
                    if 200 <= status < 300:
                        return Delivery(ok=True, attempts=attempt, status=status, error=None)
                    error = f"HTTP {status}"
                except httpx.HTTPError as exc:
                    error = f"{exc.__class__.__name__}: {exc}"
                if attempt < self.settings.attempts:
                    await self._clock.sleep(delay)
                    delay *= 2
            return Delivery(ok=False, attempts=self.settings.attempts, status=status, error=error)
        finally:
            if self._client is None:
                await client.aclose()
