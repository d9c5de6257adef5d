"""/settings for owners: see the earning rules and change them one value at a time, validated and audited.

Every route here requires the owner role; for anyone else the filters do not match and the update falls
through, so a customer typing /settings gets the unknown-command answer and a forged button the stale one.

The flow: /settings shows the rules (menu) → a rule's button, or a tier and then its threshold or
multiplier, or Referrals and then one of its rules, asks for the new value (prompt, with Cancel, and Skip for
a rule that may be left unset) → the typed number is stored and the menu it came from comes back with a
confirmation; a refused value is explained and asked for again. A rule with a few possible values (who a
referral rewards, when, which catalog reward it gives as a voucher) offers them as buttons instead, and a
press stores the choice. Birthdays & reminders is a second section built the same way (`SECTIONS`): the
birthday greeting on or off, its hour, points and voucher, and how many days before points expire members are
reminded. Any command ends the prompt (see `handlers.create_router`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.lazy_proxy import LazyProxy
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from handlers.filters import HAS_TEXT, NOT_COMMAND, staff_only
from handlers.messages import show
from handlers.replies import language, number, tier_name
from handlers.wizard import typed_number
from loyalty import rewards, rules
from loyalty.errors import InvalidNumber, InvalidRule
from loyalty.numerals import MAX_BIGINT, local_digits
from loyalty.rules import TIER_PARTS, Rules, Tier
from loyalty.staff import Role
from loyalty.stamps import Stamp
from storage.models import Reward

RULE_BUTTONS = {
    "amount_per_point": __("button.settings_amount_per_point"),
    "min_purchase": __("button.settings_min_purchase"),
    "expiry_days": __("button.settings_expiry_days"),
    "welcome_bonus": __("button.settings_welcome_bonus"),
    "tier_window_days": __("button.settings_tier_window_days"),
}
TIER_BUTTONS = {"threshold": __("button.settings_threshold"), "percent": __("button.settings_percent")}
REFERRAL_BUTTONS = {  # the referral rules, in the order of their section
    "referral_reward_to": __("button.settings_referral_reward_to"),
    "referral_referrer_points": __("button.settings_referral_referrer_points"),
    "referral_friend_points": __("button.settings_referral_friend_points"),
    "referral_trigger": __("button.settings_referral_trigger"),
    "referral_min_purchase": __("button.settings_referral_min_purchase"),
    "referral_monthly_cap": __("button.settings_referral_monthly_cap"),
    "referral_window_days": __("button.settings_referral_window_days"),
    "referral_expiry_days": __("button.settings_referral_expiry_days"),
    "referral_referrer_reward_id": __("button.settings_referral_referrer_reward_id"),
    "referral_friend_reward_id": __("button.settings_referral_friend_reward_id"),
}
BIRTHDAY_BUTTONS = {  # the birthday and reminder rules, in the order of their section
    "birthday_greetings": __("button.settings_birthday_greetings"),
    "birthday_hour": __("button.settings_birthday_hour"),
    "birthday_points": __("button.settings_birthday_points"),
    "birthday_expiry_days": __("button.settings_birthday_expiry_days"),
    "birthday_reward_id": __("button.settings_birthday_reward_id"),
    "expiry_reminder_days": __("button.settings_expiry_reminder_days"),
}


class Section(NamedTuple):
    """A section of rules behind a button of the menu: its button, its text (a placeholder per rule), its rules."""

    button: LazyProxy
    text: LazyProxy
    back: LazyProxy  # from one of its choices back to the section
    fields: Mapping[str, LazyProxy]  # each rule's button, in order


SECTIONS = {  # by the action of the menu button that opens it
    "referrals": Section(
        __("button.settings_referrals"),
        __("settings.referrals"),
        __("button.settings_referrals_back"),
        REFERRAL_BUTTONS,
    ),
    "birthdays": Section(
        __("button.settings_birthdays"),
        __("settings.birthdays"),
        __("button.settings_birthdays_back"),
        BIRTHDAY_BUTTONS,
    ),
}
ON, OFF = "on", "off"
CHOICES = {  # rules with a few possible values: each value and its name
    "referral_reward_to": {
        "both": __("settings.reward_to_both"),
        "referrer": __("settings.reward_to_referrer"),
        "friend": __("settings.reward_to_friend"),
        "none": __("settings.reward_to_none"),
    },
    "referral_trigger": {
        "registration": __("settings.trigger_registration"),
        "purchase": __("settings.trigger_purchase"),
    },
    "birthday_greetings": {ON: __("settings.on"), OFF: __("settings.off")},
}
SWITCHES = ("birthday_greetings",)  # rules that are on or off: the options ON and OFF
REWARD_FIELDS = (  # a choice among the active rewards
    "referral_referrer_reward_id",
    "referral_friend_reward_id",
    "birthday_reward_id",
)
QUESTIONS = {
    "referral_reward_to": __("settings.ask_referral_reward_to"),
    "referral_trigger": __("settings.ask_referral_trigger"),
    "referral_referrer_reward_id": __("settings.ask_referral_referrer_reward_id"),
    "referral_friend_reward_id": __("settings.ask_referral_friend_reward_id"),
    "birthday_greetings": __("settings.ask_birthday_greetings"),
    "birthday_reward_id": __("settings.ask_birthday_reward_id"),
}
RULE_NAMES = {
    "amount_per_point": __("settings.rule_amount_per_point"),
    "min_purchase": __("settings.rule_min_purchase"),
    "expiry_days": __("settings.rule_expiry_days"),
    "welcome_bonus": __("settings.rule_welcome_bonus"),
    "tier_window_days": __("settings.rule_tier_window_days"),
    "threshold": __("settings.rule_threshold"),
    "percent": __("settings.rule_percent"),
    "referral_reward_to": __("settings.rule_referral_reward_to"),
    "referral_referrer_points": __("settings.rule_referral_referrer_points"),
    "referral_friend_points": __("settings.rule_referral_friend_points"),
    "referral_trigger": __("settings.rule_referral_trigger"),
    "referral_min_purchase": __("settings.rule_referral_min_purchase"),
    "referral_monthly_cap": __("settings.rule_referral_monthly_cap"),
    "referral_window_days": __("settings.rule_referral_window_days"),
    "referral_expiry_days": __("settings.rule_referral_expiry_days"),
    "referral_referrer_reward_id": __("settings.rule_referral_referrer_reward_id"),
    "referral_friend_reward_id": __("settings.rule_referral_friend_reward_id"),
    "birthday_greetings": __("settings.rule_birthday_greetings"),
    "birthday_hour": __("settings.rule_birthday_hour"),
    "birthday_points": __("settings.rule_birthday_points"),
    "birthday_expiry_days": __("settings.rule_birthday_expiry_days"),
    "birthday_reward_id": __("settings.rule_birthday_reward_id"),
    "expiry_reminder_days": __("settings.rule_expiry_reminder_days"),
}
PROMPTS = {
    "amount_per_point": __("settings.ask_amount_per_point"),
    "min_purchase": __("settings.ask_min_purchase"),
    "expiry_days": __("settings.ask_expiry_days"),
    "welcome_bonus": __("settings.ask_welcome_bonus"),
    "tier_window_days": __("settings.ask_tier_window_days"),
    "threshold": __("settings.ask_threshold"),
    "percent": __("settings.ask_percent"),
    "referral_referrer_points": __("settings.ask_referral_referrer_points"),
    "referral_friend_points": __("settings.ask_referral_friend_points"),
    "referral_min_purchase": __("settings.ask_referral_min_purchase"),
    "referral_monthly_cap": __("settings.ask_referral_monthly_cap"),
    "referral_window_days": __("settings.ask_referral_window_days"),
    "referral_expiry_days": __("settings.ask_referral_expiry_days"),
    "birthday_hour": __("settings.ask_birthday_hour"),
    "birthday_points": __("settings.ask_birthday_points"),
    "birthday_expiry_days": __("settings.ask_birthday_expiry_days"),
    "expiry_reminder_days": __("settings.ask_expiry_reminder_days"),
}
ZERO_TEXTS = {"birthday_points": __("settings.no_points"), "expiry_reminder_days": __("settings.off")}  # 0: none
UNIT_TEXTS = {"expiry_reminder_days": __("settings.days_before")}  # a number read with its unit
HOURS = ("birthday_hour",)  # an hour of the day, shown as 10:00
UNSET_ALLOWED = ("referral_expiry_days",)  # Skip leaves it unset: referral points expire like all points
FIELD_KEY, TIER_KEY = "settings_field", "settings_tier"
NO_REWARD = "none"
View = tuple[str, InlineKeyboardMarkup]


class RuleEdit(StatesGroup):
    """Waiting for the new value of the rule the owner picked."""

    value = State()


class SettingsAction(CallbackData, prefix="set"):
    """A button of the /settings menu: `action` on the rule `field`, of the tier `tier` for tier rules."""

    action: str
    field: str = ""
    tier: str = ""


class SettingsChoice(CallbackData, prefix="setc"):
    """One of the values offered for a rule with a few possible values: pressing it stores `value` in `field`."""

    field: str
    value: str


def model_of(field: str) -> type[BaseModel]:
    """The model that holds a rule: a tier's threshold and multiplier are the tier's."""
    return Tier if field in TIER_PARTS else Rules


def limits(field: str) -> dict[str, str]:
    """The smallest and largest value the rules accept for `field`, as `low` and `high` in the reply's language.

    Read from the model's constraints, so the bounds are never repeated here.
    """
    low, high = bounds(field)
    return {"low": shown(field, low), "high": shown(field, high)}


def bounds(field: str) -> tuple[int, int]:
    """The smallest and largest value the rules accept for `field`, read from the model's constraints (any 64-bit
    number for a field the rules do not know: storing it is refused as unknown)."""
    known = model_of(field).model_fields.get(field)
    metadata = known.metadata if known is not None else []
    found = {bound: getattr(item, bound) for item in metadata for bound in ("ge", "le") if hasattr(item, bound)}
    return found.get("ge", -MAX_BIGINT), found.get("le", MAX_BIGINT)


def shown(field: str, value: int) -> str:
    """A rule's value in the reply's language: a multiplier as a percentage, anything else as a number."""
    return _("settings.percent").format(value=number(value)) if field == "percent" else number(value)


def value_of(club_rules: Rules, field: str, tier: str) -> object:
    """The value a rule has now."""
    return getattr(club_rules.tier_named(tier) if field in TIER_PARTS else club_rules, field)


def value_text(club_rules: Rules, field: str, tier: str = "", catalog: Mapping[int, Reward] | None = None) -> str:
    """A rule's value now, in words: a number, an hour, a choice, a reward (from `catalog`), none or off, or unset."""
    value = value_of(club_rules, field, tier)
    if field in REWARD_FIELDS:
        return reward_text(value, catalog or {})
    if field in CHOICES:
        return str(CHOICES[field][option_of(value)])
    if field in HOURS:
        return local_digits(f"{value:02d}:00", language())
    if field in ZERO_TEXTS and value == 0:
        return str(ZERO_TEXTS[field])
    if field in UNIT_TEXTS:
        return str(UNIT_TEXTS[field]).format(days=number(value))
    if isinstance(value, int):
        return shown(field, value)
    return _("settings.like_all_points").format(days=number(club_rules.expiry_days))  # unset


