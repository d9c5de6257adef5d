"""The house rules that tools hold (issue #13): the import contracts of pyproject.toml."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

ROOT = Path(__file__).parent.parent
ROOT_PACKAGES = ("bot", "handlers", "loyalty", "storage", "scheduler")


def test_the_import_contracts_hold(capsys: pytest.CaptureFixture[str]) -> None:
    """Layers point down, no aiogram below the chat, no feature router imports another (import-linter)."""
    elsewhere = [name for name in ROOT_PACKAGES if not _found_in_this_checkout(name)]
    assert not elsewhere, f"these packages would be linted from another checkout: {elsewhere}"

    status = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)

    report = capsys.readouterr().out
    assert status == EXIT_STATUS_SUCCESS, f"an import contract is broken:\n{report}"


def _found_in_this_checkout(package: str) -> bool:
    spec = importlib.util.find_spec(package)
    return spec is not None and spec.origin is not None and Path(spec.origin).is_relative_to(ROOT)
