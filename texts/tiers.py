"""Tier names: in the reply's language, or in any member's (the broadcast sender fills {tier} member by member)."""

from __future__ import annotations

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import lazy_gettext as __

from loyalty.campaigns import TierNames, plain_tier
from texts.languages import language, speaking

TIERS = {"bronze": __("tier.bronze"), "silver": __("tier.silver"), "gold": __("tier.gold")}


def tier_name(tier: str) -> str:
    """A tier's name in the reply's language (an owner's own tier keeps its own name)."""
    return str(TIERS[tier]) if tier in TIERS else plain_tier(tier, language())


def tier_names(i18n: I18n) -> TierNames:
    """Tier names in the language asked for, by `i18n`: for texts written outside an update."""

    def name(tier: str, language: str) -> str:
        with speaking(i18n, language):
            return tier_name(tier)

    return name
