"""The orchestration benchmark runs end to end in quick mode and writes its results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maestro.bench.orchestration import run

pytest.importorskip("langgraph", reason="the peer comes with the bench extra (make bench)")


async def test_quick_benchmark_writes_json_and_markdown(tmp_path: Path) -> None:
    result = await run(tmp_path, quick=True)
    cells = {(r["graph"], r["mode"]) for r in result["results"]}
    assert cells == {(g, m) for g in ("chain3", "fanout5") for m in ("memory", "sqlite")}
    assert all(r["maestro_us_per_step"] > 0 for r in result["results"])
    saved = json.loads((tmp_path / "orchestration.json").read_text())
    assert saved["results"] == result["results"]
    assert "| chain3 | 3 | sqlite |" in (tmp_path / "orchestration.md").read_text()
