"""What works for everyone, anywhere: /start for members (invite links noted), /help, /language, /stop, /cancel,
the answer to a staff command above one's role, fallback."""

from __future__ import annotations

from datetime import datetime

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import keyboards
from handlers.club import Club
from handlers.filters import (
    HAS_TEXT,
    IS_COMMAND,
    HasRole,
    IsMember,
    IsNewcomer,
    PayloadStarts,
    StaffCommandAbove,
    TextIs,
)
from handlers.menus import NEEDS_ROLE, role_help
from handlers.messages import stale, toast
from loyalty import members, referrals, rules
from loyalty.staff import Role
from storage.models import Member
from texts.languages import LANGUAGE_KEY, LANGUAGE_NAMES


async def open_invite(
    message: Message, command: CommandObject, session: AsyncSession, club: Club, now: datetime
) -> None:
    """/start ref_…: record that this account opened a member's invite link, then let /start run as usual.

    The domain keeps a newcomer's pending referral until they join, and refuses (and audits) a member's own
    link, a member opening someone's link, and anything that is not an invite link, so nobody is told.
    """
    club_rules = await rules.current(session, club.rules)
    await referrals.opened(session, command.args or "", telegram_id=message.from_user.id, now=now, rules=club_rules)
    raise SkipHandler


async def welcome_back(message: Message, state: FSMContext, session: AsyncSession, member: Member) -> None:
    """/start from a member: reachable again if they had blocked the bot, resume stopped messages, show the menu."""
    await state.clear()
    if await members.welcome_back(session, member):
        await message.answer(_("start.resumed"), reply_markup=keyboards.main_menu())
        return
    await message.answer(_("start.welcome_back").format(name=member.first_name), reply_markup=keyboards.main_menu())


async def show_help(message: Message, member: Member | None, role: Role | None) -> None:
    """What the bot can do, for members or for newcomers, and the staff commands of the sender's role."""
    text = _("help.member") if member else _("help.newcomer")
    paragraphs = [text, *(role_help(role) if role else [])]
    await message.answer("\n\n".join(paragraphs), reply_markup=keyboards.main_menu() if member else None)


async def stop_messages(message: Message, session: AsyncSession, member: Member | None, now: datetime) -> None:
    """/stop: no more news or campaigns, until /start."""
    if member is None:
        await message.answer(_("stop.not_member"))
        return
    if not member.stopped:
        await members.stop(session, member, now)
    await message.answer(_("stop.done"), reply_markup=keyboards.main_menu())


async def choose_language(message: Message) -> None:
    """/language: offer the supported languages."""
    await message.answer(_("language.choose"), reply_markup=keyboards.language_actions())


async def set_language(
    query: CallbackQuery,
    callback_data: keyboards.LanguageChoice,
    state: FSMContext,
    session: AsyncSession,
    member: Member | None,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """Save the chosen language (on the member, or until joining) and answer in it."""
    code = callback_data.code if callback_data.code in LANGUAGE_NAMES else i18n.default_locale
    if member is not None:
        await members.update_member(session, member, language=code)
    else:
        await state.update_data({LANGUAGE_KEY: code})
    with i18n.use_locale(code):
        toast(callback_answer, _("language.saved"))
        if query.message is not None:
            markup = keyboards.main_menu() if member else None
            await query.message.answer(_("language.saved"), reply_markup=markup)


async def cancel_prompt(message: Message, state: FSMContext, member: Member | None) -> None:
    """/cancel: end whatever prompt waits for an answer (a language chosen before joining is kept), or say there is
    none."""
    if await state.get_state() is None:
        await message.answer(_("cancel.nothing"))
        return
    language = (await state.get_data()).get(LANGUAGE_KEY)
    await state.clear()
    if language is not None:
        await state.update_data({LANGUAGE_KEY: language})
    await message.answer(_("cancel.done"), reply_markup=keyboards.main_menu() if member else ReplyKeyboardRemove())


async def needs_role(message: Message, required: Role, command_name: str) -> None:
    """A staff command above the sender's role: who may use it, rather than the unknown-command answer."""
    await message.answer(str(NEEDS_ROLE[required]).format(command=f"/{command_name}"))


async def unknown_command(message: Message) -> None:
    """A command the bot does not have (admin commands included, so nothing leaks)."""
    await message.answer(_("fallback.unknown_command"), reply_markup=keyboards.main_menu())


async def not_understood(message: Message) -> None:
    """Text that matches nothing."""
    await message.answer(_("fallback.text"), reply_markup=keyboards.main_menu())


async def cannot_read(message: Message) -> None:
    """Stickers, photos, voice and the like."""
    await message.answer(_("fallback.media"), reply_markup=keyboards.main_menu())


async def staff_not_member(message: Message) -> None:
    """Anything no route took from staff who are not members: where their commands are, never the join prompt."""
    await message.answer(_("onboarding.staff_fallback"))


async def leave_prompt(message: Message, state: FSMContext) -> None:
    """A command typed while a staff prompt waits for a value ends the prompt, then runs as usual."""
    await state.clear()
    raise SkipHandler


async def stale_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """A button from an old message that no longer applies."""
    stale(callback_answer)


def create_router() -> Router:
    """Commands that work in any state, for anyone."""
    router = Router(name="general")
    router.message.register(open_invite, CommandStart(deep_link=True), PayloadStarts(referrals.PREFIX))
    router.message.register(welcome_back, CommandStart(), IsMember())
    router.message.register(show_help, Command("help"))
    router.message.register(show_help, TextIs(keyboards.MENU_HELP), IsMember())
    router.message.register(stop_messages, Command("stop"))
    router.message.register(choose_language, Command("language"))
    router.message.register(needs_role, StaffCommandAbove())
    router.callback_query.register(set_language, keyboards.LanguageChoice.filter())
    return router


def create_fallback_router() -> Router:
    """Last chance for a member's (or a staff member's) update that no other route took."""
    router = Router(name="fallback")
    router.message.register(staff_not_member, IsNewcomer(), HasRole(Role.CASHIER))
    router.message.register(unknown_command, IS_COMMAND)
    router.message.register(not_understood, HAS_TEXT)
    router.message.register(cannot_read)
    router.callback_query.register(stale_button)
    return router
