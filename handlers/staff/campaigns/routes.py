"""The /campaign routes: the list and a campaign's buttons, the wizard's own steps (a photo, a typed date), the
test send and the confirmation."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from handlers.filters import HAS_TEXT, NOT_COMMAND, Magic, staff_only
from handlers.messages import alert, show, toast
from handlers.staff.campaigns.answers import CampaignAnswers, Me, Written, draft_of, rendered_for_me
from handlers.staff.campaigns.dates import DATE_READERS, date_refusal
from handlers.staff.campaigns.flow import CAMPAIGN_FLOW, DATE_STEPS, MESSAGE_STEP, CampaignWizard
from handlers.staff.campaigns.view import STEERING, CampaignAction, campaign_view, list_view, view_of
from handlers.wizard import Refused, WizardAction, first_press
from loyalty import campaigns, digest, rules
from loyalty.calendar import calendar_for, format_moment
from loyalty.campaigns import (
    CAPTION_LENGTH,
    CampaignInfo,
    CampaignNotFound,
    CampaignStateError,
    Report,
)
from loyalty.errors import InvalidDate
from loyalty.staff import Role
from loyalty.stamps import Stamp
from texts.languages import language
from texts.numbers import number
from texts.plurals import counted

logger = logging.getLogger(__name__)


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


async def open_campaign(
    query: CallbackQuery, campaign: CampaignInfo, session: AsyncSession, club: Club, now: datetime, bot: Bot
) -> None:
    """One campaign's progress and buttons."""
    await show(query, bot, *await view_of(session, campaign, now, club.zone))


