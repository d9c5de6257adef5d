"""Importing the shop's existing customers from a CSV or XLSX file: every row checked, a dry run, then the import.

`read_table` reads the file (CSV in UTF-8 with or without BOM, comma or semicolon; or XLSX), `check_rows` checks
each row (phone, name, birthday in either calendar, gender, opening points with a reason, tier) against headers in
English or Persian, `plan` tells the new phones from those already in the club, and `run` makes each new phone a
waiting member (no messenger account, as a walk-in: `members.join` links it when the customer joins with that
phone) with its opening points as a ledger credit, in batches, each in one transaction, audited. Importing the same
file twice adds nothing: phones already in the club are skipped, and each credit's idempotency key is made of the
file's digest and the phone. Nobody imported is messaged.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit, ledger, members, rules
from loyalty.birthdays import birthday_md
from loyalty.calendar import parse_birthday
from loyalty.errors import InvalidDate, InvalidName, InvalidNumber, InvalidPhone, UnreadableFile
from loyalty.numerals import parse_bounded
from loyalty.outbox import batched
from loyalty.phones import normalise_phone
from loyalty.rules import Rules
from loyalty.stamps import Stamp
from storage.database import write_transaction
from storage.models import Member

MAX_ROWS = 100_000
MAX_POINTS = 10_000_000  # opening points of one customer
BATCH = 500  # members per transaction
CHUNK_ATTEMPTS = 3  # tries of a batch that raced with a walk-in or a joining on one of its phones
REASON = "import"  # the ledger reason of opening points given without one
COLUMNS = {  # a column: the headers it goes by, folded (`_fold`)
    "phone": (
        "phone",
        "mobile",
        "phonenumber",
        "mobilenumber",
        "tel",
        "تلفن",
        "موبایل",
        "شماره",
        "شمارهتلفن",
        "شمارهموبایل",
        "تلفنهمراه",
        "همراه",
    ),
    "name": ("name", "firstname", "fullname", "customer", "نام", "نامونامخانوادگی", "نامخانوادگی", "مشتری"),
    "birthday": ("birthday", "birthdate", "dateofbirth", "born", "تولد", "تاریختولد", "روزتولد"),
    "gender": ("gender", "sex", "جنسیت", "جنس"),
    "points": ("points", "openingpoints", "balance", "امتیاز", "امتیازها", "امتیازاولیه", "امتیازافتتاحیه"),
    "reason": ("reason", "note", "دلیل", "علت", "توضیح", "توضیحات", "بابت"),
    "tier": ("tier", "level", "سطح", "رده", "سطحعضویت"),
}
GENDER_WORDS = {
    **dict.fromkeys(("female", "f", "woman", "زن", "خانم", "مونث"), "female"),
    **dict.fromkeys(("male", "m", "man", "مرد", "آقا", "مذکر"), "male"),
}
_ZIP = b"PK\x03\x04"


@dataclass(frozen=True)
class Row:
    """A good row: a customer to import (the phone in E.164, the birthday in Gregorian with its calendar)."""

    line: int
    phone: str
    name: str
    birthday: date | None
    calendar: str | None
    gender: str | None
    points: int
    reason: str
    tier: str | None


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be imported: its line in the file, its cells as read, and why (`problem`: which column and
    what is wrong, e.g. `phone`, `birthday.future`, `points.too_large`, `tier`, `duplicate`)."""

    line: int
    cells: tuple[str, ...]
    problem: str


@dataclass(frozen=True)
class Sheet:
    """A file read and checked: its header, its good and bad rows, and its digest (the import's idempotency)."""

    header: tuple[str, ...]
    rows: tuple[Row, ...]
    bad: tuple[BadRow, ...]
    digest: str


@dataclass(frozen=True)
class Plan:
    """The dry run: the rows of phones new to the club, how many rows are of members already, and the bad rows."""

    new: tuple[Row, ...]
    already: int
    bad: tuple[BadRow, ...]


@dataclass(frozen=True)
class Imported:
    """The outcome of an import: members made, phones skipped as already in the club, opening points credited."""

    created: int
    skipped: int
    points: int


def read_table(content: bytes) -> list[list[str]]:
    """The rows of a CSV (UTF-8, BOM or not; comma or semicolon) or XLSX file as text cells; UnreadableFile."""
    rows = _xlsx_rows(content) if content.startswith(_ZIP) else _csv_rows(content)
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise UnreadableFile("empty")
    if len(rows) > MAX_ROWS + 1:
        raise UnreadableFile("too_many_rows")
    return rows


