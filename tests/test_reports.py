"""The report figures on a small fixed club, checked against hand-computed values on SQLite and PostgreSQL.

The shop is in Tehran (UTC+3:30); the period is the last 7 days up to 22 November 2026 (16–22 Nov), the
previous one 9–15 Nov. A purchase at 23:30 on 15 Nov shop time (20:00 UTC) is the previous period's, one at
00:15 on 16 Nov (20:45 UTC on the 15th) is this period's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import imports, members, reports, walk_ins
from loyalty.audiences import Audience
from loyalty.digest import AWAY_DAYS
from loyalty.periods import Period
from loyalty.reports import Compared, Day, Ranked, Referrals, Vouchers
from loyalty.stamps import Stamp
from loyalty.vouchers import Kind as WorthKind
from loyalty.vouchers import Worth
from storage.models import AuditEntry, Gift, LedgerEntry, Member, Referral, Reward, Voucher
from tests.factories import NOW, RULES, add_members, add_purchases, member_row, new_reward, profile, purchase, referral
from tests.steps import Sessions, buy, new_member, undo

TEHRAN = ZoneInfo("Asia/Tehran")
WEEK = Period(date(2026, 11, 16), date(2026, 11, 22))
SILVER, NEW, WAITING, GOLD = 1, 2, 3, 4


def at(day: int, hour: int, minute: int = 0) -> dict[str, datetime]:
    """A purchase's moment in November 2026, UTC."""
    return {"created_at": datetime(2026, 11, day, hour, minute, tzinfo=UTC)}


async def small_club(session: AsyncSession) -> None:
    """Four members (one waiting) and eight purchases, one of them reversed."""
    await add_members(
        session,
        [
            member_row(SILVER, tier="silver"),
            member_row(NEW, created_at=datetime(2026, 11, 16, 5, tzinfo=UTC)),
            member_row(WAITING, telegram_id=None, joined_at=None, created_at=datetime(2026, 11, 12, tzinfo=UTC)),
            member_row(GOLD, tier="gold"),
        ],
    )
    rows = [
        purchase(1, SILVER, 100_000, 0, **at(5, 10)),  # before both periods: Silver is no new buyer
        purchase(2, SILVER, 200_000, 0, **at(15, 20)),  # 23:30 on 15 Nov in Tehran: the previous period
        purchase(3, NEW, 300_000, 0, **at(15, 20, 45)),  # 00:15 on 16 Nov in Tehran: this period, a first purchase
        purchase(4, SILVER, 400_000, 0, **at(22, 8)),
        purchase(5, NEW, 500_000, 0, **at(21, 10)),
        purchase(6, WAITING, 600_000, 0, **at(10, 10)),  # a waiting member's first purchase, the previous period
        purchase(7, GOLD, 700_000, 0, **at(18, 10), reversed_at=datetime(2026, 11, 18, 11, tzinfo=UTC)),
        purchase(8, GOLD, 50_000, 0, **at(12, 10)),
    ]
    await add_purchases(session, rows)
    await session.commit()


async def test_the_sales_figures_and_the_previous_periods(session: AsyncSession) -> None:
    await small_club(session)
    sales = await reports.sales(session, WEEK, TEHRAN)
    assert sales.purchases == Compared(3, 3)
    assert sales.total == Compared(1_200_000, 850_000)
    assert sales.average.now == 400_000 and round(sales.average.before) == 283_333
    assert sales.buyers.buyers == Compared(2, 3)
    assert sales.buyers.new == Compared(1, 2)
    assert sales.buyers.returning == Compared(1, 1)
    assert sales.per_buyer == Compared(1.5, 1.0)


async def test_each_day_has_its_purchases_by_the_shops_midnight(session: AsyncSession) -> None:
    await small_club(session)
    days = (await reports.sales(session, WEEK, TEHRAN)).days
    expected = {16: (1, 300_000), 21: (1, 500_000), 22: (1, 400_000)}
    assert days == [Day(date(2026, 11, day), *expected.get(day, (0, 0))) for day in range(16, 23)]
    assert all(type(day.total) is int for day in days)  # PostgreSQL sums a BIGINT as NUMERIC: cast back