async def steer(
    query: CallbackQuery,
    callback_data: CampaignAction,
    campaign: CampaignInfo,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Pause, resume, cancel the campaign, end its extra points or finish it (its view then shows its progress); a
    move no longer allowed shows it as it is now."""
    _label, done = STEERING[callback_data.action]
    said = str(done)
    here = Report(query.message.chat.id, query.message.message_id) if isinstance(query.message, Message) else None
    try:
        campaign = await campaigns.steer(session, campaign.id, callback_data.action, stamp, report=here)
    except CampaignStateError:
        campaign, said = await campaigns.get(session, campaign.id), _("fallback.stale_button")
    await show(query, bot, *await view_of(session, campaign, stamp.at, club.zone))
    toast(callback_answer, said)


async def new_campaign(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, club: Club, now: datetime, bot: Bot
) -> None:
    """New campaign: the wizard's first question in place of the list."""
    answers = await first_answers(query, session, club, now)
    await show(query, bot, *await CAMPAIGN_FLOW.begin(state, session, answers))


async def win_back(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, club: Club, now: datetime, bot: Bot
) -> None:
    """The daily digest's suggestion: a new campaign to the members away for `digest.AWAY_DAYS`, that audience
    already chosen (Back changes it); the wizard's next question in a new message, under the digest."""
    answers = await first_answers(query, session, club, now)
    answers.give("audience", "inactive")
    answers.give("inactive", digest.AWAY_DAYS)
    await state.set_data(answers.model_dump(mode="json"))
    text, markup = await CAMPAIGN_FLOW.next_view(state, session, answers, CAMPAIGN_FLOW.step_named("inactive"))
    await bot.send_message(query.from_user.id, text, reply_markup=markup)


async def first_answers(query: CallbackQuery, session: AsyncSession, club: Club, now: datetime) -> CampaignAnswers:
    """What the wizard knows before its first question: the club's tiers and unit, the moment, who asks."""
    club_rules = await rules.current(session, club.rules)
    return CampaignAnswers(
        tiers=[tier.name for tier in club_rules.tiers],
        currency=club_rules.currency,
        at=now.astimezone(club.zone),
        zone=club.zone.key,
        calendar=calendar_for(language()),
        me=Me(id=query.from_user.id, name=query.from_user.first_name),
    )


async def got_photo(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """The message as a photo: its largest size, with the caption under it."""
    caption = message.caption or ""
    if len(caption) > CAPTION_LENGTH:
        refusal = _("campaign.caption_length").format(high=number(CAPTION_LENGTH))
        text, markup = await CAMPAIGN_FLOW.again(refusal, state, session, CampaignWizard.message.state)
    else:
        largest = max(message.photo or [], key=lambda size: size.width * size.height)
        written = Written(text=caption, photo=largest.file_id)
        text, markup = await CAMPAIGN_FLOW.answer(MESSAGE_STEP, state, session, written)
    await message.answer(text, reply_markup=markup)


async def got_date(
    message: Message, state: FSMContext, session: AsyncSession, club: Club, now: datetime, raw_state: str | None
) -> None:
    """A typed date (to send at, a lunar occasion's, the founding one): its moment kept, or refused and asked again."""
    step = next(step for step in DATE_STEPS if step.state.state == raw_state)
    read, example, named = DATE_READERS[step.key]
    try:
        moment = read(message.text or "", now, club.zone)
    except InvalidDate as error:
        refusal = date_refusal(error, example(), named())
    except Refused as error:
        refusal = str(error)
    else:
        text, markup = await CAMPAIGN_FLOW.answer(step, state, session, moment)
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


async def send_test(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot, callback_answer: CallbackAnswer
) -> None:
    """Send a test to me: the message as the staff member would get it, in their own chat."""
    await send_message(bot, query.from_user.id, await rendered_for_me(await CAMPAIGN_FLOW.read(state), session))
    toast(callback_answer, _("campaign.test_sent"))


async def confirm(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Confirm: the campaign is stored and started (or scheduled), and its progress message sent and registered.

    Should it fail midway, the summary waits again: Confirm pressed once more finds the campaign the first press
    stored (its key is the first press's update) and finishes what is left; /campaign shows it as not finished
    meanwhile, with Finish and Cancel.
    """
    data = await CAMPAIGN_FLOW.claim(state, callback_answer)
    if data is None:  # pressed twice: the first press confirmed
        return
    try:
        await confirmed(query, data, session, club, replace(stamp, update_key=first_press(data, stamp.update_key)), bot)
    except Exception:  # cut short: the summary waits again, and /campaign shows the campaign as not finished
        logger.exception("confirming a campaign failed midway")
        await CAMPAIGN_FLOW.restore(state, data)
        alert(callback_answer, _("campaign.not_finished"))
        return


async def confirmed(
    query: CallbackQuery, data: CampaignAnswers, session: AsyncSession, club: Club, stamp: Stamp, bot: Bot
) -> None:
    """Store and start the campaign (`campaigns.confirm`, once per first press), show the outcome, send its progress
    message unless it has one."""
    now = stamp.at
    campaign = await campaigns.confirm(session, draft_of(data, now), stamp)
    if campaign.state == campaigns.State.CANCELLED:  # cancelled from /campaign after a failed confirmation
        await show(query, bot, *await view_of(session, campaign, now, club.zone))
        return
    if campaign.state == campaigns.State.SCHEDULED and campaign.send_at is not None:
        done = _("campaign.scheduled").format(
            name=campaign.name, moment=format_moment(campaign.send_at, language(), club.zone)
        )
    else:
        done = counted("campaign.started", campaign.recipients).format(
            name=campaign.name, count=number(campaign.recipients)
        )
    await show(query, bot, done, InlineKeyboardMarkup(inline_keyboard=[]))
    progress = await campaigns.progress(session, campaign.id, now)
    if progress.report_message_id is None:
        text, markup = campaign_view(campaign, progress, now, club.zone)  # as the sender does
        report = await bot.send_message(stamp.actor_id, text, reply_markup=markup)
        await campaigns.set_report(session, campaign.id, report.chat.id, report.message_id)


async def confirm_gone(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """Confirm pressed on a summary no longer waiting (confirmed, discarded, or its answers lost): what to do."""
    alert(callback_answer, _("campaign.confirm_gone"))


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
    router.callback_query.register(win_back, F.data == digest.WIN_BACK_BUTTON)
    router.callback_query.register(open_campaign, CampaignAction.filter(F.action == "open"), known)
    router.callback_query.register(steer, CampaignAction.filter(F.action.in_(list(STEERING))), known)
    return router
