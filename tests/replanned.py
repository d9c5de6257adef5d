"""Statements SQLite would prepare again on every run: a bound value in a term that a partial index's WHERE could
match (`point_lots.remaining > ?` against `remaining > 0`), where the value must be written in
(`storage.models.written`).

`watch(engine)` records them while a test runs, on the engine and on its reader on the loop (`storage.loop_reads`).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from greenlet import getcurrent, greenlet
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.loop_reads import reader_of
from storage.models import Base

TERM = re.compile(r"^\s*(\w+)\s*(=|<>|!=|<=|>=|<|>)\s*(\d+|'[^']*')\s*$")  # a partial index's `column op literal`


def _bound_terms() -> re.Pattern[str]:
    """What a partial index's WHERE term looks like with a bound value in place of its literal, in any table alias."""
    shapes = []
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = index.dialect_options["sqlite"]["where"]
            if where is not None and (term := TERM.match(str(where))):
                column, operator, _literal = term.groups()
                shapes.append(rf"\b{table.name}(?:_\d+)?\.{column}\s*{re.escape(operator)}\s*\?")
    return re.compile("|".join(shapes))


BOUND_TERMS = _bound_terms()
HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent


def _asked_by_a_test() -> bool:
    """Whether the statement running now was run by a test's own code (reading what the bot wrote), not the bot's:
    the nearest of the project's frames, through SQLAlchemy's greenlets to the coroutine that awaited it."""
    for frame in _callers():
        path = Path(frame.f_code.co_filename)
        if path.is_relative_to(ROOT) and not path.is_relative_to(ROOT / ".venv") and path != HERE:
            return path.is_relative_to(ROOT / "tests")
    return False


def _callers() -> Iterator[FrameType]:
    """The frames calling this one, then those of the greenlets that switched to it."""
    frame: FrameType | None = sys._getframe(1)
    runner: greenlet | None = getcurrent()
    while frame is not None or runner is not None:
        while frame is not None:
            yield frame
            frame = frame.f_back
        runner = runner.parent if runner is not None else None
        frame = runner.gr_frame if runner is not None else None


@contextmanager
def watch(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements run on `engine` (and its reader) inside the block that SQLite would prepare on every run."""
    replanned: list[str] = []

    def seen(_connection: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if BOUND_TERMS.search(statement) and not _asked_by_a_test():
            replanned.append(statement)

    reader = reader_of(engine)
    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    if reader is not None:
        reader.trace(lambda statement: seen(None, None, statement))
    try:
        yield replanned
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
        if reader is not None:
            reader.trace(None)
