"""The /settings routes: the menus, a rule's prompt and its answer, a choice pressed, Skip and Cancel."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from handlers.filters import HAS_TEXT, NOT_COMMAND, staff_only
from handlers.keyboards import ChecklistStep
from handlers.messages import show, stale, toast
from handlers.staff.settings import shop
from handlers.staff.settings.fields import (
    CHOICES,
    PROMPTS,
    REWARD_FIELDS,
    SECTIONS,
    TIER_PARTS,
    UNSET_ALLOWED,
    known_tier,
    options_of,
    refusal,
    rule_name,
    stored_value,
    typed_value,
    value_text,
)
from handlers.staff.settings.views import (
    SettingsAction,
    SettingsChoice,
    catalog_for,
    choice_view,
    home_view,
    menu_view,
    prompt_view,
    rewards_by_id,
    section_view,
    tier_view,
)
from handlers.wizard import View, keep, kept
from loyalty import rules
from loyalty import shop as shop_profile
from loyalty.errors import InvalidNumber, InvalidRule
from loyalty.onboarding import Step
from loyalty.staff import Role
from loyalty.stamps import Stamp


class RuleEdit(StatesGroup):
    """Waiting for the new value of the rule the owner picked."""

    value = State()


class RuleEditing(BaseModel):
    """What the prompt keeps: the rule whose new value it waits for, and its tier for a tier's rule."""

    field: str
    tier: str = ""


async def settings_menu(message: Message, state: FSMContext, session: AsyncSession, club: Club) -> None:
    """/settings: the rules in force and what can be changed (ending any unanswered prompt)."""
    await state.clear()
    text, markup = menu_view(await rules.current(session, club.rules))
    await message.answer(text, reply_markup=markup)


async def show_menu(query: CallbackQuery, session: AsyncSession, club: Club, bot: Bot) -> None:
    """Back to the rules from a tier or a section."""
    await show(query, bot, *menu_view(await rules.current(session, club.rules)))


async def from_checklist(
    query: CallbackQuery, callback_data: ChecklistStep, state: FSMContext, session: AsyncSession, club: Club, bot: Bot
) -> None:
    """The owner's checklist: the shop's profile or the earning rules of /settings in a new message, the checklist
    kept."""
    await state.clear()
    if callback_data.step == Step.PROFILE:
        text, markup = shop.shop_view(await shop_profile.current(session))
    else:
        text, markup = menu_view(await rules.current(session, club.rules))
    await bot.send_message(query.from_user.id, text, reply_markup=markup)


async def show_section(
    query: CallbackQuery, callback_data: SettingsAction, session: AsyncSession, club: Club, bot: Bot
) -> None:
    """A section (referrals, birthdays & reminders), with a button for each of its rules."""
    club_rules = await rules.current(session, club.rules)
    await show(query, bot, *section_view(callback_data.action, club_rules, await rewards_by_id(session)))


