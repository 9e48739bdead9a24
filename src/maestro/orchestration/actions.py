"""Python actions: workflow steps that run code instead of a model call.

An action is registered under a name so that a run persisted by one process can
be resumed by another: the spec stores the name, each process registers the
code. A step may run again if the process died while it was in flight (it never
runs again once completed), so actions with external side effects should use
``call.idempotency_key``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from maestro.errors import ConfigurationError
from maestro.llm.types import Priority
from maestro.orchestration.calls import StepInput
from maestro.orchestration.context import AgentContext

__all__ = ["Action", "ActionCall", "ActionRegistry", "StepOutcome"]


@dataclass(frozen=True, slots=True)
class ActionCall:
    run_id: str
    step: str
    params: Mapping[str, Any]
    context: AgentContext
    inputs: Sequence[StepInput]
    priority: Priority
    """P1 on the first attempt, P0 on healing retries."""
    attempt: int

    @property
    def idempotency_key(self) -> str:
        """Stable across retries and resumes of this step of this run."""
        return f"{self.run_id}:{self.step}"


@dataclass(frozen=True, slots=True)
class StepOutcome:
    text: str
    quality: float | None = None
    data: dict[str, Any] = field(default_factory=dict)


Action = Callable[[ActionCall], Awaitable[StepOutcome | str]]


class ActionRegistry:
    def __init__(self) -> None:
        self._actions: dict[str, Action] = {}

    def register(self, name: str, action: Action) -> None:
        self._actions[name] = action

    def action(self, name: str) -> Callable[[Action], Action]:
        """Decorator form of :meth:`register`."""

        def deco(fn: Action) -> Action:
            self.register(name, fn)
            return fn

        return deco

    def get(self, name: str) -> Action:
        try:
            return self._actions[name]
        except KeyError:
            known = ", ".join(sorted(self._actions)) or "none"
            raise ConfigurationError(
                f"no action {name!r} is registered in this process (registered: {known})",
                field="action",
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._actions
