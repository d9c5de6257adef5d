"""Benchmark: the owner's reports (`loyalty.reports`), the Sales report's split by payment method
(`loyalty.payments.split`) and its two charts over a big club (issue #15: a report under 2 s, a chart under 0.5 s).

    .venv/bin/python -m bench.report [--members 100000] [--purchases 1000000] [--runs 5] [--database URL | --keep FILE]

Seeds `members` members (joined over the last 700 days) and `purchases` purchases by random members spread evenly
over the last 365 days (one in a hundred reversed; by cash, card, online, on credit or not said in turn), with bulk
inserts, runs ANALYZE (VACUUM ANALYZE on PostgreSQL, as autovacuum would), then times each report `runs` times and
prints the median: Sales for the last 30 days and for this month (the Gregorian one: the Jalali month starts on
NOW's own day, 1 Azar, and the Gregorian gives 22 days), and Members, Points, Top customers and Referrals for the
last 30 days, each against its previous period as the reports compute them, and the busy hours (weekday × hour) and
the split by payment method (the Sales report's line under its figures) for the last 30 days, and the three the
Sales message reads (sales, busy hours, split) one after the other. Then the Sales
report's two charts are drawn `runs` times in Persian (the 30 days' bars, the heatmap). The shop is in Tehran; the
process is pinned to one core.
--database defaults to a fresh SQLite file; a PostgreSQL URL measures asyncpg. --keep FILE keeps the SQLite file. A
database that already has members (a kept file, or a PostgreSQL database of an earlier run: give the same sizes) is
not seeded again, only migrated to the newest revision and its statistics refreshed.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bench.seed import seed
from bench.timing import pin_to_one_core
from bot.i18n import create_i18n
from loyalty import payments, reports
from loyalty.calendar import GREGORIAN, JALALI
from loyalty.digest import AWAY_DAYS
from loyalty.periods import Period, period
from loyalty.purchases import FIRST_PURCHASES
from storage.database import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Member, Purchase
from tests.factories import NOW, PREVIOUS_PURCHASES
from texts.charts import hours_chart, sales_chart

ZONE = ZoneInfo("Asia/Tehran")
CHUNK = 50_000
PAYMENTS = (None, "cash", "card", "online", "credit")
YEAR = 365 * 24 * 3600


def _purchase_rows(first: int, last: int, members: int, rng: random.Random) -> list[dict[str, object]]:
    rows = []
    for number in range(first, last):
        at = NOW - timedelta(seconds=rng.randrange(YEAR))
        rows.append(
            {
                "id": number,
                "member_id": rng.randint(1, members),
                "amount": rng.randrange(10_000, 2_000_000),
                "idempotency_key": f"bench:{number}",
                "points": 10,
                "staff_id": 1,
                "created_at": at,
                "reversed_at": at + timedelta(hours=1) if number % 100 == 0 else None,
                "payment": PAYMENTS[number % len(PAYMENTS)],
            }
        )
    return rows


# PostgreSQL makes the same kind of rows itself, a chunk per statement (Python's rows would take 20+ minutes at 10M)
GENERATED = text(
    "INSERT INTO purchases "
    "(id, member_id, amount, idempotency_key, points, staff_id, created_at, reversed_at, payment) "
    "SELECT n, 1 + floor(random() * :members)::int, 10000 + floor(random() * 1990000)::bigint, 'bench:' || n, 10, 1, "
    "at, CASE WHEN n % 100 = 0 THEN at + interval '1 hour' END, "
    "(ARRAY[NULL, 'cash', 'card', 'online', 'credit'])[1 + n % 5] "
    "FROM (SELECT n, CAST(:now AS timestamptz) - random() * interval '365 days' AS at "
    "FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS n) AS made"
)


async def seed_purchases(engine: AsyncEngine, members: int, purchases: int) -> None:
    """Insert `purchases` purchases (ids 1…purchases) by random members over the year before NOW, and set the members'
    first purchases and each purchase's previous one."""
    rng = random.Random(15)
    generated = engine.dialect.name == "postgresql"
    if generated:
        async with engine.begin() as connection:
            await connection.execute(text("SELECT setseed(0.15)"))
    for first in range(1, purchases + 1, CHUNK):
        last = min(first + CHUNK, purchases + 1)
        async with engine.begin() as connection:
            if generated:
                bounds = {"first": first, "last": last - 1, "members": members, "now": NOW}
                await connection.execute(GENERATED, bounds)
            else:
                await connection.execute(insert(Purchase), _purchase_rows(first, last, members, rng))
    async with engine.begin() as connection:  # what the counter keeps on each member and purchase
        await connection.execute(FIRST_PURCHASES)
        await connection.execute(PREVIOUS_PURCHASES)
    await settle(engine)


