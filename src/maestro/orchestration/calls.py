"""Every model call orchestration makes, through the gateway, with a versioned prompt.

One small class so that workflows, self-correction, debates and the planner
share how prompts are rendered, which priority and purpose are recorded, and
how structured answers (critiques) are parsed defensively.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from maestro.errors import ProviderError
from maestro.llm.types import CompletionRequest, CompletionResult, Gateway, Message, Priority
from maestro.orchestration import prompting as prompts
from maestro.orchestration.context import AgentContext
from maestro.orchestration.profiles import ExpertAgentProfile

__all__ = ["AgentCalls", "StepInput", "Verdict"]

PLANNER_AGENT = "planner"
CRITIC_AGENT = "critic"


@dataclass(frozen=True, slots=True)
class StepInput:
    """An earlier step's output handed to a later step."""

    step: str
    text: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """A critique: scores per aspect, overall quality, and what to fix."""

    scores: dict[str, float]
    quality: float
    issues: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)


class AgentCalls:
    """Renders the prompts of orchestration and sends them to the gateway."""

    def __init__(self, gateway: Gateway, *, model: str = "auto") -> None:
        self.gateway = gateway
        self.model = model

    async def step(
        self,
        agent: ExpertAgentProfile,
        *,
        goal: str,
        instruction: str,
        context: AgentContext,
        inputs: Sequence[StepInput] = (),
        priority: Priority = Priority.P1,
        topic: str | None = None,
        purpose: str = "workflow_step",
    ) -> CompletionResult:
        """One agent doing one step of a goal, seeing earlier steps' outputs."""
        rendered = prompts.render(
            prompts.AGENT_STEP,
            goal=goal,
            instruction=instruction or goal,
            agent=agent,
            topic=topic or goal,
            brand_voice=_voice(context),
            audience=", ".join(context.target_icps),
            inputs=list(inputs),
        )
        return await self._call(
            rendered.text,
            rendered.template_version,
            context,
            agent=agent,
            purpose=purpose,
            priority=priority,
        )

    async def critique(
        self,
        content: str,
        *,
        aspects: Sequence[str],
        topic: str,
        context: AgentContext,
        critic: ExpertAgentProfile | None = None,
        priority: Priority = Priority.P1,
        purpose: str = "critique",
    ) -> Verdict:
        """Scores of ``content`` on ``aspects``; an unparseable answer is a provider error."""
        rendered = prompts.render(
            prompts.CRITIQUE,
            content=content,
            aspects=list(aspects),
            topic=topic,
            brand_voice=_voice(context),
        )
        result = await self._call(
            rendered.text,
            rendered.template_version,
            context,
            agent=critic,
            agent_name=CRITIC_AGENT,
            purpose=purpose,
            priority=priority,
            temperature=0.0,
        )
        return parse_verdict(result.text, aspects)

    async def revise(
        self,
        agent: ExpertAgentProfile,
        content: str,
        *,
        issues: Sequence[str],
        topic: str,
        context: AgentContext,
        priority: Priority = Priority.P1,
        purpose: str = "revision",
    ) -> CompletionResult:
        rendered = prompts.render(
            prompts.REVISE,
            content=content,
            issues=list(issues) or ["raise the overall quality"],
            topic=topic,
            brand_voice=_voice(context),
        )
        return await self._call(
            rendered.text,
            rendered.template_version,
            context,
            agent=agent,
            purpose=purpose,
            priority=priority,
        )

    async def plan(
        self,
        goal: str,
        *,
        task_type: str,
        agents: Sequence[ExpertAgentProfile],
        max_agents: int,
        context: AgentContext,
        priority: Priority = Priority.P1,
    ) -> CompletionResult:
        listed = [
            {
                "agent_id": a.agent_id,
                "description": a.description or a.name,
                "skills": ", ".join(s.skill for s in a.skills),
            }
            for a in agents
        ]
        rendered = prompts.render(
            prompts.PLANNER, goal=goal, task_type=task_type, agents=listed, max_agents=max_agents
        )
        return await self._call(
            rendered.text,
            rendered.template_version,
            context,
            agent=None,
            agent_name=PLANNER_AGENT,
            purpose="plan",
            priority=priority,
            temperature=0.0,
        )

    async def render_and_call(
        self,
        template: str,
        context: AgentContext,
        *,
        agent: ExpertAgentProfile | None,
        purpose: str,
        priority: Priority = Priority.P1,
        **variables: Any,
    ) -> CompletionResult:
        rendered = prompts.render(template, agent=agent, **variables)
        return await self._call(
            rendered.text,
            rendered.template_version,
            context,
            agent=agent,
            purpose=purpose,
            priority=priority,
        )

    async def _call(
        self,
        prompt: str,
        template_version: str,
        context: AgentContext,
        *,
        agent: ExpertAgentProfile | None,
        purpose: str,
        priority: Priority,
        agent_name: str | None = None,
        temperature: float | None = None,
    ) -> CompletionResult:
        messages: list[Message] = []
        if agent is not None:
            messages.append(Message(role="system", content=agent.system_prompt))
        messages.append(Message(role="user", content=prompt))
        request = CompletionRequest(
            messages=tuple(messages),
            model=self.model,
            temperature=temperature if temperature is not None else _temp(agent),
            template_version=template_version,
            metadata={"correlation_id": context.correlation_id},
        )
        return await self.gateway.complete(
            request,
            workspace=context.workspace_id,
            agent=agent.agent_id if agent is not None else (agent_name or "orchestrator"),
            purpose=purpose,
            priority=priority,
        )


def _temp(agent: ExpertAgentProfile | None) -> float:
    return agent.temperature if agent is not None else 0.0


def _voice(context: AgentContext) -> str:
    return ", ".join(f"{v}" for v in context.brand_voice.values())


def parse_verdict(text: str, aspects: Sequence[str]) -> Verdict:
    """A critique answer as a :class:`Verdict`; scores are clamped to [0, 1]."""
    data = _first_object(text)
    if data is None:
        raise ProviderError(f"critic answered without a JSON object: {text[:200]!r}")
    raw_scores = data.get("scores") if isinstance(data.get("scores"), dict) else {}
    scores: dict[str, float] = {}
    for key, value in (raw_scores or {}).items():
        if isinstance(value, int | float):
            scores[str(key)] = _clamp(float(value))
    quality: float | None = None
    for key in ("overall", "quality", "score"):
        if isinstance(data.get(key), int | float):
            quality = _clamp(float(data[key]))
            break
    if quality is None:
        wanted = [scores[a] for a in aspects if a in scores] or list(scores.values())
        if not wanted:
            raise ProviderError(f"critic answered without scores: {text[:200]!r}")
        quality = sum(wanted) / len(wanted)
    return Verdict(
        scores=scores,
        quality=quality,
        issues=[str(i) for i in data.get("issues", []) if isinstance(i, str)],
        suggestions=[str(s) for s in data.get("suggestions", []) if isinstance(s, str)],
    )


def _first_object(text: str) -> dict[str, Any] | None:
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch != "{":
            continue
        try:
            value, _ = decoder.raw_decode(text[i:])
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _clamp(v: float) -> float:
    return min(1.0, max(0.0, v))
