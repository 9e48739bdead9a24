"""The orchestrator: ``recommend`` a tip from a user's fresh snippets, and take feedback on it.

``recommend`` reads the user's unexpired outputs (current agent versions only),
renders the versioned ``v4-orchestrator`` template, makes one gateway call
(alias ``tip-generator``, P1) and stores the tip with everything that went into
it. With no fresh outputs it reads the raw state and uses the fallback template.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError

from maestro.clock import Clock
from maestro.errors import ConflictError, NotFoundError
from maestro.llm.templates import render
from maestro.llm.types import CompletionRequest, Gateway, Priority
from maestro.recommend.agents import REGISTRY, SnippetAgent, check_registry
from maestro.recommend.outputs import AgentOutput, OutputStore
from maestro.recommend.rewards import infer_reward
from maestro.recommend.settings import RecommendSettings
from maestro.recommend.state import UserState, row_id
from maestro.recommend.store import UserInfo, UserStateRepo
from maestro.store.base import new_id
from maestro.store.db import Database
from maestro.store.tables.recommend import RecUserRow, TipFeedbackRow, TipRow

__all__ = ["ORCHESTRATOR_AGENT", "Feedback", "Recommender", "Tip", "raw_signals"]

ORCHESTRATOR_AGENT = "orchestrator"
"""The agent name the gateway records for tip calls."""

log = logging.getLogger("maestro.recommend")
_TIPS: Table = TipRow.__table__  # type: ignore[assignment]
_INSERT_TIP = insert(_TIPS)


@dataclass(frozen=True)
class Tip:
    """A served tip and, for explainability, what went into it."""

    id: str
    user_id: str
    text: str
    agents: list[str]
    """Agents whose snippets were in the prompt (empty on the fallback path)."""
    template_version: str
    fallback: bool
    model: str
    created_at: datetime
    inputs: list[dict[str, Any]]
    """Each snippet used (agent, version, text, signals, computed/expiry), or the raw signals."""
    prompt: str


@dataclass(frozen=True)
class Feedback:
    id: str
    tip_id: str
    reaction: str
    reward_milli: int
    key: str
    created: bool
    """False when this key had already been recorded (an idempotent re-send)."""
    created_at: datetime


class Recommender:
    """Serves tips for one engine's database through a :class:`~maestro.llm.types.Gateway`."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        gateway: Gateway,
        *,
        settings: RecommendSettings | None = None,
        agents: Sequence[SnippetAgent] = REGISTRY,
    ) -> None:
        self._db = db
        self._clock = clock
        self._gateway = gateway
        self.settings = settings or RecommendSettings()
        self.agents = check_registry(agents)
        self.users = UserStateRepo(db, clock)
        self.outputs = OutputStore(db)

    async def recommend(self, workspace_id: str, user_key: str) -> Tip:
        """A tip for ``user_key``; :class:`NotFoundError` if no such user in the workspace."""
        now = self._clock.now()
        found = await self.outputs.user_and_fresh(
            workspace_id, row_id(workspace_id, "user", user_key), now, self.agents
        )
        if found is None:
            raise NotFoundError(f"no user {user_key!r} in this workspace", field="user_id")
        row, fresh = found
        user = UserInfo(
            id=row["uid"],
            workspace_id=workspace_id,
            key=row["key"],
            timezone=row["timezone"],
            focus_areas=tuple(row["focus_areas"] or ()),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        topic = user.focus_areas[0] if user.focus_areas else "your tasks"
        if fresh:
            rendered = render(
                self.settings.template,
                topic=topic,
                snippets=[{"agent_id": o.agent_id, "text": o.prompt_text} for o in fresh],
            )
            inputs = [_input(o) for o in fresh]
        else:
            since = now - timedelta(days=self.settings.event_window_days)
            signals = raw_signals(await self.users.state(user, since=since), now)
            rendered = render(self.settings.fallback_template, topic=topic, signals=signals)
            inputs = [{"raw_signal": s} for s in signals]
        request = CompletionRequest.of(
            rendered.text,
            model=self.settings.model,
            max_tokens=self.settings.max_tokens,
            temperature=0.7,
            template_version=rendered.template_version,
        )
        result = await self._gateway.complete(
            request,
            workspace=workspace_id,
            agent=ORCHESTRATOR_AGENT,
            purpose="recommend",
            priority=Priority.P1,
        )
        tip = Tip(
            id=new_id(),
            user_id=user.key,
            text=result.text,
            agents=[o.agent_id for o in fresh],
            template_version=rendered.template_version,
            fallback=not fresh,
            model=result.model,
            created_at=now,
            inputs=inputs,
            prompt=rendered.text,
        )
        row_values = {
            "id": tip.id,
            "workspace_id": workspace_id,
            "user_id": user.id,
            "text": tip.text,
            "template_version": tip.template_version,
            "agents": tip.agents,
            "inputs": tip.inputs,
            "prompt": tip.prompt,
            "model": tip.model,
            "fallback": tip.fallback,
            "created_at": now,
        }
        async with self._db.write() as s:
            # A Core INSERT: the ORM unit of work costs more than the write itself here.
            await s.execute(_INSERT_TIP, row_values)
        return tip

    async def tip(self, workspace_id: str, tip_id: str) -> Tip:
        """A tip of this workspace and what went into it; :class:`NotFoundError` otherwise."""
        row, user_key, _ = await self._tip_row(workspace_id, tip_id)
        return Tip(
            id=row.id,
            user_id=user_key,
            text=row.text,
            agents=list(row.agents),
            template_version=row.template_version,
            fallback=row.fallback,
            model=row.model,
            created_at=row.created_at,
            inputs=list(row.inputs),
            prompt=row.prompt,
        )

    async def feedback(
        self, workspace_id: str, tip_id: str, reaction: str, *, key: str | None = None
    ) -> Feedback:
        """Record a reaction to a tip once per ``key`` (default: the reaction itself).

        Raises:
            ValidationError: ``reaction`` is not one of the allowed reactions.
            NotFoundError: no such tip in this workspace.
            ConflictError: ``key`` was already used for a different reaction.
        """
        reward = infer_reward(reaction)
        key = key or reaction
        row, user_key, timezone = await self._tip_row(workspace_id, tip_id)
        now = self._clock.now()
        fid = row_id(workspace_id, "feedback", tip_id, key)
        try:
            async with self._db.write() as s:
                existing = await s.get(TipFeedbackRow, fid)
                if existing is None:
                    s.add(
                        TipFeedbackRow(
                            id=fid,
                            workspace_id=workspace_id,
                            tip_id=tip_id,
                            user_id=row.user_id,
                            key=key,
                            reaction=reaction,
                            reward_milli=reward,
                            created_at=now,
                        )
                    )
        except IntegrityError:
            async with self._db.read() as s:
                existing = await s.get(TipFeedbackRow, fid)
        if existing is not None:
            if existing.reaction != reaction:
                raise ConflictError(
                    f"feedback key {key!r} was already recorded as {existing.reaction!r}",
                    field="key",
                )
            return Feedback(
                fid, tip_id, reaction, existing.reward_milli, key, False, existing.created_at
            )
        log.info(
            "tip feedback",
            extra={
                "fields": {
                    "event": "tip_feedback",
                    "workspace_id": workspace_id,
                    "tip_id": tip_id,
                    "user_id": user_key,
                    "reaction": reaction,
                    "reward_milli": reward,
                    "agents": list(row.agents),
                    "fallback": row.fallback,
                    "template_version": row.template_version,
                    "tip_created_at": row.created_at.isoformat(),
                    "timezone": timezone,
                }
            },
        )
        return Feedback(fid, tip_id, reaction, reward, key, True, now)

    async def _tip_row(self, workspace_id: str, tip_id: str) -> tuple[TipRow, str, str]:
        q = (
            select(TipRow, RecUserRow.key, RecUserRow.timezone)
            .join(RecUserRow, RecUserRow.id == TipRow.user_id)
            .where(TipRow.id == tip_id, TipRow.workspace_id == workspace_id)
        )
        async with self._db.read() as s:
            found = (await s.execute(q)).first()
        if found is None:
            raise NotFoundError(f"no tip {tip_id!r} in this workspace", field="tip_id")
        return found[0], found[1], found[2]


def _input(o: AgentOutput) -> dict[str, Any]:
    return {
        "agent_id": o.agent_id,
        "agent_version": o.agent_version,
        "output_id": o.id,
        "prompt_text": o.prompt_text,
        "signals": o.signals,
        "computed_at": o.computed_at.isoformat(),
        "expires_at": o.expires_at.isoformat(),
    }


def raw_signals(state: UserState, now: datetime) -> list[str]:
    """Plain facts read straight from the state, for the fallback prompt."""
    open_tasks = state.open_tasks()
    overdue = sorted(
        (t for t in open_tasks if t.due_at is not None and t.due_at < now),
        key=lambda t: t.due_at or now,
    )
    week = state.completions(since=now - timedelta(days=7))
    local = state.local(now)
    out = [
        f"Open tasks: {len(open_tasks)}",
        f"Overdue tasks: {len(overdue)}",
        f"Completions in the last 7 days: {len(week)}",
        f"Local time: {local.strftime('%H:%M %A')} ({state.timezone})",
    ]
    if overdue:
        out.append(f'Most overdue task: "{overdue[0].title}"')
    if state.focus_areas:
        out.append("Focus areas: " + ", ".join(state.focus_areas))
    return out
