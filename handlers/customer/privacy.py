"""A member's own data: /privacy says what is kept and why, /mydata sends it as a file, /forgetme erases it after a
confirmation (`loyalty.privacy`)."""

from __future__ import annotations

import json
from datetime import datetime

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from handlers.filters import IsMember
from handlers.messages import stale
from loyalty import privacy, rules
from loyalty.stamps import Stamp
from storage.models import Member
from texts.numbers import number
from texts.plurals import counted, days_text, points_text
from texts.tiers import tier_name

ERASE, KEEP = "erase", "keep"


class ForgetChoice(CallbackData, prefix="forget"):
    """The member's answer to /forgetme's warning: erase their data, or keep it."""

    answer: str


async def show_privacy(message: Message, session: AsyncSession, club: Club) -> None:
    """What the club keeps, why and how long, and the two commands; for anyone."""
    days = (await rules.current(session, club.rules)).privacy_retention_days
    kept = _("privacy.kept_for").format(days=days_text(days)) if days else _("privacy.kept_while_member")
    await message.answer(_("privacy.text").format(kept=kept))


async def send_my_data(message: Message, session: AsyncSession, member: Member) -> None:
    """Everything the club holds about the member, as a JSON file."""
    data = await privacy.my_data(session, member)
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    document = BufferedInputFile(content, filename=f"mydata-{member.code}.json")
    await message.answer_document(document, caption=_("privacy.mydata_caption"))


def _choices() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.forget_erase"), callback_data=ForgetChoice(answer=ERASE))
    builder.button(text=_("button.forget_keep"), callback_data=ForgetChoice(answer=KEEP))
    builder.adjust(1)
    return builder.as_markup()


async def ask_to_forget(message: Message, session: AsyncSession, member: Member, now: datetime) -> None:
    """Warn what erasing loses (points, vouchers, tier) and ask to confirm."""
    lost = await privacy.at_stake(session, member, now)
    vouchers = counted("privacy.vouchers", lost.vouchers).format(count=number(lost.vouchers))
    text = _("privacy.forget_warning").format(
        points=points_text(lost.points), vouchers=vouchers, tier=tier_name(lost.tier)
    )
    await message.answer(text, reply_markup=_choices())


async def forget(
    query: CallbackQuery,
    callback_data: ForgetChoice,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    stamp: Stamp,
    callback_answer: CallbackAnswer,
) -> None:
    """Erase on confirmation (and clear the chat's state); keep on the other button; a tap after erasing is stale."""
    if member is None or callback_data.answer not in (ERASE, KEEP):
        stale(callback_answer)
        return
    if callback_data.answer == ERASE:
        await privacy.forget(session, member.id, actor_id=stamp.actor_id, now=stamp.at, update_id=stamp.update_id)
        await state.clear()
    if query.message is None:
        return
    if callback_data.answer == KEEP:
        await query.message.edit_text(_("privacy.forget_kept"))
        return
    await query.message.edit_text(_("privacy.forgotten"))
    await query.message.answer(_("privacy.forgotten_rejoin"), reply_markup=ReplyKeyboardRemove())


def create_router() -> Router:
    """/privacy for anyone (before joining's router answers newcomers), /mydata and /forgetme for members."""
    router = Router(name="privacy")
    router.message.register(show_privacy, Command("privacy"))
    router.message.register(send_my_data, Command("mydata"), IsMember())
    router.message.register(ask_to_forget, Command("forgetme"), IsMember())
    router.callback_query.register(forget, ForgetChoice.filter())
    return router
