"""What each rule of /settings is: its button, name, question and section, the values it accepts (read from the
rules' own constraints), and its value in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.lazy_proxy import LazyProxy
from pydantic import BaseModel

from handlers.wizard import typed_number
from loyalty.clock import parse_time
from loyalty.errors import InvalidNumber, InvalidRule, InvalidTime
from loyalty.money import currency_of
from loyalty.numerals import MAX_BIGINT
from loyalty.rules import CURRENCY_LENGTH, TIER_PARTS, Rules, Tier
from storage.models import Reward
from texts.money import UNIT_NAMES, amount_text, unit_name
from texts.numbers import hour_text, number
from texts.plurals import counted, days_text, points_text
from texts.tiers import tier_name

RULE_BUTTONS = {
    "amount_per_point": __("button.settings_amount_per_point"),
    "min_purchase": __("button.settings_min_purchase"),
    "expiry_days": __("button.settings_expiry_days"),
    "welcome_bonus": __("button.settings_welcome_bonus"),
    "tier_window_days": __("button.settings_tier_window_days"),
    "currency": __("button.settings_currency"),
    "purchase_confirm_above": __("button.settings_purchase_confirm_above"),
    "credit": __("button.settings_credit"),
    "privacy_retention_days": __("button.settings_privacy_retention_days"),
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
    "digest": __("button.settings_digest"),
    "digest_hour": __("button.settings_digest_hour"),
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
    "digest": {ON: __("settings.on"), OFF: __("settings.off")},
    "credit": {ON: __("settings.on"), OFF: __("settings.off")},
    "currency": UNIT_NAMES,  # or a unit the owner types (`TYPED`)
}
SWITCHES = ("birthday_greetings", "digest", "credit")  # rules that are on or off: the options ON and OFF
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
    "digest": __("settings.ask_digest"),
    "credit": __("settings.ask_credit"),
    "currency": __("settings.ask_currency"),
}
RULE_NAMES = {
    "amount_per_point": __("settings.rule_amount_per_point"),
    "min_purchase": __("settings.rule_min_purchase"),
    "expiry_days": __("settings.rule_expiry_days"),
    "welcome_bonus": __("settings.rule_welcome_bonus"),
    "tier_window_days": __("settings.rule_tier_window_days"),
    "purchase_confirm_above": __("settings.rule_purchase_confirm_above"),
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
    "digest": __("settings.rule_digest"),
    "digest_hour": __("settings.rule_digest_hour"),
    "credit": __("settings.rule_credit"),
    "currency": __("settings.rule_currency"),
    "privacy_retention_days": __("settings.rule_privacy_retention_days"),
}
PROMPTS = {
    "amount_per_point": __("settings.ask_amount_per_point"),
    "min_purchase": __("settings.ask_min_purchase"),
    "expiry_days": __("settings.ask_expiry_days"),
    "welcome_bonus": __("settings.ask_welcome_bonus"),
    "tier_window_days": __("settings.ask_tier_window_days"),
    "purchase_confirm_above": __("settings.ask_purchase_confirm_above"),
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
    "digest_hour": __("settings.ask_digest_hour"),
    "currency": __("settings.ask_currency_typed"),
    "privacy_retention_days": __("settings.ask_privacy_retention_days"),
}
ZERO_TEXTS = {  # 0: none
    "birthday_points": __("settings.no_points"),
    "expiry_reminder_days": __("settings.off"),
    "privacy_retention_days": __("settings.kept_forever"),
}
DAYS_BEFORE = ("expiry_reminder_days",)  # a number of days before, shown with its unit
DAYS = (  # "30 days" everywhere
    "expiry_days",
    "tier_window_days",
    "referral_window_days",
    "birthday_expiry_days",
    "privacy_retention_days",
)
POINTS = ("welcome_bonus", "referral_referrer_points", "referral_friend_points")  # "100 points" in the menus
HOURS = ("birthday_hour", "digest_hour")  # an hour of the day, shown as 10:00
MONEY = ("amount_per_point", "min_purchase", "referral_min_purchase", "purchase_confirm_above", "threshold")  # amounts
TYPED = ("currency",)  # typed as words, not a number: a currency unit
UNSET_ALLOWED = {  # rules Skip leaves unset: its button, and the value unset in words
    "referral_expiry_days": (__("button.settings_like_all_points"), __("settings.like_all_points")),  # like all points
    "purchase_confirm_above": (__("button.settings_no_cap"), __("settings.no_cap")),  # only the usual amount decides
}
NO_REWARD = "none"


def model_of(field: str) -> type[BaseModel]:
    """The model that holds a rule: a tier's threshold and multiplier are the tier's."""
    return Tier if field in TIER_PARTS else Rules


def limits(field: str, currency: str) -> dict[str, str]:
    """The smallest and largest value the rules accept for `field`, as `low` and `high` in the reply's language
    (amounts in the unit `currency`).

    Read from the model's constraints, so the bounds are never repeated here.
    """
    low, high = bounds(field)
    return {"low": shown(field, low, currency), "high": shown(field, high, currency)}


def bounds(field: str) -> tuple[int, int]:
    """The smallest and largest value the rules accept for `field`, read from the model's constraints (any 64-bit
    number for a field the rules do not know: storing it is refused as unknown)."""
    known = model_of(field).model_fields.get(field)
    metadata = known.metadata if known is not None else []
    found = {bound: getattr(item, bound) for item in metadata for bound in ("ge", "le") if hasattr(item, bound)}
    return found.get("ge", -MAX_BIGINT), found.get("le", MAX_BIGINT)


def shown(field: str, value: int, currency: str) -> str:
    """A rule's value in the reply's language: a multiplier as a percentage, an amount with the unit `currency`,
    anything else as a number."""
    if field == "percent":
        return _("settings.percent").format(value=number(value))
    return amount_text(value, currency) if field in MONEY else number(value)


def typed_value(text: str, field: str) -> object:
    """The value the owner typed: a unit as written (`currency_of`), an hour also as a time of day as people type it
    (ساعت ۱۸، ۶ عصر، 9 am), any other rule's number within its bounds (else InvalidNumber)."""
    if field in TYPED:
        return currency_of(text)
    try:
        return typed_number(text, field, *bounds(field))
    except InvalidNumber as error:
        if field not in HOURS or error.reason != "not_a_number":
            raise
    return whole_hour(text, field)


