"""The counter through the real dispatcher: staff record purchases, look up, adjust and undo; customers can't."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import audiences
from loyalty.audiences import Audience
from loyalty.codes import grouped
from loyalty.staff import Role
from storage.models import LedgerEntry, Member, Purchase
from tests.chat import Chat, Delivered, to
from tests.factories import NOW
from tests.lookups import count
from tests.people import CASHIER, CUSTOMER, MANAGER, OWNER, customer, hire

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]


async def test_the_owner_records_a_purchase_by_code_and_the_member_hears_in_persian(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    _, member = await customer(chat_with, sessions)
    owner = chat_with(OWNER, first_name="Owner", language_code="en")
    replies = await owner.say(f"/earn {member.code} 250,000 R-1")
    [confirmation] = to(replies, OWNER)
    [notice] = to(await delivered(), CUSTOMER)
    assert "Recorded 250,000 toman for Sara" in confirmation.text and "+25 points · balance 125" in confirmation.text
    assert "۲۵ امتیاز" in notice.text and "۱۲۵" in notice.text


async def test_a_cashier_records_by_phone_in_persian_digits(chat_with: MakeChat, sessions: Sessions) -> None:
    await customer(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, first_name="Ali", language_code="fa")
    [confirmation] = await cashier.say("/earn ۰۹۱۲۱۲۳۴۵۶۷ ۲۵۰٬۰۰۰")
    assert "ثبت شد" in confirmation.text and "۱۲۵" in confirmation.text


PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        (grouped, "250000"),
        (lambda code: grouped(code).replace(" ", "-"), "250000"),
        (lambda code: grouped(code).translate(PERSIAN_DIGITS), "۲۵۰۰۰۰"),
        (lambda code: grouped(code).replace(" ", "-").translate(PERSIAN_DIGITS), "۲۵۰۰۰۰"),
        (lambda code: grouped(code).translate(PERSIAN_DIGITS), "۲۵۰ هزار تومان"),
    ],
    ids=["as-the-card-shows-it", "dashed", "persian", "persian-dashed", "persian-amount-in-words"],
)
async def test_the_member_code_is_read_as_the_card_shows_it(
    chat_with: MakeChat, sessions: Sessions, typed: Callable[[str], str], amount: str
) -> None:
    _, member = await customer(chat_with, sessions)
    owner = chat_with(OWNER, language_code="en")
    [confirmation] = await owner.say(f"/earn {typed(member.code)} {amount} R-7 #coffee")
    assert "Recorded 250,000 toman for Sara" in confirmation.text
    assert await purchases_made(sessions) == [("r-7", "coffee")]


async def test_member_and_adjust_read_a_code_in_two_groups(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    owner = chat_with(OWNER, language_code="en")
    [card] = await owner.say(f"/member {grouped(member.code)}")
    assert "Sara" in card.text and "Points: 100" in card.text
    [adjusted] = await owner.say(f"/adjust {grouped(member.code).translate(PERSIAN_DIGITS)} +20 birthday  gift")
    assert "+20 points for Sara: birthday  gift" in adjusted.text and "120" in adjusted.text
    [usage] = await owner.say(f"/adjust {grouped(member.code)} 20")
    assert "reason is required" in usage.text
    [usage] = await owner.say(f"/earn {grouped(member.code)}")
    assert "Record a purchase like this" in usage.text


async def test_a_duplicate_receipt_is_reported_and_adds_nothing(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    owner = chat_with(OWNER, language_code="en")
    await owner.say(f"/earn {member.code} 100000 R-9")
    replies = await owner.say(f"/earn {member.code} 100000 R-9")
    assert len(replies) == 1 and "Already recorded" in replies[0].text
    assert await count(sessions, Purchase) == 1


async def test_a_receipt_typed_in_persian_digits_is_the_receipt_typed_in_ascii(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, member = await customer(chat_with, sessions)
    owner = chat_with(OWNER, language_code="en")
    await owner.say(f"/earn {member.code} 100000 R-۱۲۳")
    replies = await owner.say(f"/earn {member.code} 100000 r-123\u200c")
    assert len(replies) == 1 and "Already recorded" in replies[0].text
    [undone] = await owner.say("/undo \u200fR-١٢٣")
    assert "10 points taken back" in undone.text
    assert await count(sessions, Purchase) == 1


async def test_a_cashier_scans_the_card_and_types_the_amount(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    _, member = await customer(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="en")
    [card] = await cashier.say(f"/start card_{member.code}")
    assert "Sara" in card.text and "Points: 100" in card.text
    [data] = card.callback_data()
    [prompt, _] = await cashier.press(data)
    assert "Amount of Sara's purchase" in prompt.text
    [problem] = await cashier.say("lots")
    assert "whole number" in problem.text
    [done] = await cashier.say("300000 R-44")
    [notice] = await delivered()
    assert "+30 points" in done.text and notice.method.chat_id == CUSTOMER
    after = await cashier.say("300000")
    assert not any("Recorded" in reply.text for reply in after)  # the prompt is over: no second purchase
    assert await count(sessions, Purchase) == 1


async def test_a_command_typed_at_the_amount_prompt_ends_it(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="en")
    [card] = await cashier.say(f"/start card_{member.code}")
    await cashier.press(card.callback_data()[0])
    [shown] = await cashier.say(f"/member {member.code}")
    assert "Sara" in shown.text
    after = await cashier.say("300000")
    assert not any("Recorded" in reply.text for reply in after)
    assert await count(sessions, Purchase) == 0


async def test_customers_get_the_unknown_command_answer_and_cashiers_who_may_use_it(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat, member = await customer(chat_with, sessions)
    [unknown] = await chat.say("/foo")
    for command in (f"/earn {member.code} 1000", "/member 09121234567", "/adjust x 1 y", "/undo R-1"):
        [reply] = await chat.say(command)
        assert reply.text == unknown.text
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier, _ = await customer(chat_with, sessions, CASHIER, phone="09351112233")  # a cashier who is also a member
    refused = [reply.text for reply in await cashier.say(f"/adjust {member.code} 10 gift")]
    assert refused == ["فقط مدیر یا مالک می‌تواند از /adjust استفاده کند."]
    assert await count(sessions, Purchase) == 0 and await count(sessions, LedgerEntry) == 2  # welcome bonuses


@pytest.mark.parametrize(
    ("arguments", "answer"),
    [
        ("", "Record a purchase like this"),
        ("{code} -5000", "more than zero"),
        ("{code} 0", "more than zero"),
        ("{code} 99999999999999999999", "too large"),
        ("{code} abc", "whole number"),
        ("{code} 12.5", "whole number"),
        ("00000000 1000", "mistyped"),
        ("09350000000 1000", "0935 000 0000 is not a member yet"),  # asked to confirm first
        ("hello 1000", "member code (8 digits) or a phone"),
        ("{code} 1000 R-1 extra", "Record a purchase like this"),
        ("{code} 1000 R-1 #", "at most one product category"),
        ("{code} 1000 #coffee #tea", "at most one product category"),
        ("{code} 1000 #" + "x" * 33, "at most one product category"),
        ("{code} 1000 ##coffee", "at most one product category"),
        ("{code} abc #coffee", "whole number"),
    ],
)
async def test_bad_earn_input_is_explained_and_writes_nothing(
    chat_with: MakeChat, sessions: Sessions, arguments: str, answer: str
) -> None:
    _, member = await customer(chat_with, sessions)
    code = member.code
    mistyped = code[:-1] + str((int(code[-1]) + 1) % 10)
    text = arguments.replace("00000000", mistyped).format(code=code)
    [reply] = await chat_with(OWNER, language_code="en").say(f"/earn {text}".strip())
    assert answer in reply.text
    assert await count(sessions, Purchase) == 0


async def test_a_refusal_echoes_a_typed_number_in_persian_digits(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, MANAGER, Role.MANAGER)
    [reply] = await chat_with(MANAGER, language_code="fa").say("/adjust 09350000000 10 gift")
    assert reply.text == "هیچ عضوی با کد یا شماره ۰۹۳۵۰۰۰۰۰۰۰ پیدا نشد."


async def test_member_lookup_adjust_and_undo(chat_with: MakeChat, sessions: Sessions, delivered: Delivered) -> None:
    _, member = await customer(chat_with, sessions)
    owner = chat_with(OWNER, language_code="en")
    await owner.say(f"/earn {member.code} 500000 R-5")
    [card] = await owner.say(f"/member {member.phone}")
    assert "Points: 150" in card.text and "Spent in all: 500,000" in card.text
    [usage] = await owner.say(f"/adjust {member.code} 20")
    assert "reason is required" in usage.text
    [adjusted] = await owner.say(f"/adjust {member.code} -20 entered twice")
    [_, notice] = await delivered()  # the purchase's, then the adjustment's
    assert "-20 points for Sara: entered twice" in adjusted.text and "۱۳۰" in notice.text
    [too_much] = await owner.say(f"/adjust {member.code} -1000 oops")
    assert "only 130 points" in too_much.text
    [undone] = await owner.say("/undo R-5")
    assert "50 points taken back" in undone.text and "Balance 80" in undone.text
    [again] = await owner.say("/undo R-5")
    assert "already reversed" in again.text
    [missing] = await owner.say("/undo R-404")
    assert "No purchase has receipt R-404" in missing.text


async def purchases_made(sessions: Sessions) -> list[tuple[str | None, str | None]]:
    async with sessions() as session:
        return [tuple(row) for row in await session.execute(select(Purchase.receipt, Purchase.category))]


@pytest.mark.parametrize("arguments", ["250000 R-17 #Coffee", "250000 #COFFEE R-17", "  250000   R-17 #coffee  "])
async def test_earn_tags_the_purchase_with_a_category_after_the_amount(
    chat_with: MakeChat, sessions: Sessions, arguments: str
) -> None:
    _, member = await customer(chat_with, sessions)
    [confirmation] = await chat_with(OWNER, language_code="en").say(f"/earn {member.code} {arguments}")
    assert "Recorded 250,000 toman for Sara" in confirmation.text and "Category: coffee" in confirmation.text
    assert await purchases_made(sessions) == [("r-17", "coffee")]  # receipts are stored as their keys


async def test_a_purchase_without_a_category_says_none(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    [confirmation] = await chat_with(OWNER, language_code="en").say(f"/earn {member.code} 250000 R-1")
    assert "Category" not in confirmation.text
    assert await purchases_made(sessions) == [("r-1", None)]


async def test_a_category_of_the_longest_length_is_kept_whole(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    longest = "a" * audiences.CATEGORY_LENGTH
    await chat_with(OWNER, language_code="en").say(f"/earn {member.code} 250000 #{longest}")
    assert await purchases_made(sessions) == [(None, longest)]


async def test_a_persian_cashier_tags_a_persian_category(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="fa")
    [usage] = await cashier.say("/earn")
    assert "#قهوه" in usage.text
    [refused] = await cashier.say(f"/earn {member.code} ۲۵۰٬۰۰۰ #کیک #قهوه")
    assert "حداکثر یک دستهٔ کالا" in refused.text and "مثال" in refused.text
    [confirmation] = await cashier.say(f"/earn {member.code} ۲۵۰٬۰۰۰ #نان‌شیرینی")
    assert "ثبت شد" in confirmation.text and "دستهٔ کالا: نانشیرینی" in confirmation.text  # its key: no ZWNJ
    assert await purchases_made(sessions) == [(None, "نانشیرینی")]


async def test_the_amount_prompt_takes_a_category_and_refuses_a_bad_one(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, member = await customer(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="en")
    [card] = await cashier.say(f"/start card_{member.code}")
    [prompt, _] = await cashier.press(card.callback_data()[0])
    assert "#coffee" in prompt.text
    for bad in ("300000 #", "300000 #cake #coffee", "300000 R-44 #" + "x" * 33):
        [refused] = await cashier.say(bad)
        assert "at most one product category" in refused.text and "Example: 250000 R-1024 #coffee" in refused.text
    assert await count(sessions, Purchase) == 0
    [done] = await cashier.say("300000 #Cake R-44")  # still at the prompt after a refusal
    assert "+30 points" in done.text and "Category: cake" in done.text
    assert await purchases_made(sessions) == [("r-44", "cake")]


async def test_a_campaign_audience_finds_who_bought_the_category(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    async with sessions() as session:
        await session.execute(update(Member).where(Member.id == member.id).values(news_consent=True))
        await session.commit()
    owner = chat_with(OWNER, language_code="en")
    await owner.say(f"/earn {member.code} 100000 R-1")
    await owner.say(f"/earn {member.code} 250000 R-2 #Coffee")
    async with sessions() as session:
        assert await audiences.count(session, Audience(bought_category="coffee"), NOW) == 1


# --- staff on their own membership ---------------------------------------------------------------------------


async def staff_member(
    chat_with: MakeChat, sessions: Sessions, role: Role, language: str = "en"
) -> tuple[Chat, Member]:
    """A staff member who is also a club member (the same messenger account)."""
    await hire(sessions, CASHIER, role)
    chat = chat_with(CASHIER, first_name="Ali", language_code=language)
    await chat.join(phone="09351112233")
    async with sessions() as session:
        member = await session.scalar(select(Member).where(Member.telegram_id == CASHIER))
    assert member is not None
    return chat, member


async def books_of(sessions: Sessions, member_id: int) -> tuple[int, int, int]:
    """The member's balance, purchases and ledger entries."""
    async with sessions() as session:
        balance = await session.scalar(select(Member.balance).where(Member.id == member_id))
        purchases = await session.scalar(select(func.count()).where(Purchase.member_id == member_id))
        entries = await session.scalar(select(func.count()).where(LedgerEntry.member_id == member_id))
    return int(balance or 0), int(purchases or 0), int(entries or 0)