async def test_in_utc_the_late_purchase_belongs_to_the_day_before(session: AsyncSession) -> None:
    await small_club(session)
    sales = await reports.sales(session, WEEK, ZoneInfo("UTC"))
    assert sales.purchases == Compared(2, 4) and sales.total == Compared(900_000, 1_150_000)


async def test_the_members_figures(session: AsyncSession) -> None:
    await small_club(session)
    figures = await reports.members(session, WEEK, TEHRAN, NOW, AWAY_DAYS)
    assert (figures.joined, figures.waiting) == (3, 1)
    assert figures.new == Compared(1, 1)
    assert figures.active == Compared(2, 3)
    assert figures.tiers == {"silver": 1, "bronze": 2, "gold": 1}


async def test_a_new_buyer_is_one_whose_first_purchase_not_undone_is_in_the_period(sessions: Sessions) -> None:
    """Through the counter: a first purchase undone makes the next one the first, and an undone one counts nowhere."""
    member_id = await new_member(sessions)  # a walk-in: the phone is known, no messenger account yet

    async def figures() -> tuple[Compared, Compared]:
        async with sessions() as session:
            counted = await reports.buyers(session, WEEK, TEHRAN)
        return counted.buyers, counted.new

    assert await figures() == (Compared(0, 0), Compared(0, 0))
    await buy(sessions, member_id, 100_000, receipt="A", at=datetime(2026, 11, 10, 10, tzinfo=UTC))
    await buy(sessions, member_id, 100_000, receipt="B", at=datetime(2026, 11, 18, 10, tzinfo=UTC))
    assert await figures() == (Compared(1, 1), Compared(0, 1))  # new in the previous period, returning in this one
    await undo(sessions, "A")
    assert await figures() == (Compared(1, 0), Compared(1, 0))  # B is now the first purchase
    await buy(sessions, member_id, 100_000, receipt="C", at=datetime(2026, 11, 12, 10, tzinfo=UTC))
    assert await figures() == (Compared(1, 1), Compared(0, 1))  # an earlier purchase recorded later is the first
    await undo(sessions, "C")
    await undo(sessions, "B")
    assert await figures() == (Compared(0, 0), Compared(0, 0))
    await buy(sessions, member_id, 100_000, receipt="D", at=datetime(2026, 11, 20, 10, tzinfo=UTC))
    assert await figures() == (Compared(1, 0), Compared(1, 0))


async def test_an_empty_club_has_zeros(session: AsyncSession) -> None:
    sales = await reports.sales(session, WEEK, TEHRAN)
    assert sales.purchases == Compared(0, 0) and sales.average == Compared(0, 0) and sales.per_buyer == Compared(0, 0)
    assert [day.total for day in sales.days] == [0] * 7
    figures = await reports.members(session, WEEK, TEHRAN, NOW, AWAY_DAYS)
    assert (figures.joined, figures.waiting, figures.tiers) == (0, 0, {})
    assert figures.ages == [0] * 7 and figures.average_age is None and figures.lapsed == 0
    assert figures.genders == {"female": 0, "male": 0, None: 0}
    assert figures.origins == {"invited": 0, "imported": 0, "walk_in": 0, "direct": 0}


def born(year: int, month: int, day: int, **fields: object) -> dict[str, object]:
    """A member's birthday (Gregorian) and other fields, for `member_row`."""
    return {"birthday": date(year, month, day), "birthday_calendar": "gregorian"} | fields


def audited(number: int, member_id: int, action: str) -> dict[str, object]:
    """An audit entry about a member, as a row to insert."""
    return {"id": number, "member_id": member_id, "action": action, "details": "{}", "created_at": NOW}


