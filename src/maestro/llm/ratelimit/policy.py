"""The priority token bucket as pure logic: a policy, its outcomes, one decision.

Nothing here keeps state or reads a clock. Both stores (in-process and the Lua
script on Redis) follow :func:`decide` step by step; the contract suite holds
them to the same behaviour.

The rules (seed 000, section C):

* the bucket holds up to ``capacity`` tokens and refills ``refill_per_minute``;
* P0 may spend down to zero (the ``reserve`` is its own); it always waits its turn;
* P1 may spend down to the reserve; it waits in FIFO order behind any waiting P0;
* P2 is served only if tokens are there now and nobody is waiting, else deferred;
* P3 is skipped when less than ``skip_below`` of capacity remains (or anyone waits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from maestro.llm.types import Priority

__all__ = [
    "DEFAULT_CAPACITY",
    "DEFAULT_COST",
    "DEFAULT_DEFER_SECONDS",
    "DEFAULT_P1_TIMEOUT",
    "DEFAULT_REFILL_PER_MINUTE",
    "DEFAULT_RESERVE",
    "DEFAULT_SKIP_BELOW",
    "EPSILON",
    "BucketPolicy",
    "Decision",
    "Deferred",
    "Granted",
    "Outcome",
    "Skipped",
    "decide",
    "granted",
    "refill",
    "wait_hint",
]

DEFAULT_CAPACITY = 30.0
DEFAULT_REFILL_PER_MINUTE = 2.5
DEFAULT_RESERVE = 5.0
DEFAULT_COST = 1
DEFAULT_P1_TIMEOUT = 60.0
DEFAULT_DEFER_SECONDS = 30 * 60.0
DEFAULT_SKIP_BELOW = 0.2

MAX_CAPACITY = 1e12
"""The Redis script answers a grant with the tokens left in millionths, as a 64-bit
integer; a trillion tokens keeps that far from overflowing."""

EPSILON = 1e-9
"""Slack for float comparisons, so 25.000000000001 - 20 counts as 5 (Lua uses the same)."""


class BucketPolicy(BaseModel):
    """The numbers of one quota key's bucket (seed 000, section C)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    capacity: float = Field(default=DEFAULT_CAPACITY, gt=0, le=MAX_CAPACITY)
    """Most tokens the bucket holds (the burst size)."""
    refill_per_minute: float = Field(default=DEFAULT_REFILL_PER_MINUTE, gt=0)
    """Tokens added per minute, continuously (2.5/min = 150/hour)."""
    reserve: float = Field(default=DEFAULT_RESERVE, ge=0)
    """Tokens only P0 may spend."""
    cost: int = Field(default=DEFAULT_COST, ge=1)
    """Tokens one call costs unless the caller says otherwise."""
    p1_timeout: float = Field(default=DEFAULT_P1_TIMEOUT, gt=0)
    """Seconds a P1 caller waits before :class:`~maestro.errors.RateLimitedError`."""
    p0_timeout: float | None = Field(default=None, gt=0)
    """Seconds a P0 caller waits; ``None`` waits as long as it takes."""
    defer_seconds: float = Field(default=DEFAULT_DEFER_SECONDS, gt=0)
    """How far ahead ``Deferred.retry_at`` points for a refused P2 call."""
    skip_below: float = Field(default=DEFAULT_SKIP_BELOW, ge=0, le=1)
    """P3 is skipped when fewer than this fraction of ``capacity`` tokens remain."""

    @model_validator(mode="after")
    def _reserve_fits(self) -> BucketPolicy:
        if self.reserve >= self.capacity:
            raise ValueError(
                f"reserve {self.reserve} must be below capacity {self.capacity}, "
                "or only P0 could ever be served"
            )
        if self.cost + self.reserve > self.capacity:
            raise ValueError(
                f"cost {self.cost} plus reserve {self.reserve} exceeds capacity {self.capacity}"
            )
        return self

    @property
    def rate(self) -> float:
        """Tokens per second."""
        return self.refill_per_minute / 60.0

    @property
    def skip_threshold(self) -> float:
        """Tokens under which P3 is skipped."""
        return self.capacity * self.skip_below

    def floor(self, priority: Priority) -> float:
        """Tokens that must remain after a call of ``priority``."""
        return 0.0 if priority == Priority.P0 else self.reserve

    def fill_seconds(self) -> float:
        """Seconds an empty bucket takes to fill."""
        return self.capacity / self.rate

    def share(self, replicas: int) -> BucketPolicy:
        """This policy divided among ``replicas`` (the local bucket used while degraded)."""
        if replicas <= 1:
            return self
        return self.model_copy(
            update={
                "capacity": self.capacity / replicas,
                "refill_per_minute": self.refill_per_minute / replicas,
                "reserve": self.reserve / replicas,
            }
        )


