"""Texts built from the club's data, in the member's language, digits and calendar."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from handlers.keyboards import LANGUAGE_NAMES
from loyalty.calendar import birthday_example, format_date, format_moment
from loyalty.codes import grouped
from loyalty.ledger import Balance
from loyalty.numerals import format_number, local_digits
from loyalty.phones import display_phone
from storage.models import LedgerEntry, Member

TIERS = {"bronze": __("tier.bronze"), "silver": __("tier.silver"), "gold": __("tier.gold")}
REASONS = {"welcome": __("reason.welcome")}
GENDERS = {"female": __("button.female"), "male": __("button.male")}


def language() -> str:
    """The language of the reply being written."""
    return get_i18n().current_locale


def number(value: int) -> str:
    """A number in the reply's language."""
    return format_number(value, language())


def name_problem(reason: str) -> str:
    """The translated explanation of why a name was refused."""
    problems = {"empty": _("name.empty"), "too_long": _("name.too_long"), "not_a_name": _("name.not_a_name")}
    return problems[reason]


def date_problem(reason: str) -> str:
    """The translated explanation of why a birthday was refused."""
    problems = {
        "format": _("date.format"),
        "impossible": _("date.impossible"),
        "future": _("date.future"),
        "too_old": _("date.too_old"),
        "two_digit_year": _("date.two_digit_year"),
    }
    return problems[reason].format(example=birthday_example(language()))


def joined_text(member: Member, bonus: int) -> str:
    """The welcome a new member gets, with the bonus when there is one."""
    text = _("join.done").format(name=member.first_name)
    if bonus:
        text += "\n\n" + _("join.bonus").format(points=number(bonus))
    return text


def balance_text(member: Member, balance: Balance, zone: ZoneInfo) -> str:
    """Points, tier and the next expiry."""
    text = _("balance.summary").format(
        name=member.first_name, points=number(balance.points), tier=str(TIERS.get(balance.tier, balance.tier))
    )
    if balance.expires_at is not None:
        text += "\n" + _("balance.expiry").format(
            points=number(balance.expiring_points),
            date=format_date(balance.expires_at.astimezone(zone).date(), language()),
        )
    return text


def history_text(entries: Sequence[LedgerEntry], page: int, pages: int, zone: ZoneInfo) -> str:
    """One page of the member's history, newest first."""
    if not entries:
        return _("history.empty")
    lines = [_("history.title").format(page=number(page + 1), pages=number(pages))]
    for entry in entries:
        sign = "+" if entry.points > 0 else "−"
        reason = str(REASONS.get(entry.reason, entry.reason))
        lines.append(
            f"{sign}{number(abs(entry.points))} · {reason} · {format_moment(entry.created_at, language(), zone)}"
        )
    return "\n".join(lines)


def card_caption(member: Member) -> str:
    """The caption under the member's QR card."""
    return _("card.caption").format(
        name=member.first_name,
        code=local_digits(grouped(member.code), language()),
        tier=str(TIERS.get(member.tier, member.tier)),
    )


def profile_text(member: Member) -> str:
    """The member's profile card."""
    not_given = _("profile.not_given")
    birthday = format_date(member.birthday, language()) if member.birthday else not_given
    gender = str(GENDERS[member.gender]) if member.gender in GENDERS else not_given
    return _("profile.card").format(
        name=member.first_name,
        phone=local_digits(display_phone(member.phone), language()),
        birthday=birthday,
        gender=gender,
        news=_("profile.news_on") if member.news_consent else _("profile.news_off"),
        language=LANGUAGE_NAMES.get(member.language, member.language),
    )
