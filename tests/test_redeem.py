"""Vouchers at the counter through the real dispatcher: staff look a code up and mark it used; customers can't."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import create_i18n
from loyalty import gifts, rewards, voucher_use, vouchers
from loyalty.staff import Role
from loyalty.stamps import Stamp
from loyalty.voucher_codes import display, new_voucher_code
from loyalty.vouchers import Kind, Status, VoucherInfo, Worth
from storage.models import Member, Voucher
from tests.chat import Chat, Delivered, Reply, to
from tests.factories import NOW, mistyped, new_reward
from tests.lookups import audit_actions
from tests.people import CASHIER, CUSTOMER, OWNER, customer, hire
from texts.worth import worth_text

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
DAY = timedelta(days=1)
TO_PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_updates = itertools.count(70_000_000)


async def bought(sessions: Sessions, member: Member, **reward: object) -> VoucherInfo:
    """A voucher the member bought with 50 of their welcome points: a free coffee unless told otherwise."""
    async with sessions() as session:
        added = await new_reward(session, **({"cost": 50} | reward))
        redeemed = await rewards.redeem(
            session, added.id, Stamp(member.telegram_id, "k", NOW), member_id=member.id, key=f"redeem:{next(_updates)}"
        )
    return redeemed.voucher


async def gifted(sessions: Sessions, member: Member, worth: Worth, at=NOW, days: int = 7) -> VoucherInfo:
    """A gift voucher to the member, given `at`, valid `days`."""
    draft = gifts.GiftDraft("Yalda gift", worth, days)
    async with sessions() as session:
        given = await gifts.give(
            session, draft, gifts.Audience(member_id=member.id), Stamp(OWNER, str(next(_updates)), at)
        )
    assert given.voucher is not None
    return given.voucher


async def stored(sessions: Sessions, voucher: VoucherInfo) -> Voucher:
    async with sessions() as session:
        return await session.get_one(Voucher, voucher.id)


async def at_the_counter(
    chat_with: MakeChat, sessions: Sessions, language: str = "en", **reward: object
) -> tuple[Chat, Member, VoucherInfo]:
    """A member Sara with a voucher, and a cashier (named Staff) ready to redeem it."""
    _, member = await customer(chat_with, sessions)
    voucher = await bought(sessions, member, **reward)
    await hire(sessions, CASHIER, Role.CASHIER)
    return chat_with(CASHIER, first_name="Ali", language_code=language), member, voucher


def worth_in(language: str, worth: Worth) -> str:
    """What a voucher is worth as the bot words it (the staff's shared formatter) in `language`."""
    i18n = create_i18n(language)
    with i18n.context(), i18n.use_locale(language):
        return worth_text(worth, "toman")


def alert(replies: list[Reply]) -> Reply:
    [answer] = [reply for reply in replies if reply.name == "AnswerCallbackQuery"]
    return answer


# --- looking a voucher up ----------------------------------------------------------------------------------------


async def test_a_cashier_sees_whose_voucher_it_is_what_it_is_worth_and_until_when(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    cashier, member, voucher = await at_the_counter(chat_with, sessions)
    [view] = await cashier.say(f"/redeem {display(voucher.code)}")
    grouped_code = f"{member.code[:4]} {member.code[4:]}"
    assert f"Voucher {display(voucher.code)}" in view.text
    assert f"Sara · {grouped_code}" in view.text
    assert f"Coffee — {worth_in('en', Worth(Kind.ITEM))}\n" in view.text
    assert "Issued 22 Nov 2026 · valid until 22 Dec 2026, 12:30" in view.text
    assert "Valid: it can be used now" in view.text
    assert view.buttons() == ["✅ Mark as used", "✖️ Close"]
    assert await audit_actions(sessions, CASHIER) == ["voucher.lookup"]


@pytest.mark.parametrize(
    "typed",
    [
        lambda code: code.lower(),
        lambda code: display(code).lower(),
        lambda code: f"{code[:3]} {code[3:6]} - {code[6:]}",
        lambda code: display(code).translate(TO_PERSIAN).lower(),
    ],
    ids=["lowercase", "dashes", "spaces", "persian-digits"],
)
async def test_a_code_is_found_however_it_is_typed(chat_with: MakeChat, sessions: Sessions, typed) -> None:
    cashier, _, voucher = await at_the_counter(chat_with, sessions)
    [view] = await cashier.say(f"/redeem {typed(voucher.code)}")
    assert f"Voucher {display(voucher.code)}" in view.text and view.buttons()


async def test_a_scanned_voucher_qr_opens_the_voucher_for_staff(chat_with: MakeChat, sessions: Sessions) -> None:
    cashier, _, voucher = await at_the_counter(chat_with, sessions)
    [view] = await cashier.say(f"/start voucher_{voucher.code}")
    assert f"Voucher {display(voucher.code)}" in view.text and "✅ Mark as used" in view.buttons()


async def test_a_persian_cashier_reads_jalali_dates_and_persian_digits(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    voucher = await gifted(sessions, member, Worth(Kind.PERCENT, 15, cap=50_000))
    await hire(sessions, CASHIER, Role.CASHIER)
    [view] = await chat_with(CASHIER, language_code="fa").say(f"/redeem {voucher.code}")
    assert f"بن {display(voucher.code)}" in view.text
    assert f"Yalda gift — {worth_in('fa', voucher.worth)}\n" in view.text and "۱۵٪" in view.text
    assert "صدور: ۱ آذر ۱۴۰۵ · معتبر تا: ۸ آذر ۱۴۰۵، ۱۲:۳۰" in view.text
    assert view.buttons() == ["✅ ثبت استفاده", "✖️ بستن"]


@pytest.mark.parametrize(
    ("worth", "numbers"),
    [
        (Worth(Kind.FIXED, 50_000), ["50,000"]),
        (Worth(Kind.PERCENT, 10), ["10%"]),
        (Worth(Kind.PERCENT, 20, cap=100_000), ["20%", "100,000"]),
        (Worth(Kind.ITEM), []),
    ],
)
async def test_each_kind_of_worth_is_spelt_out(
    chat_with: MakeChat, sessions: Sessions, worth: Worth, numbers: list[str]
) -> None:
    _, member = await customer(chat_with, sessions)
    voucher = await gifted(sessions, member, worth)
    [view] = await chat_with(OWNER, language_code="en").say(f"/redeem {voucher.code}")
    shown = worth_in("en", worth)
    assert f"Yalda gift — {shown}\n" in view.text and all(part in shown for part in numbers)


# --- marking it used ---------------------------------------------------------------------------------------------


async def test_marking_as_used_edits_the_view_tells_the_member_and_is_audited(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    cashier, _, voucher = await at_the_counter(chat_with, sessions)
    [view] = await cashier.say(f"/redeem {voucher.code}")
    replies = await cashier.press(view.callback_data()[0])
    [edited] = [reply for reply in replies if reply.name == "EditMessageText"]
    [notice] = to(await delivered(), CUSTOMER)
    assert "Marked as used on 22 Nov 2026, 12:30" in edited.text and edited.buttons() == []
    assert alert(replies).text == "Marked as used."
    assert f"بن «Coffee» شما ({display(voucher.code)})" in notice.text and "۱ آذر ۱۴۰۵، ۱۲:۳۰" in notice.text
    row = await stored(sessions, voucher)
    assert (row.status, row.used_by, row.used_at) == (Status.USED, CASHIER, NOW)
    assert await audit_actions(sessions, CASHIER) == ["voucher.lookup", "voucher.use"]


async def test_a_second_press_is_refused_with_who_used_it_and_when(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    cashier, _, voucher = await at_the_counter(chat_with, sessions)
    [view] = await cashier.say(f"/redeem {voucher.code}")
    await cashier.press(view.callback_data()[0])
    again = await cashier.press(view.callback_data()[0])
    reason = "Already used on 22 Nov 2026, 12:30 by Staff"
    assert reason in alert(again).text and alert(again).method.show_alert
    [edited] = [reply for reply in again if reply.name == "EditMessageText"]
    assert reason in edited.text and edited.buttons() == []
    assert len(to(await delivered(), CUSTOMER)) == 1  # the member was told once
    assert await audit_actions(sessions, CASHIER) == ["voucher.lookup", "voucher.use"]


async def test_two_cashiers_pressing_at_once_use_the_voucher_once(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    first, _, voucher = await at_the_counter(chat_with, sessions)
    await hire(sessions, 8, Role.CASHIER)
    second = chat_with(8, language_code="en")
    [view] = await first.say(f"/redeem {voucher.code}")
    start = len(first.session.requests)
    await asyncio.gather(first.press(view.callback_data()[0]), second.press(view.callback_data()[0]))
    answers = [Reply(method) for method in first.session.requests[start:]]
    toasts = {reply.text.split(". ")[0] for reply in answers if reply.name == "AnswerCallbackQuery"}
    assert toasts == {"Marked as used.", "⛔ Already used on 22 Nov 2026, 12:30 by Staff"}
    assert len(to(await delivered(), CUSTOMER)) == 1
    assert (await audit_actions(sessions, CASHIER) + await audit_actions(sessions, 8)).count("voucher.use") == 1


async def test_closing_the_view_leaves_the_voucher_active(chat_with: MakeChat, sessions: Sessions) -> None:
    cashier, _, voucher = await at_the_counter(chat_with, sessions)
    [view] = await cashier.say(f"/redeem {voucher.code}")
    replies = await cashier.press(view.callback_data()[1])
    assert [reply.name for reply in replies] == ["EditMessageReplyMarkup", "AnswerCallbackQuery"]
    assert alert(replies).text == "Closed. Nothing was changed."
    assert (await stored(sessions, voucher)).status == Status.ACTIVE


# --- customers ---------------------------------------------------------------------------------------------------


async def test_a_customer_typing_redeem_gets_the_unknown_command_answer(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    chat, member = await customer(chat_with, sessions)
    voucher = await bought(sessions, member)
    [unknown] = await chat.say("/foo")
    for command in (f"/redeem {voucher.code}", "/redeem"):
        [reply] = await chat.say(command)
        assert reply.text == unknown.text
    [forged] = await chat.press(f"rdm:use:{voucher.id}")
    [stale] = await chat.press("gone:1")
    assert forged.text == stale.text
    assert (await stored(sessions, voucher)).status == Status.ACTIVE
    assert await audit_actions(sessions, CUSTOMER) == ["reward.redeem"]  # buying it; no look-up


async def test_a_member_opening_a_voucher_link_gets_the_ordinary_start(chat_with: MakeChat, sessions: Sessions) -> None:
    chat, member = await customer(chat_with, sessions)
    voucher = await bought(sessions, member)
    [welcome] = await chat.say("/start")
    [reply] = await chat.say(f"/start voucher_{voucher.code}")
    assert reply.text == welcome.text and "Sara" in reply.text
    assert await audit_actions(sessions, CUSTOMER) == ["reward.redeem"]  # buying it; no look-up


# --- vouchers that cannot be used, and codes that are not vouchers ----------------------------------------------


async def used(sessions: Sessions, voucher: VoucherInfo) -> None:
    async with sessions() as session:
        await voucher_use.use(session, voucher.id, Stamp(CASHIER, "k", NOW - DAY))


async def cancelled(sessions: Sessions, voucher: VoucherInfo) -> None:
    async with sessions() as session:
        await vouchers.cancel(session, voucher.id, Stamp(1, "k", NOW - DAY), member_id=voucher.member_id)


@pytest.mark.parametrize(
    ("spoil", "reason", "status"),
    [
        (used, "⛔ Already used on 21 Nov 2026, 12:30 by Staff", Status.USED),
        (cancelled, "🚫 Cancelled on 21 Nov 2026, 12:30; it can no longer be used", Status.CANCELLED),
    ],
)
async def test_a_used_or_cancelled_voucher_shows_why_and_no_button(
    chat_with: MakeChat, sessions: Sessions, spoil, reason: str, status: Status
) -> None:
    cashier, _, voucher = await at_the_counter(chat_with, sessions)
    await spoil(sessions, voucher)
    [view] = await cashier.say(f"/redeem {voucher.code}")
    assert reason in view.text and view.buttons() == []
    assert (await stored(sessions, voucher)).status == status


async def test_an_expired_voucher_shows_when_it_expired_and_no_button(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    voucher = await gifted(sessions, member, Worth(Kind.FIXED, 20_000), at=NOW - 10 * DAY, days=7)
    [view] = await chat_with(OWNER, language_code="en").say(f"/redeem {voucher.code}")
    assert "⌛ Expired on 19 Nov 2026, 12:30; it can no longer be used" in view.text and view.buttons() == []
    assert (await stored(sessions, voucher)).status == Status.ACTIVE  # expired is derived, nothing stored


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        (lambda code: mistyped(code), "a character seems to be mistyped"),
        (lambda code: new_voucher_code(), "No voucher has the code"),
        (lambda code: "hello", "That is not a voucher code"),
        (lambda code: code[:9], "That is not a voucher code"),
    ],
    ids=["mistyped", "unknown", "not-a-code", "too-short"],
)
async def test_a_wrong_code_gets_its_own_answer_and_nothing_changes(
    chat_with: MakeChat, sessions: Sessions, typed, answer: str
) -> None:
    cashier, _, voucher = await at_the_counter(chat_with, sessions)
    [reply] = await cashier.say(f"/redeem {typed(voucher.code)}")
    assert answer in reply.text and reply.buttons() == []
    assert (await stored(sessions, voucher)).status == Status.ACTIVE
    assert "voucher.use" not in await audit_actions(sessions, CASHIER)


async def test_an_unknown_code_is_shown_grouped(chat_with: MakeChat, sessions: Sessions) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)
    code = new_voucher_code()
    [reply] = await chat_with(CASHIER, language_code="en").say(f"/redeem {code.lower()}")
    assert reply.text == f"No voucher has the code {display(code)}. Nothing was changed."


async def test_after_five_wrong_codes_the_cashier_is_asked_to_wait(chat_with: MakeChat, sessions: Sessions) -> None:
    cashier, _, voucher = await at_the_counter(chat_with, sessions)
    for _ in range(5):
        [miss] = await cashier.say(f"/redeem {new_voucher_code()}")
        assert "No voucher has the code" in miss.text
    [wait] = await cashier.say(f"/redeem {voucher.code}")
    assert wait.text == "Too many wrong codes. Please wait 60 seconds and try again."
    assert await audit_actions(sessions, CASHIER) == ["voucher.miss"] * 5 + ["voucher.throttled"]


# --- the prompt --------------------------------------------------------------------------------------------------


async def test_a_bare_redeem_asks_for_the_code_until_one_is_found(chat_with: MakeChat, sessions: Sessions) -> None:
    cashier, _, voucher = await at_the_counter(chat_with, sessions)
    [prompt] = await cashier.say("/redeem")
    assert "Send the voucher code" in prompt.text and prompt.buttons() == ["✖️ Close"]
    [not_a_code] = await cashier.say("hello")
    assert "That is not a voucher code" in not_a_code.text
    [typo] = await cashier.say(mistyped(voucher.code))
    assert "mistyped" in typo.text
    [view] = await cashier.say(display(voucher.code).lower())
    assert f"Voucher {display(voucher.code)}" in view.text
    after = await cashier.say(voucher.code)  # the prompt is over
    assert not any("Voucher" in reply.text for reply in after)
    assert await audit_actions(sessions, CASHIER) == ["voucher.miss", "voucher.lookup"]


async def test_closing_the_prompt_ends_it(chat_with: MakeChat, sessions: Sessions) -> None:
    cashier, _, voucher = await at_the_counter(chat_with, sessions)
    [prompt] = await cashier.say("/redeem")
    await cashier.press(prompt.callback_data()[0])
    after = await cashier.say(voucher.code)
    assert not any("Voucher" in reply.text for reply in after)
    assert await audit_actions(sessions, CASHIER) == []


async def test_a_command_at_the_prompt_ends_it(chat_with: MakeChat, sessions: Sessions) -> None:
    cashier, member, voucher = await at_the_counter(chat_with, sessions)
    await cashier.say("/redeem")
    [shown] = await cashier.say(f"/member {member.code}")
    assert member.first_name in shown.text
    after = await cashier.say(voucher.code)
    assert not any("Voucher" in reply.text for reply in after)
    assert await audit_actions(sessions, CASHIER) == []
