"""Reactions to tips and the reward each one implies (seed 001: ``infer_reward``).

The reward is not fed to a model (ADR-0013 removed the bandit); it is stored
with the feedback, logged, and summarised by ``maestro recommend report``.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from maestro.errors import ValidationError

__all__ = ["REACTIONS", "REWARD_MILLI", "Reaction", "infer_reward"]

Reaction = Literal["done", "liked", "opened", "snoozed", "dismissed", "disliked"]
REACTIONS: Final[tuple[str, ...]] = get_args(Reaction)

REWARD_MILLI: Final[dict[str, int]] = {
    "done": 1000,
    "liked": 700,
    "opened": 300,
    "snoozed": 0,
    "dismissed": -300,
    "disliked": -700,
}
"""Maestro's choice, in thousandths: acting on a tip is worth most; a snooze is neutral
(right tip, wrong moment); dismissing is mildly and disliking strongly negative."""


def infer_reward(reaction: str) -> int:
    """The reward in thousandths (``reward_milli``) for ``reaction``."""
    try:
        return REWARD_MILLI[reaction]
    except KeyError:
        raise ValidationError(
            f"unknown reaction {reaction!r}; allowed: {', '.join(REACTIONS)}", field="reaction"
        ) from None
