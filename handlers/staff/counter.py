"""The counter: staff record purchases (/earn, or by scanning a member card), look members up, adjust and undo.

An amount far above the shop's usual one (`purchases.unusual`) is confirmed by the cashier before anything is written;
the confirmation records it under the key of the update that typed it, so a second press records nothing more. The
cashier's confirmation of a purchase has an Undo button, theirs for a few minutes (`purchases.QUICK_UNDO`); a manager
undoes any recent purchase from the member's view.

Every handler here requires a staff role; for anyone else the filters do not match and the update
falls through to the rest of the bot, so a customer typing /earn gets the unknown-command answer.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from functools import partial

from aiogram import Bot, F, Router
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

from handlers.club import Club
from handlers.filters import HAS_TEXT, NOT_COMMAND, ButtonId, HasRole, PayloadStarts, staff_only
from handlers.messages import (
    CARD_PAYLOAD_PREFIX,
    alert,
    notice_to_member,
    notice_to_referrer,
    problem,
    show,
    stale,
)
from handlers.replies import counter_card, earned_for_member, earned_for_staff
from handlers.wizard import keep, kept
from loyalty import ledger, members, purchases, rules, staff
from loyalty.audiences import CATEGORY_LENGTH
from loyalty.calendar import format_moment
from loyalty.codes import take_member_reference
from loyalty.errors import (
    AlreadyReversed,
    InsufficientPoints,
    InvalidNumber,
    LoyaltyError,
    OwnAccount,
    UndoRefused,
)
from loyalty.money import amount_words, parse_amount
from loyalty.numerals import parse_bounded
from loyalty.outbox import Outgoing, notice_key
from loyalty.staff import Role, at_least
from loyalty.stamps import Stamp
from loyalty.text_keys import text_key
from storage.models import Member, Purchase
from texts.languages import language
from texts.numbers import number
from texts.plurals import counted, points_text
from texts.tiers import tier_name


class Counter(StatesGroup):
    """Recording a purchase for a member opened from their card."""

    amount = State()
    confirm = State()


class CounterAction(CallbackData, prefix="ctr"):
    """A button on the staff's view of a member."""

    action: str
    member_id: ButtonId = 0


class Confirm(CallbackData, prefix="ctrok"):
    """The cashier's answer to "record this unusual amount?": `token` names the question (the typed message)."""

    record: bool
    token: ButtonId


class PurchaseAction(CallbackData, prefix="ctrp"):
    """A button on one purchase: the cashier's quick undo, a manager's undo (asked, then done), or the list."""

    action: str
    purchase_id: ButtonId


class AmountFor(BaseModel):
    """What the amount prompt keeps: the member whose purchase it records."""

    member: int


class Pending(BaseModel):
    """A purchase of an unusual amount waiting for the cashier's confirmation, and the update that typed it."""

    member: int
    amount: int
    receipt: str | None
    category: str | None
    key: str  # the update key of the typed message: the purchase's key when it is confirmed
    update_id: int | None
    token: int  # the typed message's id, on the buttons: the buttons of an older question are stale
    from_prompt: bool  # typed at the amount prompt, which Cancel goes back to


MAX_ADJUST = 1_000_000  # points one correction may add or take
RECENT = 10  # purchases in a manager's list of a member's recent purchases
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


async def record_or_ask(
    message: Message,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    state: FSMContext,
    member: Member,
    typed: tuple[str, str | None, str | None],
    from_prompt: bool,
) -> None:
    """Record the purchase typed (amount, receipt, category), or first ask the cashier to confirm an unusual amount."""
    amount_text, receipt, category = typed
    amount = parse_amount(amount_text)
    staff.refuse_own_account(member, stamp.actor_id, "purchase")
    pending = Pending(
        member=member.id,
        amount=amount,
        receipt=receipt,
        category=category,
        key=stamp.update_key,
        update_id=stamp.update_id,
        token=message.message_id,
        from_prompt=from_prompt,
    )
    why = await purchases.unusual(session, club.rules, amount)
    if why is None:
        text, markup = await record(session, club, stamp, i18n, pending)
        await state.clear()
        await message.answer(text, reply_markup=markup)
        return
    await keep(state, Counter.confirm, pending)
    await message.answer(unusual_text(why, amount, member), reply_markup=confirm_buttons(pending))


