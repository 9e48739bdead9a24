"""Checkpoint rules as pure functions: when a checkpoint fires and whether it auto-approves.

Auto-approval: a trusted user (configured or named by the checkpoint) is
approved outright; otherwise every numeric rule the checkpoint sets
(``quality_above``, ``success_rate_above``) must hold, so adding a rule can
only make auto-approval stricter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from maestro.orchestration.spec import CheckpointSpec

__all__ = ["Evidence", "auto_approval", "due_after_stage", "due_before_execution"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """What auto-approval rules look at."""

    quality: float | None
    success_rate: float | None
    user_id: str | None


def due_before_execution(checkpoints: Sequence[CheckpointSpec]) -> list[CheckpointSpec]:
    return [c for c in checkpoints if c.condition == "before_execution"]


def due_after_stage(
    checkpoints: Sequence[CheckpointSpec], stage: str, qualities: Sequence[float]
) -> list[CheckpointSpec]:
    """Checkpoints that fire once ``stage`` finished with its steps' ``qualities``."""
    due: list[CheckpointSpec] = []
    for c in checkpoints:
        if (c.condition == "after_stage" and c.stage == stage) or (
            c.condition == "quality_below"
            and (c.stage is None or c.stage == stage)
            and c.quality_below is not None
            and any(q < c.quality_below for q in qualities)
        ):
            due.append(c)
    return due


def auto_approval(
    checkpoint: CheckpointSpec, evidence: Evidence, trusted_users: Sequence[str]
) -> str | None:
    """The rule that approves this checkpoint without a human, or ``None``."""
    if checkpoint.action == "auto_approve":
        return "action:auto_approve"
    users = set(trusted_users)
    rules = checkpoint.auto_approve_if
    if rules is not None:
        users |= set(rules.trusted_users)
    if evidence.user_id is not None and evidence.user_id in users:
        return f"trusted_user:{evidence.user_id}"
    if rules is None:
        return None
    checks: list[tuple[str, bool]] = []
    if rules.quality_above is not None:
        ok = evidence.quality is not None and evidence.quality > rules.quality_above
        checks.append((f"quality_above:{rules.quality_above}", ok))
    if rules.success_rate_above is not None:
        ok = evidence.success_rate is not None and evidence.success_rate > rules.success_rate_above
        checks.append((f"success_rate_above:{rules.success_rate_above}", ok))
    if checks and all(ok for _, ok in checks):
        return "+".join(name for name, _ in checks)
    return None
