"""The broadcast sender: drains the outbox at a steady pace within the messenger's limits, and survives crashes.

- Pace: a global rate (default 25 messages a second, at most 1,000) spaced evenly over all chats, and at most one
  message a second to any one chat (Telegram allows about 30 a second, and one a second in a chat); a guard keeps
  any one second of the messenger's under 30 requests however they bunch on the way (see `Pacer`).
- Express rows (`SenderConfig.express`, the chat's notices: a member told of what staff just did) are not spaced
  and not held to a chat's one second, as the chat's own replies are not: they come one or two per staff action,
  and a member hears at once, as when the chat sent them itself. The one-second guard and 429 pauses hold them as
  any other row, and they use up their share of the pace (bulk rows after them wait their turn).
- 429 (TelegramRetryAfter): every send pauses for `retry_after` seconds, then the same message is tried again;
  a flood answer is never counted as a failure.
- 403 (the member blocked the bot) or 400 "chat not found": the row is blocked and the member unreachable.
- Network errors, timeouts and 5xx: the row is pending again after an exponential backoff (30 s, 60 s, 120 s…)
  and failed after `max_attempts` tries. Any other 400 (a wrong file_id…) fails at once.
- A row is written as sent as soon as its send returns (rows that finish together share one commit), so a crash
  repeats at most the messages that were on their way; rows a sender holds are under a lease it keeps extending
  (see `scheduler.outbox`), and rows of a sender that died are taken over when their lease runs out.
- Quiet hours (default 22:00–09:00 shop time): campaign and gift rows wait; other kinds, such as birthday
  greetings, go.
- One sender at a time: `run` holds the bot's sender lease (`scheduler.runs`), as the messenger's rate limit
  is the bot's; the senders of other instances wait, and take over a minute after the holder stops.
- Latency: `run` looks at the outbox every `poll` seconds (1 s), claiming what is due. The chat's notices do not
  wait for that, nor for a claim's write transaction: while this sender holds the sender lease, an update writes
  its notices already claimed by it (`courier`, see `loyalty.outbox`), and the bot hands them over as soon as the
  update's transaction commits (`take`, from `bot.middlewares.HandOverMiddleware`), so a member hears of a
  purchase while the cashier's reply is still on its way, as when the chat sent notices itself. A plain wake-up
  was tried first and is not enough: a claim takes several database round trips, tens of milliseconds on a busy
  machine. Rows enqueued elsewhere (the daily jobs; an instance whose sender does not hold the lease) are found at
  the next look, a second later at most.
- Progress: `on_progress(Progress)` for each campaign being sent, at most every `progress_every` seconds, and
  once more when it is done, so the chat side can edit one staff message in place.

Times written to the database come from `clock` (tests freeze or move it); pacing uses the event loop's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import campaigns, gifts
from loyalty.campaigns import Progress, Recipient, ShopNames, TierNames, plain_shop, plain_tier
from loyalty.outbox import NOTICE, Claimed, Courier, Message
from scheduler import outbox, runs
from scheduler.outbox import Outcome
from storage.database import write_transaction
from storage.models import OutboxState

logger = logging.getLogger(__name__)

MAX_RATE = 1000.0
FLOOD_LIMIT = 30  # messages a second Telegram takes from a bot over all chats
SLACK = 0.005  # seconds a turn may come early (see `Pacer`)
STALE = 5.0  # seconds after which an unanswered send no longer holds up the window (see `Pacer`)
TEHRAN = ZoneInfo("Asia/Tehran")
PROGRESS_EVERY = 5.0
"""Seconds between two edits of a campaign's progress message (its final report goes at once, whenever it comes).

The messenger takes about one message a second in a chat, edits included; the progress message sits in the
staff member's own chat, where they steer the campaign and use the bot meanwhile. An edit every five seconds
keeps the figures fresh enough to watch while leaving that chat's budget to the staff member's own replies.
"""
Send = Callable[[int, Message], Awaitable[None]]
ProgressHook = Callable[[Progress], Awaitable[None]]
Clock = Callable[[], datetime]
T = TypeVar("T")


def utc_now() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC)


def buttons_of(message: Message) -> InlineKeyboardMarkup | None:
    """The message's buttons, one a row (None without any)."""
    if not message.buttons:
        return None
    rows = [[InlineKeyboardButton(text=label, callback_data=press)] for label, press in message.buttons]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def telegram_send(bot: Bot) -> Send:
    """The real `send`: a text message, or a photo with its caption, as plain text (no markup to inject), with its
    buttons."""

    async def send(chat_id: int, message: Message) -> None:
        markup = buttons_of(message)
        if message.photo is not None:
            await bot.send_photo(
                chat_id, message.photo, caption=message.text or None, parse_mode=None, reply_markup=markup
            )
        else:
            await bot.send_message(chat_id, message.text, parse_mode=None, reply_markup=markup)

    return send


