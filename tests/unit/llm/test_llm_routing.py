"""Cost-aware model choice: catalog, ceilings per task class, tiers, context windows, aliases."""

from __future__ import annotations

import pytest

from maestro.errors import BudgetExceededError, ConfigurationError
from maestro.llm.catalog import Catalog, ModelEntry
from maestro.llm.routing import LLMSettings, Router
from maestro.llm.types import CompletionRequest, TaskClass


def entry(inp: float, out: float, tier: int, window: int = 32_000) -> ModelEntry:
    return ModelEntry(
        input_cost_per_token=inp,
        output_cost_per_token=out,
        quality_tier=tier,  # type: ignore[arg-type]
        context_window=window,
    )


# Per call of 1,000 prompt tokens + 500 completion tokens:
MODELS = {
    "tiny": entry(1e-7, 2e-7, 1),  # 0.0002 USD
    "small": entry(5e-7, 1e-6, 1),  # 0.001  USD
    "mid": entry(3e-6, 6e-6, 2),  # 0.006  USD
    "big": entry(1e-5, 3e-5, 3),  # 0.025  USD
    "huge": entry(5e-5, 1e-4, 3),  # 0.1    USD
    "short-cheap": entry(1e-8, 1e-8, 3, window=1_000),
}


def router(**overrides: object) -> Router:
    settings = LLMSettings(
        models=MODELS,
        offline_input_cost_per_token=2e-6,
        offline_output_cost_per_token=2e-6,
        **overrides,  # type: ignore[arg-type]
    )
    return Router.from_settings(settings)


def request(task_class: TaskClass, model: str = "auto") -> CompletionRequest:
    return CompletionRequest.of("x", model=model, task_class=task_class, max_tokens=500)


@pytest.mark.parametrize(
    ("task_class", "expected"), [("simple", "tiny"), ("complex", "mid"), ("critical", "big")]
)
def test_the_cheapest_model_that_fits_each_task_class(task_class: TaskClass, expected: str) -> None:
    route = router().choose(request(task_class), prompt_tokens=1_000)
    assert route.model == expected
    assert (
        route.estimated_cost_usd <= {"simple": 0.001, "complex": 0.01, "critical": 0.05}[task_class]
    )


def test_a_model_whose_context_window_is_too_small_is_skipped() -> None:
    r = router(min_quality_tier={"simple": 3, "complex": 3, "critical": 3})
    assert r.choose(request("critical"), prompt_tokens=400).model == "short-cheap"
    assert r.choose(request("critical"), prompt_tokens=1_000).model == "big"


def test_the_ceiling_excludes_models_and_a_lower_ceiling_moves_to_a_cheaper_one() -> None:
    r = router()
    assert r.choose(request("critical"), prompt_tokens=1_000, ceiling_usd=0.01).model == "mid"


def test_when_no_affordable_model_reaches_the_tier_the_best_affordable_tier_wins() -> None:
    r = router(ceilings_usd={"simple": 0.001, "complex": 0.01, "critical": 0.007})
    assert r.choose(request("critical"), prompt_tokens=1_000).model == "mid"


def test_nothing_within_the_ceiling_is_a_budget_error_naming_it() -> None:
    with pytest.raises(BudgetExceededError) as err:
        router().choose(request("simple"), prompt_tokens=1_000_000)
    assert "0.001" in str(err.value)
    assert err.value.field == "task_class"


def test_the_automatic_fallback_chain_is_the_next_affordable_models_best_tier_first() -> None:
    route = router().choose(request("critical"), prompt_tokens=1_000)
    assert route.model == "big"
    assert route.fallbacks == ("mid", "tiny")
    # "big" is over the complex ceiling, so it is never a fallback there.
    assert router().choose(request("complex"), prompt_tokens=1_000).fallbacks == ("tiny", "small")


def test_a_configured_fallback_chain_wins_and_is_capped() -> None:
    r = router(fallbacks={"mid": ["tiny", "small", "big"]}, max_fallbacks=2)
    assert r.choose(request("complex"), prompt_tokens=1_000).fallbacks == ("tiny", "small")
    assert r.fallbacks(request("complex", model="mid"), "mid") == ("tiny", "small")


def test_a_named_model_has_no_fallbacks_unless_configured() -> None:
    route = router().choose(request("simple", model="huge"), prompt_tokens=1_000)
    assert (route.model, route.fallbacks) == ("huge", ())


def test_aliases_resolve_and_loops_are_configuration_errors() -> None:
    r = router(aliases={"tip-generator": "writer", "writer": "mid"})
    assert r.choose(request("simple", model="tip-generator")).model == "mid"
    looping = router(aliases={"a": "b", "b": "a"})
    with pytest.raises(ConfigurationError) as err:
        looping.resolve("a")
    assert err.value.field == "llm.aliases"


def test_the_embedded_default_routes_everything_to_the_offline_model_for_free() -> None:
    r = Router.from_settings(LLMSettings())
    for task_class in ("simple", "complex", "critical"):
        route = r.choose(request(task_class))  # type: ignore[arg-type]
        assert (route.model, route.estimated_cost_usd) == ("offline", 0.0)
    assert r.choose(request("simple", model="tip-generator")).model == "offline"


def test_the_offline_model_can_carry_a_nominal_price() -> None:
    spec = router().spec("offline")
    assert spec.cost(1_000, 500) == pytest.approx(0.003)


def test_known_models_are_priced_from_litellms_cost_map() -> None:
    catalog = Catalog.build({"deepseek/deepseek-chat": ModelEntry()})
    spec = catalog.get("deepseek/deepseek-chat")
    assert spec.input_cost_per_token > 0
    assert spec.output_cost_per_token > spec.input_cost_per_token
    assert spec.context_window >= 32_000
    assert spec.quality_tier == 1  # under $1 per million output tokens
    unconfigured = Router.from_settings(LLMSettings()).spec("gpt-4o-mini")
    assert unconfigured.input_cost_per_token > 0


def test_configuration_overrides_the_cost_map() -> None:
    spec = Catalog.build(
        {"deepseek/deepseek-chat": ModelEntry(input_cost_per_token=0.0, quality_tier=3)}
    ).get("deepseek/deepseek-chat")
    assert (spec.input_cost_per_token, spec.quality_tier) == (0.0, 3)


def test_an_unknown_model_without_prices_is_a_configuration_error_naming_the_field() -> None:
    with pytest.raises(ConfigurationError) as err:
        Catalog.build({"my-local-llm": ModelEntry()})
    assert err.value.field == "llm.models.my-local-llm.input_cost_per_token"
    with pytest.raises(ConfigurationError):
        Router.from_settings(LLMSettings()).spec("no-such-model-anywhere")
