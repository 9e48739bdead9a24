"""Simulators: the default source of outcomes when no real audience is connected.

:class:`~maestro.sim.audience.AudienceSimulator` hides an engagement model per
brand x strategy x topic x hour of day (stationary, drifting or abruptly
switching) and samples noisy engagement from it; its ground truth is exposed
separately, for evaluation only. See ``docs/simulator.md``.
"""

from maestro.sim.audience import AudienceSimulator, SimulatorSettings

__all__ = ["AudienceSimulator", "SimulatorSettings"]
