"""An export's header and cells for a spreadsheet, in the staff member's language and calendar.

Numbers are plain integers with ASCII digits (a spreadsheet sums them); an amount's header names the shop's unit; a
stored word (a gender, tier, language, payment method, ledger entry's kind, voucher's kind or status) is its name
in the reader's language, and a word the club no longer knows stays as stored; a phone is E.164; a moment is two
cells, the shop's local date and time in the reader's calendar (Jalali in Persian, Gregorian in English) and the
same moment in ISO 8601 UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from loyalty.calendar import JALALI, calendar_for
from loyalty.exports import Column, Export, Kind
from texts.languages import LANGUAGE_NAMES, language
from texts.money import unit_name
from texts.payments import PAYMENT_NAMES
from texts.tiers import tier_name

Cell = str | int
DAY_FORMATS = {JALALI: "%Y/%m/%d", "gregorian": "%Y-%m-%d"}
COLUMN_NAMES = {
    "amount": __("export.column.amount"),
    "at": __("export.column.at"),
    "balance": __("export.column.balance"),
    "birthday": __("export.column.birthday"),
    "blocked": __("export.column.blocked"),
    "category": __("export.column.category"),
    "code": __("export.column.code"),
    "entry_kind": __("export.column.entry_kind"),
    "expires": __("export.column.expires"),
    "gender": __("export.column.gender"),
    "id": __("export.column.id"),
    "issued": __("export.column.issued"),
    "joined": __("export.column.joined"),
    "language": __("export.column.language"),
    "member_code": __("export.column.member_code"),
    "name": __("export.column.name"),
    "payment": __("export.column.payment"),
    "phone": __("export.column.phone"),
    "points": __("export.column.points"),
    "reason": __("export.column.reason"),
    "receipt": __("export.column.receipt"),
    "reversed": __("export.column.reversed"),
    "status": __("export.column.status"),
    "stopped": __("export.column.stopped"),
    "tier": __("export.column.tier"),
    "title": __("export.column.title"),
    "used": __("export.column.used"),
    "value": __("export.column.value"),
    "voucher_code": __("export.column.voucher_code"),
    "voucher_kind": __("export.column.voucher_kind"),
    "waiting": __("export.column.waiting"),
}
CHOICE_NAMES: dict[str, dict[str, Any]] = {
    "gender": {"female": __("export.gender.female"), "male": __("export.gender.male")},
    "language": LANGUAGE_NAMES,
    "payment": PAYMENT_NAMES,
    "entry_kind": {
        "earn": __("export.entry.earn"),
        "bonus": __("export.entry.bonus"),
        "spend": __("export.entry.spend"),
        "expire": __("export.entry.expire"),
        "adjust": __("export.entry.adjust"),
        "reversal": __("export.entry.reversal"),
    },
    "voucher_kind": {
        "fixed": __("export.voucher.fixed"),
        "percent": __("export.voucher.percent"),
        "item": __("export.voucher.item"),
    },
    "status": {
        "active": __("export.status.active"),
        "used": __("export.status.used"),
        "expired": __("export.status.expired"),
        "cancelled": __("export.status.cancelled"),
    },
}  # by column key; a tier is named by texts.tiers (an owner's own tier keeps its name)
TABLE_NAMES = {
    "members": __("export.table.members"),
    "purchases": __("export.table.purchases"),
    "ledger": __("export.table.ledger"),
    "vouchers": __("export.table.vouchers"),
}


def header(export: Export, unit: str) -> list[str]:
    """The column names in the reader's language; a moment's column is followed by its UTC one."""
    names: list[str] = []
    for column in export.columns:
        name = str(COLUMN_NAMES[column.key])
        if column.kind is Kind.MONEY:
            name = _("export.in_unit").format(column=name, unit=unit_name(unit))
        names.append(name)
        if column.kind is Kind.MOMENT:
            names.append(_("export.utc").format(column=name))
    return names


class Cells:
    """Turns the domain's rows into cells, for one reader's calendar and the shop's time zone."""

    def __init__(self, export: Export, zone: ZoneInfo) -> None:
        self.zone = zone
        self.calendar = calendar_for(language())
        self.flags = (_("export.no"), _("export.yes"))
        self.days: dict[date, str] = {}  # each date's text, worked out once: a club's rows share a few thousand days
        self.writers: list[Callable[[Any], list[Cell]]] = [self._writer(column) for column in export.columns]

    def __call__(self, row: tuple[Any, ...]) -> list[Cell]:
        """The cells of one row."""
        return [cell for write, value in zip(self.writers, row, strict=True) for cell in write(value)]

    def _writer(self, column: Column) -> Callable[[Any], list[Cell]]:
        if column.kind is Kind.MOMENT:
            return self.moment
        if column.kind is Kind.DAY:
            return lambda value: [self.day(value) if value is not None else ""]
        if column.kind is Kind.FLAG:
            return lambda value: [self.flags[bool(value)]]
        if column.kind is Kind.CHOICE:
            return self._choice(column.key)
        if column.kind in (Kind.NUMBER, Kind.MONEY):
            return lambda value: [int(value) if value is not None else ""]
        return lambda value: [str(value) if value is not None else ""]

    @staticmethod
    def _choice(key: str) -> Callable[[Any], list[Cell]]:
        """A writer naming a column's stored words, each name looked up once per export."""
        names: dict[str, str] = {}

        def write(value: str | None) -> list[Cell]:
            if value is None:
                return [""]
            if value not in names:
                names[value] = choice_name(key, value)
            return [names[value]]

        return write

    def day(self, value: date) -> str:
        """A date in the reader's calendar, digits in ASCII: 1405/09/01 or 2026-11-22 (each date converted once)."""
        if (text := self.days.get(value)) is None:
            shown = jdatetime.date.fromgregorian(date=value) if self.calendar == JALALI else value
            text = self.days[value] = shown.strftime(DAY_FORMATS[self.calendar])
        return text

    def moment(self, value: datetime | None) -> list[Cell]:
        """The shop's local date and time in the reader's calendar, and the ISO 8601 UTC moment."""
        if value is None:
            return ["", ""]
        local = value.astimezone(self.zone)
        iso = value.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return [f"{self.day(local.date())} {local:%H:%M}", iso]


def choice_name(key: str, value: str) -> str:
    """A stored word of column `key` by its name in the reader's language (an unknown word as stored)."""
    if key == "tier":
        return tier_name(value)
    names = CHOICE_NAMES[key]
    return str(names[value]) if value in names else value


def table_name(name: str) -> str:
    """The table's name in the reader's language."""
    return str(TABLE_NAMES[name])