def reward_text(reward_id: object, catalog: Mapping[int, Reward]) -> str:
    """The catalog reward given as a voucher, by name (saying so when it is paused), or that there is none."""
    reward = catalog.get(reward_id) if isinstance(reward_id, int) else None
    if reward is None:
        return _("settings.no_voucher")
    return reward.name if reward.active else _("settings.reward_paused").format(name=reward.name)


def rule_name(field: str, tier: str) -> str:
    """A rule's name for confirmations and refusals, with the tier's name for tier rules."""
    return str(RULE_NAMES[field]).format(tier=tier_name(tier))


def refusal(error: InvalidRule, field: str, tier: str) -> str:
    """Why a value was refused: tiers out of order, a rule or tier no longer there, or a value out of range."""
    if error.reason == "value_error":
        return _("settings.tiers_order")
    if error.reason == "unknown":
        return _("fallback.stale_button")
    if error.reason == "not_a_number":
        return _("settings.not_a_number")
    return _("settings.out_of_range").format(rule=rule_name(field, tier), **limits(field))


def menu_view(club_rules: Rules) -> View:
    """The rules in force, with a button for each rule and each tier."""
    tiers = [
        _("settings.tier_line").format(
            tier=tier_name(tier.name), threshold=number(tier.threshold), percent=shown("percent", tier.percent)
        )
        for tier in club_rules.tiers
    ]
    text = _("settings.menu").format(
        amount_per_point=number(club_rules.amount_per_point),
        min_purchase=number(club_rules.min_purchase),
        expiry_days=number(club_rules.expiry_days),
        welcome_bonus=number(club_rules.welcome_bonus),
        tier_window_days=number(club_rules.tier_window_days),
        tiers="\n".join(tiers),
    )
    builder = InlineKeyboardBuilder()
    for field, label in RULE_BUTTONS.items():
        builder.button(text=str(label), callback_data=SettingsAction(action="ask", field=field))
    for tier in club_rules.tiers:
        label = _("button.settings_tier").format(tier=tier_name(tier.name))
        builder.button(text=label, callback_data=SettingsAction(action="tier", tier=tier.name))
    for name, section in SECTIONS.items():
        builder.button(text=str(section.button), callback_data=SettingsAction(action=name))
    builder.adjust(1)
    return text, builder.as_markup()


