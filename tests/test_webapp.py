"""The Mini App over HTTP (a real web server on 127.0.0.1), on SQLite and PostgreSQL: initData opens it, nothing
else does; a member's card, points, history, rewards and vouchers come from the chat's domain calls, and a redeem
asked in the chat and in the Mini App at once redeems once; staff routes are for staff."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot
from aiogram.methods import SetChatMenuButton
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_dispatcher
from bot.i18n import create_i18n
from bot.settings import Settings, SettingsError, load_settings
from bot.webapp.menu import set_menu_button
from loyalty import rewards
from storage.models import Voucher
from tests.chat import Chat
from tests.databases import sqlite_copy
from tests.emulator import BotAPIEmulator
from tests.factories import NOW
from tests.live import free_port, running_bot
from tests.lookups import member_of
from tests.mini_app import MiniApp, member_with_600_points, signed_init_data
from tests.people import CUSTOMER, OWNER, joined
from tests.steps import add
from tests.stub_bot import RecordingSession

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
WEBAPP_URL = "https://bot.example.com/app"
STRANGER = 99


async def apology(language: str) -> str:
    """The chat's apology for a failure, in `language`."""
    i18n = create_i18n(language)
    with i18n.context(), i18n.use_locale(language):
        return i18n.gettext("errors.unexpected")


async def vouchers_issued(sessions: Sessions) -> list[Voucher]:
    async with sessions() as session:
        return list((await session.scalars(select(Voucher))).all())


# --- who may open it ---------------------------------------------------------------------------------------------


async def test_valid_init_data_opens_the_members_card_with_its_qr(chat_with: MakeChat, app: MiniApp) -> None:
    await joined(chat_with)

    answer = await app.get("/api/card", CUSTOMER)

    assert answer.status == 200
    assert answer.body["qr"].startswith("data:image/svg+xml")
    assert answer.body["code"] in answer.body["caption"]


async def test_init_data_signed_with_another_token_is_refused_with_401(chat_with: MakeChat, app: MiniApp) -> None:
    await joined(chat_with)
    forged = signed_init_data(CUSTOMER, token="2000:someone-elses-token")

    answer = await app.ask("GET", "/api/card", forged)

    assert answer.status == 401
    assert answer.body["error"] == "webapp.unauthorized"


async def test_init_data_with_a_field_changed_after_signing_is_refused(chat_with: MakeChat, app: MiniApp) -> None:
    await joined(chat_with)
    changed = signed_init_data(STRANGER).replace(f"%22id%22%3A{STRANGER}", f"%22id%22%3A{CUSTOMER}")

    answer = await app.ask("GET", "/api/card", changed)

    assert answer.status == 401


async def test_init_data_signed_over_an_hour_ago_is_refused_as_expired(chat_with: MakeChat, app: MiniApp) -> None:
    await joined(chat_with)
    stale = signed_init_data(CUSTOMER, at=NOW - timedelta(hours=1, minutes=1))

    answer = await app.ask("GET", "/api/card", stale)

    assert answer.status == 401
    assert answer.body["error"] == "webapp.expired"


async def test_a_request_without_init_data_is_refused_in_the_shops_language(app: MiniApp) -> None:
    answer = await app.get("/api/card")

    assert answer.status == 401
    assert answer.body["message"] == "این صفحه فقط از داخل ربات باز می‌شود. آن را دوباره از دکمهٔ ربات باز کنید."


async def test_a_non_member_is_told_to_join_in_the_bot_first(app: MiniApp) -> None:
    answer = await app.ask("GET", "/api/card", signed_init_data(STRANGER, language_code="en"))

    assert answer.status == 403
    assert answer.body == {
        "error": "webapp.not_member",
        "message": "You are not a member of the club yet. Send /start in the bot to join.",
    }


async def test_a_customer_cannot_reach_a_staff_route(chat_with: MakeChat, app: MiniApp) -> None:
    await joined(chat_with)

    answer = await app.get("/api/staff/whoami", CUSTOMER)

    assert answer.status == 403
    assert answer.body["error"] == "webapp.staff_only"


async def test_an_owner_reaches_the_staff_routes(app: MiniApp) -> None:
    answer = await app.get("/api/staff/whoami", OWNER)

    assert answer.status == 200
    assert answer.body == {"role": "owner", "may": {"members": True, "reports": True, "exports": True}}


