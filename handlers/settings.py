"""/settings for owners: see the earning rules and change them one value at a time, validated and audited.

Every route here requires the owner role; for anyone else the filters do not match and the update falls
through, so a customer typing /settings gets the unknown-command answer and a forged button the stale one.

The flow: /settings shows the rules (menu) → a rule's button, or a tier and then its threshold or
multiplier, asks for the new value (prompt, with Cancel) → the typed number is stored and the menu comes
back with a confirmation; a refused value is explained and asked for again. Any command ends the prompt
(see `handlers.create_router`).
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from handlers.counter import ascii_signed
from handlers.filters import HAS_TEXT, NOT_COMMAND, HasRole
from handlers.replies import number, tier_name
from handlers.staff import show
from loyalty import rules
from loyalty.errors import InvalidRule
from loyalty.money import SEPARATORS
from loyalty.rules import Rules, Tier
from loyalty.staff import Role
from storage.database import write_transaction

RULE_BUTTONS = {
    "amount_per_point": __("button.settings_amount_per_point"),
    "min_purchase": __("button.settings_min_purchase"),
    "expiry_days": __("button.settings_expiry_days"),
    "welcome_bonus": __("button.settings_welcome_bonus"),
    "tier_window_days": __("button.settings_tier_window_days"),
}
TIER_BUTTONS = {"threshold": __("button.settings_threshold"), "percent": __("button.settings_percent")}
RULE_NAMES = {
    "amount_per_point": __("settings.rule_amount_per_point"),
    "min_purchase": __("settings.rule_min_purchase"),
    "expiry_days": __("settings.rule_expiry_days"),
    "welcome_bonus": __("settings.rule_welcome_bonus"),
    "tier_window_days": __("settings.rule_tier_window_days"),
    "threshold": __("settings.rule_threshold"),
    "percent": __("settings.rule_percent"),
}
PROMPTS = {
    "amount_per_point": __("settings.ask_amount_per_point"),
    "min_purchase": __("settings.ask_min_purchase"),
    "expiry_days": __("settings.ask_expiry_days"),
    "welcome_bonus": __("settings.ask_welcome_bonus"),
    "tier_window_days": __("settings.ask_tier_window_days"),
    "threshold": __("settings.ask_threshold"),
    "percent": __("settings.ask_percent"),
}
TIER_PARTS = tuple(TIER_BUTTONS)
FIELD_KEY, TIER_KEY = "settings_field", "settings_tier"
PERCENT_SIGNS = "%٪"


class RuleEdit(StatesGroup):
    """Waiting for the new value of the rule the owner picked."""

    value = State()


class SettingsAction(CallbackData, prefix="set"):
    """A button of the /settings menu: `action` on the rule `field`, of the tier `tier` for tier rules."""

    action: str
    field: str = ""
    tier: str = ""


def model_of(field: str) -> type[BaseModel]:
    """The model that holds a rule: a tier's threshold and multiplier are the tier's."""
    return Tier if field in TIER_PARTS else Rules


def limits(field: str) -> dict[str, str]:
    """The smallest and largest value the rules accept for `field`, as `low` and `high` in the reply's language.

    Read from the model's constraints, so the bounds are never repeated here.
    """
    metadata = model_of(field).model_fields[field].metadata
    found = {bound: getattr(item, bound) for item in metadata for bound in ("ge", "le") if hasattr(item, bound)}
    return {"low": shown(field, found["ge"]), "high": shown(field, found["le"])}


def shown(field: str, value: int) -> str:
    """A rule's value in the reply's language: a multiplier as a percentage, anything else as a number."""
    return _("settings.percent").format(value=number(value)) if field == "percent" else number(value)


def value_of(club_rules: Rules, field: str, tier: str) -> int:
    """The value a rule has now."""
    return getattr(club_rules.tier_named(tier) if field in TIER_PARTS else club_rules, field)


def rule_name(field: str, tier: str) -> str:
    """A rule's name for confirmations and refusals, with the tier's name for tier rules."""
    return str(RULE_NAMES[field]).format(tier=tier_name(tier))


def typed_number(text: str, field: str) -> int | None:
    """A whole number typed in any digits, with thousands separators (and a % for a multiplier); else None."""
    if field == "percent":
        text = text.strip().strip(PERCENT_SIGNS)
    cleaned = ascii_signed(text.strip()).translate(SEPARATORS)
    digits = cleaned.removeprefix("-")
    return int(cleaned) if digits.isascii() and digits.isdigit() else None


def with_value(club_rules: Rules, field: str, tier: str, value: int) -> tuple[str, object]:
    """The stored field and its new value: a tier's part changes the whole list of tiers (if it still has the tier)."""
    if field not in TIER_PARTS:
        return field, value
    if known_tier(club_rules, tier) is None:
        raise InvalidRule("tiers", "unknown")
    tiers = [entry.model_copy(update={field: value}) if entry.name == tier else entry for entry in club_rules.tiers]
    return "tiers", [entry.model_dump() for entry in tiers]


