"""Joining the club: share your own phone, then name, birthday, gender and news consent.

The steps, in order: Joining.phone → name → birthday → gender → consent → member. Staff who are not members are
never asked to join (their /start and fallback are the staff's), but may: the Join button of their welcome or of
the owner's checklist starts here, as does sharing their own contact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial

from aiogram import Bot, F, Router
from aiogram.filters import CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import I18n, get_i18n
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import keyboards
from handlers.club import Club
from handlers.filters import HAS_CONTACT, HAS_TEXT, IS_COMMAND, HasRole, IsNewcomer, Magic, OwnContact, TextIs
from handlers.messages import notice_to_owners, notice_to_referrer
from handlers.replies import date_problem, joined_text, name_problem, phone_text
from loyalty import members, referrals, shop
from loyalty.calendar import birthday_example, parse_birthday
from loyalty.errors import InvalidDate, InvalidName, InvalidPhone, PhoneTaken
from loyalty.onboarding import Step
from loyalty.outbox import Outgoing, notice_key
from loyalty.phones import looks_like_phone, normalise_phone
from loyalty.staff import Role
from loyalty.stamps import Stamp
from storage.models import Member
from texts.numbers import number
from texts.plurals import counted, points_text
from texts.shop import shop_name

PAYLOAD_KEY = "payload"


class Joining(StatesGroup):
    """The steps of joining, in order."""

    phone = State()
    name = State()
    birthday = State()
    gender = State()
    consent = State()


async def welcome_text(session: AsyncSession) -> str:
    """The welcome asking for the phone, naming the shop's club ({shop}: its name, or a neutral one while unset)."""
    return _("join.ask_phone").format(shop=shop_name((await shop.current(session)).name))


