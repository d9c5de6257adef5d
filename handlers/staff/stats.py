"""/stats for managers and owners: the club's figures, starting with referrals.

The reply is a title and one paragraph per section of `SECTIONS`, each built from a figure of the domain as of
the update's `now`; a new section is one more function there. For customers and cashiers the filter does not
match and the command falls through to the unknown-command answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import staff_only
from loyalty import referrals
from loyalty.staff import Role
from texts.numbers import decimal, number
from texts.plurals import counted

Section = Callable[[AsyncSession, datetime], Awaitable[str]]
TOP_REFERRERS = 5


async def referral_section(session: AsyncSession, now: datetime) -> str:
    """Links opened, friends joined and converted, the rates, the K-factor and the members who brought the most."""
    figures = await referrals.referral_stats(session, now, top=TOP_REFERRERS)
    text = _("stats.referrals").format(
        opened=number(figures.opened),
        joined=number(figures.joined),
        converted=number(figures.converted),
        conversion=_("stats.percent").format(value=decimal(figures.conversion_rate * 100, "#,##0.#")),
        invites=decimal(figures.invites_per_member, "#,##0.00"),
        k_factor=decimal(figures.k_factor, "#,##0.00"),
    )
    leaders = [
        counted("stats.top_line", leader.points).format(
            rank=number(rank),
            name=leader.first_name,
            joined=number(leader.joined),
            converted=number(leader.converted),
            points=number(leader.points),
        )
        for rank, leader in enumerate(figures.top, start=1)
    ]
    return "\n\n".join([text, _("stats.top_title") + "\n" + "\n".join(leaders) if leaders else _("stats.no_top")])


SECTIONS: tuple[Section, ...] = (referral_section,)


async def stats_command(message: Message, session: AsyncSession, now: datetime) -> None:
    """/stats: the club's figures, section by section."""
    sections = [await section(session, now) for section in SECTIONS]
    await message.answer("\n\n".join([_("stats.title"), *sections]))


def create_router() -> Router:
    """Routes for managers' and owners' /stats."""
    router = staff_only(Router(name="stats"), Role.MANAGER)
    router.message.register(stats_command, Command("stats"))
    return router
