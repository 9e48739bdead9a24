"""Expert profiles and the seven default experts of seed 002.

A profile is a value: role, skills with levels and confidence, the system prompt
and the sampling temperature. Profiles are loaded from code (the defaults), from
a TOML or YAML file (:func:`load_profiles`) or registered per workspace.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic import ValidationError as PydanticValidationError

from maestro.errors import ConfigurationError

__all__ = [
    "DEFAULT_EXPERTS",
    "AgentSkill",
    "ExpertAgentProfile",
    "ExpertiseLevel",
    "SkillTag",
    "load_profiles",
    "parse_profiles",
]

_SLUG = re.compile(r"^[a-z][a-z0-9_-]{1,49}$")


class ExpertiseLevel(IntEnum):
    """How good an agent is at a skill; comparisons (``>= ADVANCED``) are meaningful."""

    BEGINNER = 1
    INTERMEDIATE = 2
    ADVANCED = 3
    EXPERT = 4
    MASTER = 5


class SkillTag:
    """The skills of seed 002's experts (custom agents may name any other snake_case skill)."""

    KEYWORD_RESEARCH = "keyword_research"
    SEMANTIC_SEO = "semantic_seo"
    TECHNICAL_SEO = "technical_seo"
    PERSUASIVE_WRITING = "persuasive_writing"
    STORYTELLING = "storytelling"
    CTA_OPTIMIZATION = "cta_optimization"
    HEADLINE_WRITING = "headline_writing"
    DATA_ANALYSIS = "data_analysis"
    DATA_VISUALIZATION = "data_visualization"
    INSIGHT_GENERATION = "insight_generation"
    BEHAVIORAL_PSYCHOLOGY = "behavioral_psychology"
    COGNITIVE_BIASES = "cognitive_biases"
    EMOTIONAL_TRIGGERS = "emotional_triggers"
    VIRAL_MECHANICS = "viral_mechanics"
    SHAREABILITY = "shareability"
    TREND_ANALYSIS = "trend_analysis"
    MEME_CULTURE = "meme_culture"
    BRAND_VOICE = "brand_voice"
    TONE_CONSISTENCY = "tone_consistency"
    STYLE_GUIDELINES = "style_guidelines"
    TECHNICAL_WRITING = "technical_writing"
    DOCUMENTATION = "documentation"
    SIMPLIFICATION = "simplification"


