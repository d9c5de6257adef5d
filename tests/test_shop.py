"""The shop's profile in the domain: each field validated and normalised, set and cleared under a stamp, audited."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import shop
from loyalty.errors import InvalidShop
from loyalty.shop import Location, Shop
from loyalty.stamps import Stamp
from storage.models import AuditEntry, ClubSetting
from tests.factories import NOW

Sessions = async_sessionmaker[AsyncSession]
OWNER = 1


@pytest.mark.parametrize(
    ("field", "typed", "stored"),
    [
        ("name", "  Café   Narenj ", "Café Narenj"),
        ("description", "  Coffee & cake\n  since 1998  \n\n", "Coffee & cake\nsince 1998"),
        ("hours", "Sat–Thu 8–22\nFri closed", "Sat–Thu 8–22\nFri closed"),
        ("phone", "۰۲۱ ۸۸۷۷ ۶۶۵۵", "+982188776655"),
        ("phone", "09121234567", "+989121234567"),
        ("instagram", "@cafe.narenj", "cafe.narenj"),
        ("instagram", "cafe_narenj", "cafe_narenj"),
        ("instagram", "https://www.instagram.com/cafe.narenj/?hl=en", "cafe.narenj"),
        ("instagram", "instagram.com/narenj", "narenj"),
        ("website", "narenj.ir", "https://narenj.ir"),
        ("website", "http://www.narenj.ir/menu?x=1", "http://www.narenj.ir/menu?x=1"),
        ("logo", "AgACAgQAAxkBAAI", "AgACAgQAAxkBAAI"),
    ],
)
def test_each_field_is_kept_as_people_would_type_it(field: str, typed: str, stored: str) -> None:
    assert getattr(Shop.model_validate({field: typed}), field) == stored


@pytest.mark.parametrize(
    ("field", "typed", "reason"),
    [
        ("name", "x" * 65, "string_too_long"),
        ("name", "   ", "string_too_short"),
        ("description", "x" * 501, "string_too_long"),
        ("phone", "12", "phone"),
        ("phone", "call us", "phone"),
        ("instagram", "cafe narenj", "instagram"),
        ("instagram", "@", "instagram"),
        ("instagram", "cafe..narenj", "instagram"),
        ("instagram", "https://example.com/narenj", "instagram"),
        ("website", "not a site", "website"),
        ("website", "ftp://narenj.ir", "website"),
        ("website", "narenj", "website"),
        ("website", "https://user:pw@narenj.ir", "website"),
        ("website", "javascript:alert(1)", "website"),
        ("logo", "x" * 256, "string_too_long"),
    ],
)
def test_a_value_that_cannot_be_kept_is_refused_with_the_reason(field: str, typed: str, reason: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Shop.model_validate({field: typed})
    assert refused.value.errors()[0]["type"] == reason


def test_a_location_is_on_the_map() -> None:
    assert Shop(location=Location(latitude=35.7, longitude=51.4)).location == Location(latitude=35.7, longitude=51.4)
    with pytest.raises(ValidationError):
        Location(latitude=91, longitude=0)


@pytest.mark.parametrize(
    ("typed", "pin"),
    [
        ("35.7, 51.4", (35.7, 51.4)),
        ("۳۵٫۷۰۱، ۵۱٫۴۰۲", (35.701, 51.402)),
        ("https://maps.google.com/?q=35.7001,51.4002", (35.7001, 51.4002)),
        ("https://www.google.com/maps/place/Narenj/@35.70,51.40,17z", (35.7, 51.4)),
        ("-33.86,151.2", (-33.86, 151.2)),
    ],
)
def test_a_location_may_be_typed_as_coordinates_or_a_map_link(typed: str, pin: tuple[float, float]) -> None:
    assert shop.read_location(typed) == {"latitude": pin[0], "longitude": pin[1]}


@pytest.mark.parametrize("typed", ["next to the bakery", "12, 14", "Tehran 35"])
def test_a_text_without_coordinates_is_no_location(typed: str) -> None:
    assert shop.read_location(typed) is None


def test_a_new_shop_has_nothing_set() -> None:
    assert Shop().is_empty and not Shop(name="Narenj").is_empty
    assert Shop(instagram="narenj").instagram_url == "https://instagram.com/narenj" and Shop().instagram_url is None


def test_reading_the_same_stored_document_is_validated_once() -> None:
    stored = json.dumps({"name": "Narenj"})
    assert shop.in_force(stored) is shop.in_force(stored) and shop.in_force(None) == Shop()


async def test_a_field_is_set_and_cleared_under_the_stamp_and_audited(sessions: Sessions) -> None:
    async with sessions() as session:
        changed = await shop.set_field(session, "name", " Narenj ", Stamp(OWNER, "k1", NOW, 5))
        assert changed.before == Shop() and changed.after == Shop(name="Narenj")
        await shop.set_field(session, "website", "narenj.ir", Stamp(OWNER, "k2", NOW, 6))
        cleared = await shop.set_field(session, "name", None, Stamp(OWNER, "k3", NOW, 7))
    assert cleared.after == Shop(website="https://narenj.ir")
    async with sessions() as session:
        assert await shop.current(session) == Shop(website="https://narenj.ir")
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [(entry.action, entry.actor_id, entry.update_id) for entry in entries] == [
        ("shop.change", OWNER, 5),
        ("shop.change", OWNER, 6),
        ("shop.change", OWNER, 7),
    ]
    assert json.loads(entries[2].details) == {"after": None, "before": "Narenj", "field": "name"}


async def test_the_shop_is_kept_apart_from_the_rules(sessions: Sessions) -> None:
    async with sessions() as session:
        await shop.set_field(session, "name", "Narenj", Stamp(OWNER, "k", NOW))
    async with sessions() as session:
        assert (await session.scalars(select(ClubSetting.key))).all() == ["shop"]


async def test_a_shop_with_everything_cleared_has_no_row_again(sessions: Sessions) -> None:
    async with sessions() as session:
        await shop.set_field(session, "name", "Narenj", Stamp(OWNER, "k1", NOW))
        await shop.set_field(session, "name", None, Stamp(OWNER, "k2", NOW))
        await shop.set_field(session, "logo", None, Stamp(OWNER, "k3", NOW))
    async with sessions() as session:
        assert await session.scalar(select(ClubSetting)) is None and await shop.current(session) == Shop()
        assert len((await session.scalars(select(AuditEntry))).all()) == 3


@pytest.mark.parametrize(("field", "value", "reason"), [("website", "narenj", "website"), ("cake", "1", "unknown")])
async def test_a_refused_change_writes_nothing(sessions: Sessions, field: str, value: str, reason: str) -> None:
    async with sessions() as session:
        with pytest.raises(InvalidShop) as refused:
            await shop.set_field(session, field, value, Stamp(OWNER, "k", NOW))
    assert refused.value.reason == reason
    async with sessions() as session:
        assert await session.scalar(select(ClubSetting)) is None and await session.scalar(select(AuditEntry)) is None