@dataclass(frozen=True)
class QuietHours:
    """Hours of the shop's day when rows of `kinds` are not sent (from `start` to `end`, across midnight or not)."""

    start: time = time(22)
    end: time = time(9)
    zone: tzinfo = TEHRAN
    kinds: frozenset[str] = frozenset({campaigns.KIND, gifts.KIND})

    def applies(self, moment: datetime) -> bool:
        """True if `moment` falls in the quiet hours, shop time."""
        local = moment.astimezone(self.zone).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def held(self, moment: datetime) -> frozenset[str]:
        """The kinds of rows that wait at `moment`."""
        return self.kinds if self.applies(moment) else frozenset()


@dataclass(frozen=True)
class SenderConfig:
    """How fast and how stubbornly the sender sends."""

    rate: float = 25.0  # messages a second over all chats
    chat_interval: float = 1.05  # seconds between two messages to one chat
    batch: int = 100  # rows claimed at a time
    in_flight: int = 64  # sends under way at once
    lease: float = 60.0  # seconds a claimed row stays the sender's without a word from it
    max_attempts: int = 5  # tries of a row before a network or server error fails it
    backoff: float = 30.0  # seconds before the second try; doubled for each further one
    max_backoff: float = 3600.0
    quiet: QuietHours | None = field(default_factory=QuietHours)
    express: frozenset[str] = frozenset({NOTICE})  # kinds sent at once, unspaced (see `Pacer.turn`)
    poll: float = 1.0  # seconds between looks at the outbox when it is empty and nothing is handed over (`run`)
    progress_every: float = PROGRESS_EVERY  # seconds between two progress reports of a campaign

    def __post_init__(self) -> None:
        if not 0 < self.rate <= MAX_RATE:
            raise ValueError(f"the rate is above 0 and at most {MAX_RATE:g} messages a second")
        if self.batch < 1 or self.in_flight < 1 or self.max_attempts < 1 or self.lease <= 0:
            raise ValueError("batch, in_flight, max_attempts and lease are positive")

    def retry_delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed try."""
        return min(self.backoff * 2 ** (attempts - 1), self.max_backoff)


class Sending:
    """One send the pacer let through; `done()` when the messenger has answered (or the send failed)."""

    __slots__ = ("answered", "ended", "started")

    def __init__(self, started: float) -> None:
        self.started = started
        self.answered = asyncio.Event()
        self.ended = math.inf

    def done(self) -> None:
        """The send is over: its request was handled by the messenger, whatever the answer."""
        if not self.answered.is_set():
            self.ended = asyncio.get_running_loop().time()
            self.answered.set()


class Pacer:
    """Turns to send: `rate` a second over all chats, `chat_interval` seconds apart in one chat, none while paused.

    Turns are handed out one at a time, `1 / rate` apart on average. A turn may come up to `SLACK` early, so that
    a sleep waking a little late costs nothing on average; a process that stalled goes on at the same pace instead
    of sending what it owes in a burst.

    Spacing alone cannot stop requests from bunching on their way (a request held up after its turn arrives just
    before the next one), so a guard keeps the messenger's one-second window: a send starts only a second after
    the send `window` turns earlier was answered. As the messenger counts a request between its start and its
    answer, no second ever holds more than `window` sends there, whatever the delays; `window` is Telegram's
    30 (`FLOOD_LIMIT`), or one more than the rate when a paid broadcast runs faster. A send unanswered for
    `STALE` seconds stops holding the window up (the messenger has handled it by then, or it was lost).
    """

    def __init__(self, rate: float, chat_interval: float, window: int | None = None) -> None:
        self.spacing = 1 / rate
        self.chat_interval = chat_interval
        self.window = window or max(FLOOD_LIMIT, math.ceil(rate) + 1)
        self._next = -math.inf  # the theoretical time of the next turn
        self._paused_until = -math.inf
        self._last: dict[int, float] = {}
        self._recent: deque[Sending] = deque(maxlen=self.window)
        self._gate = asyncio.Lock()

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    async def turn(self, chat_id: int, *, express: bool = False) -> Sending:
        """Wait until a message may go to `chat_id`; the caller sends at once, then calls `done()` on the result.

        An express turn waits only for a pause and the one-second window, not for the spacing or the chat's interval.
        """
        while True:
            wait = 0.0 if express else self._last.get(chat_id, -math.inf) + self.chat_interval - self._now()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            async with self._gate:
                await self._wait_for_the_window(express)
                now = self._now()
                if express or self._last.get(chat_id, -math.inf) + self.chat_interval <= now:  # nobody sent meanwhile
                    self._next = max(self._next, now) + self.spacing
                    self._last[chat_id] = now
                    self._forget_old(now)
                    sending = Sending(now)
                    self._recent.append(sending)
                    return sending

    async def _wait_for_the_window(self, express: bool) -> None:
        """Sleep until the pace (unless `express`), a pause and the one-second window all allow the next send."""
        while True:
            wait = (self._paused_until if express else max(self._next - SLACK, self._paused_until)) - self._now()
            if len(self._recent) == self.window:
                oldest = self._recent[0]
                with contextlib.suppress(TimeoutError):  # long unanswered: handled by now, or lost
                    await asyncio.wait_for(oldest.answered.wait(), oldest.started + STALE - self._now())
                wait = max(wait, min(oldest.ended, oldest.started + STALE) + 1.0 - self._now())
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        """No message goes for `seconds` from now (the messenger said 429)."""
        self._paused_until = max(self._paused_until, self._now() + seconds)

    def _forget_old(self, now: float) -> None:
        if len(self._last) > 10_000:
            self._last = {chat: at for chat, at in self._last.items() if at + self.chat_interval > now}


@dataclass
class Report:
    """What one `drain` did: rows sent, blocked, failed, set to retry; flood answers (429) met; seconds taken."""

    sent: int = 0
    blocked: int = 0
    failed: int = 0
    retried: int = 0
    too_many: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Messages sent a second."""
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    def count(self, outcome: Outcome) -> None:
        """Count a row's outcome."""
        if outcome.state is OutboxState.SENT:
            self.sent += 1
        elif outcome.state is OutboxState.BLOCKED:
            self.blocked += 1
        elif outcome.state is OutboxState.FAILED:
            self.failed += 1
        else:
            self.retried += 1


