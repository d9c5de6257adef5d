"""Benchmark: purchases recorded per second, and the nightly expiry job, on a club of 100,000 members.

    .venv/bin/python -m bench.earn [--members 100000] [--entries 10] [--earns 2000] [--counter] [--database URL]

Seeds `members` members with `entries` ledger entries (and lots) each — 1,000,000 by default — records
USUAL_SAMPLE purchases untimed (so the shop has its latest purchases), then times `earns` purchases one after
another through `loyalty.purchases.record_purchase` (one write transaction each: the member locked with the rules
and campaign read along; the key, the spend and due lots read under the lock; ledger entry, lot, balance,
purchase, audit), counting the SQL statements they send, and finally times `ledger.expire_due` thirty days later,
when about 8% of the lots are due. With --counter each earn is what the counter does (issue #14): first
`purchases.unusual` (the owner's rules, and the median of the latest USUAL_SAMPLE amounts) in the same session,
then the purchase; the amounts here are never unusual, so every earn is recorded.
--database defaults to a fresh SQLite file; a PostgreSQL URL (an empty database) measures asyncpg.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.seed import seed
from bench.timing import Latencies, pin_to_one_core
from loyalty import ledger, purchases
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from storage.database import create_engine, session_factory
from storage.migrate import upgrade
from tests.factories import NOW

RULES = Rules()


async def earn(
    sessions: async_sessionmaker[AsyncSession], rng: random.Random, members: int, key: str, counter: bool
) -> None:
    """Record a purchase of a random member in a session of its own; with `counter`, first the counter's
    usual-amount check."""
    member_id, amount = rng.randint(1, members), rng.randint(1, 500) * 10_000
    async with sessions() as session:
        if counter:
            await purchases.unusual(session, RULES, amount)
        await purchases.record_purchase(
            session, RULES, member_id=member_id, amount=amount, receipt=key, stamp=Stamp(1, key, NOW)
        )


async def run(url: str, members: int, entries: int, earns: int, counter: bool) -> tuple[Latencies, int, int, float]:
    """Seed, time the earns (and count their statements), then time the expiry job."""
    engine = create_engine(url)
    await upgrade(engine)
    await seed(engine, members, entries_per_member=entries, now=NOW)
    sessions = session_factory(engine)
    rng = random.Random(7)
    latencies = Latencies()
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    for number in range(purchases.USUAL_SAMPLE):  # untimed: the latest purchases the check reads
        await earn(sessions, rng, members, f"W-{number}", counter)
    event.listen(engine.sync_engine, "before_cursor_execute", count)
    latencies.start()
    for number in range(earns):
        with latencies.timed():
            await earn(sessions, rng, members, f"B-{number}", counter)
    latencies.stop()
    event.remove(engine.sync_engine, "before_cursor_execute", count)
    began = time.perf_counter()
    async with sessions() as session:
        expired = await ledger.expire_due(session, NOW + timedelta(days=30))
    job_seconds = time.perf_counter() - began
    await engine.dispose()
    return latencies, statements, expired, job_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=10)
    parser.add_argument("--earns", type=int, default=2_000)
    parser.add_argument("--counter", action="store_true", help="check the amount first, as the counter does")
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    arguments = parser.parse_args()
    pin_to_one_core()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        latencies, statements, expired, job_seconds = asyncio.run(
            run(url, arguments.members, arguments.entries, arguments.earns, arguments.counter)
        )
    print(
        f"earn on {make_url(url).get_backend_name()}, {arguments.members:,} members, "
        f"{arguments.members * arguments.entries:,} ledger entries, 1 core"
        + (", the counter's usual-amount check before each earn" if arguments.counter else "")
    )
    print(latencies.report("earns"))
    # as sent to the driver: SQLite's BEGIN IMMEDIATE counts; COMMIT and asyncpg's BEGIN do not
    print(f"{statements / arguments.earns:.2f} SQL statements per earn")
    print(f"expiry job: {expired:,} points expired in {job_seconds:.2f} s")


if __name__ == "__main__":
    main()
