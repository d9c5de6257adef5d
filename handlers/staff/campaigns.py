"""/campaign for managers and owners: build a campaign for an audience, preview, test, send, follow its progress.

Every route here requires the manager role; for anyone else the filters do not match and the update falls
through, so a customer or a cashier typing /campaign gets the unknown-command answer and a forged button the
stale one.

/campaign lists the latest campaigns (state, sent of total) and the extra points still running, each opening to
its progress (and, for a voucher gift, how many of its vouchers were used so far; for extra points, until when)
with Pause, Resume, Cancel or End extra points as its state allows, and New campaign. A campaign whose
confirmation failed before it started is "not finished" (a draft), with Finish and Cancel; Confirm pressed again
on its summary finishes it too (`confirm`), never storing a second one.

The wizard is declared in one place, `CampaignWizard` (its states) and `CAMPAIGN_FLOW` (its steps in order):
audience (all members; a tier; women or men; an age range typed "from-to"; a birthday month in the staff member's
calendar; win-back: no purchase for N days; spent at least an amount; bought, or never bought, from a typed
product category; referred at least N friends; at least N points) → the message, told the audience's size (text,
or a photo with a caption; {name} {points} {tier} {voucher} filled in per member) → gift (none; points with their
expiry; a voucher: its title, the catalog's worth steps, valid days; or a points multiplier: percent, days from
the send moment, the extra points' expiry) → when (now; a date and time typed in either calendar; or an occasion:
Nowruz or Yalda on its next day, a lunar one on the date typed for this year, the shop's next anniversary from its
founding date, at SEND_TIME shop time) → preview: the audience and its size, the gift, when, and the message as
the staff member would get it (shortened, with a note, when the whole would not fit in one message: any text the
wizard accepts can be confirmed), with Send a test to me, Confirm and Cancel. Confirm stores and starts the
campaign (`loyalty.campaigns`), then sends the progress message the sender keeps up to date
(`campaigns.set_report`; its text is `progress_text`: a bar, sent of all, rate and time left while it runs; once
done, delivered, blocked and failed).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from babel.dates import get_month_names
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from handlers.filters import HAS_TEXT, NOT_COMMAND, ButtonId, Magic, staff_only
from handlers.messages import show
from handlers.replies import language, number, tier_name
from handlers.staff.gifts import audience_is, title_of
from handlers.staff.stats import decimal
from handlers.wizard import (
    Data,
    Flow,
    Refused,
    Step,
    View,
    WizardAction,
    first_press,
    read_amount,
    read_days,
    read_name,
    said,
    whole,
    worth_from,
    worth_steps,
    worth_text,
)
from loyalty import audiences, campaigns, rules
from loyalty.audiences import CATEGORY_LENGTH, MAX_AGE, MAX_INACTIVE_DAYS, MAX_POINTS, MAX_REFERRED, Audience
from loyalty.calendar import GREGORIAN, JALALI, birthday_example, calendar_for, format_moment, parse_birthday
from loyalty.campaigns import (
    CAPTION_LENGTH,
    TEXT_LENGTH,
    CampaignDraft,
    CampaignGift,
    CampaignInfo,
    CampaignNotFound,
    CampaignStateError,
    MultiplierGift,
    PointsGift,
    Progress,
    VoucherGift,
)
from loyalty.errors import InvalidDate
from loyalty.numerals import ascii_digits, local_digits
from loyalty.occasions import (
    ANNIVERSARY,
    FATHERS_DAY,
    MOTHERS_DAY,
    NOWRUZ,
    PRESETS,
    SEND_TIME,
    WOMENS_DAY,
    YALDA,
    anniversary,
    next_send_moment,
    on_date,
)
from loyalty.staff import Role
from storage.models import Member

logger = logging.getLogger(__name__)

AUDIENCES = {
    "all": __("button.campaign_all"),
    "tier": __("button.campaign_tier"),
    "gender": __("button.campaign_gender"),
    "age": __("button.campaign_age"),
    "birthday": __("button.campaign_birthday"),
    "inactive": __("button.campaign_inactive"),
    "spent": __("button.campaign_spent"),
    "bought": __("button.campaign_bought"),
    "never_bought": __("button.campaign_never_bought"),
    "referred": __("button.campaign_referred"),
    "balance": __("button.campaign_balance"),
}
GENDERS = {"female": __("button.campaign_women"), "male": __("button.campaign_men")}
GIFTS = {
    "none": __("button.campaign_no_gift"),
    "points": __("button.campaign_points"),
    "voucher": __("button.campaign_voucher"),
    "multiplier": __("button.campaign_multiplier"),
}
WHEN = {
    "now": __("button.campaign_now"),
    "later": __("button.campaign_later"),
    "occasion": __("button.campaign_occasion"),
}
OCCASIONS = {  # an occasion's name, on its button and in the summary
    NOWRUZ.key: __("campaign.occasion_nowruz"),
    YALDA.key: __("campaign.occasion_yalda"),
    WOMENS_DAY.key: __("campaign.occasion_womens_day"),
    MOTHERS_DAY.key: __("campaign.occasion_mothers_day"),
    FATHERS_DAY.key: __("campaign.occasion_fathers_day"),
    ANNIVERSARY: __("campaign.occasion_anniversary"),
}
DATED = {preset.key: preset for preset in PRESETS if not preset.owner_dated}  # Nowruz, Yalda: no date asked
LUNAR = tuple(preset.key for preset in PRESETS if preset.owner_dated)  # the owner types this year's date
DATE_REFUSALS = {"impossible": __("campaign.date_impossible"), "future": __("campaign.founded_future")}
STATES = {
    campaigns.State.DRAFT: __("campaign.state_draft"),
    campaigns.State.SCHEDULED: __("campaign.state_scheduled"),
    campaigns.State.RUNNING: __("campaign.state_running"),
    campaigns.State.PAUSED: __("campaign.state_paused"),
    campaigns.State.DONE: __("campaign.state_done"),
    campaigns.State.CANCELLED: __("campaign.state_cancelled"),
}
STEERING = {  # a campaign's button: the domain's move, its label, and the toast once done
    "finish": (campaigns.start, __("button.campaign_finish"), __("campaign.finished")),
    "pause": (campaigns.pause, __("button.campaign_pause"), __("campaign.paused")),
    "resume": (campaigns.resume, __("button.campaign_resume"), __("campaign.resumed")),
    "cancel": (campaigns.cancel, __("button.campaign_cancel"), __("campaign.cancelled_campaign")),
    "end_extra": (campaigns.end_extra_points, __("button.campaign_end_extra"), __("campaign.extra_ended")),
}
FINISHED = (campaigns.State.DONE, campaigns.State.CANCELLED)  # their progress is the final report
TIERS_KEY, AT_KEY, ZONE_KEY, CALENDAR_KEY, ME_KEY = "tiers", "at", "zone", "calendar", "me"
MAX_GIFT_POINTS, MAX_EXPIRY_DAYS = 1_000_000, 3650
MIN_MULTIPLIER, MAX_MULTIPLIER, MAX_MULTIPLIER_DAYS = 101, 1000, 365
BAR_CELLS = 10
REFUSAL_ROOM = 256
"""Characters of the messenger's limit for a message kept free in the summary: room for a refusal shown above it
(`Flow.again`), and for characters the messenger counts twice (emoji count as two UTF-16 units)."""
SUMMARY_LENGTH = TEXT_LENGTH - REFUSAL_ROOM  # the longest campaign summary, its preview shortened to fit
_MOMENT = re.compile(r"^\s*(\d{4})\s*[/\-.]\s*(\d{1,2})\s*[/\-.]\s*(\d{1,2})(?:\s+(\d{1,2})\s*:\s*(\d{2}))?\s*$")
_AGES = re.compile(r"^\s*(\d{1,3})\s*(?:-|–|—|to|تا)\s*(\d{1,3})\s*$", re.IGNORECASE)


class CampaignWizard(StatesGroup):
    """A new campaign, one question at a time (see CAMPAIGN_FLOW for the order and what is asked when)."""

    audience = State()
    tier = State()
    gender = State()
    ages = State()
    month = State()
    inactive = State()
    spent = State()
    category = State()
    referred = State()
    balance = State()
    message = State()
    gift = State()
    points = State()
    expiry = State()
    title = State()
    kind = State()
    amount = State()
    percent = State()
    cap = State()
    validity = State()
    multiplier = State()
    multiplier_days = State()
    bonus_expiry = State()
    when = State()
    send_at = State()
    occasion = State()
    occasion_day = State()
    founded = State()
    confirm = State()


class CampaignAction(CallbackData, prefix="cmp"):
    """A button of /campaign: `action` (list, new, open, pause, resume, cancel) on the campaign `campaign`."""

    action: str
    campaign: ButtonId = 0


# Reading the answers.


def month_names(calendar: str) -> list[str]:
    """The twelve months in the staff member's calendar and language."""
    if calendar == JALALI:
        return list(jdatetime.date.j_months_fa if language() == "fa" else jdatetime.date.j_months_en)
    names = get_month_names("wide", locale=language())
    return [names[month] for month in range(1, 13)]


