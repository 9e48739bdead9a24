"""Bandit policies behind one interface.

Every policy chooses one of ``n_arms`` arms with :meth:`Policy.select` and learns
from a reward in [0, 1] with :meth:`Policy.update`. Its whole state, including the
random generator, is a JSON-able dict (:meth:`Policy.state`), so a policy restored
with :func:`restore_policy` makes exactly the decisions the original would have.
The logic is pure: no I/O, no clock; :mod:`maestro.learning.policy_store` keeps
the state per workspace and context.

Non-stationary audiences are the normal case, so the default, ``adaptive``, is
Thompson sampling that follows both kinds of change without being told how often
they happen: a Bernoulli GLR change-point test per arm restarts it after abrupt
changes, and a choice among several memory lengths, scored by how well each
predicts the rewards, tracks gradual drift (see :class:`AdaptiveThompson`).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections import deque
from typing import Any, ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from maestro.errors import ValidationError

__all__ = [
    "DEFAULT_POLICY",
    "POLICY_NAMES",
    "UCB1",
    "AdaptiveThompson",
    "DiscountedThompson",
    "EpsilonGreedy",
    "LearningSettings",
    "Policy",
    "PolicyState",
    "SlidingWindowThompson",
    "SlidingWindowUCB",
    "Thompson",
    "make_policy",
    "restore_policy",
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


class _CountingPolicy(Policy):
    """A policy whose data is a sum of rewards and a count of plays per arm."""

    def __init__(self, n_arms: int, *, seed: int | None = None) -> None:
        super().__init__(n_arms, seed=seed)
        self._sums = np.zeros(self.n_arms)
        self._counts = np.zeros(self.n_arms)

    def _update(self, arm: int, reward: float) -> None:
        self._sums[arm] += reward
        self._counts[arm] += 1

    def _dump(self) -> dict[str, Any]:
        return {"sums": self._sums.tolist(), "counts": self._counts.tolist()}

    def _load(self, data: dict[str, Any]) -> None:
        self._sums = np.array(data["sums"], dtype=float)
        self._counts = np.array(data["counts"], dtype=float)


class Thompson(_CountingPolicy):
    """Thompson sampling with a Beta (Bernoulli-like rewards) or Gaussian posterior."""

    name = "thompson"

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        likelihood: Literal["beta", "gaussian"] = "beta",
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
        sigma: float = 0.5,
    ) -> None:
        super().__init__(n_arms, seed=seed)
        if likelihood not in ("beta", "gaussian"):
            raise ValidationError(
                f"likelihood {likelihood!r} is not 'beta' or 'gaussian'", field="likelihood"
            )
        self.likelihood = likelihood
        self.prior_alpha = _check_range("prior_alpha", prior_alpha, 0.0, 1e6, open_lo=True)
        self.prior_beta = _check_range("prior_beta", prior_beta, 0.0, 1e6, open_lo=True)
        self.sigma = _check_range("sigma", sigma, 0.0, 1e6, open_lo=True)

    def params(self) -> dict[str, Any]:
        return {
            "likelihood": self.likelihood,
            "prior_alpha": self.prior_alpha,
            "prior_beta": self.prior_beta,
            "sigma": self.sigma,
        }

    def _select(self) -> int:
        if self.likelihood == "beta":
            a = self.prior_alpha + self._sums
            b = self.prior_beta + self._counts - self._sums
            return self._argmax(self._rng.beta(a, b))
        # Gaussian posterior with one pseudo observation of 0.5 as the prior.
        n = self._counts + 1.0
        draws = self._rng.normal((self._sums + 0.5) / n, self.sigma / np.sqrt(n))
        return self._argmax(draws)


class UCB1(_CountingPolicy):
    """UCB1 (Auer et al. 2002): mean plus ``c * sqrt(2 ln t / n)``; each arm once first."""

    name = "ucb1"

    def __init__(self, n_arms: int, *, seed: int | None = None, c: float = 1.0) -> None:
        super().__init__(n_arms, seed=seed)
        self.c = _check_range("c", c, 0.0, 1e6)

    def params(self) -> dict[str, Any]:
        return {"c": self.c}

    def _select(self) -> int:
        unplayed = np.flatnonzero(self._counts == 0)
        if unplayed.size:
            return int(unplayed[0])
        total = self._counts.sum()
        bonus = self.c * np.sqrt(2.0 * math.log(total) / self._counts)
        return self._argmax(self._sums / self._counts + bonus)


class EpsilonGreedy(_CountingPolicy):
    """The best mean so far, or a uniformly random arm with probability ``epsilon``."""

    name = "epsilon-greedy"

    def __init__(
        self, n_arms: int, *, seed: int | None = None, epsilon: float = DEFAULT_EPSILON
    ) -> None:
        super().__init__(n_arms, seed=seed)
        self.epsilon = _check_range("epsilon", epsilon, 0.0, 1.0)

    def params(self) -> dict[str, Any]:
        return {"epsilon": self.epsilon}

    def _select(self) -> int:
        if self._rng.random() < self.epsilon:
            return int(self._rng.integers(self.n_arms))
        means = np.where(self._counts > 0, self._sums / np.maximum(self._counts, 1), np.inf)
        return self._argmax(means)


class DiscountedThompson(Policy):
    """Discounted Thompson sampling (Raj & Kalyani 2017): all evidence decays by ``gamma``."""

    name = "discounted-thompson"

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        gamma: float = DEFAULT_GAMMA,
        prior_alpha: float = 1.0,
        prior_beta: float = 1.0,
    ) -> None:
        super().__init__(n_arms, seed=seed)
        self.gamma = _check_range("gamma", gamma, 0.0, 1.0, open_lo=True)
        self.prior_alpha = _check_range("prior_alpha", prior_alpha, 0.0, 1e6, open_lo=True)
        self.prior_beta = _check_range("prior_beta", prior_beta, 0.0, 1e6, open_lo=True)
        self._s = np.zeros(self.n_arms)
        self._f = np.zeros(self.n_arms)

    def params(self) -> dict[str, Any]:
        return {"gamma": self.gamma, "prior_alpha": self.prior_alpha, "prior_beta": self.prior_beta}

    def _select(self) -> int:
        draws = self._rng.beta(self.prior_alpha + self._s, self.prior_beta + self._f)
        return self._argmax(draws)

    def _update(self, arm: int, reward: float) -> None:
        self._s *= self.gamma
        self._f *= self.gamma
        self._s[arm] += reward
        self._f[arm] += 1.0 - reward

    def _dump(self) -> dict[str, Any]:
        return {"s": self._s.tolist(), "f": self._f.tolist()}

    def _load(self, data: dict[str, Any]) -> None:
        self._s = np.array(data["s"], dtype=float)
        self._f = np.array(data["f"], dtype=float)


class _WindowPolicy(Policy):
    """A policy that only remembers the last ``window`` plays."""

    def __init__(self, n_arms: int, *, seed: int | None = None, window: int) -> None:
        super().__init__(n_arms, seed=seed)
        self.window = _check_int("window", window, 1)
        self._plays: deque[tuple[int, float]] = deque()
        self._sums = np.zeros(self.n_arms)
        self._counts = np.zeros(self.n_arms)

    def _update(self, arm: int, reward: float) -> None:
        self._plays.append((arm, reward))
        self._sums[arm] += reward
        self._counts[arm] += 1
        if len(self._plays) > self.window:
            old_arm, old_reward = self._plays.popleft()
            self._sums[old_arm] -= old_reward
            self._counts[old_arm] -= 1
            if self._counts[old_arm] == 0:
                self._sums[old_arm] = 0.0  # no floating residue once an arm leaves the window

    def _dump(self) -> dict[str, Any]:
        return {"plays": [[a, r] for a, r in self._plays]}

    def _load(self, data: dict[str, Any]) -> None:
        self._plays = deque()
        self._sums = np.zeros(self.n_arms)
        self._counts = np.zeros(self.n_arms)
        for arm, reward in data["plays"]:
            self._plays.append((int(arm), float(reward)))
            self._sums[int(arm)] += float(reward)
            self._counts[int(arm)] += 1


class SlidingWindowThompson(_WindowPolicy):
    """Beta Thompson sampling over the last ``window`` plays."""

    name = "sliding-window-thompson"

    def __init__(
        self, n_arms: int, *, seed: int | None = None, window: int = DEFAULT_WINDOW
    ) -> None:
        super().__init__(n_arms, seed=seed, window=window)

    def params(self) -> dict[str, Any]:
        return {"window": self.window}

    def _select(self) -> int:
        a = 1.0 + self._sums
        b = 1.0 + np.maximum(self._counts - self._sums, 0.0)
        return self._argmax(self._rng.beta(a, b))


class SlidingWindowUCB(_WindowPolicy):
    """SW-UCB (Garivier & Moulines 2011): windowed mean + ``sqrt(xi ln(min(t, W)) / n)``."""

    name = "sliding-window-ucb"

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        window: int = DEFAULT_WINDOW,
        xi: float = DEFAULT_SW_UCB_XI,
    ) -> None:
        super().__init__(n_arms, seed=seed, window=window)
        self.xi = _check_range("xi", xi, 0.0, 1e6)

    def params(self) -> dict[str, Any]:
        return {"window": self.window, "xi": self.xi}

    def _select(self) -> int:
        unseen = np.flatnonzero(self._counts == 0)
        if unseen.size:
            return int(unseen[0])
        horizon = max(2, min(self.t, self.window))
        bonus = np.sqrt(self.xi * math.log(horizon) / self._counts)
        return self._argmax(self._sums / self._counts + bonus)


def _kl_bernoulli(p: Any, q: Any) -> Any:
    p = np.clip(p, _KL_EPS, 1 - _KL_EPS)
    q = np.clip(q, _KL_EPS, 1 - _KL_EPS)
    return p * np.log(p / q) + (1 - p) * np.log((1 - p) / (1 - q))


class AdaptiveThompson(Policy):
    """Thompson sampling over a set of memories, with a GLR change-point test per arm.

    Two mechanisms, one for each kind of change, neither told how often it happens:

    * Gradual drift: the policy keeps Beta evidence under several memories at once
      (``memories``: sliding windows of that many plays, 0 meaning everything since
      the last restart) and scores each by how well it predicted the rewards it was
      shown (a log score that itself forgets over ``score_memory`` steps). It samples
      from the unlimited memory unless a window out-predicts it by more than
      ``switch_margin`` nats: the long memory while the audience is stable, a
      shorter one while it drifts.
    * Abrupt change: every ``check_every`` plays of an arm, the Bernoulli GLR test
      (Besson & Kaufmann 2020) looks for a change point in that arm's recent
      rewards, with false-alarm probability at most ``delta`` per test. On a change
      the arm keeps only its post-change rewards and every other arm's evidence
      shrinks to ``restart_memory`` pseudo observations at its current mean, so the
      policy re-explores at once (finding an arm that improved unplayed).
    """

    name = "adaptive"

    def __init__(
        self,
        n_arms: int,
        *,
        seed: int | None = None,
        memories: list[int] | tuple[int, ...] = DEFAULT_MEMORIES,
        score_memory: int = DEFAULT_SCORE_MEMORY,
        switch_margin: float = DEFAULT_SWITCH_MARGIN,
        delta: float = DEFAULT_GLR_DELTA,
        check_every: int = DEFAULT_GLR_CHECK_EVERY,
        min_segment: int = DEFAULT_GLR_MIN_SEGMENT,
        max_history: int = DEFAULT_GLR_MAX_HISTORY,
        splits: int = DEFAULT_GLR_SPLITS,
        restart_memory: float = DEFAULT_RESTART_MEMORY,
        reset_scores: bool = True,
    ) -> None:
        super().__init__(n_arms, seed=seed)
        self.reset_scores = bool(reset_scores)
        if not memories:
            raise ValidationError("memories must not be empty", field="memories")
        self.memories = [_check_int("memories", m, 0) for m in memories]
        self.score_memory = _check_int("score_memory", score_memory, 1)
        self.switch_margin = _check_range("switch_margin", switch_margin, 0.0, 1e6)
        self.delta = _check_range("delta", delta, 0.0, 1.0, open_lo=True)
        self.check_every = _check_int("check_every", check_every, 1)
        self.min_segment = _check_int("min_segment", min_segment, 1)
        self.max_history = _check_int("max_history", max_history, 2 * self.min_segment)
        self.splits = _check_int("splits", splits, 1)
        self.restart_memory = _check_range("restart_memory", restart_memory, 0.0, 1e6)
        self._windows = [(j, m) for j, m in enumerate(self.memories) if m > 0]
        self._span = max((m for m in self.memories), default=0)
        self._score_decay = 1.0 - 1.0 / self.score_memory
        shape = (len(self.memories), self.n_arms)
        self._s = np.zeros(shape)
        self._f = np.zeros(shape)
        self._arms: list[int] = []
        self._rewards: list[float] = []
        self._score = np.zeros(len(self.memories))
        self._cum: list[list[float]] = [[0.0] for _ in range(self.n_arms)]
        self._since = [0] * self.n_arms
        self.restarts = 0

    def params(self) -> dict[str, Any]:
        return {
            "memories": list(self.memories),
            "score_memory": self.score_memory,
            "switch_margin": self.switch_margin,
            "delta": self.delta,
            "check_every": self.check_every,
            "min_segment": self.min_segment,
            "max_history": self.max_history,
            "splits": self.splits,
            "restart_memory": self.restart_memory,
            "reset_scores": self.reset_scores,
        }

    @property
    def memory(self) -> int:
        """The memory (0 = unlimited) the policy currently samples from."""
        return self.memories[self._current()]

    def _current(self) -> int:
        # The first memory is the default; another must out-predict it by a margin.
        lead = self._score - self._score[0] - self.switch_margin
        lead[0] = 0.0
        return int(np.argmax(lead))

    def _select(self) -> int:
        j = self._current()
        return int(np.argmax(self._rng.beta(1.0 + self._s[j], 1.0 + self._f[j])))

    def _update(self, arm: int, reward: float) -> None:
        s, f = self._s[:, arm], self._f[:, arm]
        p = np.clip((1.0 + s) / (2.0 + s + f), _KL_EPS, 1.0 - _KL_EPS)
        loglik = reward * np.log(p) + (1.0 - reward) * np.log1p(-p)
        self._score = self._score * self._score_decay + loglik
        self._s[:, arm] += reward
        self._f[:, arm] += 1.0 - reward
        self._forget(arm, reward)
        cum = self._cum[arm]
        cum.append(cum[-1] + reward)
        if len(cum) > 2 * self.max_history:
            del cum[: len(cum) - self.max_history - 1]
        self._since[arm] += 1
        if self._since[arm] >= self.check_every:
            self._since[arm] = 0
            split = self._change_point(cum)
            if split is not None:
                self._restart(arm, split)

    def _forget(self, arm: int, reward: float) -> None:
        """Append the play to the ring of recent plays; drop what left each window."""
        if not self._span:
            return
        slot = (self.t - 1) % self._span
        if len(self._arms) < self._span:
            self._arms.append(arm)
            self._rewards.append(reward)
        else:
            self._arms[slot], self._rewards[slot] = arm, reward
        for j, w in self._windows:
            if self.t > w:
                old = (self.t - 1 - w) % self._span
                a, r = self._arms[old], self._rewards[old]
                self._s[j, a] -= r
                self._f[j, a] -= 1.0 - r

    def _change_point(self, cum: list[float]) -> int | None:
        start = max(0, len(cum) - 1 - self.max_history)
        n = len(cum) - 1 - start
        m = self.min_segment
        if n < 2 * m:
            return None
        stride = max(1, (n - 2 * m) // self.splits)
        s = np.arange(m, n - m + 1, stride)
        base = cum[start]
        head = np.array([cum[start + i] for i in s.tolist()]) - base
        total = cum[-1] - base
        mean = total / n
        stat = s * _kl_bernoulli(head / s, mean) + (n - s) * _kl_bernoulli(
            (total - head) / (n - s), mean
        )
        best = int(np.argmax(stat))
        if stat[best] > math.log(3.0 * n**1.5 / self.delta):
            return start + int(s[best])
        return None

    def _restart(self, arm: int, split: int) -> None:
        self.restarts += 1
        kept = self._cum[arm][split:]
        n, total = len(kept) - 1, kept[-1] - kept[0]
        # Only the unlimited memories restart; windows forget by themselves.
        rows = [j for j, m in enumerate(self.memories) if m == 0]
        s, f = self._s[rows], self._f[rows]
        evidence = s + f
        keep = np.minimum(evidence, self.restart_memory)
        mean = np.where(evidence > 0, s / np.maximum(evidence, _KL_EPS), 0.5)
        s, f = mean * keep, (1.0 - mean) * keep
        s[:, arm], f[:, arm] = total, n - total
        self._s[rows], self._f[rows] = s, f
        self._cum = [[0.0] for _ in range(self.n_arms)]
        self._cum[arm] = kept
        if self.reset_scores:
            self._score[:] = 0.0
        self._since = [0] * self.n_arms

    def _dump(self) -> dict[str, Any]:
        return {
            "s": self._s.tolist(),
            "f": self._f.tolist(),
            "score": self._score.tolist(),
            "arms": list(self._arms),
            "rewards": list(self._rewards),
            "cum": [list(c) for c in self._cum],
            "since": list(self._since),
            "restarts": self.restarts,
        }

    def _load(self, data: dict[str, Any]) -> None:
        self._s = np.array(data["s"], dtype=float)
        self._f = np.array(data["f"], dtype=float)
        self._score = np.array(data["score"], dtype=float)
        self._arms = [int(a) for a in data["arms"]]
        self._rewards = [float(r) for r in data["rewards"]]
        self._cum = [[float(x) for x in c] for c in data["cum"]]
        self._since = [int(x) for x in data["since"]]
        self.restarts = int(data["restarts"])


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
    )
}
POLICY_NAMES: tuple[str, ...] = tuple(_POLICIES)
"""Every name :func:`make_policy` accepts."""


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
