"""``momentum``: completions this week against last week, and the current streak."""

from __future__ import annotations

from datetime import datetime, timedelta

from maestro.recommend.agents.base import Signal, Snippet, SnippetAgent, plural
from maestro.recommend.state import UserState

__all__ = ["MomentumAgent"]


class MomentumAgent(SnippetAgent):
    id = "momentum"
    version = "1"
    ttl = timedelta(hours=6)
    description = "Completions in the last 7 days against the 7 before, and the daily streak."

    def run(self, state: UserState, now: datetime) -> Snippet:
        week_ago, two_weeks_ago = now - timedelta(days=7), now - timedelta(days=14)
        done = state.completions(since=two_weeks_ago)
        this_week = sum(1 for e in done if e.occurred_at >= week_ago)
        last_week = len(done) - this_week
        days = {state.local(e.occurred_at).date() for e in state.completions()}
        today = state.local(now).date()
        day = today if today in days else today - timedelta(days=1)
        streak = 0
        while day in days:
            streak += 1
            day -= timedelta(days=1)
        trend = "up" if this_week > last_week else "down" if this_week < last_week else "flat"
        signals: dict[str, Signal] = {
            "completions_7d": this_week,
            "completions_prev_7d": last_week,
            "trend": trend,
            "streak_days": streak,
        }
        if this_week == 0 and last_week == 0:
            text = "No task completed in the last two weeks; momentum has to be rebuilt from zero."
        else:
            change = {
                "up": f"up from {last_week}",
                "down": f"down from {last_week}",
                "flat": "the same as the week before",
            }[trend]
            text = f"Completed {plural(this_week, 'task')} in the last 7 days, {change}."
        if streak >= 2:
            text += f" A {streak}-day completion streak is running."
        elif streak == 0 and days:
            text += " Nothing completed yesterday or today yet."
        return Snippet(text, signals)
