"""Trust under real conditions: every reply arrives under flood control, no odd update stalls polling, every
failure is apologised for in the user's language, and a store that cannot be reached is said in one line."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import EditMessageText, SendMessage, TelegramMethod
from sqlalchemy import update
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

import bot.flood
from bot.app import run_polling
from bot.flood import PatientRequests
from bot.settings import Settings, SettingsError
from loyalty import campaigns, ledger
from loyalty.audiences import Audience
from storage import repositories
from storage.database import session_factory
from storage.models import Member
from tests import updates
from tests.chat import Chat
from tests.emulator import BotAPIEmulator, FakeUser
from tests.factories import joined_member
from tests.live import daytime_zone, running_bot
from tests.stub_bot import stub_bot

BALANCE = {"fa": "💳 موجودی", "en": "💳 Balance"}
SORRY = {"fa": "متأسفیم، مشکلی پیش آمد", "en": "Sorry, something went wrong"}
SAVED = "✅ Saved: Amount per point changed from 10,000 toman to 5,000 toman."
BUSY = {"fa": "چند لحظهٔ دیگر دوباره امتحان کنید", "en": "Please try again in a moment"}


# --- flood control ---------------------------------------------------------------------------------------------


class Refusals:
    """A stand-in for the next step of a Bot API request: refuses with the given errors, then answers "sent"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "sent"


