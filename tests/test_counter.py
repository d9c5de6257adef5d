"""The counter through the real dispatcher: staff record purchases, look up, adjust and undo; customers can't."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import audiences, rules
from loyalty.audiences import Audience
from loyalty.codes import grouped
from loyalty.rules import Rules
from loyalty.staff import Role
from loyalty.stamps import Stamp
from storage.models import LedgerEntry, Member, Purchase
from tests.chat import Chat, Delivered, to
from tests.factories import NOW
from tests.lookups import count, member_of
from tests.people import CASHIER, CUSTOMER, MANAGER, OWNER, customer, hire, manager_chat
from tests.steps import buy

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
    [usage] = await owner.say("/undo")
    assert "/undo <receipt no.>" in usage.text and "then 🧾 Recent purchases" in usage.text


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


# --- mistakes caught and forgiven -----------------------------------------------------------------------------

OTHER_CASHIER = 8


async def usual_purchases(sessions: Sessions, member_id: int, amount: int = 100_000, count: int = 20) -> None:
    """`count` purchases of `amount`: the shop's usual purchase is then `amount`."""
    for update_id in range(1, count + 1):
        await buy(sessions, member_id, amount, update_id=update_id)


async def cap_purchases_at(sessions: Sessions, cap: int) -> None:
    """The owner asks for a confirmation of purchases above `cap`."""
    async with sessions() as session:
        await rules.set_rule(session, club_rules(), "purchase_confirm_above", cap, Stamp(OWNER, "cap", NOW))


def club_rules() -> Rules:
    """The defaults of the test bot (its settings' welcome bonus and expiry)."""
    return Rules(welcome_bonus=100, expiry_days=365)


async def a_cashier(chat_with: MakeChat, sessions: Sessions, user_id: int = CASHIER) -> Chat:
    await hire(sessions, user_id, Role.CASHIER)
    return chat_with(user_id, first_name="Ali", language_code="en")


