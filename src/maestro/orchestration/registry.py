"""The expert registry (seed 002 ``ExpertAgentRegistry``), scoped per workspace.

Every workspace sees the seven default experts, the experts of the configured
agents file, and the custom experts it registered (stored in ``expert_agents``;
a custom expert may replace a default of the same id). Recorded performance per
(agent, task type) is a running mean in ``expert_performance``, updated with one
upsert, and steers team assembly and best-agent selection.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from maestro.clock import Clock
from maestro.errors import ConflictError, NotFoundError, ValidationError
from maestro.orchestration.profiles import DEFAULT_EXPERTS, ExpertAgentProfile, ExpertiseLevel
from maestro.orchestration.teams import TaskRequirements, Team, assemble_team, find_by_skill
from maestro.store.db import Database
from maestro.store.tables.orchestration import ExpertAgentRow, ExpertPerformanceRow

__all__ = ["ExpertRegistry", "PerformanceStat"]


@dataclass(frozen=True, slots=True)
class PerformanceStat:
    agent_id: str
    task_type: str
    count: int
    mean_score: float


class ExpertRegistry:
    """Experts per workspace: defaults, the configured file, and registered ones."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        extra_profiles: Sequence[ExpertAgentProfile] = (),
    ) -> None:
        self._db = db
        self._clock = clock
        base = {p.agent_id: p for p in DEFAULT_EXPERTS}
        base.update({p.agent_id: p for p in extra_profiles})
        self._base = base

    async def agents(self, workspace_id: str) -> list[ExpertAgentProfile]:
        """Every expert this workspace can use."""
        merged = dict(self._base)
        merged.update(await self._customs(workspace_id))
        return list(merged.values())

    async def get_agent(self, workspace_id: str, agent_id: str) -> ExpertAgentProfile:
        for p in await self.agents(workspace_id):
            if p.agent_id == agent_id:
                return p
        raise NotFoundError(f"no agent {agent_id!r} in this workspace", field="agent_id")

    async def register_agent(
        self, workspace_id: str, profile: ExpertAgentProfile, *, replace: bool = False
    ) -> str:
        """Add a custom expert; a second one with the same id is a conflict unless ``replace``."""
        customs = await self._customs(workspace_id)
        if profile.agent_id in customs and not replace:
            raise ConflictError(
                f"agent {profile.agent_id!r} is already registered in this workspace",
                field="agent_id",
            )
        try:
            async with self._db.write() as session:
                if replace:
                    await session.execute(
                        delete(ExpertAgentRow).where(
                            ExpertAgentRow.workspace_id == workspace_id,
                            ExpertAgentRow.agent_id == profile.agent_id,
                        )
                    )
                session.add(
                    ExpertAgentRow(
                        workspace_id=workspace_id,
                        agent_id=profile.agent_id,
                        profile=profile.model_dump(mode="json"),
                        created_at=self._clock.now(),
                    )
                )
        except IntegrityError:
            raise ConflictError(
                f"agent {profile.agent_id!r} is already registered in this workspace",
                field="agent_id",
            ) from None
        return profile.agent_id

    async def remove_agent(self, workspace_id: str, agent_id: str) -> None:
        """Remove a custom expert (defaults cannot be removed, only replaced)."""
        async with self._db.write() as session:
            result = await session.execute(
                delete(ExpertAgentRow).where(
                    ExpertAgentRow.workspace_id == workspace_id, ExpertAgentRow.agent_id == agent_id
                )
            )
        if not getattr(result, "rowcount", 0):
            raise NotFoundError(f"no custom agent {agent_id!r} in this workspace", field="agent_id")

    async def find_agents_by_skill(
        self,
        workspace_id: str,
        skills: Sequence[str],
        *,
        min_level: ExpertiseLevel = ExpertiseLevel.BEGINNER,
        require_all: bool = False,
    ) -> list[ExpertAgentProfile]:
        """Experts with any (``require_all=False``) or all of ``skills`` at ``min_level``+."""
        return find_by_skill(
            await self.agents(workspace_id), skills, min_level=min_level, require_all=require_all
        )

    async def assemble_team(self, workspace_id: str, requirements: TaskRequirements) -> Team:
        """Cover required skills, then preferred ones, preferring proven agents."""
        perf = await self.performance(workspace_id, task_type=requirements.task_type)
        return assemble_team(
            await self.agents(workspace_id),
            requirements,
            {p.agent_id: p.mean_score for p in perf},
        )

    async def update_performance(
        self, workspace_id: str, agent_id: str, task_type: str, performance_score: float
    ) -> PerformanceStat:
        """Fold one score in [0, 1] into the agent's running mean for ``task_type``."""
        if not 0.0 <= performance_score <= 1.0:
            raise ValidationError(
                f"performance_score must be in [0, 1], got {performance_score}",
                field="performance_score",
            )
        await self.get_agent(workspace_id, agent_id)
        now = self._clock.now()
        where = (
            ExpertPerformanceRow.workspace_id == workspace_id,
            ExpertPerformanceRow.agent_id == agent_id,
            ExpertPerformanceRow.task_type == task_type,
        )
        async with self._db.write() as session:
            row = (
                await session.scalars(select(ExpertPerformanceRow).where(*where).with_for_update())
            ).first()
            if row is None:
                row = ExpertPerformanceRow(
                    workspace_id=workspace_id,
                    agent_id=agent_id,
                    task_type=task_type,
                    count=1,
                    mean_score=performance_score,
                    updated_at=now,
                )
                session.add(row)
            else:
                row.count += 1
                row.mean_score += (performance_score - row.mean_score) / row.count
                row.updated_at = now
            stat = PerformanceStat(agent_id, task_type, row.count, row.mean_score)
        return stat

    async def performance(
        self, workspace_id: str, *, task_type: str | None = None
    ) -> list[PerformanceStat]:
        stmt = select(ExpertPerformanceRow).where(ExpertPerformanceRow.workspace_id == workspace_id)
        if task_type is not None:
            stmt = stmt.where(ExpertPerformanceRow.task_type == task_type)
        async with self._db.read() as session:
            rows = list(await session.scalars(stmt.order_by(ExpertPerformanceRow.agent_id)))
        return [PerformanceStat(r.agent_id, r.task_type, r.count, r.mean_score) for r in rows]

    async def _customs(self, workspace_id: str) -> dict[str, ExpertAgentProfile]:
        async with self._db.read() as session:
            rows = await session.scalars(
                select(ExpertAgentRow)
                .where(ExpertAgentRow.workspace_id == workspace_id)
                .order_by(ExpertAgentRow.created_at, ExpertAgentRow.agent_id)
            )
            return {r.agent_id: ExpertAgentProfile.model_validate(r.profile) for r in rows}
