"""Members' own data through the real dispatcher: /mydata sends a file of everything the club holds about the member
(and nothing of another's), /forgetme erases their personal data after a confirmation (once), /privacy says what is
kept and why, in Persian and English."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import outbox, vouchers
from loyalty.outbox import Message, Outgoing
from loyalty.vouchers import Kind, Worth
from storage.database import write_transaction
from storage.models import LedgerEntry, Member, OutboxMessage, Voucher
from tests.chat import Chat, Reply
from tests.factories import NOW, add_purchases, purchase
from tests.people import OWNER, customer

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
SARA, REZA = 42, 43
SARA_PHONE, REZA_PHONE = "09121234567", "09121234568"


async def two_members(chat_with: MakeChat, sessions: Sessions) -> tuple[Chat, Member, Member]:
    """Sara and Reza joined by chat; each bought twice, Sara has a voucher and a message waiting in the outbox."""
    chat, sara = await customer(chat_with, sessions, SARA, SARA_PHONE)
    _, reza = await customer(chat_with, sessions, REZA, REZA_PHONE)
    async with sessions() as session, write_transaction(session):
        await add_purchases(
            session,
            [
                purchase(1, sara.id, 123_000, 3, receipt="S-1"),
                purchase(2, sara.id, 45_000, 1),
                purchase(3, reza.id, 987_000, 2, receipt="R-1"),
            ],
        )
        await vouchers.issue(
            session,
            member_id=sara.id,
            title="Coffee",
            worth=Worth(Kind.ITEM),
            expires_at=NOW + timedelta(days=30),
            now=NOW,
        )
        note = Outgoing("test:note", "notice", SARA, Message("Hello Sara"), sara.id)
        await outbox.enqueue(session, [note], NOW)
    return chat, sara, reza


def the_document(replies: list[Reply]) -> Reply:
    [sent] = [reply for reply in replies if reply.name == "SendDocument"]
    return sent


async def test_mydata_sends_a_file_of_the_members_own_data(chat_with: MakeChat, sessions: Sessions) -> None:
    chat, sara, reza = await two_members(chat_with, sessions)
    sent = the_document(await chat.say("/mydata"))
    assert sent.method.document.filename.endswith(".json")
    assert sent.text
    data = json.loads(sent.upload.decode("utf-8"))
    assert data["profile"]["first_name"] == "Sara" and data["profile"]["phone"] == sara.phone
    assert data["profile"]["code"] == sara.code
    assert sorted(item["amount"] for item in data["purchases"]) == [45_000, 123_000]
    assert data["balance"] == 100 and [entry["points"] for entry in data["ledger"]] == [100]
    assert [voucher["title"] for voucher in data["vouchers"]] == ["Coffee"]
    assert any("Hello Sara" in (message["text"] or "") for message in data["messages"])
    raw = sent.upload.decode("utf-8")
    assert reza.phone not in raw and "987000" not in raw and "R-1" not in raw


async def test_forgetme_cancelled_changes_nothing(chat_with: MakeChat, sessions: Sessions) -> None:
    chat, sara, _ = await two_members(chat_with, sessions)
    [question] = await chat.say("/forgetme")
    assert len(question.callback_data()) == 2
    keep = question.callback_data()[1]
    await chat.press(keep)
    async with sessions() as session:
        kept = await session.get(Member, sara.id)
        assert kept is not None and kept.phone == sara.phone and kept.telegram_id == SARA and kept.balance == 100


async def test_forgetme_confirmed_erases_the_personal_data(chat_with: MakeChat, sessions: Sessions) -> None:
    chat, sara, reza = await two_members(chat_with, sessions)
    [question] = await chat.say("/forgetme")
    assert "۱۰۰" in question.text  # the points lost, in the member's language
    confirm = question.callback_data()[0]
    replies = await chat.press(confirm)
    assert replies
    async with sessions() as session:
        sums = await session.execute(select(LedgerEntry.member_id, func.count()).group_by(LedgerEntry.member_id))
        forgotten = await session.get(Member, sara.id)
        assert forgotten is not None
        assert forgotten.telegram_id is None and forgotten.phone != sara.phone and SARA_PHONE[1:] not in forgotten.phone
        assert forgotten.first_name == "" and forgotten.birthday is None and forgotten.gender is None
        assert forgotten.balance == 0 and forgotten.forgotten_at is not None
        entries = (await session.scalars(select(LedgerEntry).where(LedgerEntry.member_id == sara.id))).all()
        assert [entry.points for entry in entries] == [100, -100]  # zeroed by a row; the welcome bonus stays
        statuses = (await session.scalars(select(Voucher.status).where(Voucher.member_id == sara.id))).all()
        assert statuses == ["cancelled"]
        left = await session.scalar(select(func.count()).where(OutboxMessage.member_id == sara.id))
        assert left == 0
        untouched = await session.get(Member, reza.id)
        assert untouched is not None and untouched.phone == reza.phone and untouched.balance == 100
        assert dict(sums.all())[reza.id] == 1
    again = await chat.press(confirm)  # a second tap does nothing
    async with sessions() as session:
        count = await session.scalar(select(func.count()).where(LedgerEntry.member_id == sara.id))
        assert count == 2
    assert all(reply.name != "SendDocument" for reply in again)
    rejoined = chat_with(SARA, first_name="Sara", language_code="fa")
    await rejoined.join(phone=SARA_PHONE)
    async with sessions() as session:
        new = await session.scalar(select(Member).where(Member.telegram_id == SARA))
        assert new is not None and new.id != sara.id and new.phone == sara.phone and new.balance == 100


async def test_privacy_answers_in_persian_and_english(chat_with: MakeChat, sessions: Sessions) -> None:
    [persian] = await chat_with(SARA, language_code="fa").say("/privacy")
    [english] = await chat_with(REZA, language_code="en").say("/privacy")
    assert "/mydata" in persian.text and "/forgetme" in persian.text and "اطلاعات" in persian.text
    assert "/mydata" in english.text and "/forgetme" in english.text and "phone" in english.text


async def test_staff_reports_open_without_the_erased_members_data(chat_with: MakeChat, sessions: Sessions) -> None:
    chat, sara, _ = await two_members(chat_with, sessions)
    [question] = await chat.say("/forgetme")
    await chat.press(question.callback_data()[0])
    [report] = [reply for reply in await chat_with(OWNER, language_code="en").press("rpt:top:last7") if reply.text]
    assert "🏆 Top customers" in report.text and "0912 123 4568" in report.text  # Reza's
    assert "0912 123 4567" not in report.text and sara.code not in report.text.replace(" ", "")
    async with sessions() as session:
        erased = await session.get(Member, sara.id)
    assert erased is not None
    for card in (sara.code, erased.code):  # the old card, and the code the erased row has now: nobody at the counter
        replies = await chat_with(OWNER, language_code="en").say(f"/start card_{card}")
        assert not any("🧾 Record purchase" in reply.buttons() for reply in replies), card


async def test_a_members_help_points_to_privacy(chat_with: MakeChat, sessions: Sessions) -> None:
    chat, _ = await customer(chat_with, sessions, SARA, SARA_PHONE)
    [help_text] = await chat.say("/help")
    assert "/privacy" in help_text.text
