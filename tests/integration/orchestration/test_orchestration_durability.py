"""Crashes and restarts: a SIGKILLed worker's run completes once; approvals survive restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from maestro.config import Settings
from maestro.engine import Maestro
from maestro.orchestration.runs_sql import SqlRunStore

HERE = Path(__file__).parent
WIDE = {
    "MAESTRO_RATELIMIT__DEFAULT__CAPACITY": "1000000",
    "MAESTRO_RATELIMIT__DEFAULT__REFILL_PER_MINUTE": "1000000",
    "MAESTRO_LOG_LEVEL": "WARNING",
}


def _env(db_settings: dict[str, str | None], key_prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAESTRO_")}
    env.update(WIDE)
    env["MAESTRO_DATABASE_URL"] = str(db_settings["database_url"])
    if db_settings["database_schema"]:
        env["MAESTRO_DATABASE_SCHEMA"] = str(db_settings["database_schema"])
    env["MAESTRO_KEY_PREFIX"] = key_prefix
    return env


async def _engine(db_settings: dict[str, str | None]) -> Maestro:
    return await Maestro.from_settings(Settings.load(**db_settings)).start()


async def test_sigkilled_worker_run_completes_with_each_effect_once(
    db_settings: dict[str, str | None], key_prefix: str, tmp_path: Path
) -> None:
    engine = await _engine(db_settings)
    try:
        ws = (await engine.tenancy.create_workspace("crash")).id
        env = _env(db_settings, key_prefix)
        worker = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, str(HERE / "crash_worker.py"), "start", ws, str(tmp_path)],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout is not None
        run_id = (await asyncio.to_thread(worker.stdout.readline)).strip()
        assert run_id, "the worker printed its run id"
        store = SqlRunStore(engine.db)
        for _ in range(500):
            steps = {s.name: s.status for s in await store.steps(ws, run_id)}
            if steps.get("a") == "completed":
                break
            await asyncio.sleep(0.02)
        assert steps == {"a": "completed", "b": "pending", "c": "pending"}
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        assert worker.returncode == -signal.SIGKILL
        assert (await store.get_run(ws, run_id)).status == "running", "nobody finished it"

        (tmp_path / "go").touch()
        resumed = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, str(HERE / "crash_worker.py"), "resume", ws, str(tmp_path), run_id],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert resumed.returncode == 0, resumed.stderr
        assert resumed.stdout.strip() == "completed"
        assert (tmp_path / "effects").read_text().splitlines() == ["a", "b", "c"]
        assert [s.attempts for s in await store.steps(ws, run_id)] == [1, 1, 1]
    finally:
        await engine.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "maestro"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120  # importing the app (LiteLLM, SciPy) takes a while
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("maestro serve did not come up")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.mark.slow
async def test_pending_approval_survives_a_server_restart(
    db_settings: dict[str, str | None], key_prefix: str
) -> None:
    engine = await _engine(db_settings)
    try:
        ws = (await engine.tenancy.create_workspace("restart")).id
        _, secret = await engine.tenancy.create_key(ws)
    finally:
        await engine.close()
    env = _env(db_settings, key_prefix)
    port = _free_port()
    headers = {"Authorization": f"Bearer {secret}"}
    base = f"http://127.0.0.1:{port}"

    server = await asyncio.to_thread(_serve, env, port)
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as api:
            r = await api.post(
                "/api/orchestrate",
                json={
                    "goal": "Newsletter intro about remote work",
                    "checkpoints": [{"name": "review", "condition": "before_execution"}],
                },
            )
            assert r.status_code == 200, r.text
            run_id = r.json()["run"]["id"]
            assert r.json()["run"]["status"] == "waiting_approval"
    finally:
        await asyncio.to_thread(_stop, server)

    server = await asyncio.to_thread(_serve, env, port)
    try:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as api:
            [approval] = (await api.get("/api/approvals")).json()
            assert approval["run_id"] == run_id
            r = await api.post(f"/api/approvals/{approval['id']}/approve")
            assert r.status_code == 200, r.text
            run: dict[str, Any] = {}
            for _ in range(300):
                run = (await api.get(f"/api/runs/{run_id}")).json()
                if run["status"] != "running" and run["status"] != "waiting_approval":
                    break
                await asyncio.sleep(0.05)
            assert run["status"] == "completed", run
            assert all(s["status"] == "completed" for s in run["steps"])
            assert run["result"]["output"]
    finally:
        await asyncio.to_thread(_stop, server)
