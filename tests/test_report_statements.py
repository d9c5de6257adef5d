"""What the reports ask the database: no DISTINCT for the buyers and no GROUP BY for the split by payment method over
a period's purchases, and no sort of the whole club for the Members report — each sort costs about 0.4–1.5 s at a
million members on SQLite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loyalty import payments, reports
from loyalty.periods import Period
from tests.factories import NOW
from tests.steps import Sessions

WEEK = Period(date(2026, 11, 16), date(2026, 11, 22))
TEHRAN = ZoneInfo("Asia/Tehran")


Report = Callable[[AsyncSession], Awaitable[object]]


async def sent(engine: AsyncEngine, sessions: Sessions, report: Report) -> str:
    """The statements `report` sends, upper-cased, one after the other."""
    return "\n".join(statement.upper() for statement, _ in await statements_of(engine, sessions, report))


async def statements_of(engine: AsyncEngine, sessions: Sessions, report: Report) -> list[tuple[str, Any]]:
    """The statements `report` sends and their parameters."""
    statements: list[tuple[str, Any]] = []

    def seen(connection: object, cursor: object, statement: str, parameters: Any, *rest: object) -> None:
        statements.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with sessions() as session:
            await report(session)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert statements
    return statements


async def test_the_buyers_are_counted_without_distinct(engine: AsyncEngine, sessions: Sessions) -> None:
    assert "DISTINCT" not in await sent(engine, sessions, lambda session: reports.buyers(session, WEEK, TEHRAN))


async def test_the_split_by_method_groups_nothing(engine: AsyncEngine, sessions: Sessions) -> None:
    assert "GROUP BY" not in await sent(engine, sessions, lambda session: payments.split(session, WEEK, TEHRAN))


async def test_the_members_report_sorts_no_member(engine: AsyncEngine, sessions: Sessions) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plans name the sorts")
    report = await statements_of(engine, sessions, lambda session: reports.members(session, WEEK, TEHRAN, NOW, 60))
    async with engine.connect() as connection:
        for statement, parameters in report:
            plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            steps = [str(step[-1]) for step in plan]
            assert not any("TEMP B-TREE" in step for step in steps if "MEMBERS" in statement.upper()), (
                statement,
                steps,
            )
