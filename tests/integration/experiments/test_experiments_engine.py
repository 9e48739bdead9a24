"""The experiment engine on every storage backend: lifecycle, decisions, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from maestro.engine import Maestro
from maestro.errors import ConflictError, NotFoundError, ValidationError
from maestro.learning.experiments import (
    ExperimentEngine,
    ExperimentSpec,
    OutcomeIn,
    VariantSpec,
    experiments_for,
)
from maestro.store.tables.experiments import ExperimentOutcomeRow

THREE = [VariantSpec("control"), VariantSpec("curiosity_gap"), VariantSpec("emotional")]


@pytest.fixture
def experiments(engine: Maestro) -> ExperimentEngine:
    return experiments_for(engine)


async def _outcome_count(engine: Maestro, experiment_id: str) -> int:
    async with engine.db.read() as session:
        stmt = select(func.count()).where(ExperimentOutcomeRow.experiment_id == experiment_id)
        return int(await session.scalar(stmt) or 0)


async def test_lifecycle_assign_is_sticky_and_outcomes_are_analyzed(
    experiments: ExperimentEngine, workspace_id: str
) -> None:
    exp = await experiments.create(workspace_id, ExperimentSpec("Hook Style Test", THREE))
    assert exp.status == "draft" and [v.name for v in exp.variants] == [v.name for v in THREE]
    with pytest.raises(ConflictError):
        await experiments.assign(workspace_id, exp.id, "user-1")
    started = await experiments.start(workspace_id, exp.id)
    assert started.status == "running" and started.started_at is not None

    first = await experiments.assign(workspace_id, exp.id, "user-1")
    again = await experiments.assign(workspace_id, exp.id, "user-1")
    assert first.new and not again.new and again.variant_id == first.variant_id
    seen = {
        (await experiments.assign(workspace_id, exp.id, f"u{i}")).variant_name for i in range(60)
    }
    assert seen == {v.name for v in THREE}  # equal allocation reaches every variant

    await experiments.record_outcome(workspace_id, exp.id, value=1, unit_id="user-1")
    analysis = await experiments.analyze(workspace_id, exp.id)
    assert analysis.outcomes == 1
    assert sum(v.prob_best for v in analysis.variants) == pytest.approx(1.0)
    assert next(v for v in analysis.variants if v.variant_id == first.variant_id).n == 1


async def test_sequential_experiment_finds_a_planted_winner_and_stops(
    experiments: ExperimentEngine, workspace_id: str
) -> None:
    spec = ExperimentSpec("planted", THREE, kind="sequential", min_sample_size=50)
    exp = await experiments.create(workspace_id, spec)
    await experiments.start(workspace_id, exp.id)
    rng = np.random.default_rng(7)
    rates = [0.1, 0.1, 0.45]
    for _ in range(60):
        batch = [
            OutcomeIn(float(rng.random() < p), variant_id=v.id)
            for v, p in zip(exp.variants, rates, strict=True)
            for _ in range(5)
        ]
        current = await experiments.get(workspace_id, exp.id)
        if current.status != "running":
            break
        await experiments.record_outcomes(workspace_id, exp.id, batch)
    done = await experiments.get(workspace_id, exp.id)
    assert done.status == "completed"
    assert done.winner_variant_id == exp.variants[2].id
    assert done.stop_reason and "sequential" in done.stop_reason


async def test_completed_experiment_rejects_outcomes_and_records_nothing(
    experiments: ExperimentEngine, engine: Maestro, workspace_id: str
) -> None:
    exp = await experiments.create(workspace_id, ExperimentSpec("closed", THREE[:2]))
    await experiments.start(workspace_id, exp.id)
    await experiments.record_outcome(workspace_id, exp.id, value=0, variant_id=exp.variants[0].id)
    await experiments.complete(workspace_id, exp.id, winner_variant_id=exp.variants[1].id)
    with pytest.raises(ConflictError) as err:
        await experiments.record_outcome(
            workspace_id, exp.id, value=1, variant_id=exp.variants[0].id
        )
    assert err.value.field == "experiment_id"
    assert await _outcome_count(engine, exp.id) == 1
    with pytest.raises(ConflictError):
        await experiments.complete(workspace_id, exp.id)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"value": 0.5}, "value"),  # a binary metric takes 0 or 1
        ({"value": float("nan")}, "value"),
        ({"value": 1, "variant_id": "nope"}, "variant_id"),
        ({"value": 1, "unit_id": "never-assigned"}, "unit_id"),
        ({"value": 1}, "variant_id"),
    ],
)
async def test_bad_outcomes_name_the_field_and_record_nothing(
    experiments: ExperimentEngine,
    engine: Maestro,
    workspace_id: str,
    kwargs: dict[str, object],
    field: str,
) -> None:
    exp = await experiments.create(workspace_id, ExperimentSpec("bad", THREE[:2]))
    await experiments.start(workspace_id, exp.id)
    args = dict(kwargs)
    if "variant_id" not in args and "unit_id" not in args and field == "value":
        args["variant_id"] = exp.variants[0].id
    with pytest.raises(ValidationError) as err:
        await experiments.record_outcome(workspace_id, exp.id, **args)  # type: ignore[arg-type]
    assert err.value.field == field
    assert await _outcome_count(engine, exp.id) == 0
    assert all(v.n == 0 for v in (await experiments.get(workspace_id, exp.id)).variants)


async def test_a_bad_outcome_in_a_batch_records_none_of_the_batch(
    experiments: ExperimentEngine, engine: Maestro, workspace_id: str
) -> None:
    exp = await experiments.create(workspace_id, ExperimentSpec("batch", THREE[:2]))
    await experiments.start(workspace_id, exp.id)
    good = OutcomeIn(1.0, variant_id=exp.variants[0].id)
    with pytest.raises(ValidationError):
        await experiments.record_outcomes(
            workspace_id, exp.id, [good, OutcomeIn(3.0, variant_id=exp.variants[0].id)]
        )
    assert await _outcome_count(engine, exp.id) == 0


async def test_idempotency_key_records_once_and_rejects_a_different_payload(
    experiments: ExperimentEngine, engine: Maestro, workspace_id: str
) -> None:
    exp = await experiments.create(workspace_id, ExperimentSpec("idem", THREE[:2]))
    await experiments.start(workspace_id, exp.id)
    vid = exp.variants[0].id
    first = await experiments.record_outcome(
        workspace_id, exp.id, value=1, variant_id=vid, idempotency_key="k1"
    )
    replay = await experiments.record_outcome(
        workspace_id, exp.id, value=1, variant_id=vid, idempotency_key="k1"
    )
    assert replay.duplicate and replay.id == first.id
    with pytest.raises(ConflictError) as err:
        await experiments.record_outcome(
            workspace_id, exp.id, value=0, variant_id=vid, idempotency_key="k1"
        )
    assert err.value.field == "idempotency_key"
    assert await _outcome_count(engine, exp.id) == 1


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (ExperimentSpec("one", [VariantSpec("a")]), "variants"),
        (ExperimentSpec("dup", [VariantSpec("a"), VariantSpec("a")]), "variants"),
        (
            ExperimentSpec("bandit", THREE, kind="multi_armed_bandit", allocation="equal"),
            "allocation",
        ),
        (ExperimentSpec("seq", THREE, kind="sequential", metric_type="continuous"), "value_bounds"),
        (ExperimentSpec("kind", THREE, kind="bogus"), "kind"),  # type: ignore[arg-type]
        (ExperimentSpec("conf", THREE, confidence_level=1.5), "confidence_level"),
    ],
)
async def test_invalid_specs_are_rejected_with_the_field(
    experiments: ExperimentEngine, workspace_id: str, spec: ExperimentSpec, field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        await experiments.create(workspace_id, spec)
    assert err.value.field == field
    assert await experiments.list_experiments(workspace_id) == []


async def test_bandit_allocation_moves_traffic_to_the_better_variant(
    experiments: ExperimentEngine, workspace_id: str
) -> None:
    spec = ExperimentSpec("mab", THREE[:2], kind="multi_armed_bandit", allocation="thompson")
    exp = await experiments.create(workspace_id, spec)
    await experiments.start(workspace_id, exp.id)
    rng = np.random.default_rng(3)
    rates = {exp.variants[0].id: 0.1, exp.variants[1].id: 0.6}
    late = []
    for i in range(200):
        a = await experiments.assign(workspace_id, exp.id, f"unit-{i}")
        await experiments.record_outcome(
            workspace_id, exp.id, value=float(rng.random() < rates[a.variant_id]), unit_id=a.unit_id
        )
        if i >= 150:
            late.append(a.variant_id)
    assert late.count(exp.variants[1].id) / len(late) > 0.8


async def test_multivariate_builds_the_full_factorial(
    experiments: ExperimentEngine, workspace_id: str
) -> None:
    spec = ExperimentSpec(
        "mv", kind="multivariate", factors={"hook": ["question", "stat"], "cta": ["yes", "no"]}
    )
    exp = await experiments.create(workspace_id, spec)
    assert len(exp.variants) == 4
    assert {tuple(sorted(v.factors.items())) for v in exp.variants} == {
        (("cta", c), ("hook", h)) for h in ("question", "stat") for c in ("yes", "no")
    }


async def test_complete_picks_the_bayesian_winner_or_none(
    experiments: ExperimentEngine, workspace_id: str
) -> None:
    clear = await experiments.create(
        workspace_id, ExperimentSpec("clear", THREE[:2], min_sample_size=100)
    )
    await experiments.start(workspace_id, clear.id)
    a, b = clear.variants
    batch = [OutcomeIn(float(i < 10), variant_id=a.id) for i in range(200)]
    batch += [OutcomeIn(float(i < 60), variant_id=b.id) for i in range(200)]
    await experiments.record_outcomes(workspace_id, clear.id, batch)
    done = await experiments.complete(workspace_id, clear.id)
    assert done.winner_variant_id == b.id

    tie = await experiments.create(workspace_id, ExperimentSpec("tie", THREE[:2]))
    await experiments.start(workspace_id, tie.id)
    same = [OutcomeIn(float(i % 3 == 0), variant_id=v.id) for v in tie.variants for i in range(150)]
    await experiments.record_outcomes(workspace_id, tie.id, same)
    inconclusive = await experiments.complete(workspace_id, tie.id)
    assert inconclusive.status == "completed" and inconclusive.winner_variant_id is None


async def test_workspaces_never_see_each_others_experiments(
    experiments: ExperimentEngine, workspace_id: str, other_workspace_id: str
) -> None:
    exp = await experiments.create(workspace_id, ExperimentSpec("mine", THREE[:2]))
    with pytest.raises(NotFoundError):
        await experiments.get(other_workspace_id, exp.id)
    with pytest.raises(NotFoundError):
        await experiments.record_outcome(
            other_workspace_id, exp.id, value=1, variant_id=exp.variants[0].id
        )
    assert await experiments.list_experiments(other_workspace_id) == []


@pytest.mark.slow
@pytest.mark.parametrize("db_backend", ["sqlite"], indirect=True)
async def test_on_a_a_data_the_engine_declares_a_winner_no_more_often_than_its_error_rate(
    experiments: ExperimentEngine, workspace_id: str
) -> None:
    runs, rounds, confidence = 25, 300, 0.95
    declared = 0
    for seed in range(runs):
        spec = ExperimentSpec(
            f"aa-{seed}", THREE, kind="sequential", min_sample_size=50, confidence_level=confidence
        )
        exp = await experiments.create(workspace_id, spec)
        await experiments.start(workspace_id, exp.id)
        rng = np.random.default_rng(1000 + seed)
        for _ in range(rounds // 50):
            batch = [
                OutcomeIn(float(rng.random() < 0.3), variant_id=v.id)
                for _ in range(50)
                for v in exp.variants
            ]
            await experiments.record_outcomes(workspace_id, exp.id, batch)
            if (await experiments.get(workspace_id, exp.id)).status != "running":
                break
        done = await experiments.get(workspace_id, exp.id)
        declared += done.winner_variant_id is not None
    assert declared <= (1 - confidence) * runs