def unusual_text(why: purchases.Unusual, amount: int, member: Member) -> str:
    """The question to the cashier about an unusual amount, with why it is asked."""
    if why.cap is not None:
        reason = _("counter.above_cap").format(cap=number(why.cap))
    else:
        reason = _("counter.above_usual").format(times=number(purchases.UNUSUAL_FACTOR), usual=number(why.usual or 0))
    return _("counter.confirm_amount").format(amount=number(amount), name=member.first_name, reason=reason)


def confirm_buttons(pending: Pending) -> InlineKeyboardMarkup:
    """Yes, record the amount; or cancel."""
    builder = InlineKeyboardBuilder()
    label = _("button.confirm_amount").format(amount=number(pending.amount))
    builder.button(text=label, callback_data=Confirm(record=True, token=pending.token))
    builder.button(text=_("button.cancel"), callback_data=Confirm(record=False, token=pending.token))
    builder.adjust(1)
    return builder.as_markup()


async def record(
    session: AsyncSession, club: Club, stamp: Stamp, i18n: I18n, pending: Pending
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Record a purchase; the cashier's confirmation with its Undo button. The member (and a referrer) are told
    through the outbox."""
    earned = await purchases.record_purchase(
        session,
        club.rules,
        member_id=pending.member,
        amount=pending.amount,
        receipt=pending.receipt,
        stamp=stamp,
        category=pending.category,
        notices=partial(purchase_notices, i18n),
    )
    if earned.duplicate or earned.purchase.reversed_at is not None:
        return staff_confirmation(earned), None
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.undo"), callback_data=PurchaseAction(action="quick", purchase_id=earned.purchase.id))
    return staff_confirmation(earned), builder.as_markup()


async def waiting(state: FSMContext, token: int) -> Pending | None:
    """The purchase waiting for confirmation under the question `token`, if that question is still open."""
    if await state.get_state() != Counter.confirm.state:
        return None
    pending = await kept(state, Pending)
    return pending if pending.token == token else None


async def confirmed(
    query: CallbackQuery,
    callback_data: Confirm,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Yes, record the unusual amount: recorded under the key of the typed message, once however often pressed."""
    pending = await waiting(state, callback_data.token)
    if pending is None:
        alert(callback_answer, _("counter.confirm_stale"))
        return
    await state.clear()
    try:
        view = await record(
            session, club, replace(stamp, update_key=pending.key, update_id=pending.update_id), i18n, pending
        )
    except LoyaltyError as error:
        view = problem(error), None
    await show(query, bot, *view)


async def not_confirmed(
    query: CallbackQuery,
    callback_data: Confirm,
    state: FSMContext,
    session: AsyncSession,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Cancel the unusual amount: nothing written; typed at the amount prompt, the prompt asks again."""
    pending = await waiting(state, callback_data.token)
    member = await session.get(Member, pending.member) if pending is not None else None
    if pending is None or member is None:
        alert(callback_answer, _("counter.confirm_stale"))
        return
    if not pending.from_prompt:
        await state.clear()
        await show(query, bot, _("counter.cancelled"), None)
        return
    await state.set_data({})
    await keep(state, Counter.amount, AmountFor(member=member.id))
    await show(query, bot, _("counter.amount_again").format(name=member.first_name), cancel_button())


async def still_asking(message: Message, state: FSMContext) -> None:
    """Something typed while the unusual amount waits for an answer: the question's buttons again."""
    pending = await kept(state, Pending)
    text = _("counter.confirm_first").format(amount=number(pending.amount))
    await message.answer(text, reply_markup=confirm_buttons(pending))


def cancel_button() -> InlineKeyboardMarkup:
    """Leave the amount prompt."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.cancel"), callback_data=CounterAction(action="cancel"))
    return builder.as_markup()


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
    """/earn <member code or phone> <amount> [receipt] [#category]."""
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
        member = await members.find(session, reference)
        await record_or_ask(message, session, club, stamp, i18n, state, member, (*purchase, category), False)
    except LoyaltyError as error:
        await message.answer(problem(error))


async def member_command(
    message: Message, command: CommandObject, session: AsyncSession, club: Club, now: datetime, role: Role
) -> None:
    """/member <code|phone>: the member's card for staff."""
    if not command.args:
        await message.answer(_("counter.member_usage"))
        return
    try:
        member = await members.find(session, command.args)
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


async def ask_amount(
    query: CallbackQuery,
    callback_data: CounterAction,
    session: AsyncSession,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    """The cashier pressed "record purchase": ask for the amount."""
    member = await session.get(Member, callback_data.member_id)
    if member is None or query.message is None:
        stale(callback_answer)
        return
    try:
        staff.refuse_own_account(member, query.from_user.id, "purchase")
    except OwnAccount as error:
        alert(callback_answer, problem(error))
        return
    await keep(state, Counter.amount, AmountFor(member=member.id))
    await query.message.answer(_("counter.ask_amount").format(name=member.first_name), reply_markup=cancel_button())


async def got_amount(
    message: Message, state: FSMContext, session: AsyncSession, club: Club, stamp: Stamp, i18n: I18n
) -> None:
    """The amount (and maybe a receipt number and a `#category`) for the member opened from the card."""
    typed = await read_words(message, message.text or "")
    if typed is None:
        return
    words, category = typed
    member = await session.get(Member, (await kept(state, AmountFor)).member)
    purchase = amount_and_receipt(words)
    if member is None or purchase is None:
        await message.answer(_("counter.ask_amount_again"))
        return
    try:
        await record_or_ask(message, session, club, stamp, i18n, state, member, (*purchase, category), True)
    except LoyaltyError as error:
        await message.answer(problem(error))


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
            points=shown, name=member.first_name, reason=reason, balance=number(posted.balance)
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
        undone = await purchases.undo_purchase(session, club.rules, receipt, stamp, notices=partial(undo_notices, i18n))
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    await message.answer(undone_text(undone))


def undone_text(undone: purchases.Undone) -> str:
    """What staff are told of a purchase undone: the points taken back, and what else it changed."""
    purchase = undone.purchase
    values = {"points": number(undone.taken), "name": undone.member.first_name, "balance": number(undone.balance)}
    if purchase.receipt:
        text = counted("counter.undone", undone.taken).format(receipt=purchase.receipt, **values)
    else:
        text = counted("counter.undone_amount", undone.taken).format(amount=number(purchase.amount), **values)
    if undone.shortfall:
        text += "\n" + _("counter.undone_shortfall").format(points=number(undone.shortfall))
    if undone.referral is not None:
        taken = undone.referral.referrer_taken + undone.referral.friend_taken
        text += "\n" + counted("counter.undone_referral", taken).format(points=number(taken))
    if undone.tier_change is not None:
        text += "\n" + _("counter.undone_tier").format(
            name=undone.member.first_name, tier=tier_name(undone.member.tier)
        )
    return text


def undo_notices(i18n: I18n, undone: purchases.Undone) -> list[Outgoing]:
    """The member's notice of a purchase undone, with their new tier when it changed (the daily review's words)."""
    return notice_to_member(
        i18n, undone.member, notice_key("undo", undone.purchase.id), partial(undone_for_member, undone)
    )


def undone_for_member(undone: purchases.Undone) -> str:
    """The member's words of a purchase undone (and of their tier, if it moved)."""
    text = counted("member.undone", undone.taken).format(
        amount=number(undone.purchase.amount), points=number(undone.taken), balance=points_text(undone.balance)
    )
    change = undone.tier_change
    if change is not None:
        key = "member.tier_up" if change.upgrade else "member.tier_down"
        text += "\n\n" + _(key).format(tier=tier_name(change.new))
    return text


async def quick_undo(
    query: CallbackQuery,
    callback_data: PurchaseAction,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    role: Role,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Undo on the cashier's confirmation: theirs for a few minutes (a manager's at any time); refused politely."""
    own_within = None if at_least(role, Role.MANAGER) else purchases.QUICK_UNDO
    try:
        undone = await purchases.undo_by_id(
            session,
            club.rules,
            callback_data.purchase_id,
            stamp,
            notices=partial(undo_notices, i18n),
            own_within=own_within,
        )
    except LoyaltyError as error:
        alert(callback_answer, undo_problem(error))
        return
    await show(query, bot, undone_text(undone), None)


def undo_problem(error: LoyaltyError) -> str:
    """Why a purchase's Undo button did nothing."""
    if isinstance(error, UndoRefused):
        minutes = number(int(purchases.QUICK_UNDO.total_seconds()) // 60)
        texts = {"not_yours": _("counter.undo_not_yours"), "too_late": _("counter.undo_too_late")}
        return texts[error.reason].format(minutes=minutes)
    if isinstance(error, AlreadyReversed):
        return _("counter.undo_already")
    return _("fallback.stale_button")


async def recent_purchases(
    query: CallbackQuery,
    callback_data: CounterAction,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """A manager's list of the member's recent purchases, each standing one with its Undo button."""
    member = await session.get(Member, callback_data.member_id)
    if member is None:
        stale(callback_answer)
        return
    await show(query, bot, *await recent_view(session, club, member))


async def recent_view(
    session: AsyncSession, club: Club, member: Member, above: str = ""
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The member's recent purchases, newest first (under `above`, the news of an undo), with Undo buttons."""
    latest = await purchases.recent(session, member.id, RECENT)
    if not latest:
        return "\n\n".join(filter(None, [above, _("counter.no_purchases").format(name=member.first_name)])), None
    lines = [_("counter.recent_title").format(name=member.first_name)]
    builder = InlineKeyboardBuilder()
    for place, purchase in enumerate(latest, start=1):
        lines.append(purchase_line(place, purchase, club))
        if purchase.reversed_at is None:
            label = _("button.undo_numbered").format(place=number(place))
            builder.button(text=label, callback_data=PurchaseAction(action="ask", purchase_id=purchase.id))
    builder.adjust(3)
    markup = builder.as_markup() if any(purchase.reversed_at is None for purchase in latest) else None
    return "\n\n".join(filter(None, [above, "\n".join(lines)])), markup


def purchase_line(place: int, purchase: Purchase, club: Club) -> str:
    """One purchase of the list: when (shop time), how much, its receipt, its points, and if it was undone."""
    line = _("counter.recent_line").format(
        place=number(place),
        when=format_moment(purchase.created_at, language(), club.zone),
        amount=number(purchase.amount),
        receipt=purchase.receipt or _("counter.no_receipt"),
        points=points_text(purchase.points),
    )
    return line + (" · " + _("counter.recent_undone") if purchase.reversed_at is not None else "")


async def ask_undo(
    query: CallbackQuery,
    callback_data: PurchaseAction,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """A manager pressed Undo on a listed purchase: ask before undoing it."""
    purchase = await session.get(Purchase, callback_data.purchase_id)
    member = await session.get(Member, purchase.member_id) if purchase is not None else None
    if purchase is None or member is None:
        stale(callback_answer)
        return
    if purchase.reversed_at is not None:
        alert(callback_answer, _("counter.undo_already"))
        await show(query, bot, *await recent_view(session, club, member))
        return
    text = _("counter.undo_question").format(
        amount=number(purchase.amount),
        name=member.first_name,
        when=format_moment(purchase.created_at, language(), club.zone),
        receipt=purchase.receipt or _("counter.no_receipt"),
        points=points_text(purchase.points),
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.undo_yes"), callback_data=PurchaseAction(action="undo", purchase_id=purchase.id))
    builder.button(text=_("button.undo_no"), callback_data=CounterAction(action="recent", member_id=member.id))
    builder.adjust(1)
    await show(query, bot, text, builder.as_markup())


async def manager_undo(
    query: CallbackQuery,
    callback_data: PurchaseAction,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """A manager confirmed the undo: done (once, however often pressed), and the list shown again."""
    purchase = await session.get(Purchase, callback_data.purchase_id)
    if purchase is None:
        stale(callback_answer)
        return
    member_id, notices = purchase.member_id, partial(undo_notices, i18n)
    try:
        undone = await purchases.undo_by_id(session, club.rules, purchase.id, stamp, notices=notices)
    except LoyaltyError as error:
        alert(callback_answer, undo_problem(error))
        above = ""
    else:
        above = undone_text(undone)
    member = await session.get(Member, member_id)  # read again: a rollback expires what the session read
    if member is not None:
        await show(query, bot, *await recent_view(session, club, member, above))


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
    router.message.register(got_amount, StateFilter(Counter.amount), HAS_TEXT, NOT_COMMAND)
    router.message.register(still_asking, StateFilter(Counter.confirm), NOT_COMMAND)
    router.callback_query.register(confirmed, Confirm.filter(F.record))
    router.callback_query.register(not_confirmed, Confirm.filter(~F.record))
    router.callback_query.register(quick_undo, PurchaseAction.filter(F.action == "quick"))
    router.callback_query.register(recent_purchases, CounterAction.filter(F.action == "recent"), manager)
    router.callback_query.register(ask_undo, PurchaseAction.filter(F.action == "ask"), manager)
    router.callback_query.register(manager_undo, PurchaseAction.filter(F.action == "undo"), manager)
    return router
