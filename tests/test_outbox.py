"""The outbox and its sender: keys enqueue once, claims never overlap, a crash repeats at most what was on its
way, flood answers pause everything, blocked chats make members unreachable, retries back off, quiet hours hold
campaigns — on SQLite and PostgreSQL, with a fake send and against the Bot API emulator over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import EditMessageText, SendMessage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts import progress_reporter
from bot.factory import create_bot
from bot.i18n import create_i18n
from bot.settings import Settings
from loyalty import audiences, campaigns
from loyalty.audiences import Audience
from loyalty.campaigns import CampaignDraft, Message, Progress, State
from loyalty.outbox import enqueue
from scheduler import outbox
from scheduler.sender import PROGRESS_EVERY, Pacer, QuietHours, Report, Sender, SenderConfig, telegram_send
from storage.database import create_engine, session_factory
from storage.models import Member, OutboxMessage
from tests.emulator import BotAPIEmulator
from tests.factories import FIRST_CHAT, NOW, add_members, member_row
from tests.sending import Clock, Recorder, campaign_to, greeting, on_the_bot, states
from tests.stub_bot import stub_bot

Sessions = async_sessionmaker[AsyncSession]
FAST = SenderConfig(rate=1000, chat_interval=0, quiet=None, batch=50, in_flight=16)
METHOD = SendMessage(chat_id=1, text="x")


# --- enqueue and claims -----------------------------------------------------------------------------------------


async def test_a_key_is_enqueued_once(session: AsyncSession) -> None:
    await add_members(session, [member_row(1), member_row(2)])
    assert await enqueue(session, [greeting(1), greeting(2)], NOW) == 2
    await session.commit()
    assert await enqueue(session, [greeting(1), greeting(2, "birthday:2027:2")], NOW) == 1
    await session.commit()
    rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    assert [(row.key, row.state, row.campaign_id) for row in rows] == [
        ("birthday:2026:1", "pending", None),
        ("birthday:2026:2", "pending", None),
        ("birthday:2027:2", "pending", None),
    ]
    assert Message.from_json(rows[0].payload or "") == Message("Happy birthday 1")


async def test_claimed_rows_are_nobody_elses_until_their_lease_runs_out(session: AsyncSession) -> None:
    await add_members(session, [member_row(number) for number in range(1, 6)])
    await enqueue(session, [greeting(number) for number in range(1, 6)], NOW)
    await session.commit()
    lease = NOW + timedelta(seconds=60)
    first = await outbox.claim(session, token="a", limit=3, now=NOW, lease_until=lease)
    second = await outbox.claim(session, token="b", limit=3, now=NOW, lease_until=lease)
    assert [row.member_id for row in first] == [1, 2, 3] and [row.member_id for row in second] == [4, 5]
    assert await outbox.claim(session, token="c", limit=3, now=lease - timedelta(seconds=1), lease_until=lease) == []
    await outbox.extend(session, [1, 2], "a", lease + timedelta(seconds=60))  # sender a is alive and holds 1, 2
    taken_over = await outbox.claim(session, token="c", limit=9, now=lease, lease_until=lease + timedelta(seconds=60))
    assert [(row.member_id, row.attempts) for row in taken_over] == [(3, 2), (4, 2), (5, 2)]


async def test_greetings_go_before_campaigns_and_a_paused_campaign_waits(session: AsyncSession) -> None:
    campaign = await campaign_to(session, [1, 2])
    await enqueue(session, [greeting(2)], NOW + timedelta(seconds=1))
    await session.commit()
    later, lease = NOW + timedelta(seconds=2), NOW + timedelta(seconds=60)
    claimed = await outbox.claim(session, token="a", limit=2, now=later, lease_until=lease)
    assert [(row.kind, row.member_id) for row in claimed] == [("birthday", 2), ("campaign", 1)]
    await campaigns.pause(session, campaign.id, actor_id=1, now=NOW)
    assert await outbox.claim(session, token="a", limit=9, now=later, lease_until=lease) == []
    await campaigns.resume(session, campaign.id, actor_id=1, now=NOW)
    [resumed] = await outbox.claim(session, token="a", limit=9, now=later, lease_until=lease)
    assert (resumed.kind, resumed.member_id) == ("campaign", 2)


# --- the sender with a fake send --------------------------------------------------------------------------------


async def test_a_campaign_is_sent_to_every_member_once_and_done(session: AsyncSession, sessions: Sessions) -> None:
    campaign = await campaign_to(session, range(1, 121))
    progress: list[Progress] = []

    async def hook(state: Progress) -> None:
        progress.append(state)

    send = Recorder()
    report = await Sender(sessions, send, FAST, clock=lambda: NOW, on_progress=hook).drain()
    assert send.chats == Counter(FIRST_CHAT + number for number in range(1, 121))
    assert send.sent[0][1] == Message("Hi Member 1")
    assert (report.sent, report.blocked, report.failed, report.retried, report.too_many) == (120, 0, 0, 0, 0)
    assert await states(session) == {"sent": 120}
    assert (await campaigns.get(session, campaign.id)).state == State.DONE
    assert progress[-1].state == State.DONE and progress[-1].sent == 120 and progress[-1].seconds_left == 0
    again = await Sender(sessions, send, FAST).drain()  # nothing left: nothing sent again
    assert (again.sent, len(send.sent)) == (0, 120)


async def test_blocked_and_unknown_chats_make_members_unreachable(session: AsyncSession, sessions: Sessions) -> None:
    await campaign_to(session, range(1, 6))
    send = Recorder(
        {
            FIRST_CHAT + 2: [TelegramForbiddenError(METHOD, "Forbidden: bot was blocked by the user")],
            FIRST_CHAT + 4: [TelegramBadRequest(METHOD, "Bad Request: chat not found")],
            FIRST_CHAT + 5: [TelegramBadRequest(METHOD, "Bad Request: message is too long")],
        }
    )
    report = await Sender(sessions, send, FAST, clock=lambda: NOW).drain()
    assert (report.sent, report.blocked, report.failed) == (2, 2, 1)
    assert await states(session) == {"sent": 2, "blocked": 2, "failed": 1}
    unreachable = await session.scalars(select(Member.id).where(Member.unreachable.is_(True)).order_by(Member.id))
    assert unreachable.all() == [2, 4]
    assert await audiences.member_ids(session, Audience(), NOW) == [1, 3, 5]


async def test_server_errors_are_retried_with_backoff_then_failed(session: AsyncSession, sessions: Sessions) -> None:
    await campaign_to(session, [1, 2])
    clock = Clock()
    down = [TelegramServerError(METHOD, "Internal Server Error") for _ in range(5)]
    send = Recorder({FIRST_CHAT + 1: [TelegramServerError(METHOD, "Bad Gateway")], FIRST_CHAT + 2: down})
    config = SenderConfig(rate=1000, chat_interval=0, quiet=None, max_attempts=3, backoff=30)
    sender = Sender(sessions, send, config, clock=clock)
    assert (await sender.drain()).retried == 2
    [row] = (await session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == 1))).all()
    assert (row.state, row.attempts, row.next_attempt_at, row.error) == (
        "pending",
        1,
        NOW + timedelta(seconds=30),
        "Bad Gateway",
    )
    clock.advance(29)
    assert (await sender.drain()).retried == 0  # not due yet
    clock.advance(1)
    assert (await sender.drain()).sent == 1  # member 1; member 2 fails again and waits 60 s
    clock.advance(60)
    assert (await sender.drain()).failed == 1  # third try: failed for good
    assert await states(session) == {"sent": 1, "failed": 1}
    assert send.chats == {FIRST_CHAT + 1: 1}


async def test_a_flood_answer_pauses_every_send_and_the_message_goes_later(
    session: AsyncSession, sessions: Sessions
) -> None:
    await campaign_to(session, range(1, 11))
    send = Recorder({FIRST_CHAT + 3: [TelegramRetryAfter(METHOD, "Too Many Requests: retry after 1", retry_after=1)]})
    config = SenderConfig(rate=1000, quiet=None, in_flight=1)
    began = time.monotonic()
    report = await Sender(sessions, send, config, clock=lambda: NOW).drain()
    assert (report.sent, report.too_many, report.failed, report.retried) == (10, 1, 0, 0)
    assert time.monotonic() - began >= 1.0
    assert send.chats == Counter(FIRST_CHAT + number for number in range(1, 11))


async def test_quiet_hours_hold_campaigns_but_not_greetings(session: AsyncSession, sessions: Sessions) -> None:
    await campaign_to(session, [1, 2])
    late_evening = datetime(2026, 11, 22, 19, 30, tzinfo=NOW.tzinfo)  # 23:00 in Tehran
    await enqueue(session, [greeting(1)], late_evening)
    await session.commit()
    clock = Clock(late_evening)
    send = Recorder()
    sender = Sender(sessions, send, SenderConfig(rate=1000, chat_interval=0), clock=clock)
    assert (await sender.drain()).sent == 1
    assert send.sent == [(FIRST_CHAT + 1, Message("Happy birthday 1"))]
    clock.advance(10 * 3600)  # 09:00 in Tehran
    assert (await sender.drain()).sent == 2


def test_quiet_hours_may_cross_midnight_or_not() -> None:
    night = QuietHours()
    tehran = [datetime(2026, 11, 22, hour, 29, tzinfo=NOW.tzinfo) for hour in (5, 18, 19, 20)]  # 08:59…23:59
    assert [night.applies(moment) for moment in tehran] == [True, False, True, True]
    assert not night.applies(datetime(2026, 11, 22, 5, 30, tzinfo=NOW.tzinfo))  # 09:00
    lunch = QuietHours(start=night.end.replace(hour=13), end=night.end.replace(hour=14), kinds=frozenset({"x"}))
    assert lunch.held(datetime(2026, 11, 22, 10, 0, tzinfo=NOW.tzinfo)) == {"x"}  # 13:30 in Tehran
    with pytest.raises(ValueError):
        SenderConfig(rate=1001)


async def test_two_senders_side_by_side_send_each_row_once(
    session: AsyncSession, sessions: Sessions, database_url: str
) -> None:
    await campaign_to(session, range(1, 251))
    await enqueue(session, [greeting(number) for number in range(1, 251)], NOW)
    await session.commit()
    other_engine = create_engine(database_url)
    async with other_engine.connect():  # both senders ready to claim at the same moment
        pass
    first, second = Recorder(), Recorder()
    config = SenderConfig(rate=1000, chat_interval=0, quiet=None, batch=5, in_flight=4)
    try:
        await asyncio.gather(
            Sender(sessions, first, config, clock=lambda: NOW).drain(),
            Sender(session_factory(other_engine), second, config, clock=lambda: NOW).drain(),
        )
    finally:
        await other_engine.dispose()
    both = Counter(message for _, message in first.sent + second.sent)
    assert len(both) == 500 and set(both.values()) == {1}
    assert first.sent and second.sent
    assert await states(session) == {"sent": 500}


async def test_after_a_crash_a_new_sender_repeats_at_most_what_was_on_its_way(
    session: AsyncSession, sessions: Sessions
) -> None:
    await campaign_to(session, range(1, 301))
    clock = Clock()
    crashed = asyncio.Event()
    first = Recorder(pause=0.002)

    async def send_then_crash(chat_id: int, message: Message) -> None:
        await first(chat_id, message)  # delivered…
        if len(first.sent) >= 100:  # …but from the 100th on, the process dies before the answer arrives
            crashed.set()
            await asyncio.Event().wait()

    config = SenderConfig(rate=1000, chat_interval=0, quiet=None, batch=50, in_flight=16)
    dying = asyncio.create_task(Sender(sessions, send_then_crash, config, clock=clock).drain())
    await crashed.wait()
    dying.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dying
    held = (await states(session))["sending"]
    assert held > 0
    second = Recorder()
    await Sender(sessions, second, config, clock=clock).drain()
    assert (await states(session))["sending"] == held  # their leases still hold
    clock.advance(61)
    await Sender(sessions, second, config, clock=clock).drain()
    sends = first.chats + second.chats
    assert set(sends) == {FIRST_CHAT + number for number in range(1, 301)}
    assert max(sends.values()) <= 2 and sum(sends.values()) - 300 <= config.in_flight
    assert await states(session) == {"sent": 300}


async def test_the_running_sender_starts_a_scheduled_campaign_when_its_time_comes(
    session: AsyncSession, sessions: Sessions
) -> None:
    await add_members(session, [member_row(1), member_row(2)])
    later = CampaignDraft(name="Later", audience=Audience(), message=Message("Hi"), send_at=NOW + timedelta(hours=1))
    created = await campaigns.create(session, later, actor_id=1, now=NOW)
    await campaigns.start(session, created.id, actor_id=1, now=NOW)
    clock, send, stop = Clock(), Recorder(), asyncio.Event()
    running = asyncio.create_task(Sender(sessions, send, replace(FAST, poll=0.01), clock=clock).run(stop))
    await asyncio.sleep(0.1)
    assert send.sent == []
    clock.advance(3600)
    await asyncio.wait_for(wait_until(lambda: len(send.sent) == 2), timeout=5)
    stop.set()
    await asyncio.wait_for(running, timeout=5)
    assert (await campaigns.get(session, created.id)).state == State.DONE


async def test_one_running_sender_sends_for_the_bot_and_another_takes_over_when_it_stops(
    session: AsyncSession, sessions: Sessions
) -> None:
    clock, stop_first, stop_second = Clock(), asyncio.Event(), asyncio.Event()
    first, second = Recorder(), Recorder()
    config = replace(FAST, poll=0.01)
    running = [
        asyncio.create_task(Sender(sessions, first, config, clock=clock).run(stop_first)),
        asyncio.create_task(Sender(sessions, second, config, clock=clock).run(stop_second)),
    ]
    await campaign_to(session, range(1, 101))
    await asyncio.wait_for(wait_until(lambda: len(first.sent) + len(second.sent) == 100), timeout=30)
    assert [] in (first.sent, second.sent)  # the bot's rate limit is shared: one sender at a time
    leader, standby = (first, second) if first.sent else (second, first)
    (stop_first if leader is first else stop_second).set()
    await asyncio.wait_for(running[0 if leader is first else 1], timeout=10)  # stopped cleanly, lease released
    await enqueue(session, [greeting(1)], NOW)
    await session.commit()
    await asyncio.wait_for(wait_until(lambda: len(standby.sent) == 1), timeout=30)  # a clean stop hands over at once
    stop_first.set()
    stop_second.set()
    await asyncio.wait_for(asyncio.gather(*running), timeout=5)


async def wait_until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.01)


async def test_progress_is_reported_at_most_every_few_seconds(session: AsyncSession, sessions: Sessions) -> None:
    await campaign_to(session, range(1, 61))
    reports: list[tuple[float, Progress]] = []

    async def hook(state: Progress) -> None:
        reports.append((time.monotonic(), state))

    config = SenderConfig(rate=100, chat_interval=0, quiet=None, batch=10, progress_every=0.2)
    began = time.monotonic()
    await Sender(sessions, Recorder(), config, clock=lambda: NOW, on_progress=hook).drain()
    took = time.monotonic() - began
    moments = [moment for moment, _ in reports[:-1]]
    assert 1 <= len(moments) <= 1 + took / 0.2  # one now and then, however long the sending took
    assert all(later - earlier >= 0.2 for earlier, later in itertools.pairwise(moments))
    assert reports[-1][1].state == State.DONE and reports[-1][1].sent == 60


async def test_many_sends_in_a_short_time_edit_the_progress_message_a_few_times_and_end_with_the_report(
    session: AsyncSession, sessions: Sessions
) -> None:
    campaign = await campaign_to(session, range(1, 201))
    await campaigns.set_report(session, campaign.id, 900, 55)
    bot, recording = stub_bot()
    hook = progress_reporter(bot, create_i18n("en"), sessions)
    config = SenderConfig(rate=1000, chat_interval=0, quiet=None, batch=10)
    assert config.progress_every == PROGRESS_EVERY >= 5
    began = time.monotonic()
    report = await Sender(sessions, Recorder(), config, clock=lambda: NOW, on_progress=hook).drain()
    took = time.monotonic() - began
    edits = [request for request in recording.requests if isinstance(request, EditMessageText)]
    assert report.sent == 200 and (edits[-1].chat_id, edits[-1].message_id) == (900, 55)
    assert 2 <= len(edits) <= 2 + took / PROGRESS_EVERY  # 20 batches written, a few edits: room for the staff's own
    assert "Delivered: 200 of 200" in edits[-1].text  # the final report, always


class Sleeps(list[float]):
    """The sleeps asked for while a test runs (what the pacer means to wait, whatever the machine's load)."""


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    """Record each `asyncio.sleep` the pacer asks for, then sleep it.

    The pacer's tests bound its waits from below with the wall clock (a limit kept, whatever the load) and from
    above with the sleeps it asked for: a loaded machine makes a test slower, never the pacer's own waits longer.
    """
    asked = Sleeps()

    class Asyncio:
        """The pacer's `asyncio`, its sleeps recorded (the test's own are not)."""

        def __getattr__(self, name: str) -> object:
            return getattr(asyncio, name)

        @staticmethod
        async def sleep(delay: float, result: object = None) -> object:
            asked.append(delay)
            return await asyncio.sleep(delay, result)

    monkeypatch.setattr("scheduler.sender.asyncio", Asyncio())
    return asked


async def test_the_pacer_spaces_sends_over_all_chats_and_in_one_chat(sleeps: Sleeps) -> None:
    pacer = Pacer(rate=100, chat_interval=0.2)
    began = time.monotonic()
    for chat in range(20):
        await pacer.turn(chat)
    assert time.monotonic() - began >= 0.18
    assert sum(sleeps) <= 0.2  # twenty turns 1/100 s apart, no more
    await pacer.turn(1)
    sleeps.clear()
    began = time.monotonic()
    await pacer.turn(1)
    assert time.monotonic() - began >= 0.2
    assert sum(sleeps) <= 0.2  # the chat's interval, no more


async def test_the_pacer_starts_a_send_only_a_second_after_the_one_a_window_earlier_was_answered(
    sleeps: Sleeps,
) -> None:
    pacer = Pacer(rate=1000, chat_interval=0, window=5)
    first, *others = [await pacer.turn(chat) for chat in range(5)]
    for sending in others:
        sending.done()
    sixth = asyncio.create_task(pacer.turn(6))
    await asyncio.sleep(0.2)
    assert not sixth.done()  # the first send of the window is still on its way
    sleeps.clear()
    first.done()
    answered = time.monotonic()
    await sixth
    assert time.monotonic() - answered >= 0.95
    assert max(sleeps) <= 1.0  # a second from the answer, not more
    sleeps.clear()
    await pacer.turn(7)  # the second send of the window was answered over a second ago
    assert sleeps == []


async def test_a_send_long_unanswered_stops_holding_the_window_up(
    monkeypatch: pytest.MonkeyPatch, sleeps: Sleeps
) -> None:
    monkeypatch.setattr("scheduler.sender.STALE", 0.3)
    pacer = Pacer(rate=1000, chat_interval=0, window=2)
    began = time.monotonic()
    await pacer.turn(1)  # never answered
    await pacer.turn(2)
    await pacer.turn(3)
    assert time.monotonic() - began >= 1.25  # 0.3 s counted as its answer, then the one-second window
    assert sum(sleeps) <= 1.3 + 0.01  # and no longer


# --- against the Bot API emulator, over HTTP --------------------------------------------------------------------


@pytest.fixture
async def send_through(
    emulator: BotAPIEmulator, settings: Settings, sessions: Sessions
) -> AsyncIterator[Callable[[], Awaitable[Report]]]:
    """Drain the outbox with the real `telegram_send` and an aiogram Bot talking to the emulator, at 250/s."""
    bot = create_bot(settings.model_copy(update={"bot_api_url": emulator.url}))

    async def drain() -> Report:
        return await Sender(sessions, telegram_send(bot), SenderConfig(rate=250, quiet=None), clock=lambda: NOW).drain()

    yield drain
    await bot.session.close()


def delivered(emulator: BotAPIEmulator, members: Iterable[int]) -> Counter[int]:
    """How many messages reached each member's chat."""
    return Counter({number: len(emulator.sent_to(FIRST_CHAT + number)) for number in members})


async def test_a_campaign_to_2000_members_keeps_within_the_flood_limits(
    session: AsyncSession, emulator: BotAPIEmulator, send_through: Callable[[], Awaitable[Report]]
) -> None:
    members = on_the_bot(emulator, range(1, 2001))
    emulator.flood_control(limit=(300, 1.0), chat_interval=1.0)  # Telegram's 30/s and 25/s, scaled by ten
    campaign = await campaign_to(session, members)
    report = await send_through()
    assert set(delivered(emulator, members).values()) == {1}
    assert (report.sent, emulator.too_many, report.too_many) == (2000, 0, 0)
    assert (await campaigns.get(session, campaign.id)).state == State.DONE


async def test_random_flood_answers_delay_but_never_lose_or_repeat(
    session: AsyncSession, emulator: BotAPIEmulator, send_through: Callable[[], Awaitable[Report]]
) -> None:
    members = on_the_bot(emulator, range(1, 201))
    emulator.flood_control(limit=(300, 1.0), chat_interval=1.0, chance=0.02)
    await campaign_to(session, members)
    report = await send_through()
    assert set(delivered(emulator, members).values()) == {1}
    assert emulator.too_many > 0 and report.too_many == emulator.too_many
    assert (report.sent, report.failed) == (200, 0)


async def test_members_who_blocked_the_bot_are_marked_and_left_out_next_time(
    session: AsyncSession, emulator: BotAPIEmulator, send_through: Callable[[], Awaitable[Report]]
) -> None:
    members = range(1, 21)
    on_the_bot(emulator, range(1, 20))  # member 20 never wrote to the bot: "chat not found"
    emulator.blocked |= {FIRST_CHAT + 3, FIRST_CHAT + 7}
    await campaign_to(session, members, message=Message("{name}, look", photo="AgADphoto"))
    report = await send_through()
    assert (report.sent, report.blocked) == (17, 3)
    assert delivered(emulator, members) == Counter({number: 1 for number in members if number not in (3, 7, 20)})
    [photo] = emulator.sent_to(FIRST_CHAT + 1)
    assert (photo.method, photo.text, photo.params["photo"]) == ("sendPhoto", "Member 1, look", "AgADphoto")
    assert await audiences.count(session, Audience(), NOW) == 17


async def test_the_final_report_is_written_even_after_a_flood_answer(session: AsyncSession, sessions: Sessions) -> None:
    campaign = await campaign_to(session, range(1, 3))
    await campaigns.set_report(session, campaign.id, 900, 55)
    bot, recording = stub_bot()
    flooded = [TelegramRetryAfter(METHOD, "Too Many Requests: retry after 1", retry_after=1)]
    real_edit = bot.edit_message_text

    async def edit(text: str, **kwargs: object) -> object:
        if flooded and "Delivered" in text:  # the final report meets a flood answer
            raise flooded.pop()
        return await real_edit(text, **kwargs)  # type: ignore[arg-type]

    bot.edit_message_text = edit  # type: ignore[method-assign]
    hook = progress_reporter(bot, create_i18n("en"), sessions)
    await Sender(sessions, Recorder(), FAST, clock=lambda: NOW, on_progress=hook).drain()
    edits = [request for request in recording.requests if isinstance(request, EditMessageText)]
    assert edits and "Delivered: 2 of 2" in edits[-1].text
