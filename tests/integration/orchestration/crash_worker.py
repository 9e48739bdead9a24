"""A worker process for the crash test: start or resume a three-step workflow.

Usage: ``python crash_worker.py start|resume WORKSPACE_ID DIR [RUN_ID]`` with the
database settings in ``MAESTRO_*`` environment variables. Each step appends its
name to ``DIR/effects``; step ``b`` first waits for ``DIR/go`` so the test can
kill the process after ``a`` completed and before ``b`` did anything.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from maestro.config import Settings
from maestro.engine import Maestro
from maestro.orchestration.actions import ActionCall
from maestro.orchestration.context import AgentContext
from maestro.orchestration.service import orchestration_for
from maestro.orchestration.spec import StageSpec, StepSpec, WorkflowSpec


async def main(mode: str, workspace: str, folder: Path, run_id: str | None) -> None:
    effects = folder / "effects"

    async def record(call: ActionCall) -> str:
        if call.params.get("gate"):
            while not (folder / "go").exists():  # noqa: ASYNC110 (another process creates it)
                await asyncio.sleep(0.02)
        with effects.open("a") as f:
            f.write(f"{call.step}\n")
        return f"{call.step} done"

    async with Maestro.from_settings(Settings.load()) as engine:
        orch = orchestration_for(engine)
        orch.actions.register("record", record)
        if mode == "start":
            spec = WorkflowSpec(
                goal="three side effects",
                stages=(
                    StageSpec(name="one", steps=(StepSpec(name="a", action="record"),)),
                    StageSpec(
                        name="two",
                        steps=(StepSpec(name="b", action="record", params={"gate": True}),),
                        after=("one",),
                    ),
                    StageSpec(
                        name="three", steps=(StepSpec(name="c", action="record"),), after=("two",)
                    ),
                ),
            )
            run = await orch.workflows.create(spec, AgentContext(workspace_id=workspace))
            print(run.id, flush=True)
            await orch.resume(workspace, run.id)
        else:
            assert run_id is not None
            run = await orch.resume(workspace, run_id, force=True)
            print(run.status, flush=True)


if __name__ == "__main__":
    asyncio.run(
        main(
            sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else None
        )
    )
