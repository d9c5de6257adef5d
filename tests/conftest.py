"""Fixtures shared by the suite: databases on SQLite and PostgreSQL, settings, the dispatcher."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.factory import club_of, create_dispatcher
from bot.settings import Settings
from loyalty import rules
from loyalty.stamps import Stamp
from storage.database import create_engine, session_factory
from tests import replanned
from tests.browser import browser, page, touch_page  # noqa: F401 — the browser tests' fixtures
from tests.chat import Chat, Delivered, Reply, drain
from tests.databases import PostgresRun, empty_tables, migrated_sqlite_template, sqlite_copy, unavailable
from tests.emulator import BotAPIEmulator
from tests.factories import NOW
from tests.live import running_bot
from tests.mini_app import MiniApp, mini_app
from tests.stub_bot import TOKEN, RecordingSession, stub_bot


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The migrated SQLite file every SQLite test copies."""
    return migrated_sqlite_template(tmp_path_factory.mktemp("template"))


@pytest.fixture(scope="session")
def postgres_run() -> Iterator[PostgresRun]:
    """This run's PostgreSQL database."""
    run = PostgresRun()
    run.create()
    yield run
    run.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each database test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_copy(request.getfixturevalue("sqlite_template"), tmp_path)
    run: PostgresRun = request.getfixturevalue("postgres_run")
    if run.error is not None:
        unavailable("PostgreSQL", run.error)
    return run.url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty, migrated database. On SQLite, the test fails if it ran a statement SQLite prepares
    again on every run (`tests.replanned`)."""
    engine = create_engine(database_url)
    if engine.dialect.name == "postgresql":
        await empty_tables(engine)
    with replanned.watch(engine) as statements:
        yield engine
    await engine.dispose()
    assert not statements, f"bound where a partial index's WHERE needs the value written in: {statements[0]}"


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Session factory on the test database."""
    return session_factory(engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session for domain tests."""
    async with sessions() as session:
        yield session


@pytest.fixture
def settings() -> Settings:
    """Settings as a shop would set them, independent of the developer's .env."""
    return Settings(_env_file=None, bot_token=TOKEN, owner_ids=(1,), welcome_bonus=100)  # type: ignore[call-arg]


@pytest.fixture
def dispatcher(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> Dispatcher:
    """The real dispatcher on the test database, its clock frozen."""
    return create_dispatcher(settings, sessions, clock=lambda: NOW)


@pytest.fixture
def stubbed() -> tuple[Bot, RecordingSession]:
    """A bot whose requests stay in-process."""
    return stub_bot()


@pytest.fixture
def chat_with(dispatcher: Dispatcher, stubbed: tuple[Bot, RecordingSession]) -> Callable[..., Chat]:
    """Make a user who talks to the dispatcher: chat_with(42, language_code="en")."""
    bot, session = stubbed

    def make(user_id: int = 42, **user: Any) -> Chat:
        return Chat(dispatcher, bot, session, user_id, **user)

    return make


@pytest.fixture
def delivered(sessions: async_sessionmaker[AsyncSession], stubbed: tuple[Bot, RecordingSession]) -> Delivered:
    """`await delivered()`: what the bot's sender sends from the outbox at NOW (or at `now`), such as the notices
    telling members of what staff did (`tests.chat.drain`)."""

    async def deliver(now: datetime = NOW) -> list[Reply]:
        return (await drain(sessions, stubbed, now))[1]

    return deliver


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    """The Bot API emulator, listening on a free port of 127.0.0.1."""
    async with BotAPIEmulator(TOKEN) as running:
        yield running


@pytest.fixture
async def live(
    emulator: BotAPIEmulator, settings: Settings, database_url: str, engine: AsyncEngine
) -> AsyncIterator[BotAPIEmulator]:
    """The real bot (run_polling) polling the emulator, on this test's empty database. Its jobs run on the wall
    clock, so the owners' daily digest is turned off: at its hour it would land in the chat of owner 1 mid-test
    (tests/test_digest.py drives the digest on a clock of its own)."""
    async with session_factory(engine)() as session:
        stamp = Stamp(0, "tests:live:no-digest", datetime.now(UTC))
        await rules.set_rule(session, club_of(settings).rules, "digest", False, stamp)
    async with running_bot(emulator, settings, database_url=database_url) as running:
        yield running


@pytest.fixture
async def app(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], stubbed: tuple[Bot, RecordingSession]
) -> AsyncIterator[MiniApp]:
    """The Mini App over HTTP on the test database, its clock at NOW."""
    async with mini_app(settings, sessions, stubbed[0]) as running:
        yield running
