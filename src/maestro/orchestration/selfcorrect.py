"""Self-correction (seed 003): generate, critique on named aspects, revise, repeat.

The loop stops at the first of: a draft reaches ``min_quality_score`` (0.8),
``max_iterations`` drafts were evaluated (3), or a revision improved quality by
less than ``improvement_threshold`` (0.1). The best draft is returned (a late
revision can score lower than an earlier one). Drafts below the threshold are
stored: their critique in the critique store and the attempt, as a failed
task, in task memory, so routing and best-agent selection learn from them.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from maestro.llm.types import Priority
from maestro.memory.critiques import CritiqueStore
from maestro.memory.tasks import TaskMemory
from maestro.orchestration.calls import AgentCalls, StepInput, Verdict
from maestro.orchestration.context import AgentContext
from maestro.orchestration.profiles import ExpertAgentProfile
from maestro.orchestration.settings import SelfCorrectionConfig

__all__ = ["Attempt", "SelfCorrectionResult", "SelfCorrector"]

log = logging.getLogger("maestro.orchestration.selfcorrect")


@dataclass(frozen=True, slots=True)
class Attempt:
    iteration: int
    content: str
    quality: float
    scores: dict[str, float]
    issues: list[str]


@dataclass(frozen=True, slots=True)
class SelfCorrectionResult:
    output: str
    quality: float
    threshold_met: bool
    stop_reason: str
    """``threshold_met``, ``max_iterations`` or ``no_improvement``."""
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def metadata(self) -> dict[str, Any]:
        """Seed 003's ``self_correction_metadata`` (plus the stop reason)."""
        return {
            "iterations": len(self.attempts),
            "final_quality_score": self.quality,
            "threshold_met": self.threshold_met,
            "attempts": len(self.attempts),
            "stop_reason": self.stop_reason,
        }

    def as_dict(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "quality": self.quality,
            "self_correction_metadata": self.metadata,
            "attempts": [asdict(a) for a in self.attempts],
        }


class SelfCorrector:
    def __init__(
        self,
        calls: AgentCalls,
        *,
        memory: TaskMemory | None = None,
        critiques: CritiqueStore | None = None,
    ) -> None:
        self._calls = calls
        self._memory = memory
        self._critiques = critiques

    async def correct(
        self,
        agent: ExpertAgentProfile,
        *,
        goal: str,
        context: AgentContext,
        config: SelfCorrectionConfig,
        instruction: str = "",
        topic: str | None = None,
        inputs: list[StepInput] | None = None,
        task_type: str = "general",
        content_id: str | None = None,
        priority: Priority = Priority.P1,
    ) -> SelfCorrectionResult:
        """Run the loop for ``agent`` on ``goal``; ``content_id`` names stored critiques."""
        threshold = context.quality_thresholds.get("content_quality", config.min_quality_score)
        subject = topic or goal
        draft = await self._calls.step(
            agent,
            goal=goal,
            instruction=instruction,
            context=context,
            inputs=inputs or [],
            topic=subject,
            priority=priority,
            purpose="self_correct_generate",
        )
        content = draft.text
        attempts: list[Attempt] = []
        stop = "max_iterations"
        for iteration in range(1, config.max_iterations + 1):
            verdict = await self._calls.critique(
                content,
                aspects=config.critique_aspects,
                topic=subject,
                context=context,
                priority=priority,
            )
            attempts.append(_attempt(iteration, content, verdict))
            met = verdict.quality >= threshold
            if not met and config.store_failures:
                await self._store_failure(
                    agent, goal, context, task_type, attempts[-1], content_id, threshold
                )
            log.info(
                "self-correction draft %d of %s scored %.2f (threshold %.2f)",
                iteration,
                agent.agent_id,
                verdict.quality,
                threshold,
                extra={"fields": {"agent": agent.agent_id, "quality": verdict.quality}},
            )
            if met:
                stop = "threshold_met"
                break
            if iteration > 1 and (
                verdict.quality - attempts[-2].quality < config.improvement_threshold
            ):
                stop = "no_improvement"
                break
            if iteration == config.max_iterations:
                break
            revised = await self._calls.revise(
                agent,
                content,
                issues=verdict.issues + verdict.suggestions,
                topic=subject,
                context=context,
                priority=priority,
                purpose="self_correct_revise",
            )
            content = revised.text
        best = max(attempts, key=lambda a: (a.quality, -a.iteration))
        return SelfCorrectionResult(
            output=best.content,
            quality=best.quality,
            threshold_met=best.quality >= threshold,
            stop_reason=stop,
            attempts=attempts,
        )

    async def _store_failure(
        self,
        agent: ExpertAgentProfile,
        goal: str,
        context: AgentContext,
        task_type: str,
        attempt: Attempt,
        content_id: str | None,
        threshold: float,
    ) -> None:
        reason = f"quality {attempt.quality:.2f} below {threshold:.2f}: " + "; ".join(
            attempt.issues[:5]
        )
        if self._critiques is not None:
            await self._critiques.record(
                context.workspace_id,
                f"{content_id or context.correlation_id}:{attempt.iteration}"[:100],
                critique=reason,
                issues=attempt.issues,
                scores=attempt.scores,
                quality=attempt.quality,
                critic="self_correction",
            )
        if self._memory is not None:
            await self._memory.record(
                context.workspace_id,
                goal=goal,
                agent_sequence=[agent.agent_id],
                success=False,
                quality=attempt.quality,
                error=reason[:1000],
                task_type=task_type,
                user_id=context.user_id,
                metadata={
                    "kind": "self_correction_attempt",
                    "iteration": attempt.iteration,
                    "correlation_id": context.correlation_id,
                    "content": attempt.content[:2000],
                },
            )


def _attempt(iteration: int, content: str, verdict: Verdict) -> Attempt:
    return Attempt(
        iteration=iteration,
        content=content,
        quality=round(verdict.quality, 4),
        scores=verdict.scores,
        issues=verdict.issues,
    )
