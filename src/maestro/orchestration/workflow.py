"""Durable workflows: stages of steps, run concurrently where independent, resumable.

How a run stays correct across crashes:

- The spec and context are stored with the run, so any process can resume it.
- Each step's result is persisted the moment it completes (one ``UPDATE``); a
  resumed run skips completed steps, so their side effects happen once. A step
  that was in flight when the process died runs again (actions get an
  idempotency key for that case).
- A worker holds a lease on the run (renewed as it goes); another worker may
  take over a run whose lease lapsed, or force it (``maestro runs resume``).
- A failed step is retried at priority P0 ("healing") up to
  ``max_step_attempts`` tries in total; the attempt count is persisted, so a
  crash does not reset it.
- A checkpoint waiting for a human stores a pending approval and parks the run
  (``waiting_approval``, lease released). The decision, from any process,
  resumes it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any, Literal, Protocol

from maestro.clock import Clock
from maestro.errors import ConflictError, ValidationError
from maestro.llm.types import Priority
from maestro.orchestration.actions import ActionCall, ActionRegistry, StepOutcome
from maestro.orchestration.calls import AgentCalls, StepInput
from maestro.orchestration.checkpoints import (
    Evidence,
    auto_approval,
    due_after_stage,
    due_before_execution,
)
from maestro.orchestration.context import AgentContext, bound
from maestro.orchestration.profiles import DEFAULT_EXPERTS, ExpertAgentProfile
from maestro.orchestration.records import TERMINAL, ApprovalRecord, RunRecord, StepRecord
from maestro.orchestration.runs import RunStore
from maestro.orchestration.selfcorrect import SelfCorrector
from maestro.orchestration.settings import OrchestrationSettings
from maestro.orchestration.spec import CheckpointSpec, StageSpec, StepSpec, WorkflowSpec
from maestro.orchestration.webhooks import WebhookNotifier

__all__ = [
    "OutcomeSink",
    "ProfileSource",
    "StaticProfiles",
    "SuccessRateSource",
    "WorkflowEngine",
]

log = logging.getLogger("maestro.orchestration.workflow")

Verdict = Literal["done", "pending", "rejected", "failed"]
OutcomeSink = Callable[[RunRecord, WorkflowSpec, list[StepRecord]], Awaitable[None]]
"""Called once when a run reaches a terminal state (routing feedback, task memory)."""
SuccessRateSource = Callable[[str, str], Awaitable[float | None]]
"""``(workspace_id, task_type) -> success rate`` for auto-approval rules."""


class ProfileSource(Protocol):
    async def agents(self, workspace_id: str) -> list[ExpertAgentProfile]: ...


class StaticProfiles:
    """The same experts for every workspace (the defaults unless given)."""

    def __init__(self, profiles: Sequence[ExpertAgentProfile] = DEFAULT_EXPERTS) -> None:
        self._profiles = list(profiles)

    async def agents(self, workspace_id: str) -> list[ExpertAgentProfile]:
        return self._profiles


class WorkflowEngine:
    """Creates, executes and resumes workflow runs on a :class:`RunStore`."""

    def __init__(
        self,
        store: RunStore,
        clock: Clock,
        settings: OrchestrationSettings,
        *,
        profiles: ProfileSource,
        calls: AgentCalls | None = None,
        actions: ActionRegistry | None = None,
        corrector: SelfCorrector | None = None,
        notifier: WebhookNotifier | None = None,
        on_finish: OutcomeSink | None = None,
        success_rate: SuccessRateSource | None = None,
        owner: str | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.profiles = profiles
        self.calls = calls
        self.actions = actions or ActionRegistry()
        self.corrector = corrector
        self.notifier = notifier
        self.on_finish = on_finish
        self.success_rate = success_rate
        self.owner = owner or f"worker-{uuid.uuid4().hex[:12]}"

    # --- lifecycle ---------------------------------------------------------------

    async def create(
        self, spec: WorkflowSpec, context: AgentContext, *, decision_id: str | None = None
    ) -> RunRecord:
        """Persist a new run (not started); checks every agent and action exists first."""
        run, _ = await self._create(spec, context, decision_id=decision_id, claim=False)
        return run

    async def _create(
        self,
        spec: WorkflowSpec,
        context: AgentContext,
        *,
        decision_id: str | None,
        claim: bool,
    ) -> tuple[RunRecord, list[StepRecord]]:
        await self._check_runnable(spec, context.workspace_id)
        now = self.clock.now()
        run = RunRecord(
            id=str(uuid.uuid4()),
            workspace_id=context.workspace_id,
            kind="workflow",
            status="running",
            goal=spec.goal,
            spec={"workflow": spec.model_dump(mode="json"), "decision_id": decision_id},
            context=context.model_dump(mode="json"),
            created_at=now,
            updated_at=now,
            lease_owner=self.owner if claim else None,
            lease_expires_at=self._lease_end() if claim else None,
        )
        steps = [
            StepRecord(run_id=run.id, stage=stage.name, name=step.name, position=i)
            for i, (stage, step) in enumerate((s, st) for s in spec.stages for st in s.steps)
        ]
        await self.store.create_run(run, steps)
        return run, steps

    async def start(
        self, spec: WorkflowSpec, context: AgentContext, *, decision_id: str | None = None
    ) -> RunRecord:
        """Create the run, already claimed, and execute it until it finishes or waits."""
        async with self.store.pinned():
            run, steps = await self._create(spec, context, decision_id=decision_id, claim=True)
            return await self._execute(run, spec=spec, context=context, steps=steps)

    async def resume(self, workspace_id: str, run_id: str, *, force: bool = False) -> RunRecord:
        """Continue a run from its persisted state; ``force`` takes over a live lease.

        A run that is finished or waiting for a decision is returned unchanged; a
        run held by another live worker is a :class:`ConflictError`.
        """
        run = await self.store.get_run(workspace_id, run_id)
        if run.status != "running":
            return run
        now = self.clock.now()
        claimed = await self.store.claim(
            workspace_id, run_id, self.owner, now=now, until=self._lease_end(), force=force
        )
        if not claimed:
            run = await self.store.get_run(workspace_id, run_id)
            if run.status != "running":
                return run
            raise ConflictError(
                f"run {run_id!r} is being executed by {run.lease_owner} "
                f"(lease until {run.lease_expires_at}); pass force to take it over",
                field="run_id",
            )
        run.lease_owner = self.owner
        return await self._execute(run)

    async def recover(self) -> list[str]:
        """Resume every running run whose worker's lease lapsed (a crashed worker)."""
        resumed: list[str] = []
        for run in await self.store.stale_runs(now=self.clock.now()):
            try:
                await self.resume(run.workspace_id, run.id)
                resumed.append(run.id)
            except ConflictError:
                continue
        return resumed

    # --- execution ---------------------------------------------------------------

    async def _execute(
        self,
        run: RunRecord,
        *,
        spec: WorkflowSpec | None = None,
        context: AgentContext | None = None,
        steps: list[StepRecord] | None = None,
    ) -> RunRecord:
        spec = spec or WorkflowSpec.model_validate(run.spec["workflow"])
        context = context or AgentContext.model_validate(run.context)
        with bound(context):
            async with self.store.pinned():
                return await self._loop(run, spec, context, steps)

    async def _loop(
        self,
        run: RunRecord,
        spec: WorkflowSpec,
        context: AgentContext,
        steps: list[StepRecord] | None,
    ) -> RunRecord:
        log.info("run %s executing", run.id, extra={"fields": {"run_id": run.id}})
        while True:
            if steps is None:
                steps = await self.store.steps(run.workspace_id, run.id)
            state = _RunState(run, spec, context, {s.name: s for s in steps})
            verdict, error = await self._pass(state)
            if verdict == "pending":
                if await self._park(run):
                    return await self.store.get_run(run.workspace_id, run.id)
                steps = None  # every pending approval was decided meanwhile: go again
                continue
            return await self._finish(state, verdict, error)

    async def _pass(self, state: _RunState) -> tuple[Verdict, str | None]:
        for cp in due_before_execution(state.spec.checkpoints):
            decision = await self._checkpoint(state, cp, scope="")
            if decision != "done":
                return decision, f"checkpoint {cp.name!r} rejected the run"
        return await self._schedule(state)

    async def _schedule(self, state: _RunState) -> tuple[Verdict, str | None]:
        spec = state.spec
        limit = spec.max_concurrency or self.settings.max_concurrency
        pending = {s.name: s for s in spec.stages}
        finished: set[str] = set()
        running: dict[asyncio.Task[Verdict], str] = {}
        halt: Verdict | None = None
        while True:
            if halt is None:
                for name, stage in list(pending.items()):
                    if len(running) >= limit:
                        break
                    if all(a in finished for a in stage.after):
                        del pending[name]
                        running[asyncio.create_task(self._run_stage(state, stage))] = name
            if not running:
                break
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                name = running.pop(task)
                verdict = task.result()
                if verdict == "done":
                    finished.add(name)
                elif halt is None or _SEVERITY[verdict] > _SEVERITY[halt]:
                    halt = verdict
        if halt is None:
            return "done", None
        return halt, state.error

    async def _run_stage(self, state: _RunState, stage: StageSpec) -> Verdict:
        inputs = [
            StepInput(st.name, state.text_of(st.name))
            for dep in stage.after
            for st in state.stage(dep).steps
        ]
        for step in stage.steps:
            record = state.steps[step.name]
            if record.status != "completed" and not await self._run_step(
                state, step, record, inputs
            ):
                return "failed"
            inputs.append(StepInput(step.name, state.text_of(step.name)))
        qualities = [q for st in stage.steps if (q := state.steps[st.name].quality) is not None]
        for cp in due_after_stage(state.spec.checkpoints, stage.name, qualities):
            decision = await self._checkpoint(
                state, cp, scope=stage.name, quality=min(qualities) if qualities else None
            )
            if decision != "done":
                if decision == "rejected":
                    state.error = f"checkpoint {cp.name!r} rejected the run after {stage.name!r}"
                return decision
        return "done"

    async def _run_step(
        self, state: _RunState, step: StepSpec, record: StepRecord, inputs: list[StepInput]
    ) -> bool:
        run = state.run
        while record.attempts < self.settings.max_step_attempts:
            priority = Priority.P1 if record.attempts == 0 else Priority.P0
            record.attempts += 1
            try:
                outcome = await self._perform(state, step, inputs, priority, record.attempts)
            except Exception as exc:
                record.error = f"{exc.__class__.__name__}: {exc}"
                last = record.attempts >= self.settings.max_step_attempts
                record.status = "failed" if last else "pending"
                await self.store.save_step(
                    run.workspace_id,
                    run.id,
                    step.name,
                    status=record.status,
                    attempts=record.attempts,
                    error=record.error,
                    now=self.clock.now(),
                )
                log.warning(
                    "step %s failed (attempt %d): %s%s",
                    step.name,
                    record.attempts,
                    record.error,
                    "" if last else "; healing at P0",
                    extra={"fields": {"run_id": run.id, "step": step.name}},
                )
                if last:
                    state.error = f"step {step.name!r} failed {record.attempts} time(s): " + (
                        record.error or ""
                    )
                    return False
                if self.settings.heal_backoff_seconds:
                    await self.clock.sleep(self.settings.heal_backoff_seconds)
                continue
            record.status, record.error = "completed", None
            record.output = {"text": outcome.text, **outcome.data}
            record.quality = outcome.quality
            await self.store.save_step(
                run.workspace_id,
                run.id,
                step.name,
                status="completed",
                attempts=record.attempts,
                output=record.output,
                quality=record.quality,
                now=self.clock.now(),
            )
            log.info(
                "step %s completed",
                step.name,
                extra={"fields": {"run_id": run.id, "step": step.name}},
            )
            await self._renew(run)
            return True
        state.error = f"step {step.name!r} exhausted its {record.attempts} attempt(s)"
        return False

    async def _perform(
        self,
        state: _RunState,
        step: StepSpec,
        inputs: list[StepInput],
        priority: Priority,
        attempt: int,
    ) -> StepOutcome:
        spec, context = state.spec, state.context
        if step.action is not None:
            call = ActionCall(
                run_id=state.run.id,
                step=step.name,
                params=step.params,
                context=context,
                inputs=list(inputs),
                priority=priority,
                attempt=attempt,
            )
            done = await self.actions.get(step.action)(call)
            return done if isinstance(done, StepOutcome) else StepOutcome(text=str(done))
        agent = await state.profile(self.profiles, step.agent or "")
        if self.calls is None:
            raise ValidationError("agent steps need a gateway", field="gateway")
        if step.self_correct:
            if self.corrector is None:
                raise ValidationError("self-correcting steps need a corrector", field="corrector")
            corrected = await self.corrector.correct(
                agent,
                goal=spec.goal,
                context=context,
                config=self.settings.self_correction,
                instruction=step.instruction,
                topic=spec.topic,
                inputs=list(inputs),
                task_type=spec.task_type,
                content_id=f"{state.run.id}:{step.name}",
                priority=priority,
            )
            return StepOutcome(
                text=corrected.output,
                quality=corrected.quality,
                data={"self_correction_metadata": corrected.metadata},
            )
        result = await self.calls.step(
            agent,
            goal=spec.goal,
            instruction=step.instruction,
            context=context,
            inputs=inputs,
            priority=priority,
            topic=spec.topic,
        )
        return StepOutcome(text=result.text, data={"model": result.model})

    # --- checkpoints -----------------------------------------------------------------

    async def _checkpoint(
        self, state: _RunState, cp: CheckpointSpec, *, scope: str, quality: float | None = None
    ) -> Verdict:
        run, context = state.run, state.context
        now = self.clock.now()
        rate = (
            await self.success_rate(run.workspace_id, state.spec.task_type)
            if self.success_rate is not None and cp.auto_approve_if is not None
            else None
        )
        evidence = Evidence(quality=quality, success_rate=rate, user_id=context.user_id)
        rule = auto_approval(cp, evidence, self.settings.trusted_users)
        timeout = cp.timeout_seconds or self.settings.approval_timeout_seconds
        status: Any = "notified" if cp.action == "notify" else "approved" if rule else "pending"
        proposed = ApprovalRecord(
            id=str(uuid.uuid4()),
            workspace_id=run.workspace_id,
            run_id=run.id,
            checkpoint=cp.name,
            scope=scope,
            action=cp.action,
            status=status,
            description=cp.description or f"checkpoint {cp.name}",
            requested_at=now,
            expires_at=now + timedelta(seconds=timeout),
            timeout_outcome=cp.timeout_outcome or self.settings.approval_timeout_outcome,
            data={"goal": state.spec.goal, "quality": quality, "stage": scope or None},
            decided_at=None if status == "pending" else now,
            decided_by=f"auto:{rule}" if status == "approved" else None,
        )
        approval = await self.store.add_approval(proposed)
        if approval.id == proposed.id and approval.status in ("pending", "notified"):
            await self._notify(approval)
        if approval.status == "pending" and approval.expires_at <= now:
            approval = await self.apply_timeout(approval)
        log.info(
            "checkpoint %s: %s",
            cp.name,
            approval.status,
            extra={"fields": {"run_id": run.id, "approval_id": approval.id}},
        )
        if approval.status == "pending":
            return "pending"
        if approval.status == "rejected":
            state.error = f"checkpoint {cp.name!r} was rejected by {approval.decided_by}"
            return "rejected"
        return "done"

    async def apply_timeout(self, approval: ApprovalRecord) -> ApprovalRecord:
        """Decide an expired approval with its timeout outcome (a lost race is fine)."""
        status: Any = "approved" if approval.timeout_outcome == "approve" else "rejected"
        try:
            return await self.store.decide(
                approval.workspace_id,
                approval.id,
                status,
                by="timeout",
                note=f"no decision within the timeout; outcome: {approval.timeout_outcome}",
                now=self.clock.now(),
            )
        except ConflictError:
            return await self.store.get_approval(approval.workspace_id, approval.id)

    async def _notify(self, approval: ApprovalRecord) -> None:
        if self.notifier is None or not self.notifier.enabled:
            return
        event = "approval_requested" if approval.status == "pending" else "checkpoint_reached"
        delivery = await self.notifier.send(
            event,
            {
                "approval_id": approval.id,
                "run_id": approval.run_id,
                "workspace_id": approval.workspace_id,
                "checkpoint": approval.checkpoint,
                "stage": approval.scope or None,
                "description": approval.description,
                "expires_at": approval.expires_at.isoformat(),
                "data": approval.data,
            },
        )
        await self.store.set_notification(approval.workspace_id, approval.id, delivery.describe())

    async def _park(self, run: RunRecord) -> bool:
        """Park the run for a decision; False if no approval is pending any more."""
        await self.store.set_status(
            run.workspace_id,
            run.id,
            "waiting_approval",
            expected=["running"],
            now=self.clock.now(),
            release=True,
        )
        if await self.store.approvals(run.workspace_id, status="pending", run_id=run.id):
            log.info("run %s waits for approval", run.id, extra={"fields": {"run_id": run.id}})
            return True
        # A decision landed between the checkpoint and parking: take the run back.
        flipped = await self.store.set_status(
            run.workspace_id, run.id, "running", expected=["waiting_approval"], now=self.clock.now()
        )
        if not flipped:
            return True
        return not await self.store.claim(
            run.workspace_id, run.id, self.owner, now=self.clock.now(), until=self._lease_end()
        )

    # --- finishing -------------------------------------------------------------------

    async def _finish(self, state: _RunState, verdict: Verdict, error: str | None) -> RunRecord:
        run, spec = state.run, state.spec
        steps = sorted(state.steps.values(), key=lambda s: s.position)
        now = self.clock.now()
        result: dict[str, Any] | None = None
        status: Any = "completed"
        if verdict == "done":
            result = _result(spec, steps)
            ok = await self.store.set_status(
                run.workspace_id,
                run.id,
                "completed",
                expected=["running"],
                now=now,
                result=result,
                release=True,
            )
        else:
            status = "rejected" if verdict == "rejected" else "failed"
            ok = await self.store.set_status(
                run.workspace_id,
                run.id,
                status,
                expected=["running"],
                now=now,
                error=error or verdict,
                release=True,
            )
        if ok:
            final = replace(
                run,
                status="completed" if verdict == "done" else status,
                result=result,
                error=None if verdict == "done" else (error or verdict),
                updated_at=now,
                finished_at=now,
                lease_owner=None,
                lease_expires_at=None,
            )
        else:
            final = await self.store.get_run(run.workspace_id, run.id)
        log.info("run %s %s", run.id, final.status, extra={"fields": {"run_id": run.id}})
        if ok and final.status in TERMINAL and self.on_finish is not None:
            await self.on_finish(final, spec, steps)
        return final

    async def _check_runnable(self, spec: WorkflowSpec, workspace_id: str) -> None:
        wanted = spec.agents()
        if wanted:
            known = {p.agent_id for p in await self.profiles.agents(workspace_id)}
            unknown = sorted(wanted - known)
            if unknown:
                raise ValidationError(
                    f"workflow names unknown agent(s) {unknown}; known: {sorted(known)}",
                    field="stages",
                )
            if self.calls is None:
                raise ValidationError("agent steps need a gateway", field="gateway")
        for stage in spec.stages:
            for step in stage.steps:
                if step.action is not None and step.action not in self.actions:
                    raise ValidationError(
                        f"step {step.name!r} names unregistered action {step.action!r}",
                        field="stages",
                    )

    def _lease_end(self) -> Any:
        return self.clock.now() + timedelta(seconds=self.settings.lease_seconds)

    async def _renew(self, run: RunRecord) -> None:
        if not self.store.durable:
            return
        expires = run.lease_expires_at
        now = self.clock.now()
        half = timedelta(seconds=self.settings.lease_seconds / 2)
        if (expires is None or expires - now < half) and await self.store.claim(
            run.workspace_id, run.id, self.owner, now=now, until=self._lease_end()
        ):
            run.lease_expires_at = self._lease_end()


