"""Prompt templates: versioned Jinja2 files rendered strictly.

A template's name carries its version (``v4-orchestrator``), and every render
returns that version so the gateway can record it with the call. Undefined
variables are errors, not empty strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2

from maestro.errors import ConfigurationError

__all__ = ["RenderedPrompt", "render"]


@dataclass(frozen=True)
class RenderedPrompt:
    text: str
    template_version: str


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("maestro.llm", "prompts"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def render(name: str, /, **variables: Any) -> RenderedPrompt:
    """Render template ``name`` (e.g. ``"v4-orchestrator"``) with ``variables``."""
    try:
        template = _env().get_template(f"{name}.j2")
    except jinja2.TemplateNotFound:
        raise ConfigurationError(f"unknown prompt template {name!r}", field="template") from None
    try:
        text = template.render(**variables)
    except jinja2.UndefinedError as exc:
        raise ConfigurationError(f"template {name!r}: {exc.message}", field="template") from None
    return RenderedPrompt(text=text.strip(), template_version=name)
