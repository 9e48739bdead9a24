"""Engagement and diversity over time as a PNG (matplotlib, Agg backend, no display)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["plot_report"]


def plot_report(report: dict[str, Any], path: Path) -> Path:
    """Two panels: expected engagement per post (studio, random, oracle) and diversity."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = report["result"]
    series = res["series"]
    days = [s["day"] for s in series]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, height_ratios=(3, 2))
    top.plot(days, [s["oracle"] for s in series], label="oracle (knows the truth)", color="#2a9d8f")
    top.plot(days, [s["studio"] for s in series], label="Maestro studio", color="#e76f51", lw=2)
    top.plot(days, [s["random"] for s in series], label="random strategy", color="#8d99ae", ls="--")
    top.set_ylabel("expected engagement per post")
    cfg = res["config"]
    top.set_title(
        f"{len(cfg['brands'])} brands, {cfg['agents']} agents, "
        f"{len(cfg['strategies'])} strategies, {cfg['audience']} audience, seed {cfg['seed']}"
    )
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    pop = [(s["day"], s["diversity"]) for s in series if s["diversity"] is not None]
    beh = [
        (s["day"], s["behaviour_diversity"]) for s in series if s["behaviour_diversity"] is not None
    ]
    if pop:
        bottom.plot(
            *zip(*pop, strict=True), label="population diversity (primaries)", color="#264653"
        )
    if beh:
        bottom.plot(
            *zip(*beh, strict=True),
            label="agents on different strategies (per brand)",
            color="#f4a261",
        )
    bottom.axhline(0.6, color="#999999", ls=":", label="target 0.6")
    bottom.set_ylim(0, 1.05)
    bottom.set_xlabel("simulated day")
    bottom.set_ylabel("diversity")
    bottom.legend(loc="center right", fontsize=8)
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
