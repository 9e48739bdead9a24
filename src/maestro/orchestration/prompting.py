"""Orchestration's prompt templates: versioned Jinja2 files rendered strictly.

The templates follow the prompt conventions of docs/llm.md (``Key: value``
lines, headed bullet lists, the examined text in a ``<content>`` block), which
any model reads naturally and the offline model parses. The template name is its
version and is recorded with every call (``template_version``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jinja2

from maestro.errors import ConfigurationError
from maestro.llm.templates import RenderedPrompt

__all__ = [
    "AGENT_STEP",
    "CRITIQUE",
    "DEBATE_PROPOSE",
    "DEBATE_SYNTHESIS",
    "PLANNER",
    "REVISE",
    "render",
]

AGENT_STEP = "v1-agent-step"
PLANNER = "v1-planner"
CRITIQUE = "v1-critique"
REVISE = "v1-revise"
DEBATE_PROPOSE = "v1-debate-propose"
DEBATE_SYNTHESIS = "v1-debate-synthesis"


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("maestro.orchestration", "prompts"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=32)
def _template(name: str) -> jinja2.Template:
    try:
        return _env().get_template(f"{name}.j2")
    except jinja2.TemplateNotFound:
        raise ConfigurationError(f"unknown prompt template {name!r}", field="template") from None


def render(name: str, /, **variables: Any) -> RenderedPrompt:
    """Render template ``name`` (its version) with ``variables``; undefined ones are errors."""
    try:
        text = _template(name).render(**variables)
    except jinja2.UndefinedError as exc:
        raise ConfigurationError(f"template {name!r}: {exc.message}", field="template") from None
    return RenderedPrompt(text=text.strip(), template_version=name)