def read_text(text: str) -> dict[str, str | None]:
    """The campaign's message typed as text."""
    if not text.strip() or len(text) > TEXT_LENGTH:
        raise Refused(_("campaign.text_length").format(high=number(TEXT_LENGTH)))
    return {"text": text, "photo": None}


def read_ages(text: str) -> list[int]:
    """An age range typed "from-to" (Persian digits too), the smaller age first."""
    match = _AGES.match(ascii_digits(text))
    low, high = (int(match[1]), int(match[2])) if match else (-1, -1)
    if not 0 <= low <= high <= MAX_AGE:
        raise Refused(_("campaign.ages_refused").format(low=number(0), high=number(MAX_AGE), example=example_ages()))
    return [low, high]


def example_ages() -> str:
    """An example age range in the staff member's digits."""
    return local_digits("20-35", language())


def read_category(text: str) -> str:
    """A product category as purchases record it, spaces folded."""
    category = " ".join(text.split())
    if not 0 < len(category) <= CATEGORY_LENGTH:
        raise Refused(_("campaign.category_length").format(high=number(CATEGORY_LENGTH)))
    return category


def moment_from(text: str, zone: ZoneInfo, default: time | None = None) -> datetime:
    """A date and time typed as 1405-09-10 18:00 (a year from 1300 to 1499 is Jalali), in the shop's time zone.

    With a `default` time of day, the date alone is enough.
    """
    match = _MOMENT.match(ascii_digits(text))
    if not match or (match[4] is None and default is None):
        raise InvalidDate("format")
    year, month, day = (int(part) for part in match.groups()[:3])
    day_ = on_date(year, month, day, JALALI if year < 1900 else GREGORIAN)
    try:
        at = time(int(match[4]), int(match[5])) if match[4] is not None else default
    except ValueError:
        raise InvalidDate("format") from None
    return datetime.combine(day_, at, tzinfo=zone)


