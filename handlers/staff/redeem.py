"""The counter's side of vouchers: /redeem or a scanned voucher QR shows what it is worth, then marks it used.

Every route here requires a staff role (cashier and up); for anyone else the filters do not match and the
update falls through, so a customer typing /redeem gets the unknown-command answer and a member opening a
voucher's link (/start voucher_…) the ordinary /start.

The flow: `/redeem <code>`, a scanned QR, or a bare /redeem and then the code at the prompt (`Redeem.code`,
with Close; a mistyped code is asked for again) → the voucher as staff see it: whose it is, what it is
worth, its dates and status, and "Mark as used" while it can be used → the press uses it once (a second
press, or a second cashier at the same moment, hears who used it and when), and the member is told.
Look-ups are audited and wrong codes throttled by `loyalty.voucher_use`.
"""

from __future__ import annotations

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
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club, currency
from handlers.filters import HAS_TEXT, NOT_COMMAND, ButtonId, PayloadStarts, staff_only
from handlers.messages import VOUCHER_PAYLOAD_PREFIX, alert, notice_to_member, show, stale, toast
from handlers.replies import shown_name
from loyalty import staff, voucher_use, vouchers
from loyalty.calendar import format_date, format_moment
from loyalty.errors import (
    LoyaltyError,
    NotAVoucherCode,
    TooManyAttempts,
    VoucherMistyped,
    VoucherNotFound,
    VoucherNotUsable,
)
from loyalty.numerals import local_digits
from loyalty.outbox import Outgoing, notice_key
from loyalty.staff import Role
from loyalty.stamps import Stamp
from loyalty.voucher_codes import display
from loyalty.voucher_use import Found
from loyalty.vouchers import Status, VoucherInfo
from storage.models import Member
from texts.languages import language
from texts.numbers import code_text, number
from texts.plurals import counted
from texts.worth import worth_text


class Redeem(StatesGroup):
    """Waiting for a voucher code after a bare /redeem."""

    code = State()


class RedeemAction(CallbackData, prefix="rdm"):
    """A button under a voucher or the code prompt: mark the voucher used (`use`), or `close`."""

    action: str
    voucher_id: ButtonId = 0


def moment(at: datetime | None, club: Club) -> str:
    """A moment in the shop's time zone, in the reply's calendar and digits."""
    return format_moment(at, language(), club.zone) if at is not None else "—"


async def staff_name(session: AsyncSession, club: Club, telegram_id: int | None) -> str:
    """Who used a voucher: their name on the staff, else (an owner from the settings, someone gone) their account."""
    entry = await staff.find_staff(session, telegram_id, club.owner_ids) if telegram_id is not None else None
    return shown_name(entry) if entry is not None else local_digits(str(telegram_id or "—"), language())


async def status_line(session: AsyncSession, club: Club, voucher: VoucherInfo) -> str:
    """Whether the voucher can be used now, and if not, since when and why."""
    if voucher.status is Status.USED:
        name = await staff_name(session, club, voucher.used_by)
        return _("redeem.status_used").format(moment=moment(voucher.used_at, club), staff=name)
    if voucher.status is Status.EXPIRED:
        return _("redeem.status_expired").format(moment=moment(voucher.expires_at, club))
    if voucher.status is Status.CANCELLED:
        return _("redeem.status_cancelled").format(moment=moment(voucher.cancelled_at, club))
    return _("redeem.status_active")


def voucher_view(club: Club, unit: str, found: Found, status: str) -> tuple[str, InlineKeyboardMarkup]:
    """The voucher as staff see it (its worth in the shop's `unit`), with Mark as used and Close while it can be
    used."""
    voucher, member = found.voucher, found.member
    text = _("redeem.voucher").format(
        code=voucher.shown_code,
        name=member.first_name,
        member_code=code_text(member.code),
        title=voucher.title,
        worth=worth_text(voucher.worth, unit),
        issued=format_date(voucher.issued_at.astimezone(club.zone).date(), language()),
        expires=moment(voucher.expires_at, club),
        status=status,
    )
    builder = InlineKeyboardBuilder()
    if found.usable:
        builder.button(text=_("button.redeem_use"), callback_data=RedeemAction(action="use", voucher_id=voucher.id))
        builder.button(text=_("button.redeem_close"), callback_data=RedeemAction(action="close"))
        builder.adjust(1)
    return text, builder.as_markup()


