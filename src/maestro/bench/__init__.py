"""Benchmarks: Maestro against the peer a user would otherwise pick, side by side."""
