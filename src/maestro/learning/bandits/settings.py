"""Choosing a bandit policy by name: the factory, restore from state, and the settings.

:func:`make_policy` builds a policy from its name (one of :data:`POLICY_NAMES`)
and parameters, :func:`restore_policy` rebuilds one from its
:meth:`~maestro.learning.bandits.base.Policy.state`, and :class:`LearningSettings`
holds the configured default policy, per-policy parameters and the experiment
defaults. It stands alone because it is the one place that knows every policy
class, so the policy modules never import each other.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from maestro.errors import ValidationError
from maestro.learning.bandits.adaptive import AdaptiveThompson
from maestro.learning.bandits.base import (
    DEFAULT_ANALYSIS_DRAWS,
    DEFAULT_CONFIDENCE,
    DEFAULT_MIN_EFFECT_SIZE,
    DEFAULT_MIN_SAMPLE_SIZE,
    DEFAULT_POLICY,
    Policy,
    PolicyState,
)
from maestro.learning.bandits.linear import LinearThompson
from maestro.learning.bandits.stationary import UCB1, EpsilonGreedy, Thompson
from maestro.learning.bandits.windowed import (
    DiscountedThompson,
    SlidingWindowThompson,
    SlidingWindowUCB,
)

__all__ = [
    "BANDIT_POLICY_NAMES",
    "POLICY_NAMES",
    "LearningSettings",
    "make_policy",
    "restore_policy",
]


_POLICIES: dict[str, type[Policy]] = {
    cls.name: cls
    for cls in (
        Thompson,
        UCB1,
        EpsilonGreedy,
        DiscountedThompson,
        SlidingWindowThompson,
        SlidingWindowUCB,
        AdaptiveThompson,
        LinearThompson,
    )
}
POLICY_NAMES: tuple[str, ...] = tuple(_POLICIES)
"""Every name :func:`make_policy` accepts."""
BANDIT_POLICY_NAMES: tuple[str, ...] = tuple(n for n, c in _POLICIES.items() if not c.contextual)
"""The plain bandits: rewards in [0, 1], no covariates."""


def _policy_class(name: object) -> type[Policy]:
    cls = _POLICIES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise ValidationError(
            f"unknown policy {name!r}; known: {', '.join(POLICY_NAMES)}", field="policy"
        )
    return cls


def make_policy(name: str, n_arms: int, *, seed: int | None = None, **params: Any) -> Policy:
    """A fresh policy called ``name`` over ``n_arms`` arms.

    Raises:
        ValidationError: unknown name (``field="policy"``), bad ``n_arms`` or an
            unknown or out-of-range parameter (the field names it).
    """
    cls = _policy_class(name)
    try:
        return cls(n_arms, seed=seed, **params)
    except TypeError:
        known = sorted(cls(1).params())
        unknown = sorted(set(params) - set(known))
        field = unknown[0] if unknown else "params"
        raise ValidationError(
            f"policy {name!r} has no parameter {field!r}; parameters: {', '.join(known)}",
            field=field,
        ) from None


def restore_policy(state: PolicyState) -> Policy:
    """The policy whose :meth:`Policy.state` was ``state``, ready to continue."""
    try:
        policy = make_policy(state["policy"], state["n_arms"], **state["params"])
        policy._restore(state)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ValidationError(f"corrupt policy state: {exc!r}", field="state") from None
    return policy


class LearningSettings(BaseModel):
    """Bandit policies for strategy selection, and experiment defaults (seed 002)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_policy: str = DEFAULT_POLICY
    """Policy used for strategy selection when a caller names none (one of POLICY_NAMES)."""
    policy_params: dict[str, dict[str, Any]] = {}
    """Per-policy parameter overrides, e.g. ``{"adaptive": {"delta": 0.005}}``."""
    default_confidence: float = Field(default=DEFAULT_CONFIDENCE, gt=0.5, lt=1.0)
    """Experiments: confidence level (1 - error rate of sequential stopping)."""
    min_sample_size: int = Field(default=DEFAULT_MIN_SAMPLE_SIZE, ge=1)
    """Experiments: outcomes per variant before a fixed-horizon winner may be declared."""
    min_effect_size: float = Field(default=DEFAULT_MIN_EFFECT_SIZE, ge=0.0)
    """Experiments: expected loss below which the leader is chosen (absolute metric units)."""
    analysis_draws: int = Field(default=DEFAULT_ANALYSIS_DRAWS, ge=1000)
    """Monte Carlo draws for probability to be best and expected loss."""

    @field_validator("default_policy")
    @classmethod
    def _known_policy(cls, v: str) -> str:
        if v not in POLICY_NAMES:
            raise ValueError(f"unknown policy {v!r}; known: {', '.join(POLICY_NAMES)}")
        return v

    def make(self, n_arms: int, *, name: str | None = None, seed: int | None = None) -> Policy:
        """A policy named ``name`` (default: ``default_policy``) with the configured params."""
        chosen = name or self.default_policy
        return make_policy(chosen, n_arms, seed=seed, **self.policy_params.get(chosen, {}))
