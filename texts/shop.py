"""The shop's profile in words: each field's label and value, and what to call the shop ({shop}: its name, or a neutral
"our shop" while it has none) in the reply's language or any member's (the broadcast sender fills {shop} too)."""

from __future__ import annotations

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from loyalty.campaigns import ShopNames
from loyalty.numerals import local_digits
from loyalty.shop import Shop
from texts.languages import language, speaking
from texts.numbers import phone_text

LABELS = {  # each field of the profile, in the order the owner and customers see them
    "name": __("shop.label_name"),
    "description": __("shop.label_description"),
    "address": __("shop.label_address"),
    "hours": __("shop.label_hours"),
    "phone": __("shop.label_phone"),
    "location": __("shop.label_location"),
    "instagram": __("shop.label_instagram"),
    "website": __("shop.label_website"),
    "logo": __("shop.label_logo"),
}


def shop_name(name: str | None) -> str:
    """What to call the shop in the reply's language: its name, or a neutral name while it has none."""
    return name or _("shop.unnamed")


def shop_names(i18n: I18n) -> ShopNames:
    """What to call the shop in the language asked for, by `i18n`: for texts written outside an update."""

    def named(name: str | None, language: str) -> str:
        with speaking(i18n, language):
            return shop_name(name)

    return named


def value_text(profile: Shop, field: str) -> str | None:
    """A field's value in words (None when unset): the phone as people write it and the digits of the address and
    the opening hours in the reader's, @ before the Instagram account, and only that a location or a logo is set."""
    value: object = getattr(profile, field)
    if value is None:
        return None
    if field == "phone":
        return phone_text(str(value))
    if field in ("address", "hours"):
        return local_digits(str(value), language())
    if field == "instagram":
        return f"@{value}"
    if field in ("location", "logo"):
        return _("shop.is_set")
    return str(value)
