"""``recent-patterns``: the shape of the last two weeks (best weekday, sessions, idle days)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from maestro.recommend.agents.base import Signal, Snippet, SnippetAgent, plural
from maestro.recommend.state import UserState

__all__ = ["RecentPatternsAgent"]

_DAYS = 14


class RecentPatternsAgent(SnippetAgent):
    id = "recent-patterns"
    version = "1"
    ttl = timedelta(hours=24)
    description = "Best weekday, focus sessions and idle days over the last 14 days."

    def run(self, state: UserState, now: datetime) -> Snippet:
        since = now - timedelta(days=_DAYS)
        recent = [e for e in state.events if e.occurred_at >= since]
        done = [e for e in recent if e.kind == "completion"]
        sessions = [e.duration_min for e in recent if e.kind == "session" and e.duration_min]
        weekdays = Counter(state.local(e.occurred_at).strftime("%A") for e in done)
        active = {state.local(e.occurred_at).date() for e in recent}
        idle = _DAYS - len(active)
        best = weekdays.most_common(1)[0][0] if weekdays else None
        avg_session = round(sum(sessions) / len(sessions)) if sessions else 0
        signals: dict[str, Signal] = {
            "completions_14d": len(done),
            "best_weekday": best,
            "sessions_14d": len(sessions),
            "avg_session_min": avg_session,
            "idle_days_14d": idle,
        }
        if not recent:
            return Snippet("No activity at all in the last 14 days.", signals)
        parts = [f"Over the last 14 days: {plural(len(done), 'completion')}"]
        if best is not None:
            parts[0] += f", most of them on {best}s"
        if sessions:
            parts.append(
                f"{plural(len(sessions), 'focus session')} averaging {avg_session} minutes"
            )
        parts.append(f"{plural(idle, 'day')} without any activity")
        return Snippet("; ".join(parts) + ".", signals)