def refusal(error: LoyaltyError) -> str:
    """Why a typed code shows no voucher: mistyped, unknown, not a code at all, or too many wrong ones."""
    if isinstance(error, TooManyAttempts):
        return counted("redeem.wait", error.retry_after).format(seconds=number(error.retry_after))
    if isinstance(error, VoucherNotFound):
        return _("redeem.unknown").format(code=display(str(error.args[0])))
    texts = {VoucherMistyped: _("redeem.mistyped"), NotAVoucherCode: _("redeem.not_a_code")}
    return texts.get(type(error), _("errors.unexpected"))


async def look_up(
    message: Message, typed: str, state: FSMContext, session: AsyncSession, club: Club, stamp: Stamp
) -> None:
    """Show the voucher with the typed code (and end the prompt), or say why there is none (the prompt stays)."""
    try:
        found = await voucher_use.look_up(session, typed, stamp)
    except LoyaltyError as error:
        await message.answer(refusal(error))
        return
    await state.clear()
    text, markup = voucher_view(
        club, await currency(session, club), found, await status_line(session, club, found.voucher)
    )
    await message.answer(text, reply_markup=markup)


async def redeem_command(
    message: Message,
    command: CommandObject,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
) -> None:
    """/redeem <code>, or a scanned voucher QR (/start voucher_<code>): the voucher; without a code, ask for it."""
    typed = (command.args or "").removeprefix(VOUCHER_PAYLOAD_PREFIX).strip()
    if not typed:
        await state.set_state(Redeem.code)
        builder = InlineKeyboardBuilder()
        builder.button(text=_("button.redeem_close"), callback_data=RedeemAction(action="close"))
        await message.answer(_("redeem.ask_code"), reply_markup=builder.as_markup())
        return
    await look_up(message, typed, state, session, club, stamp)


async def got_code(message: Message, state: FSMContext, session: AsyncSession, club: Club, stamp: Stamp) -> None:
    """The code typed at the prompt."""
    await look_up(message, message.text or "", state, session, club, stamp)


async def mark_used(
    query: CallbackQuery,
    callback_data: RedeemAction,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """Mark as used: once; a voucher used (or gone out of date) meanwhile is shown as it is, with the reason."""
    try:
        found = await voucher_use.use(
            session,
            callback_data.voucher_id,
            stamp,
            notices=partial(used_notices, i18n, club),
        )
    except VoucherNotFound:
        stale(callback_answer)
        return
    except VoucherNotUsable:
        voucher = await vouchers.find(session, callback_data.voucher_id, stamp.at)
        current = Found(voucher, await session.get_one(Member, voucher.member_id))
        status = await status_line(session, club, voucher)
        await show(query, bot, *voucher_view(club, await currency(session, club), current, status))
        alert(callback_answer, status)
        return
    used = _("redeem.used_now").format(moment=moment(found.voucher.used_at, club))
    await show(query, bot, *voucher_view(club, await currency(session, club), found, used))
    toast(callback_answer, _("redeem.used_toast"))


def used_notices(i18n: I18n, club: Club, found: Found) -> list[Outgoing]:
    """The member's notice of their voucher used at the counter."""
    key = notice_key("voucher", found.voucher.id)
    return notice_to_member(i18n, found.member, key, lambda: member_notice(found.voucher, club))


def member_notice(voucher: VoucherInfo, club: Club) -> str:
    """The member's message when their voucher is used at the counter, in their language."""
    when = moment(voucher.used_at, club)
    return _("redeem.member_used").format(title=voucher.title, code=voucher.shown_code, moment=when)


async def close(query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer) -> None:
    """Close the voucher (or the code prompt) without using it: the buttons go, nothing changes."""
    if await state.get_state() == Redeem.code.state:  # another flow's prompt is left as it is
        await state.clear()
    if isinstance(query.message, Message):
        await query.message.edit_reply_markup(reply_markup=None)
    toast(callback_answer, _("redeem.closed"))


def create_router() -> Router:
    """Routes for cashiers, managers and owners at the counter."""
    router = staff_only(Router(name="redeem"), Role.CASHIER)
    scanned = PayloadStarts(VOUCHER_PAYLOAD_PREFIX)
    router.message.register(redeem_command, CommandStart(deep_link=True), scanned)
    router.message.register(redeem_command, Command("redeem"))
    router.message.register(got_code, StateFilter(Redeem.code), HAS_TEXT, NOT_COMMAND)
    router.callback_query.register(mark_used, RedeemAction.filter(F.action == "use"))
    router.callback_query.register(close, RedeemAction.filter(F.action == "close"))
    return router
