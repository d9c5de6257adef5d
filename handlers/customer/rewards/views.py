"""What /rewards and /vouchers show a member: the lists, a reward, a voucher, the questions before a redeem or a
cancel, and why one was refused; the buttons they carry."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.club import Club
from handlers.filters import ButtonId
from handlers.messages import VOUCHER_PAYLOAD_PREFIX, deep_link, qr_png
from loyalty import rewards, vouchers
from loyalty.calendar import format_date
from loyalty.errors import (
    InsufficientPoints,
    RewardUnavailable,
)
from loyalty.rewards import Offer, Offers
from loyalty.vouchers import Status, VoucherInfo
from storage.models import Reward
from texts.languages import language
from texts.numbers import number
from texts.plurals import counted, days_text, points_text
from texts.worth import worth_text

UNAVAILABLE = {
    "out_of_stock": __("rewards.out_of_stock"),
    "limit_reached": __("rewards.limit_reached"),
    "inactive": __("rewards.unavailable"),
    "unknown": __("rewards.unavailable"),
}
GROUP_TITLES = {
    Status.ACTIVE: __("rewards.group_active"),
    Status.USED: __("rewards.group_used"),
    Status.EXPIRED: __("rewards.group_expired"),
    Status.CANCELLED: __("rewards.group_cancelled"),
}


class RewardAction(CallbackData, prefix="rwd"):
    """A button of /rewards: `action` (list, show, ask) on `reward`; `seen` is kept for buttons already sent."""

    action: str
    reward: ButtonId = 0
    seen: ButtonId = 0


class RedeemYes(CallbackData, prefix="rwy"):
    """The Yes of a redeem: `seen` is the member's newest ledger entry and `terms` the quoted terms' fingerprint."""

    reward: ButtonId
    seen: ButtonId
    terms: str


class VoucherAction(CallbackData, prefix="vch"):
    """A button of /vouchers: `action` (list, show, ask, cancel) on `voucher`."""

    action: str
    voucher: ButtonId = 0


# --- texts -------------------------------------------------------------------------------------------------------


def day(moment: datetime, zone: ZoneInfo) -> str:
    """The shop's date of a moment, in the reader's calendar and digits."""
    return format_date(moment.astimezone(zone).date(), language())


def status_text(voucher: VoucherInfo, zone: ZoneInfo) -> str:
    """Until when a voucher can be used, or when it stopped being usable."""
    if voucher.status is Status.USED:
        return _("rewards.used_on").format(date=day(voucher.used_at or voucher.expires_at, zone))
    if voucher.status is Status.CANCELLED:
        return _("rewards.cancelled_on").format(date=day(voucher.cancelled_at or voucher.expires_at, zone))
    if voucher.status is Status.EXPIRED:
        return _("rewards.expired_on").format(date=day(voucher.expires_at, zone))
    return _("rewards.valid_until").format(date=day(voucher.expires_at, zone))


def voucher_text(voucher: VoucherInfo, zone: ZoneInfo, currency: str) -> str:
    """A voucher as its holder and the cashier read it: title, grouped code, worth (in the unit `currency`), and
    until when."""
    return _("rewards.voucher_card").format(
        title=voucher.title,
        code=voucher.shown_code,
        worth=worth_text(voucher.worth, currency),
        status=status_text(voucher, zone),
    )


def rewards_view(offers: Offers) -> tuple[str, InlineKeyboardMarkup]:
    """The member's points, the rewards they can afford (a button each), then those they are close to."""
    builder = InlineKeyboardBuilder()
    lines = [counted("rewards.title", offers.points).format(points=number(offers.points))]
    if not offers.affordable and not offers.close:
        lines.append(_("rewards.empty"))
    if offers.affordable:
        lines.append("\n" + _("rewards.affordable"))
    for offer in offers.affordable:
        cost = number(offer.reward.cost)
        lines.append(counted("rewards.line_affordable", offer.reward.cost).format(name=offer.reward.name, cost=cost))
        label = counted("button.rewards_affordable", offer.reward.cost).format(name=offer.reward.name, cost=cost)
        builder.button(text=label, callback_data=RewardAction(action="show", reward=offer.reward.id))
    if offers.close:
        lines.append("\n" + _("rewards.close"))
    for offer in offers.close:
        missing = number(offer.missing)
        lines.append(counted("rewards.line_close", offer.missing).format(name=offer.reward.name, missing=missing))
        label = counted("button.rewards_close", offer.missing).format(name=offer.reward.name, missing=missing)
        builder.button(text=label, callback_data=RewardAction(action="show", reward=offer.reward.id))
    builder.button(text=_("button.rewards_vouchers"), callback_data=VoucherAction(action="list"))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def facts_text(reward: Reward, currency: str) -> str:
    """What a reward's voucher is worth (in the unit `currency`), its cost and its validity."""
    return counted("rewards.facts", reward.cost).format(
        worth=worth_text(rewards.worth_of(reward), currency),
        cost=number(reward.cost),
        days=days_text(reward.validity_days),
    )


def reward_view(offer: Offer, currency: str) -> tuple[str, InlineKeyboardMarkup]:
    """One reward: what its voucher is worth, its cost and validity; Redeem when affordable, and Back."""
    reward = offer.reward
    facts = facts_text(reward, currency)
    if reward.stock is not None:
        facts += "\n" + _("rewards.stock").format(stock=number(reward.stock))
    parts = [_("rewards.detail_title").format(name=reward.name), reward.description, facts]
    if offer.missing:
        parts.append(counted("rewards.missing", offer.missing).format(missing=number(offer.missing)))
    text = "\n\n".join(part for part in parts if part)
    builder = InlineKeyboardBuilder()
    if not offer.missing:
        redeem = counted("button.rewards_redeem", reward.cost).format(cost=number(reward.cost))
        builder.button(text=redeem, callback_data=RewardAction(action="ask", reward=reward.id))
    builder.button(text=_("button.rewards_back"), callback_data=RewardAction(action="list"))
    builder.adjust(1)
    return text, builder.as_markup()


