"""Human-in-the-loop checkpoints: pause, decide once, resume; rules, timeouts, webhooks."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import httpx
import pytest
from tests.integration.orchestration.conftest import orch_settings  # type: ignore[import-not-found]

from maestro.clock import ManualClock
from maestro.engine import Maestro
from maestro.orchestration.context import AgentContext
from maestro.orchestration.service import Orchestration, orchestration_for
from maestro.orchestration.spec import (
    AutoApproveRules,
    CheckpointSpec,
    StageSpec,
    StepSpec,
    WorkflowSpec,
)

REVIEW = {"name": "review", "condition": "before_execution", "description": "Review first"}


async def _paused(api: httpx.AsyncClient) -> tuple[str, str]:
    r = await api.post(
        "/api/orchestrate", json={"goal": "Blog post about AI", "checkpoints": [REVIEW]}
    )
    assert r.status_code == 200, r.text
    run = r.json()["run"]
    assert run["status"] == "waiting_approval"
    assert run["steps"] and all(s["status"] == "pending" for s in run["steps"])
    [approval] = (await api.get("/api/approvals")).json()
    return run["id"], approval["id"]


async def _until_finished(api: httpx.AsyncClient, run_id: str) -> dict[str, Any]:
    for _ in range(400):
        run: dict[str, Any] = (await api.get(f"/api/runs/{run_id}")).json()
        if run["status"] in ("completed", "failed", "rejected"):
            return run
        await asyncio.sleep(0.02)
    raise AssertionError(f"run {run_id} did not finish: {run}")


async def test_approval_resumes_the_run(oapi: httpx.AsyncClient) -> None:
    run_id, approval_id = await _paused(oapi)
    r = await oapi.post(f"/api/approvals/{approval_id}/approve", json={"by": "ana"})
    assert r.status_code == 200 and r.json()["decided_by"] == "ana"
    run = await _until_finished(oapi, run_id)
    assert run["status"] == "completed"
    assert all(s["status"] == "completed" for s in run["steps"])
    assert (await oapi.get("/api/approvals")).json() == []


async def test_rejection_ends_the_run_without_running_steps(oapi: httpx.AsyncClient) -> None:
    run_id, approval_id = await _paused(oapi)
    assert (await oapi.post(f"/api/approvals/{approval_id}/reject")).status_code == 200
    run = await _until_finished(oapi, run_id)
    assert run["status"] == "rejected"
    assert all(s["status"] == "pending" for s in run["steps"])


async def test_concurrent_decisions_one_wins_the_other_gets_409(oapi: httpx.AsyncClient) -> None:
    run_id, approval_id = await _paused(oapi)
    approve, reject = await asyncio.gather(
        oapi.post(f"/api/approvals/{approval_id}/approve"),
        oapi.post(f"/api/approvals/{approval_id}/reject"),
    )
    assert sorted([approve.status_code, reject.status_code]) == [200, 409]
    winner = approve if approve.status_code == 200 else reject
    loser = reject if winner is approve else approve
    assert loser.json()["error"]["code"] == "conflict"
    run = await _until_finished(oapi, run_id)
    assert run["status"] == ("completed" if winner is approve else "rejected")


async def test_many_concurrent_deciders_exactly_one_wins(orch: Orchestration, ws: str) -> None:
    spec = WorkflowSpec(
        goal="g",
        stages=(StageSpec(name="s", steps=(StepSpec(name="a", agent="seo_expert"),)),),
        checkpoints=(CheckpointSpec(name="gate", condition="before_execution"),),
    )
    run = await orch.run_workflow(spec, AgentContext(workspace_id=ws))
    [approval] = await orch.list_approvals(ws)
    results = await asyncio.gather(
        *(
            orch.decide(ws, approval.id, "approve" if i % 2 else "reject", by=f"u{i}")
            for i in range(8)
        ),
        return_exceptions=True,
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(type(r).__name__ == "ConflictError" for r in results if isinstance(r, Exception))
    assert (await orch.store.get_run(ws, run.id)).status in ("completed", "rejected")


async def test_auto_approval_rules(orch: Orchestration, ws: str) -> None:
    spec = WorkflowSpec(
        goal="Post about sleep",
        stages=(
            StageSpec(
                name="write",
                steps=(StepSpec(name="w", agent="copywriting_ninja", self_correct=True),),
            ),
        ),
        checkpoints=(
            CheckpointSpec(
                name="quality_gate",
                condition="after_stage",
                stage="write",
                auto_approve_if=AutoApproveRules(quality_above=0.5),
            ),
            CheckpointSpec(
                name="strict_gate",
                condition="after_stage",
                stage="write",
                auto_approve_if=AutoApproveRules(quality_above=0.5, success_rate_above=0.99),
            ),
        ),
    )
    run = await orch.run_workflow(spec, AgentContext(workspace_id=ws))
    assert run.status == "waiting_approval", "no success history: the strict gate waits"
    by_name = {a.checkpoint: a for a in (await orch.get_run(ws, run.id)).approvals}
    assert by_name["quality_gate"].status == "approved"
    assert (by_name["quality_gate"].decided_by or "").startswith("auto:quality_above")
    assert by_name["strict_gate"].status == "pending"

    trusted = await orch.run_workflow(spec, AgentContext(workspace_id=ws, user_id="lead"))
    assert trusted.status == "waiting_approval"
    spec2 = spec.model_copy(
        update={
            "checkpoints": (
                CheckpointSpec(
                    name="trusted",
                    condition="after_stage",
                    stage="write",
                    auto_approve_if=AutoApproveRules(trusted_users=("lead",)),
                ),
            )
        }
    )
    done = await orch.run_workflow(spec2, AgentContext(workspace_id=ws, user_id="lead"))
    assert done.status == "completed"


async def test_low_quality_checkpoint_fires_only_below_its_bound(
    orch: Orchestration, ws: str
) -> None:
    def spec(bound: float) -> WorkflowSpec:
        return WorkflowSpec(
            goal="Post about focus",
            stages=(
                StageSpec(
                    name="write",
                    steps=(StepSpec(name="w", agent="viral_engineer", self_correct=True),),
                ),
            ),
            checkpoints=(
                CheckpointSpec(name="low", condition="quality_below", quality_below=bound),
            ),
        )

    assert (await orch.run_workflow(spec(0.05), AgentContext(workspace_id=ws))).status == (
        "completed"
    )
    assert (await orch.run_workflow(spec(1.0), AgentContext(workspace_id=ws))).status == (
        "waiting_approval"
    )


@pytest.mark.parametrize("outcome", ["approve", "reject"])
async def test_timeout_applies_the_configured_outcome(
    db_settings: dict[str, str | None], clock: ManualClock, key_prefix: str, outcome: str
) -> None:
    settings = orch_settings(
        db_settings, key_prefix, orchestration={"approval_timeout_outcome": outcome}
    )
    async with Maestro.from_settings(settings, clock=clock) as engine:
        ws = (await engine.tenancy.create_workspace("t")).id
        orch = orchestration_for(engine)
        spec = WorkflowSpec(
            goal="g",
            stages=(StageSpec(name="s", steps=(StepSpec(name="a", agent="seo_expert"),)),),
            checkpoints=(CheckpointSpec(name="gate", condition="before_execution"),),
        )
        run = await orch.run_workflow(spec, AgentContext(workspace_id=ws))
        clock.advance(3599)
        assert len(await orch.list_approvals(ws)) == 1
        clock.advance(2)
        assert await orch.list_approvals(ws) == []
        [decided] = await orch.list_approvals(ws, status=None)
        assert decided.decided_by == "timeout"
        final = await orch.store.get_run(ws, run.id)
        assert final.status == ("completed" if outcome == "approve" else "rejected")


class _Receiver(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []
    fail_first: ClassVar[int] = 0

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        failing = type(self).fail_first > 0
        type(self).fail_first -= 1
        self.send_response(500 if failing else 204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[tuple[str, type[_Receiver]]]:
    handler = type("Receiver", (_Receiver,), {"bodies": [], "fail_first": 2})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", handler
    server.shutdown()


async def test_webhook_is_posted_and_retried(
    db_settings: dict[str, str | None],
    clock: ManualClock,
    key_prefix: str,
    receiver: tuple[str, type[_Receiver]],
) -> None:
    url, handler = receiver
    settings = orch_settings(
        db_settings, key_prefix, orchestration={"webhook": {"url": url, "backoff_seconds": 0}}
    )
    async with Maestro.from_settings(settings, clock=clock) as engine:
        ws = (await engine.tenancy.create_workspace("hooks")).id
        orch = orchestration_for(engine)
        spec = WorkflowSpec(
            goal="g",
            stages=(StageSpec(name="s", steps=(StepSpec(name="a", agent="seo_expert"),)),),
            checkpoints=(CheckpointSpec(name="gate", condition="before_execution"),),
        )
        run = await orch.run_workflow(spec, AgentContext(workspace_id=ws))
        [approval] = await orch.list_approvals(ws)
    assert len(handler.bodies) == 3, "two 500s, then delivered"
    body = handler.bodies[-1]
    assert body["event"] == "approval_requested"
    assert body["approval_id"] == approval.id and body["run_id"] == run.id
    assert approval.notification and approval.notification.startswith("delivered")
