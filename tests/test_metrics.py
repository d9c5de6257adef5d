"""Prometheus metrics (`bot.metrics`): updates by type and outcome with their latency, Bot API requests and errors by
method and code, the broadcast sender's sends, and the database's figures read at scrape time, cached — served as
text at GET /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import SendMessage, TelegramMethod
from aiohttp import ClientSession, web
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.broadcasts import create_sender
from bot.factory import club_of, create_bot, create_dispatcher
from bot.i18n import create_i18n
from bot.metrics import Metrics, add_routes
from bot.settings import Settings
from loyalty import outbox
from loyalty.outbox import Message, Outgoing
from scheduler import runs
from scheduler.jobs import Daily, Jobs, run_due
from storage.models import JobRun, OutboxMessage
from tests.chat import Chat
from tests.emulator import BotAPIEmulator
from tests.factories import NOW, add_members, add_purchases, member_row, purchase
from tests.stub_bot import TOKEN, RecordingSession, stub_bot


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    """The value of the sample `name` with exactly `labels` in the metrics' text, None if there is none."""
    for family in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
        for found in family.samples:
            if found.name == name and found.labels == labels:
                return float(found.value)
    return None


class FailingSession(RecordingSession):
    """A Bot API connection that is down for sends: every sendMessage fails as if the network dropped."""

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        if isinstance(method, SendMessage):
            raise TelegramNetworkError(method, "the connection dropped")
        return await super().make_request(bot, method, timeout)


def watched_chat(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], metrics: Metrics, bot_session: RecordingSession
) -> Chat:
    dispatcher = create_dispatcher(settings, sessions, clock=lambda: NOW, metrics=metrics)
    return Chat(dispatcher, Bot(TOKEN, session=bot_session), bot_session, 42, language_code="en")


