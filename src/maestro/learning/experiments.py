"""The experiment engine (seed 002): A/B, multivariate, bandit and sequential experiments.

Life of an experiment: ``create`` (draft) -> ``start`` (running) -> ``assign`` units
(sticky: a unit keeps its variant) and ``record_outcome`` -> ``analyze`` at any
time -> ``complete`` (by hand, or by itself when a sequential experiment proves a
winner). Allocation is ``equal`` (a stable hash of the unit id), ``thompson`` or
``ucb`` (a bandit policy kept in :class:`~maestro.learning.policy_store.PolicyStore`
under ``experiment:<id>``, updated in the same transaction as each outcome).

Outcomes carry an optional idempotency key: a retry with the same key and payload
returns the first record; a different payload under the same key is a conflict.

The value types and spec validation live in
:mod:`~maestro.learning.experiment_types`; the public ones are re-exported here.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from maestro.clock import Clock
from maestro.errors import ConflictError, NotFoundError
from maestro.learning import bayes
from maestro.learning.bandits import LearningSettings
from maestro.learning.bayes import Analysis, VariantResult
from maestro.learning.experiment_types import (
    _ALLOCATIONS,
    Assignment,
    Experiment,
    ExperimentSpec,
    Outcome,
    OutcomeIn,
    Variant,
    VariantSpec,
    _config,
    _fail,
    _variants,
    experiment_view,
)
from maestro.learning.policy_store import PolicyStore
from maestro.store.base import new_id
from maestro.store.db import Database
from maestro.store.tables.experiments import (
    ExperimentAssignmentRow,
    ExperimentOutcomeRow,
    ExperimentRow,
    ExperimentVariantRow,
)

if TYPE_CHECKING:
    from maestro.engine import Maestro

__all__ = [
    "Assignment",
    "Experiment",
    "ExperimentEngine",
    "ExperimentSpec",
    "Outcome",
    "OutcomeIn",
    "Variant",
    "VariantSpec",
    "experiments_for",
]


def _stats(variants: Sequence[ExperimentVariantRow]) -> list[bayes.VariantStats]:
    return [bayes.VariantStats(v.n, v.total, v.total_sq) for v in variants]


class ExperimentEngine:
    """Runs experiments for every workspace; each method takes the workspace id."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        settings: LearningSettings | None = None,
        policies: PolicyStore | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings or LearningSettings()
        self._policies = policies or PolicyStore(db, clock, self._settings)

    async def create(self, workspace_id: str, spec: ExperimentSpec) -> Experiment:
        """A new experiment in ``draft``; nothing is stored if the spec is invalid."""
        variants = _variants(spec)
        config = _config(spec, self._settings)
        async with self._db.write() as session:
            row = ExperimentRow(
                workspace_id=workspace_id,
                name=spec.name,
                kind=spec.kind,
                allocation=spec.allocation
                or ("thompson" if spec.kind == "multi_armed_bandit" else "equal"),
                metric_name=spec.metric_name,
                metric_type=spec.metric_type,
                status="draft",
                config=config,
                created_at=self._clock.now(),
            )
            session.add(row)
            await session.flush()
            rows = [
                ExperimentVariantRow(
                    workspace_id=workspace_id,
                    experiment_id=row.id,
                    position=i,
                    name=v.name,
                    description=v.description,
                    factors=dict(v.factors),
                    n=0,
                    total=0.0,
                    total_sq=0.0,
                )
                for i, v in enumerate(variants)
            ]
            session.add_all(rows)
            await session.flush()
            return experiment_view(row, rows)

    async def start(self, workspace_id: str, experiment_id: str) -> Experiment:
        async with self._db.write() as session:
            row, variants = await self._load(session, workspace_id, experiment_id, lock=True)
            if row.status != "draft":
                raise ConflictError(
                    f"experiment {experiment_id} is {row.status}, not draft", field="experiment_id"
                )
            row.status, row.started_at = "running", self._clock.now()
            return experiment_view(row, variants)

    async def get(self, workspace_id: str, experiment_id: str) -> Experiment:
        async with self._db.read() as session:
            return experiment_view(*await self._load(session, workspace_id, experiment_id))

    async def list_experiments(
        self, workspace_id: str, *, status: str | None = None, limit: int = 50
    ) -> list[Experiment]:
        """This workspace's experiments, newest first."""
        stmt = select(ExperimentRow).where(ExperimentRow.workspace_id == workspace_id)
        if status:
            stmt = stmt.where(ExperimentRow.status == status)
        stmt = stmt.order_by(ExperimentRow.created_at.desc()).limit(max(1, min(limit, 500)))
        async with self._db.read() as session:
            rows = (await session.scalars(stmt)).all()
            ids = [r.id for r in rows]
            variants = (
                await session.scalars(
                    select(ExperimentVariantRow)
                    .where(ExperimentVariantRow.experiment_id.in_(ids))
                    .order_by(ExperimentVariantRow.position)
                )
            ).all()
        by_exp: dict[str, list[ExperimentVariantRow]] = {i: [] for i in ids}
        for v in variants:
            by_exp[v.experiment_id].append(v)
        return [experiment_view(r, by_exp[r.id]) for r in rows]

    async def assign(self, workspace_id: str, experiment_id: str, unit_id: str) -> Assignment:
        """The unit's variant: the one it already has, or a new one by the allocation."""
        if not isinstance(unit_id, str) or not 0 < len(unit_id) <= 200:
            raise _fail(f"unit_id {unit_id!r} must be 1..200 characters", "unit_id")
        for attempt in range(2):  # a concurrent first assignment of this unit: read it back
            try:
                async with self._db.write() as session:
                    return await self._assign(session, workspace_id, experiment_id, unit_id)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def _assign(
        self, session: AsyncSession, workspace_id: str, experiment_id: str, unit_id: str
    ) -> Assignment:
        row, variants = await self._load(session, workspace_id, experiment_id)
        existing = await session.scalar(
            select(ExperimentAssignmentRow).where(
                ExperimentAssignmentRow.experiment_id == experiment_id,
                ExperimentAssignmentRow.unit_id == unit_id,
            )
        )
        if existing is not None:
            variant = next(v for v in variants if v.id == existing.variant_id)
            return Assignment(
                experiment_id, unit_id, variant.id, variant.name, existing.assigned_at, False
            )
        if row.status != "running":
            raise ConflictError(
                f"experiment {experiment_id} is {row.status}, not running", field="experiment_id"
            )
        policy = _ALLOCATIONS[row.allocation]
        if policy is None:
            digest = hashlib.sha256(f"{experiment_id}:{unit_id}".encode()).digest()
            arm = int.from_bytes(digest[:8], "big") % len(variants)
        else:
            arm = await self._policies.select_in(
                session,
                workspace_id,
                f"experiment:{experiment_id}",
                len(variants),
                policy=policy,
                seed=_seed(experiment_id),
            )
        now = self._clock.now()
        session.add(
            ExperimentAssignmentRow(
                workspace_id=workspace_id,
                experiment_id=experiment_id,
                unit_id=unit_id,
                variant_id=variants[arm].id,
                assigned_at=now,
            )
        )
        await session.flush()
        return Assignment(experiment_id, unit_id, variants[arm].id, variants[arm].name, now, True)

    async def record_outcome(
        self,
        workspace_id: str,
        experiment_id: str,
        *,
        value: float,
        variant_id: str | None = None,
        unit_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Record one observed metric value for a variant (given directly or by unit).

        Raises:
            ValidationError: bad value, unknown variant, unit without assignment.
            ConflictError: the experiment is not running, or the idempotency key
                was used for a different outcome.
        """
        item = OutcomeIn(value, variant_id, unit_id, idempotency_key)
        return (await self.record_outcomes(workspace_id, experiment_id, [item]))[0]

    async def record_outcomes(
        self, workspace_id: str, experiment_id: str, items: Sequence[OutcomeIn]
    ) -> list[Outcome]:
        """Record outcomes in order, in one transaction (all or nothing).

        A sequential experiment checks its stopping rule after every outcome; an
        outcome arriving after it stopped raises ConflictError like any outcome
        for an experiment that is not running.
        """
        async with self._db.write() as session:
            row, variants = await self._load(session, workspace_id, experiment_id, lock=True)
            return [await self._record(session, row, variants, item) for item in items]

    async def _record(
        self,
        session: AsyncSession,
        row: ExperimentRow,
        variants: Sequence[ExperimentVariantRow],
        item: OutcomeIn,
    ) -> Outcome:
        if item.idempotency_key is not None:
            if not 0 < len(item.idempotency_key) <= 200:
                raise _fail("idempotency_key must be 1..200 characters", "idempotency_key")
            prior = await session.scalar(
                select(ExperimentOutcomeRow).where(
                    ExperimentOutcomeRow.experiment_id == row.id,
                    ExperimentOutcomeRow.idempotency_key == item.idempotency_key,
                )
            )
            if prior is not None:
                return self._replay(prior, item)
        if row.status != "running":
            raise ConflictError(
                f"experiment {row.id} is {row.status}, not running; outcome not recorded",
                field="experiment_id",
            )
        variant = await self._variant_of(session, row, variants, item)
        value = self._check_value(row, item.value)
        now = self._clock.now()
        outcome = ExperimentOutcomeRow(
            id=new_id(),
            workspace_id=row.workspace_id,
            experiment_id=row.id,
            variant_id=variant.id,
            unit_id=item.unit_id,
            value=value,
            idempotency_key=item.idempotency_key,
            recorded_at=now,
        )
        session.add(outcome)
        variant.n += 1
        variant.total += value
        variant.total_sq += value * value
        policy = _ALLOCATIONS[row.allocation]
        if policy is not None:
            lo, hi = row.config["value_bounds"]
            await self._policies.update_in(
                session,
                row.workspace_id,
                f"experiment:{row.id}",
                variant.position,
                (value - lo) / (hi - lo),
                n_arms=len(variants),
                policy=policy,
                seed=_seed(row.id),
            )
        stopped = row.kind == "sequential" and self._maybe_stop(row, variants)
        return Outcome(
            outcome.id,
            row.id,
            variant.id,
            item.unit_id,
            value,
            item.idempotency_key,
            now,
            duplicate=False,
            stopped=stopped,
        )

    def _replay(self, prior: ExperimentOutcomeRow, item: OutcomeIn) -> Outcome:
        same_variant = item.variant_id in (None, prior.variant_id)
        if (
            not same_variant
            or prior.value != item.value
            or item.unit_id not in (None, prior.unit_id)
        ):
            raise ConflictError(
                f"idempotency key {item.idempotency_key!r} was used for a different outcome",
                field="idempotency_key",
            )
        return Outcome(
            prior.id,
            prior.experiment_id,
            prior.variant_id,
            prior.unit_id,
            prior.value,
            prior.idempotency_key,
            prior.recorded_at,
            duplicate=True,
            stopped=False,
        )

    async def _variant_of(
        self,
        session: AsyncSession,
        row: ExperimentRow,
        variants: Sequence[ExperimentVariantRow],
        item: OutcomeIn,
    ) -> ExperimentVariantRow:
        assigned: str | None = None
        if item.unit_id is not None:
            assigned = await session.scalar(
                select(ExperimentAssignmentRow.variant_id).where(
                    ExperimentAssignmentRow.experiment_id == row.id,
                    ExperimentAssignmentRow.unit_id == item.unit_id,
                )
            )
            if assigned is None and item.variant_id is None:
                raise _fail(f"unit {item.unit_id!r} has no assignment in {row.id}", "unit_id")
        wanted = item.variant_id or assigned
        if wanted is None:
            raise _fail("give variant_id or the unit_id of an assigned unit", "variant_id")
        if assigned is not None and item.variant_id not in (None, assigned):
            raise _fail(
                f"unit {item.unit_id!r} is assigned to {assigned}, not {item.variant_id}",
                "variant_id",
            )
        for v in variants:
            if v.id == wanted:
                return v
        raise _fail(f"variant {wanted!r} is not in experiment {row.id}", "variant_id")

    def _check_value(self, row: ExperimentRow, value: object) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise _fail(f"value {value!r} is not a finite number", "value")
        v = float(value)
        if row.metric_type == "binary" and v not in (0.0, 1.0):
            raise _fail(f"value {value!r} of a binary metric must be 0 or 1", "value")
        bounds = row.config["value_bounds"]
        if bounds is not None and not bounds[0] <= v <= bounds[1]:
            raise _fail(f"value {value!r} is outside {bounds[0]}..{bounds[1]}", "value")
        return v

    def _maybe_stop(self, row: ExperimentRow, variants: Sequence[ExperimentVariantRow]) -> bool:
        cfg = row.config
        winner = bayes.sequential_winner(
            _stats(variants),
            alpha=1.0 - cfg["confidence_level"],
            bounds=tuple(cfg["value_bounds"]),
            planned_n=cfg["min_sample_size"],
        )
        if winner is not None:
            reason = (
                f"sequential test: {variants[winner].name} is best at error rate "
                f"{1.0 - cfg['confidence_level']:.3g}"
            )
            self._finish(row, variants[winner].id, reason)
            return True
        cap = cfg["max_sample_size"]
        if cap is not None and all(v.n >= cap for v in variants):
            self._finish(row, None, f"every variant reached {cap} outcomes without a winner")
            return True
        return False

    def _finish(self, row: ExperimentRow, winner_id: str | None, reason: str) -> None:
        row.status, row.winner_variant_id, row.stop_reason = "completed", winner_id, reason
        row.completed_at = self._clock.now()

    async def analyze(self, workspace_id: str, experiment_id: str) -> Analysis:
        """Bayesian summaries, the fixed-horizon decision and the sequential decision."""
        async with self._db.read() as session:
            row, variants = await self._load(session, workspace_id, experiment_id)
        return await asyncio.to_thread(self._analyze, row, variants)

    def _analyze(self, row: ExperimentRow, variants: Sequence[ExperimentVariantRow]) -> Analysis:
        cfg = row.config
        stats = _stats(variants)
        total = sum(s.n for s in stats)
        posts = bayes.analyze(
            stats,
            "binary" if row.metric_type == "binary" else "continuous",
            confidence=cfg["confidence_level"],
            draws=self._settings.analysis_draws,
            seed=_seed(row.id) + total,
        )
        results = [
            VariantResult(
                v.id, v.name, v.n, s.mean, p.ci_low, p.ci_high, p.prob_best, p.expected_loss
            )
            for v, s, p in zip(variants, stats, posts, strict=True)
        ]
        leader = max(range(len(posts)), key=lambda i: posts[i].prob_best)
        lead = posts[leader]
        enough = all(s.n >= cfg["min_sample_size"] for s in stats)
        threshold = cfg["min_effect_size"] * max(abs(lead.mean), 1e-12)
        decided = (
            enough and lead.prob_best >= cfg["confidence_level"] and lead.expected_loss <= threshold
        )
        seq = None
        if cfg["value_bounds"] is not None:
            w = bayes.sequential_winner(
                stats,
                alpha=1.0 - cfg["confidence_level"],
                bounds=tuple(cfg["value_bounds"]),
                planned_n=cfg["min_sample_size"],
            )
            seq = None if w is None else variants[w].id
        return Analysis(
            experiment_id=row.id,
            status=row.status,
            metric_type=row.metric_type,
            confidence_level=cfg["confidence_level"],
            outcomes=total,
            variants=results,
            leader_variant_id=variants[leader].id,
            bayesian_winner_variant_id=variants[leader].id if decided else None,
            sequential_winner_variant_id=seq,
            winner_variant_id=row.winner_variant_id,
        )

    async def complete(
        self, workspace_id: str, experiment_id: str, *, winner_variant_id: str | None = None
    ) -> Experiment:
        """End the experiment; without an explicit winner, the analysis picks one (or none)."""
        analysis = await self.analyze(workspace_id, experiment_id)
        async with self._db.write() as session:
            row, variants = await self._load(session, workspace_id, experiment_id, lock=True)
            if row.status == "completed":
                raise ConflictError(
                    f"experiment {experiment_id} is already completed", field="experiment_id"
                )
            if winner_variant_id is not None and all(v.id != winner_variant_id for v in variants):
                raise _fail(
                    f"variant {winner_variant_id!r} is not in experiment {experiment_id}",
                    "winner_variant_id",
                )
            if winner_variant_id is not None:
                self._finish(row, winner_variant_id, "winner chosen by the caller")
            else:
                auto = analysis.sequential_winner_variant_id or analysis.bayesian_winner_variant_id
                reason = "automatic: " + (
                    "winner by the decision rule" if auto else "no variant met the decision rule"
                )
                self._finish(row, auto, reason)
            return experiment_view(row, variants)

    async def _load(
        self, session: AsyncSession, workspace_id: str, experiment_id: str, *, lock: bool = False
    ) -> tuple[ExperimentRow, list[ExperimentVariantRow]]:
        stmt = select(ExperimentRow).where(
            ExperimentRow.id == experiment_id, ExperimentRow.workspace_id == workspace_id
        )
        if lock and not self._db.is_sqlite:
            stmt = stmt.with_for_update()
        row = await session.scalar(stmt)
        if row is None:
            raise NotFoundError(
                f"no experiment {experiment_id!r} in this workspace", field="experiment_id"
            )
        variants = list(
            (
                await session.scalars(
                    select(ExperimentVariantRow)
                    .where(ExperimentVariantRow.experiment_id == row.id)
                    .order_by(ExperimentVariantRow.position)
                )
            ).all()
        )
        return row, variants


def _seed(experiment_id: str) -> int:
    return int.from_bytes(hashlib.sha256(experiment_id.encode()).digest()[:4], "big")


_engines: weakref.WeakKeyDictionary[Maestro, ExperimentEngine] = weakref.WeakKeyDictionary()


def experiments_for(engine: Maestro) -> ExperimentEngine:
    """The Maestro engine's experiment engine (built on first use)."""
    found = _engines.get(engine)
    if found is None:
        found = ExperimentEngine(engine.db, engine.clock, engine.settings.learning)
        _engines[engine] = found
    return found
