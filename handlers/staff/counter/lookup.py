"""Looking a member up at the counter (/member, or a scanned member card), and a manager's /adjust of their points.

A phone no member has yet is offered as a walk-in customer: a purchase can be recorded on it, its points waiting
on the phone until the customer joins with it (`loyalty.walk_ins`).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial

from aiogram.filters import CommandObject
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from handlers.messages import CARD_PAYLOAD_PREFIX, notice_to_member, problem
from handlers.replies import counter_card, member_name
from handlers.staff.counter.common import CounterAction
from handlers.staff.counter.recording import member_or_new_phone
from loyalty import ledger, members, purchases, rules
from loyalty.codes import take_member_reference
from loyalty.errors import InsufficientPoints, InvalidNumber, LoyaltyError
from loyalty.numerals import parse_bounded
from loyalty.outbox import Outgoing, notice_key
from loyalty.staff import Role, at_least
from loyalty.stamps import Stamp
from storage.models import Member
from texts.numbers import number, phone_text
from texts.plurals import counted

MAX_ADJUST = 1_000_000  # points one correction may add or take


async def member_command(
    message: Message, command: CommandObject, session: AsyncSession, club: Club, now: datetime, role: Role
) -> None:
    """/member <code|phone>: the member's card for staff, or a walk-in's phone to record a purchase on."""
    if not command.args:
        await message.answer(_("counter.member_usage"))
        return
    try:
        customer = await member_or_new_phone(session, command.args)
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    if isinstance(customer, Member):
        await show_member(message, session, club, now, customer, role)
    else:
        await offer_walk_in(message, customer)


async def offer_walk_in(message: Message, phone: str) -> None:
    """A phone no member has yet: say so, with a button to record a purchase on it."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.record_purchase"), callback_data=CounterAction(action="earn", phone=phone))
    await message.answer(_("counter.walk_in_offer").format(phone=phone_text(phone)), reply_markup=builder.as_markup())


async def open_card(
    message: Message, command: CommandObject, session: AsyncSession, club: Club, now: datetime, role: Role
) -> None:
    """A cashier scanned a member card: show that member."""
    try:
        member = await members.find(session, (command.args or "")[len(CARD_PAYLOAD_PREFIX) :])
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    await show_member(message, session, club, now, member, role)


async def show_member(
    message: Message, session: AsyncSession, club: Club, now: datetime, member: Member, role: Role
) -> None:
    """Balance, tier, spend and last visits, with a button to record a purchase (and a manager's to undo one)."""
    club_rules = await rules.current(session, club.rules)
    text = counter_card(member, await purchases.summary(session, member, club_rules, now), club_rules, club.zone)
    await message.answer(text, reply_markup=member_actions(member, role))


def member_actions(member: Member, role: Role) -> InlineKeyboardMarkup:
    """Record a purchase for the member shown; for a manager, their recent purchases too."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.record_purchase"), callback_data=CounterAction(action="earn", member_id=member.id))
    if at_least(role, Role.MANAGER):
        recent = CounterAction(action="recent", member_id=member.id)
        builder.button(text=_("button.recent_purchases"), callback_data=recent)
    builder.adjust(1)
    return builder.as_markup()


class BadPoints(ValueError):
    """Points typed for an adjustment that are none: the reply saying why is the error's text."""


def adjust_points(typed: str) -> int:
    """The points typed for an adjustment: a whole number, not 0, within MAX_ADJUST either way; else BadPoints."""
    try:
        points = parse_bounded(typed, -MAX_ADJUST, MAX_ADJUST)
    except InvalidNumber as error:
        reply = "counter.points_not_a_number" if error.reason == "not_a_number" else "counter.points_out_of_range"
        raise BadPoints(_(reply).format(high=number(MAX_ADJUST))) from None
    if points == 0:
        raise BadPoints(_("counter.points_not_a_number"))
    return points


def adjust_refusal(error: LoyaltyError) -> str:
    """Why an adjustment was refused: more points taken than the member holds, or the counter's problem."""
    if isinstance(error, InsufficientPoints):
        return counted("counter.insufficient", error.available).format(available=number(error.available))
    return problem(error)


async def adjust_member(
    session: AsyncSession, club: Club, i18n: I18n, member: Member, points: int, reason: str, stamp: Stamp
) -> str:
    """Correct the member's points with a reason (the member is told); the staff member's confirmation. Raises what
    `purchases.adjust` raises (`adjust_refusal` words it)."""
    notices = partial(adjust_notices, i18n, member, points, reason)
    posted = await purchases.adjust(session, club.rules, member, points, reason, stamp, notices=notices)
    return counted("counter.adjusted", points).format(
        points=signed(points), name=member_name(member), reason=reason, balance=number(posted.balance)
    )


async def adjust_command(
    message: Message, command: CommandObject, session: AsyncSession, club: Club, stamp: Stamp, i18n: I18n
) -> None:
    """/adjust <member> <+/-points> <reason>: a correction with a mandatory reason; the member is told."""
    reference, rest = take_member_reference(command.args or "")
    parts = rest.split(maxsplit=1)
    if len(parts) < 2:
        await message.answer(_("counter.adjust_usage"))
        return
    typed_points, reason = parts
    try:
        points = adjust_points(typed_points)
    except BadPoints as error:
        await message.answer(str(error))
        return
    try:
        member = await members.find(session, reference)
        reply = await adjust_member(session, club, i18n, member, points, reason, stamp)
    except LoyaltyError as error:
        reply = adjust_refusal(error)
    await message.answer(reply)


def signed(points: int) -> str:
    """Points with their sign, in the reader's digits: +50, -20."""
    return number(points) if points < 0 else "+" + number(points)


def adjust_notices(i18n: I18n, member: Member, points: int, reason: str, posted: ledger.Posted) -> list[Outgoing]:
    """The member's notice of an adjustment."""
    return notice_to_member(
        i18n,
        member,
        notice_key("adjust", posted.entry.id),
        lambda: counted("member.adjusted", posted.balance).format(
            points=signed(points), reason=reason, balance=number(posted.balance)
        ),
    )
