"""``maestro demo`` end to end on a few simulated days."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from maestro.cli import app
from maestro.demo.report import build_report
from maestro.demo.runner import DemoConfig, run_demo


async def _report(tmp: Path, **kwargs: object) -> dict[str, object]:
    run = await run_demo(DemoConfig(out=tmp, **kwargs))  # type: ignore[arg-type]
    try:
        return await build_report(run)
    finally:
        await run.close()


async def test_short_demo_learns_on_a_stationary_audience(tmp_path: Path) -> None:
    report = await _report(tmp_path, days=8, seed=3, audience="stationary")
    res = report["result"]
    assert isinstance(res, dict)
    assert set(res) >= {
        "config",
        "brands",
        "patterns",
        "engagement",
        "api_calls",
        "cache",
        "diversity",
        "series",
    }
    assert res["config"]["agents"] == 6 and len(res["config"]["strategies"]) == 8
    assert len(res["brands"]) == 5 and len(res["series"]) == 8
    for brand in res["brands"].values():
        # What the studio writes in the last days: once a brand's policy is sure, one strategy.
        assert 1 <= len(brand["learned_top3"]) <= 3 and len(brand["truth_top3"]) == 3
    eng = res["engagement"]
    assert eng["last_days"]["studio_per_post"] > eng["first_days"]["studio_per_post"]
    assert eng["studio"] > eng["random"]
    assert eng["studio_vs_oracle"] <= 1.0
    calls = res["api_calls"]["by_priority"]
    assert calls["P1"]["used"] >= 2 * 30 * 8 and calls["P1"]["deferred"] == 0
    assert calls["P3"]["skipped"] > 0
    assert res["diversity"]["min_population"] >= 0.6
    assert report["timing"]["wall_seconds"] > 0


async def test_same_seed_same_report(tmp_path: Path) -> None:
    a = await _report(tmp_path / "a", days=2, seed=5, audience="switching", brands=2)
    b = await _report(tmp_path / "b", days=2, seed=5, audience="switching", brands=2)
    assert json.dumps(a["result"], sort_keys=True) == json.dumps(b["result"], sort_keys=True)


def test_cli_writes_report_and_plot(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["demo", "--days", "1", "--seed", "2", "--audience", "drifting", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["result"]["config"]["audience"] == "drifting"
    assert (tmp_path / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = CliRunner().invoke(app, ["demo", "--audience", "sideways", "--out", str(tmp_path)])
    assert bad.exit_code != 0
