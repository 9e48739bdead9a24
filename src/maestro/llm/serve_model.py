"""``maestro serve-model``: the offline model behind an OpenAI-compatible HTTP API.

Endpoints: ``POST /v1/chat/completions`` (plain JSON, or server-sent events
when ``stream`` is true) and ``GET /v1/models``. Any model name is accepted and
answered by the offline composer, so LiteLLM (``openai/<name>`` with
``api_base=http://host:port/v1``) and any OpenAI client can be pointed at it:
that is how Maestro tests its real-provider path end to end without a network.
An optional API key makes it require ``Authorization: Bearer <key>``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from typing import Any, Literal

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from maestro.clock import Clock, SystemClock
from maestro.llm.offline import OFFLINE_MODEL, OfflineModel
from maestro.llm.types import CompletionRequest, Message

__all__ = ["DEFAULT_SERVE_MODEL_PORT", "create_app", "run"]

DEFAULT_SERVE_MODEL_PORT = 8100


class _ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text")
        return self.content or ""


class _ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = OFFLINE_MODEL
    messages: list[_ChatMessage] = Field(min_length=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    seed: int | None = None
    stream: bool = False


def _role(role: str) -> Literal["system", "user", "assistant"]:
    if role in ("system", "developer"):
        return "system"
    return "assistant" if role == "assistant" else "user"


def create_app(
    *, model: OfflineModel | None = None, api_key: str | None = None, clock: Clock | None = None
) -> FastAPI:
    """The OpenAI-compatible app around ``model`` (a default :class:`OfflineModel`)."""
    offline = model or OfflineModel()
    time_source = clock or SystemClock()
    app = FastAPI(
        title="Maestro offline model",
        description="A deterministic text composer, not a language model.",
    )

    def check(authorization: str | None) -> None:
        if api_key is None:
            return
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not secrets.compare_digest(given, api_key):
            raise HTTPException(status_code=401, detail="invalid API key")

    @app.get("/v1/models")
    async def list_models(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        check(authorization)
        created = int(time_source.time())
        return {
            "object": "list",
            "data": [
                {"id": OFFLINE_MODEL, "object": "model", "created": created, "owned_by": "maestro"}
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    async def chat_completions(
        body: _ChatRequest, authorization: str | None = Header(default=None)
    ) -> dict[str, Any] | StreamingResponse:
        check(authorization)
        messages = tuple(Message(role=_role(m.role), content=m.text()) for m in body.messages)
        request = CompletionRequest(
            messages=messages,
            model=body.model,
            temperature=body.temperature or 0.0,
            max_tokens=body.max_completion_tokens or body.max_tokens,
            seed=body.seed,
        )
        reply = await offline.complete(request, body.model)
        created = int(time_source.time())
        ident = f"chatcmpl-{secrets.token_hex(12)}"
        usage = {
            "prompt_tokens": reply.usage.prompt_tokens,
            "completion_tokens": reply.usage.completion_tokens,
            "total_tokens": reply.usage.total_tokens,
        }
        if body.stream:
            return StreamingResponse(
                _sse(ident, created, body.model, reply.text, usage),
                media_type="text/event-stream",
            )
        return {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
            "system_fingerprint": "maestro-offline",
        }

    return app


async def _sse(
    ident: str, created: int, model: str, text: str, usage: dict[str, int]
) -> AsyncIterator[str]:
    base = {"id": ident, "object": "chat.completion.chunk", "created": created, "model": model}
    deltas: list[tuple[dict[str, str], str | None]] = [
        ({"role": "assistant", "content": text}, None),
        ({}, "stop"),
    ]
    for delta, finish in deltas:
        chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        if finish:
            chunk["usage"] = usage
        yield f"data: {json.dumps(chunk)}\n\n"
    yield "data: [DONE]\n\n"


def run(
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_SERVE_MODEL_PORT,
    seed: int = 0,
    api_key: str | None = None,
) -> None:
    """Serve the offline model until interrupted (what ``maestro serve-model`` calls)."""
    import uvicorn

    app = create_app(model=OfflineModel(seed=seed), api_key=api_key)
    uvicorn.run(app, host=host, port=port, log_level="warning")