class Sender:
    """Sends the outbox's due rows through `send(chat_id, message)`; several may drain side by side without overlap,
    and `run` lets one sender of the bot send at a time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        send: Send,
        config: SenderConfig | None = None,
        *,
        clock: Clock = utc_now,
        tier_names: TierNames = plain_tier,
        shop_names: ShopNames = plain_shop,
        on_progress: ProgressHook | None = None,
    ) -> None:
        self.sessions = sessions
        self.send = send
        self.config = config or SenderConfig()
        self.clock = clock
        self.tier_names = tier_names
        self.shop_names = shop_names
        self.on_progress = on_progress
        self.token = secrets.token_hex(8)
        self.pacer = Pacer(self.config.rate, self.config.chat_interval)
        self.report = Report()
        self._held: set[int] = set()
        self._written: list[tuple[Outcome, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._touched: set[int] = set()  # campaigns with rows written since their last progress report
        self._finished: set[int] = set()  # campaigns done and not yet reported
        self._reported_at = -math.inf
        self._reporter: asyncio.Task[None] | None = None
        self._database_work: set[asyncio.Future[object]] = set()
        self._lease: bool | None = None  # the sender lease in `run`: held, lost, or None (`drain` called alone)
        self._lease_until = datetime.min.replace(tzinfo=UTC)
        self._bell = asyncio.Event()  # rung by `take`
        self._handed: list[Claimed] = []  # rows claimed for this sender as they were enqueued (`take`)

    @property
    def holding(self) -> bool:
        """Whether this sender holds the bot's sender lease (it sends the outbox) right now."""
        return bool(self._lease)

    def courier(self) -> Courier | None:
        """How an update in this process writes its notices already claimed by this sender (`loyalty.outbox`), to
        hand them over at once (`take`); None while another instance's sender holds the sender lease."""
        if not self.holding:
            return None
        return Courier(self.token, timedelta(seconds=self.config.lease), self.config.express)

    def take(self, rows: Collection[Claimed]) -> None:
        """Send these rows, written claimed by this sender (`courier`) and now committed, at once: `run` does not wait
        for its next look, and needs no claim."""
        self._handed.extend(rows)
        self._bell.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send for as long as the bot runs: start campaigns whose time came (every `poll` s), drain, look again
        every `poll` s or as soon as rows are handed over."""
        started_due = -math.inf
        try:
            while not stop.is_set():
                self._bell.clear()  # rows handed over from now on may come after this round's claims: another round
                try:
                    if await self._shielded(self._hold()):
                        if self._now() - started_due >= self.config.poll:  # not for every handed row: they go first
                            await self._shielded(self._start_due())
                            started_due = self._now()
                        await self.drain()
                    else:  # another sender took over: it takes these rows too, when their lease runs out
                        self._handed.clear()
                except Exception:
                    logger.exception("the broadcast sender failed; trying again")
                await self._pause(stop)
        finally:
            await self._database_done()
            if self._lease:
                await self._shielded(self._release())

    async def _pause(self, stop: asyncio.Event) -> None:
        """Wait `poll` seconds, or until rows are handed over (`take`) or the sender is stopped."""
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._bell.wait())]
        try:
            await asyncio.wait(waits, timeout=self.config.poll, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    async def _release(self) -> None:
        async with self.sessions() as session:
            await runs.release(session, runs.SENDER, self.token)
        self._lease = None

    async def _hold(self) -> bool:
        """Take or keep the bot's one sender lease (another instance's sender may hold it: this one waits); a lease
        held with more than two thirds of it left is not renewed yet."""
        now = self.clock()
        lease = timedelta(seconds=self.config.lease)
        if self._lease and self._lease_until - now > lease * 2 / 3:
            return True
        async with self.sessions() as session:
            self._lease = await runs.hold(session, runs.SENDER, self.token, now, now + lease)
        self._lease_until = now + lease
        return self._lease

    async def _start_due(self) -> None:
        async with self.sessions() as session:
            await campaigns.start_due(session, self.clock())

    async def drain(self) -> Report:
        """Send every row due now, then return what was done (rows waiting for a retry or for quiet hours stay)."""
        self.report = Report()
        began = self._now()
        writer = asyncio.create_task(self._write_loop())
        keeper = asyncio.create_task(self._keep_leases())
        try:
            slots = asyncio.Semaphore(self.config.in_flight)
            async with asyncio.TaskGroup() as sending:
                while self._lease is not False and (batch := await self._shielded(self._claim())):
                    for row, message in await self._shielded(self._prepare(batch)):
                        await slots.acquire()
                        task = sending.create_task(self._deliver(row, message))
                        task.add_done_callback(lambda _: slots.release())
            if self._reporter is not None:
                await self._reporter
        finally:  # after a failure or a cancel, rows still held wait out their lease
            helpers = [writer, keeper] + ([self._reporter] if self._reporter is not None else [])
            for helper in helpers:
                helper.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
            await self._database_done()
        self.report.seconds = self._now() - began
        return self.report

    async def _claim(self) -> list[Claimed]:
        """The rows handed over, if any (claimed already), else a batch of due rows claimed now."""
        if self._handed:
            batch, self._handed = self._handed, []
            self._held.update(row.id for row in batch)
            return batch
        now = self.clock()
        quiet = self.config.quiet.held(now) if self.config.quiet else frozenset[str]()
        async with self.sessions() as session:
            batch = await outbox.claim(
                session,
                token=self.token,
                limit=self.config.batch,
                now=now,
                lease_until=now + timedelta(seconds=self.config.lease),
                quiet_kinds=quiet,
            )
        self._held.update(row.id for row in batch)
        return batch

    async def _prepare(self, batch: list[Claimed]) -> list[tuple[Claimed, Message]]:
        """Each row with its message; a campaign's are written now (gifts given first), rows with none fail."""
        recipients = [
            Recipient(row.id, row.campaign_id, row.member_id)
            for row in batch
            if row.message is None and row.campaign_id is not None and row.member_id is not None
        ]
        written: dict[int, Message] = {}
        if recipients:
            async with self.sessions() as session:
                written = await campaigns.messages_for(
                    session, recipients, self.clock(), self.tier_names, self.shop_names
                )
        ready = [(row, message) for row in batch if (message := row.message or written.get(row.id)) is not None]
        kept = {row.id for row, _ in ready}
        missing = [Outcome(row, OutboxState.FAILED, "nothing to send") for row in batch if row.id not in kept]
        if missing:
            await self._write(missing)
        return ready

    async def _deliver(self, row: Claimed, message: Message) -> None:
        """Send one row when its turn comes, waiting out flood answers; then have its outcome written."""
        while True:
            sending = await self.pacer.turn(row.chat_id, express=row.kind in self.config.express)
            try:
                await self.send(row.chat_id, message)
            except TelegramRetryAfter as error:
                self.report.too_many += 1
                self.pacer.pause(error.retry_after)
                continue
            except Exception as error:
                outcome = self._failure(row, error)
            else:
                outcome = Outcome(row, OutboxState.SENT)
            finally:
                sending.done()
            break
        future = asyncio.get_running_loop().create_future()
        self._written.append((outcome, future))
        self._wake.set()
        await future

    def _failure(self, row: Claimed, error: Exception) -> Outcome:
        """What a failed send means for its row."""
        text = getattr(error, "message", None) or repr(error)
        if isinstance(error, TelegramForbiddenError) or (
            isinstance(error, TelegramBadRequest) and "chat not found" in text.lower()
        ):
            return Outcome(row, OutboxState.BLOCKED, text)
        if isinstance(error, TelegramBadRequest):
            return Outcome(row, OutboxState.FAILED, text)
        if not isinstance(error, TelegramAPIError):
            logger.warning("sending outbox row %s failed", row.id, exc_info=error)
        if row.attempts >= self.config.max_attempts:
            return Outcome(row, OutboxState.FAILED, text)
        retry_at = self.clock() + timedelta(seconds=self.config.retry_delay(row.attempts))
        return Outcome(row, OutboxState.PENDING, text, retry_at)

    async def _write_loop(self) -> None:
        """Write finished rows as they come, all that finished meanwhile in one commit, and wake their senders."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            finished, self._written = self._written, []
            try:
                await self._shielded(self._write([outcome for outcome, _ in finished]))
            except Exception as error:
                for _, future in finished:
                    future.set_exception(error)
                continue
            for _, future in finished:
                future.set_result(None)

    async def _write(self, outcomes: list[Outcome]) -> None:
        """Settle the rows, finish drained campaigns, count, and report progress when it is time."""
        now = self.clock()
        touched = {outcome.row.campaign_id for outcome in outcomes if outcome.row.campaign_id is not None}
        async with self.sessions() as session, write_transaction(session):
            await outbox.settle(session, outcomes, now)
            finished = await campaigns.finish_drained(session, touched, now)
        for outcome in outcomes:
            self._held.discard(outcome.row.id)
            self.report.count(outcome)
        self._progress(touched, finished)

    async def _keep_leases(self) -> None:
        """Extend the lease of the rows held, and the sender lease in `run`, a few times per lease."""
        while True:
            await asyncio.sleep(self.config.lease / 3)
            if self._lease and not await self._shielded(self._hold()):
                logger.warning("another instance's sender took over; this one stops claiming")
            if self._held:
                until = self.clock() + timedelta(seconds=self.config.lease)
                await self._shielded(self._extend(set(self._held), until))

    async def _extend(self, ids: set[int], until: datetime) -> None:
        async with self.sessions() as session:
            await outbox.extend(session, ids, self.token, until)

    def _progress(self, touched: set[int], finished: Collection[int]) -> None:
        """Have the campaigns just done reported at once, the others at most every `progress_every` seconds."""
        if self.on_progress is None:
            return
        self._touched |= touched
        self._finished |= set(finished)
        due = self._finished or (self._touched and self._now() - self._reported_at >= self.config.progress_every)
        if due and (self._reporter is None or self._reporter.done()):
            self._reporter = asyncio.create_task(self._report())

    async def _report(self) -> None:
        """Call the progress hook, one report at a time, the finished campaigns first."""
        assert self.on_progress is not None
        while self._finished or (self._touched and self._now() - self._reported_at >= self.config.progress_every):
            periodic = not self._finished
            if periodic:
                campaign_ids, self._touched = self._touched, set()
            else:
                campaign_ids, self._finished = self._finished, set()
                self._touched -= campaign_ids
            try:
                states = await self._shielded(self._progress_of(campaign_ids))
                if periodic:
                    self._reported_at = self._now()
                for state in states:
                    await self.on_progress(state)
            except Exception:
                logger.exception("reporting the progress of campaigns %s failed", sorted(campaign_ids))

    async def _progress_of(self, campaign_ids: Collection[int]) -> list[Progress]:
        async with self.sessions() as session:
            return [await campaigns.progress(session, id_, self.clock()) for id_ in sorted(campaign_ids)]

    async def _shielded(self, work: Awaitable[T]) -> T:
        """Await database work that runs to its end even if the sender is cancelled meanwhile: a cancel landing
        inside a transaction could leave its connection holding locks (on SQLite, the whole database)."""
        task = asyncio.ensure_future(work)
        self._database_work.add(task)
        task.add_done_callback(self._database_work.discard)
        return await asyncio.shield(task)

    async def _database_done(self) -> None:
        """Wait for database work still under way (after a cancel), whatever its outcome."""
        while self._database_work:
            await asyncio.gather(*self._database_work, return_exceptions=True)

    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()
