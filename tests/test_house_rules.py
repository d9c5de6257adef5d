"""House rules held by tools: checks run with the suite, so breaking a rule fails a test, not a review."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")  # the command import-linter installs beside python


def test_the_domain_and_storage_type_check_clean() -> None:
    """mypy, with the project's settings (`[tool.mypy]` in pyproject.toml: loyalty/ and storage/), finds nothing."""
    command = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")]
    # From the repository's root, so its own loyalty/ and storage/ are checked; the cache is its .mypy_cache.
    checked = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)

    assert checked.returncode == 0, f"mypy found errors:\n{checked.stdout}{checked.stderr}"


def test_the_import_contracts_hold() -> None:
    """Layers point down, no aiogram below the chat, no feature router imports another (import-linter).

    A subprocess from the repository root: the linter reads this checkout's code (it puts the working directory
    first on the path) and reconfigures logging, which must not leak into the rest of the suite."""
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert run.returncode == 0, f"an import contract is broken:\n{run.stdout}{run.stderr}"