def confirm_view(offer: Offer, points: int, seen: int) -> tuple[str, InlineKeyboardMarkup]:
    """Ask before spending the points; Yes carries the ledger entry the question was asked at and the terms quoted."""
    reward = offer.reward
    text = counted("rewards.confirm", reward.cost).format(
        name=reward.name, cost=number(reward.cost), balance=points_text(points - reward.cost)
    )
    builder = InlineKeyboardBuilder()
    yes = RedeemYes(reward=reward.id, seen=seen, terms=rewards.terms_of(reward).fingerprint)
    builder.button(text=_("button.rewards_yes"), callback_data=yes)
    builder.button(text=_("button.rewards_no"), callback_data=RewardAction(action="show", reward=reward.id))
    return text, builder.as_markup()


def redeem_refusal(error: InsufficientPoints | RewardUnavailable) -> str:
    """Why the redeem was refused (how many points are missing, out of stock…), and that no point was spent."""
    if isinstance(error, InsufficientPoints):
        missing = error.needed - error.available
        why = counted("rewards.insufficient", missing).format(
            missing=number(missing), available=number(error.available)
        )
    else:
        why = str(UNAVAILABLE[error.reason])
    return why + "\n" + _("rewards.nothing_taken")


def back_to_rewards() -> InlineKeyboardMarkup:
    """One button back to the rewards list."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.rewards_back"), callback_data=RewardAction(action="list"))
    return builder.as_markup()


def vouchers_view(found: vouchers.MemberVouchers, zone: ZoneInfo, currency: str) -> tuple[str, InlineKeyboardMarkup]:
    """The member's vouchers by status, worth in the unit `currency`; each active one can be shown again, and
    cancelled if it was bought."""
    builder = InlineKeyboardBuilder()
    groups = {
        Status.ACTIVE: found.active,
        Status.USED: found.used,
        Status.EXPIRED: found.expired,
        Status.CANCELLED: found.cancelled,
    }
    lines = [_("rewards.vouchers_title")]
    if not any(groups.values()):
        lines.append(_("rewards.vouchers_empty"))
    sizes = []
    for status, group in groups.items():
        if group:
            lines.append("\n" + str(GROUP_TITLES[status]))
        for voucher in group:
            if status is Status.ACTIVE:
                lines.append(f"• {voucher.title} · {worth_text(voucher.worth, currency)}")
                lines.append(f"   {voucher.shown_code} · {status_text(voucher, zone)}")
                show = _("button.rewards_show_voucher").format(title=voucher.title, code=voucher.shown_code)
                builder.button(text=show, callback_data=VoucherAction(action="show", voucher=voucher.id))
                can_cancel = cancel_refusal(voucher, zone) is None
                if can_cancel:
                    cancel = _("button.rewards_give_back")
                    builder.button(text=cancel, callback_data=VoucherAction(action="ask", voucher=voucher.id))
                sizes.append(2 if can_cancel else 1)
            else:
                lines.append(f"• {voucher.title} · {status_text(voucher, zone)}")
    builder.button(text=_("button.rewards_back"), callback_data=RewardAction(action="list"))
    builder.adjust(*sizes, 1)
    return "\n".join(lines), builder.as_markup()


def voucher_markup(voucher: VoucherInfo, zone: ZoneInfo) -> InlineKeyboardMarkup | None:
    """Under a voucher's QR: Cancel, when it can be given back for points."""
    if cancel_refusal(voucher, zone) is not None:
        return None
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.rewards_give_back"), callback_data=VoucherAction(action="ask", voucher=voucher.id))
    return builder.as_markup()


def cancel_confirm_view(voucher: VoucherInfo, points_back: int) -> tuple[str, InlineKeyboardMarkup]:
    """Ask before cancelling a voucher, saying how many points come back."""
    text = counted("rewards.cancel_confirm", points_back).format(
        title=voucher.title, code=voucher.shown_code, points=number(points_back)
    )
    builder = InlineKeyboardBuilder()
    yes = VoucherAction(action="cancel", voucher=voucher.id)
    builder.button(text=_("button.rewards_cancel_yes"), callback_data=yes)
    builder.button(text=_("button.rewards_cancel_no"), callback_data=VoucherAction(action="list"))
    return text, builder.as_markup()


def cancel_refusal(voucher: VoucherInfo, zone: ZoneInfo) -> str | None:
    """Why its holder cannot cancel this voucher (used, expired, cancelled already, a gift), or None if they can."""
    if voucher.status is Status.USED:
        return _("rewards.cannot_cancel_used").format(date=day(voucher.used_at or voucher.expires_at, zone))
    if voucher.status is Status.EXPIRED:
        return _("rewards.cannot_cancel_expired").format(date=day(voucher.expires_at, zone))
    if voucher.status is Status.CANCELLED:
        return _("rewards.already_cancelled")
    if not voucher.bought:
        return _("rewards.gift_not_cancellable")
    return None


# --- sending -----------------------------------------------------------------------------------------------------


async def voucher_photo(bot: Bot, club: Club, voucher: VoucherInfo) -> BufferedInputFile:
    """A QR of the voucher's deep link (/start voucher_<code>), which the cashier scans to use it."""
    link = await deep_link(bot, club, VOUCHER_PAYLOAD_PREFIX + voucher.code)
    return BufferedInputFile(qr_png(link), filename=f"voucher-{voucher.code}.png")