def _csv_rows(content: bytes) -> list[list[str]]:
    """The rows of a CSV file, its delimiter the one of the header line (comma or semicolon)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableFile("format") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return [list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error:
        raise UnreadableFile("format") from None


def _xlsx_rows(content: bytes) -> list[list[str]]:
    """The rows of an XLSX file's first sheet (read-only), each cell as text (whole numbers without `.0`)."""
    from openpyxl import load_workbook  # imported here: only an XLSX file needs it

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UnreadableFile("format") from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    """A spreadsheet cell as typed text: a date as year-month-day, a whole number without `.0`, nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fold(header: str) -> str:
    """A header folded for matching: lower case, no spaces, underscores, dashes or zero-width non-joiners."""
    return "".join(header.casefold().replace("\u200c", "").replace("_", "").replace("-", "").split())


def columns(header: Sequence[str]) -> dict[str, int]:
    """Which position each known column has in `header` (the first header that names it); UnreadableFile
    (`no_phone_column`) when no header names the phone."""
    found: dict[str, int] = {}
    for position, title in enumerate(header):
        folded = _fold(title)
        for column, names in COLUMNS.items():
            if folded in names and column not in found:
                found[column] = position
    if "phone" not in found:
        raise UnreadableFile("no_phone_column")
    return found


def check_rows(
    table: list[list[str]], club_rules: Rules, today: date, tier_names: Mapping[str, str] | None = None
) -> Sheet:
    """Check every row of `table` (header first): the good rows and the bad ones with why, a phone's second row bad
    (`duplicate`). A tier is named as the rules name it or by one of `tier_names` (a name as shown: the tier)."""
    header, *body = table
    where = columns(header)
    tiers = {name.casefold(): tier for name, tier in (tier_names or {}).items()}
    tiers.update({tier.name.casefold(): tier.name for tier in club_rules.tiers})
    good: list[Row] = []
    bad: list[BadRow] = []
    seen: set[str] = set()
    for line, cells in enumerate(body, start=2):
        cells = [cell.strip() for cell in cells]
        try:
            row = _row(line, {column: _cell(cells, at) for column, at in where.items()}, tiers, today)
        except _Bad as problem:
            bad.append(BadRow(line, tuple(cells), str(problem)))
            continue
        if row.phone in seen:
            bad.append(BadRow(line, tuple(cells), "duplicate"))
            continue
        seen.add(row.phone)
        good.append(row)
    return Sheet(tuple(header), tuple(good), tuple(bad), _digest(table))


def _cell(cells: list[str], at: int) -> str:
    return cells[at] if at < len(cells) else ""


class _Bad(Exception):
    """A row's problem, e.g. `phone` or `birthday.future`."""


def _row(line: int, cell: dict[str, str], tiers: Mapping[str, str], today: date) -> Row:
    """One row checked, or _Bad with its problem."""
    try:
        phone = normalise_phone(cell["phone"])
    except InvalidPhone:
        raise _Bad("phone") from None
    birthday, calendar = _birthday(cell.get("birthday", ""), today)
    return Row(
        line,
        phone,
        _name(cell.get("name", "")),
        birthday,
        calendar,
        _gender(cell.get("gender", "")),
        _points(cell.get("points", "")),
        cell.get("reason", "")[: ledger.REASON_LENGTH] or REASON,
        _tier(cell.get("tier", ""), tiers),
    )


def _name(text: str) -> str:
    try:
        return members.clean_name(text) if text else ""
    except InvalidName as error:
        raise _Bad(f"name.{error.reason}") from None


def _birthday(text: str, today: date) -> tuple[date | None, str | None]:
    if not text:
        return None, None
    try:
        return parse_birthday(text, today)
    except InvalidDate as error:
        raise _Bad(f"birthday.{error.reason}") from None


def _gender(text: str) -> str | None:
    if not text:
        return None
    gender = GENDER_WORDS.get(text.casefold())
    if gender not in members.GENDERS:
        raise _Bad("gender")
    return gender


def _points(text: str) -> int:
    try:
        return parse_bounded(text, 0, MAX_POINTS) if text else 0
    except InvalidNumber as error:
        raise _Bad(f"points.{error.reason}") from None


def _tier(text: str, tiers: Mapping[str, str]) -> str | None:
    """The tier named `text` (`tiers`: the folded names, each the tier it names)."""
    if not text:
        return None
    if text.casefold() not in tiers:
        raise _Bad("tier")
    return tiers[text.casefold()]


def _digest(table: list[list[str]]) -> str:
    """The digest of the file's cells, the same for the same file however it is sent again."""
    data = "\n".join("\t".join(row) for row in table).encode()
    return hashlib.sha256(data).hexdigest()[:16]