def section_of(field: str) -> str | None:
    """The section a rule is changed in, if it is in one."""
    return next((name for name, section in SECTIONS.items() if field in section.fields), None)


def section_view(name: str, club_rules: Rules, catalog: Mapping[int, Reward]) -> View:
    """A section's rules in force, with a button for each and one back to the rules."""
    section = SECTIONS[name]
    values = {field: value_text(club_rules, field, catalog=catalog) for field in section.fields}
    text = str(section.text).format(**values)
    builder = InlineKeyboardBuilder()
    for field, label in section.fields.items():
        action = "ask" if field in PROMPTS else "choose"
        builder.button(text=str(label), callback_data=SettingsAction(action=action, field=field))
    builder.button(text=_("button.settings_back"), callback_data=SettingsAction(action="menu"))
    builder.adjust(1)
    return text, builder.as_markup()


def choice_view(club_rules: Rules, field: str, options: Mapping[str, str], catalog: Mapping[int, Reward]) -> View:
    """Ask for a rule's new value among `options`, marking the one in force, with a button back to its section."""
    text = str(QUESTIONS[field]).format(current=value_text(club_rules, field, catalog=catalog))
    now = option_of(value_of(club_rules, field, ""))
    builder = InlineKeyboardBuilder()
    for value, label in options.items():
        shown_label = "✅ " + label if value == now else label
        builder.button(text=shown_label, callback_data=SettingsChoice(field=field, value=value))
    section = section_of(field) or ""
    builder.button(text=str(SECTIONS[section].back), callback_data=SettingsAction(action=section))
    builder.adjust(1)
    return text, builder.as_markup()


