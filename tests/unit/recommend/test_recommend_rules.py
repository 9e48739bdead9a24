"""Rewards, staleness, settings, worker cron times and the reward report: plain values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from maestro.errors import ValidationError
from maestro.jobs.worker import cron_times
from maestro.recommend.agents import MomentumAgent
from maestro.recommend.precompute import is_stale
from maestro.recommend.report import FALLBACK, FeedbackRecord, from_log, summarise
from maestro.recommend.rewards import REACTIONS, infer_reward
from maestro.recommend.settings import RecommendSettings

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_rewards_rank_acting_above_liking_above_dismissing() -> None:
    r = {x: infer_reward(x) for x in REACTIONS}
    assert r["done"] > r["liked"] > r["opened"] > r["snoozed"] > r["dismissed"] > r["disliked"]
    assert r["done"] == 1000


def test_unknown_reaction_names_the_value_and_field() -> None:
    with pytest.raises(ValidationError, match="'loved'") as err:
        infer_reward("loved")
    assert err.value.field == "reaction"


def test_stale_means_missing_expired_soon_or_other_version() -> None:
    a = MomentumAgent()
    cutoff = T0 + timedelta(minutes=1)
    assert is_stale(None, a, cutoff)
    assert is_stale((T0, a.version), a, cutoff)
    assert is_stale((cutoff, a.version), a, cutoff)
    assert not is_stale((cutoff + timedelta(seconds=1), a.version), a, cutoff)
    assert is_stale((T0 + timedelta(hours=6), "0"), a, cutoff)


def test_precompute_interval_must_divide_an_hour() -> None:
    with pytest.raises(ValueError, match="dividing 3600"):
        RecommendSettings(precompute_every_s=7 * 60)
    assert RecommendSettings().precompute_every_s == 900


def test_cron_fires_at_each_aligned_tick() -> None:
    assert cron_times(900) == {"minute": {0, 15, 30, 45}, "second": 0}
    assert cron_times(3600) == {"minute": {0}, "second": 0}
    assert cron_times(90) == {"second": {0, 30}}


def test_report_groups_reward_by_agent_local_hour_and_reaction() -> None:
    noon_utc = datetime(2026, 1, 1, 12, tzinfo=UTC)
    records = [
        FeedbackRecord("done", 1000, ("momentum", "time-of-day"), noon_utc, "Asia/Tokyo"),
        FeedbackRecord("dismissed", -300, ("momentum",), noon_utc, "UTC"),
        FeedbackRecord("liked", 700, (), noon_utc, "UTC"),
    ]
    rep = summarise(records)
    by_agent = {g.key: (g.count, g.mean_reward_milli) for g in rep.by_agent}
    assert by_agent == {"momentum": (2, 350.0), "time-of-day": (1, 1000.0), FALLBACK: (1, 700.0)}
    assert {g.key: g.count for g in rep.by_hour} == {"21": 1, "12": 2}
    assert rep.reactions == 3
    assert rep.mean_reward_milli == pytest.approx(1400 / 3)


def test_report_reads_feedback_lines_from_a_json_log(tmp_path: Path) -> None:
    log = tmp_path / "maestro.log"
    line = {
        "event": "tip_feedback",
        "reaction": "done",
        "reward_milli": 1000,
        "agents": ["overdue-task"],
        "tip_created_at": "2026-01-01T08:00:00+00:00",
        "timezone": "UTC",
    }
    log.write_text("not json\n" + json.dumps({"event": "other"}) + "\n" + json.dumps(line) + "\n")
    records = from_log(log)
    assert records == [
        FeedbackRecord("done", 1000, ("overdue-task",), datetime(2026, 1, 1, 8, tzinfo=UTC))
    ]


def test_derived_ids_are_the_uuid5_ids_already_stored() -> None:
    import uuid

    from maestro.recommend.state import _NAMESPACE, output_id, row_id

    for keys in (("ws", "user", "u1"), ("w\u00e9", "event", "u:1", "k/2"), ("", "task", "")):
        assert row_id(*keys) == str(uuid.uuid5(_NAMESPACE, "\x1f".join(keys)))
    assert output_id("abc", "momentum") == str(uuid.uuid5(_NAMESPACE, "abc\x1fmomentum"))