async def test_updates_are_counted_by_type_and_outcome_with_their_latency(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    metrics = Metrics()
    working = watched_chat(settings, sessions, metrics, RecordingSession())
    failing = watched_chat(settings, sessions, metrics, FailingSession())

    await working.say("/start")
    await working.say("/help")
    await failing.say("/help")

    assert sample(metrics, "loyalty_updates_total", type="message", outcome="ok") == 2
    assert sample(metrics, "loyalty_updates_total", type="message", outcome="error") == 1
    assert sample(metrics, "loyalty_update_duration_seconds_count", type="message") == 3
    assert sample(metrics, "loyalty_update_duration_seconds_bucket", type="message", le="+Inf") == 3
    assert (sample(metrics, "loyalty_update_duration_seconds_sum", type="message") or 0) > 0


async def test_two_sets_of_metrics_in_one_process_do_not_clash() -> None:
    first, second = Metrics(), Metrics()
    first.sent()

    assert sample(first, "loyalty_outbox_sends_total") == 1
    assert sample(second, "loyalty_outbox_sends_total") == 0


async def test_a_flood_answer_counts_under_its_method_and_code(emulator: BotAPIEmulator, settings: Settings) -> None:
    metrics = Metrics()
    bot = create_bot(settings.model_copy(update={"bot_api_url": emulator.url}), metrics=metrics)
    emulator.chats.add(42)
    try:
        await bot.send_message(42, "one")
        emulator.flood_control(chance=1.0)
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(42, "two")
    finally:
        await bot.session.close()

    assert sample(metrics, "loyalty_bot_api_requests_total", method="sendMessage") == 2
    assert sample(metrics, "loyalty_bot_api_errors_total", method="sendMessage", code="429") == 1


async def test_the_sender_sends_are_counted() -> None:
    metrics = Metrics()
    sent: list[int] = []

    async def send(chat_id: int, message: Message) -> None:
        if chat_id < 0:
            raise TelegramNetworkError(SendMessage(chat_id=chat_id, text=message.text), "down")
        sent.append(chat_id)

    counted = metrics.counted(send)
    await counted(1, Message("a"))
    await counted(2, Message("b"))
    with pytest.raises(TelegramNetworkError):
        await counted(-1, Message("c"))

    assert sent == [1, 2]
    assert sample(metrics, "loyalty_outbox_sends_total") == 2


async def test_the_bots_sender_counts_its_sends(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
    metrics = Metrics()
    bot, _ = stub_bot()
    sender = create_sender(bot, create_i18n("en"), sessions, settings, metrics)

    await sender.send(42, Message("hello"))

    assert sample(metrics, "loyalty_outbox_sends_total") == 1


async def fill(session: AsyncSession) -> None:
    """Three members; two purchases kept today (shop time), one reversed today, one yesterday; three outbox rows,
    one of them sent; a job that ran 42 seconds, and the sender's standing lease (no job)."""
    await add_members(session, [member_row(number) for number in (1, 2, 3)])
    await add_purchases(
        session,
        [
            purchase(1, 1, 100_000, 0),
            purchase(2, 2, 50_000, 0),
            purchase(3, 3, 70_000, 0, reversed_at=NOW),
            purchase(4, 1, 20_000, 1),
        ],
    )
    messages = [Outgoing(f"test:{chat}", "notice", chat, Message("hi")) for chat in (1, 2, 3)]
    await outbox.enqueue(session, messages, NOW)
    await session.execute(update(OutboxMessage).where(OutboxMessage.chat_id == 3).values(state="sent"))
    started = NOW - timedelta(minutes=10)
    await session.execute(
        insert(JobRun),
        [
            {
                "name": "expire_points",
                "day": NOW.date(),
                "holder": "a",
                "lease_until": started + runs.LEASE,
                "finished_at": started + timedelta(seconds=42),
            },
            {"name": runs.SENDER, "holder": "b", "lease_until": NOW + timedelta(minutes=1)},
        ],
    )
    await session.commit()


async def test_the_database_figures_are_read_at_scrape_time(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    metrics = Metrics()
    metrics.watch_database(sessions, settings.zone, clock=lambda: NOW)
    async with sessions() as session:
        await fill(session)

    await metrics.refresh()

    assert sample(metrics, "loyalty_members") == 3
    assert sample(metrics, "loyalty_purchases_today") == 2
    assert sample(metrics, "loyalty_outbox_waiting") == 2
    finished = (NOW - timedelta(minutes=10) + timedelta(seconds=42)).timestamp()
    assert sample(metrics, "loyalty_job_last_run_timestamp_seconds", job="expire_points") == finished
    assert sample(metrics, "loyalty_job_last_run_duration_seconds", job="expire_points") == 42
    assert sample(metrics, "loyalty_job_last_run_timestamp_seconds", job=runs.SENDER) is None


async def test_a_scrape_storm_reads_the_database_once_every_few_seconds(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    metrics = Metrics()
    seconds = [100.0]
    metrics.watch_database(sessions, settings.zone, clock=lambda: NOW, timer=lambda: seconds[0])
    await metrics.refresh()
    async with sessions() as session:
        await add_members(session, [member_row(1)])

    await metrics.refresh()
    cached = sample(metrics, "loyalty_members")
    seconds[0] += 10
    await metrics.refresh()

    assert cached == 0
    assert sample(metrics, "loyalty_members") == 1


async def test_each_daily_job_is_timed_from_its_own_start(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    moments = [NOW]

    def taking(seconds: int) -> Callable[[Jobs, datetime], Awaitable[None]]:
        async def job(jobs: Jobs, now: datetime) -> None:
            moments[0] += timedelta(seconds=seconds)

        return job

    daily = (Daily("slow", lambda _: time(0), taking(40)), Daily("quick", lambda _: time(0), taking(2)))
    monkeypatch.setattr("scheduler.jobs.DAILY", daily)
    jobs = Jobs(create_i18n("en"), sessions, club_of(settings).rules, lambda: moments[0], settings.zone)
    metrics = Metrics()
    metrics.watch_database(sessions, settings.zone, clock=lambda: moments[0])

    assert await run_due(jobs) == ["slow", "quick"]
    await metrics.refresh()

    assert sample(metrics, "loyalty_job_last_run_duration_seconds", job="slow") == 40
    assert sample(metrics, "loyalty_job_last_run_duration_seconds", job="quick") == 2
    assert sample(metrics, "loyalty_job_last_run_timestamp_seconds", job="quick") == moments[0].timestamp()


@pytest.fixture
async def scraper(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[str]:
    """An aiohttp app made here, with the metrics' routes added, serving on a free port: its URL."""
    metrics = Metrics()
    metrics.watch_database(sessions, settings.zone, clock=lambda: NOW)
    metrics.sent()
    app = web.Application()
    add_routes(app, metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_metrics_are_served_as_prometheus_text(scraper: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        await add_members(session, [member_row(1), member_row(2)])

    async with (
        ClientSession() as client,
        client.get(f"{scraper}/metrics", headers={"Accept": "text/plain;version=0.0.4"}) as response,
    ):
        body = await response.text()

    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    families = {family.name: family for family in text_string_to_metric_families(body)}
    assert families["loyalty_members"].samples[0].value == 2
    assert families["loyalty_outbox_sends"].samples[0].value == 1
