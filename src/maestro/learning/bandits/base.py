"""The bandit policy interface: :class:`Policy`, its state format, defaults and checks.

Everything the concrete policies share: the abstract :class:`Policy` (select,
update, a JSON-able :meth:`Policy.state` that includes the random generator, and
its restore), the :data:`PolicyState` alias, the default parameter values, and
the argument checks that raise :class:`~maestro.errors.ValidationError`. It
stands alone so the stationary, windowed and adaptive policies (and the linear
learner of :mod:`maestro.learning.bandits.linear`) build on one base without importing
each other or the settings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from maestro.errors import ValidationError

__all__ = [
    "DEFAULT_ANALYSIS_DRAWS",
    "DEFAULT_CONFIDENCE",
    "DEFAULT_EPSILON",
    "DEFAULT_GAMMA",
    "DEFAULT_GLR_CHECK_EVERY",
    "DEFAULT_GLR_DELTA",
    "DEFAULT_GLR_MAX_HISTORY",
    "DEFAULT_GLR_MIN_SEGMENT",
    "DEFAULT_GLR_SPLITS",
    "DEFAULT_MEMORIES",
    "DEFAULT_MIN_EFFECT_SIZE",
    "DEFAULT_MIN_SAMPLE_SIZE",
    "DEFAULT_POLICY",
    "DEFAULT_RESTART_MEMORY",
    "DEFAULT_SCORE_MEMORY",
    "DEFAULT_SWITCH_MARGIN",
    "DEFAULT_SW_UCB_XI",
    "DEFAULT_WINDOW",
    "Policy",
    "PolicyState",
]

PolicyState = dict[str, Any]
"""A policy's complete state as JSON-able values (see :meth:`Policy.state`)."""

DEFAULT_POLICY = "adaptive"
DEFAULT_CONFIDENCE = 0.95
DEFAULT_MIN_SAMPLE_SIZE = 100
DEFAULT_MIN_EFFECT_SIZE = 0.05
DEFAULT_ANALYSIS_DRAWS = 20_000
DEFAULT_WINDOW = 1000
DEFAULT_GAMMA = 0.995
DEFAULT_EPSILON = 0.1
DEFAULT_SW_UCB_XI = 0.6
DEFAULT_GLR_DELTA = 0.01
DEFAULT_GLR_CHECK_EVERY = 5
DEFAULT_GLR_MIN_SEGMENT = 8
DEFAULT_GLR_MAX_HISTORY = 4000
DEFAULT_GLR_SPLITS = 64
DEFAULT_RESTART_MEMORY = 4.0
DEFAULT_MEMORIES = (0, 4000, 2000, 1000, 500)
DEFAULT_SCORE_MEMORY = 2000
DEFAULT_SWITCH_MARGIN = 1.0

_KL_EPS = 1e-9


def _check_arm(arm: object, n_arms: int) -> int:
    if isinstance(arm, bool) or not isinstance(arm, int | np.integer) or not 0 <= arm < n_arms:
        raise ValidationError(f"arm {arm!r} is not in 0..{n_arms - 1}", field="arm")
    return int(arm)


def _check_reward(reward: object) -> float:
    if isinstance(reward, bool) or not isinstance(reward, int | float | np.floating | np.integer):
        raise ValidationError(f"reward {reward!r} is not a number", field="reward")
    value = float(reward)
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValidationError(f"reward {reward!r} is outside [0, 1]", field="reward")
    return value


def _check_range(name: str, value: float, lo: float, hi: float, *, open_lo: bool = False) -> float:
    v = float(value)
    if not (lo < v if open_lo else lo <= v) or not v <= hi:
        bracket = "(" if open_lo else "["
        raise ValidationError(f"{name} {value!r} is outside {bracket}{lo}, {hi}]", field=name)
    return v


def _check_int(name: str, value: int, lo: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ValidationError(f"{name} {value!r} must be an integer >= {lo}", field=name)
    return value


class Policy(ABC):
    """A bandit policy: ``select()`` an arm, ``update(arm, reward)`` with a reward in [0, 1]."""

    name: ClassVar[str]
    contextual: ClassVar[bool] = False
    """True for a learner that needs each observation's covariates (not a plain bandit)."""

    def __init__(self, n_arms: int, *, seed: int | None = None) -> None:
        self.n_arms = _check_int("n_arms", n_arms, 1)
        self.t = 0
        self._rng = np.random.default_rng(seed)

    def select(self) -> int:
        """The arm to play next."""
        return self._select()

    def update(self, arm: int, reward: float) -> None:
        """Learn that playing ``arm`` earned ``reward`` (in [0, 1])."""
        a = _check_arm(arm, self.n_arms)
        r = _check_reward(reward)
        self.t += 1
        self._update(a, r)

    def state(self) -> PolicyState:
        """Everything needed to continue exactly where this policy is, as JSON-able values."""
        rng = self._rng.bit_generator.state
        return {
            "policy": self.name,
            "n_arms": self.n_arms,
            "params": self.params(),
            "t": self.t,
            "rng": {
                "bit_generator": rng["bit_generator"],
                "state": str(rng["state"]["state"]),
                "inc": str(rng["state"]["inc"]),
                "has_uint32": int(rng["has_uint32"]),
                "uinteger": int(rng["uinteger"]),
            },
            "data": self._dump(),
        }

    def _restore(self, state: PolicyState) -> None:
        rng = state["rng"]
        self._rng.bit_generator.state = {
            "bit_generator": rng["bit_generator"],
            "state": {"state": int(rng["state"]), "inc": int(rng["inc"])},
            "has_uint32": int(rng["has_uint32"]),
            "uinteger": int(rng["uinteger"]),
        }
        self.t = int(state["t"])
        self._load(state["data"])

    @abstractmethod
    def params(self) -> dict[str, Any]:
        """The constructor's keyword parameters (JSON-able)."""

    @abstractmethod
    def _select(self) -> int: ...

    @abstractmethod
    def _update(self, arm: int, reward: float) -> None: ...

    @abstractmethod
    def _dump(self) -> dict[str, Any]: ...

    @abstractmethod
    def _load(self, data: dict[str, Any]) -> None: ...

    def _argmax(self, values: np.ndarray[Any, np.dtype[np.float64]]) -> int:
        """Index of the largest value, ties broken at random."""
        best = np.flatnonzero(values == values.max())
        return int(best[0] if best.size == 1 else self._rng.choice(best))
