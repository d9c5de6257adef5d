"""What /campaign shows: the list of campaigns, one campaign's progress (a bar, rate, time left, the final report)
and the buttons that steer it."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.filters.callback_data import CallbackData
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import ButtonId
from handlers.replies import decimal, language, number
from handlers.wizard import (
    View,
)
from loyalty import campaigns
from loyalty.calendar import format_moment
from loyalty.campaigns import (
    CampaignInfo,
    Progress,
)

STATES = {
    campaigns.State.DRAFT: __("campaign.state_draft"),
    campaigns.State.SCHEDULED: __("campaign.state_scheduled"),
    campaigns.State.RUNNING: __("campaign.state_running"),
    campaigns.State.PAUSED: __("campaign.state_paused"),
    campaigns.State.DONE: __("campaign.state_done"),
    campaigns.State.CANCELLED: __("campaign.state_cancelled"),
}
STEERING = {  # a campaign's button: its move (`campaigns.steer`), its label, and the toast once done
    "finish": (__("button.campaign_finish"), __("campaign.finished")),
    "pause": (__("button.campaign_pause"), __("campaign.paused")),
    "resume": (__("button.campaign_resume"), __("campaign.resumed")),
    "cancel": (__("button.campaign_cancel"), __("campaign.cancelled_campaign")),
    "end_extra": (__("button.campaign_end_extra"), __("campaign.extra_ended")),
}
FINISHED = (campaigns.State.DONE, campaigns.State.CANCELLED)  # their progress is the final report
BAR_CELLS = 10


class CampaignAction(CallbackData, prefix="cmp"):
    """A button of /campaign: `action` (list, new, open, pause, resume, cancel) on the campaign `campaign`."""

    action: str
    campaign: ButtonId = 0


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
    for action, (label, _done) in STEERING.items():
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
