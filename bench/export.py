"""Benchmark: /export of a large club's members, the rows read a batch at a time and written into a file on disk.

    .venv/bin/python -m bench.export [--members 100000] [--database URL]

Seeds `members` members (one ledger entry each) with genders, birthdays and tiers, then, for CSV and XLSX, runs the
export in a fresh process pinned to one core, as /export does it (`loyalty.exports.rows` → the staff member's cells
in Persian, Jalali dates → `handlers.staff.exports.files`): the time (and the processor time: on SQLite the
database's work too; what a busy machine's other work leaves out), the file's size, the process's resident memory
before the export and its own peak (VmHWM). --database defaults to a fresh SQLite file; a PostgreSQL URL (an empty
database) measures asyncpg.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy.engine import make_url

from bench.audience import profile
from bench.memory import peak_mb, resident_mb
from bench.seed import seed
from bench.timing import pin_to_one_core
from bot.i18n import create_i18n
from handlers.staff.exports import files
from handlers.staff.exports.cells import Cells, header
from handlers.staff.exports.routes import counted_cells
from loyalty import exports
from storage.database import create_engine, session_factory
from storage.migrate import upgrade
from tests.factories import NOW
from texts.languages import speaking

ZONE = ZoneInfo("Asia/Tehran")


async def export(url: str, form: str, folder: Path) -> str:
    """One export of the members into `folder`, in Persian: a line with the time, size and memory."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    before = resident_mb()
    path = folder / f"members.{form}"

    async def progress(written: int) -> None:
        return None

    began, used = time.perf_counter(), time.process_time()
    with speaking(create_i18n("fa"), "fa"):
        async with sessions() as session:
            extent = await exports.extent(session, exports.MEMBERS)
            total = extent.rows
            rows = counted_cells(
                exports.rows(session, exports.MEMBERS, extent.last_id), Cells(exports.MEMBERS, ZONE), progress
            )
            await files.write(path, form, header(exports.MEMBERS, "toman"), rows, "members")
    took, processor = time.perf_counter() - began, time.process_time() - used
    peak = peak_mb()
    await engine.dispose()
    size = path.stat().st_size / 2**20
    return (
        f"{form}: {total:,} rows in {took:.1f} s (processor {processor:.1f} s; {total / took:,.0f} rows/s), "
        f"file {size:.1f} MB, "
        f"memory {before:.0f} MB before, peak {peak:.0f} MB"
    )


async def prepare(url: str, members: int) -> float:
    """A migrated database with `members` profiled members: the seconds it took."""
    engine = create_engine(url)
    await upgrade(engine)
    began = time.perf_counter()
    await seed(engine, members, entries_per_member=1, now=NOW)
    await profile(engine, consent=100)
    await engine.dispose()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    parser.add_argument("--only", choices=files.FORMATS, help=argparse.SUPPRESS)  # the child: export once
    arguments = parser.parse_args()
    pin_to_one_core()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        if arguments.only:
            print(asyncio.run(export(url, arguments.only, Path(folder))))
            return
        seeded = asyncio.run(prepare(url, arguments.members))
        print(f"export on {make_url(url).get_backend_name()}, {arguments.members:,} members (seeded in {seeded:.0f} s)")
        for form in files.FORMATS:
            child = [sys.executable, "-m", "bench.export", "--database", url, "--only", form]
            print(subprocess.run(child, check=True, capture_output=True, text=True).stdout.strip(), flush=True)


if __name__ == "__main__":
    main()
