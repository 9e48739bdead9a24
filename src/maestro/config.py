"""Settings, read in one place.

Sources, highest priority first: keyword arguments, ``MAESTRO_*`` environment
variables (nested fields with ``__``, e.g. ``MAESTRO_API__PORT=9000``), the TOML
file named by ``MAESTRO_CONFIG`` or ``./maestro.toml`` if present, then defaults.
Every default is the embedded profile: SQLite, in-process coordination, the
offline model. Scale-out is chosen purely by URLs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from maestro.agents.evolution import PopulationSettings
from maestro.cycles.settings import StudioSettings
from maestro.errors import ConfigurationError
from maestro.health import HealthSettings
from maestro.jobs.settings import JobsSettings
from maestro.learning.bandits import LearningSettings
from maestro.llm.budget import BudgetSettings
from maestro.llm.cache.settings import CacheSettings
from maestro.llm.ratelimit.settings import RateLimitSettings
from maestro.llm.routing import LLMSettings
from maestro.llm.settings import GatewaySettings
from maestro.memory.policy import MemorySettings
from maestro.orchestration.settings import OrchestrationSettings
from maestro.recommend.settings import RecommendSettings
from maestro.sim.audience import SimulatorSettings
from maestro.urls import COORD_SCHEMES, STORAGE_SCHEMES

__all__ = [
    "DEFAULT_COORD_URL",
    "DEFAULT_DATABASE_URL",
    "ApiSettings",
    "Settings",
]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./maestro.db"
DEFAULT_COORD_URL = "memory://"


class ApiSettings(BaseModel):
    """The HTTP service."""

    host: str = "127.0.0.1"
    """Interface ``maestro serve`` binds to."""
    port: int = Field(default=8000, ge=1, le=65535)
    """TCP port ``maestro serve`` listens on."""
    workers: int = Field(default=1, ge=1)
    """Uvicorn worker processes."""
    auth_cache_seconds: float = Field(default=5.0, ge=0.0, le=300.0)
    """How long a verified API key is remembered: the bound on how late another
    process's revocation takes effect here (0: look every key up on every request)."""


class Settings(BaseSettings):
    """All of Maestro's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="MAESTRO_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    database_url: str = DEFAULT_DATABASE_URL
    """Storage: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://user@host/db``."""
    database_schema: str | None = None
    """PostgreSQL schema (search_path) to use instead of ``public``."""
    coord_url: str = DEFAULT_COORD_URL
    """Coordination (limits, cache, locks, events): ``memory://`` or ``redis://host:port/db``."""
    key_prefix: str = "maestro:"
    """Prefix of every key Maestro writes to the coordination backend."""
    auto_migrate: bool = True
    """Run pending migrations on first use (the embedded default); off for managed deployments."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Minimum level of the structured JSON logs."""
    log_json: bool = True
    """Structured JSON logs (True) or plain text lines (False)."""
    api: ApiSettings = ApiSettings()
    """The HTTP service."""
    llm: LLMSettings = LLMSettings()
    """Providers, model aliases, the model catalog, cost-aware routing and resilience."""
    ratelimit: RateLimitSettings = RateLimitSettings()
    """Priority token buckets per quota key; behaviour while Redis is unreachable."""
    budget: BudgetSettings = BudgetSettings()
    """Daily spending limits per workspace."""
    gateway: GatewaySettings = GatewaySettings()
    """Which quota keys each call draws on; cache on or off; who is refused over budget."""
    memory: MemorySettings = MemorySettings()
    """Task memory, critiques, weighted metrics and learned patterns."""
    orchestration: OrchestrationSettings = OrchestrationSettings()
    """Routing, durable workflows, self-correction, debates and approval checkpoints."""
    population: PopulationSettings = PopulationSettings()
    """Content agent population: diversity rules, adaptation, evolution."""
    simulator: SimulatorSettings = SimulatorSettings()
    """The audience simulator used as the default source of outcomes."""
    recommend: RecommendSettings = RecommendSettings()
    """Snippet agents, precompute ticks, the orchestrator template and model alias."""
    cache: CacheSettings = CacheSettings()
    """The semantic response cache (levels, threshold, TTL, size, embedder)."""
    jobs: JobsSettings = JobsSettings()
    """Background jobs: in-process scheduler or arq workers; lag alert."""
    learning: LearningSettings = LearningSettings()
    """Bandit policies for strategy selection and experiment defaults."""
    studio: StudioSettings = StudioSettings()
    """The content cycle: its rhythm, checkpoint, sharing mode and sink."""
    health: HealthSettings = HealthSettings()
    """Component checks (provider latency limit, check timeout) and the status-change alert."""

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, v: str) -> str:
        scheme = v.split("://", 1)[0]
        if scheme not in STORAGE_SCHEMES:
            raise ValueError(
                f"unsupported storage URL scheme {scheme!r}; accepted: {', '.join(STORAGE_SCHEMES)}"
            )
        return v

    @field_validator("coord_url")
    @classmethod
    def _check_coord_url(cls, v: str) -> str:
        scheme = v.split("://", 1)[0]
        if scheme not in COORD_SCHEMES:
            accepted = ", ".join(COORD_SCHEMES)
            raise ValueError(
                f"unsupported coordination URL scheme {scheme!r}; accepted: {accepted}"
            )
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("MAESTRO_CONFIG", "maestro.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        elif "MAESTRO_CONFIG" in os.environ:
            raise ConfigurationError(f"MAESTRO_CONFIG names {toml_path}, which does not exist")
        return tuple(sources)

    @classmethod
    def load(cls, **overrides: Any) -> Settings:
        """Read the settings, mapping validation failures to :class:`ConfigurationError`."""
        from pydantic import ValidationError as PydanticValidationError

        try:
            return cls(**overrides)
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            raise ConfigurationError(
                f"invalid setting {field}: {first['msg']}", field=field
            ) from None
