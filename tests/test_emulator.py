"""End to end: the real bot, started as in production, talks to the Bot API emulator over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram.exceptions import TelegramForbiddenError
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import check_bot_api, run_polling
from bot.factory import create_bot
from bot.settings import Settings, SettingsError
from storage.models import Member, StaffMember
from tests.emulator import BotAPIEmulator, FakeUser
from tests.factories import NOW
from tests.stub_bot import TOKEN


@pytest.fixture
async def emulator() -> AsyncIterator[BotAPIEmulator]:
    async with BotAPIEmulator(TOKEN) as running:
        yield running


@pytest.fixture
async def live(
    emulator: BotAPIEmulator, settings: Settings, database_url: str, engine: AsyncEngine
) -> AsyncIterator[BotAPIEmulator]:
    """The bot polling the emulator, on this test's database."""
    configured = settings.model_copy(update={"bot_api_url": emulator.url, "database_url": database_url})
    task = asyncio.create_task(run_polling(configured, handle_signals=False, polling_timeout=1))
    for _ in range(500):
        if emulator.commands("fa") or task.done():
            break
        await asyncio.sleep(0.01)
    yield emulator
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def members_in(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(Member)) or 0)


async def test_a_newcomer_joins_in_persian_with_their_own_contact(live: BotAPIEmulator) -> None:
    sara = FakeUser(live, 501, "سارا", "fa")
    [welcome] = await sara.say("/start")
    assert welcome.markup["keyboard"][0][0].get("request_contact") is True
    [done] = (await sara.join())[-1:]
    assert "۱۰۰" in done.text and "💳 موجودی" in done.buttons()
    [balance] = await sara.say("/balance")
    assert "امتیاز: ۱۰۰" in balance.text


async def test_foreign_and_forwarded_contacts_are_refused(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    ali = FakeUser(live, 502, "Ali", "en")
    await ali.say("/start")
    [foreign] = await ali.share_contact("+989121111111", owner_id=999)
    assert "your own" in foreign.text.lower()
    [forwarded] = await ali.share_contact("+989121111111", forwarded=True)
    assert forwarded.markup["keyboard"][0][0].get("request_contact") is True
    assert await members_in(engine) == 0


async def test_an_english_newcomer_skips_every_step_and_sees_the_balance(live: BotAPIEmulator) -> None:
    john = FakeUser(live, 503, "John", "en")
    [done] = (await john.join())[-1:]
    assert "100" in done.text and "💳 Balance" in done.buttons()
    [balance] = await john.say("/balance")
    assert "Points: 100" in balance.text


async def test_an_impossible_birthday_is_asked_again(live: BotAPIEmulator) -> None:
    mina = FakeUser(live, 504, "Mina", "fa")
    await mina.say("/start")
    await mina.share_contact("09123334455")
    await mina.say("مینا")
    [again] = await mina.say("1405/13/40")
    assert "وجود ندارد" in again.text
    [gender] = await mina.say("1370/06/31")
    assert "خانم" in gender.buttons()


async def test_stop_then_start_resumes(live: BotAPIEmulator) -> None:
    reza = FakeUser(live, 505, "Reza", "en")
    await reza.join("09125556677")
    [stopped] = await reza.say("/stop")
    [resumed] = await reza.say("/start")
    assert "won't send you news" in stopped.text
    assert resumed.text != stopped.text and "💳 Balance" in resumed.buttons()


async def test_the_command_menu_is_registered_in_both_languages(live: BotAPIEmulator) -> None:
    expected = {"start", "balance", "history", "card", "profile", "language", "help", "stop"}
    assert set(live.commands("fa")) == set(live.commands("en")) == set(live.commands(None)) == expected


async def test_the_card_is_uploaded_as_a_photo(live: BotAPIEmulator) -> None:
    nima = FakeUser(live, 506, "Nima", "en")
    await nima.join("09127778899")
    [card] = await nima.say("/card")
    assert card.method == "sendPhoto" and card.upload_size > 100 and "Nima" in card.text


async def test_a_rejected_token_and_a_blocked_chat_are_told_apart(emulator: BotAPIEmulator, settings: Settings) -> None:
    wrong = create_bot(settings.model_copy(update={"bot_api_url": emulator.url, "bot_token": "1000:wrong-token"}))
    with pytest.raises(SettingsError, match="rejected"):
        await check_bot_api(wrong, emulator.url)
    await wrong.session.close()
    right = create_bot(settings.model_copy(update={"bot_api_url": emulator.url}))
    emulator.blocked.add(77)
    with pytest.raises(TelegramForbiddenError):
        await right.send_message(77, "hello")
    await right.session.close()


async def test_the_console_script_runs_against_the_emulator(emulator: BotAPIEmulator, tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "BOT_TOKEN": TOKEN,
        "BOT_API_URL": emulator.url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=tmp_path,
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        for _ in range(1500):
            if emulator.commands("fa"):
                break
            await asyncio.sleep(0.02)
        [welcome] = await FakeUser(emulator, 507, "Leila", "en").say("/start")
        assert "Welcome to our customer club" in welcome.text
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, errors.decode()[-2000:]
    assert b"Traceback" not in errors


async def test_the_counter_end_to_end(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(StaffMember).values(telegram_id=600, role="cashier", name="Ali", added_by=1, added_at=NOW)
        )
    sara = FakeUser(live, 508, "Sara", "en")
    await sara.join("09121234567")
    async with engine.connect() as connection:
        code = await connection.scalar(select(Member.code).where(Member.telegram_id == 508))
    cashier = FakeUser(live, 600, "Ali", "en")
    [by_code] = await cashier.say(f"/earn {code} 100000 R-1")
    assert "+10 points · balance 110" in by_code.text
    assert "You earned 10 points" in live.sent_to(508)[-1].text
    [by_phone] = await cashier.say("/earn ۰۹۱۲۱۲۳۴۵۶۷ ۲۰۰٬۰۰۰ R-2")
    assert "balance 130" in by_phone.text
    [duplicate] = await cashier.say(f"/earn {code} 100000 R-1")
    assert "Already recorded" in duplicate.text
    [card] = await cashier.say(f"/start card_{code}")
    await cashier.press(card.callback_data()[0])
    [by_card] = await cashier.say("50000")
    assert "balance 135" in by_card.text
    [refused] = await sara.say(f"/earn {code} 100000")
    assert "don't know that command" in refused.text
