"""The /campaign wizard declared in one place: its states (`CampaignWizard`), its steps in order (`CAMPAIGN_FLOW`),
how the answers are read and what they describe (the audience, the gift, when), and the summary confirmed."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.replies import language, number, tier_name
from handlers.staff.campaigns.dates import (
    DATE_READERS,
    DATED,
    LUNAR,
    example_day,
    example_founded,
    example_moment,
    month_names,
    send_time,
)
from handlers.wizard import (
    Data,
    Flow,
    Refused,
    Step,
    View,
    WizardAction,
    answered,
    read_amount,
    read_days,
    read_name,
    said,
    whole,
    worth_from,
    worth_steps,
    worth_text,
)
from loyalty import audiences, campaigns
from loyalty.audiences import CATEGORY_LENGTH, MAX_AGE, MAX_INACTIVE_DAYS, MAX_POINTS, MAX_REFERRED, Audience
from loyalty.calendar import format_moment
from loyalty.campaigns import (
    CAPTION_LENGTH,
    TEXT_LENGTH,
    CampaignDraft,
    CampaignGift,
    MultiplierGift,
    PointsGift,
    VoucherGift,
)
from loyalty.gifts import title_of
from loyalty.numerals import ascii_digits, local_digits
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
TIERS_KEY, AT_KEY, ZONE_KEY, CALENDAR_KEY, ME_KEY = "tiers", "at", "zone", "calendar", "me"
MAX_GIFT_POINTS, MAX_EXPIRY_DAYS = 1_000_000, 3650
MIN_MULTIPLIER, MAX_MULTIPLIER, MAX_MULTIPLIER_DAYS = 101, 1000, 365
REFUSAL_ROOM = 256
"""Characters of the messenger's limit for a message kept free in the summary: room for a refusal shown above it
(`Flow.again`), and for characters the messenger counts twice (emoji count as two UTF-16 units)."""
SUMMARY_LENGTH = TEXT_LENGTH - REFUSAL_ROOM  # the longest campaign summary, its preview shortened to fit
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
    member = await repositories.member_by_telegram_id(session, me["id"])
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
            when=answered("audience", "tier"),
        ),
        Step(
            CampaignWizard.gender,
            said(__("campaign.ask_gender")),
            choices=choices_of(GENDERS),
            when=answered("audience", "gender"),
        ),
        Step(CampaignWizard.ages, ask_ages, read=read_ages, when=answered("audience", "age")),
        Step(
            CampaignWizard.month,
            said(__("campaign.ask_month")),
            choices=lambda data: [(str(month), name) for month, name in enumerate(month_names(data[CALENDAR_KEY]), 1)],
            when=answered("audience", "birthday"),
        ),
        Step(
            CampaignWizard.inactive,
            said(__("campaign.ask_inactive")),
            read=whole(1, MAX_INACTIVE_DAYS),
            when=answered("audience", "inactive"),
        ),
        Step(
            CampaignWizard.spent, said(__("campaign.ask_spent")), read=read_amount, when=answered("audience", "spent")
        ),
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
            when=answered("audience", "referred"),
        ),
        Step(
            CampaignWizard.balance,
            said(__("campaign.ask_balance")),
            read=whole(1, MAX_POINTS),
            when=answered("audience", "balance"),
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
