"""What the studio believes about each brand's strategies, read from the stored policies.

The learners live in the studio's process; their state is saved after every
harvest (:class:`~maestro.learning.policy_store.PolicyStore`), so any process (an
API replica, the CLI) can show what they have learned: per brand, each strategy's
estimated lift over the brand's average strategy with a 90% interval (the linear
learner's belief; plain bandits keep no comparable estimate), and what share of
the brand's posts of its last week it wrote: what the belief does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from sqlalchemy import func, select

from maestro.agents.population_store import PopulationStore
from maestro.clock import Clock
from maestro.learning.bandits import Policy
from maestro.learning.bandits.linear import LinearThompson
from maestro.learning.policy_store import PolicyStore
from maestro.store.db import Database
from maestro.store.tables.cycles import CycleItemRow

__all__ = ["BrandBeliefs", "StrategyBelief", "brand_beliefs"]

Z90 = 1.6449
"""Half-width of a 90% normal interval, in standard deviations."""
CONTEXTS = ("studio:hybrid:brand=", "studio:homogeneous:brand=")
"""Per-brand policy contexts (independent agents learn per agent: not shown)."""


@dataclass(frozen=True, slots=True)
class StrategyBelief:
    strategy: str
    lift: float | None
    """Estimated engagement relative to the brand's average strategy (0.25: +25%)."""
    low: float | None
    high: float | None
    """90% interval of ``lift``."""
    recent_share: float
    """Share of the brand's posts in the ``recent_days`` before the latest post."""


@dataclass(frozen=True, slots=True)
class BrandBeliefs:
    brand: str
    policy: str
    posts: int
    """Outcomes the policy has learned from."""
    best: str | None
    """The strategy with the highest estimated lift (None without estimates)."""
    strategies: list[StrategyBelief]
    """Best first (by lift, else by recent share)."""


async def brand_beliefs(
    db: Database, clock: Clock, policies: PolicyStore, workspace_id: str, *, recent_days: int = 7
) -> list[BrandBeliefs]:
    """Every brand with a stored per-brand policy in ``workspace_id``, by brand name."""
    names = (await PopulationStore(db, clock).catalog(workspace_id)).names()
    shares = await _recent_shares(db, workspace_id, timedelta(days=recent_days))
    found: dict[str, BrandBeliefs] = {}
    for prefix in CONTEXTS:
        for key in await policies.keys(workspace_id, prefix=prefix):
            brand = key.removeprefix(prefix)
            stored = await policies.get(workspace_id, key)
            if brand in found or stored is None:
                continue
            found[brand] = _beliefs(brand, stored.policy, names, shares.get(brand, {}))
    return [found[b] for b in sorted(found)]


def _beliefs(
    brand: str, policy: Policy, names: tuple[str, ...], shares: dict[str, float]
) -> BrandBeliefs:
    arms = names[: policy.n_arms]  # the catalog only grows: a stored policy knows its first n_arms
    lifts: dict[str, tuple[float, float, float]] = {}
    if isinstance(policy, LinearThompson):
        effects, spreads = policy.effects(), policy.spreads()
        centre = float(np.mean(effects))
        for i, name in enumerate(arms):
            e, s = float(effects[i]) - centre, float(spreads[i])
            lifts[name] = (math.expm1(e), math.expm1(e - Z90 * s), math.expm1(e + Z90 * s))
    rows = [
        StrategyBelief(
            strategy=name,
            lift=lifts[name][0] if name in lifts else None,
            low=lifts[name][1] if name in lifts else None,
            high=lifts[name][2] if name in lifts else None,
            recent_share=shares.get(name, 0.0),
        )
        for name in arms
    ]
    rows.sort(key=lambda r: (-(r.lift if r.lift is not None else r.recent_share), r.strategy))
    return BrandBeliefs(
        brand=brand,
        policy=policy.name,
        posts=policy.t,
        best=rows[0].strategy if lifts and rows else None,
        strategies=rows,
    )


async def _recent_shares(
    db: Database, workspace_id: str, window: timedelta
) -> dict[str, dict[str, float]]:
    """Share per strategy of each brand's posts in the ``window`` before the latest post.

    Counted back from the latest post rather than from now, so a paused studio or
    a simulated run (the demo's dates) still shows what it was doing.
    """
    published = (
        CycleItemRow.workspace_id == workspace_id,
        CycleItemRow.status == "published",
    )
    async with db.read() as session:
        latest = await session.scalar(select(func.max(CycleItemRow.created_at)).where(*published))
        if latest is None:
            return {}
        rows = (
            await session.execute(
                select(CycleItemRow.brand, CycleItemRow.strategy, func.count())
                .where(*published, CycleItemRow.created_at > latest - window)
                .group_by(CycleItemRow.brand, CycleItemRow.strategy)
            )
        ).all()
    totals: dict[str, int] = {}
    for brand, _strategy, n in rows:
        totals[brand] = totals.get(brand, 0) + int(n)
    out: dict[str, dict[str, float]] = {}
    for brand, strategy, n in rows:
        out.setdefault(brand, {})[strategy] = int(n) / totals[brand]
    return out
