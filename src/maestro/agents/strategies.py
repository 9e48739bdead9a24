"""Content strategies: named ways of writing a post, each with a prompt fragment.

A strategy is what an agent's weights are over and what the audience reacts to.
The catalog starts with eight defaults; a workspace adds its own (persisted by
:class:`~maestro.agents.population_store.PopulationStore`). Names are short
slugs because they key weights, learned patterns and metrics everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from maestro.errors import ConflictError, NotFoundError, ValidationError

__all__ = [
    "DEFAULT_STRATEGIES",
    "STRATEGY_NAME_PATTERN",
    "Strategy",
    "StrategyCatalog",
    "validate_strategy_name",
]

STRATEGY_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,29}$")
"""Lower-case slug, 2-30 characters (the ``strategy`` column is 30 wide)."""


def validate_strategy_name(name: str, *, field: str = "strategy") -> str:
    """``name`` if it is a valid strategy slug, else :class:`ValidationError`."""
    if not STRATEGY_NAME_PATTERN.fullmatch(name):
        raise ValidationError(
            f"invalid strategy name {name!r}: use 2-30 characters a-z, 0-9 and '-', "
            "starting with a letter",
            field=field,
        )
    return name


@dataclass(frozen=True, kw_only=True)
class Strategy:
    """One way of writing content."""

    name: str
    """Slug that keys weights and metrics, e.g. ``curiosity-hook``."""
    title: str
    """Human-readable name for dashboards."""
    prompt_fragment: str
    """Instruction inserted into the generation prompt when an agent uses it."""
    description: str = ""
    """Why and when the strategy works, for people."""
    builtin: bool = False
    """True for the eight defaults, which cannot be replaced."""

    def __post_init__(self) -> None:
        validate_strategy_name(self.name, field="name")
        if not self.title.strip():
            raise ValidationError(f"strategy {self.name!r} needs a title", field="title")
        if not self.prompt_fragment.strip():
            raise ValidationError(
                f"strategy {self.name!r} needs a prompt fragment", field="prompt_fragment"
            )
        if len(self.title) > 100:
            raise ValidationError(
                f"strategy title {self.title[:20]!r}... is longer than 100 characters",
                field="title",
            )


DEFAULT_STRATEGIES: tuple[Strategy, ...] = (
    Strategy(
        name="curiosity-hook",
        title="Curiosity hook",
        prompt_fragment=(
            "Open with a curiosity gap: hint at a surprising payoff in the first line and "
            "deliver it only at the end."
        ),
        description="Withholding the answer keeps people reading.",
        builtin=True,
    ),
    Strategy(
        name="stat-hook",
        title="Stat hook",
        prompt_fragment=(
            "Open with one concrete, striking number and explain what it means for the reader."
        ),
        description="A specific figure signals authority and stops the scroll.",
        builtin=True,
    ),
    Strategy(
        name="story",
        title="Story",
        prompt_fragment=(
            "Tell a short story with a person, a problem and a turning point; end with the lesson."
        ),
        description="Narrative is remembered and shared.",
        builtin=True,
    ),
    Strategy(
        name="contrarian",
        title="Contrarian take",
        prompt_fragment=(
            "State a common belief, then argue respectfully why it is wrong, with one reason "
            "the reader can check."
        ),
        description="Disagreement invites comments.",
        builtin=True,
    ),
    Strategy(
        name="how-to",
        title="How-to",
        prompt_fragment=(
            "Teach one practical task in clear numbered steps the reader can do today."
        ),
        description="Useful content gets saved.",
        builtin=True,
    ),
    Strategy(
        name="listicle",
        title="Listicle",
        prompt_fragment="Write a list of 3 to 7 short, parallel items under one promise.",
        description="Lists are skimmable and easy to finish.",
        builtin=True,
    ),
    Strategy(
        name="question",
        title="Question",
        prompt_fragment=(
            "Lead with a direct question to the reader and end by inviting their answer."
        ),
        description="Questions start conversations.",
        builtin=True,
    ),
    Strategy(
        name="social-proof",
        title="Social proof",
        prompt_fragment=(
            "Show what people like the reader already do or achieved, with a concrete example "
            "or testimonial."
        ),
        description="People follow people like them.",
        builtin=True,
    ),
)


class StrategyCatalog:
    """The strategies one workspace can use: the defaults plus its custom ones."""

    def __init__(self, strategies: Iterable[Strategy] = DEFAULT_STRATEGIES) -> None:
        self._by_name: dict[str, Strategy] = {}
        for strategy in strategies:
            self.register(strategy)

    def register(self, strategy: Strategy) -> Strategy:
        """Add ``strategy``; a name already in the catalog is a :class:`ConflictError`."""
        if strategy.name in self._by_name:
            raise ConflictError(
                f"strategy {strategy.name!r} is already in the catalog", field="name"
            )
        self._by_name[strategy.name] = strategy
        return strategy

    def get(self, name: str) -> Strategy:
        try:
            return self._by_name[name]
        except KeyError:
            raise NotFoundError(f"unknown strategy {name!r}", field="strategy") from None

    def fragment(self, name: str) -> str:
        """The prompt fragment of strategy ``name``."""
        return self.get(name).prompt_fragment

    def names(self) -> tuple[str, ...]:
        """Strategy names in registration order (defaults first)."""
        return tuple(self._by_name)

    def custom(self) -> tuple[Strategy, ...]:
        return tuple(s for s in self._by_name.values() if not s.builtin)

    def require(self, names: Iterable[str], *, field: str = "strategy") -> None:
        """Raise :class:`ValidationError` naming the first name not in the catalog."""
        for name in names:
            if name not in self._by_name:
                raise ValidationError(f"unknown strategy {name!r}", field=field)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[Strategy]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)
