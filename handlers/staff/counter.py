"""The counter: staff record purchases (/earn, or by scanning a member card), look members up, adjust and undo.

A purchase on a phone no member has yet (a walk-in customer) is recorded once the cashier has seen the number read
back and confirmed it (`/earn`), or pressed "record a purchase" under it (`/member`): its points wait on the phone
until the customer joins with it (`loyalty.walk_ins`).

Every handler here requires a staff role; for anyone else the filters do not match and the update
falls through to the rest of the bot, so a customer typing /earn gets the unknown-command answer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club, currency
from handlers.filters import HAS_TEXT, NOT_COMMAND, ButtonId, HasRole, PayloadStarts, staff_only
from handlers.messages import CARD_PAYLOAD_PREFIX, alert, notice_to_member, notice_to_referrer, problem, stale
from handlers.replies import counter_card, earned_for_member, earned_for_staff, member_name, phone_text
from handlers.wizard import keep, kept
from loyalty import ledger, members, purchases, rules, staff, walk_ins
from loyalty.audiences import CATEGORY_LENGTH
from loyalty.codes import looks_like_member_code, take_member_reference
from loyalty.errors import (
    InsufficientPoints,
    InvalidNumber,
    LoyaltyError,
    OwnAccount,
    UnknownMember,
)
from loyalty.money import amount_words, parse_amount
from loyalty.numerals import parse_bounded
from loyalty.outbox import Outgoing, notice_key
from loyalty.phones import normalise_phone
from loyalty.staff import Role
from loyalty.stamps import Stamp
from loyalty.text_keys import text_key
from storage.models import Member
from texts.money import amount_text, priced_text
from texts.numbers import number
from texts.plurals import counted, points_text


class Counter(StatesGroup):
    """Recording a purchase for a member opened from their card (or a walk-in's phone), and confirming a walk-in's
    phone typed with /earn."""

    amount = State()
    walk_in = State()


class CounterAction(CallbackData, prefix="ctr"):
    """A button on the staff's view of a member (or of a phone no member has yet)."""

    action: str
    member_id: ButtonId = 0
    phone: str = ""


class AmountFor(BaseModel):
    """What the amount prompt keeps: the member whose purchase it records, or the phone of a walk-in customer."""

    member: int = 0
    phone: str = ""


class WalkIn(BaseModel):
    """A purchase typed with /earn for a phone no member has, waiting for the cashier to confirm the phone; `key`: the
    update key of the /earn, which the purchase is recorded under (a second confirmation finds it)."""

    phone: str
    amount: str
    receipt: str | None
    category: str | None
    key: str


Customer = Member | str
"""Whom a purchase is for: a member, or the phone (E.164) of a walk-in customer no member has yet."""


MAX_ADJUST = 1_000_000  # points one correction may add or take
CATEGORY_MARK = "#"


class BadCategory(ValueError):
    """A `#category` the counter cannot record: `#` alone, too long, or more than one."""


def take_category(text: str) -> tuple[list[str], str | None]:
    """The words typed without their `#category`, and that category as its key (`loyalty.text_keys`)."""
    words = text.split()
    tags = [word.removeprefix(CATEGORY_MARK) for word in words if word.startswith(CATEGORY_MARK)]
    if not tags:
        return words, None
    category = text_key(tags[0])
    if len(tags) > 1 or not 0 < len(category) <= CATEGORY_LENGTH or CATEGORY_MARK in category:
        raise BadCategory(text)
    return [word for word in words if not word.startswith(CATEGORY_MARK)], category


def amount_and_receipt(words: list[str]) -> tuple[str, str | None] | None:
    """The amount as typed (maybe several words: '۲۵۰ هزار تومان') and the receipt number after it, if any;
    None when there is no amount or more than one word follows it."""
    length = amount_words(words)
    amount, rest = " ".join(words[:length]), words[length:]
    if not amount or len(rest) > 1:
        return None
    return amount, rest[0] if rest else None


async def read_words(message: Message, text: str) -> tuple[list[str], str | None] | None:
    """The words and `#category` the cashier typed; None once a bad category has been explained."""
    try:
        return take_category(text)
    except BadCategory:
        await message.answer(_("counter.category_invalid").format(length=number(CATEGORY_LENGTH)))
        return None


async def record(
    message: Message,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    customer: Customer,
    amount_text: str,
    receipt: str | None,
    category: str | None,
) -> None:
    """Record a purchase and answer the cashier; the member (and a referrer) are told through the outbox."""
    amount, notices = parse_amount(amount_text), partial(purchase_notices, i18n)
    if isinstance(customer, Member):
        earned = await purchases.record_purchase(
            session,
            club.rules,
            member_id=customer.id,
            amount=amount,
            receipt=receipt,
            stamp=stamp,
            category=category,
            notices=notices,
        )
    else:
        earned = await walk_ins.record_walk_in(
            session,
            club.rules,
            phone=customer,
            language=i18n.default_locale,
            amount=amount,
            receipt=receipt,
            stamp=stamp,
            category=category,
            notices=notices,
        )
    await message.answer(staff_confirmation(earned))


async def member_or_new_phone(session: AsyncSession, reference: str) -> Customer:
    """The member a cashier means, or the phone they typed (E.164) when no member has it yet."""
    try:
        return await members.find(session, reference)
    except UnknownMember:
        if looks_like_member_code(reference):
            raise
        return normalise_phone(reference)


def purchase_notices(i18n: I18n, earned: purchases.Earned) -> list[Outgoing]:
    """The member's notice of a new purchase, and the referrer's when it converted their referral."""
    key = notice_key("purchase", earned.purchase.id)
    notices = notice_to_member(i18n, earned.member, key, lambda: earned_for_member(earned))
    if earned.referral is not None:
        notices += notice_to_referrer(i18n, earned.referral)
    return notices


def staff_confirmation(earned: purchases.Earned) -> str:
    """The cashier's confirmation, with the purchase's category when it has one."""
    text = earned_for_staff(earned)
    if earned.purchase.category:
        text += "\n" + _("counter.earned_category").format(category=earned.purchase.category)
    return text


async def earn_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    state: FSMContext,
) -> None:
    """/earn <member code or phone> <amount> [receipt] [#category]; a phone no member has is confirmed first."""
    typed = await read_words(message, command.args or "")
    if typed is None:
        return
    words, category = typed
    reference, rest = take_member_reference(" ".join(words))
    purchase = amount_and_receipt(rest.split())
    if purchase is None:
        await message.answer(_("counter.earn_usage"))
        return
    try:
        customer = await member_or_new_phone(session, reference)
        if isinstance(customer, Member):
            await record(message, session, club, stamp, i18n, customer, *purchase, category)
        else:
            amount, receipt = purchase
            typed = WalkIn(phone=customer, amount=amount, receipt=receipt, category=category, key=stamp.update_key)
            await confirm_walk_in(message, session, club, state, typed)
    except LoyaltyError as error:
        await message.answer(problem(error))


