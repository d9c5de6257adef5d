"""Benchmark: the daily birthday and expiry-reminder jobs over a club of 1,000,000 members.

    .venv/bin/python -m bench.jobs [--members 1000000] [--database URL]

Seeds `members` members with one credit each (expiring over the coming year), birthdays spread over the year,
two in three given in the Jalali calendar and one in three in the Gregorian, then times, on one core: the
birthday job for one day (the owner's points to each member born that day and a greeting enqueued each), the
same job run again that day (it must add nothing), and the reminder job (members whose points expire within
7 days). --database defaults to a fresh SQLite file; a PostgreSQL URL (an empty database) measures asyncpg.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.seed import CHUNK, seed
from bench.timing import pin_to_one_core
from bot.i18n import create_i18n
from loyalty.birthdays import birthday_md
from loyalty.rules import Rules
from scheduler.jobs import Jobs, greet_birthdays, remind_expiring
from scheduler.sender import TEHRAN
from storage.database import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Member
from tests.factories import NOW


async def birthdays(engine: AsyncEngine) -> None:
    """Birthdays spread over the year, in the Jalali calendar for two members in three, with their month-day."""
    day = (
        "date('1960-01-01', '+' || (id % 16000 * 7919 % 16000) || ' days')"
        if engine.dialect.name == "sqlite"
        else "date '1960-01-01' + (id % 16000 * 7919 % 16000)"
    )
    calendar = "CASE WHEN id % 3 = 0 THEN 'gregorian' ELSE 'jalali' END"
    async with engine.begin() as connection:
        await connection.execute(text(f"UPDATE members SET birthday = {day}, birthday_calendar = {calendar}"))
    after = 0
    while True:
        async with engine.begin() as connection:
            rows = (
                await connection.execute(
                    select(Member.id, Member.birthday, Member.birthday_calendar)
                    .where(Member.id > after)
                    .order_by(Member.id)
                    .limit(CHUNK)
                )
            ).all()
            if not rows:
                return
            await connection.execute(
                update(Member).where(Member.id == bindparam("member")).values(birthday_md=bindparam("md")),
                [{"member": row.id, "md": birthday_md(row.birthday, row.birthday_calendar)} for row in rows],
            )
        after = rows[-1].id


async def timed(name: str, job: Awaitable[int]) -> str:
    """Run a job's coroutine; one line with what it did and how long it took."""
    began = time.perf_counter()
    done = await job
    return f"{name}: {done:,} in {time.perf_counter() - began:.2f} s"


async def run(url: str, members: int) -> list[str]:
    """Seed, then time the jobs; one line per figure."""
    engine = create_engine(url)
    await upgrade(engine)
    began = time.perf_counter()
    await seed(engine, members, entries_per_member=1, now=NOW)
    await birthdays(engine)
    lines = [f"seeded {members:,} members in {time.perf_counter() - began:.0f} s"]
    jobs = Jobs(create_i18n("fa"), session_factory(engine), Rules(), lambda: NOW, TEHRAN)
    lines.append(await timed("birthdays greeted (points given, greeting enqueued)", greet_birthdays(jobs, NOW)))
    lines.append(await timed("birthdays, second run the same day", greet_birthdays(jobs, NOW)))
    lines.append(await timed("reminders enqueued (points expiring within 7 days)", remind_expiring(jobs, NOW)))
    await engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    arguments = parser.parse_args()
    pin_to_one_core()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        lines = asyncio.run(run(url, arguments.members))
    print(f"daily jobs on {make_url(url).get_backend_name()}, {arguments.members:,} members, 1 core")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
