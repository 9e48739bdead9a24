"""Memory settings from the environment and the institutional-knowledge template."""

from __future__ import annotations

import pytest

from maestro.config import Settings
from maestro.errors import ConfigurationError
from maestro.llm.templates import render
from maestro.memory import KNOWLEDGE_TEMPLATE, policy


def test_seed_numbers_are_the_defaults() -> None:
    s = Settings.load().memory
    assert (s.task_retention_days, s.critique_retention_days, s.metrics_decay_days) == (30, 7, 30)
    p = s.patterns
    assert (p.decay_days, p.inject_threshold, p.archive_threshold) == (30, 0.3, 0.1)
    assert (p.discovery_lift, p.min_discovery_posts) == (0.3, 5)
    assert p.inject_threshold == policy.DEFAULT_INJECT_THRESHOLD


def test_environment_overrides_nested_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAESTRO_MEMORY__PATTERNS__DECAY_DAYS", "14")
    monkeypatch.setenv("MAESTRO_MEMORY__TASK_RETENTION_DAYS", "60")
    s = Settings.load().memory
    assert s.patterns.decay_days == 14 and s.task_retention_days == 60


def test_invalid_memory_setting_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAESTRO_MEMORY__PATTERNS__INJECT_THRESHOLD", "0.05")
    with pytest.raises(ConfigurationError) as err:
        Settings.load()
    assert err.value.field is not None and err.value.field.startswith("memory")


def test_template_lists_patterns_with_confidence() -> None:
    patterns = [
        {
            "description": "curiosity hooks beat the average by 40%",
            "effective_confidence": 0.72,
            "evidence_count": 12,
            "strategy": "curiosity",
        },
        {
            "description": "carousels work on Sundays",
            "effective_confidence": 0.31,
            "evidence_count": 1,
            "strategy": "carousel",
        },
    ]
    out = render(KNOWLEDGE_TEMPLATE, patterns=patterns)
    assert out.template_version == "institutional-knowledge-v1"
    lines = out.text.splitlines()
    assert lines[0] == "## Institutional knowledge"
    assert "- curiosity hooks beat the average by 40% (confidence 0.72, 12 data points)" in lines
    assert "- carousels work on Sundays (confidence 0.31, 1 data point)" in lines


def test_every_exported_name_resolves() -> None:
    import maestro.memory as memory

    for name in memory.__all__:
        assert getattr(memory, name) is not None
    with pytest.raises(AttributeError):
        _ = memory.NoSuchThing  # type: ignore[attr-defined]
