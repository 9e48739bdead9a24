"""The dashboard's static files (HTML, CSS, JS), shipped as package data.

No build step and nothing fetched from elsewhere: the page works offline and is
served by :mod:`maestro.api.routers.dashboard`.
"""