async def members_club(session: AsyncSession) -> None:
    """Eight members (today is 22 Nov 2026 in Tehran): ages right around birthdays, each way of joining, lapsed
    and active buyers, stopped, unreachable and blocked ones."""
    waiting = {"telegram_id": None, "joined_at": None}
    await add_members(
        session,
        [
            member_row(1, tier="silver", **born(2008, 11, 23, gender="female")),  # 18 tomorrow: 17; invited
            member_row(2, **born(2008, 11, 22, gender="male")),  # 18 today; direct, lapsed
            member_row(3, **born(2001, 11, 23), **waiting),  # 25 tomorrow: 24; imported, waiting
            member_row(4, **born(1991, 11, 22, gender="female")),  # 35; a walk-in who joined since, lapsed
            member_row(5, stopped=True, **born(1971, 6, 1, gender="male")),  # 55; direct
            member_row(6, tier="gold", unreachable=True, blocked=True),  # no birthday, no gender; direct
            member_row(7, created_at=at(20, 10)["created_at"], **born(1982, 1, 1, gender="female"), **waiting),  # 44
            member_row(8, created_at=at(12, 10)["created_at"], **born(1980, 5, 5, gender="male")),  # 46; direct
        ],
    )
    await session.execute(insert(Referral), [referral(1, 2, "joined") | {"friend_member_id": 1, "joined_at": NOW}])
    entries = [
        audited(1, 4, "member.walk_in"),
        audited(2, 3, "member.imported"),
        audited(3, 7, "member.walk_in"),
        audited(4, 8, "purchase.record"),  # a direct member has entries too, none that made them
        audited(5, 4, "purchase.record"),
    ]
    await session.execute(insert(AuditEntry), entries)
    rows = [
        purchase(1, 1, 100_000, 0, **at(17, 10)),  # active
        purchase(2, 2, 100_000, 100),  # lapsed: 100 days ago
        purchase(3, 4, 100_000, 61),  # lapsed: 61 days ago…
        purchase(4, 4, 100_000, 10, reversed_at=NOW),  # …and a reversed purchase since
        purchase(5, 5, 100_000, 59),  # 59 days ago: not lapsed
        purchase(6, 7, 100_000, 0, **at(20, 11)),  # active
    ]
    await add_purchases(session, rows)
    await session.commit()


async def test_the_members_by_gender_age_and_how_they_joined(session: AsyncSession) -> None:
    await members_club(session)
    figures = await reports.members(session, WEEK, TEHRAN, NOW, AWAY_DAYS)
    assert (figures.joined, figures.waiting) == (6, 2)
    assert figures.new == Compared(1, 1) and figures.active == Compared(2, 0)
    assert figures.tiers == {"silver": 1, "bronze": 6, "gold": 1}
    assert figures.lapsed == 2
    win_back = Audience(inactive_days=AWAY_DAYS).conditions(NOW)  # the digest's suggestion, reachability left out
    assert await session.scalar(select(func.count()).select_from(Member).where(*win_back)) == figures.lapsed
    assert figures.genders == {"female": 3, "male": 3, None: 2}
    assert figures.ages == [1, 2, 0, 2, 1, 1, 1]  # under 18, 18–24, 25–34, 35–44, 45–54, 55 and over, not given
    assert figures.average_age == pytest.approx((17 + 18 + 24 + 35 + 44 + 46 + 55) / 7)
    assert figures.origins == {"invited": 1, "imported": 1, "walk_in": 2, "direct": 4}
    assert (figures.stopped, figures.unreachable, figures.blocked) == (1, 1, 1)


async def test_how_members_joined_as_the_clubs_own_steps_record_it(session: AsyncSession) -> None:
    """Two imported customers (one has joined the bot since), a walk-in who bought, one who joined on their own."""
    table = [["phone", "name"], ["09120000001", "Sara"], ["09120000002", "Ali"]]
    await imports.run(session, RULES, imports.check_rows(table, RULES, NOW.date()), "fa", Stamp(1, "import", NOW))
    await members.join(session, "+989120000001", profile("Sara"), RULES, Stamp(41, "join-sara", NOW))
    walk_in = {"language": "fa", "amount": 100_000, "receipt": None, "stamp": Stamp(7, "walk-in", NOW)}
    await walk_ins.record_walk_in(session, RULES, phone="+989120000003", **walk_in)
    await members.join(session, "+989120000004", profile("Reza"), RULES, Stamp(42, "join-reza", NOW))
    figures = await reports.members(session, WEEK, TEHRAN, NOW, AWAY_DAYS)
    assert figures.origins == {"invited": 0, "imported": 2, "walk_in": 1, "direct": 1}
    assert (figures.joined, figures.waiting) == (2, 2)


