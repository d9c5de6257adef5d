"""What /campaign shows: the list of campaigns, one campaign (its text is `texts.progress`'s) and the buttons that
steer it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import ButtonId
from handlers.wizard import (
    View,
)
from loyalty import campaigns
from loyalty.calendar import format_moment
from loyalty.campaigns import (
    CampaignInfo,
    Progress,
)
from texts.languages import language
from texts.numbers import number
from texts.progress import STATES, campaign_text

STEERING = {  # a campaign's button: its move (`campaigns.steer`), its label, and the toast once done
    "finish": (__("button.campaign_finish"), __("campaign.finished")),
    "pause": (__("button.campaign_pause"), __("campaign.paused")),
    "resume": (__("button.campaign_resume"), __("campaign.resumed")),
    "cancel": (__("button.campaign_cancel"), __("campaign.cancelled_campaign")),
    "end_extra": (__("button.campaign_end_extra"), __("campaign.extra_ended")),
}


class CampaignAction(CallbackData, prefix="cmp"):
    """A button of /campaign: `action` (list, new, open, pause, resume, cancel) on the campaign `campaign`."""

    action: str
    campaign: ButtonId = 0


def offered(action: str, campaign: CampaignInfo, now: datetime) -> bool:
    """Whether the campaign's view offers this button now: a move its state allows, or ending extra points that run."""
    if action == "end_extra":
        return campaign.multiplier is not None and campaign.multiplier.running(now)
    if action == "finish":  # a draft is a campaign whose confirmation failed before it started
        return campaign.state == campaigns.State.DRAFT
    return campaign.state in campaigns.MOVES[action][0]


def campaign_view(campaign: CampaignInfo, progress: Progress, now: datetime, zone: ZoneInfo) -> View:
    """One campaign: its progress, its extra points and gift vouchers used, with the buttons its state allows,
    Refresh and Back."""
    builder = InlineKeyboardBuilder()
    for action, (label, _done) in STEERING.items():
        if offered(action, campaign, now):
            builder.button(text=str(label), callback_data=CampaignAction(action=action, campaign=campaign.id))
    builder.button(text=_("button.campaign_refresh"), callback_data=CampaignAction(action="open", campaign=campaign.id))
    builder.button(text=_("button.campaign_back"), callback_data=CampaignAction(action="list"))
    builder.adjust(1)
    return campaign_text(campaign, progress, now, zone), builder.as_markup()


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
