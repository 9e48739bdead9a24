"""The user simulator: app users with hidden habits, their tasks and events, and reactions.

Each simulated user has a time zone, focus areas, a productive hour, a
diligence (how much they get done) and a hidden taste: the kind of finding
(one snippet agent) that makes a tip land for them. :meth:`UserSimulator.react`
samples a reaction from that taste and is the only place it is used, so
``maestro recommend report`` can be checked against the truth
(:attr:`SimUser.likes`). Everything is seeded: same seed, same world.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from maestro.recommend.rewards import Reaction
from maestro.recommend.state import EventIn, TaskIn, UserIn

if TYPE_CHECKING:
    from maestro.recommend.store import UserStateRepo

__all__ = ["SimUser", "UserSimulator"]

TIMEZONES: Final = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "America/Sao_Paulo")
AREAS: Final = ("health", "career", "home", "learning", "finance", "family")
TASKS: Final = {
    "health": ("Book a dentist appointment", "Go for a 30-minute run", "Meal-prep for the week"),
    "career": ("Update the project plan", "Reply to the client email", "Prepare the demo slides"),
    "home": ("Fix the kitchen tap", "Sort the recycling", "Order new curtains"),
    "learning": ("Finish chapter 4", "Practise Spanish for 20 minutes", "Watch the SQL course"),
    "finance": ("Pay the electricity bill", "File the expense report", "Review the budget"),
    "family": ("Call grandma", "Plan the weekend trip", "Buy a birthday present"),
}
AGENT_IDS: Final = ("overdue-task", "momentum", "time-of-day", "recent-patterns", "focus-area")


@dataclass(frozen=True)
class SimUser:
    key: str
    timezone: str
    focus_areas: tuple[str, ...]
    peak_hour: int
    """Local hour the user usually completes tasks at."""
    diligence: float
    """0..1: how many tasks they complete."""
    likes: str
    """Hidden: the agent whose findings make a tip land (ground truth for evaluation)."""


class UserSimulator:
    """Seeded users, tasks, events and reactions."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed

    def _rng(self, *parts: object) -> random.Random:
        return random.Random("\x1f".join(map(str, (self.seed, *parts))))

    def users(self, n: int, *, prefix: str = "user") -> list[SimUser]:
        out = []
        for i in range(n):
            rng = self._rng("user", i)
            out.append(
                SimUser(
                    key=f"{prefix}-{i:06d}",
                    timezone=rng.choice(TIMEZONES),
                    focus_areas=tuple(rng.sample(AREAS, rng.randint(0, 3))),
                    peak_hour=rng.choice((7, 9, 10, 14, 16, 20, 22)),
                    diligence=round(rng.uniform(0.1, 0.95), 2),
                    likes=rng.choice(AGENT_IDS),
                )
            )
        return out

    @staticmethod
    def user_in(user: SimUser) -> UserIn:
        return UserIn(user_id=user.key, timezone=user.timezone, focus_areas=list(user.focus_areas))

    def tasks(self, user: SimUser, now: datetime) -> list[TaskIn]:
        """3-7 tasks: some overdue, some due soon, some done, in focus areas and others."""
        rng = self._rng("tasks", user.key)
        out = []
        for j in range(rng.randint(3, 7)):
            area = (
                rng.choice(user.focus_areas or AREAS) if rng.random() < 0.7 else rng.choice(AREAS)
            )
            due = (
                now + timedelta(hours=rng.uniform(-24 * 6, 24 * 5)) if rng.random() < 0.8 else None
            )
            done = rng.random() < user.diligence * 0.5
            out.append(
                TaskIn(
                    user_id=user.key,
                    task_id=f"t{j}",
                    title=rng.choice(TASKS[area]),
                    due_at=due,
                    status="done" if done else "open",
                    area=area,
                )
            )
        return out

    def events(self, user: SimUser, now: datetime, *, days: int = 14) -> list[EventIn]:
        """Completions near the user's productive hour, and focus sessions, over ``days``."""
        from maestro.recommend.state import zone

        rng = self._rng("events", user.key, int(now.timestamp()) // 86400)
        tz = zone(user.timezone)
        out = []
        for d in range(days):
            day = (now - timedelta(days=d + 1)).astimezone(tz)
            for k in range(_poisson(rng, user.diligence * 1.2)):
                hour = min(23, max(0, round(rng.gauss(user.peak_hour, 1.5))))
                at = day.replace(hour=hour, minute=rng.randrange(60), second=0, microsecond=0)
                area = rng.choice(user.focus_areas or AREAS)
                key = f"c-{at.date().isoformat()}-{k}"
                out.append(
                    EventIn(user_id=user.key, key=key, kind="completion", occurred_at=at, area=area)
                )
            if rng.random() < user.diligence * 0.4:
                at = day.replace(hour=user.peak_hour, minute=0, second=0, microsecond=0)
                out.append(
                    EventIn(
                        user_id=user.key,
                        key=f"s-{at.date().isoformat()}",
                        kind="session",
                        occurred_at=at,
                        duration_min=float(rng.choice((15, 25, 45, 60))),
                    )
                )
        return out

    def react(self, user: SimUser, agents: Sequence[str], *, draw: int = 0) -> Reaction:
        """A reaction to a tip built from ``agents``: better odds when the user's taste is there."""
        rng = self._rng("react", user.key, draw)
        hit = user.likes in agents
        p_good = (0.55 if hit else 0.2) + 0.25 * user.diligence
        u = rng.random()
        if u < p_good * 0.6:
            return "done"
        if u < p_good:
            return "liked"
        if u < p_good + 0.15:
            return "snoozed"
        return "dismissed" if u < 0.93 else "disliked"

    async def populate(
        self,
        repo: UserStateRepo,
        workspace_id: str,
        users: Sequence[SimUser],
        now: datetime,
        *,
        chunk: int = 1000,
    ) -> None:
        """Write ``users`` with their tasks and events through the public repository."""
        for i in range(0, len(users), chunk):
            part = users[i : i + chunk]
            await repo.upsert_users(workspace_id, [self.user_in(u) for u in part])
            await repo.upsert_tasks(workspace_id, [t for u in part for t in self.tasks(u, now)])
            await repo.add_events(workspace_id, [e for u in part for e in self.events(u, now)])


def _poisson(rng: random.Random, lam: float) -> int:
    n, p, limit = 0, 1.0, pow(2.718281828459045, -lam)
    while True:
        p *= rng.random()
        if p < limit:
            return n
        n += 1
