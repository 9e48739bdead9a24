"""Routing, durable workflows, healing, concurrency, self-correction and debates end to end.

Every test runs on SQLite and PostgreSQL, on the real gateway and offline model.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

import httpx
import pytest

from maestro.engine import Maestro
from maestro.errors import ValidationError
from maestro.llm.types import CompletionRequest, CompletionResult, Gateway, Priority
from maestro.logs import JsonFormatter
from maestro.orchestration.actions import ActionCall, StepOutcome
from maestro.orchestration.context import AgentContext
from maestro.orchestration.service import Orchestration
from maestro.orchestration.settings import OrchestrationSettings
from maestro.orchestration.spec import StageSpec, StepSpec, WorkflowSpec

GOAL = "Write a viral social post about morning routines"


async def test_second_similar_goal_reuses_the_proven_sequence(orch: Orchestration, ws: str) -> None:
    first = await orch.orchestrate(ws, GOAL, topic="morning routines")
    assert first.decision.source == "planner"
    assert first.run.status == "completed"
    assert first.run.result and first.run.result["quality"] is not None

    second = await orch.orchestrate(ws, GOAL, topic="morning routines")
    assert second.decision.source == "memory"
    assert second.decision.confidence > 0.8
    assert second.decision.agent_sequence == first.decision.agent_sequence
    assert second.context.past_successes, "the context carries the similar success"

    decisions = await orch.router.decisions(ws)
    assert sorted(d["source"] for d in decisions) == ["memory", "planner"]
    assert all(d["success"] is True and d["run_id"] for d in decisions), decisions


async def test_every_log_line_of_a_run_carries_its_correlation_id(
    orch: Orchestration, ws: str
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger("maestro")
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        done = await orch.orchestrate(ws, GOAL)
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    run_lines = [x for x in lines if x["logger"].startswith("maestro.orchestration")]
    assert len(run_lines) >= 3
    assert {x.get("correlation_id") for x in run_lines} == {done.context.correlation_id}


class PlannerSays:
    """A gateway whose planner answers with ``plan`` and which passes everything else on.

    Stands in for a model that misbehaves; Maestro's own gateway serves the rest.
    """

    def __init__(self, inner: Gateway, plan: str) -> None:
        self.inner = inner
        self.plan = plan
        self.purposes: list[str] = []

    async def complete(
        self,
        request: CompletionRequest,
        *,
        workspace: str,
        agent: str,
        purpose: str,
        priority: Priority = Priority.P1,
    ) -> CompletionResult:
        self.purposes.append(purpose)
        if purpose == "plan":
            return CompletionResult(
                text=self.plan, model="scripted", usage={}, cost_usd=0.0, latency_ms=0.0
            )
        return await self.inner.complete(
            request, workspace=workspace, agent=agent, purpose=purpose, priority=priority
        )


async def test_planner_naming_an_unknown_agent_is_rejected_and_nothing_runs(
    oengine: Maestro, ws: str
) -> None:
    gateway = PlannerSays(oengine.gateway, '{"agents": ["copywriting_ninja", "ghost_writer"]}')
    orch = Orchestration(oengine.db, oengine.clock, gateway, OrchestrationSettings())
    with pytest.raises(ValidationError, match="ghost_writer"):
        await orch.orchestrate(ws, GOAL)
    assert gateway.purposes == ["plan"], "no agent step may run after a rejected plan"
    assert await orch.list_runs(ws) == []


async def test_planner_misspellings_and_repeats_are_repaired(oengine: Maestro, ws: str) -> None:
    plan = '```json\n{"agents": ["Copywriting-Ninja", "brand_guardian", "copywriting_ninja"]}\n```'
    orch = Orchestration(oengine.db, oengine.clock, PlannerSays(oengine.gateway, plan))
    done = await orch.orchestrate(ws, GOAL)
    assert done.decision.agent_sequence == ("copywriting_ninja", "brand_guardian")
    assert len(done.decision.repairs) == 2
    assert done.run.status == "completed"


async def test_failed_step_is_healed_at_p0(orch: Orchestration, ws: str) -> None:
    seen: list[tuple[int, Priority]] = []

    async def flaky(call: ActionCall) -> str:
        seen.append((call.attempt, call.priority))
        if call.attempt == 1:
            raise RuntimeError("upstream hiccup")
        return "ok"

    orch.actions.register("flaky", flaky)
    spec = WorkflowSpec(
        goal="heal", stages=(StageSpec(name="s", steps=(StepSpec(name="a", action="flaky"),)),)
    )
    run = await orch.run_workflow(spec, AgentContext(workspace_id=ws))
    assert run.status == "completed"
    assert seen == [(1, Priority.P1), (2, Priority.P0)]
    view = await orch.get_run(ws, run.id)
    assert view.steps[0].attempts == 2


async def test_step_failing_every_attempt_fails_the_run(orch: Orchestration, ws: str) -> None:
    async def broken(call: ActionCall) -> str:
        raise RuntimeError(f"attempt {call.attempt} broke")

    orch.actions.register("broken", broken)
    spec = WorkflowSpec(
        goal="fail", stages=(StageSpec(name="s", steps=(StepSpec(name="a", action="broken"),)),)
    )
    run = await orch.run_workflow(spec, AgentContext(workspace_id=ws))
    assert run.status == "failed"
    assert run.error and "3 time(s)" in run.error and "attempt 3 broke" in run.error


async def test_independent_stages_run_concurrently_within_the_bound(
    orch: Orchestration, ws: str
) -> None:
    active = 0
    peak = 0
    gate = asyncio.Event()

    async def work(call: ActionCall) -> StepOutcome:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        if peak >= 2:
            gate.set()
        if call.params.get("wait"):
            await asyncio.wait_for(gate.wait(), 5)
        await asyncio.sleep(0)
        active -= 1
        return StepOutcome(text=f"{call.step} saw {len(call.inputs)}")

    orch.actions.register("work", work)
    fan = tuple(
        StageSpec(
            name=f"f{i}",
            steps=(StepSpec(name=f"f{i}", action="work", params={"wait": True}),),
            after=("root",),
        )
        for i in range(5)
    )
    spec = WorkflowSpec(
        goal="fan out",
        max_concurrency=2,
        stages=(
            StageSpec(name="root", steps=(StepSpec(name="root", action="work"),)),
            *fan,
            StageSpec(
                name="join",
                steps=(StepSpec(name="join", action="work"),),
                after=tuple(s.name for s in fan),
            ),
        ),
    )
    run = await orch.run_workflow(spec, AgentContext(workspace_id=ws))
    assert run.status == "completed"
    assert peak == 2
    assert run.result and run.result["steps"]["join"] == "join saw 5"


async def test_self_correction_loop_persists_its_attempts(
    oengine: Maestro, oapi: httpx.AsyncClient, orch: Orchestration, ws: str
) -> None:
    body = {
        "agent_name": "technical_writer",
        "goal": "Explain database indexes",
        "topic": "database indexes",
        "config": {"min_quality_score": 1.0, "max_iterations": 3, "improvement_threshold": 0.0},
    }
    r = await oapi.post("/api/execute/self-correct", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    meta, attempts = out["self_correction_metadata"], out["attempts"]
    assert 2 <= meta["iterations"] == len(attempts) <= 3
    assert attempts[1]["quality"] > attempts[0]["quality"], "the revision fixed the critique"
    assert attempts[0]["issues"], "the first draft was critiqued"
    assert out["quality"] == max(a["quality"] for a in attempts)
    assert meta["final_quality_score"] == out["quality"]

    stored = (await oapi.get(f"/api/runs/{out['run_id']}")).json()
    assert stored["kind"] == "self_correct" and stored["status"] == "completed"
    assert stored["result"]["attempts"] == attempts
    below = [a for a in attempts if a["quality"] < 1.0]
    failures = [t for t in await orch.memory.recent(ws) if not t.success]
    assert len(failures) == len(below) >= 1, "every draft below the threshold is remembered"
    assert len(await orch.critiques.recent(ws)) == len(below)


async def test_self_correction_stops_on_a_plateau(orch: Orchestration, ws: str) -> None:
    from maestro.orchestration.settings import SelfCorrectionConfig

    # No revision can improve by 1.0, so the loop never reaches a third draft.
    cfg = SelfCorrectionConfig(min_quality_score=1.0, improvement_threshold=1.0)
    run = await orch.self_correct(ws, "data_storyteller", "Explain caching", config=cfg)
    meta = run.result and run.result["self_correction_metadata"]
    assert meta and meta["iterations"] == 2
    assert meta["stop_reason"] == ("threshold_met" if meta["threshold_met"] else "no_improvement")


@pytest.mark.parametrize("strategy", ["synthesis", "majority_vote", "weighted_vote", "moderator"])
async def test_debate_end_to_end_persists_transcript(
    oapi: httpx.AsyncClient, strategy: str
) -> None:
    body: dict[str, Any] = {
        "problem": "How to create a viral social media campaign for a SaaS product?",
        "agent_ids": ["viral_engineer", "copywriting_ninja", "psychology_specialist"],
        "rounds": 2,
        "consensus_strategy": strategy,
    }
    r = await oapi.post("/api/debates", json=body)
    assert r.status_code == 200, r.text
    run_id = r.json()["id"]
    stored = (await oapi.get(f"/api/runs/{run_id}")).json()
    assert stored["kind"] == "debate" and stored["status"] == "completed"
    result = stored["result"]
    assert result["decision"] and 0.0 < result["confidence"] <= 1.0
    rounds = result["transcript"]["rounds"]
    assert [len(x["proposals"]) for x in rounds] == [3, 3]
    assert [len(x["critiques"]) for x in rounds] == [6, 6]
    assert rounds[1]["proposals"][0]["reasoning"].startswith("refined")


async def test_runs_are_scoped_to_their_workspace(
    oclient: Any, orch: Orchestration, ws: str, other_ws: str
) -> None:
    run = await orch.self_correct(ws, "seo_expert", "Keywords for a bakery")
    other = await oclient(other_ws)
    assert (await other.get(f"/api/runs/{run.id}")).status_code == 404
    assert (await other.get("/api/runs")).json() == []
    mine = await oclient(ws)
    assert [r["id"] for r in (await mine.get("/api/runs")).json()] == [run.id]


async def test_agents_api_registers_finds_and_assembles(oapi: httpx.AsyncClient) -> None:
    agents = (await oapi.get("/api/agents")).json()
    assert len(agents) == 7
    custom = {
        "agent_id": "content_strategist",
        "role": "content_strategist",
        "name": "Content Strategy Expert",
        "skills": [{"skill": "storytelling", "level": "master", "confidence": 0.9}],
        "system_prompt": "You are a content strategy expert.",
    }
    assert (await oapi.post("/api/agents", json=custom)).status_code == 201
    assert (await oapi.post("/api/agents", json=custom)).status_code == 409
    found = (
        await oapi.get("/api/agents/search", params={"skills": "storytelling", "min_level": 5})
    ).json()
    assert [a["agent_id"] for a in found] == ["content_strategist"]
    team = await oapi.post(
        "/api/agents/team",
        json={
            "task_type": "viral_social_campaign",
            "required_skills": ["viral_mechanics", "persuasive_writing", "emotional_triggers"],
            "preferred_skills": ["trend_analysis", "brand_voice"],
            "min_team_size": 3,
            "max_team_size": 5,
        },
    )
    assert team.status_code == 200, team.text
    members = [m["agent_id"] for m in team.json()["members"]]
    assert set(members) >= {"viral_engineer", "copywriting_ninja", "psychology_specialist"}
    assert "brand_guardian" in members and len(members) <= 5
    perf = await oapi.post(
        "/api/agents/brand_guardian/performance", json={"task_type": "blog", "score": 0.9}
    )
    assert perf.json()["count"] == 1
    bad = await oapi.post(
        "/api/agents/brand_guardian/performance", json={"task_type": "blog", "score": 1.5}
    )
    assert bad.status_code == 422


async def test_best_agent_uses_workspace_metrics_with_fallback(
    orch: Orchestration, ws: str
) -> None:
    assert (
        await orch.select_best_agent(ws, "blog", fallback_agent="copywriting_ninja")
        == "copywriting_ninja"
    )
    for score in (0.9, 0.95, 0.92):
        await orch.registry.update_performance(ws, "technical_writer", "blog", score)
    for score in (0.4, 0.5, 0.45):
        await orch.registry.update_performance(ws, "seo_expert", "blog", score)
    assert (
        await orch.select_best_agent(ws, "blog", fallback_agent="copywriting_ninja")
        == "technical_writer"
    )
