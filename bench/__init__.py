"""Benchmarks: documented commands that measure speed on this machine (figures in BENCHMARKS.md)."""
