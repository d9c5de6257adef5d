"""/block and /unblock for managers and owners: a blocked membership earns nothing from referrals.

`/block <member code or phone> [reason]` and `/unblock <member code or phone> [reason]` find the member as
/member does (refusals answered as the counter does, by `handlers.messages.problem`) and change the block through
`loyalty.blocking`, which audits it. For customers and cashiers the filters do not match and the command falls
through to the unknown-command answer.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import staff_only
from handlers.messages import problem
from handlers.replies import member_name
from loyalty import blocking, members
from loyalty.codes import grouped, take_member_reference
from loyalty.errors import LoyaltyError
from loyalty.numerals import local_digits
from loyalty.staff import Role
from loyalty.stamps import Stamp
from texts.languages import language

REPLIES = {  # (a block was asked for, the member's state changed): the answer
    (True, True): __("blocking.blocked"),
    (True, False): __("blocking.already_blocked"),
    (False, True): __("blocking.unblocked"),
    (False, False): __("blocking.not_blocked"),
}


async def block_command(message: Message, command: CommandObject, session: AsyncSession, stamp: Stamp) -> None:
    """/block and /unblock: change the member's block and confirm, or explain the lookup's refusal."""
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
    done = await blocking.block(session, member.id, stamp, blocked=blocked, reason=reason)
    text = str(REPLIES[blocked, done.changed]).format(
        name=member_name(done.member), code=local_digits(grouped(done.member.code), language())
    )
    await message.answer(text)


def create_router() -> Router:
    """Routes for managers' and owners' /block and /unblock."""
    router = staff_only(Router(name="blocking"), Role.MANAGER)
    router.message.register(block_command, Command("block", "unblock"))
    return router
