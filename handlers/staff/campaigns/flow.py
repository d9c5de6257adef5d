"""The /campaign wizard declared in one place: its states (`CampaignWizard`), its steps in order (`CAMPAIGN_FLOW`)
and how the typed answers are read; its answers and what they describe are `answers`."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.staff.campaigns.answers import (
    OCCASIONS,
    CampaignAnswers,
    Written,
    audience_of,
    audience_text,
    campaign_summary,
)
from handlers.staff.campaigns.dates import (
    DATE_READERS,
    LUNAR,
    example_day,
    example_founded,
    example_moment,
    month_names,
    send_time,
)
from handlers.wizard import (
    Flow,
    Refused,
    Step,
    View,
    answered,
    read_amount,
    read_days,
    read_name,
    said,
    whole,
    worth_steps,
)
from loyalty import audiences
from loyalty.audiences import CATEGORY_LENGTH, MAX_AGE, MAX_INACTIVE_DAYS, MAX_POINTS, MAX_REFERRED
from loyalty.campaigns import CAPTION_LENGTH, TEXT_LENGTH
from loyalty.numerals import ascii_digits, local_digits
from loyalty.occasions import ANNIVERSARY
from texts.languages import language
from texts.numbers import number
from texts.plurals import counted
from texts.tiers import tier_name

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
MAX_GIFT_POINTS, MAX_EXPIRY_DAYS = 1_000_000, 3650
MIN_MULTIPLIER, MAX_MULTIPLIER, MAX_MULTIPLIER_DAYS = 101, 1000, 365
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


def read_text(text: str) -> Written:
    """The campaign's message typed as text."""
    if not text.strip() or len(text) > TEXT_LENGTH:
        raise Refused(_("campaign.text_length").format(high=number(TEXT_LENGTH)))
    return Written(text=text)


def read_ages(text: str) -> tuple[int, int]:
    """An age range typed "from-to" (Persian digits too), the smaller age first."""
    match = _AGES.match(ascii_digits(text))
    low, high = (int(match[1]), int(match[2])) if match else (-1, -1)
    if not 0 <= low <= high <= MAX_AGE:
        raise Refused(_("campaign.ages_refused").format(low=number(0), high=number(MAX_AGE), example=example_ages()))
    return low, high


def example_ages() -> str:
    """An example age range in the staff member's digits."""
    return local_digits("20-35", language())


def read_category(text: str) -> str:
    """A product category as purchases record it, spaces folded."""
    category = " ".join(text.split())
    if not 0 < len(category) <= CATEGORY_LENGTH:
        raise Refused(_("campaign.category_length").format(high=number(CATEGORY_LENGTH)))
    return category


class CampaignFlow(Flow[CampaignAnswers]):
    """The wizard engine of /campaign, telling the audience's size before the message and offering a test send."""

    async def question(self, step: Step[CampaignAnswers], answers: CampaignAnswers, session: AsyncSession) -> View:
        """As `Flow.question`; the message question starts with how many members the audience reaches."""
        text, markup = await super().question(step, answers, session)
        if step.state == CampaignWizard.message:
            size = await audiences.count(session, audience_of(answers), answers.at)
            audience = counted("campaign.audience_size", size).format(
                audience=audience_text(answers), count=number(size)
            )
            text = audience + "\n\n" + text
        return text, markup

    def confirm_keyboard(self, answers: CampaignAnswers) -> InlineKeyboardMarkup:
        """Send a test to me above Confirm, Back and Cancel."""
        test = InlineKeyboardButton(text=_("button.campaign_test"), callback_data=self.action("test"))
        return InlineKeyboardMarkup(inline_keyboard=[[test], *super().confirm_keyboard(answers).inline_keyboard])


def choices_of(labels: dict[str, Any]) -> Callable[[CampaignAnswers], list[tuple[str, str]]]:
    """Buttons from a table of values and labels."""
    return lambda answers: [(value, str(label)) for value, label in labels.items()]


def ask_message(answers: CampaignAnswers) -> str:
    """The message question, with the placeholders members' values fill in."""
    return _("campaign.ask_message").format(text=number(TEXT_LENGTH), caption=number(CAPTION_LENGTH))


def only_when(condition: Callable[[CampaignAnswers], bool], *steps: Step[CampaignAnswers]) -> tuple[Step, ...]:
    """The steps, each applying only when `condition` holds as well as its own `when`."""
    return tuple(
        dataclasses.replace(step, when=lambda answers, own=step.when: condition(answers) and own(answers))
        for step in steps
    )


def ask_ages(answers: CampaignAnswers) -> str:
    """The age range question, with an example in the staff member's digits."""
    return _("campaign.ask_ages").format(example=example_ages())


def ask_send_at(answers: CampaignAnswers) -> str:
    """The date and time question, with an example in the staff member's calendar."""
    return _("campaign.ask_send_at").format(example=example_moment())


def ask_occasion_day(answers: CampaignAnswers) -> str:
    """This year's date of a lunar occasion: why it is asked, with an example in the staff member's calendar."""
    occasion = str(OCCASIONS[answers.occasion])
    return _("campaign.ask_occasion_day").format(occasion=occasion, example=example_day(), time=send_time())


def ask_founded(answers: CampaignAnswers) -> str:
    """The shop's founding date, with an example in the staff member's calendar."""
    return _("campaign.ask_founded").format(example=example_founded(), time=send_time())


CAMPAIGN_FLOW = CampaignFlow(
    name="campaign",
    group=CampaignWizard,
    answers=CampaignAnswers,
    steps=(
        Step(CampaignWizard.audience, said(__("campaign.ask_audience")), choices=choices_of(AUDIENCES)),
        Step(
            CampaignWizard.tier,
            said(__("campaign.ask_tier")),
            choices=lambda answers: [(tier, tier_name(tier)) for tier in answers.tiers],
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
            choices=lambda answers: [(str(month), name) for month, name in enumerate(month_names(answers.calendar), 1)],
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
