"""Snippet agents: pure functions of a user's state, tested with plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro.errors import ConfigurationError
from maestro.recommend.agents import (
    REGISTRY,
    FocusAreaAgent,
    MomentumAgent,
    OverdueTaskAgent,
    RecentPatternsAgent,
    TimeOfDayAgent,
    check_registry,
)
from maestro.recommend.state import Event, Task, UserState

NOW = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)  # a Wednesday


def state(**kw: object) -> UserState:
    base: dict[str, object] = {"id": "u", "workspace_id": "w", "key": "u", "timezone": "UTC"}
    base.update(kw)
    return UserState(**base)  # type: ignore[arg-type]


def done(at: datetime, area: str | None = None) -> Event:
    return Event("completion", at, area)


def test_registry_has_the_seed_agents_ids_and_ttls() -> None:
    assert {a.id: a.ttl for a in REGISTRY} == {
        "overdue-task": timedelta(hours=1),
        "momentum": timedelta(hours=6),
        "time-of-day": timedelta(minutes=15),
        "recent-patterns": timedelta(hours=24),
        "focus-area": timedelta(hours=12),
    }
    assert all(a.version for a in REGISTRY)


def test_registry_refuses_duplicate_ids() -> None:
    with pytest.raises(ConfigurationError, match="overdue-task"):
        check_registry([OverdueTaskAgent(), OverdueTaskAgent()])


def test_overdue_counts_only_open_tasks_past_due_oldest_first() -> None:
    s = state(
        tasks=(
            Task("a", "Pay rent", NOW - timedelta(days=5), "open", None),
            Task("b", "Call mum", NOW - timedelta(hours=2), "open", None),
            Task("c", "Done already", NOW - timedelta(days=9), "done", None),
            Task("d", "Later today", NOW + timedelta(hours=3), "open", None),
            Task("e", "Next week", NOW + timedelta(days=6), "open", None),
        )
    )
    out = OverdueTaskAgent().run(s, NOW)
    assert out.signals["overdue_count"] == 2
    assert out.signals["oldest_overdue_days"] == 5
    assert out.signals["due_today_count"] == 1
    assert out.signals["overdue_titles"] == ["Pay rent", "Call mum"]
    assert '"Pay rent"' in out.text and "5 days" in out.text


def test_overdue_says_so_when_nothing_is_overdue() -> None:
    out = OverdueTaskAgent().run(state(), NOW)
    assert out.signals["overdue_count"] == 0
    assert out.text == "No task is overdue."


def test_momentum_compares_weeks_and_counts_the_streak() -> None:
    events = tuple(done(NOW - timedelta(days=d, hours=1)) for d in (0, 1, 2, 3, 9))
    out = MomentumAgent().run(state(events=events), NOW)
    assert out.signals["completions_7d"] == 4
    assert out.signals["completions_prev_7d"] == 1
    assert out.signals["trend"] == "up"
    assert out.signals["streak_days"] == 4
    assert "4-day" in out.text


def test_time_of_day_uses_the_users_zone_and_peak_hour() -> None:
    events = tuple(done(datetime(2026, 3, d, 10, 15, tzinfo=UTC)) for d in (1, 2, 3))
    out = TimeOfDayAgent().run(state(timezone="Europe/Paris", events=events), NOW)
    # 09:30 UTC is 10:30 in Paris; completions at 10:15 UTC are 11:15 in Paris.
    assert out.signals["local_time"] == "10:30"
    assert out.signals["peak_hour"] == 11
    assert out.signals["minutes_to_peak"] == 30
    assert "Europe/Paris" in out.text


def test_time_of_day_without_history_has_no_peak() -> None:
    out = TimeOfDayAgent().run(state(), NOW)
    assert out.signals["peak_hour"] is None
    assert "not enough history" in out.text


def test_recent_patterns_finds_best_weekday_sessions_and_idle_days() -> None:
    tuesdays = [done(NOW - timedelta(days=1, hours=h)) for h in (1, 2, 3)]
    sessions = [Event("session", NOW - timedelta(days=2), duration_min=30.0)]
    out = RecentPatternsAgent().run(state(events=(*tuesdays, *sessions)), NOW)
    assert out.signals["best_weekday"] == "Tuesday"
    assert out.signals["sessions_14d"] == 1
    assert out.signals["avg_session_min"] == 30
    assert out.signals["idle_days_14d"] == 12


def test_focus_area_flags_the_neglected_area() -> None:
    s = state(
        focus_areas=("health", "career"),
        tasks=(
            Task("a", "Run", None, "open", "health"),
            Task("b", "Gym", None, "open", "health"),
            Task("c", "CV", None, "open", "career"),
        ),
        events=(done(NOW - timedelta(days=1), "career"),),
    )
    out = FocusAreaAgent().run(s, NOW)
    assert out.signals["neglected"] == ["health"]
    assert out.signals["on_track"] == ["career"]
    assert "Health has 2 open tasks" in out.text


_task = st.builds(
    Task,
    key=st.text(min_size=1, max_size=5),
    title=st.text(min_size=1, max_size=20),
    due_at=st.none() | st.datetimes(timezones=st.just(UTC)),
    status=st.sampled_from(["open", "done", "dropped"]),
    area=st.none() | st.sampled_from(["health", "career"]),
)
_event = st.builds(
    Event,
    kind=st.sampled_from(["completion", "session"]),
    occurred_at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 3, 4), timezones=st.just(UTC)
    ),
    area=st.none() | st.sampled_from(["health", "career"]),
    duration_min=st.none() | st.floats(1, 600),
)


@settings(max_examples=60, deadline=None)
@given(
    tasks=st.lists(_task, max_size=8),
    events=st.lists(_event, max_size=20),
    tz=st.sampled_from(["UTC", "Asia/Tokyo", "America/New_York"]),
    areas=st.lists(st.sampled_from(["health", "career", "home"]), unique=True, max_size=3),
)
def test_every_agent_answers_any_state_with_a_sentence(
    tasks: list[Task], events: list[Event], tz: str, areas: list[str]
) -> None:
    s = state(
        timezone=tz,
        focus_areas=tuple(areas),
        tasks=tuple(tasks),
        events=tuple(sorted(events, key=lambda e: e.occurred_at)),
    )
    for agent in REGISTRY:
        out = agent.run(s, NOW)
        assert out.text.strip() and out.text.rstrip()[-1] in '.!?"'
        assert agent.run(s, NOW) == out  # pure
