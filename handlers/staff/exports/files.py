"""Writing an export's rows into a file on disk, a row at a time: CSV (UTF-8 with a BOM, so Excel reads Persian) or
XLSX (`handlers.staff.exports.xlsx`, streamed, keeping no rows in memory); a long table split into parts of at most so
many rows, each part a whole file with its header, so that none passes what the messenger lets a bot send."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from pathlib import Path

from handlers.staff.exports import xlsx
from handlers.staff.exports.cells import Cell

FORMATS = ("csv", "xlsx")


async def write_csv(path: Path, header: Sequence[str], rows: AsyncIterable[list[Cell]]) -> None:
    """The header and rows as CSV in UTF-8 with a byte-order mark."""
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        async for row in rows:
            writer.writerow(row)


async def write(path: Path, form: str, header: Sequence[str], rows: AsyncIterable[list[Cell]], title: str) -> None:
    """The file of `form` (csv or xlsx) at `path`."""
    if form == "xlsx":
        await xlsx.write(path, header, rows, title)
    else:
        await write_csv(path, header, rows)


async def parts(rows: AsyncIterable[list[Cell]], size: int) -> AsyncIterator[AsyncIterator[list[Cell]]]:
    """The rows in parts of at most `size` rows, none empty; each part is to be read to its end before the next."""
    iterator = aiter(rows)
    while (first := await anext(iterator, None)) is not None:
        yield _part(first, iterator, size)


async def _part(first: list[Cell], rest: AsyncIterator[list[Cell]], size: int) -> AsyncIterator[list[Cell]]:
    yield first
    for _ in range(size - 1):
        if (row := await anext(rest, None)) is None:
            return
        yield row
