"""Versioned prompt templates (``<name>.j2``); rendered by :mod:`maestro.llm.templates`."""
