"""A clean stop on SIGTERM in every mode: `loyalty-bot run` (polling, webhook) and `loyalty-bot scheduler` in a process
of their own against the Bot API emulator stop taking updates, finish the one in hand, release the sender lease
and exit 0; a daily job cut short by the stop lets its run go, so another instance runs it at once."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.i18n import create_i18n
from loyalty.rules import Rules
from scheduler import jobs as daily
from scheduler import runs
from scheduler.jobs import Daily, Jobs, create_scheduler
from storage.database import create_engine
from storage.models import JobRun
from tests import updates
from tests.databases import sqlite_copy
from tests.emulator import BotAPIEmulator
from tests.factories import NOW
from tests.live import SETTING_NAMES, WEBHOOK_SECRET, daytime_zone, free_port
from tests.stub_bot import TOKEN

ROOT = Path(__file__).resolve().parent.parent
SLOW_REPLY = 1.5  # seconds the emulator holds the bot's reply: the update is in hand when SIGTERM comes
LEILA = updates.user_json(531, "Leila", "en")


@pytest.fixture
def folder(sqlite_template: Path, tmp_path: Path) -> Path:
    """A folder with a copy of the migrated SQLite database, for a process of its own (`database`)."""
    sqlite_copy(sqlite_template, tmp_path)
    return tmp_path


@asynccontextmanager
async def bot_process(emulator: BotAPIEmulator, command: str, folder: Path, **env: str) -> AsyncIterator[Process]:
    """`loyalty-bot <command>` in a process of its own against the emulator, on the SQLite database in `folder`
    (`database`)."""
    environment = {key: value for key, value in os.environ.items() if key not in SETTING_NAMES}
    environment |= {
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": emulator.url,
        "DATABASE_URL": database(folder),
        "TIMEZONE": daytime_zone(),
        "PYTHONPATH": str(ROOT),
        **env,
    }
    process = Process(
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", command, cwd=folder, env=environment, stderr=asyncio.subprocess.PIPE
        )
    )
    emulator.watch(process.gone)
    try:
        yield process
    finally:
        if process.process.returncode is None:
            process.process.kill()
            await process.process.wait()


class Process:
    """A running `loyalty-bot`: stop it with SIGTERM and read how it ended."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    def gone(self) -> str | None:
        return None if self.process.returncode is None else f"the process exited with {self.process.returncode}"

    async def terminate(self) -> tuple[int, str]:
        """SIGTERM, then its exit code and its log once it has exited."""
        self.process.send_signal(signal.SIGTERM)
        _, log = await asyncio.wait_for(self.process.communicate(), 30)
        return int(self.process.returncode or 0), log.decode()


def database(folder: Path) -> str:
    """The URL of the test's copy of the migrated SQLite database (`sqlite_copy`)."""
    return f"sqlite+aiosqlite:///{folder / 'loyalty.db'}"


async def sender_lease(folder: Path) -> tuple[str | None, object] | None:
    """Who holds the sender lease in the process's database, and until when (None: never taken)."""
    engine = create_engine(database(folder))
    lease = select(JobRun.holder, JobRun.lease_until).where(JobRun.name == runs.SENDER)
    try:
        async with AsyncSession(engine) as session:
            row = (await session.execute(lease)).first()
    finally:
        await engine.dispose()
    return None if row is None else (row.holder, row.lease_until)


def in_flight(emulator: BotAPIEmulator) -> Callable[[], bool]:
    """Whether the bot has asked to send its reply (held `SLOW_REPLY` seconds by the emulator)."""
    return lambda: any(call.method == "sendMessage" for call in emulator.calls)


def answered(emulator: BotAPIEmulator) -> list[str]:
    return [call.text for call in emulator.replies_to(LEILA["id"])]


def stopped_cleanly(code: int, log: str) -> None:
    assert code == 0, log[-3000:]
    assert "Traceback" not in log and "SIGTERM: stopping" in log, log[-3000:]


async def test_polling_stops_on_sigterm_after_finishing_the_update_in_hand(
    emulator: BotAPIEmulator, folder: Path
) -> None:
    async with bot_process(emulator, "run", folder) as process:
        await emulator.wait_polling(timeout=30)
        emulator.delays["sendmessage"] = SLOW_REPLY
        await emulator.push(updates.message_update(LEILA, text="/start"))
        await emulator.wait_for(in_flight(emulator), 10, lambda: "the bot never replied")
        code, log = await process.terminate()
    stopped_cleanly(code, log)
    [welcome] = answered(emulator)
    assert "Welcome to the customer club" in welcome
    assert await sender_lease(folder) == (None, None)


async def test_webhook_mode_stops_on_sigterm_after_answering_the_update_in_hand(
    emulator: BotAPIEmulator, folder: Path
) -> None:
    port = free_port()
    webhook = {
        "WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
        "WEBHOOK_SECRET": WEBHOOK_SECRET,
        "WEB_HOST": "127.0.0.1",
        "WEB_PORT": str(port),
    }
    async with bot_process(emulator, "run", folder, **webhook) as process:
        await emulator.wait_for(lambda: "url" in emulator.webhook, 30, lambda: "the bot never set its webhook")
        emulator.delays["sendmessage"] = SLOW_REPLY
        delivery = asyncio.create_task(emulator.deliver(updates.message_update(LEILA, text="/start")))
        await emulator.wait_for(in_flight(emulator), 10, lambda: "the bot never replied")
        code, log = await process.terminate()
        assert await delivery == 200
    stopped_cleanly(code, log)
    assert len(answered(emulator)) == 1
    assert emulator.webhook  # left set: updates that come meanwhile wait for the next start
    assert await sender_lease(folder) == (None, None)


async def test_the_scheduler_stops_on_sigterm_and_releases_the_sender_lease(
    emulator: BotAPIEmulator, folder: Path
) -> None:
    async with bot_process(emulator, "scheduler", folder) as process:
        for _ in range(300):  # the sender takes its lease once the bot is up
            if await sender_lease(folder) not in (None, (None, None)):
                break
            await asyncio.sleep(0.1)
        code, log = await process.terminate()
    stopped_cleanly(code, log)
    assert await sender_lease(folder) == (None, None)


async def test_a_daily_job_cut_short_by_the_stop_lets_its_run_go(
    monkeypatch: pytest.MonkeyPatch, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    started = asyncio.Event()

    async def endless(_jobs: Jobs, _now: object) -> None:
        started.set()
        await asyncio.Event().wait()

    monkeypatch.setattr(daily, "DAILY", (Daily("endless", lambda _: time(0), endless),))
    jobs = Jobs(create_i18n("en"), sessions, Rules(), lambda: NOW, ZoneInfo("UTC"))
    scheduler = create_scheduler(jobs)
    scheduler.start()
    await asyncio.wait_for(started.wait(), 10)
    async with sessions() as session:
        assert not await runs.claim(session, "endless", NOW.date(), "another", NOW + timedelta(seconds=1))
    await daily.stop(scheduler, jobs, grace=0.1)
    async with sessions() as session:
        assert await runs.claim(session, "endless", NOW.date(), "another", NOW + timedelta(seconds=1))
