"""Benchmark: /balance end to end over HTTP, the product against a bare aiogram bot, in one sitting.

    .venv/bin/python -m bench.e2e [--chats 20] [--burst 200] [--bursts 5] [--rounds 3] [--database URL] [--redis URL]
                                  [--instructions]

The Bot API emulator (`tests.emulator`) serves getUpdates in this process; each bot (the product as `loyalty-bot
run` starts it, with default settings, and `bench.bare_bot`, a bare aiogram bot answering /balance with a fixed
text) runs in a process of its own pinned to one core (the emulator runs on any). `--chats` members are seeded;
each round starts each bot afresh, warms it with a first burst (the product's first run of its daily jobs, Python's
and SQLAlchemy's caches), then pushes the bursts measured, one after another: `--burst` /balance updates spread
over the chats at once, `--bursts` times. Per bot and round it prints updates/s (the bursts over the time from each
one's first push to its last reply), p50/p99 from an update's arrival in the emulator to its reply's arrival, the bot
process's CPU time per update (user + system, all its threads) and what that makes a core's worth (updates/s with a
core to itself: a figure that a machine shared with others moves less than updates/s), its RSS idle (started,
before any update) and its peak; then the median over the rounds of each figure's ratio product/bare. Rounds
alternate which bot goes first, so a machine shared with others loads both alike: compare ratios, not times.

Why several bursts: one burst of 200 is a tenth of a second of the bare bot's CPU, ten of the clock's ticks, and
Python's collection of its oldest objects (some 300,000 that start-up made; tens of milliseconds) falls in one such
burst and not in the next: a single burst measured the bare bot at 0.5 or 1.0 ms an update by that chance alone.
`--bursts 1` measures as the first version of this benchmark did.

`--instructions` runs each bot under valgrind's callgrind and prints, in place of times, the instructions it ran per
update over the bursts measured, and their ratio (`bench.instructions`): the same from one run to the next, where
times move with whatever else the machine runs.

--database defaults to a fresh SQLite file; a PostgreSQL URL (an empty database) measures asyncpg instead. --redis
(an empty Redis database, flushed after) keeps the product's conversation state and chat locks in Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.engine import make_url

from bench.instructions import counted, under_callgrind
from bench.seed import FIRST_TELEGRAM_ID, seed
from storage.database import create_engine
from storage.migrate import upgrade
from tests import updates
from tests.databases import REDIS_URL
from tests.emulator import BotAPIEmulator
from tests.factories import NOW
from tests.live import SETTING_NAMES

TOKEN = "1000:e2e-benchmark-token"
KINDS = ("product", "bare")
START_TIMEOUT = 60.0  # seconds a bot may take to start polling on a busy machine
BURST_TIMEOUT = 120.0  # seconds a burst may take to be answered
IDLE_PAUSE = 1.0  # seconds a started bot is left alone before its idle RSS is read
TICKS = os.sysconf("SC_CLK_TCK")
PRODUCT = ["bot.cli", "--env-file", os.devnull, "run"]  # the product as `loyalty-bot run` starts it

Process = asyncio.subprocess.Process
Send = Callable[[dict[str, Any]], Awaitable[None]]  # hands one update to the bots


@dataclass(frozen=True)
class Sitting:
    """What every run of a sitting shares: the database (and Redis, if any), the load, where the bots log, the cores
    they run on (each bot of a run on a core of its own while there are enough)."""

    url: str
    chats: int
    count: int
    log: Path
    cores: tuple[int, ...]
    redis_url: str | None = None
    bursts: int = 1  # bursts measured, one after another
    instructions: bool = False  # the bots run under callgrind, their instructions counted (`bench.instructions`)

    @property
    def start_timeout(self) -> float:
        """Seconds a bot may take to start: under callgrind, even counting nothing, it runs several times slower."""
        return START_TIMEOUT * (10 if self.instructions else 1)

    def core(self, index: int) -> set[int]:
        """The core of a run's bot number `index` (from 0)."""
        return {self.cores[index % len(self.cores)]}


