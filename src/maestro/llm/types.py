"""The values that cross the gateway: requests, results, priorities, providers."""

from __future__ import annotations

from enum import IntEnum
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "CacheLevel",
    "CompletionRequest",
    "CompletionResult",
    "Gateway",
    "Message",
    "Priority",
    "Provider",
    "ProviderReply",
    "TaskClass",
    "Usage",
]

CacheLevel = Literal["L1", "L2", "L3"]
TaskClass = Literal["simple", "complex", "critical"]


class Priority(IntEnum):
    """Who gets the API budget first (seed 000, section C)."""

    P0 = 0
    """Critical: healing retries, diagnostics. May use the reserve; always served."""
    P1 = 1
    """High: daily burst, user-facing requests. Waits (FIFO behind P0); never skipped."""
    P2 = 2
    """Normal: scout, metrics, feedback. Served now or deferred."""
    P3 = 3
    """Low: bootstrap research, maintenance. Skipped under 20% capacity."""


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class CompletionRequest(BaseModel):
    """What a caller asks the gateway for. ``model`` may be an alias or ``auto``."""

    model_config = ConfigDict(frozen=True)

    messages: tuple[Message, ...] = Field(min_length=1)
    model: str = "auto"
    """A model name, an alias from configuration, or ``auto`` (cost-aware choice)."""
    task_class: TaskClass = "simple"
    """Sets the cost ceiling when ``model`` is ``auto``."""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    template_version: str | None = None
    """The prompt template that produced ``messages`` (recorded, part of the cache key)."""
    cache: Literal["auto", "bypass", "opt_in"] = "auto"
    """``auto``: cache only deterministic requests; ``opt_in``: cache even sampled ones."""
    metadata: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def of(cls, prompt: str, *, system: str | None = None, **kwargs: Any) -> CompletionRequest:
        """A one-turn request."""
        msgs = [Message(role="system", content=system)] if system else []
        msgs.append(Message(role="user", content=prompt))
        return cls(messages=tuple(msgs), **kwargs)

    @property
    def deterministic(self) -> bool:
        return self.temperature == 0.0 or self.seed is not None


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ProviderReply(BaseModel):
    """What a provider returns for one upstream call."""

    model_config = ConfigDict(frozen=True)

    text: str
    model: str
    usage: Usage


class CompletionResult(BaseModel):
    """What the gateway returns to a caller."""

    model_config = ConfigDict(frozen=True)

    text: str
    model: str
    usage: Usage
    cost_usd: float
    latency_ms: float
    cache_level: CacheLevel | None = None
    template_version: str | None = None


@runtime_checkable
class Provider(Protocol):
    """Something that turns a request into text for a concrete model."""

    name: str

    async def complete(self, request: CompletionRequest, model: str) -> ProviderReply: ...


@runtime_checkable
class Gateway(Protocol):
    """The one door to every model: cache, budget and rate limit, model choice, accounting."""

    async def complete(
        self,
        request: CompletionRequest,
        *,
        workspace: str,
        agent: str,
        purpose: str,
        priority: Priority = Priority.P1,
    ) -> CompletionResult: ...
