"""The views of /settings: the rules, a section, a tier, a rule's prompt or its choices, with their buttons."""

from __future__ import annotations

from collections.abc import Mapping

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.staff.settings.fields import (
    CHOICES,
    DAYS,
    PROMPTS,
    QUESTIONS,
    REWARD_FIELDS,
    RULE_BUTTONS,
    SECTIONS,
    TIER_BUTTONS,
    UNSET_ALLOWED,
    counted_value,
    limits,
    option_of,
    section_of,
    shown,
    value_of,
    value_text,
)
from handlers.wizard import View
from loyalty import rewards
from loyalty.rules import CURRENCY_LENGTH, Rules, Tier
from storage.models import Reward
from texts.money import amount_text
from texts.numbers import number
from texts.plurals import counted
from texts.tiers import tier_name


class SettingsAction(CallbackData, prefix="set"):
    """A button of the /settings menu: `action` on the rule `field`, of the tier `tier` for tier rules."""

    action: str
    field: str = ""
    tier: str = ""


class ShopAction(CallbackData, prefix="sets"):
    """A button of the shop's profile section: `action` (menu, ask, clear, cancel) on its `field`."""

    action: str
    field: str = ""


class SettingsChoice(CallbackData, prefix="setc"):
    """One of the values offered for a rule with a few possible values: pressing it stores `value` in `field`."""

    field: str
    value: str


def action_of(field: str) -> str:
    """What a rule's button does: offer its few possible values (`choose`), or ask for a typed one (`ask`)."""
    return "choose" if field in CHOICES or field in REWARD_FIELDS else "ask"


def menu_view(club_rules: Rules) -> View:
    """The rules in force, with a button for each rule, each tier, each section and the shop's profile."""
    tiers = [
        _("settings.tier_line").format(
            tier=tier_name(tier.name),
            threshold=amount_text(tier.threshold, club_rules.currency),
            percent=shown("percent", tier.percent, club_rules.currency),
        )
        for tier in club_rules.tiers
    ]
    text = _("settings.menu").format(
        amount_per_point=value_text(club_rules, "amount_per_point"),
        min_purchase=value_text(club_rules, "min_purchase"),
        currency=value_text(club_rules, "currency"),
        expiry_days=counted_value(club_rules, "expiry_days"),
        welcome_bonus=counted_value(club_rules, "welcome_bonus"),
        tier_window_days=counted_value(club_rules, "tier_window_days"),
        privacy_retention_days=counted_value(club_rules, "privacy_retention_days"),
        tiers="\n".join(tiers),
    )
    builder = InlineKeyboardBuilder()
    for field, label in RULE_BUTTONS.items():
        builder.button(text=str(label), callback_data=SettingsAction(action=action_of(field), field=field))
    for tier in club_rules.tiers:
        label = _("button.settings_tier").format(tier=tier_name(tier.name))
        builder.button(text=label, callback_data=SettingsAction(action="tier", tier=tier.name))
    for name, section in SECTIONS.items():
        builder.button(text=str(section.button), callback_data=SettingsAction(action=name))
    builder.button(text=_("button.settings_shop"), callback_data=ShopAction(action="menu"))
    builder.adjust(1)
    return text, builder.as_markup()


def section_view(name: str, club_rules: Rules, catalog: Mapping[int, Reward]) -> View:
    """A section's rules in force, with a button for each and one back to the rules."""
    section = SECTIONS[name]
    values = {field: counted_value(club_rules, field, catalog) for field in section.fields}
    text = str(section.text).format(**values)
    builder = InlineKeyboardBuilder()
    for field, label in section.fields.items():
        builder.button(text=str(label), callback_data=SettingsAction(action=action_of(field), field=field))
    builder.button(text=_("button.settings_back"), callback_data=SettingsAction(action="menu"))
    builder.adjust(1)
    return text, builder.as_markup()


def choice_view(club_rules: Rules, field: str, options: Mapping[str, str], catalog: Mapping[int, Reward]) -> View:
    """Ask for a rule's new value among `options`, marking the one in force (and a button to type another, for a
    rule that may be typed), with a button back to its section or the rules."""
    text = str(QUESTIONS[field]).format(current=value_text(club_rules, field, catalog=catalog))
    now = option_of(value_of(club_rules, field, ""))
    builder = InlineKeyboardBuilder()
    for value, label in options.items():
        shown_label = "✅ " + label if value == now else label
        builder.button(text=shown_label, callback_data=SettingsChoice(field=field, value=value))
    if field in PROMPTS:
        builder.button(
            text=_("button.settings_currency_other"), callback_data=SettingsAction(action="ask", field=field)
        )
    section = section_of(field)
    if section is None:
        builder.button(text=_("button.settings_back"), callback_data=SettingsAction(action="menu"))
    else:
        builder.button(text=str(SECTIONS[section].back), callback_data=SettingsAction(action=section))
    builder.adjust(1)
    return text, builder.as_markup()


async def rewards_by_id(session: AsyncSession) -> dict[int, Reward]:
    """Every catalog reward by id, to name the ones the rules give as vouchers."""
    return {reward.id: reward for reward in await rewards.catalog(session)}


async def catalog_for(session: AsyncSession, field: str) -> dict[int, Reward]:
    """The catalog by id when the rule's menu names rewards (a section), else nothing to read."""
    return await rewards_by_id(session) if section_of(field) else {}


def home_view(club_rules: Rules, field: str, catalog: Mapping[int, Reward]) -> View:
    """The menu a rule is changed from: its section for a rule in one, the rules for any other."""
    section = section_of(field)
    return section_view(section, club_rules, catalog) if section else menu_view(club_rules)


def tier_view(club_rules: Rules, tier: Tier) -> View:
    """One tier: where it starts and its multiplier, with a button for each (the first tier starts at 0)."""
    text = counted("settings.tier", club_rules.tier_window_days).format(
        tier=tier_name(tier.name),
        threshold=amount_text(tier.threshold, club_rules.currency),
        days=number(club_rules.tier_window_days),
        percent=shown("percent", tier.percent, club_rules.currency),
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
    current = counted_value(club_rules, field) if field in DAYS else value_text(club_rules, field, tier)
    length = number(CURRENCY_LENGTH)
    text = str(PROMPTS[field]).format(
        tier=tier_name(tier), current=current, length=length, **limits(field, club_rules.currency)
    )
    builder = InlineKeyboardBuilder()
    if field in UNSET_ALLOWED:
        builder.button(text=str(UNSET_ALLOWED[field][0]), callback_data=SettingsAction(action="unset"))
    builder.button(text=_("button.cancel"), callback_data=SettingsAction(action="cancel"))
    builder.adjust(1)
    return text, builder.as_markup()
