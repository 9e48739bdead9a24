from __future__ import annotations

import pytest

from maestro.agents.strategies import DEFAULT_STRATEGIES, Strategy, StrategyCatalog
from maestro.errors import ConflictError, NotFoundError, ValidationError


def test_catalog_has_eight_default_strategies_each_with_a_prompt_fragment() -> None:
    catalog = StrategyCatalog()
    assert len(catalog) == 8
    assert set(catalog.names()) == {
        "curiosity-hook",
        "stat-hook",
        "story",
        "contrarian",
        "how-to",
        "listicle",
        "question",
        "social-proof",
    }
    fragments = [catalog.fragment(name) for name in catalog.names()]
    assert all(len(f) > 20 for f in fragments)
    assert len(set(fragments)) == 8
    assert all(s.builtin for s in DEFAULT_STRATEGIES)


def test_user_registers_a_custom_strategy() -> None:
    catalog = StrategyCatalog()
    catalog.register(
        Strategy(name="behind-the-scenes", title="Behind the scenes", prompt_fragment="Show how.")
    )
    assert "behind-the-scenes" in catalog
    assert catalog.fragment("behind-the-scenes") == "Show how."
    assert [s.name for s in catalog.custom()] == ["behind-the-scenes"]
    assert catalog.names()[-1] == "behind-the-scenes"


def test_registering_an_existing_name_is_a_conflict() -> None:
    catalog = StrategyCatalog()
    with pytest.raises(ConflictError) as exc:
        catalog.register(Strategy(name="story", title="Story again", prompt_fragment="x"))
    assert exc.value.field == "name"


@pytest.mark.parametrize("name", ["", "A", "Story", "two words", "x" * 31, "-dash", "9lives"])
def test_invalid_strategy_names_are_rejected_naming_the_field(name: str) -> None:
    with pytest.raises(ValidationError) as exc:
        Strategy(name=name, title="t", prompt_fragment="p")
    assert exc.value.field == "name"


def test_empty_prompt_fragment_is_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        Strategy(name="empty", title="Empty", prompt_fragment="  ")
    assert exc.value.field == "prompt_fragment"


def test_unknown_strategy_is_not_found_and_require_names_it() -> None:
    catalog = StrategyCatalog()
    with pytest.raises(NotFoundError):
        catalog.get("meme")
    with pytest.raises(ValidationError, match="'meme'"):
        catalog.require(["story", "meme"])
