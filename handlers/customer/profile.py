"""A member's profile: view it, and change name, birthday, gender, news consent or language."""

from __future__ import annotations

from datetime import date

from aiogram import F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import keyboards
from handlers.filters import HAS_CONTACT, HAS_TEXT, NOT_COMMAND, IsMember, Magic, TextIs
from handlers.replies import date_problem, name_problem, profile_text
from loyalty import members
from loyalty.calendar import birthday_example, parse_birthday
from loyalty.errors import InvalidDate, InvalidName
from storage.models import Member
from texts.numbers import phone_text


class Editing(StatesGroup):
    """Profile fields that are typed."""

    name = State()
    birthday = State()


async def show_profile(message: Message, state: FSMContext, member: Member) -> None:
    """The profile card with buttons to change it."""
    await state.clear()
    await message.answer(profile_text(member), reply_markup=keyboards.profile_actions(member.news_consent))


async def edit_field(
    query: CallbackQuery,
    callback_data: keyboards.ProfileEdit,
    state: FSMContext,
    session: AsyncSession,
    member: Member,
) -> None:
    """A profile button: ask for typed fields, apply choices at once."""
    field, value = callback_data.field, callback_data.value
    message = query.message
    if field == "name":
        await state.set_state(Editing.name)
        await message.answer(_("profile.ask_name"), reply_markup=keyboards.main_menu())
    elif field == "birthday":
        await state.set_state(Editing.birthday)
        example = birthday_example(get_i18n().current_locale)
        await message.answer(_("join.ask_birthday").format(example=example), reply_markup=keyboards.skip_only())
    elif field == "gender" and not value:
        await message.answer(_("join.ask_gender"), reply_markup=keyboards.gender_actions())
    elif field == "gender":
        await members.update_member(session, member, gender=value if value in members.GENDERS else None)
        await _saved(message, member)
    elif field == "news":
        await members.update_member(session, member, news_consent=value == "1")
        await _saved(message, member)
    elif field == "language":
        await message.answer(_("language.choose"), reply_markup=keyboards.language_actions())


async def _saved(message: Message, member: Member) -> None:
    """Confirm a change and show the updated profile."""
    await message.answer(
        _("profile.saved") + "\n\n" + profile_text(member),
        reply_markup=keyboards.profile_actions(member.news_consent),
    )


async def new_name(message: Message, state: FSMContext, session: AsyncSession, member: Member) -> None:
    """Save a typed name."""
    try:
        name = members.clean_name(message.text or "")
    except InvalidName as error:
        await message.answer(name_problem(error.reason))
        return
    await members.update_member(session, member, first_name=name)
    await state.clear()
    await _saved(message, member)


async def new_birthday(message: Message, state: FSMContext, session: AsyncSession, member: Member, today: date) -> None:
    """Save a typed birthday, or explain what is wrong with it."""
    try:
        born, calendar = parse_birthday(message.text or "", today)
    except InvalidDate as error:
        await message.answer(date_problem(error.reason), reply_markup=keyboards.skip_only())
        return
    await members.update_member(session, member, birthday=born, birthday_calendar=calendar)
    await state.clear()
    await message.answer(_("profile.saved"), reply_markup=keyboards.main_menu())
    await message.answer(profile_text(member), reply_markup=keyboards.profile_actions(member.news_consent))


async def keep_birthday(message: Message, state: FSMContext, member: Member) -> None:
    """Skip while editing the birthday: nothing changes."""
    await state.clear()
    await message.answer(_("profile.unchanged"), reply_markup=keyboards.main_menu())


async def own_number(message: Message, member: Member) -> None:
    """A member shared a contact: their number stays; only the shop moves a member to another one (/phone)."""
    await message.answer(_("phone.ask_shop").format(phone=phone_text(member.phone)))


async def not_text(message: Message) -> None:
    """A sticker or photo where text was asked for."""
    await message.answer(_("profile.text_please"))


def create_router() -> Router:
    """Routes for the profile; members only."""
    router = Router(name="profile")
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(show_profile, Command("profile"))
    router.message.register(show_profile, TextIs(keyboards.MENU_PROFILE))
    router.callback_query.register(edit_field, keyboards.ProfileEdit.filter())
    router.message.register(new_name, StateFilter(Editing.name), HAS_TEXT, NOT_COMMAND)
    router.message.register(keep_birthday, StateFilter(Editing.birthday), TextIs(keyboards.SKIP))
    router.message.register(new_birthday, StateFilter(Editing.birthday), HAS_TEXT, NOT_COMMAND)
    router.message.register(own_number, HAS_CONTACT)
    router.message.register(not_text, StateFilter(Editing), Magic(~F.text))
    return router
