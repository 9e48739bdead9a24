"""Lua scripts shipped as package resources (one file per atomic operation)."""