async def rewards_by_id(session: AsyncSession) -> dict[int, Reward]:
    """Every catalog reward by id, to name the ones the rules give as vouchers."""
    return {reward.id: reward for reward in await rewards.catalog(session)}


def options_of(field: str, catalog: Mapping[int, Reward]) -> dict[str, str]:
    """The values a rule with a few possible values may take now, with their names (rewards: the active ones)."""
    if field in CHOICES:
        return {value: str(name) for value, name in CHOICES[field].items()}
    active = {str(reward.id): reward.name for reward in catalog.values() if reward.active}
    return active | {NO_REWARD: _("settings.no_voucher")}


def option_of(value: object) -> str:
    """A stored value as its option: a reward's id, `none` for no reward, on or off, or the value itself."""
    if isinstance(value, bool):
        return ON if value else OFF
    return NO_REWARD if value is None else str(value)


def stored_value(field: str, option: str) -> object:
    """The value an option stores: a reward's id as a number (None for no reward), a switch's bool, else the option."""
    if field in SWITCHES:
        return option == ON
    if field not in REWARD_FIELDS:
        return option
    return None if option == NO_REWARD else int(option)


async def catalog_for(session: AsyncSession, field: str) -> dict[int, Reward]:
    """The catalog by id when the rule's menu names rewards (a section), else nothing to read."""
    return await rewards_by_id(session) if section_of(field) else {}


