"""This process's resident memory, now and at its peak, for the benchmarks' reports."""

from __future__ import annotations

import resource
from pathlib import Path


def resident_mb() -> float:
    """This process's resident memory now, in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_mb() -> float:
    """This process's own peak resident memory (VmHWM), in MB.

    Not `ru_maxrss`: Linux keeps that across fork and exec, so a child started by a benchmark after it seeded a
    million members would report the seeding's peak as its own.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise LookupError("no VmHWM in /proc/self/status")
