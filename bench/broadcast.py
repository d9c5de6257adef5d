"""Benchmark: a campaign to 10,000 members through the real sender and aiogram, against the Bot API emulator.

    .venv/bin/python -m bench.broadcast [--members 10000] [--mode limited|near-limit|max|ceiling|all] [--database URL]

The emulator runs in a process of its own (on another core when there is one); the bot's side runs on one core.
- limited: the emulator answers 429 like Telegram (30 messages a second, 1 a second per chat) and the sender
  runs at its default 25 a second: the achieved rate against the limit, and the 429s met (should be none).
- near-limit: the same flood control with the sender at BROADCAST_RATE=29: how close to the limit it runs
  without a 429.
- max: no flood control, the sender at its highest configurable rate (1,000 a second).
- ceiling: no flood control and the pacer lifted: the engine's own ceiling (claim, write each message for its
  member, send over HTTP with aiogram, record it as sent).
Each mode starts a fresh campaign to every member and drains it; every member must get exactly one message.
--database defaults to a fresh SQLite file; a PostgreSQL URL (an empty database) measures asyncpg.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import tempfile
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.seed import FIRST_TELEGRAM_ID, seed
from bench.timing import pin_to_one_core
from bot.factory import create_bot
from bot.settings import Settings
from loyalty import campaigns
from loyalty.audiences import Audience
from loyalty.campaigns import CampaignDraft, Message
from scheduler.sender import Pacer, Sender, SenderConfig, telegram_send
from storage.database import create_engine, session_factory
from storage.migrate import upgrade
from tests.emulator import SEND_METHODS, BotAPIEmulator
from tests.factories import NOW
from tests.stub_bot import TOKEN

MODES = {
    "limited": (True, 25.0, False),
    "near-limit": (True, 29.0, False),
    "max": (False, 1000.0, False),
    "ceiling": (False, 1000.0, True),
}


def serve_emulator(pipe: Connection, members: int, flood: bool) -> None:
    """The emulator's process: serve until told to stop, then send back what it saw."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:  # the bot's side is pinned to the first
        os.sched_setaffinity(0, {(os.cpu_count() or 1) - 1})

    async def serve() -> None:
        async with BotAPIEmulator(TOKEN) as emulator:
            emulator.chats |= {FIRST_TELEGRAM_ID + number for number in range(1, members + 1)}
            if flood:
                emulator.flood_control()  # Telegram's limits: 30 a second, 1 a second per chat
            pipe.send(emulator.url)
            await asyncio.get_running_loop().run_in_executor(None, pipe.recv)
            sent = Counter(call.chat_id for call in emulator.calls if call.method in SEND_METHODS and not call.error)
            pipe.send({"chats": len(sent), "most": max(sent.values(), default=0), "too_many": emulator.too_many})

    asyncio.run(serve())


async def broadcast(url: str, api_url: str, rate: float, lifted: bool) -> tuple[Any, float]:
    """Start a campaign to everyone and drain it; the sender's report and the seconds to fill the outbox."""
    engine = create_engine(url)
    sessions = session_factory(engine)
    bot = create_bot(Settings(_env_file=None, bot_token=TOKEN, bot_api_url=api_url))  # type: ignore[call-arg]
    sender = Sender(sessions, telegram_send(bot), SenderConfig(rate=rate, quiet=None, batch=200, in_flight=100))
    if lifted:
        sender.pacer = Pacer(rate=1e9, chat_interval=0)
    draft = CampaignDraft(name="Bench", audience=Audience(), message=Message("Hi {name}, you have {points} points"))
    async with sessions() as session:
        created = await campaigns.create(session, draft, actor_id=1, now=NOW)
        began = time.perf_counter()
        await campaigns.start(session, created.id, actor_id=1, now=NOW)
        filled = time.perf_counter() - began
    try:
        report = await sender.drain()
    finally:
        await bot.session.close()
        await engine.dispose()
    return report, filled


async def prepare(url: str, members: int) -> None:
    """A migrated database with `members` members who all want news."""
    engine = create_engine(url)
    await upgrade(engine)
    await seed(engine, members, entries_per_member=1, now=NOW)
    async with engine.begin() as connection:
        await connection.execute(text("UPDATE members SET news_consent = true"))
    await engine.dispose()


def run_mode(url: str, members: int, mode: str) -> str:
    """One mode with its own emulator process; one line of figures."""
    flood, rate, lifted = MODES[mode]
    parent, child = multiprocessing.get_context("spawn").Pipe()
    emulator = multiprocessing.get_context("spawn").Process(target=serve_emulator, args=(child, members, flood))
    emulator.start()
    try:
        api_url = parent.recv()
        report, filled = asyncio.run(broadcast(url, api_url, rate, lifted))
        parent.send("stop")
        seen = parent.recv()
    finally:
        emulator.join(timeout=10)
    assert report.sent == seen["chats"] == members and seen["most"] == 1, (report, seen)
    limit = "30/s limit" if flood else "no limit"
    return (
        f"{mode}: {members:,} messages in {report.seconds:.1f} s = {report.rate:,.1f} msg/s "
        f"(sender rate {'lifted' if lifted else f'{rate:g}/s'}, emulator {limit}); 429s {seen['too_many']}; "
        f"each member exactly once; outbox filled in {filled:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--mode", choices=[*MODES, "all"], default="all")
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    arguments = parser.parse_args()
    modes = list(MODES) if arguments.mode == "all" else [arguments.mode]
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        asyncio.run(prepare(url, arguments.members))
        print(f"broadcast on {make_url(url).get_backend_name()}, {arguments.members:,} members, bot side on 1 core")
        for mode in modes:
            pin_to_one_core()
            print(run_mode(url, arguments.members, mode), flush=True)


if __name__ == "__main__":
    main()
