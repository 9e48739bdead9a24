"""Agents and orchestration (SPEC section 4; seeds 002 and 003).

The parts, one module each:

- :mod:`~maestro.orchestration.settings`: the defaults (routing confidence 0.8,
  self-correction 0.8 / 3 / 0.1, checkpoint timeout one hour, ...).
- :mod:`~maestro.orchestration.context`: :class:`AgentContext`, passed through
  every step; its correlation id is bound to every log line of a run.
- :mod:`~maestro.orchestration.registry` and :mod:`~maestro.orchestration.teams`:
  the expert registry (the seven experts of seed 002) and team assembly.
- :mod:`~maestro.orchestration.plan` and :mod:`~maestro.orchestration.router`:
  memory-aware routing and the validated LLM planner.
- :mod:`~maestro.orchestration.workflow`, :mod:`~maestro.orchestration.runs`:
  durable workflows of stages and steps, persisted after every step (backends in
  :mod:`~maestro.orchestration.runs_sql` and :mod:`~maestro.orchestration.runs_memory`).
- :mod:`~maestro.orchestration.selfcorrect`, :mod:`~maestro.orchestration.debate`.
- :mod:`~maestro.orchestration.checkpoints`, :mod:`~maestro.orchestration.webhooks`:
  human-in-the-loop approvals and their notifications.
- :mod:`~maestro.orchestration.service`: :class:`Orchestration`, the facade the
  API, the CLI and library users call.

This package imports nothing on purpose: :mod:`maestro.config` imports its
settings module, and everything else here imports :mod:`maestro.config`.
"""
