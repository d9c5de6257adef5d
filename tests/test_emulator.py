"""End to end: the real bot, started as in production, talks over HTTP to the Bot API emulator (tests/emulator.py)."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import signal
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import aiohttp
import pytest
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.app import run_polling
from bot.factory import create_bot
from bot.settings import Settings, SettingsError
from loyalty import campaigns, rewards
from loyalty.audiences import Audience
from loyalty.codes import grouped
from loyalty.rewards import RewardDraft
from loyalty.stamps import Stamp
from loyalty.voucher_codes import display
from loyalty.vouchers import Kind, Worth
from storage.database import session_factory
from storage.models import Member, Purchase, Referral, StaffMember, Voucher
from tests import updates
from tests.emulator import BOT_USER, BotAPIEmulator, FakeUser
from tests.factories import NOW
from tests.live import daytime_zone
from tests.stub_bot import TOKEN

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SETTING_NAMES = ("BOT_TOKEN", "BOT_API_URL", "DATABASE_URL", "OWNER_IDS", "TIMEZONE", "DEFAULT_LANGUAGE", "REDIS_URL")
CUSTOMER_COMMANDS = {
    "start",
    "balance",
    "history",
    "card",
    "invite",
    "rewards",
    "vouchers",
    "profile",
    "shop",
    "language",
    "help",
    "stop",
    "privacy",
    "mydata",
    "forgetme",
}


async def member_with(engine: AsyncEngine, telegram_id: int) -> Member | None:
    async with AsyncSession(engine) as session:
        return await session.scalar(select(Member).where(Member.telegram_id == telegram_id))


async def members_in(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(Member)) or 0)


# --- joining ---------------------------------------------------------------------------------------------------


async def test_a_newcomer_joins_in_persian_with_their_own_contact(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    sara = FakeUser(live, 501, "سارا", "fa")
    [welcome] = await sara.say("/start")
    assert "به باشگاه مشتریان فروشگاه ما خوش آمدید" in welcome.text and welcome.requests_contact()
    [name_prompt] = await sara.share_contact("+989121234567")
    assert name_prompt.buttons() == ["سارا"]
    [birthday_prompt] = await sara.say("سارا")
    assert "فعلاً نه" in birthday_prompt.buttons()
    [gender_prompt] = await sara.say("۱۳۷۰/۰۶/۳۱")
    assert gender_prompt.buttons() == ["خانم", "آقا", "فعلاً نه"]
    [consent_prompt] = await sara.say("خانم")
    [done] = await sara.say("بله، خبرم کنید")

    assert "سارا، به باشگاه خوش آمدید" in done.text and "۱۰۰ امتیاز هدیه" in done.text
    assert "💳 موجودی" in done.buttons() and "🪪 کارت عضویت" in done.buttons()
    assert "بله، خبرم کنید" in consent_prompt.buttons()
    member = await member_with(engine, 501)
    assert member is not None
    assert (member.phone, member.birthday, member.gender, member.news_consent, member.balance) == (
        "+989121234567",
        date(1991, 9, 22),
        "female",
        True,
        100,
    )


async def test_foreign_and_forwarded_contacts_are_refused(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    ali = FakeUser(live, 502, "Ali", "en")
    await ali.say("/start")
    notice, prompt = await ali.sticker()
    assert "finish joining first" in notice.text and prompt.requests_contact()
    [foreign] = await ali.share_contact("+989121111111", owner_id=999)
    assert "isn't your own number" in foreign.text and foreign.requests_contact()
    [forwarded] = await ali.share_contact("+989121111111", forwarded=True)
    assert "isn't your own number" in forwarded.text and forwarded.requests_contact()
    assert await members_in(engine) == 0

    hamid = FakeUser(live, 509, "Hamid", "en")
    not_member, join_prompt = await hamid.say("/balance")
    assert "not a member" in not_member.text and join_prompt.requests_contact()


async def test_an_english_newcomer_skips_every_optional_step(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    john = FakeUser(live, 503, "John", "en")
    await john.say("/start")
    await john.share_contact("09123334455")
    notice, name_prompt = await john.photo()
    assert "finish joining first" in notice.text and "What should we call you" in name_prompt.text
    [done] = await john.join("09123334455", name="Johnny")
    assert "Welcome to the club, Johnny" in done.text and "100 welcome points" in done.text
    assert "💳 Balance" in done.buttons()
    member = await member_with(engine, 503)
    assert member is not None
    assert (member.first_name, member.birthday, member.gender, member.news_consent, member.language) == (
        "Johnny",
        None,
        None,
        False,
        "en",
    )


@pytest.mark.parametrize(
    ("language", "wrong", "problem", "right", "born"),
    [
        ("fa", "1405/13/40", "وجود ندارد", "1370/06/31", date(1991, 9, 22)),
        ("en", "2030-01-01", "in the future", "1990-09-21", date(1990, 9, 21)),
    ],
)
async def test_an_invalid_birthday_is_asked_again_then_accepted(
    live: BotAPIEmulator, engine: AsyncEngine, language: str, wrong: str, problem: str, right: str, born: date
) -> None:
    mina = FakeUser(live, 504, "Mina", language)
    await mina.say("/start")
    await mina.share_contact("09125556677")
    await mina.say("Mina")
    [again] = await mina.say(wrong)
    assert problem in again.text
    [gender_prompt] = await mina.say(right)
    assert len(gender_prompt.buttons()) == 3
    skip = "فعلاً نه" if language == "fa" else "Skip"
    await mina.say(skip)
    [done] = await mina.say(skip)
    assert len(done.buttons()) == 7  # a member now: the main menu
    member = await member_with(engine, 504)
    assert member is not None and member.birthday == born


# --- as a member -----------------------------------------------------------------------------------------------


async def test_balance_after_joining_shows_the_points(live: BotAPIEmulator) -> None:
    sara = FakeUser(live, 505, "Sara", "fa")
    await sara.join()
    [balance] = await sara.say("/balance")
    assert "امتیاز: ۱۰۰" in balance.text and "برنزی" in balance.text
    [by_menu] = await sara.say("💳 موجودی")
    assert by_menu.text == balance.text


async def test_stop_then_start_welcomes_back(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    reza = FakeUser(live, 506, "Reza", "en")
    await reza.join("09127778899")
    [stopped] = await reza.say("/stop")
    assert "won't send you news" in stopped.text
    assert (member := await member_with(engine, 506)) is not None and member.stopped
    [resumed] = await reza.say("/start")
    assert "Welcome back! You'll receive our news and offers again" in resumed.text
    assert (member := await member_with(engine, 506)) is not None and not member.stopped
    [again] = await reza.say("/start")
    assert "Welcome back, Reza!" in again.text and "💳 Balance" in again.buttons()


async def test_the_language_button_switches_and_answers_the_press(live: BotAPIEmulator) -> None:
    sara = FakeUser(live, 507, "سارا", "fa")
    await sara.join()
    [offer] = await sara.say("/language")
    assert offer.callback_data() == ["lang:fa", "lang:en"]
    replies = await sara.press("lang:en", offer)
    assert sorted(reply.method for reply in replies) == ["answerCallbackQuery", "sendMessage"]
    assert all(reply.text == "Language changed to English." for reply in replies)
    [balance] = await sara.say("/balance")
    assert "Points: 100" in balance.text


async def test_the_command_menu_is_registered_in_both_languages(live: BotAPIEmulator, settings: Settings) -> None:
    assert set(live.commands("fa")) == set(live.commands("en")) == set(live.commands(None)) == CUSTOMER_COMMANDS
    balance = {
        call.params.get("language_code"): next(item for item in call.params["commands"] if item["command"] == "balance")
        for call in live.calls
        if call.method == "setMyCommands" and "scope" not in call.params
    }
    assert balance["en"]["description"] == "My points and tier"
    assert balance[None] == balance["fa"] != balance["en"]  # everyone else gets the shop's language, Persian
    bot = create_bot(settings.model_copy(update={"bot_api_url": live.url}))
    try:
        assert [command.command for command in await bot.get_my_commands(language_code="en")] == live.commands("en")
    finally:
        await bot.session.close()


async def test_at_start_up_the_owner_gets_their_own_menu_with_the_staff_commands(live: BotAPIEmulator) -> None:
    owner_menu = ["earn", "member", "redeem", "adjust", "undo", "catalog", "gift", "campaign", "stats", "report"]
    owner_menu += ["digest", "export", "block", "unblock", "phone", "staff", "settings", "import"]
    for language in ("fa", "en", None):
        assert live.commands(language, "chat:1")[: len(owner_menu)] == owner_menu  # OWNER_IDS is (1,)
        assert set(live.commands(language, "chat:1")[len(owner_menu) :]) == CUSTOMER_COMMANDS
        assert live.commands(language, "chat:42") == [] and "earn" not in live.commands(language)
    earn = {
        call.params.get("language_code"): next(item for item in call.params["commands"] if item["command"] == "earn")
        for call in live.calls
        if call.method == "setMyCommands" and call.params.get("scope") == {"type": "chat", "chat_id": 1}
    }
    assert earn["en"]["description"] == "Record a purchase" and earn["fa"]["description"] == earn[None]["description"]


async def test_the_owner_imports_the_good_rows_of_a_list_once_and_gets_the_bad_ones_back(
    live: BotAPIEmulator, engine: AsyncEngine
) -> None:
    owner, sara = FakeUser(live, 1, "Owner", "en"), FakeUser(live, 510, "Sara", "en")
    customers = b"phone;name;points;reason\n09121234567;Sara;120;paper card\n12;Nobody;5;\n09121234568;Reza;-3;\n"
    await owner.say("/import")
    summary, bad_file = await owner.document("customers.csv", customers)
    assert "new customers to import: 1" in summary.text and "rows with a problem (skipped): 2" in summary.text
    assert bad_file.method == "sendDocument"
    assert live.document_bytes(bad_file).decode("utf-8-sig").splitlines() == [
        "row,phone,name,points,reason,problem",
        "3,12,Nobody,5,,the phone number is not valid",
        "4,09121234568,Reza,-3,,the points are not a whole number of zero or more",
    ]
    [done, _] = await owner.press(summary.callback_data()[0], summary)
    assert "Imported 1 customer with 120 opening points in all" in done.text
    await owner.say("/import")
    [again] = await owner.document("customers.csv", customers[: customers.index(b"12;")])
    assert "already members (skipped): 1" in again.text and "new customers to import: 0" in again.text
    assert await members_in(engine) == 1 and live.sent_to(510) == []
    await sara.join("09121234567")
    member = await member_with(engine, 510)
    assert member is not None and member.balance == 120 + 100  # the opening points wait; the welcome bonus


async def test_the_owner_names_the_shop_in_settings_and_a_customer_sees_it_with_shop(live: BotAPIEmulator) -> None:
    owner, nima = FakeUser(live, 1, "Owner", "en"), FakeUser(live, 509, "Nima", "en")
    [nothing] = await nima.say("/shop")
    assert "has not filled in its profile yet" in nothing.text
    await owner.say("/settings")
    [section, _] = await owner.press("sets:menu:")
    assert "🏪 Shop profile" in section.text and section.method == "editMessageText"
    [prompt, _] = await owner.press("sets:ask:name")
    assert "What is the shop called?" in prompt.text
    [saved] = await owner.say("Café Narenj")
    assert "✅ Saved: 🏷 Name." in saved.text and "🏷 Name: Café Narenj" in saved.text
    await owner.press("sets:ask:location", saved)
    [pinned] = await owner.location(35.7, 51.4)
    assert "✅ Saved: 📍 Location." in pinned.text
    [about, pin] = await nima.say("/shop")
    assert about.method == "sendMessage" and about.text == "🏪 Welcome to Café Narenj"
    assert pin.method == "sendLocation" and (pin.params["latitude"], pin.params["longitude"]) == (35.7, 51.4)
    [welcome] = await nima.say("/start")
    assert welcome.text.startswith("👋 Welcome to the customer club of Café Narenj!")


async def test_the_member_card_is_uploaded_as_a_photo(
    live: BotAPIEmulator, engine: AsyncEngine, settings: Settings
) -> None:
    nima = FakeUser(live, 508, "Nima", "en")
    await nima.join("09121112233")
    [card] = await nima.say("/card")
    member = await member_with(engine, 508)
    assert member is not None
    assert card.method == "sendPhoto" and card.upload_size > 100
    assert next(iter(card.uploads.values())).startswith(b"\x89PNG")
    assert f"Member code: {member.code[:4]} {member.code[4:]}" in card.text and "Nima" in card.text

    bot = create_bot(settings.model_copy(update={"bot_api_url": live.url}))
    try:
        photo = card.result["photo"][-1]
        downloaded = await bot.download(photo["file_id"])
        assert downloaded is not None and downloaded.read() == next(iter(card.uploads.values()))
    finally:
        await bot.session.close()


async def test_export_sends_a_document_that_reads_back_to_the_members(
    live: BotAPIEmulator, engine: AsyncEngine
) -> None:
    joined = datetime(2026, 10, 23, 9, 0, tzinfo=UTC)  # 1405/08/01 12:30 in Tehran
    rows = [("سارا", "+989120000001", "00000001"), ("Reza", "+989120000002", "00000002")]
    async with engine.begin() as connection:
        await connection.execute(
            insert(Member),
            [
                {"first_name": name, "phone": phone, "code": code, "language": "fa", "balance": 0, "tier": "bronze"}
                | {"joined_at": joined, "created_at": joined}
                for name, phone, code in rows
            ],
        )
    owner = FakeUser(live, 1, "Owner", "fa")  # OWNER_IDS is (1,)
    [question] = await owner.say("/export")
    formats = next(call for call in await owner.press("exp:members:", question) if call.method == "editMessageText")
    replies = await owner.press("exp:members:csv", formats)
    [document] = [call for call in replies if call.method == "sendDocument"]
    data = next(iter(document.uploads.values()))
    assert data.startswith(b"\xef\xbb\xbf") and document.result["document"]["file_size"] == len(data)
    header, *lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    found = [dict(zip(header, line, strict=True)) for line in lines]
    assert [(row["نام"], row["تلفن"], row["کد عضویت"]) for row in found] == rows
    assert {row["تاریخ عضویت"] for row in found} == {"1405/08/01 12:30"}
    assert {row["تاریخ عضویت (به وقت UTC)"] for row in found} == {"2026-10-23T09:00:00Z"}


async def sara_and_a_cashier(live: BotAPIEmulator, engine: AsyncEngine) -> tuple[FakeUser, Member, FakeUser]:
    """Sara, who joined by chat in English, her member row, and Ali, a cashier."""
    async with engine.begin() as connection:
        await connection.execute(
            insert(StaffMember).values(telegram_id=600, role="cashier", name="Ali", added_by=1, added_at=NOW)
        )
    sara = FakeUser(live, 510, "Sara", "en")
    await sara.join("09121234567")
    member = await member_with(engine, 510)
    assert member is not None
    return sara, member, FakeUser(live, 600, "Ali", "en")


async def test_the_owners_first_start_is_a_checklist_whose_invite_brings_a_cashier_never_asked_to_join(
    live: BotAPIEmulator, engine: AsyncEngine
) -> None:
    owner = FakeUser(live, 1, "Owner", "en")  # OWNER_IDS is (1,)
    [checklist] = await owner.say("/start")
    assert "Five steps get it ready" in checklist.text and "Welcome to the customer club" not in checklist.text
    assert not checklist.requests_contact() and checklist.text.count("\n⬜ ") == 5
    link_message = next(call for call in await owner.press("onb:cashier", checklist) if call.method == "sendMessage")
    link = next(word for word in link_message.text.split() if word.startswith("https://t.me/loyalty_test_bot?start="))
    ali = FakeUser(live, 601, "Ali", "en")
    [welcome] = await ali.say(f"/start {link.split('start=')[1]}")
    assert "Welcome to the team, Ali! Your role: cashier." in welcome.text
    told = live.sent_to(1)[-1].text  # the owner is told, in the shop's language
    assert "Ali با نقش صندوق‌دار به تیم شما پیوست" in told
    [answer] = await ali.say("hello")
    assert "Send /help to see your commands" in answer.text and not answer.requests_contact()
    [again] = await ali.say("/start")
    assert "You're on the shop's team" in again.text and "/earn" in again.text and not again.requests_contact()
    [refused] = await ali.say("/campaign")
    assert refused.text == "Only a manager or an owner can use /campaign."
    [nothing] = await ali.say("/cancel")
    assert nothing.text == "There is nothing to cancel."
    assert await member_with(engine, 601) is None
    [ticked] = await owner.say("/start")
    assert ticked.text.count("\n✅ ") == 1 and ticked.text.count("\n⬜ ") == 4  # the cashier's step is done


async def test_the_counter_end_to_end(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    sara, member, cashier = await sara_and_a_cashier(live, engine)
    [by_code] = await cashier.say(f"/earn {member.code} 100000 R-1")
    assert "+10 points · balance 110" in by_code.text
    assert "You earned 10 points" in live.sent_to(510)[-1].text
    [by_phone] = await cashier.say("/earn ۰۹۱۲۱۲۳۴۵۶۷ ۲۰۰٬۰۰۰ R-2")
    assert "balance 130" in by_phone.text
    [duplicate] = await cashier.say(f"/earn {member.code} 100000 R-1")
    assert "Already recorded" in duplicate.text
    [card] = await cashier.say(f"/start card_{member.code}")
    await cashier.press(card.callback_data()[0], card)
    [by_card] = await cashier.say("50000")
    assert "balance 135" in by_card.text
    [refused] = await sara.say(f"/earn {member.code} 100000")
    assert "don't know that command" in refused.text


async def test_the_owner_reports_todays_sales_as_text_and_a_chart(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    _sara, member, cashier = await sara_and_a_cashier(live, engine)
    await cashier.say(f"/earn {member.code} 250000 R-1")
    owner = FakeUser(live, 1, "Owner", "en")  # OWNER_IDS is (1,)
    [picker] = await owner.say("/report")
    assert picker.text == "📊 Reports\nPick the period:" and "Today" in picker.buttons()
    today = picker.callback_data()[picker.buttons().index("Today")]
    [heatmap, chart] = [call for call in await owner.press(today, picker) if call.method == "sendPhoto"]
    for photo in (heatmap, chart):
        assert next(iter(photo.uploads.values())).startswith(b"\x89PNG") and photo.upload_size > 10_000
    assert chart.text.startswith("💰 Sales — Today") and "• Purchases: 1 ▲\n" in chart.text
    assert "• Total: 250,000 toman ▲\n" in chart.text


async def test_the_counter_reads_the_code_as_the_card_shows_it(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    _sara, member, cashier = await sara_and_a_cashier(live, engine)
    [as_shown] = await cashier.say(f"/earn {grouped(member.code)} 250000")
    assert "+25 points · balance 125" in as_shown.text
    persian = grouped(member.code).replace(" ", "-").translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    [dashed] = await cashier.say(f"/earn {persian} ۱۰۰۰۰۰ R-2")
    assert "balance 135" in dashed.text


async def test_walk_in_points_wait_on_the_phone_and_are_claimed_on_joining(
    live: BotAPIEmulator, engine: AsyncEngine
) -> None:
    _sara, _member, cashier = await sara_and_a_cashier(live, engine)
    [ask] = await cashier.say("/earn ۰۹۳۵۱۱۱۲۲۳۳ 250000 R-9")
    assert "0935 111 2233 is not a member yet" in ask.text
    recorded = await cashier.press(ask.callback_data()[0], ask)
    assert any("+25 points are waiting on this phone" in call.text for call in recorded)
    bahar = FakeUser(live, 511, "بهار", "fa")
    welcome = await bahar.join("+989351112233")
    assert "۲۵ امتیاز از خریدهای قبلی‌تان منتظر شما بود" in welcome[-1].text and "۱۰۰ امتیاز هدیه" in welcome[-1].text
    member = await member_with(engine, 511)
    assert member is not None and member.balance == 125 and member.phone == "+989351112233"


async def test_a_big_amount_is_confirmed_before_it_is_recorded(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    owner = FakeUser(live, 1, "Owner", "en")
    [menu] = await owner.say("/settings")
    await owner.press("set:ask:purchase_confirm_above:", menu)
    [saved] = await owner.say("1,000,000")
    assert "Confirm purchases above changed from no limit to 1,000,000 toman" in saved.text
    _sara, member, cashier = await sara_and_a_cashier(live, engine)
    [question] = await cashier.say(f"/earn {member.code} 25,000,000 R-1")  # a slip: 25,000,000 for 250,000
    assert "Record a purchase of 25,000,000 toman for Sara?" in question.text and "(1,000,000 toman)" in question.text
    assert await purchases_in(engine) == []
    [cancelled, *_] = await cashier.press(question.callback_data()[1], question)
    assert "Nothing was recorded" in cancelled.text and await purchases_in(engine) == []
    [question] = await cashier.say(f"/earn {member.code} 2,000,000 R-1")  # big but true
    yes = question.callback_data()[0]
    [recorded, *_] = await cashier.press(yes, question)
    assert recorded.method == "editMessageText" and "Recorded 2,000,000 toman for Sara" in recorded.text
    again = await cashier.press(yes, question)
    assert any("no longer open" in reply.text for reply in again)
    assert await purchases_in(engine) == [2_000_000]


async def test_the_cashier_undoes_a_mistyped_purchase_at_once(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    _sara, member, cashier = await sara_and_a_cashier(live, engine)
    [recorded] = await cashier.say(f"/earn {member.code} 500000")  # for another customer's purchase, say
    assert "+50 points · balance 150" in recorded.text and recorded.buttons() == ["↩️ Undo"]
    [undone, *_] = await cashier.press(recorded.callback_data()[0], recorded)
    assert "Purchase of 500,000 toman reversed: 50 points taken back from Sara. Balance 100." in undone.text

    def told() -> bool:
        return any("cancelled by the shop" in call.text for call in live.sent_to(510))

    await live.wait_for(told, 5, lambda: "Sara was not told of the undo")
    after = await member_with(engine, 510)
    assert after is not None and after.balance == 100
    [card] = await cashier.say(f"/start card_{member.code}")
    await cashier.press(card.callback_data()[0], card)
    [by_card] = await cashier.say("250000")
    assert "balance 125" in by_card.text and by_card.buttons() == ["↩️ Undo"]


async def purchases_in(engine: AsyncEngine) -> list[int]:
    """The amounts of the purchases standing."""
    async with engine.connect() as connection:
        rows = await connection.scalars(select(Purchase.amount).where(Purchase.reversed_at.is_(None)))
        return list(rows)


async def test_a_reward_redeemed_in_chat_and_used_at_the_counter(live: BotAPIEmulator, engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(StaffMember).values(telegram_id=600, role="cashier", name="Ali", added_by=1, added_at=NOW)
        )
    async with AsyncSession(engine) as session:
        draft = RewardDraft(name="Coffee", cost=60, validity_days=30, worth=Worth(Kind.ITEM))
        await rewards.add_reward(session, draft, Stamp(1, "k", NOW, 1))
    sara = FakeUser(live, 520, "Sara", "en")
    await sara.join("09121234568")
    [catalog] = await sara.say("/rewards")
    [detail] = [reply for reply in await sara.press(catalog.callback_data()[0], catalog) if reply.callback_data()]
    [question] = [reply for reply in await sara.press(detail.callback_data()[0], detail) if reply.callback_data()]
    await sara.press(question.callback_data()[0], question)
    [voucher_photo] = [call for call in live.sent_to(520) if call.method == "sendPhoto"]
    async with AsyncSession(engine) as session:
        code = await session.scalar(select(Voucher.code))
    assert code is not None and display(code) in voucher_photo.text and voucher_photo.upload_size > 0
    assert "20 more points to go" in (await sara.say("/rewards"))[0].text
    cashier = FakeUser(live, 600, "Ali", "en")
    [view] = await cashier.say(f"/redeem {display(code).lower()}")
    assert "Sara" in view.text and view.callback_data()
    await cashier.press(view.callback_data()[0], view)
    assert "was used at the counter" in live.sent_to(520)[-1].text
    second = await cashier.say(f"/start voucher_{code}")
    assert not any(reply.callback_data() for reply in second) and "used" in second[0].text.lower()
    [refused] = await sara.say(f"/redeem {code}")
    assert "don't know that command" in refused.text


async def test_a_friend_invited_by_link_joins_and_buys_and_both_are_rewarded(
    live: BotAPIEmulator, engine: AsyncEngine
) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            insert(StaffMember).values(telegram_id=600, role="cashier", name="Ali", added_by=1, added_at=NOW)
        )
    ali = FakeUser(live, 530, "Ali", "en")
    await ali.join("09121110001")
    [invite] = await ali.say("/invite")
    assert invite.method == "sendPhoto" and invite.upload_size > 100
    link = next(word for word in invite.text.split() if word.startswith("https://t.me/loyalty_test_bot?start=ref_"))
    payload = link.split("start=")[1]
    bahar = FakeUser(live, 531, "Bahar", "en")
    [welcome] = await bahar.say(f"/start {payload}")
    assert "Welcome to the customer club of our shop" in welcome.text and welcome.requests_contact()
    await bahar.join("09121110002")
    assert "Your friend Bahar joined the club with your invite link" in live.sent_to(530)[-1].text
    friend = await member_with(engine, 531)
    assert friend is not None

    await FakeUser(live, 600, "Reza", "en").say(f"/earn {friend.code} 100000 R-1")

    assert "+50 points for coming with a friend's invitation" in live.sent_to(531)[-1].text
    told = live.sent_to(530)[-1].text
    assert "Your friend Bahar made their first purchase" in told and "+100 points" in told
    cyrus = FakeUser(live, 532, "Cyrus", "en")
    await cyrus.join("09121110003")
    [cyrus_back] = await cyrus.say(f"/start {payload}")
    [ali_back] = await ali.say(f"/start {payload}")
    assert "Welcome back, Cyrus" in cyrus_back.text and "Welcome back, Ali" in ali_back.text
    [polite] = await FakeUser(live, 533, "Dara", "en").say("/start ref_garbage!!")
    assert "Welcome to the customer club of our shop" in polite.text and polite.requests_contact()
    members = [await member_with(engine, user) for user in (530, 531, 532)]
    assert [member.balance if member else None for member in members] == [200, 160, 100]
    async with engine.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(Referral)) == 1


class TestBroadcast:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"timezone": daytime_zone()})

    async def test_a_started_campaign_reaches_every_reachable_member_once(
        self, live: BotAPIEmulator, engine: AsyncEngine
    ) -> None:
        people = [FakeUser(live, 700 + number, f"Member{number}", "en") for number in range(4)]
        for number, person in enumerate(people):
            await person.join(f"0912555000{number}")
        async with engine.begin() as connection:
            await connection.execute(update(Member).values(news_consent=True))
            await connection.execute(update(Member).where(Member.telegram_id == 703).values(stopped=True))
        live.blocked.add(702)
        draft = campaigns.CampaignDraft("Yalda", Audience(), campaigns.Message("Happy Yalda, {name}!"))
        async with session_factory(engine)() as session:
            created = await campaigns.create(session, draft, actor_id=1, now=datetime.now(UTC))
            started = await campaigns.start(session, created.id, actor_id=1, now=datetime.now(UTC))
        assert started.recipients == 3

        def greeted(chat_id: int) -> list[str]:
            return [call.text for call in live.sent_to(chat_id) if call.text.startswith("Happy Yalda")]

        def all_tried() -> bool:
            blocked_seen = any(call.chat_id == 702 and call.error for call in live.calls)
            return bool(greeted(700) and greeted(701)) and blocked_seen

        await live.wait_for(all_tried, 15, lambda: "the campaign was not sent to every chat")
        assert greeted(700) == ["Happy Yalda, Member0!"] and greeted(701) == ["Happy Yalda, Member1!"]
        assert greeted(702) == [] and greeted(703) == []
        for _ in range(100):  # the sender writes a batch's outcomes together, just after the sends
            async with AsyncSession(engine) as session:
                if await session.scalar(select(Member.unreachable).where(Member.telegram_id == 702)):
                    break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the member who blocked the bot was never marked unreachable")


# --- the emulator and the connection -----------------------------------------------------------------------------


async def test_a_rejected_token_stops_the_bot_with_a_clear_error(
    emulator: BotAPIEmulator, settings: Settings, tmp_path: Path
) -> None:
    wrong = settings.model_copy(
        update={
            "bot_api_url": emulator.url,
            "bot_token": "1000:wrong-token",
            "database_url": f"sqlite+aiosqlite:///{tmp_path / 'never.db'}",
        }
    )
    with pytest.raises(SettingsError, match="rejected BOT_TOKEN"):
        await run_polling(wrong)
    assert [(call.method, call.error) for call in emulator.calls] == [("getMe", "401 Unauthorized")]
    assert not (tmp_path / "never.db").exists()


async def test_the_emulator_answers_like_telegram(emulator: BotAPIEmulator) -> None:
    async with aiohttp.ClientSession() as http:

        async def post(method: str, token: str = TOKEN, **params: object) -> tuple[int, dict[str, object]]:
            async with http.post(f"{emulator.url}/bot{token}/{method}", json=params) as response:
                return response.status, await response.json()

        assert await post("getMe", token="1000:wrong") == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )
        assert await post("sendCarrierPigeon") == (
            404,
            {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
        )
        assert await post("getme") == (200, {"ok": True, "result": BOT_USER})

        waiting = asyncio.create_task(post("getUpdates", timeout=5))
        await asyncio.sleep(0.05)
        assert not waiting.done()  # a long poll waits for an update
        update = updates.message_update(updates.user_json(77, "Ali", "en"), text="hi")
        await emulator.push(update)
        status, body = await asyncio.wait_for(waiting, 1)
        assert (status, body["result"]) == (200, [update])
        assert await post("getUpdates", offset=update["update_id"] + 1) == (200, {"ok": True, "result": []})


async def test_a_blocked_chat_and_an_unknown_chat_raise_aiogram_errors(
    emulator: BotAPIEmulator, settings: Settings
) -> None:
    bot = create_bot(settings.model_copy(update={"bot_api_url": emulator.url}))
    emulator.chats.update({77, 78})
    emulator.blocked.add(77)
    try:
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(77, "hello")
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(79, "hello")
        sent = await bot.send_message(78, "hello")
        assert sent.from_user is not None and sent.from_user.model_dump(exclude_none=True) == BOT_USER
        assert (sent.chat.id, sent.text) == (78, "hello")
    finally:
        await bot.session.close()
    assert [call.error for call in emulator.calls] == [
        "403 Forbidden: bot was blocked by the user",
        "400 Bad Request: chat not found",
        None,
    ]


async def test_edits_and_deletions_follow_telegram_rules(emulator: BotAPIEmulator, settings: Settings) -> None:
    bot = create_bot(settings.model_copy(update={"bot_api_url": emulator.url}))
    emulator.chats.add(78)
    more = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="More", callback_data="more")]])
    try:
        sent = await bot.send_message(78, "page 1", reply_markup=more)
        assert sent.reply_markup is not None and sent.reply_markup.inline_keyboard[0][0].callback_data == "more"
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text("page 1", chat_id=78, message_id=sent.message_id, reply_markup=more)
        edited = await bot.edit_message_text("page 2", chat_id=78, message_id=sent.message_id)
        assert isinstance(edited, Message) and edited.edit_date is not None and edited.reply_markup is None
        assert [message["text"] for message in emulator.messages(78)] == ["page 2"]
        assert await bot.delete_message(78, sent.message_id) is True
        with pytest.raises(TelegramBadRequest, match="message to edit not found"):
            await bot.edit_message_text("page 3", chat_id=78, message_id=sent.message_id)
    finally:
        await bot.session.close()
    assert [call.text for call in emulator.sent_to(78)] == ["page 1", "page 2"]


async def test_the_console_script_runs_against_the_emulator(emulator: BotAPIEmulator, tmp_path: Path) -> None:
    environment = {key: value for key, value in os.environ.items() if key not in SETTING_NAMES}
    environment.update(
        BOT_TOKEN=TOKEN,
        BOT_API_URL=emulator.url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}",
        # the checkout first: an editable install made before a package was added does not map it
        PYTHONPATH=os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
    )
    script = Path(sys.executable).with_name("loyalty-bot")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
    process = await asyncio.create_subprocess_exec(
        *command, "run", cwd=tmp_path, env=environment, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    emulator.watch(lambda: None if process.returncode is None else f"the process exited with {process.returncode}")
    try:
        await emulator.wait_polling(timeout=30)
        [welcome] = await FakeUser(emulator, 511, "Leila", "en").say("/start")
        assert "Welcome to the customer club of our shop" in welcome.text and welcome.requests_contact()
        process.send_signal(signal.SIGINT)
        _, errors = await asyncio.wait_for(process.communicate(), 10)
    except BaseException:
        if process.returncode is None:
            process.kill()
        print((await process.communicate())[1].decode()[-3000:])  # the bot's log, shown with the failure
        raise
    assert process.returncode == 0, errors.decode()[-3000:]
    assert b"Traceback" not in errors and b"is up; polling" in errors
