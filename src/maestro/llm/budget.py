"""Per-workspace daily budgets, enforced atomically: reserve before a call, settle after.

A reservation adds the call's worst-case cost to the day's committed total only
if the total stays within the budget, in one atomic script; settling replaces the
estimate with the real cost. So any number of parallel calls, on any number of
replicas, can never commit more than the budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from maestro.clock import Clock
from maestro.coord import Coordinator, LocalState, Script, ScriptArg

__all__ = ["DEFAULT_DAILY_BUDGET_USD", "Budget", "BudgetSettings", "Reservation"]

DEFAULT_DAILY_BUDGET_USD = 5.0
MICRO = 1_000_000
_DAY_MS = 2 * 86_400 * 1000  # counters outlive their day by a day, then vanish


class BudgetSettings(BaseModel):
    """Spending limits."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    daily_usd: float = Field(default=DEFAULT_DAILY_BUDGET_USD, ge=0)
    """Default daily budget of every workspace, in USD."""
    per_workspace: dict[str, float] = Field(default_factory=dict)
    """Daily budgets of named workspaces (by id or name), overriding ``daily_usd``."""


def _reserve_local(state: LocalState, keys: Sequence[str], args: Sequence[ScriptArg]) -> int:
    raw = state.get(keys[0])
    committed = int(raw) if raw is not None else 0
    amount, limit = int(args[0]), int(args[1])
    if committed + amount > limit:
        return -1
    committed += amount
    state.set(keys[0], str(committed).encode(), float(args[2]) / 1000.0)
    return committed


RESERVE = Script("budget_reserve", _reserve_local, package="maestro.llm.lua")


@dataclass(frozen=True)
class Reservation:
    workspace: str
    key: str
    micro_usd: int


class Budget:
    """Daily spend per workspace, shared by every replica through the coordinator."""

    def __init__(self, coord: Coordinator, clock: Clock, settings: BudgetSettings) -> None:
        self._coord = coord
        self._clock = clock
        self._settings = settings

    def limit_usd(self, workspace: str) -> float:
        return self._settings.per_workspace.get(workspace, self._settings.daily_usd)

    def _key(self, workspace: str) -> str:
        return self._coord.key("budget", workspace, self._clock.now().date().isoformat())

    async def reserve(self, workspace: str, usd: float) -> Reservation | None:
        """Commit ``usd`` against today's budget, or None if that would overspend."""
        key = self._key(workspace)
        micro = max(0, round(usd * MICRO))
        limit = round(self.limit_usd(workspace) * MICRO)
        result = await self._coord.run_script(RESERVE, [key], [micro, limit, _DAY_MS])
        return None if int(result) < 0 else Reservation(workspace, key, micro)

    async def settle(self, reservation: Reservation, actual_usd: float) -> None:
        """Replace the reservation's estimate with the real cost (0 when the call failed)."""
        delta = round(actual_usd * MICRO) - reservation.micro_usd
        if delta:
            await self._coord.incr(reservation.key, delta)

    async def spent_usd(self, workspace: str) -> float:
        """Today's committed spend (settled costs plus open reservations)."""
        raw = await self._coord.get(self._key(workspace))
        return int(raw or 0) / MICRO

    async def remaining_usd(self, workspace: str) -> float:
        return max(0.0, self.limit_usd(workspace) - await self.spent_usd(workspace))