async def test_an_amount_far_above_the_usual_is_confirmed_before_anything_is_written(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    _, member = await customer(chat_with, sessions)
    await usual_purchases(sessions, member.id)
    cashier = await a_cashier(chat_with, sessions)
    [question] = await cashier.say(f"/earn {member.code} 3,000,000 R-9")
    assert "Record a purchase of 3,000,000 toman for Sara?" in question.text
    assert "more than 20 times this shop's usual purchase (100,000 toman)" in question.text
    assert question.buttons() == ["✅ Yes, record 3,000,000 toman", "✖️ Cancel"]
    assert await count(sessions, Purchase) == 20 and await delivered() == []
    yes = question.callback_data()[0]
    [recorded, _] = await cashier.press(yes)
    assert "Recorded 3,000,000 toman for Sara" in recorded.text and recorded.buttons() == ["↩️ Undo"]
    [again] = await cashier.press(yes)  # a second press records nothing more
    assert again.name == "AnswerCallbackQuery" and "no longer open" in again.text
    assert await count(sessions, Purchase) == 21
    [notice] = await delivered()
    assert "۳۰۰ امتیاز" in notice.text


async def test_below_the_usual_limit_or_with_few_purchases_nothing_is_asked(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, member = await customer(chat_with, sessions)
    await usual_purchases(sessions, member.id, count=19)  # too few to know the usual purchase
    cashier = await a_cashier(chat_with, sessions)
    [recorded] = await cashier.say(f"/earn {member.code} 3,000,000")
    assert "Recorded 3,000,000" in recorded.text
    [recorded] = await cashier.say(f"/earn {member.code} 2,000,000")  # 20 purchases now: 20 times is not above
    assert "Recorded 2,000,000" in recorded.text


async def test_cancel_writes_nothing(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    await cap_purchases_at(sessions, 500_000)
    cashier = await a_cashier(chat_with, sessions)
    [question] = await cashier.say(f"/earn {member.code} 600000")
    assert "above the amount the owner asked to confirm (500,000 toman)" in question.text
    yes, cancel = question.callback_data()
    [reminder] = await cashier.say("600000")  # typed instead of an answer
    assert "answer the question above first: record 600,000 toman" in reminder.text
    assert reminder.callback_data() == [yes, cancel]
    [cancelled, _] = await cashier.press(cancel)
    assert "Nothing was recorded" in cancelled.text
    [stale] = await cashier.press(yes)
    assert "no longer open" in stale.text
    assert await count(sessions, Purchase) == 0
    [recorded] = await cashier.say(f"/earn {member.code} 500000")  # at the cap: recorded at once
    assert "Recorded 500,000" in recorded.text


async def test_the_buttons_of_an_older_question_are_stale(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    await cap_purchases_at(sessions, 500_000)
    cashier = await a_cashier(chat_with, sessions)
    [first] = await cashier.say(f"/earn {member.code} 600000")
    [second] = await cashier.say(f"/earn {member.code} 700000")
    [stale] = await cashier.press(first.callback_data()[0])
    assert "no longer open" in stale.text and await count(sessions, Purchase) == 0
    [recorded, _] = await cashier.press(second.callback_data()[0])
    assert "Recorded 700,000" in recorded.text
    assert await amounts(sessions) == [700_000]


async def test_at_the_amount_prompt_cancel_asks_for_the_amount_again(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    await cap_purchases_at(sessions, 500_000)
    cashier = await a_cashier(chat_with, sessions)
    [card] = await cashier.say(f"/start card_{member.code}")
    await cashier.press(card.callback_data()[0])
    [question] = await cashier.say("5000000 #cake")
    assert "Record a purchase of 5,000,000 toman for Sara?" in question.text
    [again, _] = await cashier.press(question.callback_data()[1])
    assert "Type the right amount of Sara's purchase" in again.text
    assert again.buttons() == ["💵 Cash", "💳 Card", "🌐 Online", "✖️ Cancel"]
    [recorded] = await cashier.say("500000 #cake")
    assert "Recorded 500,000" in recorded.text and "Category: cake" in recorded.text
    assert await amounts(sessions) == [500_000]


async def test_a_persian_cashier_is_asked_and_undoes_in_persian(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    await cap_purchases_at(sessions, 500_000)
    await hire(sessions, CASHIER, Role.CASHIER)
    cashier = chat_with(CASHIER, language_code="fa")
    [question] = await cashier.say(f"/earn {member.code} ۶۰۰٬۰۰۰")
    assert "خرید ۶۰۰٬۰۰۰ تومان برای Sara ثبت شود؟" in question.text and "۵۰۰٬۰۰۰ تومان" in question.text
    assert question.buttons() == ["✅ بله، ۶۰۰٬۰۰۰ تومان ثبت شود", "✖️ انصراف"]
    [recorded, _] = await cashier.press(question.callback_data()[0])
    assert "خرید ۶۰۰٬۰۰۰ تومانی برای Sara" in recorded.text and recorded.buttons() == ["↩️ لغو این خرید"]
    [undone, _] = await cashier.press(recorded.callback_data()[0])
    assert undone.text.startswith("↩️ خرید به مبلغ ۶۰۰٬۰۰۰ تومان لغو شد: ۶۰ امتیاز از Sara برگشت خورد. موجودی ۱۰۰.")


async def amounts(sessions: Sessions) -> list[int]:
    async with sessions() as session:
        return list(await session.scalars(select(Purchase.amount).order_by(Purchase.id)))


async def test_the_cashier_undoes_their_purchase_within_minutes(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [recorded] = await cashier.say(f"/earn {member.code} 250000")  # no receipt number
    [undo] = recorded.callback_data()
    [undone, _] = await cashier.press(undo)
    assert "Purchase of 250,000 toman reversed: 25 points taken back from Sara. Balance 100." in undone.text
    [again] = await cashier.press(undo)
    assert "already reversed" in again.text
    [_, notice] = await delivered()
    assert "۲۵۰٬۰۰۰" in notice.text and "لغو شد" in notice.text
    assert await books_of(sessions, member.id) == (100, 1, 3)


async def test_after_the_window_or_for_another_cashier_the_undo_button_is_refused(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    other = await a_cashier(chat_with, sessions, OTHER_CASHIER)
    [recorded] = await cashier.say(f"/earn {member.code} 250000 R-1")
    [undo] = recorded.callback_data()
    [refused] = await other.press(undo)
    assert "Only the cashier who recorded this purchase" in refused.text and "manager" in refused.text
    async with sessions() as session:
        await session.execute(update(Purchase).values(created_at=NOW - timedelta(minutes=11)))
        await session.commit()
    [late] = await cashier.press(undo)
    assert "The 10 minutes to undo this purchase here have passed" in late.text and "manager" in late.text
    assert await books_of(sessions, member.id) == (125, 1, 2)
    [undone] = await chat_with(OWNER, language_code="en").say("/undo R-1")  # a manager still can
    assert "25 points taken back" in undone.text


async def test_a_manager_undoes_a_purchase_without_a_receipt_from_the_members_view(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    await cashier.say(f"/earn {member.code} 250000 R-1")
    await cashier.say(f"/earn {member.code} 100000")
    [card] = await cashier.say(f"/member {member.code}")
    assert card.buttons() == ["🧾 Record purchase"]  # a cashier has no list
    manager = await manager_chat(chat_with, sessions)
    [card] = await manager.say(f"/member {member.code}")
    assert card.buttons() == ["🧾 Record purchase", "🧾 Recent purchases"]
    [listed, _] = await manager.press(card.callback_data()[1])
    assert "Sara's recent purchases" in listed.text
    assert "1. " in listed.text and "100,000 toman · receipt: none · 10 points" in listed.text
    assert "2. " in listed.text and "250,000 toman · receipt: r-1 · 25 points" in listed.text
    assert listed.buttons() == ["↩️ Undo 1", "↩️ Undo 2"]
    [question, _] = await manager.press(listed.callback_data()[0])
    assert "Undo Sara's purchase of 100,000 toman" in question.text and "receipt: none" in question.text
    assert question.buttons() == ["↩️ Yes, undo it", "⬅️ Back to the list"]
    [after, _] = await manager.press(question.callback_data()[0])
    assert after.text.startswith("↩️ Purchase of 100,000 toman reversed: 10 points taken back from Sara. Balance 125.")
    assert "100,000 toman · receipt: none · 10 points · ↩️ reversed" in after.text
    assert after.buttons() == ["↩️ Undo 2"]
    [listed_again, answer] = await manager.press(question.callback_data()[0])
    assert "already reversed" in answer.text and listed_again.buttons() == ["↩️ Undo 2"]
    [question, _] = await manager.press(listed.callback_data()[1])
    [all_undone, _] = await manager.press(question.callback_data()[0])
    assert "250,000 toman · receipt: r-1 · 25 points · ↩️ reversed" in all_undone.text and all_undone.buttons() == []
    refused = await cashier.press(listed.callback_data()[1])  # a cashier's press of a manager's button
    assert not any("reversed" in reply.text for reply in refused)
    assert await books_of(sessions, member.id) == (100, 2, 5)


async def test_undoing_lowers_the_tier_at_once_and_the_member_is_told(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    _, member = await customer(chat_with, sessions)
    cashier = await a_cashier(chat_with, sessions)
    [recorded] = await cashier.say(f"/earn {member.code} 20,000,000")
    await delivered()
    assert (await member_of(sessions)).tier == "silver"
    [undone, _] = await cashier.press(recorded.callback_data()[0])
    assert "Sara's tier is now Bronze." in undone.text
    assert (await member_of(sessions)).tier == "bronze"
    [notice] = await delivered()
    assert "لغو شد" in notice.text and "برنز" in notice.text
