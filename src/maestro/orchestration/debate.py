"""Multi-agent debates (seed 002 ``AgentDebateOrchestrator``).

Each round every expert proposes (round 1) or refines its proposal from the
critiques it received (later rounds); then every expert critiques every other
expert's proposal of that round, scoring it on the debate's aspects (its
"agreement level"). A proposal's confidence is the mean agreement it received.
Consensus over the final round:

- ``majority_vote``: each expert votes for the proposal it rated highest (never
  its own); most votes wins, ties to the higher confidence;
- ``weighted_vote``: the same votes weighted by the voter's expertise;
- ``synthesis``: one more call combines the final proposals; confidence is their
  mean confidence;
- ``moderator``: the moderator expert scores each final proposal and picks the best.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from maestro.errors import ValidationError
from maestro.llm.types import Priority
from maestro.orchestration import prompting as prompts
from maestro.orchestration.calls import AgentCalls
from maestro.orchestration.context import AgentContext
from maestro.orchestration.profiles import ExpertAgentProfile
from maestro.orchestration.settings import ConsensusStrategy

__all__ = ["DEBATE_ASPECTS", "Critique", "DebateResult", "Debater", "Proposal"]

DEBATE_ASPECTS = ("relevance", "clarity", "engagement", "structure")


@dataclass(frozen=True, slots=True)
class Proposal:
    proposal_id: str
    agent_id: str
    agent_name: str
    agent_role: str
    proposal: str
    reasoning: str
    confidence: float
    round_number: int


@dataclass(frozen=True, slots=True)
class Critique:
    critic_id: str
    critic_name: str
    target_proposal_id: str
    target_agent_id: str
    strengths: list[str]
    weaknesses: list[str]
    suggestions: list[str]
    agreement_level: float
    round_number: int


@dataclass(slots=True)
class DebateResult:
    debate_id: str
    problem: str
    strategy: ConsensusStrategy
    decision: str
    reasoning: str
    confidence: float
    proposals: list[Proposal] = field(default_factory=list)
    critiques: list[Critique] = field(default_factory=list)
    votes: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Seed 002's output format, with the whole transcript."""
        proposals = [asdict(p) for p in self.proposals]
        critiques = [asdict(c) for c in self.critiques]
        rounds = sorted({p.round_number for p in self.proposals})
        return {
            "debate_id": self.debate_id,
            "decision": self.decision,
            "reasoning": self.reasoning,
            "confidence": self.confidence,
            "consensus_strategy": self.strategy,
            "proposals": proposals,
            "critiques": critiques,
            "votes": self.votes,
            "transcript": {
                "problem": self.problem,
                "rounds": [
                    {
                        "round": r,
                        "proposals": [p for p in proposals if p["round_number"] == r],
                        "critiques": [c for c in critiques if c["round_number"] == r],
                    }
                    for r in rounds
                ],
            },
        }


