"""Bandit policy state persisted per workspace and context key.

A context key names one independent learning problem, e.g.
``strategy:brand=acme`` or ``experiment:<id>``: each (workspace, key) pair has its
own policy state, so brands and workspaces never share what they learned.

Reads and writes are short transactions. :meth:`PolicyStore.select` and
:meth:`PolicyStore.update` do their read-modify-write inside one write
transaction (serialised on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), so
concurrent replicas never lose an update. A caller that holds a policy across
its own steps saves it with ``expected_version`` and gets a
:class:`~maestro.errors.ConflictError` if someone else wrote in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from maestro.clock import Clock
from maestro.errors import ConflictError, NotFoundError, ValidationError
from maestro.learning.bandits import LearningSettings, Policy, restore_policy
from maestro.store.db import Database
from maestro.store.tables.experiments import BanditStateRow

__all__ = ["PolicyStore", "StoredPolicy"]

MAX_CONTEXT_KEY = 300


@dataclass(frozen=True)
class StoredPolicy:
    """A policy restored from the store, with the version it was read at."""

    context_key: str
    policy: Policy
    version: int
    updated_at: datetime


def _check_key(context_key: str) -> str:
    if not isinstance(context_key, str) or not 0 < len(context_key) <= MAX_CONTEXT_KEY:
        raise ValidationError(
            f"context key {context_key!r} must be 1..{MAX_CONTEXT_KEY} characters",
            field="context_key",
        )
    return context_key


class PolicyStore:
    """Load, create, update and save bandit policies in the ``bandit_policy_states`` table."""

    def __init__(
        self, db: Database, clock: Clock, settings: LearningSettings | None = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._settings = settings or LearningSettings()

    async def get(self, workspace_id: str, context_key: str) -> StoredPolicy | None:
        """The stored policy for this context, or None if there is none yet."""
        async with self._db.read() as session:
            row = await self._row(session, workspace_id, _check_key(context_key))
            return None if row is None else _stored(row)

    async def save(
        self,
        workspace_id: str,
        context_key: str,
        policy: Policy,
        *,
        expected_version: int | None = None,
    ) -> int:
        """Store ``policy``'s state; the new version number.

        Args:
            expected_version: the version the caller read (0 for "must not exist");
                None overwrites unconditionally.

        Raises:
            ConflictError: the stored version is not ``expected_version``.
        """
        _check_key(context_key)
        try:
            async with self._db.write() as session:
                row = await self._row(session, workspace_id, context_key, lock=True)
                current = 0 if row is None else row.version
                if expected_version is not None and current != expected_version:
                    raise ConflictError(
                        f"policy {context_key!r} is at version {current}, not {expected_version}",
                        field="expected_version",
                    )
                return self._write(session, workspace_id, context_key, row, policy)
        except IntegrityError:
            raise ConflictError(
                f"policy {context_key!r} was created concurrently", field="context_key"
            ) from None

    async def select(
        self,
        workspace_id: str,
        context_key: str,
        n_arms: int,
        *,
        policy: str | None = None,
        seed: int | None = None,
    ) -> int:
        """Choose an arm for this context, creating its policy on first use.

        Sampling policies consume randomness, so the advanced generator state is
        saved with the choice: a replica restoring the policy continues the same
        random stream.

        Raises:
            ValidationError: the stored policy has a different number of arms.
        """
        _check_key(context_key)
        for attempt in range(2):  # a concurrent first write of this context: retry once
            try:
                async with self._db.write() as session:
                    return await self.select_in(
                        session, workspace_id, context_key, n_arms, policy=policy, seed=seed
                    )
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def update(
        self,
        workspace_id: str,
        context_key: str,
        arm: int,
        reward: float,
        *,
        n_arms: int | None = None,
        policy: str | None = None,
        seed: int | None = None,
    ) -> int:
        """Record ``reward`` for ``arm`` in this context; the new version.

        Without ``n_arms`` the policy must already exist. Invalid arms or rewards
        raise :class:`ValidationError` and change nothing.
        """
        _check_key(context_key)
        for attempt in range(2):  # a concurrent first write of this context: retry once
            try:
                async with self._db.write() as session:
                    return await self.update_in(
                        session,
                        workspace_id,
                        context_key,
                        arm,
                        reward,
                        n_arms=n_arms,
                        policy=policy,
                        seed=seed,
                    )
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    async def select_in(
        self,
        session: AsyncSession,
        workspace_id: str,
        context_key: str,
        n_arms: int,
        *,
        policy: str | None = None,
        seed: int | None = None,
    ) -> int:
        """:meth:`select` inside the caller's write transaction (one atomic change)."""
        row = await self._row(session, workspace_id, _check_key(context_key), lock=True)
        current = self._restore_or_make(row, n_arms, policy, seed)
        arm = current.select()
        self._write(session, workspace_id, context_key, row, current)
        return arm

    async def update_in(
        self,
        session: AsyncSession,
        workspace_id: str,
        context_key: str,
        arm: int,
        reward: float,
        *,
        n_arms: int | None = None,
        policy: str | None = None,
        seed: int | None = None,
    ) -> int:
        """:meth:`update` inside the caller's write transaction (one atomic change)."""
        row = await self._row(session, workspace_id, _check_key(context_key), lock=True)
        if row is None and n_arms is None:
            raise NotFoundError(f"no policy for context {context_key!r}", field="context_key")
        current = self._restore_or_make(row, n_arms, policy, seed)
        current.update(arm, reward)
        return self._write(session, workspace_id, context_key, row, current)

    async def delete(self, workspace_id: str, context_key: str) -> bool:
        """Forget a context's policy; True if there was one."""
        async with self._db.write() as session:
            row = await self._row(session, workspace_id, _check_key(context_key), lock=True)
            if row is None:
                return False
            await session.delete(row)
            return True

    async def keys(self, workspace_id: str, *, prefix: str = "") -> list[str]:
        """This workspace's context keys (optionally those starting with ``prefix``)."""
        stmt = select(BanditStateRow.context_key).where(BanditStateRow.workspace_id == workspace_id)
        if prefix:
            stmt = stmt.where(BanditStateRow.context_key.startswith(prefix, autoescape=True))
        async with self._db.read() as session:
            return sorted((await session.scalars(stmt)).all())

    def _restore_or_make(
        self, row: BanditStateRow | None, n_arms: int | None, name: str | None, seed: int | None
    ) -> Policy:
        if row is None:
            assert n_arms is not None
            return self._settings.make(n_arms, name=name, seed=seed)
        if n_arms is not None and row.n_arms != n_arms:
            raise ValidationError(
                f"context {row.context_key!r} has {row.n_arms} arms, not {n_arms}", field="n_arms"
            )
        return restore_policy(row.state)

    async def _row(
        self, session: AsyncSession, workspace_id: str, context_key: str, *, lock: bool = False
    ) -> BanditStateRow | None:
        stmt = select(BanditStateRow).where(
            BanditStateRow.workspace_id == workspace_id,
            BanditStateRow.context_key == context_key,
        )
        if lock and not self._db.is_sqlite:
            stmt = stmt.with_for_update()
        return (await session.scalars(stmt)).one_or_none()

    def _write(
        self,
        session: AsyncSession,
        workspace_id: str,
        context_key: str,
        row: BanditStateRow | None,
        policy: Policy,
    ) -> int:
        now = self._clock.now()
        state: dict[str, Any] = policy.state()
        if row is None:
            row = BanditStateRow(
                workspace_id=workspace_id,
                context_key=context_key,
                policy=policy.name,
                n_arms=policy.n_arms,
                state=state,
                version=1,
                updated_at=now,
            )
            session.add(row)
        else:
            row.policy, row.n_arms, row.state = policy.name, policy.n_arms, state
            row.version += 1
            row.updated_at = now
        return row.version


def _stored(row: BanditStateRow) -> StoredPolicy:
    return StoredPolicy(
        context_key=row.context_key,
        policy=restore_policy(row.state),
        version=row.version,
        updated_at=row.updated_at,
    )
