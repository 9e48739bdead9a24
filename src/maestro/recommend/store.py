"""User state storage: idempotent bulk upserts and batch loads for the agents.

Every method takes the workspace id; a user, task or event of another workspace
is invisible. Writes validate everything first and then run in one transaction,
so a bad item means nothing is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from maestro.clock import Clock
from maestro.errors import ConflictError, NotFoundError
from maestro.recommend._sql import insert_new, insert_or_update
from maestro.recommend.state import Event, EventIn, Task, TaskIn, UserIn, UserState, row_id
from maestro.store.db import Database
from maestro.store.tables.recommend import RecUserRow, TaskRow, UserEventRow

__all__ = ["IdRange", "IngestReport", "UserInfo", "UserStateRepo", "in_range", "load_states"]

_USERS: Table = RecUserRow.__table__  # type: ignore[assignment]
_TASKS: Table = TaskRow.__table__  # type: ignore[assignment]
_EVENTS: Table = UserEventRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class UserInfo:
    id: str
    workspace_id: str
    key: str
    timezone: str
    focus_areas: tuple[str, ...]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class IngestReport:
    """How many items were new and how many were already stored (idempotent re-sends)."""

    created: int
    existing: int


class UserStateRepo:
    """Users, their tasks and their events, per workspace."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def upsert_users(self, workspace_id: str, users: Sequence[UserIn]) -> IngestReport:
        """Create or update users (timezone and focus areas are replaced)."""
        now = self._clock.now()
        rows = {
            row_id(workspace_id, "user", u.user_id): {
                "id": row_id(workspace_id, "user", u.user_id),
                "workspace_id": workspace_id,
                "key": u.user_id,
                "timezone": u.timezone,
                "focus_areas": list(u.focus_areas),
                "created_at": now,
                "updated_at": now,
            }
            for u in users
        }
        async with self._db.write() as s:
            created = await insert_or_update(
                s,
                _USERS,
                list(rows.values()),
                conflict=["id"],
                update=["timezone", "focus_areas", "updated_at"],
            )
        return IngestReport(created=created, existing=len(rows) - created)

    async def upsert_tasks(self, workspace_id: str, tasks: Sequence[TaskIn]) -> IngestReport:
        """Create or update tasks; every task's user must exist in the workspace."""
        now = self._clock.now()
        rows: dict[str, dict[str, Any]] = {}
        for t in tasks:
            rid = row_id(workspace_id, "task", t.user_id, t.task_id)
            rows[rid] = {
                "id": rid,
                "workspace_id": workspace_id,
                "user_id": row_id(workspace_id, "user", t.user_id),
                "key": t.task_id,
                "title": t.title,
                "due_at": t.due_at,
                "status": t.status,
                "area": t.area,
                "created_at": now,
                "updated_at": now,
            }
        async with self._db.write() as s:
            await self._require_users(s, workspace_id, [t.user_id for t in tasks])
            created = await insert_or_update(
                s,
                _TASKS,
                list(rows.values()),
                conflict=["id"],
                update=["title", "due_at", "status", "area", "updated_at"],
            )
        return IngestReport(created=created, existing=len(rows) - created)

    async def add_events(self, workspace_id: str, events: Sequence[EventIn]) -> IngestReport:
        """Record events; an event whose key was seen before is skipped, not duplicated.

        Raises:
            NotFoundError: an event's user does not exist in the workspace.
            ConflictError: a key already recorded (or repeated in this request) with a
                different payload; nothing is written.
        """
        now = self._clock.now()
        rows: dict[str, dict[str, Any]] = {}
        user_keys: dict[str, str] = {}
        for e in events:
            rid = row_id(workspace_id, "event", e.user_id, e.key)
            user_keys[rid] = e.user_id
            row = {
                "id": rid,
                "workspace_id": workspace_id,
                "user_id": row_id(workspace_id, "user", e.user_id),
                "key": e.key,
                "kind": e.kind,
                "occurred_at": e.occurred_at,
                "task_key": e.task_id,
                "area": e.area,
                "duration_min": e.duration_min,
                "created_at": now,
            }
            first = rows.setdefault(rid, row)
            if first is not row and _payload(first) != _payload(row):
                raise _event_conflict(e.user_id, e.key)
        async with self._db.write() as s:
            await self._require_users(s, workspace_id, [e.user_id for e in events])
            created = await insert_new(s, _EVENTS, list(rows.values()), conflict=["id"])
            # Only re-sent keys are read back, to tell a replay from a clash.
            resent = [rid for rid in rows if rid not in created]
            for i in range(0, len(resent), 900):
                q = select(_EVENTS).where(_EVENTS.c.id.in_(resent[i : i + 900]))
                for stored in (await s.execute(q)).mappings():
                    if _payload(stored) != _payload(rows[stored["id"]]):
                        raise _event_conflict(user_keys[stored["id"]], stored["key"])
        return IngestReport(created=len(created), existing=len(rows) - len(created))

    async def get_user(self, workspace_id: str, user_key: str) -> UserInfo:
        """The user ``user_key`` of the workspace, or :class:`NotFoundError`."""
        async with self._db.read() as s:
            row = await s.get(RecUserRow, row_id(workspace_id, "user", user_key))
        if row is None or row.workspace_id != workspace_id:
            raise NotFoundError(f"no user {user_key!r} in this workspace", field="user_id")
        return UserInfo(
            id=row.id,
            workspace_id=row.workspace_id,
            key=row.key,
            timezone=row.timezone,
            focus_areas=tuple(row.focus_areas),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def state(self, user: UserInfo, *, since: datetime) -> UserState:
        """One user's state with events since ``since``."""
        async with self._db.read() as s:
            states = await load_states(s, [_user_dict(user)], since=since)
        return states[0]

    async def count_users(self, workspace_id: str | None = None) -> int:
        async with self._db.read() as s:
            q = select(func.count()).select_from(RecUserRow)
            if workspace_id is not None:
                q = q.where(RecUserRow.workspace_id == workspace_id)
            return int((await s.execute(q)).scalar_one())

    async def _require_users(self, s: AsyncSession, workspace_id: str, keys: list[str]) -> None:
        wanted = {row_id(workspace_id, "user", k): k for k in keys}
        found = await _existing(s, RecUserRow.id, list(wanted))
        missing = [k for rid, k in wanted.items() if rid not in found]
        if missing:
            raise NotFoundError(
                f"no user {missing[0]!r} in this workspace"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
                field="user_id",
            )


_EVENT_PAYLOAD = ("kind", "occurred_at", "task_key", "area", "duration_min")


def _payload(row: Any) -> tuple[Any, ...]:
    """What an event says (its id already stands for the user and key)."""
    return tuple(row[c] for c in _EVENT_PAYLOAD)


def _event_conflict(user: str, key: str) -> ConflictError:
    return ConflictError(
        f"event key {key!r} of user {user!r} was already recorded with different content",
        field="key",
    )


def _user_dict(user: UserInfo) -> dict[str, Any]:
    return {
        "id": user.id,
        "workspace_id": user.workspace_id,
        "key": user.key,
        "timezone": user.timezone,
        "focus_areas": list(user.focus_areas),
    }


async def _existing(s: AsyncSession, column: Any, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        found.update((await s.execute(select(column).where(column.in_(chunk)))).scalars())
    return found


IdRange = tuple[str, str | None]
"""Users whose id is ``>= lo`` and (unless ``hi`` is None) ``< hi``: one precompute batch."""


def in_range(column: Any, ids: IdRange) -> Any:
    lo, hi = ids
    return column >= lo if hi is None else and_(column >= lo, column < hi)


async def load_states(
    s: AsyncSession,
    users: Sequence[dict[str, Any]],
    *,
    since: datetime,
    ids: IdRange | None = None,
) -> list[UserState]:
    """States of ``users`` (dicts with id, workspace_id, key, timezone, focus_areas).

    With ``ids`` (the id range the users were read from, in a precompute batch)
    one range query per table serves the whole batch; without it, the users are
    selected by id.
    """
    tasks_by: dict[str, list[Task]] = {u["id"]: [] for u in users}
    events_by: dict[str, list[Event]] = {u["id"]: [] for u in users}

    def which(column: Any) -> Any:
        return in_range(column, ids) if ids is not None else column.in_(list(tasks_by))

    tq = select(
        _TASKS.c.user_id,
        _TASKS.c.key,
        _TASKS.c.title,
        _TASKS.c.due_at,
        _TASKS.c.status,
        _TASKS.c.area,
    ).where(which(_TASKS.c.user_id), or_(_TASKS.c.status == "open", _TASKS.c.updated_at >= since))
    for uid, key, title, due_at, status, area in (await s.execute(tq)).all():
        if uid in tasks_by:
            tasks_by[uid].append(Task(key, title, due_at, status, area))
    eq = (
        select(
            _EVENTS.c.user_id,
            _EVENTS.c.kind,
            _EVENTS.c.occurred_at,
            _EVENTS.c.area,
            _EVENTS.c.duration_min,
            _EVENTS.c.task_key,
        )
        .where(which(_EVENTS.c.user_id), _EVENTS.c.occurred_at >= since)
        .order_by(_EVENTS.c.user_id, _EVENTS.c.occurred_at)
    )
    for uid, kind, occurred_at, area, duration, task_key in (await s.execute(eq)).all():
        if uid in events_by:
            events_by[uid].append(Event(kind, occurred_at, area, duration, task_key))
    return [
        UserState(
            id=u["id"],
            workspace_id=u["workspace_id"],
            key=u["key"],
            timezone=u["timezone"],
            focus_areas=tuple(u["focus_areas"] or ()),
            tasks=tuple(tasks_by[u["id"]]),
            events=tuple(events_by[u["id"]]),
        )
        for u in users
    ]