class Debater:
    def __init__(self, calls: AgentCalls) -> None:
        self._calls = calls

    async def debate(
        self,
        problem: str,
        agents: Sequence[ExpertAgentProfile],
        *,
        context: AgentContext,
        rounds: int,
        strategy: ConsensusStrategy,
        moderator: ExpertAgentProfile | None = None,
        facts: Sequence[str] = (),
        priority: Priority = Priority.P1,
    ) -> DebateResult:
        if len(agents) < 2:
            raise ValidationError("a debate needs at least two agents", field="agents")
        if strategy == "moderator" and moderator is None:
            raise ValidationError("the moderator strategy needs a moderator", field="moderator")
        result = DebateResult(
            debate_id=str(uuid.uuid4()),
            problem=problem,
            strategy=strategy,
            decision="",
            reasoning="",
            confidence=0.0,
        )
        current: dict[str, Proposal] = {}
        received: dict[str, list[Critique]] = defaultdict(list)
        for r in range(1, rounds + 1):
            drafts = {}
            for agent in agents:
                drafts[agent.agent_id] = await self._propose(
                    agent, problem, r, context, received[agent.agent_id], current, facts, priority
                )
            critiques = await self._critique_round(agents, drafts, r, problem, context, priority)
            received = defaultdict(list)
            for c in critiques:
                received[c.target_agent_id].append(c)
            current = {}
            for agent_id, (text, reasoning) in drafts.items():
                agent = next(a for a in agents if a.agent_id == agent_id)
                got = received[agent_id]
                confidence = sum(c.agreement_level for c in got) / len(got) if got else 0.0
                current[agent_id] = Proposal(
                    proposal_id=f"{result.debate_id}:{r}:{agent_id}",
                    agent_id=agent_id,
                    agent_name=agent.name,
                    agent_role=agent.role,
                    proposal=text,
                    reasoning=reasoning,
                    confidence=round(confidence, 4),
                    round_number=r,
                )
            result.proposals.extend(current.values())
            result.critiques.extend(critiques)
        await self._consensus(result, agents, current, received, context, moderator, priority)
        return result

    async def _propose(
        self,
        agent: ExpertAgentProfile,
        problem: str,
        round_number: int,
        context: AgentContext,
        critiques: list[Critique],
        previous: dict[str, Proposal],
        facts: Sequence[str],
        priority: Priority,
    ) -> tuple[str, str]:
        own = previous.get(agent.agent_id)
        if own is None:
            answer = await self._calls.render_and_call(
                prompts.DEBATE_PROPOSE,
                context,
                agent=agent,
                purpose="debate_propose",
                priority=priority,
                problem=problem,
                round=round_number,
                facts=list(facts),
            )
            return answer.text, f"{agent.name}: {agent.description or agent.role} perspective"
        issues = [w for c in critiques for w in (*c.weaknesses, *c.suggestions)]
        answer = await self._calls.revise(
            agent,
            own.proposal,
            issues=list(dict.fromkeys(issues)),
            topic=problem,
            context=context,
            priority=priority,
            purpose="debate_refine",
        )
        return answer.text, f"refined after {len(critiques)} critique(s)"

    async def _critique_round(
        self,
        agents: Sequence[ExpertAgentProfile],
        drafts: dict[str, tuple[str, str]],
        round_number: int,
        problem: str,
        context: AgentContext,
        priority: Priority,
    ) -> list[Critique]:
        out: list[Critique] = []
        for critic in agents:
            for target_id, (text, _) in drafts.items():
                if target_id == critic.agent_id:
                    continue
                verdict = await self._calls.critique(
                    text,
                    aspects=DEBATE_ASPECTS,
                    topic=problem,
                    context=context,
                    critic=critic,
                    priority=priority,
                    purpose="debate_critique",
                )
                strengths = [
                    f"strong {aspect} ({score:.2f})"
                    for aspect, score in verdict.scores.items()
                    if score >= 0.7
                ]
                out.append(
                    Critique(
                        critic_id=critic.agent_id,
                        critic_name=critic.name,
                        target_proposal_id=f"{round_number}:{target_id}",
                        target_agent_id=target_id,
                        strengths=strengths,
                        weaknesses=verdict.issues,
                        suggestions=verdict.suggestions,
                        agreement_level=round(verdict.quality, 4),
                        round_number=round_number,
                    )
                )
        return out

    async def _consensus(
        self,
        result: DebateResult,
        agents: Sequence[ExpertAgentProfile],
        final: dict[str, Proposal],
        received: dict[str, list[Critique]],
        context: AgentContext,
        moderator: ExpertAgentProfile | None,
        priority: Priority,
    ) -> None:
        strategy = result.strategy
        if strategy in ("majority_vote", "weighted_vote"):
            weights = {
                a.agent_id: (a.expertise if strategy == "weighted_vote" else 1.0) for a in agents
            }
            votes: dict[str, float] = defaultdict(float)
            for critic in agents:
                given = [
                    c for cs in received.values() for c in cs if c.critic_id == critic.agent_id
                ]
                if given:
                    choice = max(given, key=lambda c: (c.agreement_level, c.target_agent_id))
                    votes[choice.target_agent_id] += weights[critic.agent_id]
            winner = max(final.values(), key=lambda p: (votes.get(p.agent_id, 0.0), p.confidence))
            total = sum(votes.values()) or 1.0
            result.votes = {k: round(v, 4) for k, v in votes.items()}
            result.decision = winner.proposal
            result.confidence = round(votes.get(winner.agent_id, 0.0) / total, 4)
            result.reasoning = (
                f"{winner.agent_name}'s proposal won {result.votes.get(winner.agent_id, 0)} of "
                f"{round(total, 4)} {'expertise-weighted ' if strategy == 'weighted_vote' else ''}"
                f"vote(s); mean agreement {winner.confidence:.2f}"
            )
        elif strategy == "moderator":
            assert moderator is not None
            scored = []
            for p in final.values():
                verdict = await self._calls.critique(
                    p.proposal,
                    aspects=DEBATE_ASPECTS,
                    topic=result.problem,
                    context=context,
                    critic=moderator,
                    priority=priority,
                    purpose="debate_moderate",
                )
                scored.append((verdict.quality, p))
            quality, winner = max(scored, key=lambda t: (t[0], t[1].agent_id))
            result.votes = {p.agent_id: round(q, 4) for q, p in scored}
            result.decision = winner.proposal
            result.confidence = round(quality, 4)
            result.reasoning = (
                f"moderator {moderator.name} scored {winner.agent_name}'s proposal highest "
                f"({quality:.2f})"
            )
        else:
            answer = await self._calls.render_and_call(
                prompts.DEBATE_SYNTHESIS,
                context,
                agent=moderator,
                purpose="debate_synthesis",
                priority=priority,
                problem=result.problem,
                proposals=list(final.values()),
            )
            result.decision = answer.text
            result.confidence = round(sum(p.confidence for p in final.values()) / len(final), 4)
            result.reasoning = "This solution synthesizes insights from:\n" + "\n".join(
                f"- {p.agent_name}: {p.agent_role.replace('_', ' ')} expertise"
                for p in final.values()
            )