async def settle(engine: AsyncEngine) -> None:
    """Statistics for the planner, and on PostgreSQL the visibility map (index-only scans) that autovacuum keeps."""
    statement = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.exec_driver_sql(statement)


async def timed(
    sessions: Callable[[], AsyncSession], report: Callable[[AsyncSession], Awaitable[object]], runs: int
) -> tuple[float, float]:
    """The median seconds of `runs` runs of `report`, each in a session of its own, and the median processor seconds
    of this process (on SQLite the query's work too; what a busy machine's other work leaves out)."""
    walls, processor = [], []
    for _ in range(runs):
        async with sessions() as session:
            began, used = time.perf_counter(), time.process_time()
            await report(session)
            walls.append(time.perf_counter() - began)
            processor.append(time.process_time() - used)
    return statistics.median(walls), statistics.median(processor)


async def run(url: str, members: int, purchases: int, runs: int) -> list[str]:
    """Seed (unless seeded already), then time each report; one line per figure."""
    engine = create_engine(url)
    began = time.perf_counter()
    await upgrade(engine)
    async with engine.connect() as connection:
        seeded = await connection.scalar(select(func.count()).select_from(Member)) > 0
    if seeded:
        migrated = time.perf_counter()
        await settle(engine)
        analysed = time.perf_counter() - migrated
        lines = [f"reused the seeded database: migrated in {migrated - began:.0f} s, analysed in {analysed:.0f} s"]
    else:
        await seed(engine, members, entries_per_member=1, now=NOW)
        await seed_purchases(engine, members, purchases)
        lines = [f"seeded {members:,} members and {purchases:,} purchases in {time.perf_counter() - began:.0f} s"]
    today = NOW.astimezone(ZONE).date()
    last30, month = period("last30", today, JALALI), period("month", today, GREGORIAN)
    cases: dict[str, Callable[[AsyncSession], Awaitable[object]]] = {
        "sales, last 30 days": lambda session: reports.sales(session, last30, ZONE),
        "sales, this month": lambda session: reports.sales(session, month, ZONE),
        "members, last 30 days": lambda session: reports.members(session, last30, ZONE, NOW, AWAY_DAYS),
        "points, last 30 days": lambda session: reports.points(session, last30, ZONE, NOW),
        "top customers, last 30 days": lambda session: reports.top(session, last30, ZONE),
        "referrals, last 30 days": lambda session: reports.referral_figures(session, last30, ZONE),
        "busy hours, last 30 days": lambda session: reports.hours(session, last30, ZONE),
        "payment split, last 30 days": lambda session: payments.split(session, last30, ZONE),
        "the Sales message's figures, last 30 days": lambda session: sales_message(session, last30),
    }
    sessions = session_factory(engine)
    for name, report in cases.items():
        wall, processor = await timed(sessions, report, runs)
        lines.append(f"{name}: median {wall:.3f} s (processor {processor:.3f} s) of {runs} runs")
    async with sessions() as session:
        sales, busy = await reports.sales(session, last30, ZONE), await reports.hours(session, last30, ZONE)
    charts = {"sales chart, 30 days": lambda: sales_chart(sales.days, "toman"), "heatmap": lambda: hours_chart(busy)}
    for name, draw in charts.items():
        wall, processor = drawn(draw, runs)
        lines.append(f"{name}, drawn in Persian: median {wall:.3f} s (processor {processor:.3f} s) of {runs} runs")
    await engine.dispose()
    return lines


async def sales_message(session: AsyncSession, span: Period) -> None:
    """What /report's Sales message reads, one after the other: the sales, the busy hours and the split by method."""
    await reports.sales(session, span, ZONE)
    await reports.hours(session, span, ZONE)
    await payments.split(session, span, ZONE)


def drawn(draw: Callable[[], bytes], runs: int) -> tuple[float, float]:
    """The median seconds of `runs` drawings of a chart in Persian, as /report draws it (after one that loads the
    font), and the median processor seconds (what a busy machine's other work leaves out)."""
    i18n = create_i18n("fa")
    walls, processor = [], []
    with i18n.context(), i18n.use_locale("fa"):
        draw()
        for _ in range(runs):
            began, used = time.perf_counter(), time.process_time()
            draw()
            walls.append(time.perf_counter() - began)
            processor.append(time.process_time() - used)
    return statistics.median(walls), statistics.median(processor)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    parser.add_argument("--keep", type=Path, help="an SQLite file to seed once and reuse")
    arguments = parser.parse_args()
    pin_to_one_core()
    with tempfile.TemporaryDirectory() as folder:
        file = arguments.keep or Path(folder) / "bench.db"
        url = arguments.database or f"sqlite+aiosqlite:///{file}"
        lines = asyncio.run(run(url, arguments.members, arguments.purchases, arguments.runs))
    print(f"reports on {make_url(url).get_backend_name()}, {arguments.members:,} members, 1 core")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
