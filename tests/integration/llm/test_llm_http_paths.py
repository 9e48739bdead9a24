"""The real-provider path over real HTTP: LiteLLM -> maestro serve-model, timeouts, call bounds."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from maestro.clock import SystemClock
from maestro.errors import ProviderError, ProviderTimeoutError, TransientProviderError
from maestro.llm.catalog import ModelEntry
from maestro.llm.litellm_provider import LiteLLMProvider
from maestro.llm.offline import OfflineModel
from maestro.llm.resilience import RetryPolicy, TimeoutProvider
from maestro.llm.routing import LLMSettings, Router, build_llm
from maestro.llm.serve_model import create_app
from maestro.llm.types import CompletionRequest

PROMPT = "Brand: Acme\nBrand voice: warm\nStrategy: story\nTopic: evening walks\n\nWrite a caption."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def model_entry(port: int, litellm_model: str = "openai/offline") -> ModelEntry:
    return ModelEntry(
        litellm_model=litellm_model,
        api_base=f"http://127.0.0.1:{port}/v1",
        api_key="sk-test-not-secret",
        input_cost_per_token=1e-7,
        output_cost_per_token=2e-7,
        context_window=32_000,
    )


@pytest.fixture
async def serve_model() -> AsyncIterator[int]:
    """``create_app()`` under a real uvicorn server on a free port."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(api_key="sk-test-not-secret"), port=port, log_level="error", lifespan="off"
        )
    )
    task = asyncio.create_task(server.serve())
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield port
    server.should_exit = True
    await task


async def test_litellm_reaches_serve_model_and_gets_the_offline_answer(serve_model: int) -> None:
    provider = LiteLLMProvider(
        models={
            "local": Router.from_settings(
                LLMSettings(models={"local": model_entry(serve_model)})
            ).spec("local")
        }
    )
    request = CompletionRequest.of(PROMPT, seed=7)
    reply = await provider.complete(request, "local")
    expected = await OfflineModel().complete(request, "offline")
    assert reply.text == expected.text
    assert reply.model == "local"
    assert reply.usage.prompt_tokens == expected.usage.prompt_tokens > 0
    assert reply.usage.completion_tokens == expected.usage.completion_tokens > 0


async def test_alias_routes_through_the_full_stack_to_serve_model(serve_model: int) -> None:
    settings = LLMSettings(
        models={"local": model_entry(serve_model)}, aliases={"tip-generator": "local"}
    )
    stack = build_llm(settings, clock=SystemClock())
    request = CompletionRequest.of(PROMPT, model="tip-generator")
    route = stack.router.choose(request)
    reply = await stack.provider.complete(request, route.model)
    assert route.model == "local"
    assert reply.model == "local"
    assert reply.text == OfflineModel().respond(PROMPT)


async def test_serve_model_lists_models_and_rejects_a_wrong_key(serve_model: int) -> None:
    base = f"http://127.0.0.1:{serve_model}/v1"
    async with httpx.AsyncClient() as client:
        ok = await client.get(
            f"{base}/models", headers={"Authorization": "Bearer sk-test-not-secret"}
        )
        bad = await client.post(
            f"{base}/chat/completions",
            headers={"Authorization": "Bearer wrong"},
            json={"model": "offline", "messages": [{"role": "user", "content": "hi"}]},
        )
    assert ok.status_code == 200
    assert [m["id"] for m in ok.json()["data"]] == ["offline"]
    assert bad.status_code == 401


