"""/import through the real dispatcher: the owner sends a member list, sees the dry run and its bad rows as a file,
imports on confirm once however often the button is pressed; nobody imported is messaged; only owners import."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from aiogram.methods import SendDocument
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import LedgerEntry, Member
from tests.chat import Chat, Delivered, texts
from tests.lookups import count
from tests.people import CUSTOMER, NEEDS_OWNER, manager_chat, owner_chat

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
LIST = (
    b"phone,name,birthday,gender,points,reason,tier\n"
    b"09121234567,Sara,1375/06/31,female,120,old card,silver\n"
    b"09351112233,Ali,1990-01-02,male,,,\n"
    b"12,Nobody,,,,,\n"
    b"09121234568,Reza,1996-09-21,robot,,,\n"
)


def bad_rows(replies: list) -> list[list[str]]:
    """The rows of the bad-rows file the bot sent among `replies`."""
    [sent] = [reply.method for reply in replies if isinstance(reply.method, SendDocument)]
    data = sent.document.data  # a BufferedInputFile
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


async def test_the_owner_imports_a_list_once_and_gets_its_bad_rows_back(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    owner = owner_chat(chat_with)
    [ask] = await owner.say("/import")
    assert "phone,name,birthday,gender,points,reason,tier" in ask.text
    replies = await owner.document("customers.csv", LIST)
    summary = replies[0]
    assert "new customers to import: 2" in summary.text and "rows with a problem (skipped): 2" in summary.text
    assert "Row 4: the phone number is not valid" in summary.text
    assert "Row 5: the gender is neither female nor male" in summary.text
    assert summary.buttons() == ["✅ Import 2 customers", "✖️ Cancel"]
    assert bad_rows(replies) == [
        ["row", "phone", "name", "birthday", "gender", "points", "reason", "tier", "problem"],
        ["4", "12", "Nobody", "", "", "", "", "", "the phone number is not valid"],
        ["5", "09121234568", "Reza", "1996-09-21", "robot", "", "", "", "the gender is neither female nor male"],
    ]
    assert await count(sessions, Member) == 0
    done = texts(await owner.press(summary.callback_data()[0]))
    assert any("Imported 2 customers with 120 opening points in all. Skipped as already members: 0." in t for t in done)
    again = texts(await owner.press(summary.callback_data()[0]))
    assert again == ["This button is no longer active. Please use the menu."]
    assert await count(sessions, Member) == 2 and await count(sessions, LedgerEntry) == 1
    assert await delivered() == []  # nobody imported is messaged

    await owner.say("/import")
    [summary] = await owner.document("customers.csv", LIST[: LIST.index(b"12,")])
    assert "new customers to import: 0" in summary.text and "already members (skipped): 2" in summary.text
    assert summary.buttons() == []


async def test_an_imported_customer_who_joins_finds_their_points(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    await owner.say("/import")
    [summary, _file] = await owner.document("customers.csv", LIST)
    await owner.press(summary.callback_data()[0])
    sara = chat_with(CUSTOMER, first_name="Sara", language_code="en")
    await sara.join("09121234567")
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.phone == "+989121234567"))
    assert member.telegram_id == CUSTOMER and member.balance == 120 + 100  # the opening points and the welcome bonus


async def test_the_buttons_of_an_earlier_list_import_nothing(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    await owner.say("/import")
    [first, _file] = await owner.document("customers.csv", LIST)
    await owner.say("/import")
    [second] = await owner.document("customers.csv", LIST[: LIST.index(b"09351112233")])
    assert texts(await owner.press(first.callback_data()[0])) == [
        "This button is no longer active. Please use the menu."
    ]
    assert await count(sessions, Member) == 0
    assert any("Imported 1 customer with" in text for text in texts(await owner.press(second.callback_data()[0])))


async def test_cancel_imports_nothing(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    await owner.say("/import")
    [summary, _file] = await owner.document("customers.csv", LIST)
    assert "Import cancelled; nothing has changed." in texts(await owner.press(summary.callback_data()[1]))
    assert await count(sessions, Member) == 0


async def test_a_wrong_file_gets_a_polite_answer(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with, "fa")
    await owner.say("/import")
    [photo] = await owner.document("cat.jpg", b"\xff\xd8\xff")
    assert photo.text == "این فایل قابل افزودن نیست: یک فایل CSV یا XLSX تا ۱۰ مگابایت بفرستید."
    [huge] = await owner.document("customers.csv", LIST, size=50 * 1024 * 1024)
    assert huge.text == photo.text
    [columns] = await owner.document("customers.csv", b"name\nSara\n")
    assert "هیچ ستونی عنوان «تلفن»" in columns.text
    [binary] = await owner.document("customers.xlsx", b"PK\x03\x04broken")
    assert "فایل اکسل (XLSX) نیست" in binary.text
    [text] = await owner.say("hello")
    assert text.text.startswith("منتظر فهرست مشتریان")
    assert await count(sessions, Member) == 0


async def test_only_owners_import(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions, "fa")
    [refused] = await manager.say("/import")
    assert refused.text == NEEDS_OWNER.format(command="/import")
    assert await manager.document("customers.csv", LIST) == [] or await count(sessions, Member) == 0


async def test_a_persian_list_with_the_tier_named_as_members_see_it(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with, "fa")
    await owner.say("/import")
    persian = "\ufeffموبایل;نام;سطح;امتیاز\n۰۹۱۲۱۲۳۴۵۶۷;سارا;نقره‌ای;۱۲۰\n".encode()
    [summary] = await owner.document("مشتریان.csv", persian)
    assert "مشتریان تازه برای افزودن: ۱" in summary.text and summary.buttons()[0] == "✅ افزودن ۱ مشتری"
    done = texts(await owner.press(summary.callback_data()[0]))
    assert any(text.startswith("✅ ۱ مشتری با روی‌هم ۱۲۰ امتیاز اولیه افزوده شدند.") for text in done)
    async with sessions() as session:
        sara = await session.scalar(select(Member))
    assert (sara.phone, sara.first_name, sara.tier, sara.balance, sara.language) == (
        "+989121234567",
        "سارا",
        "silver",
        120,
        "fa",
    )
