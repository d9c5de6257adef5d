"""The owners' daily digest: at the owner's hour each owner gets, once a day and in their language, today's sales
against the same weekday last week, tomorrow's birthdays, the points expiring within a week and a win-back
suggestion — figures checked by hand on a small club, with a frozen clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import create_bot
from bot.i18n import create_i18n
from bot.settings import Settings
from loyalty import digest_readers, purchases
from loyalty.birthdays import birthday_md
from loyalty.calendar import format_date
from loyalty.digest import WIN_BACK_BUTTON
from loyalty.outbox import Message
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from scheduler.jobs import Jobs, run_due, send_digests
from scheduler.sender import Sender, SenderConfig, telegram_send
from storage.models import OutboxMessage, StaffMember
from tests.emulator import BotAPIEmulator
from tests.factories import NOW, add_members, add_purchases, member_row, purchase
from tests.people import MANAGER, OWNER
from tests.sending import Clock, Recorder

Sessions = async_sessionmaker[AsyncSession]
TEHRAN = ZoneInfo("Asia/Tehran")
I18N = create_i18n("fa")
SECOND_OWNER = 2  # an owner added in chat, a member who reads English
OTHER_MANAGER = 4  # a manager who did not ask for the digest
TODAY = date(2026, 11, 22)
AT_NINE_PM = datetime(2026, 11, 22, 21, 0, tzinfo=TEHRAN)


def shop_time(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TEHRAN)


def jobs_on(sessions: Sessions, clock: Callable[[], datetime] = lambda: AT_NINE_PM, **rules: object) -> Jobs:
    """The daily jobs, the shop in Tehran, OWNER from the settings, these rules over the defaults."""
    return Jobs(I18N, sessions, Rules(**rules), clock, TEHRAN, owner_ids=(OWNER,))  # type: ignore[arg-type]


async def small_club(sessions: Sessions) -> None:
    """Purchases numbered from 101, so the one recorded gets the first id. Today: 200,000 + 300,000 (at 00:15)
    + 700,000 (its 70 points expire in 5 days), one reversed purchase and yesterday's at 23:30 left out; the same
    weekday last week: 250,000 + 350,000. Two birthdays tomorrow, one member away for 70 days, and a second owner
    who reads English."""
    tomorrow = date(1990, 11, 23)
    async with sessions() as session:
        birthday = {
            "birthday": tomorrow,
            "birthday_calendar": "gregorian",
            "birthday_md": birthday_md(tomorrow, "gregorian"),
        }
        await add_members(
            session,
            [
                member_row(1),
                member_row(2),
                member_row(3),
                member_row(4, **birthday),
                member_row(5, **birthday),
                member_row(6, telegram_id=SECOND_OWNER, language="en"),
            ],
        )
        last_week = TODAY - timedelta(days=7)
        rows = [
            purchase(101, 1, 200_000, 0, created_at=shop_time(TODAY, 6)),
            purchase(102, 2, 300_000, 0, created_at=shop_time(TODAY, 0, 15)),
            purchase(103, 1, 999_000, 0, created_at=shop_time(TODAY, 9), reversed_at=shop_time(TODAY, 10)),
            purchase(104, 2, 5_000_000, 0, created_at=shop_time(TODAY - timedelta(days=1), 23, 30)),
            purchase(105, 1, 250_000, 0, created_at=shop_time(last_week, 12)),
            purchase(106, 2, 350_000, 0, created_at=shop_time(last_week, 18)),
            purchase(107, 4, 600_000, 70),
        ]
        await add_purchases(session, rows)
        session.add(StaffMember(telegram_id=SECOND_OWNER, role="owner", name="Second", added_by=OWNER, added_at=NOW))
        await session.commit()
        await purchases.record_purchase(
            session,
            Rules(expiry_days=5),
            member_id=3,
            amount=700_000,
            receipt="R3",
            stamp=Stamp(OWNER, "today", shop_time(TODAY, 20)),
        )


async def digests(sessions: Sessions) -> dict[int, Message]:
    async with sessions() as session:
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "digest"))
        return {row.chat_id: Message.from_json(row.payload or "{}") for row in rows}


PERSIAN = (
    "📊 امروز در باشگاه، {date} (در مقایسه با همین روز هفتهٔ پیش)\n\n"
    "• تعداد خرید: ۳ ▲ ۵۰٪\n"
    "• مبلغ کل: ۱٬۲۰۰٬۰۰۰ تومان ▲ ۱۰۰٪\n"
    "• میانگین خرید: ۴۰۰٬۰۰۰ تومان ▲ ۳۳٪\n\n"
    "🎂 تولدهای فردا: ۲ عضو\n\n"
    "⏳ امتیازهایی که تا ۷ روز آینده منقضی می‌شوند: ۷۰ امتیاز\n\n"
    "💡 ۱ عضو ۶۰ روز است که برنگشته‌اند؛ برایشان پیشنهاد بازگشت بفرستید؟"
)
ENGLISH = (
    "📊 Today at the club, {date} (against the same day last week)\n\n"
    "• Purchases: 3 ▲ 50%\n"
    "• Total: 1,200,000 toman ▲ 100%\n"
    "• Average purchase: 400,000 toman ▲ 33%\n\n"
    "🎂 Birthdays tomorrow: 2 members\n\n"
    "⏳ Expiring in the next 7 days: 70 points\n\n"
    "💡 1 member has not been back for 60 days — send them a win-back offer?"
)


async def test_at_nine_pm_each_owner_gets_the_days_figures_once_in_their_language(sessions: Sessions) -> None:
    await small_club(sessions)
    clock = Clock(AT_NINE_PM - timedelta(minutes=1))
    assert "digest" not in await run_due(jobs_on(sessions, clock))
    assert await digests(sessions) == {}
    clock.now = AT_NINE_PM
    assert "digest" in await run_due(jobs_on(sessions, clock))
    sent = await digests(sessions)
    assert set(sent) == {OWNER, SECOND_OWNER}
    assert sent[OWNER].text == PERSIAN.format(date=format_date(TODAY, "fa"))
    assert sent[SECOND_OWNER].text == ENGLISH.format(date=format_date(TODAY, "en"))
    assert sent[SECOND_OWNER].buttons == (("📣 Send a win-back offer", WIN_BACK_BUTTON),)
    clock.now += timedelta(minutes=1)
    assert await run_due(jobs_on(sessions, clock)) == []
    assert await send_digests(jobs_on(sessions, clock), clock.now) == 0  # a restart that runs it again: nothing more
    assert len(await digests(sessions)) == 2


async def test_the_digest_is_delivered_once_through_the_outbox(sessions: Sessions) -> None:
    await small_club(sessions)
    send = Recorder()
    sender = Sender(sessions, send, SenderConfig(rate=1000, chat_interval=0), clock=lambda: AT_NINE_PM)
    assert await send_digests(jobs_on(sessions), AT_NINE_PM) == 2
    await sender.drain()
    assert await send_digests(jobs_on(sessions), AT_NINE_PM + timedelta(hours=1)) == 0
    await sender.drain()
    assert send.chats == {OWNER: 1, SECOND_OWNER: 1}


async def test_the_digest_comes_at_the_owners_hour_and_not_at_all_when_turned_off(sessions: Sessions) -> None:
    clock = Clock(shop_time(TODAY, 8))
    assert "digest" in await run_due(jobs_on(sessions, clock, digest_hour=8))
    [empty] = (await digests(sessions)).values()  # an empty day still has a digest, with nothing to suggest
    assert "• تعداد خرید: ۰ =" in empty.text and "💡" not in empty.text and empty.buttons == ()
    clock.now += timedelta(days=1)
    assert await send_digests(jobs_on(sessions, clock, digest=False), clock.now) == 0
    assert "digest" in await run_due(jobs_on(sessions, clock, digest=False, digest_hour=8))
    assert len(await digests(sessions)) == 1


async def test_end_to_end_the_digest_reaches_the_owners_chat_at_its_hour_once(
    emulator: BotAPIEmulator, settings: Settings, sessions: Sessions
) -> None:
    await small_club(sessions)
    emulator.chats |= {OWNER, SECOND_OWNER}  # both owners wrote to the bot
    bot = create_bot(settings.model_copy(update={"bot_api_url": emulator.url}))
    clock = Clock(AT_NINE_PM - timedelta(minutes=1))
    sender = Sender(sessions, telegram_send(bot), SenderConfig(rate=250), clock=clock)
    try:
        for _ in range(3):  # 20:59, 21:00 and 21:01: the minute ticks around the owner's hour, each sending what is due
            await run_due(jobs_on(sessions, clock))
            await sender.drain()
            clock.now += timedelta(minutes=1)
    finally:
        await bot.session.close()
    [persian] = emulator.sent_to(OWNER)
    [english] = emulator.sent_to(SECOND_OWNER)
    assert persian.text == PERSIAN.format(date=format_date(TODAY, "fa"))
    assert english.text.startswith("📊 Today at the club") and "• Purchases: 3 ▲ 50%" in english.text
    assert persian.buttons() == ["📣 فرستادن پیشنهاد بازگشت"] and persian.callback_data() == [WIN_BACK_BUTTON]


async def test_a_manager_who_asked_gets_the_digest_once_and_one_who_did_not_gets_none(sessions: Sessions) -> None:
    await small_club(sessions)
    async with sessions() as session:
        for telegram_id in (MANAGER, OTHER_MANAGER):
            session.add(StaffMember(telegram_id=telegram_id, role="manager", name="M", added_by=OWNER, added_at=NOW))
        await session.commit()
        await digest_readers.toggle(session, Stamp(MANAGER, "digest-on", NOW))
    send = Recorder()
    sender = Sender(sessions, send, SenderConfig(rate=1000, chat_interval=0), clock=lambda: AT_NINE_PM)
    assert await send_digests(jobs_on(sessions), AT_NINE_PM) == 3
    assert await send_digests(jobs_on(sessions), AT_NINE_PM + timedelta(minutes=1)) == 0
    await sender.drain()
    assert send.chats == {OWNER: 1, SECOND_OWNER: 1, MANAGER: 1}
    assert (await digests(sessions))[MANAGER].text == PERSIAN.format(date=format_date(TODAY, "fa"))
