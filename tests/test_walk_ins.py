"""Walk-in customers through the real dispatcher: a purchase recorded on a phone that has not joined yet, its points
waiting on the phone until the customer joins with it; and a member moved to a new number, only by the shop."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import gifts, members, purchases, rules, walk_ins
from loyalty.staff import Role
from loyalty.stamps import Stamp
from loyalty.vouchers import Kind, Worth
from storage.models import LedgerEntry, Member, PointLot, Purchase, Voucher
from tests.chat import Chat, Delivered, texts, to
from tests.factories import DAY, NOW, RULES, profile
from tests.lookups import audit_log, count, member_of, refusals
from tests.people import CASHIER, CUSTOMER, MANAGER, NEEDS_MANAGER, OWNER, customer, hire, manager_chat

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
PHONE = "+989121234567"
LATIN_DIGITS = re.compile("[0-9]")


async def cashier_chat(chat_with: MakeChat, sessions: Sessions, language: str = "en") -> Chat:
    """Ali, hired as a cashier, in his chat."""
    await hire(sessions, CASHIER, Role.CASHIER)
    return chat_with(CASHIER, first_name="Ali", language_code=language)


async def waiting(sessions: Sessions, phone: str = PHONE) -> Member | None:
    """The member with this phone."""
    async with sessions() as session:
        return await session.scalar(select(Member).where(Member.phone == phone))


async def walk_in(cashier: Chat, command: str = "/earn 09121234567 250000 R-1") -> list[str]:
    """The cashier records a purchase on a new phone and confirms it; what they were told."""
    [ask] = await cashier.say(command)
    return texts(await cashier.press(ask.callback_data()[0]))


async def test_a_purchase_on_a_new_phone_is_confirmed_then_its_points_wait_on_the_phone(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    cashier = await cashier_chat(chat_with, sessions)
    [ask] = await cashier.say("/earn 09121234567 250,000 R-1")
    assert "0912 123 4567" in ask.text and "not a member yet" in ask.text and "250,000 toman" in ask.text
    assert ask.buttons() == ["✅ Record on 0912 123 4567", "✖️ Cancel"]
    assert await count(sessions, Member) == 0
    recorded = texts(await cashier.press(ask.callback_data()[0]))
    assert any("Recorded 250,000 toman for 0912 123 4567" in text for text in recorded)
    assert any("+25 points are waiting on this phone until the customer joins the club with it" in t for t in recorded)
    member = await waiting(sessions)
    assert member is not None and (member.telegram_id, member.balance, member.joined_at) == (None, 25, None)
    assert await count(sessions, LedgerEntry, LedgerEntry.member_id == member.id) == 1
    assert await delivered() == []  # nobody to tell
    again = texts(await cashier.press(ask.callback_data()[0]))  # a second tap adds nothing
    assert not any("Recorded" in text for text in again)
    assert await count(sessions, Purchase) == 1 and await count(sessions, Member) == 1


async def test_a_phone_in_persian_digits_is_shown_back_normalised_and_later_purchases_need_no_confirmation(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    cashier = await cashier_chat(chat_with, sessions, "fa")
    [ask] = await cashier.say("/earn ۰۹۱۲۱۲۳۴۵۶۷ ۲۵۰٬۰۰۰")
    assert "۰۹۱۲ ۱۲۳ ۴۵۶۷" in ask.text and not LATIN_DIGITS.search(ask.text)
    recorded = texts(await cashier.press(ask.callback_data()[0]))
    assert any("۰۹۱۲ ۱۲۳ ۴۵۶۷" in text and "منتظر" in text for text in recorded)
    assert not any(LATIN_DIGITS.search(text) for text in recorded)
    [second] = await cashier.say("/earn +98۹۱۲۱۲۳۴۵۶۷ ۱۰۰٬۰۰۰")  # the same phone, another way: recorded at once
    assert "ثبت شد" in second.text and "۳۵" in second.text and second.buttons() == ["↩️ لغو این خرید"]
    assert await count(sessions, Member) == 1 and await count(sessions, Purchase) == 2


async def test_cancel_records_nothing_and_a_bad_amount_is_refused_before_asking(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    cashier = await cashier_chat(chat_with, sessions)
    [ask] = await cashier.say("/earn 09121234567 250000")
    cancelled = texts(await cashier.press(ask.callback_data()[1]))
    assert any("Nothing was recorded" in text for text in cancelled)
    [refused] = await cashier.say("/earn 09121234567 0")
    assert not refused.callback_data()
    assert await count(sessions, Member) == 0 and await count(sessions, Purchase) == 0


async def test_the_member_lookup_of_a_new_phone_offers_to_record_a_purchase_on_it(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    cashier = await cashier_chat(chat_with, sessions)
    [offer] = await cashier.say("/member 0912 123 4567")
    assert "0912 123 4567" in offer.text and "not a member yet" in offer.text
    [prompt, _] = await cashier.press(offer.callback_data()[0])
    assert "0912 123 4567" in prompt.text
    [done] = await cashier.say("300000 R-5")
    assert "+30 points are waiting on this phone" in done.text
    [card] = await cashier.say("/member 09121234567")
    assert "0912 123 4567" in card.text and "Points: 30" in card.text and "not joined" in card.text


@pytest.mark.parametrize(
    ("language", "waiting_text"),
    [("en", "25 points from your earlier purchases were waiting for you"), ("fa", "۲۵ امتیاز از خریدهای قبلی")],
)
async def test_joining_with_the_phone_claims_the_waiting_points(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered, language: str, waiting_text: str
) -> None:
    cashier = await cashier_chat(chat_with, sessions)
    await walk_in(cashier)
    before = await waiting(sessions)
    welcome = await chat_with(CUSTOMER, first_name="Sara", language_code=language).join("09121234567")
    assert any(waiting_text in text for text in texts(welcome))
    member = await member_of(sessions, CUSTOMER)
    assert before is not None and member.id == before.id and member.balance == 125  # 25 waiting, 100 welcome
    assert member.first_name == "Sara" and member.joined_at is not None
    async with sessions() as session:
        purchase = await session.scalar(select(Purchase))
        lot = await session.scalar(select(PointLot).where(PointLot.points == 25))
    assert purchase is not None and lot is not None
    assert lot.expires_at == purchase.created_at + timedelta(days=365)  # expiry counts from the purchase
    assert to(await delivered(), CUSTOMER) == []  # the purchase before joining is told in the welcome only


async def test_a_cashier_joining_with_a_phone_they_recorded_purchases_on_gets_none_of_those_points(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    cashier = await cashier_chat(chat_with, sessions)
    await walk_in(cashier)
    welcome = texts(await cashier.join("09121234567"))
    assert not any("were waiting for you" in text for text in welcome)
    assert any(
        "Purchases, points and vouchers you recorded on this number yourself as staff are not your own" in text
        for text in welcome
    )
    member = await member_of(sessions, CASHIER)
    assert (member.phone, member.balance) == (PHONE, 100)  # the welcome bonus only
    async with sessions() as session:
        purchase = await session.scalar(select(Purchase))
    assert purchase is not None and purchase.reversed_at is not None
    reversed_entries = [
        details for action, actor, details in await audit_log(sessions) if action == "purchase.own_reversed"
    ]
    assert reversed_entries == [{"receipt": "r-1", "purchase_id": purchase.id, "taken": 25, "shortfall": 0}]
    notices = await delivered()
    [notice] = to(notices, OWNER)  # the owner is not a member: in the shop's language
    assert "۰۹۱۲ ۱۲۳ ۴۵۶۷" in notice.text and "۱ خرید" in notice.text and "۲۵ امتیاز" in notice.text
    assert not LATIN_DIGITS.search(notice.text)
    assert to(notices, CASHIER) == []


async def test_a_walk_in_phone_is_not_a_new_friend_for_referrals(chat_with: MakeChat, sessions: Sessions) -> None:
    sara, _member = await customer(chat_with, sessions, 50, "09351112233")
    [invite] = await sara.say("/invite")
    link = next(word for word in invite.text.split() if word.startswith("https://"))
    payload = link.rpartition("start=")[2]
    await walk_in(await cashier_chat(chat_with, sessions))
    friend = chat_with(CUSTOMER, first_name="Bahar", language_code="en")
    await friend.say(f"/start {payload}")
    await friend.join("09121234567")
    assert await refusals(sessions) == ["phone_in_club"]


async def test_a_manager_moves_a_member_to_a_new_number_after_confirming(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    _, member = await customer(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    [ask] = await manager.say(f"/phone {member.code} ۰۹۳۵۱۱۱۲۲۳۳")
    assert "0912 123 4567" in ask.text and "0935 111 2233" in ask.text
    assert await waiting(sessions, "+989351112233") is None
    done = texts(await manager.press(ask.callback_data()[0]))
    assert any("Sara's number is now 0935 111 2233" in text for text in done)
    moved = await member_of(sessions, CUSTOMER)
    assert (moved.id, moved.phone, moved.balance) == (member.id, "+989351112233", member.balance)
    assert ("member.phone", MANAGER, {"old": PHONE, "new": "+989351112233"}) in await audit_log(sessions)
    [notice] = to(await delivered(), CUSTOMER)
    assert "۰۹۳۵ ۱۱۱ ۲۲۳۳" in notice.text and "۰۹۱۲ ۱۲۳ ۴۵۶۷" in notice.text
    again = texts(await manager.press(ask.callback_data()[0]))  # a second tap changes and tells nothing more
    assert not any("is now" in text for text in again)
    assert await delivered() == []


async def test_a_number_of_another_member_is_refused_and_so_are_cashiers_and_bad_numbers(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await customer(chat_with, sessions)
    await customer(chat_with, sessions, 50, "09351112233")
    manager = await manager_chat(chat_with, sessions)
    [taken] = await manager.say("/phone 09121234567 09351112233")
    assert "already belongs to another member" in taken.text and not taken.callback_data()
    [bad] = await manager.say("/phone 09121234567 12")
    assert "isn't a phone number" in bad.text
    [usage] = await manager.say("/phone")
    assert "/phone <member code or phone> <new phone>" in usage.text
    [same] = await manager.say("/phone 09121234567 +989121234567")
    assert "already" in same.text and not same.callback_data()
    cashier = await cashier_chat(chat_with, sessions, "fa")
    assert texts(await cashier.say("/phone 09121234567 09351112244")) == [NEEDS_MANAGER.format(command="/phone")]
    assert (await member_of(sessions, CUSTOMER)).phone == PHONE


async def test_a_member_sharing_another_contact_keeps_their_number(chat_with: MakeChat, sessions: Sessions) -> None:
    chat, _member = await customer(chat_with, sessions)
    [answer] = await chat.share_contact("09351112233")
    assert "۰۹۱۲ ۱۲۳ ۴۵۶۷" in answer.text and "فروشگاه" in answer.text
    assert (await member_of(sessions, CUSTOMER)).phone == PHONE


async def test_points_that_expired_while_waiting_are_not_claimed(session: AsyncSession) -> None:
    long_ago, lately = Stamp(CASHIER, "earn-1", NOW - timedelta(days=400)), Stamp(CASHIER, "earn-2", NOW - DAY)
    for stamp, amount in ((long_ago, 250_000), (lately, 100_000)):
        await walk_ins.record_walk_in(
            session, RULES, phone=PHONE, language="fa", amount=amount, receipt=None, stamp=stamp
        )
    joined = await members.join(session, PHONE, profile("Sara"), RULES, Stamp(CUSTOMER, "join", NOW))
    assert (joined.waiting, joined.bonus, joined.member.balance) == (10, 100, 110)


async def test_only_the_joining_accounts_own_purchases_are_reversed_and_an_owners_are_not(
    session: AsyncSession,
) -> None:
    for actor, amount in ((CASHIER, 250_000), (MANAGER, 100_000)):
        await walk_ins.record_walk_in(
            session,
            RULES,
            phone=PHONE,
            language="fa",
            amount=amount,
            receipt=None,
            stamp=Stamp(actor, f"earn-{actor}", NOW),
        )
    await walk_ins.record_walk_in(
        session,
        RULES,
        phone="+989351112233",
        language="fa",
        amount=300_000,
        receipt=None,
        stamp=Stamp(OWNER, "earn", NOW),
    )
    joined = await members.join(session, PHONE, profile("Ali"), RULES, Stamp(CASHIER, "join", NOW), owner_ids={OWNER})
    assert (joined.waiting, joined.bonus, joined.member.balance) == (10, 100, 110)  # the manager's purchase counts
    assert [undone.purchase.amount for undone in joined.own.purchases] == [250_000]
    owner = await members.join(
        session, "+989351112233", profile("Owner"), RULES, Stamp(OWNER, "join-owner", NOW), owner_ids={OWNER}
    )
    assert (owner.waiting, owner.own.given) == (30, False)  # it is the owner's shop


async def test_points_and_a_voucher_a_staff_member_gave_the_phone_they_join_with_are_taken_back(
    session: AsyncSession,
) -> None:
    member = await members.waiting_member(session, PHONE, "fa", Stamp(MANAGER, "walk-in", NOW))
    for actor, points in ((MANAGER, 500), (MANAGER, -100), (CASHIER, 40)):  # a colleague's adjustment stays
        await purchases.adjust(session, RULES, member, points, "fix", Stamp(actor, f"adjust-{actor}-{points}", NOW))
    draft = gifts.GiftDraft("Cake", Worth(Kind.ITEM), 7)
    await gifts.give(session, draft, gifts.Audience(member_id=member.id), Stamp(MANAGER, "gift", NOW))
    joined = await members.join(session, PHONE, profile("Mina"), RULES, Stamp(MANAGER, "join", NOW), owner_ids={OWNER})
    assert (joined.waiting, joined.member.balance) == (40, 140)
    assert (joined.own.adjusted, joined.own.vouchers) == (400, 1)
    voucher = await session.scalar(select(Voucher))
    assert voucher is not None and voucher.status == "cancelled"


async def test_a_mistyped_walk_in_phone_is_moved_to_the_right_one(chat_with: MakeChat, sessions: Sessions) -> None:
    await walk_in(await cashier_chat(chat_with, sessions), "/earn 09121234567 250000")
    manager = await manager_chat(chat_with, sessions)
    [ask] = await manager.say("/phone 09121234567 09121234568")
    assert "0912 123 4567" in ask.text and "0912 123 4568" in ask.text
    await manager.press(ask.callback_data()[0])
    welcome = await chat_with(CUSTOMER, language_code="en").join("09121234568")
    assert any("25 points from your earlier purchases" in text for text in texts(welcome))


async def test_a_walk_in_moved_onto_the_cashiers_own_number_still_gives_them_nothing(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await walk_in(await cashier_chat(chat_with, sessions), "/earn 09121234567 250000")
    manager = await manager_chat(chat_with, sessions)
    [ask] = await manager.say("/phone 09121234567 09121234568")
    await manager.press(ask.callback_data()[0])
    welcome = texts(await chat_with(CASHIER, first_name="Ali", language_code="en").join("09121234568"))
    assert not any("were waiting for you" in text for text in welcome)
    assert (await member_of(sessions, CASHIER)).balance == 100


async def test_an_unusual_amount_on_a_new_phone_says_so_in_its_confirmation(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    async with sessions() as session:
        await rules.set_rule(session, RULES, "purchase_confirm_above", 500_000, Stamp(1, "cap", NOW))
    cashier = await cashier_chat(chat_with, sessions)
    [ask] = await cashier.say("/earn 09121234567 600000")
    assert "above the amount the owner asked to confirm (500,000 toman)" in ask.text
    assert ask.buttons() == ["✅ Record on 0912 123 4567", "✖️ Cancel"]
    [plain] = await cashier.say("/earn 09121234568 400000")
    assert "owner asked to confirm" not in plain.text
    assert await count(sessions, Purchase) == 0
