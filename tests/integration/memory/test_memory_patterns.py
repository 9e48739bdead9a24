"""The learned-pattern lifecycle on SQLite and PostgreSQL, driven by a manual clock.

Discovery (+30% over >= 5 posts), validation, decay below 0.3 (no longer
injected), decay below 0.1 (archived, still searchable), weakening, isolation.
"""

from __future__ import annotations

import math

import pytest

from maestro.clock import ManualClock
from maestro.memory import GLOBAL_BRAND, MemoryManager, PatternPolicy
from maestro.store.db import Database

BRAND = "longevitycollege"
DAY = 86_400.0


@pytest.fixture
def memory(db: Database, clock: ManualClock) -> MemoryManager:
    return MemoryManager(db, clock)


async def publish(
    memory: MemoryManager, ws: str, agent: str, strategy: str, engagement: float, n: int
) -> None:
    for _ in range(n):
        await memory.posts.record_post(
            ws, brand=BRAND, agent_id=agent, strategy=strategy, engagement=engagement
        )


async def test_discover_validate_decay_archive(
    memory: MemoryManager, clock: ManualClock, workspace_id: str
) -> None:
    ws = workspace_id
    await publish(memory, ws, "ada", "curiosity", 200, 5)
    await publish(memory, ws, "bob", "stat", 100, 5)

    report = await memory.feedback_cycle(ws, BRAND)  # discovery: 200 vs brand 150 = +33%
    (pattern,) = report.discovered
    assert (pattern.strategy, pattern.discovered_by, pattern.pattern_type) == (
        "curiosity",
        "ada",
        "strategy_performance",
    )
    assert pattern.brand == BRAND and pattern.evidence_count == 5
    assert pattern.confidence == pytest.approx(0.5)
    assert pattern.metadata["lift"] == pytest.approx(1 / 3)
    assert [p.id for p in await memory.patterns.injectable(ws, BRAND)] == [pattern.id]
    section = await memory.patterns.knowledge_section(ws, BRAND)
    assert section is not None and section.template_version == "institutional-knowledge-v1"
    assert "Institutional knowledge" in section.text and "curiosity" in section.text

    assert (await memory.feedback_cycle(ws, BRAND)).validated == ()  # same posts: no new evidence

    clock.advance(1 * DAY)
    await publish(memory, ws, "ada", "curiosity", 180, 3)
    await publish(memory, ws, "bob", "stat", 90, 3)
    report = await memory.feedback_cycle(ws, BRAND)
    (validated,) = report.validated
    assert validated.id == pattern.id
    assert validated.confidence == pytest.approx(0.6)
    assert validated.last_validated_at == clock.now()
    assert validated.evidence_count == 8
    assert report.discovered == ()  # an active pattern is validated, not rediscovered

    # 0.6 * exp(-d/30) crosses 0.3 at d = 30 ln 2 = 20.8 days
    clock.advance(20 * DAY)
    (still,) = await memory.patterns.injectable(ws, BRAND)
    assert still.effective_confidence == pytest.approx(0.6 * math.exp(-20 / 30))
    clock.advance(1 * DAY)
    assert await memory.patterns.injectable(ws, BRAND) == []
    assert await memory.patterns.knowledge_section(ws, BRAND) is None
    (weak,) = await memory.patterns.list_patterns(ws, brand=BRAND)
    assert not weak.archived and weak.effective_confidence == pytest.approx(
        0.6 * math.exp(-21 / 30)
    )
    assert weak.confidence == pytest.approx(0.6)  # decay is computed at read time, never stored

    # crosses 0.1 at d = 30 ln 6 = 53.75 days
    clock.advance(32 * DAY)  # day 53
    assert (await memory.feedback_cycle(ws, BRAND)).archived == ()
    clock.advance(1 * DAY)  # day 54
    (archived,) = (await memory.feedback_cycle(ws, BRAND)).archived
    assert archived.id == pattern.id and archived.archived
    assert await memory.patterns.list_patterns(ws, brand=BRAND) == []
    found = await memory.patterns.search(ws, "curiosity")
    assert [(p.id, p.archived) for p in found] == [(pattern.id, True)]
    assert found[0].effective_confidence < 0.1
    assert await memory.patterns.injectable(ws, BRAND) == []
    assert await memory.patterns.search(ws, "curiosity", include_archived=False) == []


