"""The benchmarks' memory figures: a process's peak is its own, not its parent's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc (Linux)")
def test_a_child_process_peak_leaves_out_what_its_parent_held_before_starting_it() -> None:
    held = b"x" * (128 * 2**20)  # resident in this process (filled, not merely reserved) while the child starts
    child = [sys.executable, "-c", "from bench.memory import peak_mb; print(peak_mb())"]
    found = subprocess.run(child, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    del held
    assert float(found) < 64  # an interpreter importing bench.memory: about 10 MB