def refusal(error: InvalidRule, field: str, tier: str) -> str:
    """Why a value was refused: tiers out of order, a rule or tier no longer there, or a value out of range."""
    if error.reason == "value_error":
        return _("settings.tiers_order")
    if error.reason == "unknown":
        return _("fallback.stale_button")
    return _("settings.out_of_range").format(rule=rule_name(field, tier), **limits(field))


def menu_view(club_rules: Rules) -> tuple[str, InlineKeyboardMarkup]:
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
    builder.adjust(1)
    return text, builder.as_markup()


def tier_view(club_rules: Rules, tier: Tier) -> tuple[str, InlineKeyboardMarkup]:
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


def prompt_view(club_rules: Rules, field: str, tier: str) -> tuple[str, InlineKeyboardMarkup]:
    """Ask for a rule's new value, showing the one in force and the range accepted."""
    current = shown(field, value_of(club_rules, field, tier))
    text = str(PROMPTS[field]).format(tier=tier_name(tier), current=current, **limits(field))
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.cancel"), callback_data=SettingsAction(action="cancel"))
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
    """Back to the rules from a tier."""
    await show(query, bot, *menu_view(await rules.current(session, club.rules)))
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


async def got_value(
    message: Message, state: FSMContext, session: AsyncSession, club: Club, now: datetime, event_update: Update
) -> None:
    """The new value: stored and confirmed with the menu, or refused (nothing stored) and asked for again."""
    data = await state.get_data()
    field, tier = data.get(FIELD_KEY, ""), data.get(TIER_KEY, "")
    value = typed_number(message.text or "", field)
    if value is None:
        await message.answer(_("settings.not_a_number"))
        return
    try:
        async with write_transaction(session):
            before = await rules.current(session, club.rules)
            after = await rules.change(
                session,
                club.rules,
                *with_value(before, field, tier, value),
                actor_id=message.from_user.id,
                now=now,
                update_id=event_update.update_id,
            )
    except InvalidRule as error:
        await message.answer(refusal(error, field, tier))
        return
    await state.clear()
    text, markup = menu_view(after)
    changed = _("settings.changed").format(
        rule=rule_name(field, tier),
        before=shown(field, value_of(before, field, tier)),
        after=shown(field, value_of(after, field, tier)),
    )
    await message.answer(changed + "\n\n" + text, reply_markup=markup)


async def cancel(query: CallbackQuery, state: FSMContext, session: AsyncSession, club: Club, bot: Bot) -> None:
    """Leave the prompt: the menu comes back unchanged (a prompt already answered or left is stale)."""
    if await state.get_state() != RuleEdit.value.state:
        await query.answer(_("fallback.stale_button"), show_alert=True)
        return
    await state.clear()
    await show(query, bot, *menu_view(await rules.current(session, club.rules)))
    await query.answer(_("settings.cancelled"))


def create_router() -> Router:
    """Routes for owners' /settings."""
    router = Router(name="settings")
    owner = HasRole(Role.OWNER)
    router.message.register(settings_menu, Command("settings"), owner)
    router.message.register(got_value, StateFilter(RuleEdit.value), HAS_TEXT, NOT_COMMAND, owner)
    router.callback_query.register(show_menu, SettingsAction.filter(F.action == "menu"), owner)
    router.callback_query.register(show_tier, SettingsAction.filter(F.action == "tier"), owner)
    router.callback_query.register(
        ask_value, SettingsAction.filter((F.action == "ask") & F.field.in_(list(PROMPTS))), owner
    )
    router.callback_query.register(cancel, SettingsAction.filter(F.action == "cancel"), owner)
    return router
