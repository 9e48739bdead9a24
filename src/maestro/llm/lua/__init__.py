"""Lua scripts of the gateway (budget reservations)."""
