"""The /campaign wizard's answers (`CampaignAnswers`) and what they describe: the audience, the gift, when it goes
out, the campaign drafted from them and the summary confirmed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.staff.campaigns.dates import DATED, month_names
from handlers.wizard import WorthAnswers, worth_from
from loyalty import audiences, campaigns, shop
from loyalty.audiences import Audience
from loyalty.calendar import format_moment
from loyalty.campaigns import (
    TEXT_LENGTH,
    CampaignDraft,
    CampaignGift,
    MultiplierGift,
    PointsGift,
    VoucherGift,
)
from loyalty.gifts import title_of
from loyalty.occasions import (
    ANNIVERSARY,
    FATHERS_DAY,
    MOTHERS_DAY,
    NOWRUZ,
    WOMENS_DAY,
    YALDA,
    next_send_moment,
)
from storage import repositories
from storage.models import Member
from texts.languages import language
from texts.money import amount_text
from texts.numbers import number
from texts.plurals import counted, days_text, points_text
from texts.shop import shop_name
from texts.tiers import tier_name
from texts.worth import worth_text

OCCASIONS = {  # an occasion's name, on its button and in the summary
    NOWRUZ.key: __("campaign.occasion_nowruz"),
    YALDA.key: __("campaign.occasion_yalda"),
    WOMENS_DAY.key: __("campaign.occasion_womens_day"),
    MOTHERS_DAY.key: __("campaign.occasion_mothers_day"),
    FATHERS_DAY.key: __("campaign.occasion_fathers_day"),
    ANNIVERSARY: __("campaign.occasion_anniversary"),
}
REFUSAL_ROOM = 256
"""Characters of the messenger's limit for a message kept free in the summary: room for a refusal shown above it
(`Flow.again`), and for characters the messenger counts twice (emoji count as two UTF-16 units)."""
SUMMARY_LENGTH = TEXT_LENGTH - REFUSAL_ROOM  # the longest campaign summary, its preview shortened to fit


class Written(BaseModel):
    """The campaign's message as the staff member gave it (placeholders not yet filled in): text, or a photo with
    its caption."""

    text: str
    photo: str | None = None


class Me(BaseModel):
    """The staff member building the campaign: the test message is theirs, the preview rendered for them."""

    id: int
    name: str


class CampaignAnswers(WorthAnswers):
    """The campaign's answers (see `handlers.wizard.Answers`), after what the wizard knows beforehand: the club's
    tiers, the moment it began (`at`, in the shop's time zone `zone`), the staff member's calendar and who they are.
    A voucher gift's worth is in `WorthAnswers`; the typed dates (`send_at`, `occasion_day`, `founded`) are the
    moment each gives to send at."""

    tiers: list[str]
    at: datetime
    zone: str
    calendar: str
    me: Me
    audience: str = ""
    tier: str = ""
    gender: str = ""
    ages: tuple[int, int] = (0, 0)
    month: int = 0
    inactive: int = 0
    spent: int = 0
    category: str = ""
    referred: int = 0
    balance: int = 0
    message: Written | None = None
    gift: str = ""
    points: int = 0
    expiry: int = 0
    title: str = ""
    validity: int = 0
    multiplier: int = 0
    multiplier_days: int = 0
    bonus_expiry: int = 0
    when: str = ""
    send_at: datetime | None = None
    occasion: str = ""
    occasion_day: datetime | None = None
    founded: datetime | None = None


# An audience button: the Audience's filters it sets, and the audience in words.
FILTERS: dict[str, Callable[[CampaignAnswers], dict[str, Any]]] = {
    "tier": lambda answers: {"tiers": (answers.tier,)},
    "gender": lambda answers: {"gender": answers.gender},
    "age": lambda answers: {"age_min": answers.ages[0], "age_max": answers.ages[1]},
    "birthday": lambda answers: {"birthday_month": answers.month, "birthday_calendar": answers.calendar},
    "inactive": lambda answers: {"inactive_days": answers.inactive},
    "spent": lambda answers: {"spent_at_least": answers.spent},
    "bought": lambda answers: {"bought_category": answers.category},
    "never_bought": lambda answers: {"never_bought_category": answers.category},
    "referred": lambda answers: {"referred_at_least": answers.referred},
    "balance": lambda answers: {"points_min": answers.balance},
}
DESCRIBED: dict[str, Callable[[CampaignAnswers], str]] = {
    "tier": lambda answers: _("campaign.to_tier").format(tier=tier_name(answers.tier)),
    "gender": lambda answers: _("campaign.to_women") if answers.gender == "female" else _("campaign.to_men"),
    "age": lambda answers: _("campaign.to_ages").format(low=number(answers.ages[0]), high=number(answers.ages[1])),
    "birthday": lambda answers: _("campaign.to_birthday").format(
        month=month_names(answers.calendar)[answers.month - 1]
    ),
    "inactive": lambda answers: counted("campaign.to_inactive", answers.inactive).format(days=number(answers.inactive)),
    "spent": lambda answers: _("campaign.to_spent").format(amount=amount_text(answers.spent, answers.currency)),
    "bought": lambda answers: _("campaign.to_bought").format(category=answers.category),
    "never_bought": lambda answers: _("campaign.to_never_bought").format(category=answers.category),
    "referred": lambda answers: counted("campaign.to_referred", answers.referred).format(
        count=number(answers.referred)
    ),
    "balance": lambda answers: counted("campaign.to_balance", answers.balance).format(points=number(answers.balance)),
}


def audience_of(answers: CampaignAnswers) -> Audience:
    """Who the wizard's answers reach."""
    kind = answers.audience
    return Audience.build(**FILTERS[kind](answers)) if kind in FILTERS else Audience()


def audience_text(answers: CampaignAnswers) -> str:
    """The audience in words."""
    kind = answers.audience
    return DESCRIBED[kind](answers) if kind in DESCRIBED else _("campaign.to_all")


def gift_of(answers: CampaignAnswers, now: datetime) -> CampaignGift | None:
    """The gift the answers describe, if any; a multiplier's days count from the send moment (else `now`)."""
    if answers.gift == "points":
        return PointsGift(points=answers.points, expiry_days=answers.expiry)
    if answers.gift == "voucher":
        worth = worth_from(answers)
        return VoucherGift(
            title=answers.title, worth=worth.kind, value=worth.value, cap=worth.cap, validity_days=answers.validity
        )
    if answers.gift == "multiplier":
        starts_at = send_at_of(answers) or now
        return MultiplierGift(
            percent=answers.multiplier,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(days=answers.multiplier_days),
            bonus_expiry_days=answers.bonus_expiry,
        )
    return None


def gift_text(gift: CampaignGift | None, currency: str) -> str:
    """The gift in words (a voucher's amount off in the unit `currency`)."""
    if isinstance(gift, PointsGift):
        return _("campaign.points_gift").format(points=points_text(gift.points), days=days_text(gift.expiry_days))
    if isinstance(gift, VoucherGift):
        worth = worth_text(gift.draft().worth, currency)
        return counted("campaign.voucher_gift", gift.validity_days).format(
            title=gift.title, worth=worth, days=number(gift.validity_days)
        )
    if isinstance(gift, MultiplierGift):
        return _("campaign.multiplier_gift").format(
            percent=number(gift.percent),
            days=days_text((gift.ends_at - gift.starts_at).days),
            expiry=days_text(gift.bonus_expiry_days),
        )
    return _("campaign.no_gift")


def voucher_hint(gift: CampaignGift | None, message: campaigns.Message) -> str:
    """For a voucher gift whose message does not show the code: how to show it (else nothing)."""
    if isinstance(gift, VoucherGift) and "{voucher}" not in message.text:
        return "\n" + _("campaign.voucher_hint").format()
    return ""


def message_of(answers: CampaignAnswers) -> campaigns.Message:
    """The campaign's message as typed (placeholders not yet filled in)."""
    written = answers.message or Written(text="")
    return campaigns.Message(written.text, written.photo)


def send_at_of(answers: CampaignAnswers) -> datetime | None:
    """When the campaign goes out (None: now): Nowruz's or Yalda's next send moment, else the one a date gave."""
    if answers.occasion in DATED:
        return next_send_moment(DATED[answers.occasion], answers.at, ZoneInfo(answers.zone))
    return answers.send_at or answers.occasion_day or answers.founded


def when_text(answers: CampaignAnswers) -> str:
    """When the campaign goes out, in words: now, or the moment (after its occasion's name)."""
    send_at = send_at_of(answers)
    if send_at is None:
        return _("campaign.when_now")
    moment = format_moment(send_at, language(), ZoneInfo(answers.zone))
    if answers.occasion in OCCASIONS:
        return _("campaign.when_occasion").format(occasion=str(OCCASIONS[answers.occasion]), moment=moment)
    return _("campaign.when_later").format(moment=moment)


def draft_of(answers: CampaignAnswers, now: datetime) -> CampaignDraft:
    """The campaign the wizard's answers describe, confirmed at `now`."""
    message = message_of(answers)
    name = title_of(message.text) if message.text.strip() else _("campaign.photo_name")
    return CampaignDraft(
        name=name,
        audience=audience_of(answers),
        message=message,
        gift=gift_of(answers, now),
        send_at=send_at_of(answers),
    )


async def rendered_for_me(answers: CampaignAnswers, session: AsyncSession) -> campaigns.Message:
    """The message as the staff member would get it: their own member values, else their name and no points."""
    member = await repositories.member_by_telegram_id(session, answers.me.id)
    if member is None:
        member = Member(first_name=answers.me.name, balance=0, tier=answers.tiers[0], language=language())
    named = (await shop.current(session)).name
    values = campaigns.values_for(
        member, lambda tier, _language: tier_name(tier), shop_name=named, shop_names=lambda name, _: shop_name(name)
    )
    return campaigns.personal(message_of(answers), values)


async def campaign_summary(answers: CampaignAnswers, session: AsyncSession) -> str:
    """The campaign as it will be sent, with its audience's size and the message rendered for the staff member,
    the message shortened if need be so that the whole summary fits in one message (`fit_preview`)."""
    preview = await rendered_for_me(answers, session)
    gift = gift_of(answers, answers.at)
    size = await audiences.count(session, audience_of(answers), answers.at)
    summary = partial(
        counted("campaign.summary", size).format,
        audience=audience_text(answers),
        count=number(size),
        gift=gift_text(gift, answers.currency) + voucher_hint(gift, message_of(answers)),
        when=when_text(answers),
        photo=_("campaign.with_photo") if preview.photo else "",
    )
    return summary(preview=fit_preview(preview.text, SUMMARY_LENGTH - len(summary(preview=""))))


def fit_preview(preview: str, room: int) -> str:
    """The preview if it fits in `room` characters, else cut to fit with a note saying so (the test message shows
    the message whole)."""
    if len(preview) <= room:
        return preview
    note = "\n" + _("campaign.preview_shortened")
    return preview[: max(room - len(note) - 1, 0)] + "…" + note