async def test_a_failure_is_answered_with_the_apology_as_json(
    chat_with: MakeChat, app: MiniApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    await joined(chat_with)

    async def broken(*args: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(rewards, "offers", broken)

    answer = await app.get("/api/rewards", CUSTOMER)

    assert answer.status == 500
    assert answer.body == {"error": "errors.unexpected", "message": await apology("en")}


async def test_an_unknown_path_is_a_json_error(app: MiniApp) -> None:
    answer = await app.get("/api/nothing", CUSTOMER)

    assert answer.status == 404
    assert answer.body["error"] == "webapp.not_found"


# --- what a member sees ------------------------------------------------------------------------------------------


async def test_the_balance_says_points_tier_and_progress_in_the_members_language(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    await member_with_600_points(chat_with, sessions)

    answer = await app.get("/api/balance", CUSTOMER)

    assert answer.status == 200
    assert answer.body["points"] == "600"
    assert answer.body["tier"] == "Bronze"
    assert "to reach Silver" in answer.body["progress"] and answer.body["percent"] == 0


async def test_the_history_lists_the_ledger_newest_first(chat_with: MakeChat, sessions: Sessions, app: MiniApp) -> None:
    await member_with_600_points(chat_with, sessions)

    answer = await app.get("/api/history", CUSTOMER)

    assert [entry["points"] for entry in answer.body["entries"]] == [500, 100]
    assert answer.body["pages"] == 1


async def test_a_history_page_that_is_not_a_number_is_a_bad_request(chat_with: MakeChat, app: MiniApp) -> None:
    await joined(chat_with)

    answer = await app.get("/api/history?page=x", CUSTOMER)

    assert answer.status == 400


async def test_rewards_list_the_affordable_ones_first(chat_with: MakeChat, sessions: Sessions, app: MiniApp) -> None:
    await member_with_600_points(chat_with, sessions)
    await add(sessions, name="Cake", cost=900)
    await add(sessions, name="Coffee", cost=100)

    answer = await app.get("/api/rewards", CUSTOMER)

    assert [offer["name"] for offer in answer.body["affordable"]] == ["Coffee"]
    assert [(offer["name"], offer["missing"]) for offer in answer.body["close"]] == [("Cake", 300)]
    assert "question" in answer.body["affordable"][0] and "question" not in answer.body["close"][0]


async def test_a_redeem_spends_the_points_and_answers_the_voucher(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    await member_with_600_points(chat_with, sessions)
    await add(sessions)
    [offer] = (await app.get("/api/rewards", CUSTOMER)).body["affordable"]

    answer = await app.ask("POST", f"/api/rewards/{offer['id']}/redeem", signed_init_data(CUSTOMER), offer)

    assert answer.status == 200 and not answer.body["duplicate"]
    assert answer.body["voucher"]["active"] and answer.body["voucher"]["qr"].startswith("data:image/svg+xml")
    assert (await member_of(sessions)).balance == 500
    vouchers = (await app.get("/api/vouchers", CUSTOMER)).body["groups"]
    assert [[voucher["code"] for voucher in group["vouchers"]] for group in vouchers] == [
        [answer.body["voucher"]["code"]]
    ]


async def test_a_redeem_beyond_the_points_is_refused_in_words_and_spends_nothing(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    await joined(chat_with)
    reward = await add(sessions, cost=900)
    [offer] = (await app.get("/api/rewards", CUSTOMER)).body["close"]

    answer = await app.ask("POST", f"/api/rewards/{reward.id}/redeem", signed_init_data(CUSTOMER), offer)

    assert answer.status == 409
    assert "800" in answer.body["message"]
    assert (await member_of(sessions)).balance == 100


async def test_a_redeem_without_its_question_is_a_bad_request(chat_with: MakeChat, app: MiniApp) -> None:
    await joined(chat_with)

    answer = await app.ask("POST", "/api/rewards/1/redeem", signed_init_data(CUSTOMER), {"seen": "x"})

    assert answer.status == 400


async def test_a_redeem_in_the_chat_and_in_the_mini_app_at_once_redeems_once(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    chat = await member_with_600_points(chat_with, sessions)
    reward = await add(sessions)
    [question, _answered] = await chat.press(f"rwd:ask:{reward.id}:0")
    [offer] = (await app.get("/api/rewards", CUSTOMER)).body["affordable"]

    web, _chat = await asyncio.gather(
        app.ask("POST", f"/api/rewards/{reward.id}/redeem", signed_init_data(CUSTOMER), offer),
        chat.press(question.callback_data()[0]),
    )

    assert web.status == 200
    [voucher] = await vouchers_issued(sessions)
    assert web.body["voucher"]["id"] == voucher.id
    assert (await member_of(sessions)).balance == 500


# --- the page ----------------------------------------------------------------------------------------------------


async def test_the_page_and_its_files_are_served(app: MiniApp) -> None:
    assert (await app.ask("GET", "/", None)).body.startswith("<!doctype html>")
    for name in ("app.js", "staff.js", "app.css"):
        assert (await app.ask("GET", f"/static/{name}", None)).status == 200


async def test_the_pages_texts_come_in_the_members_language_right_to_left_for_persian(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    persian = await app.get("/api/texts", STRANGER)
    await joined(chat_with)  # in English
    english = await app.get("/api/texts", CUSTOMER)

    assert (persian.body["rtl"], persian.body["texts"]["webapp.tab_card"]) == (True, "کارت")
    assert (english.body["rtl"], english.body["texts"]["webapp.tab_card"]) == (False, "Card")


async def test_the_running_bot_serves_the_mini_app_though_the_api_refuses_its_menu_button(
    emulator: BotAPIEmulator, settings: Settings, sqlite_template: Path, tmp_path: Path
) -> None:
    port = free_port()
    database = sqlite_copy(sqlite_template, tmp_path)
    changes = {"database_url": database, "web_host": "127.0.0.1", "web_port": port, "webapp_url": WEBAPP_URL}
    headers = {"Authorization": "tma " + signed_init_data(STRANGER, at=datetime.now(UTC))}
    async with (
        running_bot(emulator, settings, **changes),
        aiohttp.ClientSession() as client,
        client.get(f"http://127.0.0.1:{port}/app/api/texts", headers=headers) as answer,
    ):
        assert answer.status == 200
    [menu] = [call for call in emulator.calls if call.method == "setChatMenuButton"]
    assert menu.error is not None  # the emulator has no menu button, like a messenger without one


# --- opening it from the chat ------------------------------------------------------------------------------------


async def test_the_card_in_the_chat_has_a_button_opening_the_mini_app(
    settings: Settings, sessions: Sessions, stubbed: tuple[Bot, RecordingSession]
) -> None:
    with_app = settings.model_copy(update={"webapp_url": WEBAPP_URL})
    chat = Chat(create_dispatcher(with_app, sessions, clock=lambda: NOW), *stubbed, CUSTOMER, language_code="en")
    await chat.join()

    [card] = await chat.say("/card")

    [[button]] = card.markup.inline_keyboard
    assert button.web_app is not None and button.web_app.url == WEBAPP_URL


async def test_without_a_mini_app_the_card_has_no_button(chat_with: MakeChat) -> None:
    chat = await joined(chat_with)

    [card] = await chat.say("/card")

    assert card.markup is None


async def test_the_menu_button_opens_the_mini_app(stubbed: tuple[Bot, RecordingSession]) -> None:
    bot, session = stubbed

    await set_menu_button(bot, create_i18n("fa"), WEBAPP_URL)

    [asked] = session.requests
    assert isinstance(asked, SetChatMenuButton) and asked.menu_button.web_app.url == WEBAPP_URL


@pytest.mark.parametrize("url", ["http://bot.example.com/app", "https://bot.example.com", "https://bot.example.com/"])
def test_a_webapp_url_that_is_not_https_with_a_path_is_refused(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBAPP_URL", url)

    with pytest.raises(SettingsError, match="WEBAPP_URL: must be an https:// address with a path"):
        load_settings(env_file=None)


def test_the_mini_app_is_served_at_its_urls_path_on_port_8080_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBAPP_URL", "https://bot.example.com/club/app/")
    monkeypatch.delenv("WEB_PORT", raising=False)

    settings = load_settings(env_file=None)

    assert (settings.webapp_path, settings.listen_port) == ("/club/app", 8080)