@dataclass(frozen=True)
class Run:
    """One bot's figures for a round's bursts."""

    kind: str
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # per update
    idle_rss_mb: float
    peak_rss_mb: float
    instructions: float | None = None  # per update, when counted

    @property
    def capacity(self) -> float:
        """Updates one core would answer per second with nothing else on it: 1000 / CPU ms per update."""
        return 1000 / self.cpu_ms

    def line(self) -> str:
        if self.instructions is not None:  # under callgrind, times say nothing
            return f"{self.kind:>11}: {self.instructions / 1e6:.3f} million instructions/update"
        return (
            f"{self.kind:>11}: {self.per_second:4.0f} updates/s, p50 {self.p50_ms:4.0f} ms, p99 {self.p99_ms:4.0f} ms, "
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


def available_cores() -> tuple[int, ...]:
    """The cores this process may run on; the bots take them in order (this process, the emulator, runs on any)."""
    return tuple(sorted(os.sched_getaffinity(0)))


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without the bot's settings, then `settings` (NAME=value)."""
    return {name: value for name, value in os.environ.items() if name not in SETTING_NAMES} | settings


def product_environment(sitting: Sitting, api_url: str, **settings: str) -> dict[str, str]:
    """The product's settings: the Bot API at `api_url`, the sitting's database and Redis, then `settings`."""
    redis = {"REDIS_URL": sitting.redis_url} if sitting.redis_url else {}
    return environment(BOT_TOKEN=TOKEN, BOT_API_URL=api_url, DATABASE_URL=sitting.url, **redis, **settings)


async def spawn(command: list[str], settings: dict[str, str], sitting: Sitting, index: int) -> Process:
    """Start `python -m *command` as the run's bot number `index` (under callgrind when the sitting counts
    instructions), pinned to its core before it starts any thread."""
    argv = under_callgrind(command, sitting.log.parent) if sitting.instructions else [sys.executable, "-m", *command]
    with sitting.log.open("ab") as errors:
        process = await asyncio.create_subprocess_exec(*argv, env=settings, stderr=errors)
    os.sched_setaffinity(process.pid, sitting.core(index))
    return process


async def start(kind: str, api_url: str, sitting: Sitting) -> Process:
    """Start one bot polling `api_url`."""
    if kind == "product":
        return await spawn(PRODUCT, product_environment(sitting, api_url), sitting, 0)
    return await spawn(["bench.bare_bot", api_url, TOKEN], environment(), sitting, 0)


@contextlib.asynccontextmanager
async def processes() -> AsyncIterator[list[Process]]:
    """The list of the processes the block starts; at its end each is stopped (SIGTERM) and waited for."""
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in started:
            if process.returncode is None:
                process.terminate()
        for process in started:
            await process.wait()


def gone(bots: list[Process], log: Path) -> Callable[[], str | None]:
    """For `BotAPIEmulator.watch`: why one of the bots stopped, or None while they all run."""

    def why() -> str | None:
        ended = [process.returncode for process in bots if process.returncode is not None]
        return f"exited {ended[0]}: {log}" if ended else None

    return why


def members(chats: int) -> list[dict[str, Any]]:
    """The seeded members (`prepare`) as Telegram users."""
    return [updates.user_json(FIRST_TELEGRAM_ID + number, "Member", "fa") for number in range(1, chats + 1)]


async def prepare(url: str, chats: int) -> None:
    """Migrate the database and seed one member a chat (two credits each)."""
    engine = create_engine(url)
    try:
        await upgrade(engine)
        await seed(engine, chats, entries_per_member=2, now=NOW)
    finally:
        await engine.dispose()


def redis_database(number: int) -> str:
    """The URL of database `number` of the tests' Redis (LOYALTY_TEST_REDIS_URL)."""
    return f"{REDIS_URL.rsplit('/', 1)[0]}/{number}"


@contextlib.asynccontextmanager
async def empty_redis(url: str | None) -> AsyncIterator[None]:
    """Redis's database at `url` (if any), which must be empty, flushed at the end of the block (the keys the bots
    made)."""
    if url is None:
        yield
        return
    redis = Redis.from_url(url)
    try:
        if await redis.dbsize():
            raise SystemExit(f"{url} holds keys: give --redis an empty database")
        try:
            yield
        finally:
            await redis.flushdb()
    finally:
        await redis.aclose()


async def burst(users: list[dict[str, Any]], count: int, emulator: BotAPIEmulator, send: Send) -> list[float]:
    """Send `count` /balance updates over the users at once (`send`: push for polling, a webhook's POST); wait for
    every reply; each one's latency (s) and, last, the time from the first update sent to the last reply."""
    first_call = len(emulator.calls)
    pushed: dict[int, list[float]] = {user["id"]: [] for user in users}
    sending = []
    for index in range(count):
        user = users[index % len(users)]
        pushed[user["id"]].append(time.monotonic())
        sending.append(asyncio.ensure_future(send(updates.message_update(user, text="/balance"))))

    def replies() -> dict[int, list[float]]:
        got: dict[int, list[float]] = {chat: [] for chat in pushed}
        for call in emulator.calls[first_call:]:
            if call.method == "sendMessage" and call.error is None and call.chat_id in got:
                got[call.chat_id].append(call.at)
        return got

    def answered() -> bool:
        for task in sending:
            if task.done() and (error := task.exception()) is not None:
                raise error
        return sum(map(len, replies().values())) >= count

    await emulator.wait_for(answered, BURST_TIMEOUT, lambda: f"{count} replies did not arrive")
    await asyncio.gather(*sending)
    got = replies()
    latencies = [reply - push for chat, times in pushed.items() for push, reply in zip(times, got[chat], strict=False)]
    began = min(times[0] for times in pushed.values() if times)
    ended = max(times[-1] for times in got.values() if times)
    return [*latencies, ended - began]


async def measured(kind: str, bots: list[Process], emulator: BotAPIEmulator, sitting: Sitting, send: Send) -> Run:
    """The figures of started bots: idle RSS, a warm-up burst, then the sitting's bursts timed, one after another.
    CPU is the sum over the bots' processes; RSS is the largest process's (one instance's)."""
    users = members(sitting.chats)
    await asyncio.sleep(IDLE_PAUSE)
    idle = max(rss_mb(bot.pid) for bot in bots)
    await burst(users, sitting.count, emulator, send)
    cpu_before = sum(cpu_seconds(bot.pid) for bot in bots)
    latencies: list[float] = []
    took = 0.0
    async with counting(bots, sitting) as instructions:
        for _ in range(sitting.bursts):
            *each, burst_took = await burst(users, sitting.count, emulator, send)
            latencies += each
            took += burst_took
    cpu = sum(cpu_seconds(bot.pid) for bot in bots) - cpu_before
    peak = max(rss_mb(bot.pid, "VmHWM") for bot in bots)
    cuts = statistics.quantiles(latencies, n=100)
    count = sitting.count * sitting.bursts
    counted_per_update = sum(instructions) / count if instructions else None
    return Run(kind, count / took, cuts[49] * 1000, cuts[98] * 1000, cpu / count * 1000, idle, peak, counted_per_update)


def counting(bots: list[Process], sitting: Sitting) -> contextlib.AbstractAsyncContextManager[list[int]]:
    """The instructions the bots run inside the block (`bench.instructions`), or an empty list when the sitting does
    not count them."""
    if sitting.instructions:
        return counted([bot.pid for bot in bots], sitting.log.parent)
    return contextlib.nullcontext([])


async def measure(kind: str, sitting: Sitting) -> Run:
    """Start one bot against a fresh emulator, warm it, time one burst, stop it."""
    async with BotAPIEmulator(TOKEN) as emulator, processes() as bots:
        bots.append(await start(kind, emulator.url, sitting))
        emulator.watch(gone(bots, sitting.log))
        await emulator.wait_polling(sitting.start_timeout)
        return await measured(kind, bots, emulator, sitting, emulator.push)


def ratios(runs: list[Run], name: str) -> str:
    """The median over the rounds of each figure's ratio `name` (first kind / second, each pair back to back)."""
    pairs = list(zip(runs[0::2], runs[1::2], strict=True))

    def median(figure: str) -> float:
        return float(statistics.median(getattr(first, figure) / getattr(second, figure) for first, second in pairs))

    if runs[0].instructions is not None:
        return f"{name} (median of {len(pairs)} rounds): instructions/update {median('instructions'):.2f}x"
    return (
        f"{name} (median of {len(pairs)} rounds): updates/s {median('per_second'):.2f}, a core's worth "
        f"{median('capacity'):.2f}; p50 {median('p50_ms'):.2f}x, p99 {median('p99_ms'):.2f}x, "
        f"CPU/update {median('cpu_ms'):.2f}x"
    )


async def alternating(kinds: Sequence[str], rounds: int, measure: Callable[[str], Awaitable[Run]]) -> list[Run]:
    """Measure both kinds `rounds` times, alternating which goes first; the first kind before the second in each
    pair of the list."""
    runs = []
    for number in range(rounds):
        for kind in kinds if number % 2 == 0 else kinds[::-1]:
            runs.append(await measure(kind))
            print(f"round {number + 1} {runs[-1].line()}", flush=True)
        if number % 2:
            runs[-2:] = runs[-1:-3:-1]
    return runs


async def run(sitting: Sitting, rounds: int) -> list[Run]:
    """Prepare the database, then measure both bots `rounds` times, alternating which goes first."""
    async with empty_redis(sitting.redis_url):
        await prepare(sitting.url, sitting.chats)
        return await alternating(KINDS, rounds, lambda kind: measure(kind, sitting))


def heading(what: str, sitting: Sitting) -> str:
    """The sitting's first line: what is measured, on which database, the load."""
    return (
        f"{what} on {make_url(sitting.url).get_backend_name()}: {sitting.chats} chats, {sitting.bursts} bursts of "
        f"{sitting.count} measured a round, "
        f"{len(sitting.cores)} cores for the bots; load {os.getloadavg()[0]:.2f}"
    )


def arguments(description: str) -> argparse.ArgumentParser:
    """The options every end-to-end benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--burst", type=int, default=200, help="/balance updates per burst")
    parser.add_argument("--bursts", type=int, default=5, help="bursts measured a round, one after another")
    parser.add_argument("--rounds", type=int, default=3)
    return parser


def main() -> None:
    parser = arguments(__doc__.split("\n")[0])
    parser.add_argument("--database", help="an empty database's URL (default: a new SQLite file)")
    parser.add_argument("--redis", help="an empty Redis database's URL, for the product's state (default: none)")
    parser.add_argument(
        "--instructions", action="store_true", help="count each bot's instructions under callgrind, not its times"
    )
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = options.database or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        log = Path(folder) / "bots.log"
        sitting = Sitting(
            url,
            options.chats,
            options.burst,
            log,
            available_cores()[:1],
            options.redis,
            options.bursts,
            options.instructions,
        )
        print(heading("/balance end to end, polling", sitting), flush=True)
        runs = asyncio.run(run(sitting, options.rounds))
    print(ratios(runs, "product/bare"))


if __name__ == "__main__":
    main()
