"""Faults put into the code under test: a call that fails once, as a database that went away for a moment."""

from __future__ import annotations

from typing import Any

import pytest


def fail_once(monkeypatch: pytest.MonkeyPatch, target: Any, name: str, on_call: int = 1) -> None:
    """Make `target.name` raise once, on its `on_call`-th call (a database that went away for a moment)."""
    real, calls = getattr(target, name), []

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == on_call:
            raise ConnectionError("the database went away")
        return await real(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)


def fail_after(monkeypatch: pytest.MonkeyPatch, target: Any, name: str) -> None:
    """Make `target.name` do its work, then raise: the transaction it ran in fails afterwards, and is rolled back."""
    real = getattr(target, name)

    async def done_then_failed(*args: Any, **kwargs: Any) -> Any:
        await real(*args, **kwargs)
        raise ConnectionError("the database went away")

    monkeypatch.setattr(target, name, done_then_failed)