async def show_tier(
    query: CallbackQuery,
    callback_data: SettingsAction,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """One tier, with its threshold and multiplier buttons."""
    club_rules = await rules.current(session, club.rules)
    tier = known_tier(club_rules, callback_data.tier)
    if tier is None:
        stale(callback_answer)
        return
    await show(query, bot, *tier_view(club_rules, tier))


async def ask_value(
    query: CallbackQuery,
    callback_data: SettingsAction,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """A rule's button: ask for its new value in place of the menu."""
    club_rules = await rules.current(session, club.rules)
    field, tier = callback_data.field, callback_data.tier
    if field in TIER_PARTS and known_tier(club_rules, tier) is None:
        stale(callback_answer)
        return
    await keep(state, RuleEdit.value, RuleEditing(field=field, tier=tier))
    await show(query, bot, *prompt_view(club_rules, field, tier))


async def ask_choice(
    query: CallbackQuery, callback_data: SettingsAction, session: AsyncSession, club: Club, bot: Bot
) -> None:
    """A button of a rule with a few possible values: offer them in place of the menu."""
    club_rules, catalog = await rules.current(session, club.rules), await rewards_by_id(session)
    options = options_of(callback_data.field, catalog)
    await show(query, bot, *choice_view(club_rules, callback_data.field, options, catalog))


async def save(session: AsyncSession, club: Club, field: str, tier: str, value: object, stamp: Stamp) -> View:
    """Store one change (`rules.set_rule`: validated and audited, or InvalidRule): the confirmation above its menu."""
    changed = await rules.set_rule(session, club.rules, field, value, stamp, tier=tier)
    catalog = await catalog_for(session, field)
    text, markup = home_view(changed.after, field, catalog)
    confirmation = _("settings.changed").format(
        rule=rule_name(field, tier),
        before=value_text(changed.before, field, tier, catalog),
        after=value_text(changed.after, field, tier, catalog),
    )
    return confirmation + "\n\n" + text, markup


async def got_value(message: Message, state: FSMContext, session: AsyncSession, club: Club, stamp: Stamp) -> None:
    """The new value: stored and confirmed with the menu, or refused (nothing stored) and asked for again."""
    editing = await kept(state, RuleEditing)
    field, tier = editing.field, editing.tier
    try:
        value = typed_value(message.text or "", field)
        text, markup = await save(session, club, field, tier, value, stamp)
    except (InvalidNumber, InvalidRule) as error:
        currency = (await rules.current(session, club.rules)).currency
        await message.answer(refusal(InvalidRule(field, error.reason), field, tier, currency))
        return
    await state.clear()
    await message.answer(text, reply_markup=markup)


async def unset_value(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Skip at the prompt of a rule that may be unset: it is unset, and confirmed with its menu."""
    field = (await kept(state, RuleEditing)).field
    if field not in UNSET_ALLOWED:
        stale(callback_answer)
        return
    view = await save(session, club, field, "", None, stamp)
    await state.clear()
    await show(query, bot, *view)


async def chose(
    query: CallbackQuery,
    callback_data: SettingsChoice,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """One of a rule's offered values: stored and confirmed with its section (a value gone since is stale)."""
    field = callback_data.field
    if callback_data.value not in options_of(field, await rewards_by_id(session)):
        stale(callback_answer)
        return
    value = stored_value(field, callback_data.value)
    view = await save(session, club, field, "", value, stamp)
    await show(query, bot, *view)


async def cancel(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Leave the prompt: its menu comes back unchanged (a prompt already answered or left is stale)."""
    if await state.get_state() != RuleEdit.value.state:
        stale(callback_answer)
        return
    field = (await kept(state, RuleEditing)).field
    await state.clear()
    club_rules = await rules.current(session, club.rules)
    await show(query, bot, *home_view(club_rules, field, await catalog_for(session, field)))
    toast(callback_answer, _("settings.cancelled"))


def create_router() -> Router:
    """Routes for owners' /settings."""
    router = staff_only(Router(name="settings"), Role.OWNER)
    choice_rules = [*CHOICES, *REWARD_FIELDS]
    router.message.register(settings_menu, Command("settings"))
    router.message.register(got_value, StateFilter(RuleEdit.value), HAS_TEXT, NOT_COMMAND)
    router.callback_query.register(show_menu, SettingsAction.filter(F.action == "menu"))
    router.callback_query.register(from_checklist, ChecklistStep.filter(F.step.in_([Step.PROFILE, Step.RULES])))
    router.callback_query.register(show_section, SettingsAction.filter(F.action.in_(list(SECTIONS))))
    router.callback_query.register(show_tier, SettingsAction.filter(F.action == "tier"))
    router.callback_query.register(ask_value, SettingsAction.filter((F.action == "ask") & F.field.in_(list(PROMPTS))))
    router.callback_query.register(
        ask_choice, SettingsAction.filter((F.action == "choose") & F.field.in_(choice_rules))
    )
    router.callback_query.register(chose, SettingsChoice.filter(F.field.in_(choice_rules)))
    router.callback_query.register(unset_value, SettingsAction.filter(F.action == "unset"), StateFilter(RuleEdit.value))
    router.callback_query.register(cancel, SettingsAction.filter(F.action == "cancel"))
    shop.register(router)
    return router