@dataclass(frozen=True, slots=True)
class Granted:
    """The call may go ahead."""

    tokens: float | None
    """Tokens left after this call (``None`` under ``fail_open`` while degraded)."""
    waited: float = 0.0
    """Seconds spent waiting (P0/P1), on the limiter's clock."""
    outcome: Literal["granted"] = "granted"


@dataclass(frozen=True, slots=True)
class Deferred:
    """A P2 call refused for now; reschedule at ``retry_at``."""

    retry_at: datetime
    tokens: float | None
    outcome: Literal["deferred"] = "deferred"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A P3 call refused: the quota is too low for low-priority work."""

    tokens: float | None
    outcome: Literal["skipped"] = "skipped"


_new = object.__new__
_GRANTED_SLOTS: tuple[Callable[[object, object], None], ...] = tuple(
    vars(Granted)[name].__set__ for name in ("tokens", "waited", "outcome")
)


def granted(tokens: float | None, waited: float = 0.0) -> Granted:
    """``Granted(tokens, waited)``, built for the hot path.

    The same object (equal, same repr), but it fills the slots directly instead of
    through the frozen dataclass's ``object.__setattr__`` calls, which cost as much
    as the rest of an in-process acquisition.
    """
    out = _new(Granted)
    set_tokens, set_waited, set_outcome = _GRANTED_SLOTS
    set_tokens(out, tokens)
    set_waited(out, waited)
    set_outcome(out, "granted")
    return out


Outcome = Granted | Deferred | Skipped
"""What :meth:`RateLimiter.acquire` returns. A P1 (or P0 with a timeout) that waited
too long raises :class:`~maestro.errors.RateLimitedError` instead: that caller was
promised service, so not getting it is an error, not a routine outcome."""

Decision = Literal["grant", "wait", "defer", "skip"]


def refill(policy: BucketPolicy, tokens: float, elapsed: float) -> float:
    """The tokens after ``elapsed`` seconds of refilling (never above capacity)."""
    if elapsed <= 0:
        return tokens
    return min(policy.capacity, tokens + elapsed * policy.rate)


def decide(
    policy: BucketPolicy, priority: Priority, tokens: float, cost: int, *, rank: int, queued: int
) -> Decision:
    """What to do with one attempt.

    Args:
        policy: the bucket's numbers.
        priority: the caller's priority.
        tokens: the tokens in the bucket now (already refilled).
        cost: tokens the call costs.
        rank: for P0/P1, the caller's place in the wait queue (0 = head); ignored otherwise.
        queued: how many callers wait in the queue (including this one, for P0/P1).
    """
    enough = tokens + EPSILON >= policy.floor(priority) + cost
    if priority <= Priority.P1:
        return "grant" if rank == 0 and enough else "wait"
    if priority == Priority.P2:
        return "grant" if queued == 0 and enough else "defer"
    if tokens + EPSILON < policy.skip_threshold or queued > 0 or not enough:
        return "skip"
    return "grant"


def wait_hint(
    policy: BucketPolicy, priority: Priority, tokens: float, cost: int, rank: int
) -> float:
    """Seconds until the tokens a waiter at ``rank`` needs should have refilled."""
    need = policy.floor(priority) + cost * (rank + 1) - tokens
    return max(0.0, need / policy.rate)
