"""/phone for managers and owners: a member moves to a new phone number only through the shop.

`/phone <member code or phone> <new phone>` finds the member as /member does, reads the new number back beside the
old one and asks to confirm it; a number another member has is refused. The member stays the same (points, history),
`loyalty.members.change_phone` audits the old and new numbers and the member is told through the outbox. A member
cannot change their number themself (sharing another contact changes nothing: `handlers.customer.profile`).
"""

from __future__ import annotations

from functools import partial

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import ButtonId, staff_only
from handlers.messages import notice_to_member, problem, stale, toast
from handlers.replies import member_name
from loyalty import members
from loyalty.codes import take_member_reference
from loyalty.errors import InvalidPhone, LoyaltyError, PhoneTaken
from loyalty.numerals import local_digits
from loyalty.outbox import Outgoing, notice_key
from loyalty.phones import normalise_phone
from loyalty.staff import Role
from loyalty.stamps import Stamp
from storage.models import Member
from texts.languages import language
from texts.numbers import code_text, phone_text


class PhoneAction(CallbackData, prefix="phn"):
    """The confirmation of a move to a new number (`phone`, E.164), or its cancel."""

    action: str
    member_id: ButtonId = 0
    phone: str = ""


async def phone_command(message: Message, command: CommandObject, session: AsyncSession) -> None:
    """/phone <member> <new phone>: ask to confirm the move, or say why it cannot be made."""
    reference, typed = take_member_reference(command.args or "")
    if not reference or not typed.strip():
        await message.answer(_("phone.usage"))
        return
    try:
        member = await members.find(session, reference)
        phone = normalise_phone(typed)
        await members.check_new_phone(session, member, phone)
    except InvalidPhone:
        await message.answer(_("phone.invalid").format(phone=local_digits(typed.strip(), language())))
        return
    except PhoneTaken:
        await message.answer(_("phone.taken").format(phone=phone_text(phone)))
        return
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    if phone == member.phone:
        await message.answer(_("phone.same").format(name=member_name(member), phone=phone_text(phone)))
        return
    await ask_to_confirm(message, member, phone)


async def ask_to_confirm(message: Message, member: Member, phone: str) -> None:
    """The old number and the new one side by side, with the buttons to move or cancel."""
    builder = InlineKeyboardBuilder()
    move = PhoneAction(action="move", member_id=member.id, phone=phone)
    builder.button(text=_("button.move_phone").format(phone=phone_text(phone)), callback_data=move)
    builder.button(text=_("button.cancel"), callback_data=PhoneAction(action="cancel"))
    builder.adjust(1)
    text = _("phone.confirm").format(
        name=member_name(member),
        code=code_text(member.code),
        old=phone_text(member.phone),
        new=phone_text(phone),
    )
    await message.answer(text, reply_markup=builder.as_markup())


async def move(
    query: CallbackQuery,
    callback_data: PhoneAction,
    session: AsyncSession,
    stamp: Stamp,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """The manager confirmed: move the member; a second press changes and tells nothing more."""
    if not isinstance(query.message, Message):
        stale(callback_answer)
        return
    notices = partial(phone_notices, i18n, stamp.update_key)
    try:
        changed = await members.change_phone(
            session, callback_data.member_id, callback_data.phone, stamp, notices=notices
        )
    except PhoneTaken:
        await query.message.answer(_("phone.taken").format(phone=phone_text(callback_data.phone)))
        return
    except LookupError:
        stale(callback_answer)
        return
    name, phone = member_name(changed.member), phone_text(changed.new)
    if not changed.changed:
        toast(callback_answer, _("phone.same").format(name=name, phone=phone))
        return
    await query.message.answer(_("phone.moved").format(name=name, phone=phone, old=phone_text(changed.old)))


def phone_notices(i18n: I18n, update_key: str, changed: members.PhoneChanged) -> list[Outgoing]:
    """The member's notice of their new number."""
    return notice_to_member(
        i18n,
        changed.member,
        notice_key("phone", changed.member.id, update_key),
        lambda: _("phone.member_notice").format(new=phone_text(changed.new), old=phone_text(changed.old)),
    )


async def cancel(query: CallbackQuery) -> None:
    """Leave the number as it is."""
    if isinstance(query.message, Message):
        await query.message.answer(_("phone.cancelled"))


def create_router() -> Router:
    """Routes for managers and owners."""
    router = staff_only(Router(name="phones"), Role.MANAGER)
    router.message.register(phone_command, Command("phone"))
    router.callback_query.register(move, PhoneAction.filter(F.action == "move"))
    router.callback_query.register(cancel, PhoneAction.filter(F.action == "cancel"))
    return router