async def test_contradicting_results_weaken_without_refreshing(
    memory: MemoryManager, clock: ManualClock, workspace_id: str
) -> None:
    ws = workspace_id
    await publish(memory, ws, "ada", "curiosity", 200, 5)
    await publish(memory, ws, "bob", "stat", 100, 5)
    (pattern,) = (await memory.feedback_cycle(ws, BRAND)).discovered
    clock.advance(2 * DAY)
    await publish(memory, ws, "ada", "curiosity", 50, 2)
    await publish(memory, ws, "bob", "stat", 100, 2)
    (weakened,) = (await memory.feedback_cycle(ws, BRAND)).weakened
    assert weakened.confidence == pytest.approx(0.35)
    assert weakened.last_validated_at == pattern.last_validated_at
    again = await memory.feedback_cycle(ws, BRAND)  # the same posts are not judged twice
    assert again.weakened == () and again.validated == ()
    assert (await memory.patterns.get(ws, pattern.id)).confidence == pytest.approx(0.35)


async def test_an_archived_pattern_stays_history_and_a_new_discovery_is_a_new_row(
    db: Database, clock: ManualClock, workspace_id: str
) -> None:
    memory = MemoryManager(db, clock)
    ws = workspace_id
    await publish(memory, ws, "ada", "curiosity", 200, 5)
    await publish(memory, ws, "bob", "stat", 100, 5)
    (first,) = (await memory.feedback_cycle(ws, BRAND)).discovered
    clock.advance(60 * DAY)
    assert [p.id for p in (await memory.feedback_cycle(ws, BRAND)).archived] == [first.id]
    await publish(memory, ws, "cy", "curiosity", 400, 5)
    await publish(memory, ws, "bob", "stat", 100, 5)
    (second,) = (await memory.feedback_cycle(ws, BRAND)).discovered
    assert second.id != first.id and second.discovered_by == "cy"
    assert {p.id for p in await memory.patterns.search(ws, strategy="curiosity")} == {
        first.id,
        second.id,
    }


async def test_thresholds_and_decay_are_configuration(
    db: Database, clock: ManualClock, workspace_id: str
) -> None:
    from maestro.memory import MemorySettings

    policy = PatternPolicy(decay_days=10, inject_threshold=0.45)
    memory = MemoryManager(db, clock, settings=MemorySettings(patterns=policy))
    await memory.patterns.add(
        workspace_id,
        pattern_type="timing",
        brand=GLOBAL_BRAND,
        strategy="morning",
        description="posts before 9am do better",
        discovered_by="analyzer",
        confidence=0.5,
    )
    assert len(await memory.patterns.injectable(workspace_id, BRAND)) == 1  # _global_ applies
    clock.advance(1.1 * DAY)  # 0.5 * exp(-1.1/10) = 0.448 < 0.45
    assert await memory.patterns.injectable(workspace_id, BRAND) == []


async def test_workspace_b_never_sees_a_patterns(
    memory: MemoryManager, workspace_id: str, other_workspace_id: str
) -> None:
    await publish(memory, workspace_id, "ada", "curiosity", 200, 5)
    await publish(memory, workspace_id, "bob", "stat", 100, 5)
    assert len((await memory.feedback_cycle(workspace_id, BRAND)).discovered) == 1
    assert (await memory.feedback_cycle(other_workspace_id, BRAND)).discovered == ()
    assert await memory.patterns.injectable(other_workspace_id, BRAND) == []
    assert await memory.patterns.search(other_workspace_id) == []
    assert await memory.posts.samples(other_workspace_id, BRAND) == []
