"""The model catalog: what each model costs, how good it is, how much it reads.

Costs and context windows of known models come from LiteLLM's cost map (the copy
shipped inside the litellm package; Maestro never fetches the remote one), and
configuration fills in or overrides anything, so local and private models
(Ollama, vLLM, ``maestro serve-model``) can be priced too. The offline model
costs nothing by default; give it a nominal price to exercise budgets.

Quality tiers are 1 (basic), 2 (standard) and 3 (premium). LiteLLM has no such
notion, so a known model without a configured tier gets one from its output
price (under $1 per million tokens: 1; under $10: 2; else 3).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from maestro.errors import ConfigurationError
from maestro.llm.offline import OFFLINE_MODEL

__all__ = [
    "DEFAULT_CONTEXT_WINDOW",
    "DEFAULT_OFFLINE_CONTEXT_WINDOW",
    "Catalog",
    "ModelEntry",
    "ModelSpec",
    "QualityTier",
    "litellm_cost_map",
]

QualityTier = Literal[1, 2, 3]
DEFAULT_CONTEXT_WINDOW = 8_192
"""Context window assumed for a known model whose cost map entry names none."""
DEFAULT_OFFLINE_CONTEXT_WINDOW = 128_000
"""The offline model reads any prompt; this keeps routing arithmetic finite."""
_TIER_PRICE_BOUNDS = (1e-6, 1e-5)
"""Output cost per token separating tier 1 from 2 and tier 2 from 3."""


class ModelEntry(BaseModel):
    """A model as configured (``[llm.models."name"]``); unset fields come from LiteLLM."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Literal["litellm", "offline"] = "litellm"
    """Who serves it: any LiteLLM provider, or Maestro's offline composer."""
    litellm_model: str | None = None
    """The name LiteLLM is called with (default: the entry's own name), e.g. ``openai/offline``."""
    api_base: str | None = None
    """Base URL for this model (e.g. ``http://127.0.0.1:8100/v1`` for ``maestro serve-model``)."""
    api_key: SecretStr | None = None
    """Key for this model's provider; never logged (LiteLLM also reads the usual env vars)."""
    input_cost_per_token: float | None = Field(default=None, ge=0.0)
    """USD per prompt token; required when LiteLLM does not know the model."""
    output_cost_per_token: float | None = Field(default=None, ge=0.0)
    """USD per completion token; required when LiteLLM does not know the model."""
    quality_tier: QualityTier | None = None
    """1 basic, 2 standard, 3 premium; default derived from price."""
    context_window: int | None = Field(default=None, ge=1)
    """Maximum prompt plus completion tokens."""


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """One routable model, fully resolved."""

    name: str
    provider: Literal["litellm", "offline"]
    input_cost_per_token: float
    output_cost_per_token: float
    quality_tier: QualityTier
    context_window: int
    litellm_model: str | None = None
    api_base: str | None = None
    api_key: SecretStr | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """USD for a call with these token counts."""
        return (
            prompt_tokens * self.input_cost_per_token
            + completion_tokens * self.output_cost_per_token
        )


@lru_cache(maxsize=1)
def litellm_cost_map() -> Mapping[str, Mapping[str, Any]]:
    """LiteLLM's bundled cost map (never the remote copy: Maestro runs air-gapped)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    return dict(litellm.model_cost)


def _tier_from_price(output_cost: float) -> QualityTier:
    low, high = _TIER_PRICE_BOUNDS
    return 1 if output_cost < low else 2 if output_cost < high else 3


class Catalog:
    """The models Maestro may route to, by name."""

    def __init__(self, specs: Mapping[str, ModelSpec]) -> None:
        self._specs = dict(specs)

    @classmethod
    def build(
        cls,
        entries: Mapping[str, ModelEntry],
        *,
        offline_input_cost: float = 0.0,
        offline_output_cost: float = 0.0,
    ) -> Catalog:
        """The offline model plus every configured entry, completed from LiteLLM's map.

        Raises:
            ConfigurationError: an entry's cost is unknown to LiteLLM and not configured.
        """
        specs = {
            OFFLINE_MODEL: ModelSpec(
                name=OFFLINE_MODEL,
                provider="offline",
                input_cost_per_token=offline_input_cost,
                output_cost_per_token=offline_output_cost,
                quality_tier=1,
                context_window=DEFAULT_OFFLINE_CONTEXT_WINDOW,
            )
        }
        for name, entry in entries.items():
            specs[name] = _resolve(name, entry)
        return cls(specs)

    def get(self, name: str) -> ModelSpec:
        """The spec of ``name``.

        Raises:
            ConfigurationError: ``name`` is not in the catalog.
        """
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(sorted(self._specs))
            raise ConfigurationError(
                f"unknown model {name!r}; configured models: {known}", field="model"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ModelSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)


def _resolve(name: str, entry: ModelEntry) -> ModelSpec:
    complete = None not in (
        entry.input_cost_per_token,
        entry.output_cost_per_token,
        entry.context_window,
    )
    if entry.provider == "offline":
        known: Mapping[str, Any] = {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0}
    elif complete:
        known = {}  # fully configured: no need to load LiteLLM (seconds to import)
    else:
        known = litellm_cost_map().get(entry.litellm_model or name, {})
    input_cost = _pick(entry.input_cost_per_token, known.get("input_cost_per_token"))
    output_cost = _pick(entry.output_cost_per_token, known.get("output_cost_per_token"))
    if input_cost is None or output_cost is None:
        missing = "input_cost_per_token" if input_cost is None else "output_cost_per_token"
        raise ConfigurationError(
            f"model {name!r} is not in LiteLLM's cost map; set llm.models.{name}.{missing}",
            field=f"llm.models.{name}.{missing}",
        )
    window = entry.context_window or known.get("max_input_tokens") or known.get("max_tokens")
    if entry.provider == "offline":
        window = window or DEFAULT_OFFLINE_CONTEXT_WINDOW
    return ModelSpec(
        name=name,
        provider=entry.provider,
        input_cost_per_token=float(input_cost),
        output_cost_per_token=float(output_cost),
        quality_tier=entry.quality_tier or _tier_from_price(float(output_cost)),
        context_window=int(window or DEFAULT_CONTEXT_WINDOW),
        litellm_model=entry.litellm_model or (name if entry.provider == "litellm" else None),
        api_base=entry.api_base,
        api_key=entry.api_key,
    )


def _pick(configured: float | None, known: object) -> float | None:
    if configured is not None:
        return configured
    return float(known) if isinstance(known, int | float) else None
