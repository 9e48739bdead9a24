"""Daily budgets hold under concurrency on every coordination backend."""

from __future__ import annotations

import asyncio

from maestro.clock import ManualClock
from maestro.coord import Coordinator
from maestro.llm.budget import Budget, BudgetSettings


async def test_parallel_reservations_never_exceed_the_budget(
    coord: Coordinator, clock: ManualClock
) -> None:
    budget = Budget(coord, clock, BudgetSettings(daily_usd=1.0))
    results = await asyncio.gather(*(budget.reserve("ws", 0.03) for _ in range(100)))
    granted = [r for r in results if r is not None]
    assert len(granted) == 33  # 33 x 0.03 = 0.99; the 34th would overspend
    assert await budget.spent_usd("ws") <= 1.0


async def test_settling_returns_unused_reservation(coord: Coordinator, clock: ManualClock) -> None:
    budget = Budget(coord, clock, BudgetSettings(daily_usd=0.10))
    r = await budget.reserve("ws", 0.08)
    assert r is not None
    assert await budget.reserve("ws", 0.05) is None
    await budget.settle(r, 0.01)
    assert abs(await budget.spent_usd("ws") - 0.01) < 1e-9
    assert await budget.reserve("ws", 0.05) is not None


async def test_budgets_are_per_workspace_and_per_day(
    coord: Coordinator, clock: ManualClock
) -> None:
    budget = Budget(coord, clock, BudgetSettings(daily_usd=0.05, per_workspace={"big": 1.0}))
    assert await budget.reserve("a", 0.05) is not None
    assert await budget.reserve("a", 0.01) is None
    assert await budget.reserve("b", 0.05) is not None, "b has its own budget"
    assert await budget.reserve("big", 0.5) is not None
    clock.advance(86_400)
    assert await budget.reserve("a", 0.05) is not None, "a new day starts at zero"
    assert await budget.remaining_usd("a") == 0.0