def home_view(club_rules: Rules, field: str, catalog: Mapping[int, Reward]) -> View:
    """The menu a rule is changed from: its section for a rule in one, the rules for any other."""
    section = section_of(field)
    return section_view(section, club_rules, catalog) if section else menu_view(club_rules)


def tier_view(club_rules: Rules, tier: Tier) -> View:
    """One tier: where it starts and its multiplier, with a button for each (the first tier starts at 0)."""
    text = _("settings.tier").format(
        tier=tier_name(tier.name),
        threshold=number(tier.threshold),
        days=number(club_rules.tier_window_days),
        percent=shown("percent", tier.percent),
    )
    first = tier == club_rules.tiers[0]
    builder = InlineKeyboardBuilder()
    for field, label in TIER_BUTTONS.items():
        if not (first and field == "threshold"):
            builder.button(text=str(label), callback_data=SettingsAction(action="ask", field=field, tier=tier.name))
    builder.button(text=_("button.settings_back"), callback_data=SettingsAction(action="menu"))
    builder.adjust(1)
    return (text + "\n\n" + _("settings.first_tier") if first else text), builder.as_markup()


def prompt_view(club_rules: Rules, field: str, tier: str) -> View:
    """Ask for a rule's new value, showing the one in force and the range accepted (and Skip if it may be unset)."""
    current = value_text(club_rules, field, tier)
    text = str(PROMPTS[field]).format(tier=tier_name(tier), current=current, **limits(field))
    builder = InlineKeyboardBuilder()
    if field in UNSET_ALLOWED:
        builder.button(text=_("button.settings_like_all_points"), callback_data=SettingsAction(action="unset"))
    builder.button(text=_("button.cancel"), callback_data=SettingsAction(action="cancel"))
    builder.adjust(1)
    return text, builder.as_markup()


def known_tier(club_rules: Rules, name: str) -> Tier | None:
    """The tier called `name`, if the rules still have it."""
    return next((tier for tier in club_rules.tiers if tier.name == name), None)


async def settings_menu(message: Message, state: FSMContext, session: AsyncSession, club: Club) -> None:
    """/settings: the rules in force and what can be changed (ending any unanswered prompt)."""
    await state.clear()
    text, markup = menu_view(await rules.current(session, club.rules))
    await message.answer(text, reply_markup=markup)


async def show_menu(query: CallbackQuery, session: AsyncSession, club: Club, bot: Bot) -> None:
    """Back to the rules from a tier or a section."""
    await show(query, bot, *menu_view(await rules.current(session, club.rules)))
    await query.answer()


async def show_section(
    query: CallbackQuery, callback_data: SettingsAction, session: AsyncSession, club: Club, bot: Bot
) -> None:
    """A section (referrals, birthdays & reminders), with a button for each of its rules."""
    club_rules = await rules.current(session, club.rules)
    await show(query, bot, *section_view(callback_data.action, club_rules, await rewards_by_id(session)))
    await query.answer()


async def show_tier(
    query: CallbackQuery, callback_data: SettingsAction, session: AsyncSession, club: Club, bot: Bot
) -> None:
    """One tier, with its threshold and multiplier buttons."""
    club_rules = await rules.current(session, club.rules)
    tier = known_tier(club_rules, callback_data.tier)
    if tier is None:
        await query.answer(_("fallback.stale_button"), show_alert=True)
        return
    await show(query, bot, *tier_view(club_rules, tier))
    await query.answer()


async def ask_value(
    query: CallbackQuery, callback_data: SettingsAction, state: FSMContext, session: AsyncSession, club: Club, bot: Bot
) -> None:
    """A rule's button: ask for its new value in place of the menu."""
    club_rules = await rules.current(session, club.rules)
    field, tier = callback_data.field, callback_data.tier
    if field in TIER_PARTS and known_tier(club_rules, tier) is None:
        await query.answer(_("fallback.stale_button"), show_alert=True)
        return
    await state.set_state(RuleEdit.value)
    await state.update_data({FIELD_KEY: field, TIER_KEY: tier})
    await show(query, bot, *prompt_view(club_rules, field, tier))
    await query.answer()


