"""``time-of-day``: the user's local time and how close it is to their usual productive hour."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from maestro.recommend.agents.base import Signal, Snippet, SnippetAgent
from maestro.recommend.state import UserState

__all__ = ["TimeOfDayAgent", "part_of_day"]

_MIN_EVIDENCE = 3


def part_of_day(hour: int) -> str:
    if 5 <= hour < 12:
        return "morning"
    if 12 <= hour < 17:
        return "afternoon"
    if 17 <= hour < 22:
        return "evening"
    return "night"


class TimeOfDayAgent(SnippetAgent):
    id = "time-of-day"
    version = "1"
    ttl = timedelta(minutes=15)
    description = "The user's local time and the hour they usually complete tasks."

    def run(self, state: UserState, now: datetime) -> Snippet:
        local = state.local(now)
        hours = Counter(state.local(e.occurred_at).hour for e in state.completions())
        peak = hours.most_common(1)[0][0] if sum(hours.values()) >= _MIN_EVIDENCE else None
        signals: dict[str, Signal] = {
            "local_time": local.strftime("%H:%M"),
            "local_weekday": local.strftime("%A"),
            "part_of_day": part_of_day(local.hour),
            "timezone": state.timezone,
            "peak_hour": peak,
        }
        text = (
            f"It is {local.strftime('%H:%M')} on a {local.strftime('%A')} "
            f"{part_of_day(local.hour)} for this user ({state.timezone})."
        )
        if peak is None:
            text += " There is not enough history yet to know their most productive hour."
        else:
            start = local.replace(hour=peak, minute=0, second=0, microsecond=0)
            if start + timedelta(hours=1) <= local:
                start += timedelta(days=1)
            minutes = max(0, int((start - local).total_seconds() // 60))
            signals["minutes_to_peak"] = minutes
            if minutes == 0:
                text += f" This is their most productive hour ({peak:02d}:00)."
            elif minutes <= 90:
                text += f" Their most productive hour, {peak:02d}:00, starts in {minutes} minutes."
            else:
                text += f" They usually get the most done around {peak:02d}:00."
        return Snippet(text, signals)
