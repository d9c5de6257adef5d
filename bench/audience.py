"""Benchmark: building a campaign's audience over a club of 1,000,000 members — counting it, then filling the
campaign's outbox with one row per recipient (`campaigns.start`: one INSERT ... SELECT).

    .venv/bin/python -m bench.audience [--members 1000000] [--consent 100] [--database URL]

Seeds `members` members (one ledger entry each; `consent` percent of them want news), gives them genders,
birthdays and tiers, and a purchase to every third member, then times, on one core: the count of everyone,
the count of a filtered audience (women in silver or gold born in a Jalali month who bought coffee), and
starting a campaign to everyone (count shown to staff + outbox filled). --database defaults to a fresh SQLite
file; a PostgreSQL URL (an empty database) measures asyncpg.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.seed import seed
from bench.timing import pin_to_one_core
from loyalty import audiences, campaigns
from loyalty.audiences import Audience
from loyalty.campaigns import CampaignDraft, Message
from storage.database import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import OutboxMessage, Purchase
from tests.factories import NOW

FILTERED = Audience(gender="female", tiers=("silver", "gold"), birthday_month=7, bought_category="coffee")


async def profile(engine: AsyncEngine, consent: int) -> None:
    """Genders, birthdays, tiers and news consent by member number; a coffee or cake purchase every third member."""
    birthday = (
        "date('1960-01-01', '+' || (id % 16000 * 7919 % 16000) || ' days')"
        if engine.dialect.name == "sqlite"
        else "date '1960-01-01' + (id % 16000 * 7919 % 16000)"
    )
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "UPDATE members SET gender = CASE WHEN id % 2 = 0 THEN 'female' ELSE 'male' END, "
                f"birthday = {birthday}, news_consent = (id % 100 < :consent), "
                "tier = CASE id % 10 WHEN 0 THEN 'gold' WHEN 1 THEN 'silver' WHEN 2 THEN 'silver' ELSE 'bronze' END"
            ),
            {"consent": consent},
        )
        purchases = text(
            "INSERT INTO purchases (member_id, amount, idempotency_key, category, points, staff_id, created_at) "
            "SELECT id, 1000000, 'bench:' || id, CASE WHEN id % 2 = 0 THEN 'coffee' ELSE 'cake' END, 100, 1, "
            ":now FROM members WHERE id % 3 = 0"
        )
        await connection.execute(purchases.bindparams(bindparam("now", NOW, type_=Purchase.created_at.type)))


async def run(url: str, members: int, consent: int) -> list[str]:
    """Seed, then time the counts and the start; one line per figure."""
    engine = create_engine(url)
    await upgrade(engine)
    began = time.perf_counter()
    await seed(engine, members, entries_per_member=1, now=NOW)
    await profile(engine, consent)
    seeded = time.perf_counter() - began
    sessions = session_factory(engine)
    lines = [f"seeded {members:,} members in {seeded:.0f} s"]
    async with sessions() as session:
        for name, audience in (("everyone", Audience()), ("filtered", FILTERED)):
            began = time.perf_counter()
            size = await audiences.count(session, audience, NOW)
            lines.append(f"count {name}: {size:,} members in {time.perf_counter() - began:.3f} s")
        draft = CampaignDraft(name="Bench", audience=Audience(), message=Message("Hi {name}"))
        created = await campaigns.create(session, draft, actor_id=1, now=NOW)
        began = time.perf_counter()
        size = await audiences.count(session, Audience(), NOW)  # the size staff see before they confirm
        counted = time.perf_counter() - began
        started = await campaigns.start(session, created.id, actor_id=1, now=NOW)
        built = time.perf_counter() - began
        rows = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert started.recipients == size == rows
    lines.append(
        f"build everyone: count {counted:.3f} s + outbox filled with {rows:,} rows {built - counted:.3f} s "
        f"= {built:.3f} s ({rows / (built - counted):,.0f} rows/s)"
    )
    await engine.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--consent", type=int, default=100, help="percent of members who want news")
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    arguments = parser.parse_args()
    pin_to_one_core()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        lines = asyncio.run(run(url, arguments.members, arguments.consent))
    print(f"audience on {make_url(url).get_backend_name()}, {arguments.members:,} members, 1 core")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
