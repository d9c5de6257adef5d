"""Benchmark: /balance end to end over HTTP, the product against a bare aiogram bot, in one sitting.

    .venv/bin/python -m bench.e2e [--chats 20] [--burst 200] [--rounds 3] [--database URL]

The Bot API emulator (`tests.emulator`) serves getUpdates in this process; each bot (the product as `loyalty-bot
run` starts it, with default settings, and `bench.bare_bot`, a bare aiogram bot answering /balance with a fixed
text) runs in a process of its own pinned to one core (the emulator runs on any). `--chats` members are seeded;
each round starts each bot afresh, warms it with a first burst (the product's first run of its daily jobs, Python's
and SQLAlchemy's caches), then pushes the burst measured: `--burst` /balance updates spread over the chats at once.
Per bot and round it prints updates/s (the burst over the time from the first push to the last reply), p50/p99 from
an update's arrival in the emulator to its reply's arrival, the bot process's CPU time per update (user + system,
all its threads) and what that makes a core's worth (updates/s with a core to itself: a figure that a machine
shared with others moves less than updates/s), its RSS idle (started, before any update) and its peak; then the
median over the rounds of each figure's ratio product/bare. Rounds alternate which bot goes first, so a machine
shared with others loads both alike: compare ratios, not times.

--database defaults to a fresh SQLite file; a PostgreSQL URL (an empty database) measures asyncpg instead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.seed import FIRST_TELEGRAM_ID, seed
from storage.database import create_engine
from storage.migrate import upgrade
from tests import updates
from tests.emulator import BotAPIEmulator
from tests.factories import NOW
from tests.live import SETTING_NAMES

TOKEN = "1000:e2e-benchmark-token"
KINDS = ("product", "bare")
START_TIMEOUT = 60.0  # seconds a bot may take to start polling on a busy machine
BURST_TIMEOUT = 120.0  # seconds a burst may take to be answered
IDLE_PAUSE = 1.0  # seconds a started bot is left alone before its idle RSS is read
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sitting:
    """What every run of a sitting shares: the database, the load, where the bots log, the core they run on."""

    url: str
    chats: int
    count: int
    log: Path
    core: set[int]


@dataclass(frozen=True)
class Run:
    """One bot's figures for one burst."""

    kind: str
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # per update
    idle_rss_mb: float
    peak_rss_mb: float

    @property
    def capacity(self) -> float:
        """Updates one core would answer per second with nothing else on it: 1000 / CPU ms per update."""
        return 1000 / self.cpu_ms

    def line(self) -> str:
        return (
            f"{self.kind:>7}: {self.per_second:4.0f} updates/s, p50 {self.p50_ms:4.0f} ms, p99 {self.p99_ms:4.0f} ms, "
            f"CPU {self.cpu_ms:.2f} ms/update (a core's worth: {self.capacity:4.0f}/s), "
            f"RSS idle {self.idle_rss_mb:.0f} MB, peak {self.peak_rss_mb:.0f} MB"
        )


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """A process's resident memory now (VmRSS) or at its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no {field} for process {pid}")


def bots_core() -> set[int]:
    """The core the bots run on, one at a time: the first (this process, the emulator, runs on any)."""
    return {min(os.sched_getaffinity(0))}


async def start(kind: str, api_url: str, sitting: Sitting) -> asyncio.subprocess.Process:
    """Start one bot polling `api_url`, pinned to the bots' core before it starts any thread."""
    environment = {name: value for name, value in os.environ.items() if name not in SETTING_NAMES}
    if kind == "product":
        environment |= {"BOT_TOKEN": TOKEN, "BOT_API_URL": api_url, "DATABASE_URL": sitting.url}
        command = ["bot.cli", "--env-file", os.devnull, "run"]
    else:
        command = ["bench.bare_bot", api_url, TOKEN]
    with sitting.log.open("ab") as errors:
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", *command, env=environment, stderr=errors)
    os.sched_setaffinity(process.pid, sitting.core)
    return process


