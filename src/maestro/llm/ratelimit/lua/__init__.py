"""Lua scripts the Redis bucket store runs atomically (one file per operation)."""