@pytest.mark.parametrize(("today", "age"), [(date(2026, 2, 28), 17), (date(2026, 3, 1), 18), (date(2028, 2, 29), 20)])
async def test_a_leap_day_birthday_comes_of_age_on_1_march_in_a_common_year(
    session: AsyncSession, today: date, age: int
) -> None:
    await add_members(session, [member_row(1, **born(2008, 2, 29))])
    now = datetime.combine(today, datetime.min.time(), TEHRAN) + timedelta(hours=12)
    figures = await reports.members(session, Period(today, today), TEHRAN, now, AWAY_DAYS)
    assert figures.average_age == age
    assert figures.ages[:2] == ([1, 0] if age < 18 else [0, 1])


def entry(number: int, member_id: int, kind: str, points: int, day: int, hour: int = 10, minute: int = 0) -> dict:
    """A ledger entry in November 2026 (UTC) as a row to insert."""
    row = {"id": number, "member_id": member_id, "kind": kind, "points": points, "reason": kind}
    return row | {"idempotency_key": f"e{number}", **at(day, hour, minute)}


def voucher(number: int, issued: int, expires: datetime, **fields: object) -> dict:
    """A voucher of member Silver issued on `issued` November 2026 as a row to insert; `fields` change it."""
    row = {"id": number, "code": f"V{number}", "member_id": SILVER, "title": "Coffee", "kind": "item"}
    return row | {"status": "active", "issued_at": at(issued, 10)["created_at"], "expires_at": expires} | fields


async def points_club(session: AsyncSession) -> None:
    """The small club with balances, ten ledger entries, six reward vouchers and three gift vouchers."""
    await add_members(
        session, [member_row(SILVER, balance=150), member_row(NEW), member_row(GOLD, balance=300, tier="gold")]
    )
    entries = [
        entry(1, SILVER, "earn", 100, 17),
        entry(2, NEW, "bonus", 50, 15, 20, 45),  # 00:15 on 16 Nov in Tehran: this period
        entry(3, GOLD, "adjust", 30, 18),
        entry(4, GOLD, "adjust", -10, 18),  # a correction down is no point issued
        entry(5, SILVER, "spend", -40, 20),
        entry(6, SILVER, "earn", 200, 10),
        entry(7, GOLD, "expire", -25, 19),
        entry(8, NEW, "spend", -60, 12),
        entry(9, SILVER, "reversal", -20, 21),  # a take-back is none of the three
        entry(10, SILVER, "earn", 999, 5),  # before both periods
    ]
    await session.execute(insert(LedgerEntry), entries)
    reward = await new_reward(session)
    december, used = datetime(2026, 12, 30, tzinfo=UTC), {"status": "used"}
    gift = {"idempotency_key": "g", "title": "Gift", "kind": "item", "audience": "all", "created_at": NOW}
    await session.execute(insert(Gift), [gift | {"id": 1, "expires_at": december}])
    rows = [
        voucher(1, 17, december),
        voucher(2, 10, december, **used, used_at=at(18, 10)["created_at"]),
        voucher(3, 16, december, **used, used_at=at(20, 10)["created_at"]),
        voucher(4, 1, at(19, 10)["created_at"]),  # expired this period
        voucher(5, 12, at(22, 15)["created_at"]),  # expires later today: not yet expired
        voucher(6, 11, december, status="cancelled"),
    ]
    gifts = [
        voucher(7, 16, december, **used, used_at=at(17, 10)["created_at"]),
        voucher(8, 3, at(13, 10)["created_at"], member_id=NEW),  # expired the period before
        voucher(9, 16, december, member_id=GOLD),
    ]
    await session.execute(insert(Voucher), [row | {"reward_id": reward.id} for row in rows])
    await session.execute(insert(Voucher), [row | {"gift_id": 1} for row in gifts])
    await session.commit()


async def test_the_points_and_vouchers_figures(session: AsyncSession) -> None:
    await points_club(session)
    figures = await reports.points(session, WEEK, TEHRAN, NOW)
    assert (figures.issued, figures.spent, figures.expired) == (Compared(180, 200), Compared(40, 60), Compared(25, 0))
    assert figures.outstanding == 450 and figures.worth is None  # the only reward is an item
    assert figures.rewards == Vouchers(issued=Compared(2, 3), used=Compared(2, 0), expired=Compared(1, 0))
    assert figures.rewards.rate == Compared(1.0, 0)
    assert figures.gifts == Vouchers(issued=Compared(2, 0), used=Compared(1, 0), expired=Compared(0, 1))
    assert figures.gifts.rate == Compared(0.5, 0)


