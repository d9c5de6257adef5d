"""/report through the real dispatcher: the period picker (a custom range typed too), the Sales report (text, chart
and the heatmap of weekdays and hours), the Members report (text and chart) and the others for managers and
owners; cashiers hear it needs a manager.

The bot's clock says 22 Nov 2026, 12:30 in Tehran, so the last 7 days are 16–22 Nov and the previous ones 9–15 Nov.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from aiogram.methods import SendPhoto
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import create_i18n
from handlers.staff.report import members_text
from loyalty import reports
from loyalty.digest import AWAY_DAYS
from loyalty.periods import Period
from loyalty.reports import Compared
from loyalty.staff import Role
from loyalty.vouchers import Kind, Worth
from storage.models import AuditEntry, LedgerEntry, Member, Referral
from tests.chat import Chat
from tests.factories import NOW, add_members, add_purchases, member_row, new_reward, purchase, referral
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
        await add_purchases(session, rows)
        await session.commit()


async def test_a_manager_picks_a_period_and_sees_the_sales_with_a_chart(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await a_week_of_sales(sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    manager = chat_with(MANAGER, language_code="en")
    [picker] = await manager.say("/report")
    assert picker.text == "📊 Reports\nPick the period:"
    assert picker.buttons() == [
        "Today",
        "Yesterday",
        "This week",
        "Last 7 days",
        "Last 30 days",
        "This month",
        "📅 Custom range",
    ]
    replies = await manager.press(picker.callback_data()[3])
    [heatmap, photo] = [reply for reply in replies if reply.name == "SendPhoto"]  # the buttons under the last
    for sent in (heatmap, photo):
        assert isinstance(sent.method, SendPhoto) and sent.method.photo.data.startswith(b"\x89PNG")
    assert not heatmap.text and not heatmap.buttons()
    assert photo.text.startswith("💰 Sales — Last 7 days (16 Nov 2026 – 22 Nov 2026)")
    for line in (
        "• Purchases: 2 ▲ 100%",
        "• Total: 700,000 toman ▲ 250%",
        "• Average purchase: 350,000 toman ▲ 75%",
        "• Purchases per buyer: 2 ▲ 100%",
        "• Buyers: 1 =",
        "• New buyers (first purchase): 0 ▼ 100%",  # the member's first purchase was on 15 Nov
        "• Returning buyers: 1 ▲\n",  # none returned the week before: no percent
        "• Busiest day: Monday; busiest hour: 00:00–01:00\n",  # 00:15 on Monday 16 Nov; yesterday's at 12:30 ties
        "Compared with the 7 days before",
    ):
        assert line in photo.text
    assert photo.buttons() == [
        "👥 Members report",
        "🎁 Points and vouchers report",
        "🏆 Top customers report",
        "🤝 Referrals report",
        "📣 Campaigns report",
        "📅 Another period",
    ]


async def test_an_owner_sees_persian_digits_and_jalali_dates(chat_with: MakeChat, sessions: Sessions) -> None:
    await a_week_of_sales(sessions)
    [photo] = [reply for reply in await chat_with(OWNER, language_code="fa").press(LAST_7_DAYS) if reply.text]
    assert photo.text.startswith("💰 فروش — ۷ روز گذشته (۲۵ آبان ۱۴۰۵ تا ۱ آذر ۱۴۰۵)")
    assert "• مبلغ کل: ۷۰۰٬۰۰۰ تومان ▲ ۲۵۰٪" in photo.text and "• تعداد خرید: ۲ ▲ ۱۰۰٪" in photo.text
    assert "• شلوغ‌ترین روز: دوشنبه؛ شلوغ‌ترین ساعت: ۰۰:۰۰–۰۱:۰۰\n" in photo.text


async def test_the_members_report_over_the_same_period(chat_with: MakeChat, sessions: Sessions) -> None:
    await a_week_of_sales(sessions)
    async with sessions() as session:  # member 1 turns 30 tomorrow; member 2, waiting, came in as a walk-in
        birthday = {"birthday": date(1996, 11, 23), "birthday_calendar": "gregorian", "gender": "female"}
        await session.execute(update(Member).where(Member.id == 1).values(**birthday))
        await session.execute(update(Member).where(Member.id == 2).values(gender="male", stopped=True))
        walk_in = {"member_id": 2, "action": "member.walk_in", "details": "{}", "created_at": NOW}
        await session.execute(insert(AuditEntry), [walk_in])
        await session.commit()
    [report] = [reply for reply in await chat_with(OWNER, language_code="en").press("rpt:members:last7") if reply.text]
    assert isinstance(report.method, SendPhoto) and report.method.photo.data.startswith(b"\x89PNG")
    for line in (
        "👥 Members — Last 7 days",
        "• Members: 2 (1 on the bot, 1 waiting to join)\n",
        "• New in the period: 0 =",  # both joined a month ago
        "• Active (bought in the period): 1 =",
        "• Lapsed (bought before, not in the last 60 days): 0\n",
        "• By tier: Bronze 2\n",
        "• By gender: women 1 · men 1\n",
        "• By age: 25–34: 1 · not given: 1\n",
        "• Average age: 29\n",
        "• How they joined: walk-in 1 · on their own 1\n",
        "• Stopped the news: 1 · can't be reached: 0 · blocked: 0\n",
    ):
        assert line in report.text
    assert report.buttons() == [
        "💰 Sales report",
        "🎁 Points and vouchers report",
        "🏆 Top customers report",
        "🤝 Referrals report",
        "📣 Campaigns report",
        "📅 Another period",
    ]
    [persian] = [reply for reply in await chat_with(OWNER, language_code="fa").press("rpt:members:last7") if reply.text]
    for line in (
        "• همهٔ اعضا: ۲ (۱ واردشده به ربات، ۱ در انتظار)\n",
        "• به تفکیک جنسیت: زن ۱ · مرد ۱\n",
        "• به تفکیک سن: ۲۵ تا ۳۴: ۱ · نامشخص: ۱\n",
        "• میانگین سن: ۲۹\n",
    ):
        assert line in persian.text


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
        "📣 Campaigns report",
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
        "📣 Campaigns report",
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
    assert report.buttons()[-2:] == ["📣 Campaigns report", "📅 Another period"]
    [persian] = [
        reply for reply in await chat_with(OWNER, language_code="fa").press("rpt:referrals:last7") if reply.text
    ]
    assert "• دوستان دعوت‌شده که اولین خریدشان را کردند: ۱ ▲\n" in persian.text and " — خرید ۱ دوست" in persian.text


async def test_another_period_brings_the_picker_back(chat_with: MakeChat) -> None:
    [picker] = [reply for reply in await chat_with(OWNER, language_code="en").press("rpt:pick:last7") if reply.text]
    assert picker.text == "📊 Reports\nPick the period:" and len(picker.buttons()) == 7


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


CUSTOM_RANGE = "rpt:custom:"


async def test_a_manager_types_a_custom_range_and_every_report_keeps_it(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await a_week_of_sales(sessions)
    owner = chat_with(OWNER, language_code="en")
    [question] = [reply for reply in await owner.press(CUSTOM_RANGE) if reply.text]
    assert question.text.startswith(
        "📅 Type the first and last day of the range, for example:\n2026-11-08 – 2026-11-22"
    )
    [refused] = await owner.say("last week")
    assert refused.text.startswith("I couldn't read those days.") and "for example:" in refused.text
    [refused] = await owner.say("2026-11-22 - 2026-11-16")
    assert refused.text.startswith("The first day comes after the last one")
    replies = await owner.say("2026-11-16 - 2026-12-31")  # the days to come are left out
    [photo] = [reply for reply in replies if reply.text]
    assert photo.name == "SendPhoto" and len([reply for reply in replies if reply.name == "SendPhoto"]) == 2
    assert photo.text.startswith("💰 Sales — Custom range (16 Nov 2026 – 22 Nov 2026)")
    assert "• Total: 700,000 toman ▲ 250%" in photo.text and "Compared with the 7 days before" in photo.text
    assert "rpt:members:r20261116-20261122" in photo.callback_data()
    [members] = [reply for reply in await owner.press("rpt:members:r20261116-20261122") if reply.text]
    assert members.text.startswith("👥 Members — Custom range (16 Nov 2026 – 22 Nov 2026)")
    assert "rpt:sales:r20261116-20261122" in members.callback_data()
    [sales] = [reply for reply in await owner.press("rpt:sales:r20261116-20261122") if reply.text]
    assert sales.text == photo.text
    unknown = [reply.text for reply in await owner.say("2026-11-16 - 2026-11-22")]  # the prompt has ended
    assert unknown and not unknown[0].startswith("💰")


async def test_a_custom_range_in_persian_in_the_jalali_calendar(chat_with: MakeChat, sessions: Sessions) -> None:
    await a_week_of_sales(sessions)
    owner = chat_with(OWNER, language_code="fa")
    [question] = [reply for reply in await owner.press(CUSTOM_RANGE) if reply.text]
    assert "۱۴۰۵/۰۸/۱۷ تا ۱۴۰۵/۰۹/۰۱" in question.text
    [refused] = await owner.say("۱۴۰۵/۱۲/۳۱ تا ۱۴۰۵/۱۲/۳۱")  # no 31 Esfand
    assert refused.text.startswith("یکی از این روزها در تقویمش وجود ندارد.")
    [photo] = [reply for reply in await owner.say("۱۴۰۵/۸/۲۵ تا ۱۴۰۵/۹/۱") if reply.text]
    assert photo.text.startswith("💰 فروش — بازهٔ دلخواه (۲۵ آبان ۱۴۰۵ تا ۱ آذر ۱۴۰۵)")
    assert "• مبلغ کل: ۷۰۰٬۰۰۰ تومان ▲ ۲۵۰٪" in photo.text


async def test_cancel_a_command_or_another_period_leaves_the_custom_range_prompt(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await a_week_of_sales(sessions)
    owner = chat_with(OWNER, language_code="en")
    await owner.press(CUSTOM_RANGE)
    [cancelled] = await owner.say("/cancel")
    assert [reply.text for reply in await owner.say("/cancel")] != [cancelled.text]  # nothing waits any more
    assert not [reply for reply in await owner.say("2026-11-16 - 2026-11-22") if reply.name == "SendPhoto"]
    await owner.press(CUSTOM_RANGE)
    [picker] = await owner.say("/report")
    assert picker.text == "📊 Reports\nPick the period:"
    assert not [reply for reply in await owner.say("2026-11-16 - 2026-11-22") if reply.name == "SendPhoto"]
    await owner.press(CUSTOM_RANGE)
    await owner.press(LAST_7_DAYS)  # another period picked instead
    assert not [reply for reply in await owner.say("2026-11-16 - 2026-11-22") if reply.name == "SendPhoto"]


async def test_a_range_nobody_could_type_is_answered_as_a_stale_button(chat_with: MakeChat) -> None:
    owner = chat_with(OWNER, language_code="en")
    stale = [reply.text for reply in await owner.press("nothing")]
    for data in ("rpt:sales:r20261122-20261116", "rpt:sales:r20201122-20261116", "rpt:sales:r2026-11-16"):
        assert [reply.text for reply in await owner.press(data)] == stale


@pytest.mark.parametrize("language", ["fa", "en"])
def test_the_members_caption_of_a_big_club_fits_a_photo(language: str) -> None:
    """Every figure in the millions, every tier, gender, age band and way of joining: under Telegram's 1,024
    characters of a caption (UTF-16 code units, as Telegram counts)."""
    big, grown = 1_234_567, Compared(1_234_567, 1_000_000)
    figures = reports.Members(
        joined=big,
        waiting=big,
        new=grown,
        active=grown,
        tiers=dict.fromkeys(("bronze", "silver", "gold", "platinum"), big),
        lapsed=big,
        genders={"female": big, "male": big, None: big},
        ages=[big] * 7,
        average_age=37.45,
        origins=dict.fromkeys(reports.ORIGINS, big),
        stopped=big,
        unreachable=big,
        blocked=big,
    )
    span = Period(date(2026, 10, 23), date(2026, 11, 21))
    with create_i18n(language).context() as i18n, i18n.use_locale(language):
        caption = members_text(figures, AWAY_DAYS, "yesterday", span)
    assert len(caption.encode("utf-16-le")) // 2 < 1024
