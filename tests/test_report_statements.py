"""What the reports ask the database over a period's purchases: no DISTINCT for the buyers, no GROUP BY for the split
by payment method — each sorts the period's purchases (about 1.5 s a month at a million members on SQLite)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loyalty import payments, reports
from loyalty.periods import Period
from tests.steps import Sessions

WEEK = Period(date(2026, 11, 16), date(2026, 11, 22))
TEHRAN = ZoneInfo("Asia/Tehran")


async def sent(engine: AsyncEngine, sessions: Sessions, report: Callable[[AsyncSession], Awaitable[object]]) -> str:
    """The statements `report` sends, upper-cased, one after the other."""
    statements: list[str] = []

    def seen(connection: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement.upper())

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with sessions() as session:
            await report(session)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert statements
    return "\n".join(statements)


async def test_the_buyers_are_counted_without_distinct(engine: AsyncEngine, sessions: Sessions) -> None:
    assert "DISTINCT" not in await sent(engine, sessions, lambda session: reports.buyers(session, WEEK, TEHRAN))


async def test_the_split_by_method_groups_nothing(engine: AsyncEngine, sessions: Sessions) -> None:
    assert "GROUP BY" not in await sent(engine, sessions, lambda session: payments.split(session, WEEK, TEHRAN))