async def _phones_in_club(session: AsyncSession, phones: Iterable[str]) -> set[str]:
    """Which of `phones` are members' already (asked in batches)."""
    found: set[str] = set()
    for chunk in batched(sorted(set(phones)), BATCH):
        found.update(await session.scalars(select(Member.phone).where(Member.phone.in_(chunk))))
    return found


async def plan(session: AsyncSession, sheet: Sheet) -> Plan:
    """The dry run of importing `sheet`: nothing written."""
    known = await _phones_in_club(session, (row.phone for row in sheet.rows))
    new = tuple(row for row in sheet.rows if row.phone not in known)
    return Plan(new, len(sheet.rows) - len(new), sheet.bad)


async def run(session: AsyncSession, defaults: Rules, sheet: Sheet, language: str, stamp: Stamp) -> Imported:
    """Import the good rows of `sheet`, BATCH phones per transaction: each phone not in the club yet becomes a waiting
    member in `language` with its opening points (once per file and phone), audited; the rest are skipped."""
    club_rules = await rules.current(session, defaults)
    created = points = 0
    for chunk in batched(sheet.rows, BATCH):
        new = await _import_chunk(session, chunk, club_rules, language, sheet.digest, stamp)
        created += len(new)
        points += sum(row.points for row in new)
    return Imported(created, len(sheet.rows) - created, points)


async def _import_chunk(
    session: AsyncSession, chunk: Sequence[Row], club_rules: Rules, language: str, digest: str, stamp: Stamp
) -> list[Row]:
    """Import the rows of `chunk` whose phones are not in the club, in one transaction; returns them. A phone (or a
    member code) taken by someone else while it was written fails the transaction: it is tried again, that phone
    now known and skipped."""
    for _ in range(CHUNK_ATTEMPTS - 1):
        with contextlib.suppress(IntegrityError):
            return await _import_new(session, chunk, club_rules, language, digest, stamp)
    return await _import_new(session, chunk, club_rules, language, digest, stamp)


async def _import_new(
    session: AsyncSession, chunk: Sequence[Row], club_rules: Rules, language: str, digest: str, stamp: Stamp
) -> list[Row]:
    """One try of `_import_chunk`: the phones in the club read, the others imported, in one transaction."""
    async with write_transaction(session):
        known = await _phones_in_club(session, (row.phone for row in chunk))
        new = [row for row in chunk if row.phone not in known]
        await _import_rows(session, new, club_rules, language, digest, stamp)
    return new


# RETURNING (in no order: read by phone) sends the rows as pages of multi-row VALUES (insertmanyvalues); in order, it
# would be a statement per row on SQLite.
_NEW_MEMBERS = insert(Member.__table__).returning(Member.__table__.c.phone, Member.__table__.c.id)


async def _import_rows(
    session: AsyncSession, rows: Sequence[Row], club_rules: Rules, language: str, digest: str, stamp: Stamp
) -> None:
    """Make the waiting members of `rows` with their opening points, in the caller's transaction: a statement per
    table for them all (members, audit, ledger), none per member."""
    if not rows:
        return
    codes = await members.unused_codes(session, len(rows))
    made = await session.execute(
        _NEW_MEMBERS,
        [_member(row, code, club_rules, language, stamp.at) for row, code in zip(rows, codes, strict=True)],
    )
    found = {phone: member_id for phone, member_id in made}
    ids = [found[row.phone] for row in rows]
    await audit.write_many(
        session,
        actor_id=stamp.actor_id,
        action="member.imported",
        now=stamp.at,
        update_id=stamp.update_id,
        about=[
            (member_id, {"phone": row.phone, "file": digest, "points": row.points})
            for member_id, row in zip(ids, rows, strict=True)
        ],
    )
    openings = [
        ledger.Opening(member_id, row.points, row.reason, f"import:{digest}:{row.phone}")
        for member_id, row in zip(ids, rows, strict=True)
        if row.points
    ]
    await ledger.post_openings(
        session,
        openings,
        kind=ledger.Kind.BONUS,
        now=stamp.at,
        expires_at=stamp.at + timedelta(days=club_rules.expiry_days),
        actor_id=stamp.actor_id,
    )


def _member(row: Row, code: str, club_rules: Rules, language: str, now: datetime) -> dict[str, object]:
    """The members row of a waiting member imported from `row`."""
    return {
        "phone": row.phone,
        "code": code,
        "first_name": row.name,
        "language": language,
        "balance": 0,
        "tier": row.tier or club_rules.tiers[0].name,
        "birthday": row.birthday,
        "birthday_calendar": row.calendar,
        "birthday_md": birthday_md(row.birthday, row.calendar) if row.birthday and row.calendar else None,
        "gender": row.gender,
        "created_at": now,
    }