class AgentSkill(BaseModel):
    """One skill of an agent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    skill: str = Field(pattern=r"^[a-z][a-z0-9_]{1,49}$")
    """A snake_case skill tag, e.g. ``persuasive_writing``."""
    level: ExpertiseLevel = ExpertiseLevel.ADVANCED
    """How good the agent is at it."""
    confidence: float = Field(default=0.8, ge=0.0, le=1.0)
    """How sure we are of ``level``."""

    @field_validator("level", mode="before")
    @classmethod
    def _level_by_name(cls, v: Any) -> Any:
        if isinstance(v, str) and not v.isdigit():
            try:
                return ExpertiseLevel[v.upper()]
            except KeyError:
                names = ", ".join(x.name.lower() for x in ExpertiseLevel)
                raise ValueError(f"unknown expertise level {v!r}; accepted: {names}") from None
        return v


class ExpertAgentProfile(BaseModel):
    """A hyper-specialised expert (seed 002 ``ExpertAgentProfile``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent_id: str
    """Stable id used in plans, sequences and metrics (lower-case slug)."""
    role: str
    """What kind of expert this is, e.g. ``seo_expert``."""
    name: str = Field(min_length=1, max_length=100)
    """A human-readable name."""
    description: str = ""
    """One line about what the agent is good for (shown to the planner)."""
    skills: tuple[AgentSkill, ...] = Field(min_length=1)
    """What the agent can do."""
    system_prompt: str = Field(min_length=1)
    """The agent's system message on every call."""
    temperature: float = Field(default=0.7, ge=0.0, le=2.0)
    """Sampling temperature of the agent's calls."""

    @field_validator("agent_id", "role")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not _SLUG.match(v):
            raise ValueError(f"{v!r} must be a lower-case slug of 2-50 of [a-z0-9_-]")
        return v

    def level_of(self, skill: str) -> ExpertiseLevel | None:
        for s in self.skills:
            if s.skill == skill:
                return s.level
        return None

    def skill_names(self) -> set[str]:
        return {s.skill for s in self.skills}

    @property
    def expertise(self) -> float:
        """Mean of level x confidence over skills, scaled to [0, 1] (weights votes)."""
        top = float(ExpertiseLevel.MASTER)
        return sum(s.level * s.confidence for s in self.skills) / (top * len(self.skills))


def _expert(
    agent_id: str,
    name: str,
    description: str,
    skills: Sequence[tuple[str, ExpertiseLevel, float]],
    prompt: str,
    temperature: float,
) -> ExpertAgentProfile:
    return ExpertAgentProfile(
        agent_id=agent_id,
        role=agent_id,
        name=name,
        description=description,
        skills=tuple(AgentSkill(skill=s, level=lv, confidence=c) for s, lv, c in skills),
        system_prompt=prompt,
        temperature=temperature,
    )


_E, _A, _M = ExpertiseLevel.EXPERT, ExpertiseLevel.ADVANCED, ExpertiseLevel.MASTER
T = SkillTag

DEFAULT_EXPERTS: tuple[ExpertAgentProfile, ...] = (
    _expert(
        "seo_expert",
        "SEO Expert",
        "Search optimization and keyword strategy",
        [(T.KEYWORD_RESEARCH, _M, 0.95), (T.SEMANTIC_SEO, _E, 0.9), (T.TECHNICAL_SEO, _E, 0.85)],
        "You are an SEO expert. Optimise for search intent, keywords and semantic coverage "
        "without hurting readability.",
        0.3,
    ),
    _expert(
        "copywriting_ninja",
        "Copywriting Ninja",
        "Persuasive writing and conversion",
        [
            (T.PERSUASIVE_WRITING, _M, 0.95),
            (T.STORYTELLING, _E, 0.9),
            (T.CTA_OPTIMIZATION, _E, 0.9),
            (T.HEADLINE_WRITING, _E, 0.85),
        ],
        "You are a conversion copywriter. Write persuasive, concrete copy with a strong hook "
        "and a clear call to action.",
        0.8,
    ),
    _expert(
        "data_storyteller",
        "Data Storyteller",
        "Data narratives and insights",
        [
            (T.DATA_ANALYSIS, _E, 0.9),
            (T.DATA_VISUALIZATION, _A, 0.85),
            (T.INSIGHT_GENERATION, _E, 0.9),
        ],
        "You are a data storyteller. Turn numbers into a narrative with one clear insight.",
        0.5,
    ),
    _expert(
        "psychology_specialist",
        "Psychology Specialist",
        "Behavioral psychology and persuasion",
        [
            (T.BEHAVIORAL_PSYCHOLOGY, _M, 0.9),
            (T.COGNITIVE_BIASES, _E, 0.9),
            (T.EMOTIONAL_TRIGGERS, _E, 0.85),
        ],
        "You are a behavioral psychologist. Apply cognitive biases and emotional triggers "
        "ethically to make the message land.",
        0.6,
    ),
    _expert(
        "viral_engineer",
        "Viral Engineer",
        "Viral content and shareability",
        [
            (T.VIRAL_MECHANICS, _M, 0.9),
            (T.SHAREABILITY, _E, 0.9),
            (T.TREND_ANALYSIS, _E, 0.85),
            (T.MEME_CULTURE, _A, 0.8),
        ],
        "You are a viral content engineer. Make the content shareable: a hook, a twist and a "
        "reason to pass it on.",
        0.9,
    ),
    _expert(
        "brand_guardian",
        "Brand Guardian",
        "Brand consistency and voice",
        [(T.BRAND_VOICE, _M, 0.95), (T.TONE_CONSISTENCY, _E, 0.9), (T.STYLE_GUIDELINES, _E, 0.9)],
        "You are the brand guardian. Keep every word in the brand's voice, tone and style "
        "guidelines.",
        0.4,
    ),
    _expert(
        "technical_writer",
        "Technical Writer",
        "Technical simplification",
        [
            (T.TECHNICAL_WRITING, _M, 0.9),
            (T.DOCUMENTATION, _E, 0.9),
            (T.SIMPLIFICATION, _E, 0.9),
        ],
        "You are a technical writer. Explain precisely and simply; short sentences, no jargon.",
        0.3,
    ),
)
"""Seed 002's seven experts, the registry's defaults in every workspace."""


def parse_profiles(data: Any, *, source: str = "profiles") -> list[ExpertAgentProfile]:
    """Profiles from parsed TOML/YAML: ``{"agents": [{...}, ...]}`` or a bare list."""
    items = data.get("agents") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ConfigurationError(
            f"{source}: expected a list of agents (or a table 'agents'), "
            f"got {type(items).__name__}",
            field="agents",
        )
    out: list[ExpertAgentProfile] = []
    for i, item in enumerate(items):
        try:
            out.append(ExpertAgentProfile.model_validate(item))
        except PydanticValidationError as exc:
            first = exc.errors()[0]
            loc = ".".join(str(p) for p in first["loc"])
            raise ConfigurationError(
                f"{source}: agent #{i + 1} field {loc}: {first['msg']}", field=f"agents.{loc}"
            ) from None
    return out


def load_profiles(path: str | Path) -> list[ExpertAgentProfile]:
    """Read custom experts from a ``.toml`` or ``.yaml``/``.yml`` file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigurationError(f"agents file {str(p)!r} does not exist", field="agents_file")
    text = p.read_text(encoding="utf-8")
    if p.suffix == ".toml":
        data: Any = tomllib.loads(text)
    elif p.suffix in (".yaml", ".yml"):
        try:
            yaml = importlib.import_module("yaml")
        except ImportError:
            raise ConfigurationError(
                f"agents file {str(p)!r} is YAML: install PyYAML (pip install pyyaml)",
                field="agents_file",
            ) from None
        data = yaml.safe_load(text)
    else:
        raise ConfigurationError(
            f"agents file {str(p)!r}: unsupported suffix {p.suffix!r}; "
            "accepted: .toml, .yaml, .yml",
            field="agents_file",
        )
    return parse_profiles(data, source=str(p))
