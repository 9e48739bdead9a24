"""Cost-aware model choice, the LLM settings, and the provider stack they build.

A request for ``model="auto"`` goes to the cheapest catalog model that fits:

1. its context window holds the prompt plus the expected completion;
2. its estimated cost (prompt tokens and ``max_tokens``, or the expected
   completion length, at the model's prices) is within the task class ceiling
   (simple 0.001, complex 0.01, critical 0.05 USD per call by default);
3. its quality tier reaches the class minimum (1, 2, 3); if no affordable model
   does, the best tier among the affordable ones is taken.

Ties go to the higher tier, then the name. The other affordable models, cheapest
first, are the fallback chain unless configuration names one for the model. A
named model (or alias) is used as asked; its fallbacks are only the configured ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from maestro.clock import Clock
from maestro.errors import BudgetExceededError, ConfigurationError
from maestro.llm.catalog import Catalog, ModelEntry, ModelSpec, QualityTier, litellm_cost_map
from maestro.llm.compress import count_tokens
from maestro.llm.litellm_provider import DEFAULT_LITELLM_TIMEOUT_S, LiteLLMProvider
from maestro.llm.offline import OFFLINE_MODEL, OfflineModel
from maestro.llm.resilience import (
    DEFAULT_MAX_FALLBACKS,
    DEFAULT_TIMEOUT_S,
    RetryPolicy,
    resilient,
)
from maestro.llm.types import CompletionRequest, Provider, ProviderReply, TaskClass

__all__ = [
    "DEFAULT_ALIASES",
    "DEFAULT_CEILINGS_USD",
    "DEFAULT_EXPECTED_OUTPUT_TOKENS",
    "DEFAULT_MIN_TIERS",
    "LLMSettings",
    "LLMStack",
    "ModelDispatcher",
    "Route",
    "Router",
    "build_llm",
]

DEFAULT_CEILINGS_USD: dict[TaskClass, float] = {"simple": 0.001, "complex": 0.01, "critical": 0.05}
DEFAULT_MIN_TIERS: dict[TaskClass, QualityTier] = {"simple": 1, "complex": 2, "critical": 3}
DEFAULT_EXPECTED_OUTPUT_TOKENS = 512
DEFAULT_ALIASES = {"tip-generator": OFFLINE_MODEL}
"""Seed 001's alias; point it at e.g. ``deepseek/deepseek-chat`` in configuration."""
_MAX_ALIAS_HOPS = 8


class LLMSettings(BaseModel):
    """Providers, aliases, the model catalog, routing and resilience."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_model: str = OFFLINE_MODEL
    """The model a request for ``default`` gets (the embedded default: the offline model)."""
    aliases: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_ALIASES))
    """Alias -> model name, e.g. ``{"tip-generator": "deepseek/deepseek-chat"}``."""
    models: dict[str, ModelEntry] = Field(default_factory=dict)
    """Catalog entries beyond the offline model; unset prices come from LiteLLM's map."""
    offline_input_cost_per_token: float = Field(default=0.0, ge=0.0)
    """Nominal USD per prompt token for the offline model (set it to exercise budgets)."""
    offline_output_cost_per_token: float = Field(default=0.0, ge=0.0)
    """Nominal USD per completion token for the offline model."""
    offline_seed: int = 0
    """Seed mixed into every offline answer (change it for a different but fixed world)."""
    timeout_s: float = Field(default=DEFAULT_TIMEOUT_S, gt=0.0)
    """Per-attempt timeout; fires even if the provider never answers."""
    litellm_timeout_s: float = Field(default=DEFAULT_LITELLM_TIMEOUT_S, gt=0.0)
    """LiteLLM's own HTTP timeout (a second line behind ``timeout_s``)."""
    retry: RetryPolicy = RetryPolicy()
    """Retries of transient errors (count, exponential backoff, jitter)."""
    fallbacks: dict[str, list[str]] = Field(default_factory=dict)
    """Model -> models to try next on provider errors (overrides the automatic chain)."""
    max_fallbacks: int = Field(default=DEFAULT_MAX_FALLBACKS, ge=0)
    """At most this many fallback models per request."""
    ceilings_usd: dict[TaskClass, float] = Field(default_factory=lambda: dict(DEFAULT_CEILINGS_USD))
    """Maximum estimated cost of one call, per task class."""
    min_quality_tier: dict[TaskClass, QualityTier] = Field(
        default_factory=lambda: dict(DEFAULT_MIN_TIERS)
    )
    """Quality tier each task class asks for (relaxed when nothing affordable reaches it)."""
    expected_output_tokens: int = Field(default=DEFAULT_EXPECTED_OUTPUT_TOKENS, ge=1)
    """Completion length assumed for cost estimates when a request sets no ``max_tokens``."""


