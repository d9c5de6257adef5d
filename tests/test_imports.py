"""Importing existing customers (`loyalty.imports`): rows checked, a dry run, an import that adds nothing the second
time, and an imported customer who joins finding their points; on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import Workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.utils.datetime import CALENDAR_MAC_1904
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from loyalty import imports, members
from loyalty.errors import UnreadableFile
from loyalty.stamps import Stamp
from storage.models import AuditEntry, LedgerEntry, Member, PointLot
from tests.factories import NOW, RULES, profile
from tests.faults import fail_once

TODAY = NOW.date()
OWNER_STAMP = Stamp(1, "import-1", NOW)
PERSIAN_FILE = (
    "\ufeffموبایل;نام;تاریخ تولد;جنسیت;امتیاز;دلیل;سطح\n"
    "۰۹۱۲۱۲۳۴۵۶۷;سارا;۱۳۷۵/۰۶/۳۱;زن;۱۲۰;مشتری قدیمی;silver\n"
    "09351112233;Ali;1990-01-02;male;0;;\n"
    "12;Bad phone;;;;;\n"
    "09121234567;Twice;;;;;\n"
    "09120000001;Future;1499/01/01;;;;\n"
    "09120000002;Points;;;-5;;\n"
    "09120000003;Tier;;;;;platinum\n"
    "09120000004;Gender;;robot;;;\n"
).encode()


def sheet_of(content: bytes) -> imports.Sheet:
    return imports.check_rows(imports.read_table(content), RULES, TODAY)


async def count(session: AsyncSession, model: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def test_rows_are_read_with_persian_headers_digits_and_either_calendar() -> None:
    sheet = sheet_of(PERSIAN_FILE)
    sara, ali = sheet.rows
    assert (sara.line, sara.phone, sara.name, sara.gender, sara.points, sara.reason, sara.tier) == (
        2,
        "+989121234567",
        "سارا",
        "female",
        120,
        "مشتری قدیمی",
        "silver",
    )
    assert (sara.birthday, sara.calendar) == (date(1996, 9, 21), "jalali")
    assert (ali.phone, ali.birthday, ali.calendar, ali.gender, ali.points, ali.reason, ali.tier) == (
        "+989351112233",
        date(1990, 1, 2),
        "gregorian",
        "male",
        0,
        imports.REASON,
        None,
    )


def test_bad_rows_say_why() -> None:
    bad = {row.line: row.problem for row in sheet_of(PERSIAN_FILE).bad}
    assert bad == {
        4: "phone",
        5: "duplicate",
        6: "birthday.future",
        7: "points.too_small",
        8: "tier",
        9: "gender",
    }


def test_a_tier_may_be_named_as_shown_to_members() -> None:
    table = [["phone", "tier"], ["09121234567", "نقره‌ای"], ["09121234568", "Gold"], ["09121234569", "طلا"]]
    sheet = imports.check_rows(table, RULES, TODAY, {"نقره‌ای": "silver"})
    assert [row.tier for row in sheet.rows] == ["silver", "gold"]
    assert [(row.line, row.problem) for row in sheet.bad] == [(4, "tier")]


def test_a_comma_separated_file_in_english_is_read() -> None:
    content = (
        b"Phone,Name,Birthday,Gender,Opening points,Reason,Tier\n+98 912 123 4567,Sara,21/09/1996,F,50,old card,\n"
    )
    [row] = sheet_of(content).rows
    assert (row.phone, row.birthday, row.gender, row.points, row.reason) == (
        "+989121234567",
        date(1996, 9, 21),
        "female",
        50,
        "old card",
    )


def test_an_xlsx_file_is_read() -> None:
    book = Workbook()
    book.active.append(["تلفن", "نام", "birthday", "points"])
    book.active.append([9121234567, "Sara", date(1996, 9, 21), 30])
    data = io.BytesIO()
    book.save(data)
    [row] = sheet_of(data.getvalue()).rows
    assert (row.phone, row.name, row.birthday, row.points) == ("+989121234567", "Sara", date(1996, 9, 21), 30)


def test_an_xlsx_file_keeps_each_cell_in_its_column_with_rich_text_and_the_1904_calendar() -> None:
    book = Workbook()
    book.epoch = CALENDAR_MAC_1904
    book.active.append(["phone", "gender", "name", "birthday", "points"])
    book.active.append(
        ["09121234567", None, CellRichText("Sa", TextBlock(InlineFont(b=True), "ra")), date(1996, 9, 21)]
    )
    book.active.append(["09121234568", "f", None, None, 2.5])
    data = io.BytesIO()
    book.save(data)
    assert imports.read_table(data.getvalue()) == [
        ["phone", "gender", "name", "birthday", "points"],
        ["09121234567", "", "Sara", "1996-09-21", ""],
        ["09121234568", "f", "", "", "2.5"],
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe\x00bad", "format"),
        (b"phone\n", "empty"),
        (b"name,birthday\nSara,1996-09-21\n", "no_phone_column"),
        (b"PK\x03\x04not really a workbook", "format"),
    ],
)
def test_a_file_that_is_not_a_member_list_is_refused_whole(content: bytes, reason: str) -> None:
    with pytest.raises(UnreadableFile) as refused:
        sheet_of(content)
    assert refused.value.reason == reason


async def test_the_dry_run_tells_new_phones_from_members_and_writes_nothing(session: AsyncSession) -> None:
    await members.join(session, "+989351112233", profile(), RULES, Stamp(42, "join", NOW))
    planned = await imports.plan(session, sheet_of(PERSIAN_FILE))
    assert ([row.phone for row in planned.new], planned.already, len(planned.bad)) == (["+989121234567"], 1, 6)
    assert await count(session, Member) == 1


async def test_importing_makes_waiting_members_with_their_points_once(session: AsyncSession) -> None:
    sheet = sheet_of(PERSIAN_FILE)
    first = await imports.run(session, RULES, sheet, "fa", OWNER_STAMP)
    again = await imports.run(session, RULES, sheet_of(PERSIAN_FILE), "fa", Stamp(1, "import-2", NOW))
    assert (first.created, first.skipped, first.points) == (2, 0, 120)
    assert (again.created, again.skipped, again.points) == (0, 2, 0)
    sara = await session.scalar(select(Member).where(Member.phone == "+989121234567"))
    assert (sara.telegram_id, sara.first_name, sara.balance, sara.tier, sara.gender) == (
        None,
        "سارا",
        120,
        "silver",
        "female",
    )
    assert (sara.birthday, sara.birthday_calendar, sara.birthday_md) == (date(1996, 9, 21), "jalali", 631)
    entries = (await session.scalars(select(LedgerEntry))).all()
    assert [(entry.member_id, entry.points, entry.reason) for entry in entries] == [(sara.id, 120, "مشتری قدیمی")]
    [lot] = (await session.scalars(select(PointLot))).all()
    assert (lot.member_id, lot.remaining, lot.expires_at) == (sara.id, 120, NOW + timedelta(days=RULES.expiry_days))
    actions = (await session.scalars(select(AuditEntry.action))).all()
    assert actions == ["member.imported", "member.imported"]
    assert await count(session, Member) == 2


async def test_an_imported_customer_who_joins_with_that_phone_finds_their_points(session: AsyncSession) -> None:
    await imports.run(session, RULES, sheet_of(PERSIAN_FILE), "fa", OWNER_STAMP)
    joined = await members.join(session, "+989121234567", profile("Sara"), RULES, Stamp(42, "join", NOW))
    assert (joined.member.telegram_id, joined.waiting, joined.bonus, joined.member.balance) == (42, 120, 100, 220)
    assert await count(session, Member) == 2


async def test_an_import_that_crashed_halfway_is_finished_by_importing_again_once(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = [["phone", "points"], *([f"0912000{n:04d}", "10"] for n in range(5))]
    monkeypatch.setattr(imports, "BATCH", 2)
    fail_once(monkeypatch, imports.ledger, "post_openings", on_call=2)  # the second batch is rolled back
    with pytest.raises(ConnectionError):
        await imports.run(session, RULES, imports.check_rows(table, RULES, TODAY), "fa", OWNER_STAMP)
    assert await count(session, Member) == 2
    again = await imports.run(session, RULES, imports.check_rows(table, RULES, TODAY), "fa", OWNER_STAMP)
    assert (again.created, again.skipped, again.points) == (3, 2, 30)
    assert await count(session, LedgerEntry) == 5
    assert await session.scalar(select(func.sum(Member.balance))) == 50


async def test_a_phone_that_joined_while_its_batch_was_written_is_skipped(
    session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    await members.waiting_member(session, "+989121234567", "fa", Stamp(7, "walk-in", NOW))
    real, calls = imports._phones_in_club, []

    async def late(session: AsyncSession, phones: object) -> set[str]:  # the walk-in lands after the phones are read
        calls.append(1)
        return set() if len(calls) == 1 else await real(session, phones)

    monkeypatch.setattr(imports, "_phones_in_club", late)
    done = await imports.run(session, RULES, sheet_of(PERSIAN_FILE), "fa", OWNER_STAMP)
    assert (done.created, done.skipped, done.points) == (1, 1, 0)
    assert await count(session, Member) == 2 and await count(session, LedgerEntry) == 0


async def statements_importing(engine: AsyncEngine, session: AsyncSession, customers: int) -> list[str]:
    """The statements one batch of `customers` new phones, each with opening points, takes to import."""
    table = [["phone", "points"], *([f"0912000{n:04d}", "10"] for n in range(customers))]
    sheet = imports.check_rows(table, RULES, TODAY)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        done = await imports.run(session, RULES, sheet, "fa", OWNER_STAMP)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    assert done.created == customers
    return statements


@pytest.mark.parametrize("customers", [3, 40])
async def test_a_batch_is_a_few_statements_however_many_members_it_makes(
    engine: AsyncEngine, session: AsyncSession, customers: int
) -> None:
    """The budget of an import (bench/import.py): a batch's members, audit entries, ledger entries, lots and
    balances are each written by one statement (with the phones and codes read), not one per member."""
    statements = await statements_importing(engine, session, customers)
    assert len(statements) <= 12, statements
    assert await count(session, AuditEntry) == customers
    assert await session.scalar(select(func.sum(Member.balance))) == 10 * customers
