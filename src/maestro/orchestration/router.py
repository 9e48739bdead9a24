"""Memory-aware routing (seed 003): reuse what worked, otherwise plan and validate.

For a goal, the router looks for similar successful tasks in task memory. A
candidate's confidence is the geometric mean of its goal similarity and its
recorded quality, so both must be high: with the default bound of 0.8, a 0.9
similar goal needs a quality above about 0.71. When the best candidate's
confidence is above ``routing_confidence`` and its agents are all still in the
registry, its sequence is reused. Otherwise the LLM planner proposes a
sequence, validated by :mod:`maestro.orchestration.plan` (unknown agents are
repaired or the plan is rejected; nothing unvalidated is ever executed).

Every decision is stored in ``routing_decisions``; :meth:`Router.record_outcome`
adds how it went and writes the task into memory, which is what the next
routing reads.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import select, update

from maestro.clock import Clock
from maestro.errors import NotFoundError
from maestro.llm.types import Priority
from maestro.memory.tasks import SimilarTask, TaskMemory
from maestro.orchestration.calls import AgentCalls
from maestro.orchestration.context import AgentContext, bound
from maestro.orchestration.plan import extract_agent_list, validate_plan
from maestro.orchestration.registry import ExpertRegistry
from maestro.orchestration.settings import OrchestrationSettings
from maestro.store.base import new_id
from maestro.store.db import Database
from maestro.store.tables.orchestration import RoutingDecisionRow

__all__ = ["Router", "RoutingDecision", "sequence_confidence"]

log = logging.getLogger("maestro.orchestration.router")

RouteSource = Literal["memory", "planner"]


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    id: str
    goal: str
    task_type: str
    source: RouteSource
    agent_sequence: tuple[str, ...]
    confidence: float
    similar_task_id: str | None = None
    repairs: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)


def sequence_confidence(similarity: float, quality: float | None) -> float:
    """How sure we are that a remembered task's agents fit a new goal."""
    if quality is None or similarity <= 0.0:
        return 0.0
    return math.sqrt(max(0.0, similarity) * max(0.0, quality))


