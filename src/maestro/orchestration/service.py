"""``Orchestration``: the one facade the API, the CLI and library users call.

It wires the registry, task memory, the router, the workflow engine, the
self-corrector, the debater and the checkpoint notifier over one database and
one gateway. :func:`orchestration_for` gives the engine's shared instance.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from maestro.clock import Clock
from maestro.embeddings import Embedder, HashingEmbedder
from maestro.errors import ConflictError, ValidationError
from maestro.llm.types import Gateway
from maestro.memory.critiques import CritiqueStore
from maestro.memory.tasks import TaskMemory
from maestro.orchestration.actions import ActionRegistry
from maestro.orchestration.calls import AgentCalls
from maestro.orchestration.context import AgentContext, bound
from maestro.orchestration.debate import Debater
from maestro.orchestration.profiles import load_profiles
from maestro.orchestration.records import ApprovalRecord, RunRecord, StepRecord
from maestro.orchestration.registry import ExpertRegistry
from maestro.orchestration.router import Router, RoutingDecision
from maestro.orchestration.runs import RunStore
from maestro.orchestration.runs_sql import SqlRunStore
from maestro.orchestration.selfcorrect import SelfCorrector
from maestro.orchestration.settings import (
    ConsensusStrategy,
    OrchestrationSettings,
    SelfCorrectionConfig,
)
from maestro.orchestration.spec import CheckpointSpec, WorkflowSpec, chain
from maestro.orchestration.teams import TaskRequirements
from maestro.orchestration.webhooks import WebhookNotifier
from maestro.orchestration.workflow import WorkflowEngine
from maestro.store.db import Database

if TYPE_CHECKING:
    from maestro.engine import Maestro

__all__ = ["Orchestrated", "Orchestration", "RunView", "orchestration_for"]

log = logging.getLogger("maestro.orchestration")
Decision = Literal["approve", "reject"]


@dataclass(frozen=True, slots=True)
class Orchestrated:
    decision: RoutingDecision
    run: RunRecord
    context: AgentContext


@dataclass(frozen=True, slots=True)
class RunView:
    run: RunRecord
    steps: list[StepRecord]
    approvals: list[ApprovalRecord]


class Orchestration:
    """Routing, durable workflows, self-correction, debates and approvals."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        gateway: Gateway,
        settings: OrchestrationSettings | None = None,
        *,
        memory: TaskMemory | None = None,
        critiques: CritiqueStore | None = None,
        embedder: Embedder | None = None,
        store: RunStore | None = None,
        actions: ActionRegistry | None = None,
        owner: str | None = None,
    ) -> None:
        self.settings = settings or OrchestrationSettings()
        self.db = db
        self.clock = clock
        extra = load_profiles(self.settings.agents_file) if self.settings.agents_file else []
        self.registry = ExpertRegistry(db, clock, extra_profiles=extra)
        self.memory = memory or TaskMemory(db, clock, embedder or HashingEmbedder())
        self.critiques = critiques or CritiqueStore(db, clock)
        self.calls = AgentCalls(gateway)
        self.router = Router(
            db, clock, self.settings, registry=self.registry, memory=self.memory, calls=self.calls
        )
        self.corrector = SelfCorrector(self.calls, memory=self.memory, critiques=self.critiques)
        self.debater = Debater(self.calls)
        self.notifier = WebhookNotifier(self.settings.webhook, clock)
        self.store: RunStore = store or SqlRunStore(db)
        self.actions = actions or ActionRegistry()
        self.workflows = WorkflowEngine(
            self.store,
            clock,
            self.settings,
            profiles=self.registry,
            calls=self.calls,
            actions=self.actions,
            corrector=self.corrector,
            notifier=self.notifier,
            on_finish=self._on_finish,
            success_rate=self._success_rate,
            owner=owner,
        )
        self._background: set[asyncio.Task[Any]] = set()

    # --- routing and workflows -----------------------------------------------------

    async def orchestrate(
        self,
        workspace_id: str,
        goal: str,
        *,
        task_type: str = "general",
        topic: str | None = None,
        user_id: str | None = None,
        context: dict[str, Any] | None = None,
        checkpoints: Sequence[CheckpointSpec] = (),
        self_correct: bool = True,
    ) -> Orchestrated:
        """Route ``goal`` (memory or planner), then run the agents as a durable workflow.

        The last agent self-corrects by default, which gives the run a quality
        that routing feedback and auto-approval rules use.
        """
        ctx = await self.router.build_context(
            workspace_id, goal=goal, task_type=task_type, user_id=user_id, **(context or {})
        )
        with bound(ctx):
            decision = await self.router.route(goal, ctx, task_type=task_type)
            spec = chain(
                goal,
                decision.agent_sequence,
                task_type=task_type,
                topic=topic,
                checkpoints=tuple(checkpoints),
            )
            if self_correct:
                last = spec.stages[-1]
                step = last.steps[0].model_copy(update={"self_correct": True})
                spec = spec.model_copy(
                    update={
                        "stages": (*spec.stages[:-1], last.model_copy(update={"steps": (step,)}))
                    }
                )
            run = await self.workflows.create(spec, ctx, decision_id=decision.id)
            await self.router.link_run(workspace_id, decision.id, run.id)
            run = await self.workflows.resume(workspace_id, run.id)
        return Orchestrated(decision=decision, run=run, context=ctx)

    async def run_workflow(
        self, spec: WorkflowSpec, context: AgentContext | None = None, *, workspace_id: str = ""
    ) -> RunRecord:
        """Execute an explicit workflow until it finishes or waits for an approval."""
        ctx = context or AgentContext(workspace_id=workspace_id)
        return await self.workflows.start(spec, ctx)

    async def resume(self, workspace_id: str, run_id: str, *, force: bool = False) -> RunRecord:
        return await self.workflows.resume(workspace_id, run_id, force=force)

    async def recover(self) -> list[str]:
        """Resume runs of crashed workers and apply approval timeouts (call at start-up)."""
        await self.expire_approvals()
        return await self.workflows.recover()

    async def get_run(self, workspace_id: str, run_id: str) -> RunView:
        run = await self.store.get_run(workspace_id, run_id)
        steps = await self.store.steps(workspace_id, run_id) if run.kind == "workflow" else []
        approvals = await self.store.approvals(workspace_id, run_id=run_id)
        return RunView(run=run, steps=steps, approvals=approvals)

    async def list_runs(
        self, workspace_id: str, *, status: str | None = None, limit: int = 50
    ) -> list[RunRecord]:
        return await self.store.list_runs(workspace_id, status=status, limit=limit)

    async def select_best_agent(
        self, workspace_id: str, task_type: str, *, fallback_agent: str
    ) -> str:
        return await self.router.select_best_agent(
            workspace_id, task_type, fallback_agent=fallback_agent
        )

    # --- self-correction and debates -------------------------------------------------

    async def self_correct(
        self,
        workspace_id: str,
        agent_id: str,
        goal: str,
        *,
        config: SelfCorrectionConfig | None = None,
        topic: str | None = None,
        task_type: str = "general",
        user_id: str | None = None,
        context: dict[str, Any] | None = None,
    ) -> RunRecord:
        """Generate, critique, revise; the attempts are persisted as a run."""
        cfg = config or self.settings.self_correction
        agent = await self.registry.get_agent(workspace_id, agent_id)
        ctx = AgentContext(workspace_id=workspace_id, user_id=user_id, **(context or {}))
        spec = {
            "agent_id": agent_id,
            "config": cfg.model_dump(mode="json"),
            "topic": topic,
            "task_type": task_type,
        }
        run = await self._open_run("self_correct", goal, spec, ctx)
        with bound(ctx):
            try:
                result = await self.corrector.correct(
                    agent,
                    goal=goal,
                    context=ctx,
                    config=cfg,
                    topic=topic,
                    task_type=task_type,
                    content_id=run.id,
                )
            except Exception as exc:
                return await self._close_run(run, error=f"{exc.__class__.__name__}: {exc}")
            await self.registry.update_performance(
                workspace_id, agent_id, task_type, result.quality
            )
            return await self._close_run(run, result=result.as_dict())

    async def debate(
        self,
        workspace_id: str,
        problem: str,
        *,
        agent_ids: Sequence[str] = (),
        requirements: TaskRequirements | None = None,
        rounds: int | None = None,
        strategy: ConsensusStrategy | None = None,
        moderator_id: str | None = None,
        facts: Sequence[str] = (),
        user_id: str | None = None,
    ) -> RunRecord:
        """A debate among ``agent_ids`` (or a team assembled for ``requirements``)."""
        dset = self.settings.debate
        if agent_ids:
            agents = [await self.registry.get_agent(workspace_id, a) for a in agent_ids]
        elif requirements is not None:
            team = await self.registry.assemble_team(workspace_id, requirements)
            agents = [await self.registry.get_agent(workspace_id, a) for a in team.agent_ids]
        else:
            raise ValidationError("name agent_ids or requirements", field="agent_ids")
        if len(agents) > dset.max_agents:
            raise ValidationError(
                f"{len(agents)} agents exceed the debate limit of {dset.max_agents}",
                field="agent_ids",
            )
        chosen = strategy or dset.consensus
        moderator = None
        if chosen == "moderator" or moderator_id:
            moderator = await self.registry.get_agent(workspace_id, moderator_id or dset.moderator)
        ctx = AgentContext(workspace_id=workspace_id, user_id=user_id)
        spec = {
            "agents": [a.agent_id for a in agents],
            "rounds": rounds or dset.rounds,
            "strategy": chosen,
            "moderator": moderator.agent_id if moderator else None,
            "facts": list(facts),
        }
        run = await self._open_run("debate", problem, spec, ctx)
        with bound(ctx):
            try:
                result = await self.debater.debate(
                    problem,
                    agents,
                    context=ctx,
                    rounds=rounds or dset.rounds,
                    strategy=chosen,
                    moderator=moderator,
                    facts=facts,
                )
            except Exception as exc:
                return await self._close_run(run, error=f"{exc.__class__.__name__}: {exc}")
            return await self._close_run(run, result=result.as_dict())

    # --- approvals -------------------------------------------------------------------

    async def list_approvals(
        self, workspace_id: str, *, status: str | None = "pending"
    ) -> list[ApprovalRecord]:
        """Approvals of the workspace (pending by default); due timeouts are applied first."""
        await self.expire_approvals(workspace_id)
        if status not in (None, "pending", "approved", "rejected", "notified"):
            raise ValidationError(f"unknown approval status {status!r}", field="status")
        return await self.store.approvals(workspace_id, status=status)  # type: ignore[arg-type]

    async def get_approval(self, workspace_id: str, approval_id: str) -> ApprovalRecord:
        return await self.store.get_approval(workspace_id, approval_id)

    async def decide(
        self,
        workspace_id: str,
        approval_id: str,
        decision: Decision,
        *,
        by: str,
        note: str | None = None,
        background: bool = False,
    ) -> ApprovalRecord:
        """Approve or reject a pending approval, then resume its run.

        Exactly one of concurrent decisions wins (a compare-and-set in the
        store); the others get :class:`ConflictError`. With ``background`` the
        run resumes in a task of this process and the call returns at once.
        """
        if decision not in ("approve", "reject"):
            raise ValidationError(f"unknown decision {decision!r}", field="decision")
        current = await self.store.get_approval(workspace_id, approval_id)
        if current.status == "pending" and current.expires_at <= self.clock.now():
            timed_out = await self.workflows.apply_timeout(current)
            await self._wake(timed_out, background=background)
            raise ConflictError(
                f"approval {approval_id!r} timed out before the decision: {timed_out.status}",
                field="approval_id",
            )
        status: Any = "approved" if decision == "approve" else "rejected"
        run = await self.store.get_run(workspace_id, current.run_id)
        with bound(AgentContext.model_validate(run.context)):
            approval = await self.store.decide(
                workspace_id, approval_id, status, by=by, note=note, now=self.clock.now()
            )
            log.info(
                "approval %s %s by %s",
                approval_id,
                approval.status,
                by,
                extra={"fields": {"run_id": approval.run_id}},
            )
            await self._wake(approval, background=background)
        return approval

    async def expire_approvals(self, workspace_id: str | None = None) -> int:
        """Apply the timeout outcome to every pending approval past its deadline."""
        due = await self.store.approvals(
            workspace_id, status="pending", expired_before=self.clock.now()
        )
        for approval in due:
            decided = await self.workflows.apply_timeout(approval)
            await self._wake(decided, background=False)
        return len(due)

    async def drain(self) -> None:
        """Wait for runs resumed in the background (tests, shutdown)."""
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)

    async def _wake(self, approval: ApprovalRecord, *, background: bool) -> None:
        """Hand a decided approval's run back to execution."""
        flipped = await self.store.set_status(
            approval.workspace_id,
            approval.run_id,
            "running",
            expected=["waiting_approval"],
            now=self.clock.now(),
        )
        if not flipped:
            return  # still running elsewhere: that worker sees the decision when it parks
        coro = self._resume_quietly(approval.workspace_id, approval.run_id)
        if background:
            task = asyncio.create_task(coro)
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        else:
            await coro

    async def _resume_quietly(self, workspace_id: str, run_id: str) -> None:
        try:
            await self.workflows.resume(workspace_id, run_id)
        except ConflictError:
            pass
        except Exception:
            log.exception("resuming run %s failed", run_id, extra={"fields": {"run_id": run_id}})

    # --- bookkeeping -----------------------------------------------------------------

    async def _on_finish(self, run: RunRecord, spec: WorkflowSpec, steps: list[StepRecord]) -> None:
        success = run.status == "completed"
        quality = (run.result or {}).get("quality")
        duration = (run.updated_at - run.created_at).total_seconds()
        ctx_user = run.context.get("user_id")
        decision_id = run.spec.get("decision_id")
        if decision_id:
            await self.router.record_outcome(
                run.workspace_id,
                decision_id,
                success=success,
                quality=quality,
                run_id=run.id,
                duration_s=duration,
                error=run.error,
                user_id=ctx_user,
            )
        else:
            agents = [st.agent for s in spec.stages for st in s.steps if st.agent]
            if agents:
                await self.memory.record(
                    run.workspace_id,
                    goal=spec.goal,
                    agent_sequence=agents,
                    success=success,
                    quality=quality,
                    duration_s=duration,
                    error=run.error,
                    task_type=spec.task_type,
                    user_id=ctx_user,
                    metadata={"run_id": run.id},
                )
        by_name = {s.name: s for s in steps}
        for stage in spec.stages:
            for st in stage.steps:
                q = by_name[st.name].quality
                if st.agent and q is not None:
                    await self.registry.update_performance(
                        run.workspace_id, st.agent, spec.task_type, q
                    )

    async def _success_rate(self, workspace_id: str, task_type: str) -> float | None:
        recent = await self.memory.recent(workspace_id, limit=200, task_type=task_type)
        if not recent:
            return None
        return sum(1 for t in recent if t.success) / len(recent)

    async def _open_run(
        self, kind: Any, goal: str, spec: dict[str, Any], ctx: AgentContext
    ) -> RunRecord:
        now = self.clock.now()
        run = RunRecord(
            id=str(uuid.uuid4()),
            workspace_id=ctx.workspace_id,
            kind=kind,
            status="running",
            goal=goal,
            spec=spec,
            context=ctx.model_dump(mode="json"),
            created_at=now,
            updated_at=now,
        )
        await self.store.create_run(run, [])
        return run

    async def _close_run(
        self,
        run: RunRecord,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> RunRecord:
        await self.store.set_status(
            run.workspace_id,
            run.id,
            "completed" if error is None else "failed",
            now=self.clock.now(),
            result=result,
            error=error,
            release=True,
        )
        return await self.store.get_run(run.workspace_id, run.id)


_instances: weakref.WeakKeyDictionary[Any, Orchestration] = weakref.WeakKeyDictionary()


def orchestration_for(engine: Maestro) -> Orchestration:
    """The engine's orchestration service (built on first use, on the engine's gateway)."""
    found = _instances.get(engine)
    if found is None:
        memory = getattr(engine, "task_memory", None)
        found = Orchestration(
            engine.db,
            engine.clock,
            engine.gateway,
            engine.settings.orchestration,
            memory=memory if isinstance(memory, TaskMemory) else None,
        )
        _instances[engine] = found
    return found
