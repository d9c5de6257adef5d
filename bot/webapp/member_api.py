"""The member's API (JSON, under `api/`): the card, points and tier progress, history, rewards with redeem, and
vouchers. Each route reads through the same domain calls as the chat's /card, /balance, /history, /rewards and
/vouchers, and words what it shows with the chat's texts; a redeem is the chat's redeem with the chat's idempotency
key (`loyalty.rewards.confirmation_key`), so a Yes in the chat and one here to the same question redeem once."""

from __future__ import annotations

from math import ceil
from typing import Any

import segno
from aiogram.utils.i18n import gettext as _
from aiohttp import web

from bot.webapp.answers import Refusal
from bot.webapp.visits import Visit, for_members
from handlers.club import currency
from handlers.customer.rewards.views import (
    GROUP_TITLES,
    confirm_view,
    redeem_refusal,
    reward_view,
    status_text,
)
from handlers.messages import CARD_PAYLOAD_PREFIX, VOUCHER_PAYLOAD_PREFIX, deep_link
from handlers.replies import balance_text, card_caption, entry_label, progress_line
from loyalty import ledger, rewards, rules, shop, tiers, vouchers
from loyalty.calendar import format_moment
from loyalty.errors import InsufficientPoints, RewardTermsChanged, RewardUnavailable
from loyalty.rewards import Offer, Offers
from loyalty.rules import Rules
from loyalty.tiers import Progress
from loyalty.vouchers import Status, VoucherInfo
from storage import repositories
from texts.languages import language
from texts.numbers import code_text, number
from texts.plurals import counted
from texts.tiers import tier_name
from texts.worth import worth_text

HISTORY_PAGE_SIZE = 20


def qr_image(link: str) -> str:
    """A QR code of `link` as an SVG data URI, black on white for the counter's scanner (`handlers.messages.qr_png`
    makes the chat's PNG of the same link)."""
    return segno.make(link, error="m").svg_data_uri(scale=8, border=2)


async def card(visit: Visit) -> dict[str, Any]:
    """The member card: the QR the cashier scans (the chat card's link) and the code they can type."""
    member, webapp = visit.member, visit.webapp
    link = await deep_link(webapp.bot, webapp.club, CARD_PAYLOAD_PREFIX + member.code)
    shop_name = (await shop.current(visit.session)).name
    return {
        "name": member.first_name,
        "code": code_text(member.code),
        "tier": tier_name(member.tier),
        "caption": card_caption(member, shop_name),
        "qr": qr_image(link),
    }


