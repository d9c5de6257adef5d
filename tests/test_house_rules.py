"""The house rules that tools hold (issue #13): the import contracts of pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")  # the command import-linter installs beside python


def test_the_import_contracts_hold() -> None:
    """Layers point down, no aiogram below the chat, no feature router imports another (import-linter).

    A subprocess from the repository root: the linter reads this checkout's code (it puts the working directory
    first on the path) and reconfigures logging, which must not leak into the rest of the suite."""
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )

    assert run.returncode == 0, f"an import contract is broken:\n{run.stdout}{run.stderr}"
