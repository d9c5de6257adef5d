"""/export through the real dispatcher: a manager picks a table and a format and gets the file, which reads back to the
club's rows (Persian names, Jalali dates, the ISO column); a cashier may not; an empty table gets a sentence."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.staff.exports import routes
from loyalty.staff import Role
from tests.chat import Chat, Reply
from tests.factories import add_members, add_purchases, member_row, purchase
from tests.people import CASHIER, MANAGER, NEEDS_MANAGER, customer, hire

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
BOM = b"\xef\xbb\xbf"


async def seeded(sessions: Sessions) -> None:
    """Three members (one a walk-in waiting to start the bot) joined 2026-10-23 09:00 UTC (1405/08/01 12:30 Tehran)."""
    rows = [
        member_row(1, first_name="سارا", birthday=date(1996, 9, 21), gender="female", balance=120),
        member_row(2, first_name="Reza", telegram_id=None),
        member_row(3, first_name="نیما رضایی", language="en"),
    ]
    async with sessions() as session:
        await add_members(session, rows)


async def export(chat: Chat, table: str, form: str) -> list[Reply]:
    """/export, then the table's button and the format's, pressed as the bot drew them: the last replies."""
    [question] = await chat.say("/export")
    [table_button] = [data for data in question.callback_data() if data.split(":")[1] == table]
    [formats] = [reply for reply in await chat.press(table_button) if reply.markup is not None]
    [form_button] = [data for data in formats.callback_data() if data.endswith(":" + form)]
    return await chat.press(form_button)


def document(replies: list[Reply]) -> Reply:
    [sent] = [reply for reply in replies if reply.name == "SendDocument"]
    return sent


async def test_a_manager_exports_the_members_as_csv_in_persian(chat_with: MakeChat, sessions: Sessions) -> None:
    await seeded(sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    sent = document(await export(chat_with(MANAGER, language_code="fa"), "members", "csv"))
    assert sent.upload.startswith(BOM)
    assert sent.method.document.filename == "members-2026-11-22.csv"
    assert sent.text == "📄 اعضا: ۳ ردیف."
    header, *rows = list(csv.reader(io.StringIO(sent.upload.decode("utf-8-sig"))))
    assert header[:4] == ["ردیف", "کد عضویت", "نام", "تلفن"]
    assert header[9:11] == ["تاریخ عضویت", "تاریخ عضویت (به وقت UTC)"]
    assert [row[2] for row in rows] == ["سارا", "Reza", "نیما رضایی"]
    sara = dict(zip(header, rows[0], strict=True))
    assert sara["کد عضویت"] == "00000001" and sara["تلفن"] == "+989120000001" and sara["امتیاز"] == "120"
    assert sara["تاریخ تولد"] == "1375/06/31" and sara["تاریخ عضویت"] == "1405/08/01 12:30"
    assert sara["تاریخ عضویت (به وقت UTC)"] == "2026-10-23T09:00:00Z"
    assert [row[11] for row in rows] == ["خیر", "بله", "خیر"]  # waiting to start the bot: the walk-in


async def test_the_members_as_xlsx_in_english_read_back_with_openpyxl(chat_with: MakeChat, sessions: Sessions) -> None:
    await seeded(sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    sent = document(await export(chat_with(MANAGER, language_code="en"), "members", "xlsx"))
    book = openpyxl.load_workbook(io.BytesIO(sent.upload), read_only=True)
    header, *rows = list(book.active.iter_rows(values_only=True))
    assert header[:3] == ("Row", "Member code", "Name") and header[9:11] == ("Joined", "Joined (UTC, ISO 8601)")
    assert [row[2] for row in rows] == ["سارا", "Reza", "نیما رضایی"]
    assert rows[0][5] == "1996-09-21" and rows[0][7] == 120 and rows[0][9] == "2026-10-23 12:30"


async def test_stored_words_are_named_in_the_readers_language(chat_with: MakeChat, sessions: Sessions) -> None:
    """Gender, tier, language and payment method come as words a shop owner reads, not as the stored codes."""
    await seeded(sessions)
    async with sessions() as session:
        await add_purchases(session, [purchase(1, 1, 2_500_000, 1, payment="card")])
        await session.commit()
    await hire(sessions, MANAGER, Role.MANAGER)
    chat = chat_with(MANAGER, language_code="fa")
    header, *rows = list(
        csv.reader(io.StringIO(document(await export(chat, "members", "csv")).upload.decode("utf-8-sig")))
    )
    sara, nima = dict(zip(header, rows[0], strict=True)), dict(zip(header, rows[2], strict=True))
    assert (sara["جنسیت"], sara["سطح"], sara["زبان"]) == ("زن", "برنزی", "فارسی")
    assert (nima["جنسیت"], nima["زبان"]) == ("", "English")
    header, *rows = list(
        csv.reader(io.StringIO(document(await export(chat, "purchases", "csv")).upload.decode("utf-8-sig")))
    )
    assert dict(zip(header, rows[0], strict=True))["پرداخت"] == "💳 کارت"


async def test_purchases_name_the_unit_and_keep_amounts_as_integers(chat_with: MakeChat, sessions: Sessions) -> None:
    await seeded(sessions)
    async with sessions() as session:
        await add_purchases(session, [purchase(1, 1, 2_500_000, 1, receipt="F-1"), purchase(2, 3, 90_000, 0)])
        await session.commit()
    await hire(sessions, MANAGER, Role.MANAGER)
    sent = document(await export(chat_with(MANAGER, language_code="en"), "purchases", "csv"))
    header, *rows = list(csv.reader(io.StringIO(sent.upload.decode("utf-8-sig"))))
    assert header[:4] == ["Row", "Member code", "Amount (toman)", "Points"]
    assert [row[:3] for row in rows] == [["1", "00000001", "2500000"], ["2", "00000003", "90000"]]


async def test_an_empty_table_gets_a_sentence_not_a_file(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, MANAGER, Role.MANAGER)
    replies = await export(chat_with(MANAGER, language_code="en"), "vouchers", "xlsx")
    assert [reply.name for reply in replies] == ["AnswerCallbackQuery", "EditMessageText"]
    assert replies[1].text == "There is nothing to export yet: the club has no Vouchers."


async def test_a_large_table_shows_its_progress(
    chat_with: MakeChat, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "LARGE", 2)
    monkeypatch.setattr(routes, "CHECK_EVERY", 1)
    monkeypatch.setattr(routes, "PROGRESS_SECONDS", 0.0)
    await seeded(sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    replies = await export(chat_with(MANAGER, language_code="en"), "members", "csv")
    edits = [reply.text for reply in replies if reply.name == "EditMessageText"]
    assert edits[0] == "⏳ Writing the file of Members (3 rows)…"
    assert "⏳ Writing the file: 3 of 3 rows…" in edits
    assert replies[0].name == "AnswerCallbackQuery" and replies[-1].name == "SendDocument"


async def test_a_long_table_comes_in_parts_each_with_its_header(
    chat_with: MakeChat, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "PART_ROWS", 2)
    await seeded(sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    replies = await export(chat_with(MANAGER, language_code="en"), "members", "xlsx")
    sent = [reply for reply in replies if reply.name == "SendDocument"]
    assert [reply.method.document.filename for reply in sent] == [
        "members-2026-11-22-1.xlsx",
        "members-2026-11-22-2.xlsx",
    ]
    assert [reply.text for reply in sent] == ["📄 Members: 3 rows. Part 1 of 2.", "📄 Members: 3 rows. Part 2 of 2."]
    names = []
    for reply in sent:
        header, *rows = list(
            openpyxl.load_workbook(io.BytesIO(reply.upload), read_only=True).active.iter_rows(values_only=True)
        )
        assert header[:3] == ("Row", "Member code", "Name")
        names.append([row[2] for row in rows])
    assert names == [["سارا", "Reza"], ["نیما رضایی"]]


async def test_a_file_larger_than_the_messenger_takes_is_not_sent(
    chat_with: MakeChat, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "MAX_BYTES", 100)
    await seeded(sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    replies = await export(chat_with(MANAGER, language_code="en"), "members", "csv")
    assert "SendDocument" not in [reply.name for reply in replies]
    assert replies[-1].text.startswith("The file came to 1 MB, more than the ")  # the limit patched to 100 bytes


async def test_a_cashier_is_told_a_manager_is_needed(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    chat, _ = await customer(chat_with, sessions, CASHIER, "09121112233")
    assert [reply.text for reply in await chat.say("/export")] == [NEEDS_MANAGER.format(command="/export")]
    assert [reply.name for reply in await chat.press("exp:members:csv")] == ["AnswerCallbackQuery"]
