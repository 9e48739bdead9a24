"""Lua scripts of the Redis cache backend (one file per atomic operation)."""
