"""Weekly evolution of the studio's population (seed 000 sections A and D.4).

Selection retires the weakest agents into the gene pool, newborns fill the
population's strategy gaps, and the gene pool is kept to a bounded size (the
seed's "gene pool maintenance"). The rules are :mod:`maestro.agents.evolution`;
this job applies them to one workspace and persists the result atomically.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from maestro.agents.evolution import EvolutionResult, evolve
from maestro.cycles.context import CycleContext

__all__ = ["GENE_POOL_KEEP", "evolve_population"]

GENE_POOL_KEEP: Final = 200
"""Maestro's choice: gene pool entries kept per workspace (newest first)."""


async def evolve_population(ctx: CycleContext, tick: datetime) -> EvolutionResult:
    """One evolution step; the population afterwards is the studio's population."""
    policy = ctx.population_settings
    pool = await ctx.population.gene_pool(ctx.workspace_id)
    result = evolve(
        ctx.active_agents(),
        pool,
        ctx.catalog.names(),
        now=ctx.clock.now(),
        rng=ctx.rng,
        policy=policy.evolution_policy(),
        diversity=policy.diversity_policy(),
    )
    await ctx.population.apply_evolution(ctx.workspace_id, result)
    await ctx.population.prune_gene_pool(ctx.workspace_id, keep=GENE_POOL_KEEP)
    ctx.agents = list(result.population)
    ctx.stats.evolutions += 1
    return result
