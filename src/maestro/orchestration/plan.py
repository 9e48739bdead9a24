"""The planner's output, parsed and validated against the registry (pure functions).

A model may answer with anything, so nothing it says runs unchecked:

- the answer must contain a JSON list of agent ids (a bare list, or the first
  list value of an object such as ``{"agents": [...]}``);
- an unknown id is repaired to a registered id when the match is unambiguous
  (case, separators, or a close spelling), otherwise the plan is rejected;
- a repeated id would make the sequence loop back (a cycle): later repeats are
  dropped;
- a plan longer than the limit is truncated.

Every repair is reported, so the routing decision records what was changed.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from maestro.errors import ValidationError

__all__ = ["ValidatedPlan", "extract_agent_list", "validate_plan"]

_CLOSE_MATCH = 0.85
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


@dataclass(frozen=True)
class ValidatedPlan:
    agents: tuple[str, ...]
    repairs: tuple[str, ...] = field(default_factory=tuple)
    """What was changed, one sentence each (empty when the plan was valid as given)."""


def extract_agent_list(text: str) -> list[str]:
    """The agent ids in a planner answer; :class:`ValidationError` if there are none."""
    for candidate in _json_candidates(text):
        names = _names(candidate)
        if names is not None:
            return names
    raise ValidationError(
        f"planner answer has no JSON list of agents: {text[:200]!r}", field="agent_sequence"
    )


def validate_plan(
    proposed: Sequence[str], known: Collection[str], *, max_agents: int
) -> ValidatedPlan:
    """Check ``proposed`` against the ``known`` agent ids; repair or reject."""
    repairs: list[str] = []
    out: list[str] = []
    unknown: list[str] = []
    for raw in proposed:
        name = raw.strip()
        agent = name if name in known else _repair(name, known)
        if agent is None:
            unknown.append(name)
            continue
        if agent != name:
            repairs.append(f"unknown agent {name!r} repaired to {agent!r}")
        if agent in out:
            repairs.append(f"repeated agent {agent!r} dropped (a sequence must not loop back)")
            continue
        out.append(agent)
    if unknown:
        raise ValidationError(
            f"planner proposed unknown agent(s) {unknown}; known agents: {sorted(known)}",
            field="agent_sequence",
        )
    if not out:
        raise ValidationError("planner proposed an empty agent sequence", field="agent_sequence")
    if len(out) > max_agents:
        repairs.append(f"plan of {len(out)} agents truncated to {max_agents}")
        out = out[:max_agents]
    return ValidatedPlan(tuple(out), tuple(repairs))


def _repair(name: str, known: Collection[str]) -> str | None:
    canon = re.sub(r"[\s.-]+", "_", name.strip("`'\" ").lower())
    if canon in known:
        return canon
    close = difflib.get_close_matches(canon, list(known), n=2, cutoff=_CLOSE_MATCH)
    if len(close) == 1:
        return close[0]
    return None


def _json_candidates(text: str) -> list[Any]:
    chunks = [m.group(1) for m in _FENCE.finditer(text)] + [text]
    found: list[Any] = []
    decoder = json.JSONDecoder()
    for chunk in chunks:
        for i, ch in enumerate(chunk):
            if ch not in "[{":
                continue
            try:
                value, _ = decoder.raw_decode(chunk[i:])
            except json.JSONDecodeError:
                continue
            found.append(value)
            break
    return found


def _names(value: Any) -> list[str] | None:
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        names = [v.get("agent") or v.get("agent_id") or v.get("name") for v in value]
        return [str(n) for n in names] if all(isinstance(n, str) for n in names) else None
    if isinstance(value, dict):
        for key in ("agents", "agent_sequence", "sequence", "plan", "steps"):
            if key in value:
                return _names(value[key])
        for v in value.values():
            found = _names(v)
            if found is not None:
                return found
    return None