@dataclass(frozen=True, kw_only=True)
class Route:
    """Where a request goes."""

    model: str
    fallbacks: tuple[str, ...]
    estimated_cost_usd: float
    reason: str


class Router:
    """Chooses models from a :class:`Catalog` (see the module docstring)."""

    def __init__(self, catalog: Catalog, settings: LLMSettings | None = None) -> None:
        self.catalog = catalog
        self.settings = settings or LLMSettings()

    @classmethod
    def from_settings(cls, settings: LLMSettings) -> Router:
        catalog = Catalog.build(
            settings.models,
            offline_input_cost=settings.offline_input_cost_per_token,
            offline_output_cost=settings.offline_output_cost_per_token,
        )
        return cls(catalog, settings)

    def resolve(self, name: str) -> str:
        """``name`` after aliases (``default`` is the default model)."""
        aliases = self.settings.aliases
        seen = [name]
        name = self.settings.default_model if name == "default" else name
        while name in aliases:
            name = aliases[name]
            if name in seen or len(seen) > _MAX_ALIAS_HOPS:
                raise ConfigurationError(
                    f"alias loop: {' -> '.join([*seen, name])}", field="llm.aliases"
                )
            seen.append(name)
        return name

    def spec(self, name: str) -> ModelSpec:
        """The catalog spec of ``name`` (an alias is resolved; a model LiteLLM knows is priced).

        Raises:
            ConfigurationError: the model is neither configured nor known to LiteLLM.
        """
        resolved = self.resolve(name)
        if resolved in self.catalog or resolved not in litellm_cost_map():
            return self.catalog.get(resolved)
        return Catalog.build({resolved: ModelEntry()}).get(resolved)

    def estimate(self, spec: ModelSpec, request: CompletionRequest, prompt_tokens: int) -> float:
        """Estimated USD of ``request`` on ``spec``."""
        completion = request.max_tokens or self.settings.expected_output_tokens
        return spec.cost(prompt_tokens, completion)

    def candidates(
        self, request: CompletionRequest, prompt_tokens: int, ceiling_usd: float | None = None
    ) -> list[tuple[ModelSpec, float]]:
        """Affordable models that fit, best choice first."""
        ceiling = self.ceiling(request.task_class) if ceiling_usd is None else ceiling_usd
        completion = request.max_tokens or self.settings.expected_output_tokens
        fits = [
            (spec, self.estimate(spec, request, prompt_tokens))
            for spec in self.catalog
            if spec.context_window >= prompt_tokens + completion
        ]
        affordable = [(s, c) for s, c in fits if c <= ceiling]
        tier = self.settings.min_quality_tier.get(request.task_class, 1)
        if affordable and not any(s.quality_tier >= tier for s, _ in affordable):
            tier = max(s.quality_tier for s, _ in affordable)
        good = sorted(
            ((s, c) for s, c in affordable if s.quality_tier >= tier),
            key=lambda sc: (sc[1], -sc[0].quality_tier, sc[0].name),
        )
        rest = sorted(
            ((s, c) for s, c in affordable if s.quality_tier < tier),
            key=lambda sc: (-sc[0].quality_tier, sc[1], sc[0].name),
        )
        return good + rest

    def ceiling(self, task_class: TaskClass) -> float:
        return self.settings.ceilings_usd.get(task_class, DEFAULT_CEILINGS_USD[task_class])

    def choose(
        self,
        request: CompletionRequest,
        *,
        prompt_tokens: int | None = None,
        ceiling_usd: float | None = None,
    ) -> Route:
        """The model for ``request``; ``ceiling_usd`` overrides the class ceiling.

        Raises:
            BudgetExceededError: no model that fits is within the ceiling.
            ConfigurationError: a named model is unknown.
        """
        tokens = prompt_tokens if prompt_tokens is not None else _prompt_tokens(request)
        if request.model != "auto":
            spec = self.spec(request.model)
            return Route(
                model=spec.name,
                fallbacks=self.fallbacks(request, spec.name),
                estimated_cost_usd=self.estimate(spec, request, tokens),
                reason=f"requested {request.model!r}",
            )
        ranked = self.candidates(request, tokens, ceiling_usd)
        if not ranked:
            ceiling = self.ceiling(request.task_class) if ceiling_usd is None else ceiling_usd
            raise BudgetExceededError(
                f"no model fits a {tokens}-token {request.task_class} request within {ceiling} USD",
                field="task_class",
            )
        spec, cost = ranked[0]
        chain = self.settings.fallbacks.get(spec.name)
        fallbacks = chain if chain is not None else [s.name for s, _ in ranked[1:]]
        return Route(
            model=spec.name,
            fallbacks=tuple(fallbacks[: self.settings.max_fallbacks]),
            estimated_cost_usd=cost,
            reason=f"cheapest tier-{spec.quality_tier} model within the {request.task_class} "
            f"ceiling",
        )

    def fallbacks(self, request: CompletionRequest, model: str) -> tuple[str, ...]:
        """The models to try after ``model`` fails."""
        configured = self.settings.fallbacks.get(model)
        if configured is not None:
            chain = [self.resolve(m) for m in configured]
        elif request.model == "auto":
            ranked = self.candidates(request, _prompt_tokens(request))
            chain = [s.name for s, _ in ranked if s.name != model]
        else:
            chain = []
        return tuple(chain[: self.settings.max_fallbacks])