async def test_no_points_and_no_vouchers_are_zeros(session: AsyncSession) -> None:
    figures = await reports.points(session, WEEK, TEHRAN, NOW)
    assert (figures.issued, figures.outstanding, figures.gifts.rate) == (Compared(0, 0), 0, Compared(0, 0))
    assert figures.rewards == Vouchers(Compared(0, 0), Compared(0, 0), Compared(0, 0))


def ranked(number: int, value: int) -> Ranked:
    """Member `number` of the fixed club in a top list."""
    row = member_row(number)
    return Ranked(row["code"], row["first_name"], row["phone"], value)


async def test_the_top_customers_by_spend_and_visits_in_the_period(session: AsyncSession) -> None:
    await small_club(session)
    top = await reports.top(session, WEEK, TEHRAN)
    assert top.spend == [ranked(NEW, 800_000), ranked(SILVER, 400_000)]  # Gold's purchase was reversed
    assert top.visits == [ranked(NEW, 2), ranked(SILVER, 1)]
    assert top.points == []  # nobody holds points
    assert (await reports.top(session, WEEK, TEHRAN, size=1)).spend == [ranked(NEW, 800_000)]


async def test_the_top_customers_by_points_held_now(session: AsyncSession) -> None:
    await points_club(session)
    top = await reports.top(session, WEEK, TEHRAN)
    assert top.points == [ranked(GOLD, 300), ranked(SILVER, 150)] and top.spend == []


def invite(number: int, referrer_id: int, opened: int, **fields: object) -> dict:
    """A referral opened on `opened` November 2026, pending unless `fields` say otherwise, as a row to insert."""
    row = referral(number, referrer_id, "pending") | {"opened_at": at(opened, 10)["created_at"]}
    return row | {"referrer_points": 0, "friend_points": 0} | fields


def friend(member_id: int, joined: int, converted: int | None = None, **points: int) -> dict:
    """The fields of a referral whose friend joined (and bought) on those days of November 2026."""
    moments = {"joined_at": at(joined, 11)["created_at"], "status": "rewarded" if converted else "joined"}
    bought = {"converted_at": at(converted, 12)["created_at"]} if converted else {}
    return {"friend_member_id": member_id} | moments | bought | points


async def test_the_referrals_of_the_period(session: AsyncSession) -> None:
    await small_club(session)
    rows = [
        invite(1, SILVER, 17, **friend(NEW, 17, 18, referrer_points=100, friend_points=50)),
        invite(2, SILVER, 16),  # opened, nobody joined yet
        invite(3, GOLD, 10, **friend(WAITING, 10, 19, referrer_points=30, friend_points=20)),  # bought this week
        invite(4, GOLD, 12, status="refused"),
        invite(5, SILVER, 14, **friend(GOLD, 14) | {"status": "refused"}),  # its purchase undone: no first purchase
    ]
    await session.execute(insert(Referral), rows)
    await session.commit()
    figures = await reports.referral_figures(session, WEEK, TEHRAN)
    assert figures == Referrals(
        opened=Compared(2, 3),
        joined=Compared(1, 2),
        bought=Compared(2, 0),
        points=Compared(200, 0),
        inviters=[ranked(SILVER, 1), ranked(GOLD, 1)],
    )


async def test_the_points_held_in_money_at_the_catalogs_average_money_off_per_point(session: AsyncSession) -> None:
    await points_club(session)
    for value, cost in ((50_000, 100), (30_000, 100), (90_000, 10)):  # 500 and 300 a point; the last one archived
        reward = await new_reward(session, worth=Worth(WorthKind.FIXED, value), cost=cost)
    await session.execute(update(Reward).where(Reward.id == reward.id).values(active=False))
    await session.commit()
    assert (await reports.points(session, WEEK, TEHRAN, NOW)).worth == 450 * 400


