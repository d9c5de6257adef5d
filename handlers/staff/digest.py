"""/digest for managers and owners: a manager starts or stops getting the daily digest for themselves
(`loyalty.digest_readers`); an owner always gets it while it is on for the club, which /settings decides.

A manager's /digest turns it on when it is off and off when it is on, and the reply says which and how to undo it.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from handlers.filters import staff_only
from loyalty import digest_readers, rules
from loyalty.staff import Role
from loyalty.stamps import Stamp
from texts.numbers import hour_text


async def digest_command(message: Message, session: AsyncSession, club: Club, role: Role, stamp: Stamp) -> None:
    """/digest: an owner hears how they get it; a manager starts or stops getting it."""
    club_rules = await rules.current(session, club.rules)
    hour = hour_text(club_rules.digest_hour)
    if role == Role.OWNER:
        await message.answer(_("digest.owner_on" if club_rules.digest else "digest.owner_off").format(hour=hour))
        return
    if not await digest_readers.toggle(session, stamp):
        await message.answer(_("digest.unsubscribed"))
        return
    lines = [_("digest.subscribed").format(hour=hour)]
    if not club_rules.digest:
        lines.append(_("digest.club_off"))
    await message.answer("\n".join(lines))


def create_router() -> Router:
    """Routes for managers' and owners' /digest."""
    router = staff_only(Router(name="digest"), Role.MANAGER)
    router.message.register(digest_command, Command("digest"))
    return router