@pytest.mark.parametrize("language", ["en", "fa"])
async def test_a_cashier_cannot_record_a_purchase_for_themself(
    chat_with: MakeChat, sessions: Sessions, language: str
) -> None:
    cashier, own = await staff_member(chat_with, sessions, Role.CASHIER, language)
    for reference in (own.code, "09351112233"):
        [refused] = await cashier.say(f"/earn {reference} 250000 R-1")
        wanted = "cannot record a purchase for yourself" if language == "en" else "برای خودتان خرید ثبت کنید"
        assert wanted in refused.text and ("colleague" in refused.text or "همکاران" in refused.text)
    assert await books_of(sessions, own.id) == (100, 0, 1)  # the welcome bonus only


async def test_a_cashier_scanning_their_own_card_cannot_record_a_purchase(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    cashier, own = await staff_member(chat_with, sessions, Role.CASHIER)
    [card] = await cashier.say(f"/start card_{own.code}")
    [refused] = await cashier.press(card.callback_data()[0])
    assert refused.name == "AnswerCallbackQuery" and "cannot record a purchase for yourself" in refused.text
    after = await cashier.say("300000")
    assert not any("Recorded" in reply.text for reply in after)
    assert await books_of(sessions, own.id) == (100, 0, 1)


async def test_an_owner_records_a_purchase_for_a_cashier_who_is_a_member(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, own = await staff_member(chat_with, sessions, Role.CASHIER)
    owner = chat_with(OWNER, language_code="en")
    replies = await owner.say(f"/earn {own.code} 250000 R-1")
    assert any("Recorded 250,000 toman for Ali" in reply.text for reply in replies)
    assert await books_of(sessions, own.id) == (125, 1, 2)


@pytest.mark.parametrize("points", ["+500", "-50"])
async def test_a_manager_cannot_adjust_their_own_points(chat_with: MakeChat, sessions: Sessions, points: str) -> None:
    manager, own = await staff_member(chat_with, sessions, Role.MANAGER)
    [refused] = await manager.say(f"/adjust {own.code} {points} birthday")
    assert "cannot adjust your own points" in refused.text and "colleague" in refused.text
    assert await books_of(sessions, own.id) == (100, 0, 1)


async def test_the_amount_prompt_reads_an_amount_typed_in_words(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="fa")
    [card] = await cashier.say(f"/start card_{member.code}")
    await cashier.press(card.callback_data()[0])
    [done] = await cashier.say("۲۵۰ هزار تومان R-7")
    assert "ثبت شد" in done.text
    async with sessions() as session:
        assert list(await session.scalars(select(Purchase.amount))) == [250_000]


async def test_earn_reads_an_amount_typed_in_words(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    owner = chat_with(OWNER, language_code="en")
    [confirmation] = await owner.say(f"/earn {member.code} 2.5 million toman R-1")
    assert "Recorded 2,500,000 toman" in confirmation.text