async def ask_choice(
    query: CallbackQuery, callback_data: SettingsAction, session: AsyncSession, club: Club, bot: Bot
) -> None:
    """A button of a rule with a few possible values: offer them in place of the menu."""
    club_rules, catalog = await rules.current(session, club.rules), await rewards_by_id(session)
    options = options_of(callback_data.field, catalog)
    await show(query, bot, *choice_view(club_rules, callback_data.field, options, catalog))
    await query.answer()


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
    data = await state.get_data()
    field, tier = data.get(FIELD_KEY, ""), data.get(TIER_KEY, "")
    try:
        value = typed_number(message.text or "", field, *bounds(field))
    except InvalidNumber as error:
        await message.answer(refusal(InvalidRule(field, error.reason), field, tier))
        return
    try:
        text, markup = await save(session, club, field, tier, value, stamp)
    except InvalidRule as error:
        await message.answer(refusal(error, field, tier))
        return
    await state.clear()
    await message.answer(text, reply_markup=markup)


async def unset_value(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, club: Club, stamp: Stamp, bot: Bot
) -> None:
    """Skip at the prompt of a rule that may be unset: it is unset, and confirmed with its menu."""
    field = (await state.get_data()).get(FIELD_KEY, "")
    if field not in UNSET_ALLOWED:
        await query.answer(_("fallback.stale_button"), show_alert=True)
        return
    view = await save(session, club, field, "", None, stamp)
    await state.clear()
    await show(query, bot, *view)
    await query.answer()


async def chose(
    query: CallbackQuery, callback_data: SettingsChoice, session: AsyncSession, club: Club, stamp: Stamp, bot: Bot
) -> None:
    """One of a rule's offered values: stored and confirmed with its section (a value gone since is stale)."""
    field = callback_data.field
    if callback_data.value not in options_of(field, await rewards_by_id(session)):
        await query.answer(_("fallback.stale_button"), show_alert=True)
        return
    value = stored_value(field, callback_data.value)
    view = await save(session, club, field, "", value, stamp)
    await show(query, bot, *view)
    await query.answer()


async def cancel(query: CallbackQuery, state: FSMContext, session: AsyncSession, club: Club, bot: Bot) -> None:
    """Leave the prompt: its menu comes back unchanged (a prompt already answered or left is stale)."""
    if await state.get_state() != RuleEdit.value.state:
        await query.answer(_("fallback.stale_button"), show_alert=True)
        return
    field = (await state.get_data()).get(FIELD_KEY, "")
    await state.clear()
    club_rules = await rules.current(session, club.rules)
    await show(query, bot, *home_view(club_rules, field, await catalog_for(session, field)))
    await query.answer(_("settings.cancelled"))


def create_router() -> Router:
    """Routes for owners' /settings."""
    router = staff_only(Router(name="settings"), Role.OWNER)
    choice_rules = [*CHOICES, *REWARD_FIELDS]
    router.message.register(settings_menu, Command("settings"))
    router.message.register(got_value, StateFilter(RuleEdit.value), HAS_TEXT, NOT_COMMAND)
    router.callback_query.register(show_menu, SettingsAction.filter(F.action == "menu"))
    router.callback_query.register(show_section, SettingsAction.filter(F.action.in_(list(SECTIONS))))
    router.callback_query.register(show_tier, SettingsAction.filter(F.action == "tier"))
    router.callback_query.register(ask_value, SettingsAction.filter((F.action == "ask") & F.field.in_(list(PROMPTS))))
    router.callback_query.register(
        ask_choice, SettingsAction.filter((F.action == "choose") & F.field.in_(choice_rules))
    )
    router.callback_query.register(chose, SettingsChoice.filter(F.field.in_(choice_rules)))
    router.callback_query.register(unset_value, SettingsAction.filter(F.action == "unset"), StateFilter(RuleEdit.value))
    router.callback_query.register(cancel, SettingsAction.filter(F.action == "cancel"))
    return router
