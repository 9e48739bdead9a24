"""The HTTP API (FastAPI)."""

from maestro.api.app import create_app

__all__ = ["create_app"]