async def prepare(url: str, chats: int) -> None:
    """Migrate the database and seed one member a chat (two credits each)."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        await seed(engine, chats, entries_per_member=2, now=NOW)
    finally:
        await engine.dispose()


async def burst(emulator: BotAPIEmulator, users: list[dict[str, Any]], count: int) -> list[float]:
    """Push `count` /balance updates over the users at once; wait for every reply; each one's latency (s) and, last,
    the time from the first push to the last reply."""
    first_call = len(emulator.calls)
    pushed: dict[int, list[float]] = {user["id"]: [] for user in users}
    for index in range(count):
        user = users[index % len(users)]
        pushed[user["id"]].append(time.monotonic())
        await emulator.push(updates.message_update(user, text="/balance"))

    def replies() -> dict[int, list[float]]:
        got: dict[int, list[float]] = {chat: [] for chat in pushed}
        for call in emulator.calls[first_call:]:
            if call.method == "sendMessage" and call.error is None and call.chat_id in got:
                got[call.chat_id].append(call.at)
        return got

    def answered() -> bool:
        return sum(map(len, replies().values())) >= count

    await emulator.wait_for(answered, BURST_TIMEOUT, lambda: f"{count} replies did not arrive")
    got = replies()
    latencies = [reply - push for chat, times in pushed.items() for push, reply in zip(times, got[chat], strict=False)]
    began = min(times[0] for times in pushed.values() if times)
    ended = max(times[-1] for times in got.values() if times)
    return [*latencies, ended - began]


async def measure(kind: str, sitting: Sitting) -> Run:
    """Start one bot against a fresh emulator, warm it, time one burst, stop it."""
    users = [updates.user_json(FIRST_TELEGRAM_ID + number, "Member", "fa") for number in range(1, sitting.chats + 1)]
    async with BotAPIEmulator(TOKEN) as emulator:
        process = await start(kind, emulator.url, sitting)
        emulator.watch(lambda: None if process.returncode is None else f"exited {process.returncode}: {sitting.log}")
        try:
            await emulator.wait_polling(START_TIMEOUT)
            await asyncio.sleep(IDLE_PAUSE)
            idle = rss_mb(process.pid)
            await burst(emulator, users, sitting.count)
            cpu_before = cpu_seconds(process.pid)
            *latencies, took = await burst(emulator, users, sitting.count)
            cpu = cpu_seconds(process.pid) - cpu_before
            peak = rss_mb(process.pid, "VmHWM")
        finally:
            if process.returncode is None:
                process.terminate()
            await process.wait()
    cuts = statistics.quantiles(latencies, n=100)
    count = sitting.count
    return Run(kind, count / took, cuts[49] * 1000, cuts[98] * 1000, cpu / count * 1000, idle, peak)


def ratios(runs: list[Run]) -> str:
    """The median over the rounds of product/bare for each figure (each pair measured back to back)."""
    pairs = list(zip(runs[0::2], runs[1::2], strict=True))

    def median(figure: str) -> float:
        return float(statistics.median(getattr(product, figure) / getattr(bare, figure) for product, bare in pairs))

    return (
        f"product/bare (median of {len(pairs)} rounds): updates/s {median('per_second'):.2f}, a core's worth "
        f"{median('capacity'):.2f}; p50 {median('p50_ms'):.2f}x, p99 {median('p99_ms'):.2f}x, "
        f"CPU/update {median('cpu_ms'):.2f}x"
    )


async def run(sitting: Sitting, rounds: int) -> list[Run]:
    """Prepare the database, then measure both bots `rounds` times, alternating which goes first."""
    await prepare(sitting.url, sitting.chats)
    runs = []
    for number in range(rounds):
        for kind in KINDS if number % 2 == 0 else KINDS[::-1]:
            runs.append(await measure(kind, sitting))
            print(f"round {number + 1} {runs[-1].line()}", flush=True)
        if number % 2:
            runs[-2:] = runs[-1:-3:-1]  # keep product before bare in each pair
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--burst", type=int, default=200, help="/balance updates per burst")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    arguments = parser.parse_args()
    core = bots_core()
    with tempfile.TemporaryDirectory() as folder:
        url = arguments.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        sitting = Sitting(url, arguments.chats, arguments.burst, Path(folder) / "bots.log", core)
        print(
            f"/balance end to end on {make_url(url).get_backend_name()}: {arguments.chats} chats, bursts of "
            f"{arguments.burst}, each bot on 1 core; load {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        runs = asyncio.run(run(sitting, arguments.rounds))
    print(ratios(runs))


if __name__ == "__main__":
    main()
