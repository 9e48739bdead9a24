"""``GET /dashboard``: the operator's page, plain HTML, CSS and JS from package data.

The page itself needs no key (it holds no data); it asks for an API key, keeps it
in ``sessionStorage`` and calls the JSON API with ``Authorization: Bearer``, so
every number it shows is scoped to that key's workspace exactly as the API is.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import Response

from maestro.errors import NotFoundError

__all__ = ["ASSETS", "router"]

router = APIRouter(tags=["dashboard"], include_in_schema=False)

ASSETS: dict[str, str] = {
    "dashboard.html": "text/html; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
    "dashboard.js": "text/javascript; charset=utf-8",
    "panels.js": "text/javascript; charset=utf-8",
    "chart.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "ui.js": "text/javascript; charset=utf-8",
}
"""The files the page is made of, with their media types (nothing else is served)."""

_HEADERS = {
    # Only our own files and our own API: no CDN, no inline script, no framing.
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@cache
def _read(name: str) -> bytes:
    """A file of :mod:`maestro.web`, read once (a few kilobytes)."""
    return resources.files("maestro.web").joinpath(name).read_bytes()


def _asset(name: str) -> Response:
    return Response(_read(name), media_type=ASSETS[name], headers=_HEADERS)


@router.get("/dashboard")
async def dashboard() -> Response:
    """The dashboard page."""
    return _asset("dashboard.html")


@router.get("/dashboard/{name}")
async def dashboard_asset(name: str) -> Response:
    """The page's stylesheet and its script modules."""
    if name not in ASSETS:
        raise NotFoundError(f"no dashboard file {name!r}", field="name")
    return _asset(name)
