"""``maestro recommend report``: reward by contributing agent and by hour, from the feedback log.

The log is the ``tip_feedback`` table joined with the tips it rates (the
default), or the JSON lines Maestro logs for each reaction (``event:
tip_feedback``), so a report can be made from shipped logs without the database.
A tip's reward counts once for each agent that contributed to it; fallback tips
are grouped under ``(fallback)``. Hours are the user's local hour when the tip
was served.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from maestro.recommend.state import zone
from maestro.store.db import Database
from maestro.store.tables.recommend import RecUserRow, TipFeedbackRow, TipRow

__all__ = [
    "FALLBACK",
    "FeedbackRecord",
    "Group",
    "RewardReport",
    "from_db",
    "from_log",
    "summarise",
]

FALLBACK = "(fallback)"


@dataclass(frozen=True)
class FeedbackRecord:
    reaction: str
    reward_milli: int
    agents: tuple[str, ...]
    tip_created_at: datetime
    timezone: str = "UTC"


@dataclass(frozen=True)
class Group:
    key: str
    count: int
    mean_reward_milli: float
    total_reward_milli: int


@dataclass(frozen=True)
class RewardReport:
    reactions: int
    mean_reward_milli: float
    by_agent: list[Group]
    by_hour: list[Group]
    by_reaction: list[Group]


def _groups(acc: dict[str, list[int]]) -> list[Group]:
    return [
        Group(k, len(v), sum(v) / len(v), sum(v))
        for k, v in sorted(acc.items(), key=lambda kv: kv[0])
    ]


def summarise(records: Iterable[FeedbackRecord]) -> RewardReport:
    by_agent: dict[str, list[int]] = defaultdict(list)
    by_hour: dict[str, list[int]] = defaultdict(list)
    by_reaction: dict[str, list[int]] = defaultdict(list)
    total: list[int] = []
    for r in records:
        total.append(r.reward_milli)
        for a in r.agents or (FALLBACK,):
            by_agent[a].append(r.reward_milli)
        try:
            tz = zone(r.timezone)
        except ValueError:
            tz = zone("UTC")
        by_hour[f"{r.tip_created_at.astimezone(tz).hour:02d}"].append(r.reward_milli)
        by_reaction[r.reaction].append(r.reward_milli)
    return RewardReport(
        reactions=len(total),
        mean_reward_milli=sum(total) / len(total) if total else 0.0,
        by_agent=_groups(by_agent),
        by_hour=_groups(by_hour),
        by_reaction=_groups(by_reaction),
    )


async def from_db(
    db: Database, *, workspace_id: str | None = None, since: datetime | None = None
) -> list[FeedbackRecord]:
    """Every reaction (of one workspace, since a time) with its tip's agents."""
    q = (
        select(
            TipFeedbackRow.reaction,
            TipFeedbackRow.reward_milli,
            TipRow.agents,
            TipRow.created_at,
            RecUserRow.timezone,
        )
        .join(TipRow, TipRow.id == TipFeedbackRow.tip_id)
        .join(RecUserRow, RecUserRow.id == TipFeedbackRow.user_id)
    )
    if workspace_id is not None:
        q = q.where(TipFeedbackRow.workspace_id == workspace_id)
    if since is not None:
        q = q.where(TipFeedbackRow.created_at >= since)
    async with db.read() as s:
        rows = (await s.execute(q)).all()
    return [FeedbackRecord(r[0], r[1], tuple(r[2]), r[3], r[4]) for r in rows]


def from_log(path: Path) -> list[FeedbackRecord]:
    """Reactions from a file of Maestro's JSON log lines (other lines are ignored)."""
    out: list[FeedbackRecord] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if not isinstance(entry, dict) or entry.get("event") != "tip_feedback":
                continue
            out.append(
                FeedbackRecord(
                    reaction=str(entry["reaction"]),
                    reward_milli=int(entry["reward_milli"]),
                    agents=tuple(entry.get("agents") or ()),
                    tip_created_at=datetime.fromisoformat(entry["tip_created_at"]),
                    timezone=str(entry.get("timezone") or "UTC"),
                )
            )
    return out