_SEVERITY: dict[Verdict, int] = {"done": 0, "pending": 1, "rejected": 2, "failed": 3}


class _RunState:
    """One pass over a run: its spec, context and step records."""

    def __init__(
        self,
        run: RunRecord,
        spec: WorkflowSpec,
        context: AgentContext,
        steps: dict[str, StepRecord],
    ) -> None:
        self.run = run
        self.spec = spec
        self.context = context
        self.steps = steps
        self.error: str | None = None
        self._stages = {s.name: s for s in spec.stages}
        self._profiles: dict[str, ExpertAgentProfile] | None = None

    def stage(self, name: str) -> StageSpec:
        return self._stages[name]

    def text_of(self, step: str) -> str:
        output = self.steps[step].output or {}
        return str(output.get("text", ""))

    async def profile(self, source: ProfileSource, agent_id: str) -> ExpertAgentProfile:
        if self._profiles is None:
            self._profiles = {p.agent_id: p for p in await source.agents(self.run.workspace_id)}
        try:
            return self._profiles[agent_id]
        except KeyError:
            raise ValidationError(
                f"agent {agent_id!r} is not in this workspace's registry", field="agent"
            ) from None


def _result(spec: WorkflowSpec, steps: list[StepRecord]) -> dict[str, Any]:
    """Every step's text, and the output of the stages nothing waits for."""
    needed = {a for s in spec.stages for a in s.after}
    last_stages = [s for s in spec.stages if s.name not in needed]
    by_name = {s.name: s for s in steps}
    finals = [by_name[st.name] for s in last_stages for st in s.steps[-1:]]
    qualities = [s.quality for s in steps if s.quality is not None]
    return {
        "output": "\n\n".join(str((s.output or {}).get("text", "")) for s in finals),
        "steps": {s.name: (s.output or {}).get("text") for s in steps},
        "quality": min(qualities) if qualities else None,
        "agent_sequence": [st.agent for s in spec.stages for st in s.steps if st.agent],
    }
