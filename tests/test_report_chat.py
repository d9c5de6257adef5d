"""/report through the real dispatcher: the period picker, the Sales report (text and chart) and the Members
report for managers and owners; cashiers hear it needs a manager.

The bot's clock says 22 Nov 2026, 12:30 in Tehran, so the last 7 days are 16–22 Nov and the previous ones 9–15 Nov.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aiogram.methods import SendPhoto
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import purchases
from loyalty.staff import Role
from loyalty.vouchers import Kind, Worth
from storage.models import LedgerEntry, Member, Purchase, Referral
from tests.chat import Chat
from tests.factories import NOW, add_members, member_row, new_reward, purchase, referral
from tests.people import CASHIER, MANAGER, NEEDS_MANAGER, OWNER, customer, hire

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
LAST_7_DAYS = "rpt:sales:last7"
VALID_CODE = "00000018"


async def a_week_of_sales(sessions: Sessions) -> None:
    """One member: 200,000 at 23:30 on 15 Nov (shop time), then 300,000 at 00:15 on 16 Nov and 400,000 yesterday."""
    async with sessions() as session:
        await add_members(session, [member_row(1), member_row(2, telegram_id=None)])
        moments = [datetime(2026, 11, 15, 20, tzinfo=UTC), datetime(2026, 11, 15, 20, 45, tzinfo=UTC)]
        rows = [
            purchase(1, 1, 200_000, 0, created_at=moments[0]),
            purchase(2, 1, 300_000, 0, created_at=moments[1]),
            purchase(3, 1, 400_000, 0, created_at=NOW - timedelta(days=1)),
        ]
        await session.execute(insert(Purchase), rows)
        await session.execute(purchases.FIRST_PURCHASES)  # what the counter keeps on each member
        await session.commit()


async def test_a_manager_picks_a_period_and_sees_the_sales_with_a_chart(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await a_week_of_sales(sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    manager = chat_with(MANAGER, language_code="en")
    [picker] = await manager.say("/report")
    assert picker.text == "📊 Reports\nPick the period:"
    assert picker.buttons() == ["Today", "Yesterday", "This week", "Last 7 days", "Last 30 days", "This month"]
    replies = await manager.press(picker.callback_data()[3])
    [photo] = [reply for reply in replies if reply.name == "SendPhoto"]
    assert isinstance(photo.method, SendPhoto) and photo.method.photo.data.startswith(b"\x89PNG")
    assert photo.text.startswith("💰 Sales — Last 7 days (16 Nov 2026 – 22 Nov 2026)")
    for line in (
        "• Purchases: 2 ▲ 100%",
        "• Total: 700,000 toman ▲ 250%",
        "• Average purchase: 350,000 toman ▲ 75%",
        "• Purchases per buyer: 2 ▲ 100%",
        "• Buyers: 1 =",
        "• New buyers (first purchase): 0 ▼ 100%",  # the member's first purchase was on 15 Nov
        "• Returning buyers: 1 ▲\n",  # none returned the week before: no percent
        "Compared with the 7 days before",
    ):
        assert line in photo.text
    assert photo.buttons() == [
        "👥 Members report",
        "🎁 Points and vouchers report",
        "🏆 Top customers report",
        "🤝 Referrals report",
        "📅 Another period",
    ]


async def test_an_owner_sees_persian_digits_and_jalali_dates(chat_with: MakeChat, sessions: Sessions) -> None:
    await a_week_of_sales(sessions)
    [photo] = [reply for reply in await chat_with(OWNER, language_code="fa").press(LAST_7_DAYS) if reply.text]
    assert photo.text.startswith("💰 فروش — ۷ روز گذشته (۲۵ آبان ۱۴۰۵ تا ۱ آذر ۱۴۰۵)")
    assert "• مبلغ کل: ۷۰۰٬۰۰۰ تومان ▲ ۲۵۰٪" in photo.text and "• تعداد خرید: ۲ ▲ ۱۰۰٪" in photo.text


async def test_the_members_report_over_the_same_period(chat_with: MakeChat, sessions: Sessions) -> None:
    await a_week_of_sales(sessions)
    [report] = [reply for reply in await chat_with(OWNER, language_code="en").press("rpt:members:last7") if reply.text]
    for line in (
        "👥 Members — Last 7 days",
        "• Members on the bot: 1",
        "• Waiting (not on the bot yet): 1",
        "• New in the period: 0 =",  # both joined a month ago
        "• Active (bought in the period): 1 =",
        "• By tier: Bronze 2",
    ):
        assert line in report.text
    assert report.buttons() == [
        "💰 Sales report",
        "🎁 Points and vouchers report",
        "🏆 Top customers report",
        "🤝 Referrals report",
        "📅 Another period",
    ]


async def points_of_a_week(sessions: Sessions) -> None:
    """Two members holding 250 points; 300 points earned yesterday and 50 spent 10 days ago."""
    async with sessions() as session:
        await add_members(session, [member_row(1, balance=200), member_row(2, balance=50)])
        entries = [(1, "earn", 300, NOW - timedelta(days=1)), (2, "spend", -50, NOW - timedelta(days=10))]
        rows = [
            {"member_id": member, "kind": kind, "points": points, "reason": kind, "created_at": moment}
            | {"idempotency_key": f"{kind}-{member}"}
            for member, kind, points, moment in entries
        ]
        await session.execute(insert(LedgerEntry), rows)
        await session.commit()


async def test_the_points_and_vouchers_report(chat_with: MakeChat, sessions: Sessions) -> None:
    await points_of_a_week(sessions)
    [report] = [reply for reply in await chat_with(OWNER, language_code="en").press("rpt:points:last7") if reply.text]
    for line in (
        "🎁 Points and vouchers — Last 7 days",
        "• Points given to members: 300 ▲\n",
        "• Points spent on rewards: 0 ▼ 100%",
        "• Points expired: 0 =",
        "• Points members hold now (what the club owes): 250 points\n",  # no money-off reward: no money
        "Reward vouchers: issued 0 =, used 0 =, expired 0 =",
        "• Used of those issued: 0% =",
    ):
        assert line in report.text
    assert report.buttons() == [
        "💰 Sales report",
        "👥 Members report",
        "🏆 Top customers report",
        "🤝 Referrals report",
        "📅 Another period",
    ]
    async with sessions() as session:  # a reward of 50,000 toman off for 100 points: 500 toman a point
        await new_reward(session, worth=Worth(Kind.FIXED, 50_000), cost=100)
    [persian] = [reply for reply in await chat_with(OWNER, language_code="fa").press("rpt:points:last7") if reply.text]
    assert "• امتیاز داده‌شده به اعضا: ۳۰۰ ▲\n" in persian.text
    assert "(بدهی باشگاه): ۲۵۰ امتیاز (حدود ۱۲۵٬۰۰۰ تومان به نرخ" in persian.text


async def test_the_top_customers_with_a_button_that_opens_each_member_at_the_counter(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await a_week_of_sales(sessions)
    async with sessions() as session:  # a code the counter accepts (its Luhn check digit right)
        await session.execute(update(Member).where(Member.id == 1).values(code=VALID_CODE))
        await session.commit()
    owner = chat_with(OWNER, language_code="en")
    [report] = [reply for reply in await owner.press("rpt:top:last7") if reply.text]
    for line in (
        "🏆 Top customers — Last 7 days",
        "By amount spent:\n1. Member 1 · 0000 0018 · ",
        " — 700,000 toman\nBy number of purchases:\n1. Member 1",  # 200,000 on 15 Nov is the week before
        " — 2 purchases\nBy points held now:\n—\n",
    ):
        assert line in report.text
    assert report.buttons() == [
        "👤 Member 1 (0000 0018)",
        "💰 Sales report",
        "👥 Members report",
        "🎁 Points and vouchers report",
        "🤝 Referrals report",
        "📅 Another period",
    ]
    link = report.markup.inline_keyboard[0][0].url
    assert link.endswith("?start=card_" + VALID_CODE)
    [member] = [reply for reply in await owner.say("/start " + link.split("start=")[1]) if reply.text]
    assert member.text.startswith("👤 Member 1 · 0000 0018") and "🧾 Record purchase" in member.buttons()  # counter
    [persian] = [reply for reply in await chat_with(OWNER, language_code="fa").press("rpt:top:last7") if reply.text]
    assert "بیشترین تعداد خرید:\n۱. Member 1 · کد \u200e۰۰۰۰ ۰۰۱۸ · تلفن " in persian.text
    assert " — ۲ خرید" in persian.text


async def test_the_referrals_over_the_period(chat_with: MakeChat, sessions: Sessions) -> None:
    await a_week_of_sales(sessions)
    async with sessions() as session:  # member 1 invited member 2, who bought yesterday: 100 and 50 points
        moments = {"opened_at": NOW - timedelta(days=20), "joined_at": NOW - timedelta(days=20)}
        bought = {"converted_at": NOW - timedelta(days=1), "referrer_points": 100, "friend_points": 50}
        await session.execute(
            insert(Referral), [referral(1, 1, "rewarded") | moments | bought | {"friend_member_id": 2}]
        )
        await session.commit()
    [report] = [
        reply for reply in await chat_with(OWNER, language_code="en").press("rpt:referrals:last7") if reply.text
    ]
    for line in (
        "🤝 Referrals — Last 7 days",
        "• Times customers' invite links were opened: 0 =",
        "• Invited friends who joined the club: 0 =",
        "• Invited friends who made their first purchase: 1 ▲\n",
        "• Points given for those invites (to both sides): 150 ▲\n",
        "Customers whose invited friends bought most:\n1. Member 1 · 0000 0001 · ",
        " — 1 friend bought\n",
    ):
        assert line in report.text
    assert report.buttons()[-2:] == ["🏆 Top customers report", "📅 Another period"]
    [persian] = [
        reply for reply in await chat_with(OWNER, language_code="fa").press("rpt:referrals:last7") if reply.text
    ]
    assert "• دوستان دعوت‌شده که اولین خریدشان را کردند: ۱ ▲\n" in persian.text and " — خرید ۱ دوست" in persian.text


async def test_another_period_brings_the_picker_back(chat_with: MakeChat) -> None:
    [picker] = [reply for reply in await chat_with(OWNER, language_code="en").press("rpt:pick:last7") if reply.text]
    assert picker.text == "📊 Reports\nPick the period:" and len(picker.buttons()) == 6


async def test_a_cashier_hears_it_needs_a_manager_and_a_customer_gets_the_unknown_answer(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    for user_id, phone in ((42, "09121234567"), (CASHIER, "09121112233")):
        chat, _ = await customer(chat_with, sessions, user_id, phone)
        unknown = [reply.text for reply in await chat.say("/foo")]
        expected = [NEEDS_MANAGER.format(command="/report")] if user_id == CASHIER else unknown
        assert [reply.text for reply in await chat.say("/report")] == expected
        assert not [reply for reply in await chat.press(LAST_7_DAYS) if reply.name == "SendPhoto"]


async def test_a_press_with_an_unknown_period_is_answered_as_a_stale_button(chat_with: MakeChat) -> None:
    owner = chat_with(OWNER, language_code="en")
    assert [reply.text for reply in await owner.press("rpt:sales:forever")] == [
        reply.text for reply in await owner.press("nothing")
    ]
