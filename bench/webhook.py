"""Benchmark: /balance end to end in webhook mode, one instance against two sharing PostgreSQL and Redis, in one
sitting.

    .venv/bin/python -m bench.webhook [--chats 20] [--burst 200] [--bursts 5] [--rounds 3] [--redis URL]

As `bench.e2e`, with updates coming by webhook: the Bot API emulator runs in this process; each instance of the
product runs as `loyalty-bot run` starts it with WEBHOOK_URL set, in a process of its own listening on a port of its
own, pinned to a core of its own while there are enough (the first instance on the first core). As Telegram behind a
load balancer, the emulator POSTs each update to one instance's webhook chosen at random (`tests.balancer`), with
the secret token, at most 40 at once (Telegram's default); the replies come back to the emulator's Bot API over
HTTP. The instances share a PostgreSQL database created for the sitting (dropped after) and a Redis database that
must be empty (flushed after); one instance alone uses them too, so both counts run the same code.

Per count and round it prints what `bench.e2e` prints, latency running from the update's POST (its arrival at
"Telegram", queue included) to its reply's arrival; CPU is the sum over the instances' processes, RSS the largest
instance's. Rounds alternate which count goes first; the last line is the median of two/one over the rounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bench.e2e import (
    PRODUCT,
    START_TIMEOUT,
    TOKEN,
    Process,
    Run,
    Sitting,
    alternating,
    arguments,
    available_cores,
    empty_redis,
    gone,
    heading,
    measured,
    prepare,
    processes,
    product_environment,
    ratios,
    redis_database,
    spawn,
)
from tests.balancer import Balancer
from tests.databases import PostgresRun
from tests.emulator import BotAPIEmulator
from tests.live import WEBHOOK_SECRET, free_port

INSTANCES = {"2 instances": 2, "1 instance": 1}  # the two kinds of run, in the order of the ratio
REDIS_DATABASE = 14  # of the tests' Redis (LOYALTY_TEST_REDIS_URL; the tests use 0)


async def start_instance(emulator: BotAPIEmulator, sitting: Sitting, index: int) -> tuple[Process, str]:
    """Start instance number `index` (from 0) on a free port; once it has set its webhook, its process and URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    webhook = {"WEBHOOK_URL": url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "WEB_HOST": "127.0.0.1", "WEB_PORT": str(port)}
    emulator.webhook = {}  # each instance sets its own URL; the balancer knows them all
    process = await spawn(PRODUCT, product_environment(sitting, emulator.url, **webhook), sitting, index)
    await emulator.wait_for(lambda: emulator.webhook.get("url") == url, START_TIMEOUT, lambda: f"{url} was never set")
    return process, url


async def measure(kind: str, sitting: Sitting) -> Run:
    """Start the kind's instances one after the other (each migrates first) against a fresh emulator, warm them, time
    one burst through the balancer, stop them. Every instance must have had updates."""
    async with BotAPIEmulator(TOKEN) as emulator, processes() as bots:
        emulator.watch(gone(bots, sitting.log))
        urls = []
        for index in range(INSTANCES[kind]):
            process, url = await start_instance(emulator, sitting, index)
            bots.append(process)
            urls.append(url)
        balancer = Balancer(emulator, urls)
        run = await measured(kind, bots, emulator, sitting, balancer.deliver)
        if len(balancer.got) != len(urls):
            raise AssertionError(f"an instance got no update: {dict(balancer.got)}")
        return run


async def run(sitting: Sitting, rounds: int) -> list[Run]:
    """Seed the database, then measure two instances and one `rounds` times, alternating which goes first."""
    async with empty_redis(sitting.redis_url):
        await prepare(sitting.url, sitting.chats)
        return await alternating(list(INSTANCES), rounds, lambda kind: measure(kind, sitting))


@contextlib.contextmanager
def fresh_postgres() -> Iterator[str]:
    """A PostgreSQL database created (and migrated) for the sitting, its URL; dropped at the end of the block."""
    database = PostgresRun()
    database.create()
    if database.error is not None:
        raise SystemExit(f"cannot create a PostgreSQL database: {database.error}")
    try:
        yield database.url
    finally:
        database.drop()


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    default_redis = redis_database(REDIS_DATABASE)
    parser.add_argument("--redis", default=default_redis, help=f"an empty Redis database (default: {default_redis})")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, fresh_postgres() as url:
        log = Path(folder) / "bots.log"
        sitting = Sitting(url, options.chats, options.burst, log, available_cores(), options.redis, options.bursts)
        print(heading("/balance end to end, webhook", sitting), flush=True)
        runs = asyncio.run(run(sitting, options.rounds))
    print(ratios(runs, "two/one"))


if __name__ == "__main__":
    main()
