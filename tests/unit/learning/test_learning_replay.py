"""The offline replay of the studio's strategy choice (``maestro.bench.studio_replay``)."""

from __future__ import annotations

from pathlib import Path
from statistics import mean

import pytest

from maestro.bench.studio_replay import (
    DAYS,
    CeilingRow,
    ceiling,
    plot_ceiling,
    recovery,
    replay,
)


def test_replay_is_deterministic_and_scores_against_the_oracle() -> None:
    a = replay("switching", 4)
    assert a == replay("switching", 4)
    assert len(a.daily) == DAYS
    assert all(0.0 < r <= 1.0 for r in a.daily)


def test_the_linear_learner_beats_the_relative_reward_bandit() -> None:
    seeds = (1, 2)
    linear = sum(replay("drifting", s).vs_oracle for s in seeds)
    bandit = sum(replay("drifting", s, "adaptive").vs_oracle for s in seeds)
    assert linear > bandit


def test_recovery_needs_the_level_to_hold() -> None:
    before = [0.9] * 14
    lucky = [*before, 0.4, 0.95, 0.4, 0.4, 0.9, 0.9, 0.9]
    assert recovery(lucky, hold=1) == 1
    assert recovery(lucky, hold=3) == 4
    assert recovery([*before, 0.4, 0.4, 0.4], hold=3) == 3  # never: the days left


def test_an_oracle_told_the_truth_late_loses_only_when_the_audience_moves() -> None:
    assert all(r == 1.0 for r in replay("drifting", 3, lag=0).daily)
    assert all(r == 1.0 for r in replay("stationary", 3, lag=3).daily)
    late = replay("drifting", 3, lag=3).vs_oracle
    assert late < replay("drifting", 3, lag=1).vs_oracle < 1.0
    slower = replay("drifting", 3, lag=3, drift_period_days=(56.0, 168.0)).vs_oracle
    assert late < slower


def test_a_learner_told_the_formula_learns_and_knows_no_switches() -> None:
    told = replay("stationary", 3, "formula")
    assert told == replay("stationary", 3, "formula")
    assert min(told.daily[-7:]) > told.daily[0]
    assert mean(told.daily[-7:]) > 0.9
    with pytest.raises(ValueError, match="drifting and stationary"):
        replay("switching", 3, "formula")


def test_the_ceiling_renders_as_a_table_and_a_plot(tmp_path: Path) -> None:
    rows = [
        CeilingRow("drifting", "14-42 (default)", 0.84, 0.86, 0.88, (0.99, 0.97, 0.94)),
        CeilingRow("switching (day 14)", "-", 0.86, 0.88, None, (0.98, 0.96, 0.95)),
        CeilingRow("stationary", "-", 0.9, 0.93, 0.945, (1.0, 1.0, 1.0)),
    ]
    table = ceiling(rows, range(1, 17)).splitlines()
    assert table[0].startswith("Studio replay (16 seeds")
    assert table[-3] == (
        "| drifting | 14-42 (default) | 84.0% | 86.0% | 88.0% | 99.0% | 97.0% | 94.0% |"
    )
    assert "| switching (day 14) | - | 86.0% | 88.0% | - |" in table[-2]
    png = plot_ceiling(rows, tmp_path / "ceiling.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_homogeneous_population_earns_less_than_the_studio_around_a_switch() -> None:
    studio = replay("switching", 5)
    homogeneous = replay("switching", 5, homogeneous=True)
    assert studio != homogeneous
    assert homogeneous.vs_oracle < studio.vs_oracle
