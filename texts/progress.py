"""A campaign in words: its state, its live figures while it is sent (a bar, sent of all, the rate, time left), its
final report, its extra points and its gift vouchers used. The /campaign view shows it, and the broadcast sender
keeps it current in the staff member's progress message."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from loyalty import campaigns
from loyalty.calendar import format_moment
from loyalty.campaigns import CampaignInfo, Progress
from texts.languages import language
from texts.numbers import decimal, number

STATES = {
    campaigns.State.DRAFT: __("campaign.state_draft"),
    campaigns.State.SCHEDULED: __("campaign.state_scheduled"),
    campaigns.State.RUNNING: __("campaign.state_running"),
    campaigns.State.PAUSED: __("campaign.state_paused"),
    campaigns.State.DONE: __("campaign.state_done"),
    campaigns.State.CANCELLED: __("campaign.state_cancelled"),
}
FINISHED = (campaigns.State.DONE, campaigns.State.CANCELLED)  # their progress is the final report
BAR_CELLS = 10


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


def extra_points_text(campaign: CampaignInfo, now: datetime, zone: ZoneInfo) -> str:
    """The campaign's extra points on purchases: until when they run, or when they ended (nothing without them)."""
    extra = campaign.multiplier
    if extra is None:
        return ""
    moment = format_moment(extra.ends_at, language(), zone)
    key = "campaign.extra_until" if extra.running(now) else "campaign.extra_ended_at"
    return "\n" + _(key).format(percent=number(extra.percent), moment=moment)


def campaign_text(campaign: CampaignInfo, progress: Progress, now: datetime, zone: ZoneInfo) -> str:
    """One campaign: its progress, its extra points and its gift vouchers used."""
    return progress_text(campaign.name, progress) + extra_points_text(campaign, now, zone) + redemptions_text(progress)