def to_come(moment: datetime, now: datetime, past: str) -> datetime:
    """The moment, if it is still to come; else refused with `past`."""
    if moment <= now:
        raise Refused(past)
    return moment


def read_send_at(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """A date and time to send, still to come."""
    return to_come(moment_from(text, zone), now, _("campaign.past"))


def read_occasion_day(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """This year's date of a lunar occasion (at SEND_TIME unless a time is typed), still to come."""
    return to_come(moment_from(text, zone, SEND_TIME), now, _("campaign.day_past"))


def read_founded(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The shop's founding date, in either calendar: the moment its next anniversary's campaign goes out."""
    founded, calendar = parse_birthday(text, now.astimezone(zone).date())
    return next_send_moment(anniversary(founded, calendar), now, zone)


def date_refusal(error: InvalidDate, example: str) -> str:
    """Why a typed date was refused: a day its calendar lacks, a founding date to come, or it could not be read."""
    if error.reason in DATE_REFUSALS:
        return str(DATE_REFUSALS[error.reason])
    return _("campaign.moment_format").format(example=example)


def example_day() -> str:
    """An example date in the staff member's calendar and digits."""
    return local_digits("1405-09-10" if calendar_for(language()) == JALALI else "2026-12-01", language())


def example_moment() -> str:
    """An example date and time in the staff member's calendar and digits."""
    return example_day() + " " + local_digits("18:00", language())


def example_founded() -> str:
    """An example founding date (in the past) in the staff member's calendar and digits."""
    return birthday_example(language())


def send_time() -> str:
    """The time of day an occasion's campaign goes out, in the staff member's digits."""
    return local_digits(SEND_TIME.strftime("%H:%M"), language())


DATE_READERS = {  # a typed date's step: how the moment to send is read from it, and an example of the answer
    "send_at": (read_send_at, example_moment),
    "occasion_day": (read_occasion_day, example_day),
    "founded": (read_founded, example_founded),
}


# What the answers describe.


FILTERS: dict[str, Callable[[Data], dict[str, Any]]] = {  # an audience button: the Audience's filters it sets
    "tier": lambda data: {"tiers": (data["tier"],)},
    "gender": lambda data: {"gender": data["gender"]},
    "age": lambda data: {"age_min": data["ages"][0], "age_max": data["ages"][1]},
    "birthday": lambda data: {"birthday_month": int(data["month"]), "birthday_calendar": data[CALENDAR_KEY]},
    "inactive": lambda data: {"inactive_days": data["inactive"]},
    "spent": lambda data: {"spent_at_least": data["spent"]},
    "bought": lambda data: {"bought_category": data["category"]},
    "never_bought": lambda data: {"never_bought_category": data["category"]},
    "referred": lambda data: {"referred_at_least": data["referred"]},
    "balance": lambda data: {"points_min": data["balance"]},
}
DESCRIBED: dict[str, Callable[[Data], str]] = {  # an audience button: the audience in words
    "tier": lambda data: _("campaign.to_tier").format(tier=tier_name(data["tier"])),
    "gender": lambda data: _("campaign.to_women") if data["gender"] == "female" else _("campaign.to_men"),
    "age": lambda data: _("campaign.to_ages").format(low=number(data["ages"][0]), high=number(data["ages"][1])),
    "birthday": lambda data: _("campaign.to_birthday").format(
        month=month_names(data[CALENDAR_KEY])[int(data["month"]) - 1]
    ),
    "inactive": lambda data: _("campaign.to_inactive").format(days=number(data["inactive"])),
    "spent": lambda data: _("campaign.to_spent").format(amount=number(data["spent"])),
    "bought": lambda data: _("campaign.to_bought").format(category=data["category"]),
    "never_bought": lambda data: _("campaign.to_never_bought").format(category=data["category"]),
    "referred": lambda data: _("campaign.to_referred").format(count=number(data["referred"])),
    "balance": lambda data: _("campaign.to_balance").format(points=number(data["balance"])),
}


def audience_of(data: Data) -> Audience:
    """Who the wizard's answers reach."""
    kind = data.get("audience", "all")
    return Audience.build(**FILTERS[kind](data)) if kind in FILTERS else Audience()


def audience_text(data: Data) -> str:
    """The audience in words."""
    kind = data.get("audience", "all")
    return DESCRIBED[kind](data) if kind in DESCRIBED else _("campaign.to_all")


def gift_of(data: Data, now: datetime) -> CampaignGift | None:
    """The gift the answers describe, if any; a multiplier's days count from the send moment (else `now`)."""
    kind = data.get("gift")
    if kind == "points":
        return PointsGift(points=data["points"], expiry_days=data["expiry"])
    if kind == "voucher":
        worth = worth_from(data)
        return VoucherGift(
            title=data["title"], worth=worth.kind, value=worth.value, cap=worth.cap, validity_days=data["validity"]
        )
    if kind == "multiplier":
        starts_at = send_at_of(data) or now
        return MultiplierGift(
            percent=data["multiplier"],
            starts_at=starts_at,
            ends_at=starts_at + timedelta(days=data["multiplier_days"]),
            bonus_expiry_days=data["bonus_expiry"],
        )
    return None


def gift_text(gift: CampaignGift | None) -> str:
    """The gift in words."""
    if isinstance(gift, PointsGift):
        return _("campaign.points_gift").format(points=number(gift.points), days=number(gift.expiry_days))
    if isinstance(gift, VoucherGift):
        worth = worth_text(gift.draft().worth)
        return _("campaign.voucher_gift").format(title=gift.title, worth=worth, days=number(gift.validity_days))
    if isinstance(gift, MultiplierGift):
        return _("campaign.multiplier_gift").format(
            percent=number(gift.percent),
            days=number((gift.ends_at - gift.starts_at).days),
            expiry=number(gift.bonus_expiry_days),
        )
    return _("campaign.no_gift")


def voucher_hint(gift: CampaignGift | None, message: campaigns.Message) -> str:
    """For a voucher gift whose message does not show the code: how to show it (else nothing)."""
    if isinstance(gift, VoucherGift) and "{voucher}" not in message.text:
        return "\n" + _("campaign.voucher_hint").format()
    return ""


def message_of(data: Data) -> campaigns.Message:
    """The campaign's message as typed (placeholders not yet filled in)."""
    return campaigns.Message(data["message"]["text"], data["message"]["photo"])


def send_at_of(data: Data) -> datetime | None:
    """When the campaign goes out (None: now): Nowruz's or Yalda's next send moment, else the one a date gave."""
    if data.get("occasion") in DATED:
        zone = ZoneInfo(data[ZONE_KEY])
        return next_send_moment(DATED[data["occasion"]], datetime.fromisoformat(data[AT_KEY]), zone)
    typed = next((data[key] for key in DATE_READERS if key in data), None)
    return datetime.fromisoformat(typed) if typed else None


def when_text(data: Data) -> str:
    """When the campaign goes out, in words: now, or the moment (after its occasion's name)."""
    send_at = send_at_of(data)
    if send_at is None:
        return _("campaign.when_now")
    moment = format_moment(send_at, language(), ZoneInfo(data[ZONE_KEY]))
    if data.get("occasion") in OCCASIONS:
        return _("campaign.when_occasion").format(occasion=str(OCCASIONS[data["occasion"]]), moment=moment)
    return _("campaign.when_later").format(moment=moment)


def draft_of(data: Data, now: datetime) -> CampaignDraft:
    """The campaign the wizard's answers describe, confirmed at `now`."""
    message = message_of(data)
    name = title_of(message.text) if message.text.strip() else _("campaign.photo_name")
    return CampaignDraft(
        name=name, audience=audience_of(data), message=message, gift=gift_of(data, now), send_at=send_at_of(data)
    )


async def rendered_for_me(data: Data, session: AsyncSession) -> campaigns.Message:
    """The message as the staff member would get it: their own member values, else their name and no points."""
    me = data[ME_KEY]
    member = await session.scalar(select(Member).where(Member.telegram_id == me["id"]))
    if member is None:
        member = Member(first_name=me["name"], balance=0, tier=data[TIERS_KEY][0], language=language())
    values = campaigns.values_for(member, lambda tier, _language: tier_name(tier))
    return campaigns.personal(message_of(data), values)


async def campaign_summary(data: Data, session: AsyncSession) -> str:
    """The campaign as it will be sent, with its audience's size and the message rendered for the staff member,
    the message shortened if need be so that the whole summary fits in one message (`fit_preview`)."""
    at = datetime.fromisoformat(data[AT_KEY])
    preview = await rendered_for_me(data, session)
    gift = gift_of(data, at)
    summary = partial(
        _("campaign.summary").format,
        audience=audience_text(data),
        count=number(await audiences.count(session, audience_of(data), at)),
        gift=gift_text(gift) + voucher_hint(gift, message_of(data)),
        when=when_text(data),
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


class CampaignFlow(Flow):
    """The wizard engine of /catalog, telling the audience's size before the message and offering a test send."""

    async def next_view(self, state: FSMContext, session: AsyncSession, after: Step | None) -> View:
        """As `Flow.next_view`; the message question starts with how many members the audience reaches."""
        text, markup = await super().next_view(state, session, after)
        if await state.get_state() == CampaignWizard.message.state:
            data = await state.get_data()
            size = await audiences.count(session, audience_of(data), datetime.fromisoformat(data[AT_KEY]))
            text = _("campaign.audience_size").format(audience=audience_text(data), count=number(size)) + "\n\n" + text
        return text, markup

    def confirm_keyboard(self) -> InlineKeyboardMarkup:
        """Send a test to me above Confirm and Cancel."""
        test = InlineKeyboardButton(
            text=_("button.campaign_test"), callback_data=WizardAction(flow=self.name, action="test").pack()
        )
        return InlineKeyboardMarkup(inline_keyboard=[[test], *super().confirm_keyboard().inline_keyboard])


def choices_of(labels: dict[str, Any]) -> Callable[[Data], list[tuple[str, str]]]:
    """Buttons from a table of values and labels."""
    return lambda data: [(value, str(label)) for value, label in labels.items()]


def ask_message(data: Data) -> str:
    """The message question, with the placeholders members' values fill in."""
    return _("campaign.ask_message").format(text=number(TEXT_LENGTH), caption=number(CAPTION_LENGTH))


def answered(key: str, *values: str) -> Callable[[Data], bool]:
    """The step applies when the answer kept under `key` is one of `values`."""
    return lambda data: data.get(key) in values


def only_when(condition: Callable[[Data], bool], *steps: Step) -> tuple[Step, ...]:
    """The steps, each applying only when `condition` holds as well as its own `when`."""
    return tuple(
        dataclasses.replace(step, when=lambda data, own=step.when: condition(data) and own(data)) for step in steps
    )


def ask_ages(data: Data) -> str:
    """The age range question, with an example in the staff member's digits."""
    return _("campaign.ask_ages").format(example=example_ages())


def ask_send_at(data: Data) -> str:
    """The date and time question, with an example in the staff member's calendar."""
    return _("campaign.ask_send_at").format(example=example_moment())


def ask_occasion_day(data: Data) -> str:
    """This year's date of a lunar occasion: why it is asked, with an example in the staff member's calendar."""
    occasion = str(OCCASIONS[data["occasion"]])
    return _("campaign.ask_occasion_day").format(occasion=occasion, example=example_day(), time=send_time())


def ask_founded(data: Data) -> str:
    """The shop's founding date, with an example in the staff member's calendar."""
    return _("campaign.ask_founded").format(example=example_founded(), time=send_time())


CAMPAIGN_FLOW = CampaignFlow(
    name="campaign",
    group=CampaignWizard,
    steps=(
        Step(CampaignWizard.audience, said(__("campaign.ask_audience")), choices=choices_of(AUDIENCES)),
        Step(
            CampaignWizard.tier,
            said(__("campaign.ask_tier")),
            choices=lambda data: [(tier, tier_name(tier)) for tier in data[TIERS_KEY]],
            when=audience_is("tier"),
        ),
        Step(
            CampaignWizard.gender,
            said(__("campaign.ask_gender")),
            choices=choices_of(GENDERS),
            when=audience_is("gender"),
        ),
        Step(CampaignWizard.ages, ask_ages, read=read_ages, when=audience_is("age")),
        Step(
            CampaignWizard.month,
            said(__("campaign.ask_month")),
            choices=lambda data: [(str(month), name) for month, name in enumerate(month_names(data[CALENDAR_KEY]), 1)],
            when=audience_is("birthday"),
        ),
        Step(
            CampaignWizard.inactive,
            said(__("campaign.ask_inactive")),
            read=whole(1, MAX_INACTIVE_DAYS),
            when=audience_is("inactive"),
        ),
        Step(CampaignWizard.spent, said(__("campaign.ask_spent")), read=read_amount, when=audience_is("spent")),
        Step(
            CampaignWizard.category,
            said(__("campaign.ask_category")),
            read=read_category,
            when=answered("audience", "bought", "never_bought"),
        ),
        Step(
            CampaignWizard.referred,
            said(__("campaign.ask_referred")),
            read=whole(1, MAX_REFERRED),
            when=audience_is("referred"),
        ),
        Step(
            CampaignWizard.balance,
            said(__("campaign.ask_balance")),
            read=whole(1, MAX_POINTS),
            when=audience_is("balance"),
        ),
        Step(CampaignWizard.message, ask_message, read=read_text),  # a photo: `got_photo`
        Step(CampaignWizard.gift, said(__("campaign.ask_gift")), choices=choices_of(GIFTS)),
        *only_when(
            answered("gift", "points"),
            Step(CampaignWizard.points, said(__("campaign.ask_points")), read=whole(1, MAX_GIFT_POINTS)),
            Step(CampaignWizard.expiry, said(__("campaign.ask_expiry")), read=whole(1, MAX_EXPIRY_DAYS)),
        ),
        *only_when(
            answered("gift", "voucher"),
            Step(CampaignWizard.title, said(__("campaign.ask_voucher_title")), read=read_name),
            *worth_steps(CampaignWizard.kind, CampaignWizard.amount, CampaignWizard.percent, CampaignWizard.cap),
            Step(CampaignWizard.validity, said(__("campaign.ask_validity")), read=read_days),
        ),
        *only_when(
            answered("gift", "multiplier"),
            Step(
                CampaignWizard.multiplier,
                said(__("campaign.ask_multiplier")),
                read=whole(MIN_MULTIPLIER, MAX_MULTIPLIER, "percent"),
            ),
            Step(
                CampaignWizard.multiplier_days,
                said(__("campaign.ask_multiplier_days")),
                read=whole(1, MAX_MULTIPLIER_DAYS),
            ),
            Step(CampaignWizard.bonus_expiry, said(__("campaign.ask_bonus_expiry")), read=whole(1, MAX_EXPIRY_DAYS)),
        ),
        Step(CampaignWizard.when, said(__("campaign.ask_when")), choices=choices_of(WHEN)),
        Step(CampaignWizard.send_at, ask_send_at, when=answered("when", "later")),  # typed: `got_date`
        Step(
            CampaignWizard.occasion,
            said(__("campaign.ask_occasion")),
            choices=choices_of(OCCASIONS),
            when=answered("when", "occasion"),
        ),
        Step(CampaignWizard.occasion_day, ask_occasion_day, when=answered("occasion", *LUNAR)),  # typed: `got_date`
        Step(CampaignWizard.founded, ask_founded, when=answered("occasion", ANNIVERSARY)),  # typed: `got_date`
    ),
    confirm=CampaignWizard.confirm,
    summary=campaign_summary,
    confirm_label=__("button.campaign_confirm"),
    cancelled=__("campaign.cancelled"),
)
MESSAGE_STEP = next(step for step in CAMPAIGN_FLOW.steps if step.state == CampaignWizard.message)
DATE_STEPS = tuple(step for step in CAMPAIGN_FLOW.steps if step.key in DATE_READERS)


# The list, a campaign and its progress.


def bar(done: int, total: int) -> str:
    """A text bar of BAR_CELLS cells, filled in proportion of `done` to `total`."""
    filled = BAR_CELLS * done // total if total > 0 else 0
    return "▰" * filled + "▱" * (BAR_CELLS - filled)


def time_left(seconds: float | None) -> str:
    """Time left in hours and minutes, minutes and seconds, or seconds, in the reply's digits (None: unknown)."""
    if seconds is None:
        return _("campaign.left_unknown")
    hours, rest = divmod(math.ceil(seconds), 3600)
    minutes, seconds_ = divmod(rest, 60)
    if hours:
        return _("campaign.left_hours").format(hours=number(hours), minutes=number(minutes))
    if minutes:
        return _("campaign.left_minutes").format(minutes=number(minutes), seconds=number(seconds_))
    return _("campaign.left_seconds").format(seconds=number(seconds_))


def live_text(progress: Progress) -> str:
    """A campaign on its way: the bar, sent of all, the rate and the time left (unknown while paused)."""
    total = progress.recipients
    paused = progress.state == campaigns.State.PAUSED
    return _("campaign.progress_live").format(
        bar=bar(progress.handled, total),
        percent=number(100 * progress.handled // total if total > 0 else 0),
        sent=number(progress.sent),
        total=number(total),
        rate=decimal(progress.rate, "#,##0.#"),
        left=time_left(None if paused else progress.seconds_left),
    )


def report_text(progress: Progress) -> str:
    """The final report of a campaign done or cancelled: delivered, blocked, failed (and not sent, if cancelled)."""
    text = _("campaign.progress_report").format(
        sent=number(progress.sent),
        total=number(progress.recipients),
        blocked=number(progress.blocked),
        failed=number(progress.failed),
    )
    if progress.cancelled:
        text += "\n" + _("campaign.not_sent").format(count=number(progress.cancelled))
    return text


def progress_text(name: str, progress: Progress) -> str:
    """A campaign's state, then its live figures while on its way, or its final report once over (the sender's text)."""
    head = _("campaign.progress_head").format(name=name, state=str(STATES[progress.state]))
    if progress.state in FINISHED:
        return head + "\n" + report_text(progress)
    if progress.state in (campaigns.State.RUNNING, campaigns.State.PAUSED):
        return head + "\n" + live_text(progress)
    return head


def redemptions_text(progress: Progress) -> str:
    """How many of the campaign's gift vouchers were used so far (nothing without a voucher gift)."""
    if progress.used is None or progress.issued is None:
        return ""
    return "\n" + _("campaign.redemptions").format(used=number(progress.used), issued=number(progress.issued))


def offered(action: str, campaign: CampaignInfo, now: datetime) -> bool:
    """Whether the campaign's view offers this button now: a move its state allows, or ending extra points that run."""
    if action == "end_extra":
        return campaign.multiplier is not None and campaign.multiplier.running(now)
    if action == "finish":  # a draft is a campaign whose confirmation failed before it started
        return campaign.state == campaigns.State.DRAFT
    return campaign.state in campaigns.MOVES[action][0]


def extra_points_text(campaign: CampaignInfo, now: datetime, zone: ZoneInfo) -> str:
    """The campaign's extra points on purchases: until when they run, or when they ended (nothing without them)."""
    extra = campaign.multiplier
    if extra is None:
        return ""
    moment = format_moment(extra.ends_at, language(), zone)
    key = "campaign.extra_until" if extra.running(now) else "campaign.extra_ended_at"
    return "\n" + _(key).format(percent=number(extra.percent), moment=moment)


def campaign_view(campaign: CampaignInfo, progress: Progress, now: datetime, zone: ZoneInfo) -> View:
    """One campaign: its progress, its extra points and gift vouchers used, with the buttons its state allows,
    Refresh and Back."""
    builder = InlineKeyboardBuilder()
    for action, (_move, label, _done) in STEERING.items():
        if offered(action, campaign, now):
            builder.button(text=str(label), callback_data=CampaignAction(action=action, campaign=campaign.id))
    builder.button(text=_("button.campaign_refresh"), callback_data=CampaignAction(action="open", campaign=campaign.id))
    builder.button(text=_("button.campaign_back"), callback_data=CampaignAction(action="list"))
    builder.adjust(1)
    text = progress_text(campaign.name, progress) + extra_points_text(campaign, now, zone) + redemptions_text(progress)
    return text, builder.as_markup()


async def view_of(session: AsyncSession, campaign: CampaignInfo, now: datetime, zone: ZoneInfo) -> View:
    """The campaign's view as it stands now, its gift vouchers used counted."""
    progress = await campaigns.progress(session, campaign.id, now, redemptions=True)
    return campaign_view(campaign, progress, now, zone)


async def list_view(session: AsyncSession, now: datetime, zone: ZoneInfo) -> View:
    """The latest campaigns with their state and sent of all, the extra points still running, a button each, and
    New campaign."""
    found = await campaigns.recent(session)
    lines = [_("campaign.title")] if found else [_("campaign.empty")]
    builder = InlineKeyboardBuilder()
    for campaign in found:
        progress = await campaigns.progress(session, campaign.id, now)
        lines.append(
            _("campaign.line").format(
                name=campaign.name,
                state=str(STATES[campaign.state]),
                sent=number(progress.sent),
                total=number(campaign.recipients),
            )
        )
        builder.button(text=campaign.name, callback_data=CampaignAction(action="open", campaign=campaign.id))
    running = await campaigns.running_multipliers(session, now)
    if running:
        lines += ["", _("campaign.extra_title")]
    listed = {campaign.id for campaign in found}
    for extra in running:
        moment = format_moment(extra.ends_at, language(), zone)
        lines.append(_("campaign.extra_line").format(name=extra.name, percent=number(extra.percent), moment=moment))
        if extra.campaign_id not in listed:
            builder.button(text=extra.name, callback_data=CampaignAction(action="open", campaign=extra.campaign_id))
    builder.button(text=_("button.campaign_new"), callback_data=CampaignAction(action="new"))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


class KnownCampaign(Filter):
    """Passes a campaign button whose campaign exists, handing it on as `campaign` (else the button is stale)."""

    async def __call__(
        self, query: CallbackQuery, callback_data: CampaignAction, session: AsyncSession
    ) -> bool | dict[str, CampaignInfo]:
        try:
            return {"campaign": await campaigns.get(session, callback_data.campaign)}
        except CampaignNotFound:
            return False


# Handlers.


async def campaign_menu(message: Message, state: FSMContext, session: AsyncSession, club: Club, now: datetime) -> None:
    """/campaign: the latest campaigns and New campaign (ending any unanswered question)."""
    await state.clear()
    text, markup = await list_view(session, now, club.zone)
    await message.answer(text, reply_markup=markup)


async def back_to_list(query: CallbackQuery, session: AsyncSession, club: Club, now: datetime, bot: Bot) -> None:
    """Back to the list from a campaign."""
    await show(query, bot, *await list_view(session, now, club.zone))
    await query.answer()


async def open_campaign(
    query: CallbackQuery, campaign: CampaignInfo, session: AsyncSession, club: Club, now: datetime, bot: Bot
) -> None:
    """One campaign's progress and buttons."""
    await show(query, bot, *await view_of(session, campaign, now, club.zone))
    await query.answer()


async def steer(
    query: CallbackQuery,
    callback_data: CampaignAction,
    campaign: CampaignInfo,
    session: AsyncSession,
    club: Club,
    now: datetime,
    bot: Bot,
) -> None:
    """Pause, resume, cancel the campaign or end its extra points; a move no longer allowed shows it as it is now."""
    move, _label, done = STEERING[callback_data.action]
    toast = str(done)
    try:
        campaign = await move(session, campaign.id, actor_id=query.from_user.id, now=now)
    except CampaignStateError:
        campaign, toast = await campaigns.get(session, campaign.id), _("fallback.stale_button")
    else:
        if callback_data.action == "finish":
            await report_here(query, session, campaign, now)
    await show(query, bot, *await view_of(session, campaign, now, club.zone))
    await query.answer(toast)


async def report_here(query: CallbackQuery, session: AsyncSession, campaign: CampaignInfo, now: datetime) -> None:
    """A campaign finished from its view, having no progress message yet (its confirmation failed first): this
    view becomes the one the sender keeps up to date."""
    progress = await campaigns.progress(session, campaign.id, now)
    if progress.report_message_id is None and isinstance(query.message, Message):
        await campaigns.set_report(session, campaign.id, query.message.chat.id, query.message.message_id)


async def new_campaign(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, club: Club, now: datetime, bot: Bot
) -> None:
    """New campaign: the wizard's first question in place of the list."""
    club_rules = await rules.current(session, club.rules)
    data = {
        TIERS_KEY: [tier.name for tier in club_rules.tiers],
        AT_KEY: now.astimezone(club.zone).isoformat(),
        ZONE_KEY: club.zone.key,
        CALENDAR_KEY: calendar_for(language()),
        ME_KEY: {"id": query.from_user.id, "name": query.from_user.first_name},
    }
    await show(query, bot, *await CAMPAIGN_FLOW.begin(state, session, data))
    await query.answer()


async def got_photo(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """The message as a photo: its largest size, with the caption under it."""
    caption = message.caption or ""
    if len(caption) > CAPTION_LENGTH:
        refusal = _("campaign.caption_length").format(high=number(CAPTION_LENGTH))
        text, markup = await CAMPAIGN_FLOW.again(refusal, state, session, CampaignWizard.message.state)
    else:
        largest = max(message.photo or [], key=lambda size: size.width * size.height)
        value = {"text": caption, "photo": largest.file_id}
        text, markup = await CAMPAIGN_FLOW.answer(MESSAGE_STEP, state, session, value)
    await message.answer(text, reply_markup=markup)


async def got_date(
    message: Message, state: FSMContext, session: AsyncSession, club: Club, now: datetime, raw_state: str | None
) -> None:
    """A typed date (to send at, a lunar occasion's, the founding one): its moment kept, or refused and asked again."""
    step = next(step for step in DATE_STEPS if step.state.state == raw_state)
    read, example = DATE_READERS[step.key]
    try:
        moment = read(message.text or "", now, club.zone)
    except InvalidDate as error:
        refusal = date_refusal(error, example())
    except Refused as error:
        refusal = str(error)
    else:
        text, markup = await CAMPAIGN_FLOW.answer(step, state, session, moment.isoformat())
        await message.answer(text, reply_markup=markup)
        return
    text, markup = await CAMPAIGN_FLOW.again(refusal, state, session, raw_state)
    await message.answer(text, reply_markup=markup)


async def send_message(bot: Bot, chat_id: int, message: campaigns.Message) -> None:
    """Send a campaign's message: text, or a photo with its caption."""
    if message.photo is None:
        await bot.send_message(chat_id, message.text)
    else:
        await bot.send_photo(chat_id, message.photo, caption=message.text or None)


async def send_test(query: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """Send a test to me: the message as the staff member would get it, in their own chat."""
    await send_message(bot, query.from_user.id, await rendered_for_me(await state.get_data(), session))
    await query.answer(_("campaign.test_sent"))


async def confirm(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    now: datetime,
    event_update: Update,
    bot: Bot,
    update_key: str,
) -> None:
    """Confirm: the campaign is stored and started (or scheduled), and its progress message sent and registered.

    Should it fail midway, the summary waits again: Confirm pressed once more finds the campaign the first press
    stored (its key is the first press's update) and finishes what is left; /campaign shows it as not finished
    meanwhile, with Finish and Cancel.
    """
    data = await CAMPAIGN_FLOW.claim(state, query)
    if data is None:  # pressed twice: the first press confirmed
        return
    try:
        await confirmed(query, data, session, club, now, first_press(data, update_key), event_update.update_id, bot)
    except Exception:  # cut short: the summary waits again, and /campaign shows the campaign as not finished
        logger.exception("confirming a campaign failed midway")
        await CAMPAIGN_FLOW.restore(state, data)
        await query.answer(_("campaign.not_finished"), show_alert=True)
        return
    await query.answer()


async def confirmed(
    query: CallbackQuery,
    data: Data,
    session: AsyncSession,
    club: Club,
    now: datetime,
    key: str,
    update_id: int,
    bot: Bot,
) -> None:
    """Store the campaign (once per confirmation), start it unless it was, show the outcome, send its progress
    message unless it has one."""
    actor = query.from_user.id
    campaign = await campaigns.create(
        session, draft_of(data, now), actor_id=actor, now=now, update_id=update_id, key=f"campaign-update:{key}"
    )
    if campaign.state == campaigns.State.DRAFT:
        campaign = await campaigns.start(session, campaign.id, actor_id=actor, now=now)
    if campaign.state == campaigns.State.CANCELLED:  # cancelled from /campaign after a failed confirmation
        await show(query, bot, *await view_of(session, campaign, now, club.zone))
        return
    if campaign.state == campaigns.State.SCHEDULED and campaign.send_at is not None:
        done = _("campaign.scheduled").format(
            name=campaign.name, moment=format_moment(campaign.send_at, language(), club.zone)
        )
    else:
        done = _("campaign.started").format(name=campaign.name, count=number(campaign.recipients))
    await show(query, bot, done, InlineKeyboardMarkup(inline_keyboard=[]))
    progress = await campaigns.progress(session, campaign.id, now)
    if progress.report_message_id is None:
        text, markup = campaign_view(campaign, progress, now, club.zone)  # as the sender does
        report = await bot.send_message(actor, text, reply_markup=markup)
        await campaigns.set_report(session, campaign.id, report.chat.id, report.message_id)


async def confirm_gone(query: CallbackQuery) -> None:
    """Confirm pressed on a summary no longer waiting (confirmed, discarded, or its answers lost): what to do."""
    await query.answer(_("campaign.confirm_gone"), show_alert=True)


def create_router() -> Router:
    """Routes for managers' and owners' /campaign."""
    router = staff_only(Router(name="campaigns"), Role.MANAGER)
    router.message.register(campaign_menu, Command("campaign"))
    router.message.register(got_photo, StateFilter(CampaignWizard.message), Magic(F.photo))
    dates = StateFilter(*(step.state for step in DATE_STEPS))
    router.message.register(got_date, dates, HAS_TEXT, NOT_COMMAND)
    test = WizardAction.filter((F.flow == CAMPAIGN_FLOW.name) & (F.action == "test"))
    router.callback_query.register(send_test, test, StateFilter(CampaignWizard.confirm))
    CAMPAIGN_FLOW.register(router, confirm)
    gone = WizardAction.filter((F.flow == CAMPAIGN_FLOW.name) & (F.action == "confirm"))
    router.callback_query.register(confirm_gone, gone)
    known = KnownCampaign()
    router.callback_query.register(back_to_list, CampaignAction.filter(F.action == "list"))
    router.callback_query.register(new_campaign, CampaignAction.filter(F.action == "new"))
    router.callback_query.register(open_campaign, CampaignAction.filter(F.action == "open"), known)
    router.callback_query.register(steer, CampaignAction.filter(F.action.in_(list(STEERING))), known)
    return router
