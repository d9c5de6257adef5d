"""Audiences: every filter picks the right members of a small club, in the database, on SQLite and PostgreSQL;
members who cannot or do not want to be reached are never in; the count is the number of members returned."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audiences
from loyalty.audiences import Audience, InvalidAudience, month_days
from storage import repositories
from storage.models import Referral
from tests.factories import FIRST_CHAT, NOW, add_members, add_purchases, member_row, purchase, referral

DAY = timedelta(days=1)
SARA, ALI, MINA, REZA = 1, 2, 3, 4


SARA_LIKE = {"first_name": "Sara", "gender": "female", "birthday": date(1990, 9, 22), "tier": "silver", "balance": 500}


@pytest.fixture
async def club(session: AsyncSession) -> AsyncSession:
    """Four members who can be reached, and five copies of Sara who cannot (stopped, unreachable, no consent, not
    on the bot, blocked by staff), with purchases and referrals."""
    await add_members(
        session,
        [
            member_row(SARA, **SARA_LIKE, joined_at=datetime(2026, 1, 10, tzinfo=NOW.tzinfo)),
            member_row(
                ALI, first_name="ALI", gender="male", birthday=date(2005, 3, 1), balance=50, joined_at=NOW - 174 * DAY
            ),
            member_row(MINA, first_name="مینا", gender="female", tier="gold", balance=2_000, joined_at=NOW - 700 * DAY),
            member_row(REZA, first_name="Reza", gender="male", birthday=date(1970, 12, 25), joined_at=NOW - 21 * DAY),
            member_row(5, **SARA_LIKE, stopped=True),
            member_row(6, **SARA_LIKE, unreachable=True),
            member_row(7, **SARA_LIKE, news_consent=False),
            member_row(8, **SARA_LIKE, telegram_id=None),
            member_row(9, **SARA_LIKE, blocked=True),
        ],
    )
    await add_purchases(
        session,
        [
            purchase(1, SARA, 5_000_000, 21, "coffee"),
            purchase(2, SARA, 20_000_000, 2, "cake", reversed_at=NOW - DAY),  # reversed: counts for nothing
            purchase(3, ALI, 1_000_000, 205, "cake"),
            purchase(5, ALI, 1_000, 205, "کیک"),  # as the counter stores a Persian category: its key
            purchase(4, MINA, 30_000_000, 2, "coffee"),
            *(purchase(10 + number, number, 9_000_000, 1, "coffee") for number in range(5, 10)),
        ],
    )
    await session.execute(
        insert(Referral),
        [
            referral(1, REZA, "joined"),
            referral(2, REZA, "rewarded"),
            referral(3, REZA, "pending"),
            referral(4, SARA, "joined"),
            referral(5, SARA, "refused"),
            *(referral(10 + number, number, "rewarded") for number in range(5, 10)),
            *(referral(20 + number, number, "joined") for number in range(5, 10)),
        ],
    )
    await session.commit()
    return session


FILTERS: list[tuple[dict[str, Any], list[int]]] = [
    ({}, [SARA, ALI, MINA, REZA]),
    ({"tiers": ("silver", "gold")}, [SARA, MINA]),
    ({"gender": "female"}, [SARA, MINA]),
    ({"age_min": 30, "age_max": 40}, [SARA]),
    ({"age_min": 50}, [REZA]),
    ({"age_max": 21}, [ALI]),
    ({"birthday_month": 6}, [SARA]),  # Shahrivar: 31 Shahrivar is 22 September
    ({"birthday_month": 10}, [REZA]),  # Dey spans the new year: 22 December to 20 January
    ({"birthday_month": 12}, [ALI]),  # Esfand
    ({"birthday_month": 9, "birthday_calendar": "gregorian"}, [SARA]),
    ({"name_contains": "ali"}, [ALI]),
    ({"name_contains": "مین"}, [MINA]),
    ({"name_contains": "%"}, []),
    ({"joined_after": datetime(2026, 1, 1, tzinfo=NOW.tzinfo), "joined_before": NOW - 30 * DAY}, [SARA, ALI]),
    ({"points_min": 100, "points_max": 1_000}, [SARA]),
    ({"points_max": 0}, [REZA]),
    ({"inactive_days": 90}, [ALI]),
    ({"inactive_days": 10}, [SARA, ALI]),
    ({"spent_at_least": 10_000_000}, [MINA]),
    ({"spent_at_least": 1_000_000}, [SARA, ALI, MINA]),
    ({"bought_category": "coffee"}, [SARA, MINA]),
    ({"bought_category": " Coffee "}, [SARA, MINA]),  # typed as staff like: counters store categories in lowercase
    ({"bought_category": "cake"}, [ALI]),
    ({"bought_category": "كيك"}, [ALI]),  # Arabic letters: the Persian category کیک
    ({"never_bought_category": "ک\u200cیک"}, [SARA, MINA, REZA]),
    ({"never_bought_category": "coffee"}, [ALI, REZA]),
    ({"referred_at_least": 2}, [REZA]),
    ({"referred_at_least": 1}, [SARA, REZA]),
    ({"gender": "female", "tiers": ("gold",), "bought_category": "coffee"}, [MINA]),
]


@pytest.mark.parametrize(("filters", "expected"), FILTERS, ids=[str(filters) for filters, _ in FILTERS])
async def test_each_filter_picks_its_members_and_counts_them(
    club: AsyncSession, filters: dict[str, Any], expected: list[int]
) -> None:
    audience = Audience.build(**filters)
    assert await audiences.member_ids(club, audience, NOW) == expected
    assert await audiences.count(club, audience, NOW) == len(expected)


async def test_members_who_cannot_be_reached_are_never_in(club: AsyncSession) -> None:
    everyone = await audiences.member_ids(club, Audience(), NOW)
    assert set(everyone).isdisjoint({5, 6, 7, 8, 9})
    sara_alike = Audience.build(gender="female", tiers=("silver",), bought_category="coffee", referred_at_least=1)
    assert await audiences.member_ids(club, sara_alike, NOW) == [SARA]


async def test_a_member_who_becomes_unreachable_leaves_the_audience(club: AsyncSession) -> None:
    await repositories.mark_unreachable(club, [SARA], NOW)
    await club.commit()
    assert await audiences.member_ids(club, Audience(), NOW) == [ALI, MINA, REZA]
    assert await repositories.mark_reachable(club, FIRST_CHAT + SARA)
    await club.commit()
    assert await audiences.count(club, Audience(), NOW) == 4


def test_an_audience_is_stored_as_json_and_read_back_the_same() -> None:
    audience = Audience.build(tiers=["gold"], age_min=18, joined_after=NOW, name_contains="سارا", inactive_days=60)
    assert Audience.from_json(audience.to_json()) == audience
    assert '"tiers":["gold"]' in audience.to_json() and "points_min" not in audience.to_json()


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"age_min": 40, "age_max": 30}, "value", "value_error"),
        ({"gender": "other"}, "gender", "literal_error"),
        ({"birthday_month": 13}, "birthday_month", "less_than_equal"),
        ({"joined_after": datetime(2026, 1, 1)}, "joined_after", "timezone_aware"),
        ({"colour": "red"}, "colour", "extra_forbidden"),
        ({"inactive_days": 0}, "inactive_days", "greater_than_equal"),
        ({"name_contains": "  "}, "name_contains", "string_too_short"),
    ],
)
def test_a_wrong_audience_is_refused_naming_the_field(fields: dict[str, Any], field: str, reason: str) -> None:
    with pytest.raises(InvalidAudience) as refused:
        Audience.build(**fields)
    assert (refused.value.field, refused.value.reason) == (field, reason)


def test_jalali_months_in_gregorian_days() -> None:
    today = date(2026, 11, 22)  # 1 Azar 1405
    assert month_days(9, "jalali", today) == (1122, 1221)  # Azar, this year
    assert month_days(1, "jalali", today) == (321, 420)  # Farvardin 1406
    assert month_days(10, "jalali", today) == (1222, 120)  # Dey wraps the year
    assert month_days(2, "gregorian", today) == (201, 231)
