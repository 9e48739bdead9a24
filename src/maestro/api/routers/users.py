"""User state for the recommendation pipeline: users, tasks and events (idempotent upserts).

Single items go to ``PUT``/``POST`` on the user's paths; imports use the bulk
endpoints (up to ``recommend.max_bulk`` items, all validated before any is
written). Re-sending the same user, task or event key writes nothing new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Generic, TypeVar

from fastapi import APIRouter, Depends, Path, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from maestro.api.deps import CurrentWorkspace, EngineDep
from maestro.errors import ValidationError
from maestro.recommend.state import (
    Area,
    EventIn,
    EventKind,
    Key,
    TaskIn,
    TaskStatus,
    UserIn,
    zone,
)
from maestro.recommend.store import IngestReport, UserStateRepo

router = APIRouter(prefix="/api", tags=["user state"])

T = TypeVar("T")
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:@/-]*$"
UserPath = Annotated[str, Path(min_length=1, max_length=100, pattern=KEY_PATTERN)]


async def get_repo(engine: EngineDep) -> UserStateRepo:
    return UserStateRepo(engine.db, engine.clock)


RepoDep = Annotated[UserStateRepo, Depends(get_repo)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserBody(_Body):
    timezone: str = "UTC"
    focus_areas: list[Area] = Field(default_factory=list, max_length=10)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        zone(v)
        return v


class TaskBody(_Body):
    title: str = Field(min_length=1, max_length=200)
    due_at: AwareDatetime | None = None
    status: TaskStatus = "open"
    area: Area | None = None


class EventBody(_Body):
    key: Key
    kind: EventKind
    occurred_at: AwareDatetime
    task_id: Key | None = None
    area: Area | None = None
    duration_min: float | None = Field(default=None, gt=0, le=24 * 60)


class Bulk(_Body, Generic[T]):
    items: list[T] = Field(min_length=1)


class UserOut(BaseModel):
    user_id: str
    timezone: str
    focus_areas: list[str]
    created_at: datetime
    updated_at: datetime


class IngestOut(BaseModel):
    created: int
    """Items that were new."""
    existing: int
    """Items already stored under the same key (updated for users and tasks, skipped for events)."""


def _out(report: IngestReport) -> IngestOut:
    return IngestOut(created=report.created, existing=report.existing)


def _check_size(request: Request, n: int) -> None:
    limit = request.app.state.engine.settings.recommend.max_bulk
    if n > limit:
        raise ValidationError(f"{n} items sent; at most {limit} per request", field="items")


@router.put("/users/{user_id}")
async def put_user(
    user_id: UserPath, body: UserBody, workspace: CurrentWorkspace, repo: RepoDep
) -> UserOut:
    """Create or update a user (time zone, focus areas)."""
    await repo.upsert_users(workspace.id, [UserIn(user_id=user_id, **body.model_dump())])
    u = await repo.get_user(workspace.id, user_id)
    return UserOut(
        user_id=u.key,
        timezone=u.timezone,
        focus_areas=list(u.focus_areas),
        created_at=u.created_at,
        updated_at=u.updated_at,
    )


@router.get("/users/{user_id}")
async def get_user(user_id: UserPath, workspace: CurrentWorkspace, repo: RepoDep) -> UserOut:
    """A user of this workspace."""
    u = await repo.get_user(workspace.id, user_id)
    return UserOut(
        user_id=u.key,
        timezone=u.timezone,
        focus_areas=list(u.focus_areas),
        created_at=u.created_at,
        updated_at=u.updated_at,
    )


@router.post("/users/bulk")
async def bulk_users(
    body: Bulk[UserIn], request: Request, workspace: CurrentWorkspace, repo: RepoDep
) -> IngestOut:
    """Create or update many users at once."""
    _check_size(request, len(body.items))
    return _out(await repo.upsert_users(workspace.id, body.items))


@router.put("/users/{user_id}/tasks/{task_id}")
async def put_task(
    user_id: UserPath,
    task_id: UserPath,
    body: TaskBody,
    workspace: CurrentWorkspace,
    repo: RepoDep,
) -> IngestOut:
    """Create or update one task of a user."""
    task = TaskIn(user_id=user_id, task_id=task_id, **body.model_dump())
    return _out(await repo.upsert_tasks(workspace.id, [task]))


@router.post("/tasks/bulk")
async def bulk_tasks(
    body: Bulk[TaskIn], request: Request, workspace: CurrentWorkspace, repo: RepoDep
) -> IngestOut:
    """Create or update many tasks (of any users of the workspace) at once."""
    _check_size(request, len(body.items))
    return _out(await repo.upsert_tasks(workspace.id, body.items))


@router.post("/users/{user_id}/events")
async def post_event(
    user_id: UserPath, body: EventBody, workspace: CurrentWorkspace, repo: RepoDep
) -> IngestOut:
    """Record one event (a completion or a focus session); its ``key`` makes it idempotent."""
    event = EventIn(user_id=user_id, **body.model_dump())
    return _out(await repo.add_events(workspace.id, [event]))


@router.post("/events/bulk")
async def bulk_events(
    body: Bulk[EventIn], request: Request, workspace: CurrentWorkspace, repo: RepoDep
) -> IngestOut:
    """Record many events at once."""
    _check_size(request, len(body.items))
    return _out(await repo.add_events(workspace.id, body.items))
