"""The shop's profile: its name, a short description, address, opening hours, phone, location, links and logo.

Stored beside the rules in `club_settings`, as one JSON document under its own key (`SHOP_KEY`); each field is set
(or cleared, None) one at a time by the owner, validated and normalised here, with an audit entry per change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit
from loyalty.errors import InvalidPhone, InvalidShop
from loyalty.numerals import ascii_digits
from loyalty.phones import normalise_phone
from loyalty.stamps import Stamp
from storage.database import write_transaction
from storage.models import ClubSetting

SHOP_KEY = "shop"
NAME_LENGTH, TEXT_LENGTH, LINE_LENGTH, FILE_ID_LENGTH = 64, 500, 200, 255  # characters at most
INSTAGRAM_HANDLE = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?")
INSTAGRAM_LINK = re.compile(r"(?:https?://)?(?:www\.)?instagram\.com/([^/?#]+)/?(?:[?#].*)?", re.IGNORECASE)
WEBSITE_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}", re.IGNORECASE)
COORDINATES = re.compile(r"(-?\d{1,3}\.\d+)\s*[,،]\s*(-?\d{1,3}\.\d+)")  # 35.7, 51.4 (alone or in a map link)


Name = Annotated[str | None, Field(min_length=1, max_length=NAME_LENGTH)]  # unset is None, never ""
Text = Annotated[str | None, Field(min_length=1, max_length=TEXT_LENGTH)]
Line = Annotated[str | None, Field(min_length=1, max_length=LINE_LENGTH)]
FileId = Annotated[str | None, Field(min_length=1, max_length=FILE_ID_LENGTH)]


class Location(BaseModel):
    """Where the shop is on the map."""

    model_config = ConfigDict(frozen=True)

    latitude: Annotated[float, Field(ge=-90, le=90)]
    longitude: Annotated[float, Field(ge=-180, le=180)]


class Shop(BaseModel):
    """The shop as customers see it; every field may be unset (None)."""

    model_config = ConfigDict(frozen=True)

    name: Name = None
    description: Text = None
    address: Line = None
    hours: Line = None  # opening hours, as the owner words them
    phone: str | None = None  # E.164
    location: Location | None = None
    instagram: str | None = None  # the account's handle, without @
    website: Line = None  # an http(s) address
    logo: FileId = None  # a messenger's file id

    @field_validator("name", mode="before")
    @classmethod
    def _one_line(cls, value: object) -> object:
        """A name on one line, spaces folded."""
        return " ".join(value.split()) if isinstance(value, str) else value

    @field_validator("description", "address", "hours", mode="before")
    @classmethod
    def _lines(cls, value: object) -> object:
        """Lines kept, each trimmed, blank ones at either end dropped."""
        return "\n".join(line.strip() for line in value.strip().splitlines()) if isinstance(value, str) else value

    @field_validator("phone", mode="before")
    @classmethod
    def _phone(cls, value: object) -> object:
        """A phone number people can call, as E.164."""
        if not isinstance(value, str):
            return value
        try:
            return normalise_phone(value)
        except InvalidPhone:
            raise PydanticCustomError("phone", "not a phone number") from None

    @field_validator("instagram", mode="before")
    @classmethod
    def _instagram(cls, value: object) -> object:
        """An account's handle, typed as @handle, handle or its instagram.com link."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        link = INSTAGRAM_LINK.fullmatch(text)
        handle = link.group(1) if link else text.removeprefix("@")
        if not INSTAGRAM_HANDLE.fullmatch(handle) or ".." in handle:
            raise PydanticCustomError("instagram", "not an Instagram account")
        return handle

    @field_validator("website", mode="before")
    @classmethod
    def _website(cls, value: object) -> object:
        """A web address with a host name (https:// added when typed without)."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        address = text if "://" in text else "https://" + text
        try:
            parts = urlsplit(address)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not WEBSITE_HOST.fullmatch(parts.hostname or ""):
            raise PydanticCustomError("website", "not a web address")
        if any(char.isspace() for char in address) or parts.username or parts.password:
            raise PydanticCustomError("website", "not a web address")
        return address

    @property
    def instagram_url(self) -> str | None:
        """The Instagram account's page."""
        return f"https://instagram.com/{self.instagram}" if self.instagram else None

    @property
    def is_empty(self) -> bool:
        """Nothing is set yet."""
        return self == Shop()


def read_location(text: str) -> dict[str, float] | None:
    """A location typed as coordinates (35.7, 51.4 in any digits, ٫ for the decimal point) or in a map link that
    shows them (…?q=35.7,51.4, …/@35.7,51.4,17z); None if the text has none."""
    found = COORDINATES.search(ascii_digits(text).replace("٫", "."))
    return {"latitude": float(found.group(1)), "longitude": float(found.group(2))} if found else None


FIELDS = tuple(Shop.model_fields)
NO_SHOP = Shop()


@lru_cache(maxsize=16)
def in_force(stored: str | None) -> Shop:
    """The shop as stored (JSON as read, None for nothing stored), validated once per distinct document."""
    return NO_SHOP if stored is None else Shop.model_validate_json(stored)


async def current(session: AsyncSession) -> Shop:
    """The shop's profile as stored now."""
    stored = await session.get(ClubSetting, SHOP_KEY)
    return in_force(stored.value if stored is not None else None)


@dataclass(frozen=True)
class Changed:
    """One field of the shop set or cleared: the shop before and after."""

    before: Shop
    after: Shop


async def set_field(session: AsyncSession, field: str, value: object, stamp: Stamp) -> Changed:
    """Set one field (None clears it) in one write transaction, validated, normalised and audited; InvalidShop (with
    pydantic's error type as the reason: string_too_long, phone, website…) if refused, nothing written.

    A shop with every field cleared has no row again, as before its first field was set (the owner's checklist
    counts the profile as done while the row exists)."""
    if field not in FIELDS:
        raise InvalidShop(field, "unknown")
    async with write_transaction(session):
        stored = await session.get(ClubSetting, SHOP_KEY, with_for_update=True, populate_existing=True)
        before = in_force(stored.value if stored is not None else None)
        after = _with(before, field, value)
        await _store(session, stored, after, stamp)
        await audit.record(
            session,
            actor_id=stamp.actor_id,
            action="shop.change",
            now=stamp.at,
            update_id=stamp.update_id,
            field=field,
            before=before.model_dump(mode="json")[field],
            after=after.model_dump(mode="json")[field],
        )
    return Changed(before, after)


async def _store(session: AsyncSession, stored: ClubSetting | None, after: Shop, stamp: Stamp) -> None:
    """Write the shop's row (made if there is none), or delete it when nothing is set any more."""
    if after.is_empty:
        if stored is not None:
            await session.delete(stored)
        return
    row = stored or ClubSetting(key=SHOP_KEY)
    row.value = after.model_dump_json(exclude_none=True)
    row.updated_by, row.updated_at = stamp.actor_id, stamp.at
    session.add(row)


def _with(shop: Shop, field: str, value: object) -> Shop:
    """The shop with `field` set to `value`, validated (InvalidShop if refused)."""
    try:
        return Shop.model_validate({**shop.model_dump(), field: value})
    except ValidationError as error:
        raise InvalidShop(field, error.errors()[0].get("type", "invalid")) from None
