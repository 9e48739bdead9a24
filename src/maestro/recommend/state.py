"""A user's state: what clients send (validated) and what the snippet agents read.

Ids of stored rows are derived from the workspace and the client's keys
(:func:`row_id`), so sending the same user, task or event twice writes one row.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Annotated, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

__all__ = [
    "EVENT_KINDS",
    "TASK_STATUSES",
    "Area",
    "Event",
    "EventIn",
    "EventKind",
    "Key",
    "Task",
    "TaskIn",
    "TaskStatus",
    "UserIn",
    "UserState",
    "output_id",
    "row_id",
    "zone",
]

_NAMESPACE: Final = uuid.UUID("6f1c0d2e-6a57-4c61-9d0e-7d2b6f0a9a13")
_NAMESPACE_BYTES: Final = _NAMESPACE.bytes

Key = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]*$"),
]
"""A client-supplied identifier: 1-100 letters, digits or ``_ . : @ / -``."""
Area = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
"""A life or work area such as ``health`` or ``career``."""
TaskStatus = Literal["open", "done", "dropped"]
EventKind = Literal["completion", "session"]
TASK_STATUSES: Final[tuple[TaskStatus, ...]] = ("open", "done", "dropped")
EVENT_KINDS: Final[tuple[EventKind, ...]] = ("completion", "session")


def _uuid5(name: str) -> str:
    """``str(uuid.uuid5(_NAMESPACE, name))``, without building a ``UUID`` object.

    Ids are derived on every ingested item and every precomputed output; the
    standard library's version spends most of its time on the object, not the hash.
    """
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def row_id(workspace_id: str, kind: str, *keys: str) -> str:
    """The stored id of a client object: stable for the same workspace, kind and keys."""
    return _uuid5("\x1f".join((workspace_id, kind, *keys)))


def output_id(user_id: str, agent_id: str) -> str:
    """The id of the one ``agent_outputs`` row of (user, agent)."""
    return _uuid5(f"{user_id}\x1f{agent_id}")


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The time zone ``name``; a :class:`ValueError` naming it if unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}; use an IANA name like 'Europe/Paris'"
        ) from None


class _In(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class UserIn(_In):
    """A user to create or update."""

    user_id: Key
    timezone: str = "UTC"
    focus_areas: list[Area] = Field(default_factory=list, max_length=10)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        zone(v)
        return v


class TaskIn(_In):
    """A task to create or update; ``task_id`` is the client's key, unique per user."""

    user_id: Key
    task_id: Key
    title: str = Field(min_length=1, max_length=200)
    due_at: AwareDatetime | None = None
    status: TaskStatus = "open"
    area: Area | None = None


class EventIn(_In):
    """Something the user did; ``key`` makes a re-sent event a no-op."""

    user_id: Key
    key: Key
    kind: EventKind
    occurred_at: AwareDatetime
    task_id: Key | None = None
    area: Area | None = None
    duration_min: float | None = Field(default=None, gt=0, le=24 * 60)


@dataclass(frozen=True, slots=True)
class Task:
    key: str
    title: str
    due_at: datetime | None
    status: str
    area: str | None


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    occurred_at: datetime
    area: str | None = None
    duration_min: float | None = None
    task_key: str | None = None


@dataclass(frozen=True)
class UserState:
    """Everything a snippet agent may read about one user (events oldest first)."""

    id: str
    workspace_id: str
    key: str
    timezone: str
    focus_areas: tuple[str, ...] = ()
    tasks: tuple[Task, ...] = ()
    events: tuple[Event, ...] = field(default=())

    @cached_property
    def tz(self) -> ZoneInfo:
        try:
            return zone(self.timezone)
        except ValueError:
            return zone("UTC")

    @cached_property
    def _locals(self) -> dict[datetime, datetime]:
        return {}

    def local(self, when: datetime) -> datetime:
        """``when`` in the user's zone (memoised: several agents convert the same events)."""
        found = self._locals.get(when)
        if found is None:
            found = self._locals[when] = when.astimezone(self.tz)
        return found

    def completions(self, since: datetime | None = None) -> list[Event]:
        return [
            e
            for e in self.events
            if e.kind == "completion" and (since is None or e.occurred_at >= since)
        ]

    def open_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.status == "open"]