async def ask_phone(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """Welcome the newcomer to the shop's club and offer the share-my-number button."""
    await state.set_state(Joining.phone)
    await message.answer(await welcome_text(session), reply_markup=keyboards.share_phone())


async def join_pressed(query: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Join the club, pressed by staff who are not members (their welcome, the owner's checklist): ask for the phone."""
    await state.set_state(Joining.phone)
    await bot.send_message(query.from_user.id, await welcome_text(session), reply_markup=keyboards.share_phone())


async def ask_name(message: Message, state: FSMContext) -> None:
    """Ask what to call the member, offering the messenger's first name."""
    await state.set_state(Joining.name)
    suggested = message.from_user.first_name if message.from_user else None
    await message.answer(_("join.ask_name"), reply_markup=keyboards.name_choice(suggested))


async def ask_birthday(message: Message, state: FSMContext) -> None:
    """Ask for the birthday in the member's calendar, or Skip."""
    await state.set_state(Joining.birthday)
    language = get_i18n().current_locale
    text = _("join.ask_birthday").format(example=birthday_example(language))
    await message.answer(text, reply_markup=keyboards.skip_only())


async def ask_gender(message: Message, state: FSMContext) -> None:
    """Ask for gender, or Skip."""
    await state.set_state(Joining.gender)
    await message.answer(_("join.ask_gender"), reply_markup=keyboards.gender_choice())


async def ask_consent(message: Message, state: FSMContext) -> None:
    """Ask whether the member wants news and offers."""
    await state.set_state(Joining.consent)
    await message.answer(_("join.ask_consent"), reply_markup=keyboards.consent_choice())


Prompt = Callable[[Message, FSMContext], Awaitable[None]]
PROMPTS: dict[str, Prompt] = {  # the steps after the phone's (`ask_phone`, which reads the shop's name)
    Joining.name.state: ask_name,
    Joining.birthday.state: ask_birthday,
    Joining.gender.state: ask_gender,
    Joining.consent.state: ask_consent,
}


async def ask_again(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """Repeat the question of the step the newcomer is on."""
    prompt = PROMPTS.get(await state.get_state() or "")
    if prompt is None:
        await ask_phone(message, state, session)
        return
    await prompt(message, state)


def _clean_payload(args: str | None) -> str | None:
    """A deep-link payload worth keeping: at most 64 characters of A–Z a–z 0–9 _ -."""
    if not args or len(args) > referrals.MAX_PAYLOAD:
        return None
    return args if all(char.isascii() and (char.isalnum() or char in "_-") for char in args) else None


async def start_newcomer(message: Message, state: FSMContext, session: AsyncSession, command: CommandObject) -> None:
    """/start from someone not yet in the club: remember the payload and ask for the phone."""
    await state.update_data({PAYLOAD_KEY: _clean_payload(command.args)})
    await ask_phone(message, state, session)


async def start_again(message: Message, state: FSMContext, session: AsyncSession, command: CommandObject) -> None:
    """/start in the middle of joining: keep what was given and pick up where we left off."""
    payload = _clean_payload(command.args)
    if payload and not (await state.get_data()).get(PAYLOAD_KEY):
        await state.update_data({PAYLOAD_KEY: payload})
    await message.answer(_("join.continue"))
    await ask_again(message, state, session)


async def not_yet_member(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """Anything else from a newcomer: explain they are not a member yet and offer to join."""
    await message.answer(_("join.not_member"))
    await ask_phone(message, state, session)


async def finish_first(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """A command or a non-answer in the middle of joining."""
    await message.answer(_("join.finish_first"))
    await ask_again(message, state, session)


async def own_contact(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """The newcomer shared their own number: check it and move on to the name."""
    try:
        phone = normalise_phone(message.contact.phone_number)
        await members.ensure_phone_free(session, phone, message.from_user.id)
    except InvalidPhone:
        await message.answer(_("join.phone_invalid"), reply_markup=keyboards.share_phone())
        return
    except PhoneTaken:
        await message.answer(_("join.phone_taken"), reply_markup=keyboards.share_phone())
        return
    await state.update_data(phone=phone)
    await ask_name(message, state)


async def foreign_contact(message: Message) -> None:
    """Someone else's contact, or a forwarded one: refuse and explain."""
    await message.answer(_("join.contact_not_own"), reply_markup=keyboards.share_phone())


async def typed_phone(message: Message) -> None:
    """A number typed by hand: only the button proves it is theirs."""
    await message.answer(_("join.phone_typed"), reply_markup=keyboards.share_phone())


async def got_name(message: Message, state: FSMContext) -> None:
    """Take the name and ask for the birthday."""
    try:
        name = members.clean_name(message.text or "")
    except InvalidName as error:
        await message.answer(name_problem(error.reason))
        return
    await state.update_data(first_name=name)
    await ask_birthday(message, state)


async def got_birthday(message: Message, state: FSMContext, today: date) -> None:
    """Take the birthday or explain what is wrong with it and ask again."""
    try:
        born, calendar = parse_birthday(message.text or "", today)
    except InvalidDate as error:
        await message.answer(date_problem(error.reason), reply_markup=keyboards.skip_only())
        return
    await state.update_data(birthday=born.isoformat(), birthday_calendar=calendar)
    await ask_gender(message, state)


async def skip_birthday(message: Message, state: FSMContext) -> None:
    """No birthday given."""
    await ask_gender(message, state)


async def got_gender(message: Message, state: FSMContext) -> None:
    """Take female, male or skip."""
    choices = {str(keyboards.FEMALE): "female", str(keyboards.MALE): "male", str(keyboards.SKIP): None}
    if message.text not in choices:
        await ask_gender(message, state)
        return
    await state.update_data(gender=choices[message.text])
    await ask_consent(message, state)


async def got_consent(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
) -> None:
    """Take the answer about news, make the member, credit the welcome bonus and show the menu.

    A friend who came by an invite link is attributed now; the member whose link it was is told (the outbox).
    """
    answers = {str(keyboards.CONSENT_YES): True, str(keyboards.CONSENT_NO): False, str(keyboards.SKIP): False}
    if message.text not in answers:
        await ask_consent(message, state)
        return
    data = await state.get_data()
    birthday = data.get("birthday")
    profile = members.Profile(
        first_name=data["first_name"],
        language=get_i18n().current_locale,
        birthday=date.fromisoformat(birthday) if birthday else None,
        birthday_calendar=data.get("birthday_calendar"),
        gender=data.get("gender"),
        news_consent=answers[message.text],
        referral_payload=data.get(PAYLOAD_KEY),
    )
    try:
        joined = await members.join(
            session,
            data["phone"],
            profile,
            club.rules,
            stamp,
            owner_ids=club.owner_ids,
            notices=partial(joining_notices, i18n),
        )
    except PhoneTaken:
        await state.clear()
        await message.answer(_("join.phone_taken"), reply_markup=ReplyKeyboardRemove())
        await ask_phone(message, state, session)
        return
    await state.clear()
    reply = joined_text(joined.member, joined.bonus, joined.referral, joined.waiting)
    if joined.own.given:
        reply += "\n\n" + _("join.own_taken_back")
    await message.answer(reply, reply_markup=keyboards.main_menu())


def joining_notices(i18n: I18n, joined: members.Joined) -> list[Outgoing]:
    """The referrer's notice of a friend who joined by their link, and the owners' of what the newcomer had given
    their phone themself as staff, taken back (none of either if there is none)."""
    referrer = notice_to_referrer(i18n, joined.referral) if joined.referral is not None else []
    return referrer + own_taken_back_notices(i18n, joined)


def own_taken_back_notices(i18n: I18n, joined: members.Joined) -> list[Outgoing]:
    """Each owner's notice, in their language (the shop's if they are not a member), that a staff member joined with
    a phone they had given purchases, points or vouchers themself, and what was taken back."""
    member = joined.member
    key_of = partial(notice_key, "own_taken_back", member.id)
    return notice_to_owners(i18n, joined.owners, key_of, partial(own_taken_back_text, member, joined.own))


def own_taken_back_text(member: Member, own: members.Own) -> str:
    """What a staff member who joined with `member`'s phone had given it themself, taken back, line by line."""
    lines = [_("counter.own_taken_back").format(name=member.first_name, phone=phone_text(member.phone))]
    if own.purchases:
        count, points = len(own.purchases), sum(undone.purchase.points for undone in own.purchases)
        template = counted("counter.own_taken_back_purchases", count)
        lines.append(template.format(count=number(count), points=points_text(points)))
    if own.adjusted:
        lines.append(_("counter.own_taken_back_adjusted").format(points=points_text(own.adjusted)))
    if own.vouchers:
        lines.append(counted("counter.own_taken_back_vouchers", own.vouchers).format(count=number(own.vouchers)))
    return "\n".join(lines)


def create_router() -> Router:
    """Routes for newcomers and for every step of joining."""
    router = Router(name="registration")
    router.message.filter(IsNewcomer())  # one check lets every member's update skip this router
    joining = StateFilter(Joining)
    router.message.register(start_again, CommandStart(), joining)
    router.message.register(
        own_contact,
        StateFilter(Joining.phone, None),
        OwnContact(),
    )
    router.message.register(foreign_contact, StateFilter(Joining.phone, None), HAS_CONTACT)
    router.message.register(start_newcomer, CommandStart())
    router.message.register(finish_first, joining, IS_COMMAND)
    router.message.register(typed_phone, StateFilter(Joining.phone), HAS_TEXT, Magic(F.text.func(looks_like_phone)))
    router.message.register(got_name, StateFilter(Joining.name), HAS_TEXT)
    router.message.register(skip_birthday, StateFilter(Joining.birthday), TextIs(keyboards.SKIP))
    router.message.register(got_birthday, StateFilter(Joining.birthday), HAS_TEXT)
    router.message.register(got_gender, StateFilter(Joining.gender), HAS_TEXT)
    router.message.register(got_consent, StateFilter(Joining.consent), HAS_TEXT)
    router.message.register(finish_first, joining)
    router.message.register(not_yet_member, ~HasRole(Role.CASHIER))  # staff are never pushed into joining
    router.callback_query.register(join_pressed, keyboards.ChecklistStep.filter(F.step == Step.JOIN), IsNewcomer())
    return router