async def confirm_walk_in(
    message: Message, session: AsyncSession, club: Club, state: FSMContext, typed: WalkIn
) -> None:
    """Read the new phone back to the cashier (refusing first what would be refused) and ask to confirm it."""
    amount = parse_amount(typed.amount)
    await walk_ins.check(session, club.rules, amount, typed.receipt)
    await keep(state, Counter.walk_in, typed)
    phone = phone_text(typed.phone)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.record_walk_in").format(phone=phone), callback_data=CounterAction(action="walk_in"))
    builder.button(text=_("button.cancel"), callback_data=CounterAction(action="cancel"))
    builder.adjust(1)
    text = _("counter.walk_in_confirm").format(phone=phone, amount=amount_text(amount, await currency(session, club)))
    await message.answer(text, reply_markup=builder.as_markup())


async def confirmed_walk_in(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """The cashier confirmed the walk-in's phone: record the purchase under the key of the /earn that typed it."""
    if await state.get_state() != Counter.walk_in.state or not isinstance(query.message, Message):
        stale(callback_answer)
        return
    typed = await kept(state, WalkIn)
    await state.clear()
    at_earn = replace(stamp, update_key=typed.key)
    try:
        await record(
            query.message, session, club, at_earn, i18n, typed.phone, typed.amount, typed.receipt, typed.category
        )
    except LoyaltyError as error:
        await query.message.answer(problem(error))


async def member_command(
    message: Message, command: CommandObject, session: AsyncSession, club: Club, now: datetime
) -> None:
    """/member <code|phone>: the member's card for staff."""
    if not command.args:
        await message.answer(_("counter.member_usage"))
        return
    try:
        customer = await member_or_new_phone(session, command.args)
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    if isinstance(customer, Member):
        await show_member(message, session, club, now, customer)
    else:
        await offer_walk_in(message, customer)


async def offer_walk_in(message: Message, phone: str) -> None:
    """A phone no member has yet: say so, with a button to record a purchase on it."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.record_purchase"), callback_data=CounterAction(action="earn", phone=phone))
    await message.answer(_("counter.walk_in_offer").format(phone=phone_text(phone)), reply_markup=builder.as_markup())


async def show_member(message: Message, session: AsyncSession, club: Club, now: datetime, member: Member) -> None:
    """Balance, tier, spend and last visits, with a button to record a purchase."""
    club_rules = await rules.current(session, club.rules)
    text = counter_card(member, await purchases.summary(session, member, club_rules, now), club_rules, club.zone)
    await message.answer(text, reply_markup=member_actions(member))


def member_actions(member: Member) -> InlineKeyboardMarkup:
    """Record a purchase for the member shown."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.record_purchase"), callback_data=CounterAction(action="earn", member_id=member.id))
    return builder.as_markup()


