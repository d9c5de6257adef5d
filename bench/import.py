"""Benchmark: /import of a customer list as staff send it (issue #15: 100,000 rows in under 60 s).

    .venv/bin/python -m bench.import [--rows 100000] [--known 10000] [--format csv|xlsx] [--database URL]

Makes a file of `rows` customers (phone, name, a Jalali birthday, gender, opening points with a reason, tier) as
CSV and as XLSX, and for each format (or the one --format names), in a fresh club of `known` members whose phones
are the file's first ones (skipped by the import), times the steps of /import in order (`loyalty.imports`):
reading the file, checking every row, the dry run (`plan`), and the import itself (`run`: members and opening
points in batches), each step's processor seconds beside it (on SQLite the database's work too: what a busy
machine's other work leaves out), then the process's peak memory (ru_maxrss). The process is pinned to one core.
--database defaults to a fresh SQLite file per format; a PostgreSQL URL (an empty database, one format per run)
measures asyncpg.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import resource
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.seed import seed
from bench.timing import pin_to_one_core
from handlers.staff.exports import xlsx
from loyalty import imports
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from storage.database import create_engine, session_factory
from storage.migrate import upgrade
from tests.factories import NOW

HEADER = ["phone", "name", "birthday", "gender", "points", "reason", "tier"]
RULES = Rules()
FORMATS = ("csv", "xlsx")


def customers(rows: int) -> list[list[str]]:
    """The file's cells: phones +98912 0000001… (those of `bench.seed`'s members first), varied other columns."""
    return [
        [
            f"0912{number:07d}",
            f"مشتری {number}",
            f"13{60 + number % 40}/{1 + number % 12:02d}/{1 + number % 28:02d}",
            ("زن", "مرد", "")[number % 3],
            str(number % 500),
            "کارت قدیمی",
            ("bronze", "silver", "gold")[number % 3],
        ]
        for number in range(1, rows + 1)
    ]


def as_csv(table: list[list[str]]) -> bytes:
    """The table as a CSV file in UTF-8 with a BOM, as Excel saves one."""
    out = io.StringIO()
    csv.writer(out).writerows(table)
    return out.getvalue().encode("utf-8-sig")


async def as_xlsx(table: list[list[str]], folder: Path) -> bytes:
    """The table as an XLSX file."""

    async def body() -> AsyncIterator[list[str | int]]:
        for row in table[1:]:
            yield list(row)

    path = folder / "customers.xlsx"
    await xlsx.write(path, table[0], body(), "customers")
    return path.read_bytes()


async def fresh(url: str, known: int) -> None:
    """An empty migrated club, then `known` members."""
    engine = create_engine(url)
    await upgrade(engine)
    await seed(engine, known, entries_per_member=1, now=NOW)
    await engine.dispose()


async def timed_import(url: str, content: bytes) -> list[str]:
    """The steps of one import of `content`, each timed: one line each."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    lines: list[str] = []
    began = (time.perf_counter(), time.process_time())

    def lap(step: str, started: tuple[float, float]) -> tuple[float, float]:
        now = (time.perf_counter(), time.process_time())
        lines.append(f"  {step}: {now[0] - started[0]:.1f} s (processor {now[1] - started[1]:.1f} s)")
        return now

    table = imports.read_table(content)
    mark = lap("read", began)
    sheet = imports.check_rows(table, RULES, NOW.date())
    mark = lap(f"check ({len(sheet.rows):,} good, {len(sheet.bad):,} bad)", mark)
    async with sessions() as session:
        planned = await imports.plan(session, sheet)
    mark = lap(f"dry run ({len(planned.new):,} new, {planned.already:,} already members)", mark)
    async with sessions() as session:
        done = await imports.run(session, RULES, sheet, "fa", Stamp(1, "bench", NOW))
    lap(f"import ({done.created:,} members, {done.points:,} points)", mark)
    lap("total", began)
    await engine.dispose()
    return lines


async def run(url: str | None, rows: int, known: int, forms: list[str], folder: Path) -> list[str]:
    """Each format of `forms`, each into a fresh club."""
    table = [HEADER, *customers(rows)]
    lines = []
    for form in forms:
        content = as_csv(table) if form == "csv" else await as_xlsx(table, folder)
        target = url or f"sqlite+aiosqlite:///{folder / f'{form}.db'}"
        await fresh(target, known)
        lines.append(f"{form} ({len(content) / 2**20:.1f} MB):")
        lines.extend(await timed_import(target, content))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=imports.MAX_ROWS)
    parser.add_argument("--known", type=int, default=10_000)
    parser.add_argument("--format", choices=FORMATS, help="one format only (default: both; one with --database)")
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    arguments = parser.parse_args()
    forms = [arguments.format] if arguments.format else list(FORMATS[: 1 if arguments.database else 2])
    pin_to_one_core()
    with tempfile.TemporaryDirectory() as folder:
        lines = asyncio.run(run(arguments.database, arguments.rows, arguments.known, forms, Path(folder)))
    backend = make_url(arguments.database).get_backend_name() if arguments.database else "sqlite"
    print(f"import on {backend}, {arguments.rows:,} rows, {arguments.known:,} already members, 1 core")
    print("\n".join(lines))
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
