"""The export's rows (loyalty.exports): every row once, in id order, read a batch at a time after the last id seen."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import exports
from tests.factories import DAY, NOW, add_members, add_purchases, member_row, purchase


async def every_row(session: AsyncSession, export: exports.Export, batch: int) -> list[tuple[Any, ...]]:
    through = (await exports.extent(session, export)).last_id
    return [row async for row in exports.rows(session, export, through, batch=batch)]


async def test_members_come_in_id_order_whatever_the_batch(session: AsyncSession) -> None:
    await add_members(session, [member_row(number) for number in (5, 1, 9, 3, 7, 2)])
    for batch in (1, 2, 4, 6, 100):
        found = await every_row(session, exports.MEMBERS, batch)
        assert [row[0] for row in found] == [1, 2, 3, 5, 7, 9]


async def test_a_member_row_holds_its_columns(session: AsyncSession) -> None:
    await add_members(session, [member_row(1, first_name="سارا", telegram_id=None, balance=250)])
    [row] = await every_row(session, exports.MEMBERS, 10)
    values = dict(zip((column.key for column in exports.MEMBERS.columns), row, strict=True))
    assert values["code"] == "00000001" and values["name"] == "سارا" and values["phone"] == "+989120000001"
    assert values["balance"] == 250 and values["waiting"] is True and values["joined"].tzinfo is not None


async def test_rows_are_read_a_batch_at_a_time(session: AsyncSession) -> None:
    await add_members(session, [member_row(number) for number in range(1, 11)])
    through = (await exports.extent(session, exports.MEMBERS)).last_id
    statements: list[str] = []
    sync_engine = session.bind.sync_engine  # type: ignore[union-attr]

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(sync_engine, "before_cursor_execute", seen)
    try:
        found = [row async for row in exports.rows(session, exports.MEMBERS, through, batch=4)]
    finally:
        event.remove(sync_engine, "before_cursor_execute", seen)
    assert len(found) == 10
    assert len(statements) == 3  # 4 + 4 + 2: the short batch is the last
    assert all("LIMIT" in statement.upper() for statement in statements)


async def test_purchases_carry_the_member_code_and_amount(session: AsyncSession) -> None:
    await add_members(session, [member_row(1), member_row(2)])
    rows = [purchase(3, 2, 70_000, 1), purchase(1, 1, 125_000, 2, payment="card"), purchase(2, 1, 5_000, 0)]
    await add_purchases(session, rows)
    await session.commit()
    found = await every_row(session, exports.PURCHASES, 2)
    assert [(row[0], row[1], row[2]) for row in found] == [
        (1, "00000001", 125_000),
        (2, "00000001", 5_000),
        (3, "00000002", 70_000),
    ]
    assert (found[0][6], found[1][6]) == ("card", None)  # how it was paid, or not said
    assert found[0][7] == NOW - 2 * DAY
    assert await exports.extent(session, exports.PURCHASES) == exports.Extent(rows=3, last_id=3)


async def test_an_empty_club_has_no_rows(session: AsyncSession) -> None:
    for export in exports.EXPORTS.values():
        assert await every_row(session, export, 3) == []
        assert await exports.extent(session, export) == exports.Extent(rows=0, last_id=0)


async def test_rows_added_after_the_start_are_left_out(session: AsyncSession) -> None:
    await add_members(session, [member_row(number) for number in (1, 2, 3)])
    extent = await exports.extent(session, exports.MEMBERS)
    await add_members(session, [member_row(4)])
    found = [row async for row in exports.rows(session, exports.MEMBERS, extent.last_id, batch=2)]
    assert extent == exports.Extent(rows=3, last_id=3) and [row[0] for row in found] == [1, 2, 3]
