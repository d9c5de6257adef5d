"""Benchmark: /balance updates through the real dispatcher on a SQLite club of 100,000 members.

    .venv/bin/python -m bench.balance [--members 100000] [--updates 5000] [--concurrency 1] [--database URL]

--database defaults to a fresh SQLite file; a PostgreSQL URL (an empty database) measures asyncpg instead.

The Bot API is stubbed in-process, so the figure is the bot's own cost per update: middlewares,
member lookup, balance and expiry query, the reply text in the member's language. The process is
pinned to one CPU core. Prints updates/second and p50/p99 latency.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from pathlib import Path

from aiogram.types import Update
from sqlalchemy.engine import make_url

from bench.seed import FIRST_TELEGRAM_ID, seed
from bench.timing import Latencies, pin_to_one_core
from bot.factory import create_dispatcher
from bot.settings import Settings
from storage.database import create_engine, session_factory
from storage.migrate import upgrade
from tests import updates
from tests.factories import NOW
from tests.stub_bot import TOKEN, stub_bot


async def run(url: str, members: int, count: int, concurrency: int) -> Latencies:
    """Seed a database, then time `count` /balance updates, `concurrency` at a time."""
    engine = create_engine(url)
    await upgrade(engine)
    await seed(engine, members, entries_per_member=2, now=NOW)
    settings = Settings(_env_file=None, bot_token=TOKEN)  # type: ignore[call-arg]
    dispatcher = create_dispatcher(settings, session_factory(engine), clock=lambda: NOW)
    bot, _ = stub_bot(record=False)
    rng = random.Random(1)
    balance_updates = [
        Update.model_validate(
            updates.message_update(
                updates.user_json(FIRST_TELEGRAM_ID + rng.randint(1, members), "M", "fa"), text="/balance"
            ),
            context={"bot": bot},
        )
        for _ in range(count)
    ]
    latencies = Latencies()
    queue = iter(balance_updates)

    async def worker() -> None:
        for update in queue:
            with latencies.timed():
                await dispatcher.feed_update(bot, update)

    for update in balance_updates[:50]:  # warm caches and the connection pool
        await dispatcher.feed_update(bot, update)
    latencies.start()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    latencies.stop()
    await engine.dispose()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--updates", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    arguments = parser.parse_args()
    pin_to_one_core()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        started = time.perf_counter()
        latencies = asyncio.run(run(url, arguments.members, arguments.updates, arguments.concurrency))
    print(
        f"/balance on {make_url(url).get_backend_name()}, {arguments.members:,} members, "
        f"concurrency {arguments.concurrency}, 1 core, total run {time.perf_counter() - started:.1f} s"
    )
    print(latencies.report("updates"))


if __name__ == "__main__":
    main()