def whole_hour(text: str, field: str) -> int:
    """The hour of a time of day typed on the hour; else InvalidNumber("not_an_hour")."""
    try:
        at = parse_time(text)
    except InvalidTime:
        at = None
    if at is None or at.minute:
        raise InvalidNumber("not_an_hour", *bounds(field))
    return at.hour


def value_of(club_rules: Rules, field: str, tier: str) -> object:
    """The value a rule has now."""
    return getattr(club_rules.tier_named(tier) if field in TIER_PARTS else club_rules, field)


def value_text(club_rules: Rules, field: str, tier: str = "", catalog: Mapping[int, Reward] | None = None) -> str:
    """A rule's value now, in words: a number, an amount, an hour, a choice or a unit, a reward (from `catalog`),
    none or off, or unset."""
    value = value_of(club_rules, field, tier)
    if field in REWARD_FIELDS:
        return reward_text(value, catalog or {})
    if field in TYPED:
        return unit_name(str(value))
    if field in CHOICES:
        return str(CHOICES[field][option_of(value)])
    if field in HOURS:
        return hour_text(value)
    if field in ZERO_TEXTS and value == 0:
        return str(ZERO_TEXTS[field])
    if field in DAYS_BEFORE:
        return counted("settings.days_before", value).format(days=number(value))
    if isinstance(value, int):
        return shown(field, value, club_rules.currency)
    return str(UNSET_ALLOWED[field][1]).format(days=number(club_rules.expiry_days))  # unset


def counted_value(club_rules: Rules, field: str, catalog: Mapping[int, Reward] | None = None) -> str:
    """A rule's value now as the menu and its sections show it: a count of days, points or friends with its noun
    (30 days), anything else as `value_text`."""
    value = value_of(club_rules, field, "")
    if field in ZERO_TEXTS and value == 0:
        return str(ZERO_TEXTS[field])
    if field in DAYS:
        return days_text(value)
    if field in POINTS:
        return points_text(value)
    if field == "referral_monthly_cap":
        return counted("settings.rewarded_friends", value).format(count=number(value))
    return value_text(club_rules, field, catalog=catalog)


def reward_text(reward_id: object, catalog: Mapping[int, Reward]) -> str:
    """The catalog reward given as a voucher, by name (saying so when it is paused), or that there is none."""
    reward = catalog.get(reward_id) if isinstance(reward_id, int) else None
    if reward is None:
        return _("settings.no_voucher")
    return reward.name if reward.active else _("settings.reward_paused").format(name=reward.name)


def rule_name(field: str, tier: str) -> str:
    """A rule's name for confirmations and refusals, with the tier's name for tier rules."""
    return str(RULE_NAMES[field]).format(tier=tier_name(tier))


def refusal(error: InvalidRule, field: str, tier: str, currency: str) -> str:
    """Why a value was refused: tiers out of order, a rule or tier no longer there, or a value out of range."""
    if error.reason == "value_error":
        return _("settings.tiers_order")
    if error.reason == "unknown":
        return _("fallback.stale_button")
    if error.reason == "not_a_number":
        return _("settings.not_a_number")
    if error.reason == "not_an_hour":
        return _("settings.not_an_hour")
    if field in TYPED:
        return _("settings.currency_refused").format(length=number(CURRENCY_LENGTH))
    return _("settings.out_of_range").format(rule=rule_name(field, tier), **limits(field, currency))


def section_of(field: str) -> str | None:
    """The section a rule is changed in, if it is in one."""
    return next((name for name, section in SECTIONS.items() if field in section.fields), None)


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


def known_tier(club_rules: Rules, name: str) -> Tier | None:
    """The tier called `name`, if the rules still have it."""
    return next((tier for tier in club_rules.tiers if tier.name == name), None)