class Router:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: OrchestrationSettings,
        *,
        registry: ExpertRegistry,
        memory: TaskMemory,
        calls: AgentCalls,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings
        self._registry = registry
        self._memory = memory
        self._calls = calls

    async def build_context(
        self,
        workspace_id: str,
        *,
        goal: str,
        task_type: str = "general",
        user_id: str | None = None,
        correlation_id: str | None = None,
        **fields: Any,
    ) -> AgentContext:
        """A context carrying the workspace's relevant history (seed 003 "Build AgentContext")."""
        similar = await self._memory.similar(
            workspace_id, goal, k=self._settings.routing_candidates, success_only=True
        )
        recent = await self._memory.recent(workspace_id, limit=10, task_type=task_type)
        perf = await self._memory.agent_performance(workspace_id, task_type=task_type)
        extra: dict[str, Any] = {"correlation_id": correlation_id} if correlation_id else {}
        return AgentContext(
            workspace_id=workspace_id,
            user_id=user_id,
            past_successes=[_summary(s.task, s.score) for s in similar],
            task_history=[_summary(t) for t in recent],
            performance_data={p.agent: round(p.success_rate, 4) for p in perf},
            **extra,
            **fields,
        )

    async def route(
        self, goal: str, context: AgentContext, *, task_type: str = "general"
    ) -> RoutingDecision:
        """Choose the agent sequence for ``goal`` and store the decision."""
        with bound(context):
            ws = context.workspace_id
            known = {p.agent_id: p for p in await self._registry.agents(ws)}
            similar = await self._memory.similar(
                ws, goal, k=self._settings.routing_candidates, success_only=True
            )
            best = _best_candidate(similar, known)
            if best is not None and best[1] > self._settings.routing_confidence:
                match, confidence = best
                decision = RoutingDecision(
                    id=new_id(),
                    goal=goal,
                    task_type=task_type,
                    source="memory",
                    agent_sequence=match.task.agent_sequence,
                    confidence=round(confidence, 4),
                    similar_task_id=match.task.id,
                    detail={"similarity": match.score, "quality": match.task.quality},
                )
            else:
                answer = await self._calls.plan(
                    goal,
                    task_type=task_type,
                    agents=list(known.values()),
                    max_agents=self._settings.max_plan_agents,
                    context=context,
                    priority=Priority.P1,
                )
                proposed = extract_agent_list(answer.text)
                plan = validate_plan(
                    proposed, set(known), max_agents=self._settings.max_plan_agents
                )
                decision = RoutingDecision(
                    id=new_id(),
                    goal=goal,
                    task_type=task_type,
                    source="planner",
                    agent_sequence=plan.agents,
                    confidence=round(best[1], 4) if best is not None else 0.0,
                    repairs=plan.repairs,
                    detail={"proposed": proposed, "repairs": list(plan.repairs)},
                )
            await self._store(ws, context, decision)
            log.info(
                "routed goal to %s via %s (confidence %.2f)",
                list(decision.agent_sequence),
                decision.source,
                decision.confidence,
                extra={"fields": {"decision_id": decision.id}},
            )
            return decision

    async def record_outcome(
        self,
        workspace_id: str,
        decision_id: str,
        *,
        success: bool,
        quality: float | None = None,
        run_id: str | None = None,
        duration_s: float | None = None,
        error: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """Attach an outcome to a decision and remember the task for future routing."""
        async with self._db.write() as session:
            row = (
                await session.scalars(
                    select(RoutingDecisionRow).where(
                        RoutingDecisionRow.id == decision_id,
                        RoutingDecisionRow.workspace_id == workspace_id,
                    )
                )
            ).first()
            if row is None:
                raise NotFoundError(
                    f"no routing decision {decision_id!r} in this workspace", field="decision_id"
                )
            await session.execute(
                update(RoutingDecisionRow)
                .where(RoutingDecisionRow.id == decision_id)
                .values(
                    success=success,
                    quality=quality,
                    run_id=run_id or row.run_id,
                    outcome_at=self._clock.now(),
                )
            )
            goal, task_type, agents = row.goal, row.task_type, list(row.agent_sequence)
            source = row.source
        await self._memory.record(
            workspace_id,
            goal=goal,
            agent_sequence=agents,
            success=success,
            quality=quality,
            duration_s=duration_s,
            error=error,
            task_type=task_type,
            user_id=user_id,
            metadata={"decision_id": decision_id, "run_id": run_id, "source": source},
        )

    async def decisions(self, workspace_id: str, limit: int = 50) -> list[dict[str, Any]]:
        async with self._db.read() as session:
            rows = await session.scalars(
                select(RoutingDecisionRow)
                .where(RoutingDecisionRow.workspace_id == workspace_id)
                .order_by(RoutingDecisionRow.created_at.desc(), RoutingDecisionRow.id)
                .limit(limit)
            )
            return [
                {
                    "id": r.id,
                    "goal": r.goal,
                    "task_type": r.task_type,
                    "source": r.source,
                    "agent_sequence": list(r.agent_sequence),
                    "confidence": r.confidence,
                    "similar_task_id": r.similar_task_id,
                    "detail": r.detail,
                    "run_id": r.run_id,
                    "success": r.success,
                    "quality": r.quality,
                    "correlation_id": r.correlation_id,
                }
                for r in rows
            ]

    async def select_best_agent(
        self, workspace_id: str, task_type: str, *, fallback_agent: str, min_tasks: int = 3
    ) -> str:
        """The registered agent with the best record on ``task_type``, else ``fallback_agent``.

        A record is the task-memory success rate and mean quality (at least
        ``min_tasks`` tasks) blended with the registry's recorded scores.
        """
        known = {p.agent_id for p in await self._registry.agents(workspace_id)}
        scores: dict[str, list[float]] = {}
        for p in await self._memory.agent_performance(workspace_id, task_type=task_type):
            if p.agent in known and p.tasks >= min_tasks:
                q = p.mean_quality if p.mean_quality is not None else p.success_rate
                scores.setdefault(p.agent, []).append(0.5 * p.success_rate + 0.5 * q)
        for stat in await self._registry.performance(workspace_id, task_type=task_type):
            if stat.agent_id in known and stat.count >= min_tasks:
                scores.setdefault(stat.agent_id, []).append(stat.mean_score)
        if not scores:
            return fallback_agent
        return max(scores, key=lambda a: (sum(scores[a]) / len(scores[a]), a))

    async def link_run(self, workspace_id: str, decision_id: str, run_id: str) -> None:
        async with self._db.write() as session:
            await session.execute(
                update(RoutingDecisionRow)
                .where(
                    RoutingDecisionRow.id == decision_id,
                    RoutingDecisionRow.workspace_id == workspace_id,
                )
                .values(run_id=run_id)
            )

    async def _store(self, ws: str, context: AgentContext, d: RoutingDecision) -> None:
        async with self._db.write() as session:
            session.add(
                RoutingDecisionRow(
                    id=d.id,
                    workspace_id=ws,
                    correlation_id=context.correlation_id,
                    goal=d.goal,
                    task_type=d.task_type,
                    source=d.source,
                    agent_sequence=list(d.agent_sequence),
                    confidence=d.confidence,
                    similar_task_id=d.similar_task_id,
                    detail=d.detail,
                    created_at=self._clock.now(),
                )
            )


def _best_candidate(
    similar: list[SimilarTask], known: dict[str, Any]
) -> tuple[SimilarTask, float] | None:
    scored = [
        (s, sequence_confidence(s.score, s.task.quality))
        for s in similar
        if s.task.agent_sequence and all(a in known for a in s.task.agent_sequence)
    ]
    if not scored:
        return None
    return max(scored, key=lambda t: t[1])


def _summary(task: Any, score: float | None = None) -> dict[str, Any]:
    out = {
        "goal": task.goal,
        "agent_sequence": list(task.agent_sequence),
        "success": task.success,
        "quality": task.quality,
    }
    if score is not None:
        out["similarity"] = round(score, 4)
    return out