def too_many(method: TelegramMethod[Any], seconds: int) -> TelegramRetryAfter:
    return TelegramRetryAfter(method=method, message=f"Too Many Requests: retry after {seconds}", retry_after=seconds)


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The seconds the patient session slept, instead of sleeping them."""
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(bot.flood.asyncio, "sleep", sleep)
    return slept


async def test_a_reply_refused_for_flood_control_waits_and_goes_again(waits: list[float]) -> None:
    method = SendMessage(chat_id=1, text="hi")
    refusals = Refusals(too_many(method, 1), too_many(method, 2))
    assert await PatientRequests()(refusals, stub_bot()[0], method) == "sent"
    assert (refusals.calls, waits) == (3, [1, 2])


async def test_a_reply_goes_again_only_a_bounded_number_of_times(waits: list[float]) -> None:
    method = SendMessage(chat_id=1, text="hi")
    refusals = Refusals(*(too_many(method, 1) for _ in range(10)))
    with pytest.raises(TelegramRetryAfter):
        await PatientRequests(attempts=4)(refusals, stub_bot()[0], method)
    assert refusals.calls == 4


async def test_a_wait_longer_than_a_chat_limit_is_not_waited_for(waits: list[float]) -> None:
    method = SendMessage(chat_id=1, text="hi")
    with pytest.raises(TelegramRetryAfter):
        await PatientRequests(longest_wait=30)(Refusals(too_many(method, 600)), stub_bot()[0], method)
    assert waits == []


async def test_an_edit_that_changes_nothing_is_not_an_error() -> None:
    method = EditMessageText(chat_id=1, message_id=1, text="same")
    refusals = Refusals(TelegramBadRequest(method=method, message="Bad Request: message is not modified"))
    assert await PatientRequests()(refusals, stub_bot()[0], method) is True


async def test_other_bad_requests_still_fail() -> None:
    method = SendMessage(chat_id=1, text="hi")
    with pytest.raises(TelegramBadRequest):
        await PatientRequests()(
            Refusals(TelegramBadRequest(method=method, message="chat not found")), stub_bot()[0], method
        )


async def test_a_burst_of_taps_is_answered_in_full_under_flood_control(live: BotAPIEmulator) -> None:
    sara = FakeUser(live, 701, "Sara", "en")
    await sara.join()
    live.flood_control(limit=None, chat_interval=1.0)
    before = len(live.sent_to(701))

    burst = [updates.message_update(sara.user, text=BALANCE["en"]) for _ in range(4)]
    for tap in burst:
        await live.push(tap)
    await live.settled(burst[-1]["update_id"], lambda: len(live.sent_to(701)) >= before + 4, timeout=30)

    answers = live.sent_to(701)[before:]
    assert len(answers) == 4 and all("points" in answer.text for answer in answers)
    assert live.too_many >= 1  # the burst did meet the limit, and every reply still arrived


# --- updates that do not parse ---------------------------------------------------------------------------------


async def test_an_update_that_does_not_parse_is_skipped_and_polling_goes_on(live: BotAPIEmulator) -> None:
    sara = FakeUser(live, 702, "Sara", "en")
    garbled = updates.message_update(sara.user, text="hello")
    garbled["message"]["chat"] = "not a chat"
    await live.push(garbled)
    [welcome] = await sara.say("/start")
    assert welcome.requests_contact()


async def test_a_contact_whose_phone_number_is_a_json_number_joins(live: BotAPIEmulator) -> None:
    sara = FakeUser(live, 703, "Sara", "en")
    await sara.say("/start")
    contact = updates.contact_update(sara.user, "0", 703)
    contact["message"]["contact"]["phone_number"] = 989121234567  # as Bale sends it
    [name_prompt] = await sara.send(contact)
    assert name_prompt.buttons() == ["Sara"]


async def test_a_button_press_without_chat_instance_is_answered(live: BotAPIEmulator) -> None:
    sara = FakeUser(live, 704, "Sara", "en")
    [language_prompt] = await sara.say("/language")
    data = language_prompt.callback_data()[0]
    press = updates.callback_update(sara.user, data, live.messages(704)[-1])
    del press["callback_query"]["chat_instance"]  # Bale leaves it out
    replies = await sara.send(press)
    assert any(reply.method == "answerCallbackQuery" for reply in replies)


# --- contacts that name no account (Bale) ----------------------------------------------------------------------


@pytest.mark.parametrize(("api_url", "joins"), [("https://tapi.bale.ai", True), ("https://api.telegram.org", False)])
def test_a_contact_naming_no_account_proves_the_number_only_off_telegram(api_url: str, joins: bool) -> None:
    settings = Settings(_env_file=None, bot_api_url=api_url)  # type: ignore[call-arg]
    assert settings.ownerless_contacts is joins


@pytest.mark.parametrize(("value", "accepted"), [("", True), ("false", False), ("true", True)])
def test_the_contact_setting_can_be_left_empty_or_set(
    monkeypatch: pytest.MonkeyPatch, value: str, accepted: bool
) -> None:
    monkeypatch.setenv("ACCEPT_CONTACT_WITHOUT_ID", value)
    settings = Settings(_env_file=None, bot_api_url="https://tapi.bale.ai")  # type: ignore[call-arg]
    assert settings.ownerless_contacts is accepted


@pytest.fixture
async def bale_newcomer(chat_with: Callable[..., Chat], monkeypatch: pytest.MonkeyPatch) -> Chat:
    """A newcomer asked for their number by a bot on a server whose contacts may name no account (Bale)."""
    sara = chat_with(705, language_code="en")
    club = replace(sara.dispatcher.workflow_data["club"], ownerless_contacts=True)
    monkeypatch.setitem(sara.dispatcher.workflow_data, "club", club)
    await sara.say("/start")
    return sara


async def test_on_bale_a_contact_naming_no_account_joins(bale_newcomer: Chat) -> None:
    sara = bale_newcomer
    [name_prompt] = await sara.share_contact("09121234567", owner_id=None)
    assert name_prompt.buttons() == ["Sara"]


async def test_on_bale_a_forwarded_or_foreign_contact_is_still_refused(bale_newcomer: Chat) -> None:
    sara = bale_newcomer
    for refused in (
        await sara.share_contact("09121234567", owner_id=None, forwarded=True),
        await sara.share_contact("09121234567", owner_id=999),
    ):
        assert "your own" in refused[0].text.lower() and refused[0].requests_contact()


async def test_on_telegram_a_contact_naming_no_account_is_refused(chat_with: Callable[..., Chat]) -> None:
    sara = chat_with(707, language_code="en")
    await sara.say("/start")
    [refused] = await sara.share_contact("09121234567", owner_id=None)
    assert refused.requests_contact()


# --- the apology -----------------------------------------------------------------------------------------------


def fail_with(error: Exception) -> Callable[..., Any]:
    async def failing(*args: Any, **kwargs: Any) -> Any:
        raise error

    return failing


def fail_at_once(error: Exception) -> Callable[..., Any]:
    """A stand-in for a function that is not awaited (such as `ledger.summary`, which /balance calls), raising."""

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise error

    return failing


@pytest.mark.parametrize("language", ["fa", "en"])
async def test_an_unexpected_failure_is_apologised_for_in_the_members_language(
    chat_with: Callable[..., Chat], monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    sara = chat_with(708, language_code=language)
    await sara.join()
    monkeypatch.setattr(ledger, "summary", fail_at_once(RuntimeError("injected")))
    [apology] = await sara.say(BALANCE[language])
    assert SORRY[language] in apology.text


@pytest.mark.parametrize("language", ["fa", "en"])
async def test_a_pressed_button_is_answered_when_the_database_is_down(
    chat_with: Callable[..., Chat], monkeypatch: pytest.MonkeyPatch, language: str
) -> None:
    sara = chat_with(709, language_code=language)
    down = OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))
    monkeypatch.setattr(repositories, "account_by_telegram_id", fail_with(down))
    [answer] = await sara.press("lang:en")
    assert answer.name == "AnswerCallbackQuery" and answer.method.show_alert
    assert BUSY[language] in (answer.method.text or "")


async def test_a_locked_database_asks_the_member_to_try_again_in_a_moment(
    chat_with: Callable[..., Chat], monkeypatch: pytest.MonkeyPatch
) -> None:
    sara = chat_with(710, language_code="en")
    await sara.join()
    locked = OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
    monkeypatch.setattr(ledger, "summary", fail_at_once(locked))
    [answer] = await sara.say(BALANCE["en"])
    assert BUSY["en"] in answer.text


# --- stores that cannot be reached at start ---------------------------------------------------------------------


async def test_a_database_that_cannot_be_reached_stops_the_bot_with_one_line(
    emulator: BotAPIEmulator, settings: Settings
) -> None:
    down = settings.model_copy(
        update={"bot_api_url": emulator.url, "database_url": "postgresql+asyncpg://shop:secret@127.0.0.1:9/loyalty"}
    )
    with pytest.raises(SettingsError, match="Cannot open the database at postgresql") as raised:
        await asyncio.wait_for(run_polling(down), 30)
    message = str(raised.value)
    assert "DATABASE_URL" in message and "secret" not in message and "\n" not in message


async def test_a_database_file_that_cannot_be_opened_stops_the_bot_with_one_line(
    emulator: BotAPIEmulator, settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "a-folder").mkdir()
    down = settings.model_copy(
        update={"bot_api_url": emulator.url, "database_url": f"sqlite+aiosqlite:///{tmp_path / 'a-folder'}"}
    )
    with pytest.raises(SettingsError, match="Cannot open the database"):
        await asyncio.wait_for(run_polling(down), 30)


async def test_a_redis_that_cannot_be_reached_stops_the_bot_with_one_line(
    emulator: BotAPIEmulator, settings: Settings, tmp_path: Path
) -> None:
    down = settings.model_copy(
        update={
            "bot_api_url": emulator.url,
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'loyalty.db'}",
            "redis_url": "redis://:secret@127.0.0.1:9/0",
        }
    )
    with pytest.raises(SettingsError, match="Cannot reach Redis at redis://") as raised:
        await asyncio.wait_for(run_polling(down), 30)
    assert "REDIS_URL" in str(raised.value) and "secret" not in str(raised.value)


async def test_a_wizard_walked_while_a_campaign_reports_progress_completes(
    emulator: BotAPIEmulator, settings: Settings, database_url: str, engine: AsyncEngine
) -> None:
    async with session_factory(engine)() as session:
        for number in range(30):
            await joined_member(session, 800 + number, f"Member{number}")
    async with engine.begin() as connection:
        await connection.execute(update(Member).values(news_consent=True))
    emulator.chats.update(range(800, 830))
    async with running_bot(emulator, settings, database_url=database_url, broadcast_rate=10, timezone=daytime_zone()):
        owner = FakeUser(emulator, 1, "Owner", "en")
        [help_text] = await owner.say("/help")  # the message the campaign's progress will be written into
        draft = campaigns.CampaignDraft("Yalda", Audience(), campaigns.Message("Happy Yalda, {name}!"))
        async with session_factory(engine)() as session:
            created = await campaigns.create(session, draft, actor_id=1, now=datetime.now(UTC))
            await campaigns.set_report(session, created.id, 1, help_text.result["message_id"])
            await campaigns.start(session, created.id, actor_id=1, now=datetime.now(UTC))
        emulator.flood_control(limit=None, chat_interval=1.0, edits=True)

        await owner.say("/settings")
        await owner.press("set:ask:amount_per_point:")
        await owner.say("5000")

        def saved() -> bool:  # the progress edits in this chat count as replies too: wait for this one
            return any(call.text.startswith(SAVED) for call in emulator.replies_to(1))

        await emulator.wait_for(saved, 15, lambda: "the new rule was never confirmed")
        greeted = lambda: [c for c in emulator.calls if c.text.startswith("Happy Yalda") and not c.error]  # noqa: E731
        await emulator.wait_for(lambda: len(greeted()) == 30, 30, lambda: f"{len(greeted())} of 30 greeted")
