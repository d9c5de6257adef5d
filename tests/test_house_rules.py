"""House rules held by tools: checks run with the suite, so breaking a rule fails a test, not a review."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

import grimp

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


def test_the_chat_never_imports_the_scheduler() -> None:
    """handlers/ and scheduler/ are siblings: the chat enqueues through `loyalty.outbox`, below both, and the layers
    contract excuses no import (an excused import would let the chat lean on the scheduler again)."""
    graph = grimp.build_graph("bot", "handlers", "loyalty", "storage", "scheduler", cache_dir=None)
    chains = graph.find_shortest_chains(importer="handlers", imported="scheduler", as_packages=True)
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [layers] = [contract for contract in contracts if contract["id"] == "layers"]

    assert chains == set(), f"the chat imports the scheduler: {chains}"
    assert layers.get("ignore_imports", []) == []


def test_no_module_imports_a_test_module() -> None:
    """Test modules share helpers through the helper modules (conftest.py, factories.py, chat.py, steps.py, …),
    never through each other, so a test file can be read, run, moved or deleted on its own."""
    crossings = [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
        for path in sorted([*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        for name in _imported(node)
        if name.rpartition(".")[2].startswith("test_")
    ]

    assert crossings == [], "move what they share to a helper module:\n" + "\n".join(crossings)


def _imported(node: ast.AST) -> list[str]:
    """The dotted names an import brings in: its module, and for a `from` import each name under that module."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        module = node.module or ""
        return [*([module] if module else []), *(f"{module}.{alias.name}".lstrip(".") for alias in node.names)]
    return []
