"""The owner's rules: how purchases earn points, when points expire, the tiers, the welcome bonus, referrals.

Defaults come from the settings; what the owner changes in /settings is stored in the database
(`club_settings`, one JSON document) and validated here, with an audit entry per change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from loyalty import audit
from loyalty.errors import InvalidRule
from loyalty.stamps import Stamp
from storage.database import write_transaction
from storage.models import ClubSetting

RULES_KEY = "rules"
TIER_PARTS = ("threshold", "percent")  # what the owner changes of a tier
MAX_AMOUNT = 10**13  # money units; a purchase above this is a typing mistake, not a sale
DEFAULT_CURRENCY = "toman"
CURRENCY_LENGTH = 16  # letters of a currency unit the owner types
CURRENCY_PATTERN = r"^\p{L}+(?:[ \x{200C}]\p{L}+)*$"  # words of letters, one space (or ZWNJ) between them

Points = Annotated[int, Field(ge=0, le=1_000_000)]
Percent = Annotated[int, Field(ge=100, le=1000)]
ReferralRewardTo = Literal["referrer", "friend", "both", "none"]
ReferralTrigger = Literal["registration", "purchase"]


class Tier(BaseModel):
    """A tier reached by qualifying spend over the rolling window; `percent` multiplies earned points."""

    model_config = ConfigDict(frozen=True)

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")]
    threshold: Annotated[int, Field(ge=0, le=MAX_AMOUNT)]
    percent: Percent = 100


DEFAULT_TIERS = (
    Tier(name="bronze", threshold=0, percent=100),
    Tier(name="silver", threshold=20_000_000, percent=125),
    Tier(name="gold", threshold=100_000_000, percent=150),
)


class Rules(BaseModel):
    """Every rule the owner sets; amounts are in the shop's currency unit (`currency`)."""

    model_config = ConfigDict(frozen=True)

    amount_per_point: Annotated[int, Field(ge=1, le=MAX_AMOUNT)] = 10_000
    min_purchase: Annotated[int, Field(ge=0, le=MAX_AMOUNT)] = 0
    # an amount above this asks the cashier to confirm before it is recorded (None: only the shop's usual decides)
    purchase_confirm_above: Annotated[int | None, Field(ge=1, le=MAX_AMOUNT)] = None
    expiry_days: Annotated[int, Field(ge=1, le=3650)] = 365
    welcome_bonus: Points = 100
    tier_window_days: Annotated[int, Field(ge=1, le=3650)] = 365
    tiers: tuple[Tier, ...] = DEFAULT_TIERS
    # referrals (`loyalty.referrals`): who is rewarded, with how many points, and when
    referral_reward_to: ReferralRewardTo = "both"
    referral_referrer_points: Points = 100
    referral_friend_points: Points = 50
    referral_trigger: ReferralTrigger = "purchase"
    referral_min_purchase: Annotated[int, Field(ge=0, le=MAX_AMOUNT)] = 0
    referral_monthly_cap: Annotated[int, Field(ge=1, le=10_000)] = 20
    referral_window_days: Annotated[int, Field(ge=1, le=90)] = 7
    referral_expiry_days: Annotated[int | None, Field(ge=1, le=3650)] = None
    referral_referrer_reward_id: Annotated[int | None, Field(ge=1)] = None  # a catalog voucher on top, for free
    referral_friend_reward_id: Annotated[int | None, Field(ge=1)] = None
    # birthdays (`scheduler.jobs`): a greeting at the owner's hour, shop time, with points and/or a voucher
    birthday_greetings: bool = True
    birthday_hour: Annotated[int, Field(ge=0, le=23)] = 10
    birthday_points: Points = 100
    birthday_expiry_days: Annotated[int, Field(ge=1, le=3650)] = 30
    birthday_reward_id: Annotated[int | None, Field(ge=1)] = None  # a catalog voucher, for free
    # the owners' daily digest (`scheduler.jobs`): on or off, and its hour, shop time
    digest: bool = True
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 21
    # a reminder this many days before a member's points expire (0: none)
    expiry_reminder_days: Annotated[int, Field(ge=0, le=90)] = 7
    # purchases on credit (نسیه) at the counter, and the reports of them (`loyalty.payments`)
    credit: bool = False
    # the unit amounts are shown in: "toman" or "rial" (named in the reader's language), or a unit the owner typed
    currency: Annotated[str, Field(max_length=CURRENCY_LENGTH, pattern=CURRENCY_PATTERN)] = DEFAULT_CURRENCY
    # members' personal data (`loyalty.privacy`): days kept after a member who stopped the bot or cannot be reached
    # last did anything with the club (0: forever)
    privacy_retention_days: Annotated[int, Field(ge=0, le=3650)] = 0

    @model_validator(mode="after")
    def _tiers_climb(self) -> Rules:
        """The first tier starts at zero; thresholds and names are increasing and distinct."""
        thresholds = [tier.threshold for tier in self.tiers]
        if not self.tiers or thresholds[0] != 0:
            raise ValueError("the first tier must start at 0")
        if thresholds != sorted(set(thresholds)) or len({tier.name for tier in self.tiers}) != len(self.tiers):
            raise ValueError("tiers need increasing thresholds and distinct names")
        return self

    def tier(self, spend: int) -> Tier:
        """The tier a qualifying spend reaches."""
        return [tier for tier in self.tiers if tier.threshold <= spend][-1]

    def next_tier(self, spend: int) -> Tier | None:
        """The next tier above what `spend` reaches, if any."""
        return next((tier for tier in self.tiers if tier.threshold > spend), None)

    def tier_named(self, name: str) -> Tier:
        """The tier called `name` (the lowest one for an unknown name, e.g. a tier the owner removed)."""
        return next((tier for tier in self.tiers if tier.name == name), self.tiers[0])

    @property
    def referral_points_expiry_days(self) -> int:
        """How long referral points last: their own expiry if the owner set one, else that of all points."""
        return self.referral_expiry_days or self.expiry_days

    def base_points(self, amount: int) -> int:
        """Points a purchase earns before multipliers: whole points only, rounded down."""
        return amount // self.amount_per_point


