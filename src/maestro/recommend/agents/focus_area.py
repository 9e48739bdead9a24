"""``focus-area``: the user's chosen focus areas, which are on track and which are neglected."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from maestro.recommend.agents.base import Signal, Snippet, SnippetAgent, plural
from maestro.recommend.state import UserState

__all__ = ["FocusAreaAgent"]

_DAYS = 14


class FocusAreaAgent(SnippetAgent):
    id = "focus-area"
    version = "1"
    ttl = timedelta(hours=12)
    description = "Open tasks and recent completions per focus area; the most neglected area."

    def run(self, state: UserState, now: datetime) -> Snippet:
        areas = list(state.focus_areas)
        open_by = Counter(t.area for t in state.open_tasks() if t.area)
        done_by = Counter(
            e.area for e in state.completions(since=now - timedelta(days=_DAYS)) if e.area
        )
        neglected = sorted(
            (a for a in areas if open_by[a] and not done_by[a]), key=lambda a: -open_by[a]
        )
        on_track = [a for a in areas if done_by[a]]
        signals: dict[str, Signal] = {
            "focus_areas": areas,
            "neglected": neglected,
            "on_track": on_track,
            "open_in_focus": sum(open_by[a] for a in areas),
            "done_in_focus_14d": sum(done_by[a] for a in areas),
        }
        if not areas:
            busiest = open_by.most_common(1)
            text = "The user has not chosen focus areas."
            if busiest:
                area, n = busiest[0]
                text += f" Most open tasks are in {area} ({n})."
            return Snippet(text, signals)
        text = "Focus areas: " + ", ".join(areas) + "."
        if neglected:
            a = neglected[0]
            text += (
                f" {a.capitalize()} has {plural(open_by[a], 'open task')} "
                f"and nothing completed in {_DAYS} days."
            )
        for a in on_track[:2]:
            text += f" {a.capitalize()} is on track ({done_by[a]} done recently)."
        if not neglected and not on_track:
            text += " No open tasks or recent completions in them yet."
        return Snippet(text, signals)