def _prompt_tokens(request: CompletionRequest) -> int:
    return sum(count_tokens(m.content) + 4 for m in request.messages)


class ModelDispatcher:
    """One provider for every catalog model: the offline model or LiteLLM, by the model's spec."""

    name = "dispatch"

    def __init__(self, router: Router, *, offline: Provider, litellm: Provider) -> None:
        self._router = router
        self._offline = offline
        self._litellm = litellm

    async def complete(self, request: CompletionRequest, model: str) -> ProviderReply:
        spec = self._router.spec(model)
        provider = self._offline if spec.provider == "offline" else self._litellm
        return await provider.complete(request, spec.name)


@dataclass(frozen=True)
class LLMStack:
    """What the gateway needs from this part: a router and a resilient provider."""

    router: Router
    provider: Provider
    """Timeout per attempt, retries of transient errors, then the fallback chain."""


def build_llm(settings: LLMSettings, *, clock: Clock) -> LLMStack:
    """The router and the resilient provider for ``settings``."""
    router = Router.from_settings(settings)
    specs: Mapping[str, ModelSpec] = {s.name: s for s in router.catalog}
    dispatcher = ModelDispatcher(
        router,
        offline=OfflineModel(seed=settings.offline_seed),
        litellm=LiteLLMProvider(models=specs, timeout_s=settings.litellm_timeout_s),
    )
    provider = resilient(
        dispatcher,
        clock=clock,
        timeout_s=settings.timeout_s,
        policy=settings.retry,
        chain=router.fallbacks,
        max_fallbacks=settings.max_fallbacks,
    )
    return LLMStack(router=router, provider=provider)