STORED = select(ClubSetting.value).where(ClubSetting.key == RULES_KEY).scalar_subquery()
"""The owner's stored changes (JSON), or NULL: to read with another statement, then `in_force`."""


@lru_cache(maxsize=16)
def in_force(defaults: Rules, stored: str | None) -> Rules:
    """The owner's stored changes (as read, None for none) over the defaults, validated once per distinct pair.

    Memoised on what was read in the caller's transaction, so it is never stale: a change is a new key.
    """
    if stored is None:
        return defaults
    return Rules.model_validate({**defaults.model_dump(), **json.loads(stored)})


async def current(session: AsyncSession, defaults: Rules) -> Rules:
    """The rules in force: the owner's stored changes over the defaults from the settings."""
    stored = await session.get(ClubSetting, RULES_KEY)
    return in_force(defaults, stored.value if stored is not None else None)


async def change(
    session: AsyncSession,
    defaults: Rules,
    field: str,
    value: Any,
    *,
    actor_id: int,
    now: datetime,
    update_id: int | None,
) -> Rules:
    """Validate and store one change, with an audit entry; adds to the caller's write transaction."""
    before = await _locked(session, defaults)
    if field not in Rules.model_fields:
        raise InvalidRule(field, "unknown")
    try:
        after = Rules.model_validate({**before.model_dump(), field: value})
    except ValidationError as error:
        raise InvalidRule(field, error.errors()[0].get("type", "invalid")) from None
    stored = await session.get(ClubSetting, RULES_KEY) or ClubSetting(key=RULES_KEY)
    stored.value = after.model_dump_json()
    stored.updated_by, stored.updated_at = actor_id, now
    session.add(stored)
    await audit.record(
        session,
        actor_id=actor_id,
        action="settings.change",
        now=now,
        update_id=update_id,
        field=field,
        before=before.model_dump(mode="json")[field],
        after=after.model_dump(mode="json")[field],
    )
    return after


async def _locked(session: AsyncSession, defaults: Rules) -> Rules:
    """The rules in force, their row locked for the rest of the write transaction: owners take turns."""
    await session.get(ClubSetting, RULES_KEY, with_for_update=True, populate_existing=True)
    return await current(session, defaults)


@dataclass(frozen=True)
class Changed:
    """One rule changed: the rules in force before and after."""

    before: Rules
    after: Rules


async def set_rule(
    session: AsyncSession, defaults: Rules, field: str, value: Any, stamp: Stamp, *, tier: str = ""
) -> Changed:
    """Change one rule — or, for a tier's part (`TIER_PARTS`), that part of the tier called `tier` — in one write
    transaction, validated and audited (`change`); InvalidRule if refused or the tier is gone, nothing written."""
    async with write_transaction(session):
        before = await _locked(session, defaults)
        stored_field, stored_value = _with_value(before, field, value, tier)
        after = await change(
            session,
            defaults,
            stored_field,
            stored_value,
            actor_id=stamp.actor_id,
            now=stamp.at,
            update_id=stamp.update_id,
        )
    return Changed(before, after)


def _with_value(club_rules: Rules, field: str, value: Any, tier: str) -> tuple[str, Any]:
    """The stored field and its new value: a tier's part changes the whole list of tiers (if it still has the tier)."""
    if field not in TIER_PARTS:
        return field, value
    if all(entry.name != tier for entry in club_rules.tiers):
        raise InvalidRule("tiers", "unknown")
    tiers = [entry.model_copy(update={field: value}) if entry.name == tier else entry for entry in club_rules.tiers]
    return "tiers", [entry.model_dump() for entry in tiers]
