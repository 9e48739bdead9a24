"""Persistence of the content population, per workspace.

Agents, gene pool entries, custom strategies and the diversity history live in
the ``studio`` tables. Every method takes the workspace id and never reads or
writes another workspace's rows. An evolution step is applied in one
transaction: retirements, gene pool entries, repaired survivors, newborns and
the diversity point commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from maestro.agents.content import AgentDNA, ContentAgent
from maestro.agents.diversity import population_diversity, primary_counts
from maestro.agents.evolution import EvolutionResult, GenePoolEntry
from maestro.agents.strategies import DEFAULT_STRATEGIES, Strategy, StrategyCatalog
from maestro.clock import Clock
from maestro.errors import ConflictError, NotFoundError, ValidationError
from maestro.store.base import new_id
from maestro.store.db import Database
from maestro.store.tables.studio import (
    ContentAgentRow,
    ContentStrategyRow,
    DiversityPointRow,
    GenePoolRow,
)

__all__ = ["DiversityEvent", "DiversityPoint", "PopulationStore"]

DiversityEvent = Literal["founding", "adaptation", "evolution", "manual"]


@dataclass(frozen=True)
class DiversityPoint:
    """Population diversity at one moment."""

    recorded_at: datetime
    event: str
    diversity: float
    agents: int
    primaries: dict[str, int]


def _agent(row: ContentAgentRow) -> ContentAgent:
    return ContentAgent(
        id=row.id,
        name=row.name,
        dna=AgentDNA(
            strategy_weights=dict(row.strategy_weights),
            temperature=row.temperature,
            personality=row.personality,
            protected_strategy=row.protected_strategy,
        ),
        born_at=row.born_at,
        performance=row.performance,
        exploration_bonus=row.exploration_bonus,
        uses=dict(row.uses),
        generation=row.generation,
        parents=tuple(row.parents),
        status="retired" if row.status == "retired" else "active",
        retired_at=row.retired_at,
    )


def _fill(row: ContentAgentRow, agent: ContentAgent, now: datetime) -> None:
    row.name = agent.name
    row.strategy_weights = dict(agent.weights)
    row.temperature = agent.dna.temperature
    row.personality = agent.dna.personality
    row.protected_strategy = agent.protected_strategy
    row.primary_strategy = agent.primary
    row.performance = agent.performance
    row.exploration_bonus = agent.exploration_bonus
    row.survival_score = agent.survival_score
    row.uses = dict(agent.uses)
    row.generation = agent.generation
    row.parents = list(agent.parents)
    row.status = agent.status
    row.born_at = agent.born_at
    row.retired_at = agent.retired_at
    row.updated_at = now


def _entry(row: GenePoolRow) -> GenePoolEntry:
    return GenePoolEntry(
        id=row.id,
        agent_id=row.agent_id,
        name=row.name,
        dna=AgentDNA.from_json(row.dna),
        performance=row.performance,
        exploration_bonus=row.exploration_bonus,
        survival_score=row.survival_score,
        uses=dict(row.uses),
        generation=row.generation,
        born_at=row.born_at,
        retired_at=row.retired_at,
    )


class PopulationStore:
    """The population of every workspace, in the database."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    # agents ------------------------------------------------------------------------
    async def save_agents(self, workspace_id: str, agents: Iterable[ContentAgent]) -> None:
        """Insert or update ``agents`` (matched by id within the workspace)."""
        async with self.db.write() as session:
            await self._save(session, workspace_id, list(agents))

    async def save_agent(self, workspace_id: str, agent: ContentAgent) -> None:
        await self.save_agents(workspace_id, [agent])

    async def _save(
        self, session: AsyncSession, workspace_id: str, agents: Sequence[ContentAgent]
    ) -> None:
        if not agents:
            return
        now = self.clock.now()
        ids = [a.id for a in agents]
        rows = {
            r.id: r
            for r in (
                await session.scalars(select(ContentAgentRow).where(ContentAgentRow.id.in_(ids)))
            )
        }
        for agent in agents:
            row = rows.get(agent.id)
            if row is None:
                row = ContentAgentRow(id=agent.id, workspace_id=workspace_id)
                session.add(row)
            elif row.workspace_id != workspace_id:
                raise ConflictError(
                    f"agent id {agent.id!r} belongs to another workspace", field="id"
                )
            _fill(row, agent, now)

    async def get_agent(self, workspace_id: str, agent_id: str) -> ContentAgent:
        async with self.db.read() as session:
            row = await session.scalar(
                select(ContentAgentRow).where(
                    ContentAgentRow.workspace_id == workspace_id, ContentAgentRow.id == agent_id
                )
            )
        if row is None:
            raise NotFoundError(
                f"no content agent {agent_id!r} in this workspace", field="agent_id"
            )
        return _agent(row)

    async def list_agents(
        self, workspace_id: str, *, include_retired: bool = False
    ) -> list[ContentAgent]:
        """Agents oldest first (then by id), active only unless ``include_retired``."""
        query = select(ContentAgentRow).where(ContentAgentRow.workspace_id == workspace_id)
        if not include_retired:
            query = query.where(ContentAgentRow.status == "active")
        query = query.order_by(ContentAgentRow.born_at, ContentAgentRow.id)
        async with self.db.read() as session:
            return [_agent(r) for r in await session.scalars(query)]

    async def delete_agent(self, workspace_id: str, agent_id: str) -> None:
        """Remove an agent row; its gene pool entries (if retired) stay."""
        async with self.db.write() as session:
            result = await session.execute(
                delete(ContentAgentRow).where(
                    ContentAgentRow.workspace_id == workspace_id, ContentAgentRow.id == agent_id
                )
            )
        if getattr(result, "rowcount", 0) == 0:
            raise NotFoundError(
                f"no content agent {agent_id!r} in this workspace", field="agent_id"
            )

    # gene pool ---------------------------------------------------------------------
    async def retire(self, workspace_id: str, agent_id: str) -> GenePoolEntry:
        """Retire one agent now and keep its DNA in the gene pool."""
        agent = await self.get_agent(workspace_id, agent_id)
        if not agent.active:
            raise ConflictError(f"agent {agent_id!r} is already retired", field="agent_id")
        now = self.clock.now()
        retired = agent.retire(now)
        entry = GenePoolEntry.from_agent(retired, at=now, entry_id=new_id())
        async with self.db.write() as session:
            await self._save(session, workspace_id, [retired])
            self._add_entries(session, workspace_id, [entry])
        return entry

    def _add_entries(
        self, session: AsyncSession, workspace_id: str, entries: Iterable[GenePoolEntry]
    ) -> None:
        for e in entries:
            session.add(
                GenePoolRow(
                    id=e.id,
                    workspace_id=workspace_id,
                    agent_id=e.agent_id,
                    name=e.name,
                    dna=e.dna.to_json(),
                    performance=e.performance,
                    exploration_bonus=e.exploration_bonus,
                    survival_score=e.survival_score,
                    uses=dict(e.uses),
                    generation=e.generation,
                    born_at=e.born_at,
                    retired_at=e.retired_at,
                )
            )

    async def gene_pool(
        self, workspace_id: str, *, limit: int | None = None
    ) -> list[GenePoolEntry]:
        """Gene pool entries, most recently retired first."""
        query = (
            select(GenePoolRow)
            .where(GenePoolRow.workspace_id == workspace_id)
            .order_by(GenePoolRow.retired_at.desc(), GenePoolRow.id)
        )
        if limit is not None:
            query = query.limit(limit)
        async with self.db.read() as session:
            return [_entry(r) for r in await session.scalars(query)]

    async def prune_gene_pool(self, workspace_id: str, *, keep: int) -> int:
        """Keep the ``keep`` best entries by survival score (then newest); return how many went."""
        if keep < 0:
            raise ValidationError(f"keep must be >= 0, got {keep}", field="keep")
        async with self.db.write() as session:
            ranked = (
                await session.scalars(
                    select(GenePoolRow.id)
                    .where(GenePoolRow.workspace_id == workspace_id)
                    .order_by(
                        GenePoolRow.survival_score.desc(),
                        GenePoolRow.retired_at.desc(),
                        GenePoolRow.id,
                    )
                )
            ).all()
            doomed = list(ranked[keep:])
            if doomed:
                await session.execute(
                    delete(GenePoolRow).where(
                        GenePoolRow.workspace_id == workspace_id, GenePoolRow.id.in_(doomed)
                    )
                )
        return len(doomed)

    # evolution and diversity -------------------------------------------------------
    async def apply_evolution(self, workspace_id: str, result: EvolutionResult) -> DiversityPoint:
        """Persist one evolution step atomically and record the diversity it reached."""
        async with self.db.write() as session:
            await self._save(session, workspace_id, [*result.retired, *result.population])
            self._add_entries(session, workspace_id, result.gene_pool_added)
            return self._record(session, workspace_id, result.population, "evolution")

    async def record_diversity(
        self, workspace_id: str, agents: Iterable[ContentAgent], event: DiversityEvent
    ) -> DiversityPoint:
        """Record the diversity of ``agents`` (their active members) now."""
        async with self.db.write() as session:
            return self._record(session, workspace_id, list(agents), event)

    def _record(
        self,
        session: AsyncSession,
        workspace_id: str,
        agents: Sequence[ContentAgent],
        event: DiversityEvent,
    ) -> DiversityPoint:
        active = [a for a in agents if a.active]
        point = DiversityPoint(
            recorded_at=self.clock.now(),
            event=event,
            diversity=population_diversity(active),
            agents=len(active),
            primaries=primary_counts(active),
        )
        session.add(
            DiversityPointRow(
                id=new_id(),
                workspace_id=workspace_id,
                recorded_at=point.recorded_at,
                event=point.event,
                diversity=point.diversity,
                agents=point.agents,
                primaries=point.primaries,
            )
        )
        return point

    async def diversity_history(
        self, workspace_id: str, *, since: datetime | None = None, limit: int = 1000
    ) -> list[DiversityPoint]:
        """Diversity points oldest first (the most recent ``limit`` of them)."""
        query = select(DiversityPointRow).where(DiversityPointRow.workspace_id == workspace_id)
        if since is not None:
            query = query.where(DiversityPointRow.recorded_at >= since)
        query = query.order_by(DiversityPointRow.recorded_at.desc(), DiversityPointRow.id).limit(
            limit
        )
        async with self.db.read() as session:
            rows = list(await session.scalars(query))
        return [
            DiversityPoint(
                recorded_at=r.recorded_at,
                event=r.event,
                diversity=r.diversity,
                agents=r.agents,
                primaries=dict(r.primaries),
            )
            for r in reversed(rows)
        ]

    # strategies --------------------------------------------------------------------
    async def add_strategy(self, workspace_id: str, strategy: Strategy) -> Strategy:
        """Register a custom strategy; a default's name or an existing one is a conflict."""
        if strategy.name in {s.name for s in DEFAULT_STRATEGIES}:
            raise ConflictError(f"strategy {strategy.name!r} is a default strategy", field="name")
        try:
            async with self.db.write() as session:
                exists = await session.scalar(
                    select(func.count())
                    .select_from(ContentStrategyRow)
                    .where(
                        ContentStrategyRow.workspace_id == workspace_id,
                        ContentStrategyRow.name == strategy.name,
                    )
                )
                if exists:
                    raise ConflictError(
                        f"strategy {strategy.name!r} already exists in this workspace", field="name"
                    )
                session.add(
                    ContentStrategyRow(
                        id=new_id(),
                        workspace_id=workspace_id,
                        name=strategy.name,
                        title=strategy.title,
                        prompt_fragment=strategy.prompt_fragment,
                        description=strategy.description,
                        created_at=self.clock.now(),
                    )
                )
        except IntegrityError:  # a concurrent insert of the same name
            raise ConflictError(
                f"strategy {strategy.name!r} already exists in this workspace", field="name"
            ) from None
        return Strategy(
            name=strategy.name,
            title=strategy.title,
            prompt_fragment=strategy.prompt_fragment,
            description=strategy.description,
            builtin=False,
        )

    async def catalog(self, workspace_id: str) -> StrategyCatalog:
        """The defaults plus the workspace's custom strategies, in creation order."""
        query = (
            select(ContentStrategyRow)
            .where(ContentStrategyRow.workspace_id == workspace_id)
            .order_by(ContentStrategyRow.created_at, ContentStrategyRow.name)
        )
        async with self.db.read() as session:
            rows = list(await session.scalars(query))
        catalog = StrategyCatalog()
        for r in rows:
            catalog.register(
                Strategy(
                    name=r.name,
                    title=r.title,
                    prompt_fragment=r.prompt_fragment,
                    description=r.description,
                )
            )
        return catalog
