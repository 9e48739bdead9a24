"""Finding experts by skill and assembling a team: pure functions over profiles.

Team assembly is a greedy set cover: required skills first (each pick covers
the most still-uncovered required skills), then preferred skills while the team
has room, then filling up to the minimum size. Ties go to the agent with the
better recorded performance on the task type, then the higher skill level.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator

from maestro.errors import ValidationError
from maestro.orchestration.profiles import ExpertAgentProfile, ExpertiseLevel

__all__ = [
    "NEUTRAL_PERFORMANCE",
    "TaskRequirements",
    "Team",
    "TeamMember",
    "assemble_team",
    "find_by_skill",
]

NEUTRAL_PERFORMANCE = 0.5
"""Score assumed for an agent with no recorded performance on a task type."""


class TaskRequirements(BaseModel):
    """What a task needs from a team (seed 002 ``TaskRequirements``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_type: str = Field(min_length=1, max_length=50)
    """Performance is looked up per task type."""
    required_skills: tuple[str, ...] = ()
    """Every one must be covered, or assembly fails."""
    preferred_skills: tuple[str, ...] = ()
    """Covered while the team has room."""
    min_level: ExpertiseLevel = ExpertiseLevel.BEGINNER
    """A skill counts as covered only at this level or above."""
    min_team_size: int = Field(default=1, ge=1)
    """Fill up to this many members."""
    max_team_size: int = Field(default=5, ge=1)
    """Never more members than this."""

    @model_validator(mode="after")
    def _sizes(self) -> TaskRequirements:
        if self.min_team_size > self.max_team_size:
            raise ValueError(
                f"min_team_size {self.min_team_size} exceeds max_team_size {self.max_team_size}"
            )
        return self


class TeamMember(BaseModel):
    model_config = ConfigDict(frozen=True)

    agent_id: str
    role: str
    name: str
    covers: tuple[str, ...]
    """The required and preferred skills this member was picked for."""
    performance: float
    """Recorded mean score on the task type (neutral when none)."""


class Team(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_type: str
    members: tuple[TeamMember, ...]
    coverage: dict[str, str]
    """Skill -> the member covering it."""
    missing_preferred: tuple[str, ...]
    """Preferred skills the team does not cover."""

    @property
    def agent_ids(self) -> list[str]:
        return [m.agent_id for m in self.members]


def find_by_skill(
    profiles: Sequence[ExpertAgentProfile],
    skills: Sequence[str],
    *,
    min_level: ExpertiseLevel = ExpertiseLevel.BEGINNER,
    require_all: bool = False,
) -> list[ExpertAgentProfile]:
    """Agents with any (or all) of ``skills`` at ``min_level`` or above, best matches first."""
    wanted = list(dict.fromkeys(skills))
    if not wanted:
        raise ValidationError("skills must name at least one skill", field="skills")
    scored: list[tuple[int, int, ExpertAgentProfile]] = []
    for p in profiles:
        levels = [p.level_of(s) for s in wanted]
        hits = [lv for lv in levels if lv is not None and lv >= min_level]
        if (require_all and len(hits) == len(wanted)) or (not require_all and hits):
            scored.append((len(hits), sum(hits), p))
    scored.sort(key=lambda t: (-t[0], -t[1], t[2].agent_id))
    return [p for _, _, p in scored]


def assemble_team(
    profiles: Sequence[ExpertAgentProfile],
    req: TaskRequirements,
    performance: Mapping[str, float] | None = None,
) -> Team:
    """The smallest good team covering ``req``; ``performance`` maps agent id -> mean score."""
    perf = dict(performance or {})
    pool = {p.agent_id: p for p in profiles}
    missing = [
        s
        for s in req.required_skills
        if not any((lv := p.level_of(s)) is not None and lv >= req.min_level for p in profiles)
    ]
    if missing:
        raise ValidationError(
            f"no agent has required skill(s) {missing} at level {req.min_level.name.lower()} "
            "or above",
            field="required_skills",
        )
    chosen: dict[str, list[str]] = {}
    coverage: dict[str, str] = {}
    for skills, mandatory in ((req.required_skills, True), (req.preferred_skills, False)):
        uncovered = [s for s in dict.fromkeys(skills) if s not in coverage]
        while uncovered:
            pick = _best_cover(pool, chosen, uncovered, req.min_level, perf)
            if pick is None:
                break
            if len(chosen) >= req.max_team_size:
                if mandatory:
                    raise ValidationError(
                        f"required skills {list(req.required_skills)} need more than "
                        f"max_team_size={req.max_team_size} agents",
                        field="max_team_size",
                    )
                break
            agent_id, covered = pick
            chosen[agent_id] = covered
            for s in covered:
                coverage[s] = agent_id
            uncovered = [s for s in uncovered if s not in coverage]
    for agent_id in sorted(pool, key=lambda a: (-perf.get(a, NEUTRAL_PERFORMANCE), a)):
        if len(chosen) >= req.min_team_size:
            break
        chosen.setdefault(agent_id, [])
    members = tuple(
        TeamMember(
            agent_id=a,
            role=pool[a].role,
            name=pool[a].name,
            covers=tuple(covers),
            performance=perf.get(a, NEUTRAL_PERFORMANCE),
        )
        for a, covers in chosen.items()
    )
    return Team(
        task_type=req.task_type,
        members=members,
        coverage=coverage,
        missing_preferred=tuple(s for s in req.preferred_skills if s not in coverage),
    )


def _best_cover(
    pool: Mapping[str, ExpertAgentProfile],
    chosen: Mapping[str, list[str]],
    uncovered: Sequence[str],
    min_level: ExpertiseLevel,
    perf: Mapping[str, float],
) -> tuple[str, list[str]] | None:
    best: tuple[tuple[int, float, int, str], str, list[str]] | None = None
    for agent_id, p in pool.items():
        if agent_id in chosen:
            continue
        covered = [s for s in uncovered if (lv := p.level_of(s)) is not None and lv >= min_level]
        if not covered:
            continue
        level_sum = sum(int(p.level_of(s) or 0) for s in covered)
        # Sort key: more skills covered, better performance, higher levels, then id (stable).
        key = (len(covered), perf.get(agent_id, NEUTRAL_PERFORMANCE), level_sum, _neg(agent_id))
        if best is None or key > best[0]:
            best = (key, agent_id, covered)
    return None if best is None else (best[1], best[2])


def _neg(text: str) -> str:
    """A key that sorts ids in reverse, so ``max`` prefers the alphabetically first."""
    return "".join(chr(0x10FFFF - ord(c)) for c in text)