def tier_percent(club_rules: Rules, progress: Progress) -> int:
    """How far from the tier's threshold to the next one the member's spend has come, 0 to 100 (100 at the top)."""
    if progress.next_tier is None:
        return 100
    low = club_rules.tier_named(progress.tier).threshold
    high = club_rules.tier_named(progress.next_tier).threshold
    return max(0, min(100, 100 * (progress.spend - low) // max(high - low, 1)))


async def balance(visit: Visit) -> dict[str, Any]:
    """Points, tier and what expires first, in the words of /balance, and the progress to the next tier."""
    member = visit.member
    club_rules = await rules.current(visit.session, visit.webapp.club.rules)
    progress = await tiers.standing(visit.session, member, club_rules, visit.now)
    summary = ledger.summary(member, visit.account.next_expiry)
    return {
        "points": number(summary.points),
        "tier": tier_name(summary.tier),
        "text": balance_text(member, summary, visit.webapp.club.zone),
        "progress": progress_line(progress, club_rules.currency) or _("webapp.top_tier"),
        "percent": tier_percent(club_rules, progress),
    }


def page_asked(visit: Visit) -> int:
    """The history page asked for (`?page=`, from 0); a bad one is refused (400)."""
    try:
        page = int(visit.request.query.get("page", "0"))
    except ValueError:
        raise Refusal(400, "webapp.bad_request") from None
    if page < 0:
        raise Refusal(400, "webapp.bad_request")
    return page


async def history(visit: Visit) -> dict[str, Any]:
    """One page of the member's ledger, newest first, each entry worded as in /history."""
    page = page_asked(visit)
    entries, total = await repositories.history_page(visit.session, visit.member.id, page, HISTORY_PAGE_SIZE)
    zone = visit.webapp.club.zone
    return {
        "entries": [
            {
                "points": entry.points,
                "amount": ("+" if entry.points > 0 else "−") + number(abs(entry.points)),
                "label": entry_label(entry),
                "when": format_moment(entry.created_at, language(), zone),
            }
            for entry in entries
        ],
        "page": page,
        "pages": max(1, ceil(total / HISTORY_PAGE_SIZE)),
        "empty": _("history.empty"),
    }


def offer_of(offer: Offer, offers: Offers, seen: int, unit: str) -> dict[str, Any]:
    """A reward as the page shows it: its detail and, when affordable, the question before a redeem and what the
    redeem sends back (the ledger entry it was asked at and the terms quoted, as the chat's Yes carries them)."""
    reward = offer.reward
    shown = {
        "id": reward.id,
        "name": reward.name,
        "detail": reward_view(offer, unit)[0],
        "missing": offer.missing,
        "terms": rewards.terms_of(reward).fingerprint,
        "seen": seen,
    }
    if not offer.missing:
        shown["question"] = confirm_view(offer, offers.points, seen)[0]
        shown["redeem"] = counted("button.rewards_redeem", reward.cost).format(cost=number(reward.cost))
    return shown


async def reward_list(visit: Visit) -> dict[str, Any]:
    """The rewards the member can afford, then those they are close to, as /rewards lists them."""
    member_id = visit.member.id
    offers = await rewards.offers(visit.session, member_id, visit.now)
    seen = await rewards.newest_entry(visit.session, member_id)
    unit = await currency(visit.session, visit.webapp.club)
    return {
        "title": counted("rewards.title", offers.points).format(points=number(offers.points)),
        "affordable": [offer_of(offer, offers, seen, unit) for offer in offers.affordable],
        "close": [offer_of(offer, offers, seen, unit) for offer in offers.close],
        "affordable_title": _("rewards.affordable"),
        "close_title": _("rewards.close"),
        "empty": _("rewards.empty"),
    }


async def redeem_asked(visit: Visit) -> tuple[int, int, str]:
    """The reward, the ledger entry the question was asked at and the terms quoted; a bad request is refused."""
    try:
        asked = await visit.request.json()
        return int(visit.request.match_info["reward"]), int(asked["seen"]), str(asked["terms"])
    except (ValueError, KeyError, TypeError):
        raise Refusal(400, "webapp.bad_request") from None


async def redeem(visit: Visit) -> dict[str, Any]:
    """Yes to a reward: the chat's redeem, keyed as the chat keys the same question; a second Yes (here or in the
    chat) answers the first voucher."""
    reward_id, seen, terms = await redeem_asked(visit)
    member_id = visit.member.id  # after a refusal the session's objects are expired
    unit = await currency(visit.session, visit.webapp.club)
    try:
        redeemed = await rewards.redeem(
            visit.session,
            reward_id,
            visit.stamp(),
            member_id=member_id,
            key=rewards.confirmation_key(member_id, reward_id, seen),
            quoted=terms,
        )
    except RewardTermsChanged:
        raise Refusal(409, "rewards.terms_changed") from None
    except (InsufficientPoints, RewardUnavailable) as error:
        raise Refusal(409, "redeem_refused", message=redeem_refusal(error)) from None
    if redeemed.duplicate:
        message = _("rewards.already_redeemed")
    else:
        message = _("rewards.redeemed").format(title=redeemed.voucher.title)
    return {
        "duplicate": redeemed.duplicate,
        "message": message,
        "balance": counted("rewards.balance", redeemed.balance).format(points=number(redeemed.balance)),
        "voucher": await voucher_of(visit, redeemed.voucher, unit),
    }


async def voucher_of(visit: Visit, voucher: VoucherInfo, unit: str) -> dict[str, Any]:
    """A voucher as its holder and the cashier read it; an active one with the chat's QR of it."""
    shown = {
        "id": voucher.id,
        "title": voucher.title,
        "code": voucher.shown_code,
        "worth": worth_text(voucher.worth, unit),
        "status": status_text(voucher, visit.webapp.club.zone),
        "active": voucher.status is Status.ACTIVE,
    }
    if voucher.status is Status.ACTIVE:
        link = await deep_link(visit.webapp.bot, visit.webapp.club, VOUCHER_PAYLOAD_PREFIX + voucher.code)
        shown["qr"] = qr_image(link)
    return shown


async def voucher_list(visit: Visit) -> dict[str, Any]:
    """The member's vouchers by status, as /vouchers groups them."""
    found = await vouchers.vouchers_of(visit.session, visit.member.id, visit.now)
    unit = await currency(visit.session, visit.webapp.club)
    groups = {
        Status.ACTIVE: found.active,
        Status.USED: found.used,
        Status.EXPIRED: found.expired,
        Status.CANCELLED: found.cancelled,
    }
    return {
        "groups": [
            {"title": str(GROUP_TITLES[status]), "vouchers": [await voucher_of(visit, one, unit) for one in group]}
            for status, group in groups.items()
            if group
        ],
        "empty": _("rewards.vouchers_empty"),
    }


def add_routes(app: web.Application) -> None:
    """The member's routes, under the Mini App's path."""
    app.router.add_get("/api/card", for_members(card))
    app.router.add_get("/api/balance", for_members(balance))
    app.router.add_get("/api/history", for_members(history))
    app.router.add_get("/api/rewards", for_members(reward_list))
    app.router.add_post("/api/rewards/{reward:\\d+}/redeem", for_members(redeem))
    app.router.add_get("/api/vouchers", for_members(voucher_list))
