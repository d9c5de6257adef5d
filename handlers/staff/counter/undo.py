"""Undoing a purchase: a manager's /undo <receipt>, the cashier's Undo on their confirmation (theirs for a few
minutes, `purchases.QUICK_UNDO`), and a manager's list of a member's recent purchases, with or without a receipt
number, each with its Undo. The member is told through the outbox, with their new tier when it moved."""

from __future__ import annotations

from functools import partial

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club, currency
from handlers.messages import alert, notice_to_member, problem, show, stale
from handlers.replies import member_name
from handlers.staff.counter.common import CounterAction, PurchaseAction
from loyalty import purchases
from loyalty.calendar import format_moment
from loyalty.errors import AlreadyReversed, LoyaltyError, UndoRefused
from loyalty.outbox import Outgoing, notice_key
from loyalty.staff import Role, at_least
from loyalty.stamps import Stamp
from storage.models import Member, Purchase
from texts.languages import language
from texts.money import amount_text, priced_text
from texts.numbers import number
from texts.plurals import counted, points_text
from texts.tiers import tier_name

RECENT = 10  # purchases in a manager's list of a member's recent purchases


async def undo_command(
    message: Message, command: CommandObject, session: AsyncSession, club: Club, stamp: Stamp, i18n: I18n
) -> None:
    """/undo <receipt>: reverse a purchase; the member is told."""
    receipt = (command.args or "").strip()
    if not receipt or " " in receipt:
        await message.answer(_("counter.undo_usage"))
        return
    unit = await currency(session, club)
    try:
        notices = partial(undo_notices, i18n, unit)
        undone = await purchases.undo_purchase(session, club.rules, receipt, stamp, notices=notices)
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    await message.answer(undone_text(undone, unit, receipt))


def undone_text(undone: purchases.Undone, unit: str, typed_receipt: str | None = None) -> str:
    """What staff are told of a purchase undone (by its receipt number as typed, if it was): the points taken back,
    and what else it changed."""
    purchase, name = undone.purchase, member_name(undone.member)
    values = {"points": number(undone.taken), "name": name, "balance": number(undone.balance)}
    if purchase.receipt:
        receipt = typed_receipt or purchase.receipt
        text = counted("counter.undone", undone.taken).format(receipt=receipt, **values)
    else:
        amount = amount_text(purchase.amount, unit)
        text = counted("counter.undone_amount", undone.taken).format(amount=amount, **values)
    if undone.shortfall:
        text += "\n" + _("counter.undone_shortfall").format(points=number(undone.shortfall))
    if undone.referral is not None:
        taken = undone.referral.referrer_taken + undone.referral.friend_taken
        text += "\n" + counted("counter.undone_referral", taken).format(points=number(taken))
    if undone.tier_change is not None:
        text += "\n" + _("counter.undone_tier").format(name=name, tier=tier_name(undone.member.tier))
    return text


def undo_notices(i18n: I18n, unit: str, undone: purchases.Undone) -> list[Outgoing]:
    """The member's notice of a purchase undone, with their new tier when it changed (the daily review's words)."""
    key = notice_key("undo", undone.purchase.id)
    return notice_to_member(i18n, undone.member, key, partial(undone_for_member, undone, unit))


def undone_for_member(undone: purchases.Undone, unit: str) -> str:
    """The member's words of a purchase undone, its amount in the unit `unit` (and of their tier, if it moved)."""
    text = counted("member.undone", undone.taken).format(
        amount=priced_text(undone.purchase.amount, unit),
        points=number(undone.taken),
        balance=points_text(undone.balance),
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
    unit = await currency(session, club)
    try:
        notices = partial(undo_notices, i18n, unit)
        purchase_id = callback_data.purchase_id
        undone = await purchases.undo_by_id(
            session, club.rules, purchase_id, stamp, notices=notices, own_within=own_within
        )
    except LoyaltyError as error:
        alert(callback_answer, undo_problem(error))
        return
    await show(query, bot, undone_text(undone, unit), None)


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
    await show(query, bot, *await recent_view(session, club, member, await currency(session, club)))


async def recent_view(
    session: AsyncSession, club: Club, member: Member, unit: str, above: str = ""
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The member's recent purchases, newest first (under `above`, the news of an undo), with Undo buttons; amounts
    in the unit `unit`."""
    latest = await purchases.recent(session, member.id, RECENT)
    name = member_name(member)
    if not latest:
        return "\n\n".join(filter(None, [above, _("counter.no_purchases").format(name=name)])), None
    lines = [_("counter.recent_title").format(name=name)]
    builder = InlineKeyboardBuilder()
    for place, purchase in enumerate(latest, start=1):
        lines.append(purchase_line(place, purchase, club, unit))
        if purchase.reversed_at is None:
            label = _("button.undo_numbered").format(place=number(place))
            builder.button(text=label, callback_data=PurchaseAction(action="ask", purchase_id=purchase.id))
    builder.adjust(3)
    markup = builder.as_markup() if any(purchase.reversed_at is None for purchase in latest) else None
    return "\n\n".join(filter(None, [above, "\n".join(lines)])), markup


def purchase_line(place: int, purchase: Purchase, club: Club, unit: str) -> str:
    """One purchase of the list: when (shop time), how much, its receipt, its points, and if it was undone."""
    line = _("counter.recent_line").format(
        place=number(place),
        when=format_moment(purchase.created_at, language(), club.zone),
        amount=amount_text(purchase.amount, unit),
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
    unit = await currency(session, club)
    if purchase.reversed_at is not None:
        alert(callback_answer, _("counter.undo_already"))
        await show(query, bot, *await recent_view(session, club, member, unit))
        return
    text = _("counter.undo_question").format(
        amount=amount_text(purchase.amount, unit),
        name=member_name(member),
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
    unit = await currency(session, club)
    member_id, notices = purchase.member_id, partial(undo_notices, i18n, unit)
    try:
        undone = await purchases.undo_by_id(session, club.rules, purchase.id, stamp, notices=notices)
    except LoyaltyError as error:
        alert(callback_answer, undo_problem(error))
        above = ""
    else:
        above = undone_text(undone, unit)
    member = await session.get(Member, member_id)  # read again: a rollback expires what the session read
    if member is not None:
        await show(query, bot, *await recent_view(session, club, member, unit, above))
