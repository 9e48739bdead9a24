"""``Maestro``: wires the parts chosen by settings into one engine.

The engine owns the long-lived resources (database, coordinator, clock) and
builds each part on first use, so a library user pays only for what they touch.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from maestro.clock import Clock, SystemClock
from maestro.config import Settings
from maestro.coord import Coordinator, connect
from maestro.health import HealthCheck, HealthMonitor, ProviderProbe
from maestro.store.db import Database
from maestro.store.tenancy import TenancyRepo

if TYPE_CHECKING:
    from maestro.llm.accounting import Ledger
    from maestro.llm.budget import Budget
    from maestro.llm.cache import SemanticCache
    from maestro.llm.gateway import LLMGateway
    from maestro.llm.ratelimit.limiter import RateLimiter

__all__ = ["HealthCheck", "Maestro"]


class Maestro:
    """The engine. Build it with :meth:`from_settings`, then ``await start()``."""

    def __init__(
        self, settings: Settings, *, clock: Clock | None = None, coord: Coordinator | None = None
    ) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.db = Database(settings.database_url, schema=settings.database_schema)
        self.coord: Coordinator = coord or connect(
            settings.coord_url, prefix=settings.key_prefix, clock=self.clock
        )
        self.tenancy = TenancyRepo(
            self.db, self.clock, auth_cache_s=settings.api.auth_cache_seconds
        )
        self.health_checks: dict[str, HealthCheck] = {
            "database": self._check_database,
            "coordination": self._check_coord,
            "limiter": self._check_limiter,
        }
        if settings.cache.enabled:
            self.health_checks["cache"] = self._check_cache
        if settings.health.provider_probe:
            self.health_checks["llm"] = self._check_provider
        self._started = False

    @classmethod
    def from_settings(
        cls, settings: Settings | None = None, *, clock: Clock | None = None, **overrides: Any
    ) -> Maestro:
        """An engine for ``settings`` (or the environment / maestro.toml, plus ``overrides``)."""
        return cls(settings or Settings.load(**overrides), clock=clock)

    async def start(self) -> Maestro:
        """Check the database (a clear error if unreachable) and migrate if configured."""
        if not self._started:
            await self.db.check()
            if self.settings.auto_migrate:
                await self.db.ensure_migrated()
            self._started = True
        return self

    async def close(self) -> None:
        if "monitor" in self.__dict__:
            await self.monitor.drain()
        if "ledger" in self.__dict__:
            await self.ledger.close()
        await self.coord.close()
        await self.db.dispose()
        self._started = False

    async def __aenter__(self) -> Maestro:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- the gateway and its parts, built on first use --------------------------------

    @cached_property
    def limiter(self) -> RateLimiter:
        from maestro.llm.ratelimit.limiter import RateLimiter

        return RateLimiter.from_coordinator(self.coord, self.settings.ratelimit, self.clock)

    @cached_property
    def budget(self) -> Budget:
        from maestro.llm.budget import Budget

        return Budget(self.coord, self.clock, self.settings.budget)

    @cached_property
    def ledger(self) -> Ledger:
        from maestro.llm.accounting import Ledger

        return Ledger(self.db, self.clock)

    @cached_property
    def cache(self) -> SemanticCache:
        """The multi-level response cache (per workspace; shared by replicas on Redis)."""
        from maestro.llm.cache import SemanticCache

        return SemanticCache.from_settings(self.settings.cache, coord=self.coord, clock=self.clock)

    @cached_property
    def gateway(self) -> LLMGateway:
        """The one door to every model: cache, budget, rate limit, routing, accounting."""
        from maestro.llm.gateway import LLMGateway
        from maestro.llm.routing import build_llm

        return LLMGateway(
            stack=build_llm(self.settings.llm, clock=self.clock),
            limiter=self.limiter,
            budget=self.budget,
            ledger=self.ledger,
            cache=self.cache if self.settings.cache.enabled else None,
            settings=self.settings.gateway,
        )

    @cached_property
    def monitor(self) -> HealthMonitor:
        """Runs :attr:`health_checks` and alerts the webhook when the overall status changes."""
        return HealthMonitor(self.settings.health, self.clock, checks=self.health_checks)

    async def health(self) -> dict[str, dict[str, Any]]:
        """Every component's check; a check that raises or hangs counts as down."""
        return await self.monitor.run()

    async def _check_limiter(self) -> dict[str, Any]:
        limiter = self.limiter
        return {"ok": True, "degraded": limiter.degraded, "backend": self.coord.url.split(":")[0]}

    async def _check_cache(self) -> dict[str, Any]:
        stats = self.cache.stats()
        return {
            "ok": True,
            "lookups": stats.lookups,
            "hit_rate": round(stats.hit_rate, 4),
            "stores": stats.stores,
            "evictions": stats.evictions,
        }

    async def _check_provider(self) -> dict[str, Any]:
        return await self._provider_probe()

    @cached_property
    def _provider_probe(self) -> ProviderProbe:
        return ProviderProbe(
            self.gateway.stack,
            self.settings.health,
            self.clock,
            limiter=self.limiter,
            quota_kinds=self.settings.gateway.quota_keys,
        )

    async def _check_database(self) -> dict[str, Any]:
        return {"ok": await self.db.ping(), "url": self.db.safe_url}

    async def _check_coord(self) -> dict[str, Any]:
        from maestro.urls import redact_url

        return {"ok": await self.coord.ping(), "url": redact_url(self.coord.url)}
