"""Agents: the expert registry and the content studio's agent population.

The population half (this brief's modules) is pure logic plus one store:

- :mod:`~maestro.agents.strategies`: the catalog of content strategies and their
  prompt fragments (eight defaults, custom ones per workspace).
- :mod:`~maestro.agents.content`: a content agent's DNA (strategy weights,
  temperature, personality, protected strategy) and its survival record.
- :mod:`~maestro.agents.diversity`: the diversity rules of seed 000, checked and
  repaired at mutation time, and the population diversity metric.
- :mod:`~maestro.agents.adaptation`: weights move toward what works, then pass
  through the diversity repair.
- :mod:`~maestro.agents.evolution`: survival score, exploration bonus, weekly
  selection into the gene pool, gap-filling crossover.
- :mod:`~maestro.agents.population_store`: agents, gene pool, custom strategies
  and diversity history persisted per workspace.

See ``docs/population.md``.
"""