async def test_serve_model_streams_server_sent_events(serve_model: int) -> None:
    body = {"model": "offline", "stream": True, "messages": [{"role": "user", "content": PROMPT}]}
    async with httpx.AsyncClient() as client:
        resp = await client.post(
            f"http://127.0.0.1:{serve_model}/v1/chat/completions",
            headers={"Authorization": "Bearer sk-test-not-secret"},
            json=body,
        )
    events = [line[6:] for line in resp.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    text = "".join(json.loads(e)["choices"][0]["delta"].get("content", "") for e in events[:-1])
    assert text == OfflineModel().respond(PROMPT)


# --- a provider that never answers ------------------------------------------------


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[tuple[int, list[int]]]:
    """Accepts connections, reads, and never replies."""
    accepted: list[int] = []
    held: list[asyncio.StreamWriter] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(1)
        held.append(writer)
        with contextlib.suppress(Exception):
            await reader.read(65536)
            await asyncio.Event().wait()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, accepted
    finally:
        for w in held:
            w.close()
        server.close()


async def test_a_provider_that_never_answers_is_cut_off_by_the_timeout() -> None:
    async with silent_server() as (port, accepted):
        spec = Router.from_settings(LLMSettings(models={"m": model_entry(port)})).spec("m")
        # LiteLLM's own timeout is far away: only the TimeoutProvider can end this call.
        provider = TimeoutProvider(
            LiteLLMProvider(models={"m": spec}, timeout_s=600), timeout_s=0.5, clock=SystemClock()
        )
        started = time.monotonic()
        with pytest.raises(ProviderTimeoutError) as err:
            await provider.complete(CompletionRequest.of("hello"), "m")
        elapsed = time.monotonic() - started
    assert accepted, "the request never reached the silent server"
    assert 0.4 < elapsed < 5.0
    assert err.value.field == "model"


async def test_litellm_timeout_is_mapped_to_provider_timeout_error() -> None:
    async with silent_server() as (port, _):
        spec = Router.from_settings(LLMSettings(models={"m": model_entry(port)})).spec("m")
        provider = LiteLLMProvider(models={"m": spec}, timeout_s=0.5)
        with pytest.raises(ProviderTimeoutError) as err:
            await provider.complete(CompletionRequest.of("hello"), "m")
    assert "sk-test" not in str(err.value)


# --- bounded upstream calls over HTTP ---------------------------------------------


@contextlib.asynccontextmanager
async def failing_server(status: int) -> AsyncIterator[tuple[int, list[str]]]:
    """Answers every request with ``status``; records the path of each."""
    hits: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            ),
            0,
        )
        body = await reader.readexactly(length)
        hits.append(json.loads(body)["model"])
        payload = json.dumps({"error": {"message": "down", "type": "server_error"}}).encode()
        writer.write(
            b"HTTP/1.1 %d Error\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (status, len(payload), payload)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1], hits
    finally:
        server.close()


@pytest.mark.parametrize(
    ("status", "retries", "fallbacks", "error"),
    [
        (503, 2, 1, TransientProviderError),
        (429, 1, 2, TransientProviderError),
        (400, 3, 1, ProviderError),
    ],
)
async def test_upstream_calls_never_exceed_retries_times_fallbacks_over_http(
    status: int, retries: int, fallbacks: int, error: type[Exception]
) -> None:
    async with failing_server(status) as (port, hits):
        names = [f"m{i}" for i in range(fallbacks + 2)]
        settings = LLMSettings(
            models={n: model_entry(port, litellm_model=f"openai/{n}") for n in names},
            retry=RetryPolicy(retries=retries, backoff_base_s=0.001, backoff_max_s=0.01),
            fallbacks={"m0": names[1:]},
            max_fallbacks=fallbacks,
        )
        stack = build_llm(settings, clock=SystemClock())
        with pytest.raises(error):
            await stack.provider.complete(CompletionRequest.of("hi", model="m0"), "m0")
    attempts = 1 + retries if status != 400 else 1
    assert len(hits) == attempts * (1 + fallbacks)
    assert hits == [n for n in names[: 1 + fallbacks] for _ in range(attempts)]


def test_maestro_serve_model_command_serves_over_http(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "MAESTRO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/m.db"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "maestro"), "serve-model", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        body = {"model": "offline", "messages": [{"role": "user", "content": PROMPT}]}
        deadline = time.monotonic() + 60
        while True:
            try:
                resp = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", json=body)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert resp.status_code == 200
        assert resp.json()["choices"][0]["message"]["content"] == OfflineModel().respond(PROMPT)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