async def open_card(message: Message, command: CommandObject, session: AsyncSession, club: Club, now: datetime) -> None:
    """A cashier scanned a member card: show that member."""
    try:
        member = await members.find(session, (command.args or "")[len(CARD_PAYLOAD_PREFIX) :])
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    await show_member(message, session, club, now, member)


async def ask_amount(
    query: CallbackQuery,
    callback_data: CounterAction,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    """The cashier pressed "record purchase" under a member or a walk-in's phone: ask for the amount."""
    member = await session.get(Member, callback_data.member_id) if callback_data.member_id else None
    if query.message is None or (member is None and not callback_data.phone):
        stale(callback_answer)
        return
    try:
        if member is not None:
            staff.refuse_own_account(member, query.from_user.id, "purchase")
    except OwnAccount as error:
        alert(callback_answer, problem(error))
        return
    name = member_name(member) if member is not None else phone_text(callback_data.phone)
    await keep(state, Counter.amount, AmountFor(member=member.id if member else 0, phone=callback_data.phone))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.cancel"), callback_data=CounterAction(action="cancel"))
    await query.message.answer(_("counter.ask_amount").format(name=name), reply_markup=builder.as_markup())


async def got_amount(
    message: Message, state: FSMContext, session: AsyncSession, club: Club, stamp: Stamp, i18n: I18n
) -> None:
    """The amount (and maybe a receipt number and a `#category`) for the member opened from the card."""
    typed = await read_words(message, message.text or "")
    if typed is None:
        return
    words, category = typed
    customer = await prompted_for(session, await kept(state, AmountFor))
    purchase = amount_and_receipt(words)
    if customer is None or purchase is None:
        await message.answer(_("counter.ask_amount_again"))
        return
    try:
        await record(message, session, club, stamp, i18n, customer, *purchase, category)
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    await state.clear()


async def prompted_for(session: AsyncSession, answers: AmountFor) -> Customer | None:
    """Whom the amount prompt records for: the walk-in's phone, or the member (None if gone)."""
    return answers.phone or await session.get(Member, answers.member)


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    """Leave the amount prompt."""
    await state.clear()
    if query.message is not None:
        await query.message.answer(_("counter.cancelled"))


async def adjust_command(
    message: Message, command: CommandObject, session: AsyncSession, club: Club, stamp: Stamp, i18n: I18n
) -> None:
    """/adjust <member> <+/-points> <reason>: a correction with a mandatory reason; the member is told."""
    reference, rest = take_member_reference(command.args or "")
    parts = rest.split(maxsplit=1)
    if len(parts) < 2:
        await message.answer(_("counter.adjust_usage"))
        return
    points_text, reason = parts
    try:
        points = parse_bounded(points_text, -MAX_ADJUST, MAX_ADJUST)
    except InvalidNumber as error:
        reply = "counter.points_not_a_number" if error.reason == "not_a_number" else "counter.points_out_of_range"
        await message.answer(_(reply).format(high=number(MAX_ADJUST)))
        return
    if points == 0:
        await message.answer(_("counter.points_not_a_number"))
        return
    try:
        member = await members.find(session, reference)
        notices = partial(adjust_notices, i18n, member, points, reason)
        posted = await purchases.adjust(session, club.rules, member, points, reason, stamp, notices=notices)
    except InsufficientPoints as error:
        await message.answer(counted("counter.insufficient", error.available).format(available=number(error.available)))
        return
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    shown = number(points) if points < 0 else "+" + number(points)
    await message.answer(
        counted("counter.adjusted", points).format(
            points=shown, name=member_name(member), reason=reason, balance=number(posted.balance)
        )
    )


def adjust_notices(i18n: I18n, member: Member, points: int, reason: str, posted: ledger.Posted) -> list[Outgoing]:
    """The member's notice of an adjustment."""
    return notice_to_member(
        i18n,
        member,
        notice_key("adjust", posted.entry.id),
        lambda: counted("member.adjusted", posted.balance).format(
            points=number(points) if points < 0 else "+" + number(points), reason=reason, balance=number(posted.balance)
        ),
    )


async def undo_command(
    message: Message, command: CommandObject, session: AsyncSession, club: Club, stamp: Stamp, i18n: I18n
) -> None:
    """/undo <receipt>: reverse a purchase; the member is told."""
    receipt = (command.args or "").strip()
    if not receipt or " " in receipt:
        await message.answer(_("counter.undo_usage"))
        return
    try:
        notices = partial(undo_notices, i18n, await currency(session, club))
        undone = await purchases.undo_purchase(session, receipt, stamp, notices=notices)
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    text = counted("counter.undone", undone.taken).format(
        receipt=receipt, points=number(undone.taken), name=member_name(undone.member), balance=number(undone.balance)
    )
    if undone.shortfall:
        text += "\n" + _("counter.undone_shortfall").format(points=number(undone.shortfall))
    if undone.referral is not None:
        taken = undone.referral.referrer_taken + undone.referral.friend_taken
        text += "\n" + counted("counter.undone_referral", taken).format(points=number(taken))
    await message.answer(text)


def undo_notices(i18n: I18n, currency: str, undone: purchases.Undone) -> list[Outgoing]:
    """The member's notice of a purchase undone, its amount in the unit `currency`."""
    return notice_to_member(
        i18n,
        undone.member,
        notice_key("undo", undone.purchase.id),
        lambda: counted("member.undone", undone.taken).format(
            amount=priced_text(undone.purchase.amount, currency),
            points=number(undone.taken),
            balance=points_text(undone.balance),
        ),
    )


def create_router() -> Router:
    """Routes for cashiers, managers and owners."""
    router = staff_only(Router(name="counter"), Role.CASHIER)
    manager = HasRole(Role.MANAGER)
    router.message.register(open_card, CommandStart(deep_link=True), PayloadStarts(CARD_PAYLOAD_PREFIX))
    router.message.register(earn_command, Command("earn"))
    router.message.register(member_command, Command("member"))
    router.message.register(adjust_command, Command("adjust"), manager)
    router.message.register(undo_command, Command("undo"), manager)
    router.callback_query.register(cancel, CounterAction.filter(F.action == "cancel"))
    router.callback_query.register(ask_amount, CounterAction.filter(F.action == "earn"))
    router.callback_query.register(confirmed_walk_in, CounterAction.filter(F.action == "walk_in"))
    router.message.register(got_amount, StateFilter(Counter.amount), HAS_TEXT, NOT_COMMAND)
    return router
