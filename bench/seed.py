"""Fill a migrated database with many members and their ledger quickly (bulk inserts, no ORM objects)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine
from stdnum import luhn

from storage.models import LedgerEntry, Member, PointLot

CHUNK = 10_000
FIRST_TELEGRAM_ID = 10_000_000


def member_code(number: int) -> str:
    """A valid, unique member code for member `number`."""
    body = f"{number:07d}"
    return body + luhn.calc_check_digit(body)


def _member_rows(first: int, last: int, now: datetime, points: int) -> list[dict[str, object]]:
    return [
        {
            "id": number,
            "telegram_id": FIRST_TELEGRAM_ID + number,
            "phone": f"+98912{number:07d}",
            "code": member_code(number),
            "first_name": f"Member {number}",
            "language": "fa" if number % 3 else "en",
            "news_consent": number % 2 == 0,
            "stopped": False,
            "balance": points,
            "tier": "bronze",
            "joined_at": now - timedelta(days=number % 700),
            "created_at": now - timedelta(days=number % 700),
        }
        for number in range(first, last)
    ]


def _entry_rows(first: int, last: int, per_member: int, now: datetime, points: int) -> Iterator[dict[str, object]]:
    for number in range(first, last):
        for index in range(per_member):
            yield {
                "id": number * per_member + index,
                "member_id": number,
                "kind": "bonus" if index == 0 else "earn",
                "points": points,
                "reason": "welcome" if index == 0 else "purchase",
                "idempotency_key": f"seed:{number}:{index}",
                "created_at": now - timedelta(days=(number + index) % 360),
            }


async def seed(engine: AsyncEngine, members: int, entries_per_member: int, now: datetime, points: int = 10) -> None:
    """Insert `members` members (ids 1…members), each with `entries_per_member` credits and their open lots."""
    for first in range(1, members + 1, CHUNK):
        last = min(first + CHUNK, members + 1)
        entries = list(_entry_rows(first, last, entries_per_member, now, points))
        lots = [
            {
                "id": entry["id"],
                "member_id": entry["member_id"],
                "entry_id": entry["id"],
                "points": points,
                "remaining": points,
                "expires_at": entry["created_at"] + timedelta(days=365),  # type: ignore[operator]
            }
            for entry in entries
        ]
        async with engine.begin() as connection:
            await connection.execute(insert(Member), _member_rows(first, last, now, points * entries_per_member))
            await connection.execute(insert(LedgerEntry), entries)
            await connection.execute(insert(PointLot), lots)
    if engine.dialect.name == "postgresql":  # ids were given explicitly: move the sequences past them
        async with engine.begin() as connection:
            for table in ("members", "ledger_entries", "point_lots"):
                await connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}")
                )
