"""Real providers through LiteLLM, with LiteLLM's errors mapped onto Maestro's.

LiteLLM is imported on first use (it takes seconds to import) with its bundled
cost map (``LITELLM_LOCAL_MODEL_COST_MAP``), so nothing is fetched at import.
LiteLLM's own retries are switched off: Maestro's
:class:`~maestro.llm.resilience.RetryProvider` owns retrying, which keeps the
bound on upstream calls exact. Keys are passed through, never logged, and never
part of an error message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from maestro.errors import (
    ConfigurationError,
    ProviderError,
    ProviderTimeoutError,
    TransientProviderError,
)
from maestro.llm.catalog import ModelSpec
from maestro.llm.types import CompletionRequest, ProviderReply, Usage

__all__ = ["DEFAULT_LITELLM_TIMEOUT_S", "LiteLLMProvider", "map_litellm_error"]

DEFAULT_LITELLM_TIMEOUT_S = 60.0
"""LiteLLM's own HTTP timeout; the TimeoutProvider's (usually shorter) one wins."""
_TRANSIENT_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})


def _litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    try:
        import litellm
    except ImportError as exc:  # pragma: no cover - litellm is a core dependency
        raise ConfigurationError("the litellm package is required: pip install litellm") from exc
    litellm.suppress_debug_info = True
    litellm.telemetry = False
    return litellm


class LiteLLMProvider:
    """Calls ``litellm.acompletion`` for any model LiteLLM reaches.

    Args:
        models: catalog entries by name; give a model's LiteLLM name, ``api_base``
            and ``api_key`` (a name not listed is passed to LiteLLM as is).
        aliases: alias -> model name (e.g. ``tip-generator -> deepseek/deepseek-chat``).
        timeout_s: LiteLLM's own request timeout.
    """

    name = "litellm"

    def __init__(
        self,
        *,
        models: Mapping[str, ModelSpec] | None = None,
        aliases: Mapping[str, str] | None = None,
        timeout_s: float = DEFAULT_LITELLM_TIMEOUT_S,
    ) -> None:
        self._models = dict(models or {})
        self._aliases = dict(aliases or {})
        self.timeout_s = timeout_s

    def resolve(self, model: str) -> str:
        """The model name after alias resolution."""
        return self._aliases.get(model, model)

    async def complete(self, request: CompletionRequest, model: str) -> ProviderReply:
        litellm = _litellm()
        name = self.resolve(model)
        spec = self._models.get(name)
        kwargs: dict[str, Any] = {
            "model": (spec.litellm_model if spec and spec.litellm_model else name),
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
            "temperature": request.temperature,
            "timeout": self.timeout_s,
            "num_retries": 0,
            "max_retries": 0,
        }
        if request.max_tokens is not None:
            kwargs["max_tokens"] = request.max_tokens
        if request.seed is not None:
            kwargs["seed"] = request.seed
        if spec and spec.api_base:
            kwargs["api_base"] = spec.api_base
        if spec and spec.api_key:
            kwargs["api_key"] = spec.api_key.get_secret_value()
        try:
            response = await litellm.acompletion(**kwargs)
        except Exception as exc:
            raise map_litellm_error(exc, name) from None
        return _reply(response, name)


def _reply(response: Any, model: str) -> ProviderReply:
    try:
        text = response.choices[0].message.content or ""
        usage = getattr(response, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion = int(getattr(usage, "completion_tokens", 0) or 0)
    except (AttributeError, IndexError, TypeError, ValueError) as exc:
        raise ProviderError(
            f"model {model!r} returned a malformed response: {type(exc).__name__}",
            field="model",
        ) from None
    return ProviderReply(
        text=text, model=model, usage=Usage(prompt_tokens=prompt, completion_tokens=completion)
    )


def map_litellm_error(exc: BaseException, model: str) -> ProviderError:
    """The Maestro error for a LiteLLM (or OpenAI client) exception.

    The message names the model and the error class and status, not the
    upstream text, which may echo request headers.
    """
    litellm = _litellm()
    status = getattr(exc, "status_code", None)
    what = f"model {model!r}: {type(exc).__name__}" + (f" (HTTP {status})" if status else "")
    if isinstance(exc, litellm.exceptions.Timeout):
        return ProviderTimeoutError(f"{what}: timed out", field="model")
    transient_types = (
        litellm.exceptions.RateLimitError,
        litellm.exceptions.ServiceUnavailableError,
        litellm.exceptions.InternalServerError,
        litellm.exceptions.APIConnectionError,
        litellm.exceptions.BadGatewayError,
    )
    if isinstance(exc, transient_types) or status in _TRANSIENT_STATUS:
        return TransientProviderError(f"{what}: transient failure", field="model")
    return ProviderError(f"{what}: request failed", field="model")
