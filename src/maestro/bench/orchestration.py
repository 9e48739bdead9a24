"""Benchmark: orchestration overhead per step, Maestro against LangGraph on the same graphs.

Two graphs, run many times each in one process:

- ``chain3``: three steps in sequence (a -> b -> c);
- ``fanout5``: a root step, five steps in parallel after it, and a join step
  after all five (7 steps).

Each step is a no-op coroutine returning a short string on both sides, so the
measured time is the engine's own work per step: the model is the offline
model's stand-in with zero latency and contributes nothing (that is what
"excluding model time" means here). Two modes:

- ``memory``: no persistence (Maestro's :class:`MemoryRunStore`; LangGraph
  compiled without a checkpointer);
- ``sqlite``: state persisted to a SQLite file after every step (Maestro's
  :class:`SqlRunStore`, the same code path as production; LangGraph's
  ``AsyncSqliteSaver`` from langgraph-checkpoint-sqlite).

Reported: microseconds per step (wall time / (runs x steps)), the median over
batches that alternate between the two engines (so both see the same machine
load), and the ratio LangGraph / Maestro (above 1: Maestro is faster).
"""

from __future__ import annotations

import asyncio
import json
import operator
import platform
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypedDict

from maestro.clock import SystemClock
from maestro.orchestration.actions import ActionCall, ActionRegistry
from maestro.orchestration.context import AgentContext
from maestro.orchestration.runs import RunStore
from maestro.orchestration.runs_memory import MemoryRunStore
from maestro.orchestration.runs_sql import SqlRunStore
from maestro.orchestration.settings import OrchestrationSettings
from maestro.orchestration.spec import StageSpec, StepSpec, WorkflowSpec
from maestro.orchestration.workflow import StaticProfiles, WorkflowEngine
from maestro.store.db import Database
from maestro.store.tenancy import TenancyRepo

__all__ = ["GRAPHS", "run"]

GRAPHS: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "chain3": [("a", ()), ("b", ("a",)), ("c", ("b",))],
    "fanout5": [
        ("root", ()),
        *[(f"f{i}", ("root",)) for i in range(5)],
        ("join", tuple(f"f{i}" for i in range(5))),
    ],
}
"""Graph name -> (node, nodes it waits for), in topological order."""


def _spec(graph: str) -> WorkflowSpec:
    return WorkflowSpec(
        goal=f"bench {graph}",
        stages=tuple(
            StageSpec(name=n, steps=(StepSpec(name=n, action="noop"),), after=deps)
            for n, deps in GRAPHS[graph]
        ),
    )


async def _noop(call: ActionCall) -> str:
    return call.step


async def _maestro_runner(store: RunStore, workspace_id: str) -> Callable[[str], Awaitable[None]]:
    actions = ActionRegistry()
    actions.register("noop", _noop)
    engine = WorkflowEngine(
        store,
        SystemClock(),
        OrchestrationSettings(),
        profiles=StaticProfiles(),
        actions=actions,
    )
    specs = {g: _spec(g) for g in GRAPHS}
    context = AgentContext(workspace_id=workspace_id)

    async def once(graph: str) -> None:
        run = await engine.start(specs[graph], context)
        if run.status != "completed":
            raise RuntimeError(f"maestro run ended {run.status}: {run.error}")

    return once


class _State(TypedDict):
    outputs: Annotated[list[str], operator.add]


def _langgraph(graph: str, checkpointer: Any = None) -> Any:
    from langgraph.graph import END, START, StateGraph

    builder: Any = StateGraph(_State)
    nodes = GRAPHS[graph]
    waited = {d for _, deps in nodes for d in deps}
    for name, _deps in nodes:

        async def step(state: _State, _name: str = name) -> dict[str, list[str]]:
            return {"outputs": [_name]}

        builder.add_node(name, step)
    for name, deps in nodes:
        if not deps:
            builder.add_edge(START, name)
        elif len(deps) == 1:
            builder.add_edge(deps[0], name)
        else:
            builder.add_edge(list(deps), name)
        if name not in waited:
            builder.add_edge(name, END)
    return builder.compile(checkpointer=checkpointer)


async def _time(fn: Callable[[str], Awaitable[None]], graph: str, runs: int) -> float:
    """Microseconds per step over ``runs`` sequential runs of ``graph``."""
    started = time.perf_counter()
    for _ in range(runs):
        await fn(graph)
    elapsed = time.perf_counter() - started
    return elapsed / (runs * len(GRAPHS[graph])) * 1e6


