"""``overdue-task``: open tasks past their due date, and what is due today."""

from __future__ import annotations

from datetime import datetime, timedelta

from maestro.recommend.agents.base import Signal, Snippet, SnippetAgent, plural
from maestro.recommend.state import UserState

__all__ = ["OverdueTaskAgent"]

_MAX_TITLES = 3


class OverdueTaskAgent(SnippetAgent):
    id = "overdue-task"
    version = "1"
    ttl = timedelta(hours=1)
    description = "Open tasks past their due date (oldest first) and tasks due later today."

    def run(self, state: UserState, now: datetime) -> Snippet:
        dated = sorted((t.due_at, t.title) for t in state.open_tasks() if t.due_at is not None)
        overdue = [(due, title) for due, title in dated if due < now]
        end_of_day = state.local(now).replace(hour=23, minute=59, second=59, microsecond=0)
        due_today = [title for due, title in dated if now <= due <= end_of_day]
        titles = [title for _, title in overdue[:_MAX_TITLES]]
        oldest_days = (now - overdue[0][0]).days if overdue else 0
        signals: dict[str, Signal] = {
            "overdue_count": len(overdue),
            "oldest_overdue_days": oldest_days,
            "due_today_count": len(due_today),
            "overdue_titles": titles,
        }
        if overdue:
            age = "less than a day" if oldest_days == 0 else plural(oldest_days, "day")
            text = (
                f"{plural(len(overdue), 'task is', 'tasks are')} overdue; the oldest, "
                f'"{titles[0]}", by {age}.'
            )
            if len(titles) > 1:
                text += " Also overdue: " + ", ".join(f'"{t}"' for t in titles[1:]) + "."
        else:
            text = "No task is overdue."
        if due_today:
            text += f" {plural(len(due_today), 'more task is', 'more tasks are')} due today."
        return Snippet(text, signals)