MONDAY, TUESDAY, WEDNESDAY, THURSDAY, SATURDAY, SUNDAY = 0, 1, 2, 3, 5, 6


async def test_the_busy_hours_are_the_shops_weekdays_and_hours(session: AsyncSession) -> None:
    await small_club(session)
    late = [  # 23:29:59.9, 23:30 and 23:40 shop time belong to their day's hour 23; 00:10 to the next day's hour 0
        purchase(9, SILVER, 10_000, 0, created_at=datetime(2026, 11, 18, 19, 59, 59, 900_000, tzinfo=UTC)),
        purchase(10, SILVER, 10_000, 0, **at(18, 20)),
        purchase(11, NEW, 10_000, 0, **at(17, 20, 10)),
        purchase(12, NEW, 10_000, 0, **at(18, 20, 40)),
        purchase(13, NEW, 10_000, 0, created_at=datetime(2026, 11, 19, 19, 29, 59, 900_000, tzinfo=UTC)),  # 22:59:59.9
    ]
    await add_purchases(session, late)
    await session.commit()
    busy = await reports.hours(session, WEEK, TEHRAN)
    expected = {
        (MONDAY, 0): 1,  # 00:15 on Monday 16 Nov (20:45 UTC on the 15th)
        (TUESDAY, 23): 1,
        (WEDNESDAY, 23): 2,
        (THURSDAY, 0): 1,
        (THURSDAY, 22): 1,
        (SATURDAY, 13): 1,  # 10:00 UTC
        (SUNDAY, 11): 1,  # 08:00 UTC on 22 Nov; 23:30 on Sunday 15 Nov is the previous week's, the reversed is none
    }
    assert {
        (weekday, hour): count for weekday, hours in enumerate(busy.counts) for hour, count in enumerate(hours) if count
    } == expected
    assert (busy.busiest_weekday(), busy.busiest_hour()) == (WEDNESDAY, 23)


async def test_the_busy_hours_follow_the_clocks_going_back(session: AsyncSession) -> None:
    await add_members(session, [member_row(1)])
    moments = [  # Berlin's clocks go back from 03:00 to 02:00 on Sunday 25 Oct 2026, at 01:00 UTC
        datetime(2026, 10, 24, 22, 30, tzinfo=UTC),  # 00:30 CEST
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET, the same hour again
        datetime(2026, 10, 25, 12, 0, tzinfo=UTC),  # 13:00 CET
        datetime(2026, 10, 23, 21, 59, tzinfo=UTC),  # 23:59 CEST on Friday 23 Oct: before the period
    ]
    rows = [purchase(number, 1, 10_000, 0, created_at=moment) for number, moment in enumerate(moments, start=1)]
    await add_purchases(session, rows)
    await session.commit()
    busy = await reports.hours(session, Period(date(2026, 10, 24), date(2026, 10, 26)), ZoneInfo("Europe/Berlin"))
    assert busy.counts[SUNDAY][:3] == [1, 0, 2] and busy.counts[SUNDAY][13] == 1
    assert sum(map(sum, busy.counts)) == 4


async def test_a_period_without_purchases_has_no_busiest_hour(session: AsyncSession) -> None:
    busy = await reports.hours(session, WEEK, TEHRAN)
    assert busy.counts == [[0] * 24] * 7 and busy.busiest_weekday() is None and busy.busiest_hour() is None


async def test_the_busy_hours_skip_the_hour_the_clocks_jump_over(session: AsyncSession) -> None:
    await add_members(session, [member_row(1)])
    moments = [  # Berlin's clocks go forward from 02:00 to 03:00 on Sunday 29 Mar 2026, at 01:00 UTC
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # 01:30 CET
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # 03:00 CEST
        datetime(2026, 3, 29, 1, 59, tzinfo=UTC),  # 03:59 CEST
    ]
    rows = [purchase(number, 1, 10_000, 0, created_at=moment) for number, moment in enumerate(moments, start=1)]
    await add_purchases(session, rows)
    await session.commit()
    busy = await reports.hours(session, Period(date(2026, 3, 29), date(2026, 3, 29)), ZoneInfo("Europe/Berlin"))
    assert busy.counts[SUNDAY][:5] == [0, 1, 0, 2, 0]
