"""Maestro: a self-improving multi-agent orchestration engine."""

from maestro._version import __version__

__all__ = ["__version__"]
