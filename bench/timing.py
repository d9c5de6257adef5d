"""Timing helpers shared by the benchmarks: per-operation latencies, throughput, one-core pinning."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager


def pin_to_one_core() -> None:
    """Run this process (and the threads it starts, such as aiosqlite's) on a single CPU core."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


class Latencies:
    """Collects how long each operation took and the wall time of the whole run."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self.began = self.ended = 0.0

    def start(self) -> None:
        self.began = time.perf_counter()

    def stop(self) -> None:
        self.ended = time.perf_counter()

    @contextmanager
    def timed(self) -> Iterator[None]:
        began = time.perf_counter()
        yield
        self.samples.append(time.perf_counter() - began)

    def per_second(self) -> float:
        return len(self.samples) / (self.ended - self.began)

    def report(self, what: str) -> str:
        """One line: throughput and p50/p99 latency in milliseconds."""
        cuts = statistics.quantiles(self.samples, n=100)
        return (
            f"{len(self.samples):,} {what} in {self.ended - self.began:.2f} s: {self.per_second():,.0f} {what}/s, "
            f"p50 {cuts[49] * 1000:.2f} ms, p99 {cuts[98] * 1000:.2f} ms"
        )
