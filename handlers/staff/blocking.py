"""/block and /unblock for managers and owners: what a block does (`loyalty.blocking`) is said before and after.

`/block <member code or phone> [reason]` and `/unblock <member code or phone> [reason]` find the member as
/member does (refusals answered as the counter does, by `handlers.messages.problem`). /block first lists
everything a block does and does not do, with Block and Cancel buttons; the member and the reason wait in the
conversation's data (`PENDING_KEY`) until a button is pressed, so a press that no /block waits for is stale. The
answer after Block restates what was done and how to lift it; /unblock lifts a block at once. For customers and
cashiers the filters do not match and the command falls through.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import ButtonId, staff_only
from handlers.messages import problem, show, stale
from handlers.replies import member_name
from loyalty import blocking, members
from loyalty.codes import take_member_reference
from loyalty.errors import LoyaltyError
from loyalty.staff import Role
from loyalty.stamps import Stamp
from storage.models import Member
from texts.numbers import code_text

PENDING_KEY = "blocking.pending"
REPLIES = {  # (a block was asked for, the member's state changed): the answer
    (True, True): __("blocking.blocked"),
    (True, False): __("blocking.already_blocked"),
    (False, True): __("blocking.unblocked"),
    (False, False): __("blocking.not_blocked"),
}


class BlockAction(CallbackData, prefix="blk"):
    """Block (`yes`) or Cancel (`no`) under the confirmation of blocking the member `member`."""

    action: str
    member: ButtonId


def named(text: str, member: Member) -> str:
    """`text` with the member's name and their code as the card shows it, in the reader's digits."""
    return text.format(name=member_name(member), code=code_text(member.code))


def confirmation(member: Member) -> tuple[str, InlineKeyboardMarkup]:
    """Everything a block does and does not do, with Block and Cancel."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.block_yes"), callback_data=BlockAction(action="yes", member=member.id))
    builder.button(text=_("button.cancel"), callback_data=BlockAction(action="no", member=member.id))
    return named(_("blocking.confirm"), member), builder.as_markup()


async def block_command(
    message: Message, command: CommandObject, state: FSMContext, session: AsyncSession, stamp: Stamp
) -> None:
    """/block asks to confirm what it does; /unblock lifts the block; both explain the lookup's refusal."""
    blocked = command.command == "block"
    reference, reason = take_member_reference(command.args or "")
    if not reference:
        await message.answer(_("blocking.block_usage") if blocked else _("blocking.unblock_usage"))
        return
    try:
        member = await members.find(session, reference)
    except LoyaltyError as error:
        await message.answer(problem(error))
        return
    if blocked and not member.blocked:
        await state.update_data({PENDING_KEY: {"member": member.id, "reason": reason}})
        text, markup = confirmation(member)
        await message.answer(text, reply_markup=markup)
        return
    done = await blocking.block(session, member.id, stamp, blocked=blocked, reason=reason)
    await message.answer(named(str(REPLIES[blocked, done.changed]), done.member))


async def pending_reason(state: FSMContext, member_id: int) -> str | None:
    """Take the reason of the /block of `member_id` waiting for its button (None if no such /block waits)."""
    data = await state.get_data()
    pending = data.get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("member") != member_id:
        return None
    await state.update_data({PENDING_KEY: None})
    return str(pending.get("reason") or "")


async def answer_confirmation(
    query: CallbackQuery,
    callback_data: BlockAction,
    state: FSMContext,
    session: AsyncSession,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Block: the member is blocked and told what that did; Cancel: nothing changes. Stale with no /block waiting."""
    reason = await pending_reason(state, callback_data.member)
    if reason is None:
        stale(callback_answer)
        return
    if callback_data.action == "yes":
        done = await blocking.block(session, callback_data.member, stamp, blocked=True, reason=reason)
        await show(query, bot, named(str(REPLIES[True, done.changed]), done.member), None)
        return
    member = await session.get(Member, callback_data.member)
    if member is None:
        stale(callback_answer)
        return
    await show(query, bot, named(_("blocking.cancelled"), member), None)


def create_router() -> Router:
    """Routes for managers' and owners' /block and /unblock, and the confirmation's buttons."""
    router = staff_only(Router(name="blocking"), Role.MANAGER)
    router.message.register(block_command, Command("block", "unblock"))
    router.callback_query.register(answer_confirmation, BlockAction.filter(F.action.in_(["yes", "no"])))
    return router