async def _duel(
    mine: Callable[[str], Awaitable[None]],
    theirs: Callable[[str], Awaitable[None]],
    graph: str,
    *,
    rounds: int,
    runs: int,
    warmup: int,
) -> tuple[float, float]:
    """Medians over ``rounds`` alternating batches, so both sides see the same machine load."""
    for _ in range(warmup):
        await mine(graph)
        await theirs(graph)
    ours: list[float] = []
    peer: list[float] = []
    for _ in range(rounds):
        ours.append(await _time(mine, graph, runs))
        peer.append(await _time(theirs, graph, runs))
    return statistics.median(ours), statistics.median(peer)


async def run(out: Path, quick: bool = False) -> dict[str, Any]:
    """Measure both engines in both modes on both graphs; write JSON and Markdown."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    rounds, runs, warmup = (3, 5, 2) if quick else (15, 30, 20)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'maestro.db'}")
        await db.upgrade()
        ws = (await TenancyRepo(db, SystemClock()).create_workspace("bench")).id
        maestro_mem = await _maestro_runner(MemoryRunStore(), ws)
        maestro_sql = await _maestro_runner(SqlRunStore(db), ws)
        async with AsyncSqliteSaver.from_conn_string(str(Path(tmp) / "langgraph.db")) as saver:
            counter = iter(range(10**9))
            for graph in GRAPHS:
                plain = _langgraph(graph)
                saved = _langgraph(graph, saver)

                async def lg_mem(_: str, g: Any = plain) -> None:
                    await g.ainvoke({"outputs": []})

                async def lg_sql(_: str, g: Any = saved) -> None:
                    config = {"configurable": {"thread_id": f"t{next(counter)}"}}
                    await g.ainvoke({"outputs": []}, config)

                for mode, mine, theirs in (
                    ("memory", maestro_mem, lg_mem),
                    ("sqlite", maestro_sql, lg_sql),
                ):
                    m, lg = await _duel(
                        mine, theirs, graph, rounds=rounds, runs=runs, warmup=warmup
                    )
                    rows.append(
                        {
                            "graph": graph,
                            "steps": len(GRAPHS[graph]),
                            "mode": mode,
                            "maestro_us_per_step": round(m, 1),
                            "langgraph_us_per_step": round(lg, 1),
                            "langgraph_over_maestro": round(lg / m, 2),
                        }
                    )
        await db.dispose()
    result = {
        "benchmark": "orchestration",
        "when": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "quick": quick,
        "runs_per_cell": rounds * runs,
        "rounds": rounds,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "langgraph": _version("langgraph"),
        "langgraph_checkpoint_sqlite": _version("langgraph-checkpoint-sqlite"),
        "method": (
            "no-op steps on both sides; per cell, alternating batches of sequential runs "
            "(Maestro, then LangGraph) and the median over batches of wall time per step; "
            "memory = no persistence, sqlite = state persisted after every step"
        ),
        "results": rows,
        "maestro_faster_everywhere": all(r["langgraph_over_maestro"] > 1 for r in rows),
    }
    await asyncio.to_thread(_write, out, result)
    return result


def _write(out: Path, result: dict[str, Any]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "orchestration.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "orchestration.md").write_text(_markdown(result))


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Orchestration overhead: Maestro vs LangGraph",
        "",
        f"Microseconds per step (median of {result['rounds']} alternating batches), no-op "
        f"steps (model time excluded), {result['runs_per_cell']} runs per engine and cell; "
        f"LangGraph {result['langgraph']}, "
        f"langgraph-checkpoint-sqlite {result['langgraph_checkpoint_sqlite']}; "
        f"Python {result['python']}.",
        "",
        "| graph | steps | persistence | Maestro µs/step | LangGraph µs/step "
        "| LangGraph / Maestro |",
        "|---|---|---|---|---|---|",
    ]
    for r in result["results"]:
        lines.append(
            f"| {r['graph']} | {r['steps']} | {r['mode']} | {r['maestro_us_per_step']} | "
            f"{r['langgraph_us_per_step']} | {r['langgraph_over_maestro']}x |"
        )
    lines += ["", "Above 1x: Maestro spends less time per step than LangGraph.", ""]
    return "\n".join(lines)


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "not installed"
