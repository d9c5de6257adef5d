"""Rewards for members: browse what points buy, redeem for a voucher, list and cancel one's vouchers.

The steps, each a view edited in place (a view asked from a photo comes as a new message):
- /rewards → the list (points; affordable rewards, then close ones) → a reward → "Redeem?" → Yes: the voucher.
- /vouchers → the list by status → a voucher again (QR and caption) or "Cancel it?" → Yes: points back.

A confirmation button carries the member's newest ledger entry as it was when the question was shown, and the
redeem's idempotency key is made of it (`confirmation_key`): two presses of one Yes (a double tap, two updates)
redeem once, while a new question, asked after the points have moved, is a new redeem. It also carries the
fingerprint of the terms quoted (`rewards.Terms`): if staff changed the reward's cost, worth, validity or name
meanwhile, nothing is spent and the member is shown the new terms and asked again.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message, Update
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import keyboards, messages
from handlers.club import Club
from handlers.filters import ButtonId, IsMember, TextIs
from handlers.messages import VOUCHER_PAYLOAD_PREFIX, deep_link, qr_png
from handlers.replies import language, number
from handlers.wizard import worth_text
from loyalty import rewards, vouchers
from loyalty.calendar import format_date
from loyalty.errors import (
    InsufficientPoints,
    RewardTermsChanged,
    RewardUnavailable,
    VoucherNotFound,
    VoucherNotUsable,
)
from loyalty.rewards import Offer, Offers
from loyalty.vouchers import Status, VoucherInfo
from storage import repositories
from storage.models import Member, Reward

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


def voucher_text(voucher: VoucherInfo, zone: ZoneInfo) -> str:
    """A voucher as its holder and the cashier read it: title, grouped code, worth, and until when."""
    return _("rewards.voucher_card").format(
        title=voucher.title, code=voucher.shown_code, worth=worth_text(voucher.worth), status=status_text(voucher, zone)
    )


def rewards_view(offers: Offers) -> tuple[str, InlineKeyboardMarkup]:
    """The member's points, the rewards they can afford (a button each), then those they are close to."""
    builder = InlineKeyboardBuilder()
    lines = [_("rewards.title").format(points=number(offers.points))]
    if not offers.affordable and not offers.close:
        lines.append(_("rewards.empty"))
    if offers.affordable:
        lines.append("\n" + _("rewards.affordable"))
    for offer in offers.affordable:
        cost = number(offer.reward.cost)
        lines.append(_("rewards.line_affordable").format(name=offer.reward.name, cost=cost))
        label = _("button.rewards_affordable").format(name=offer.reward.name, cost=cost)
        builder.button(text=label, callback_data=RewardAction(action="show", reward=offer.reward.id))
    if offers.close:
        lines.append("\n" + _("rewards.close"))
    for offer in offers.close:
        missing = number(offer.missing)
        lines.append(_("rewards.line_close").format(name=offer.reward.name, missing=missing))
        label = _("button.rewards_close").format(name=offer.reward.name, missing=missing)
        builder.button(text=label, callback_data=RewardAction(action="show", reward=offer.reward.id))
    builder.button(text=_("button.rewards_vouchers"), callback_data=VoucherAction(action="list"))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def facts_text(reward: Reward) -> str:
    """What a reward's voucher is worth, its cost and its validity."""
    return _("rewards.facts").format(
        worth=worth_text(rewards.worth_of(reward)), cost=number(reward.cost), days=number(reward.validity_days)
    )


def reward_view(offer: Offer) -> tuple[str, InlineKeyboardMarkup]:
    """One reward: what its voucher is worth, its cost and validity; Redeem when affordable, and Back."""
    reward = offer.reward
    facts = facts_text(reward)
    if reward.stock is not None:
        facts += "\n" + _("rewards.stock").format(stock=number(reward.stock))
    parts = [_("rewards.detail_title").format(name=reward.name), reward.description, facts]
    if offer.missing:
        parts.append(_("rewards.missing").format(missing=number(offer.missing)))
    text = "\n\n".join(part for part in parts if part)
    builder = InlineKeyboardBuilder()
    if not offer.missing:
        redeem = _("button.rewards_redeem").format(cost=number(reward.cost))
        builder.button(text=redeem, callback_data=RewardAction(action="ask", reward=reward.id))
    builder.button(text=_("button.rewards_back"), callback_data=RewardAction(action="list"))
    builder.adjust(1)
    return text, builder.as_markup()


def confirm_view(offer: Offer, points: int, seen: int) -> tuple[str, InlineKeyboardMarkup]:
    """Ask before spending the points; Yes carries the ledger entry the question was asked at and the terms quoted."""
    reward = offer.reward
    text = _("rewards.confirm").format(name=reward.name, cost=number(reward.cost), balance=number(points - reward.cost))
    builder = InlineKeyboardBuilder()
    yes = RedeemYes(reward=reward.id, seen=seen, terms=rewards.terms_of(reward).fingerprint)
    builder.button(text=_("button.rewards_yes"), callback_data=yes)
    builder.button(text=_("button.rewards_no"), callback_data=RewardAction(action="show", reward=reward.id))
    return text, builder.as_markup()


def redeem_refusal(error: InsufficientPoints | RewardUnavailable) -> str:
    """Why the redeem was refused (how many points are missing, out of stock…), and that no point was spent."""
    if isinstance(error, InsufficientPoints):
        missing, available = number(error.needed - error.available), number(error.available)
        why = _("rewards.insufficient").format(missing=missing, available=available)
    else:
        why = str(UNAVAILABLE[error.reason])
    return why + "\n" + _("rewards.nothing_taken")


def back_to_rewards() -> InlineKeyboardMarkup:
    """One button back to the rewards list."""
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.rewards_back"), callback_data=RewardAction(action="list"))
    return builder.as_markup()


def vouchers_view(found: vouchers.MemberVouchers, zone: ZoneInfo) -> tuple[str, InlineKeyboardMarkup]:
    """The member's vouchers by status; each active one can be shown again, and cancelled if it was bought."""
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
                lines.append(f"• {voucher.title} · {worth_text(voucher.worth)}")
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
    text = _("rewards.cancel_confirm").format(title=voucher.title, code=voucher.shown_code, points=number(points_back))
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


async def send_voucher(bot: Bot, chat_id: int, club: Club, voucher: VoucherInfo, *lines: str) -> None:
    """The voucher as its holder carries it: the QR, captioned with `voucher_text`, then `lines`, then a hint."""
    caption = "\n\n".join([voucher_text(voucher, club.zone), *lines, _("rewards.show_at_counter")])
    photo = await voucher_photo(bot, club, voucher)
    await bot.send_photo(chat_id, photo, caption=caption, reply_markup=voucher_markup(voucher, club.zone))


async def show(query: CallbackQuery, bot: Bot, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Put a view in place of the pressed message, or in a new one when that is a photo (a voucher)."""
    if isinstance(query.message, Message) and query.message.photo:
        await bot.send_message(query.from_user.id, text, reply_markup=markup)
        return
    await messages.show(query, bot, text, markup)  # type: ignore[arg-type]  # None: no buttons left


async def newest_entry(session: AsyncSession, member_id: int) -> int:
    """The id of the member's newest ledger entry (0 before the first): where their points stand now."""
    entries, _total = await repositories.history_page(session, member_id, 0, 1)
    return entries[0].id if entries else 0


def confirmation_key(member_id: int, reward_id: int, seen: int) -> str:
    """The redeem's idempotency key for a Yes asked when the member's newest ledger entry was `seen`.

    Every press of that one button (a double tap: two updates) gets the same key, so the domain answers the
    first voucher again; once the redeem has written its entry, a new question carries a new `seen`.
    """
    return f"redeem-confirm:{member_id}:{reward_id}:{seen}"


# --- handlers ----------------------------------------------------------------------------------------------------


async def list_rewards(message: Message, session: AsyncSession, member: Member, now: datetime) -> None:
    """/rewards and the menu's Rewards button."""
    text, markup = rewards_view(await rewards.offers(session, member.id, now))
    await message.answer(text, reply_markup=markup)


async def back_to_list(query: CallbackQuery, session: AsyncSession, member: Member, now: datetime, bot: Bot) -> None:
    """The rewards list, in place."""
    await show(query, bot, *rewards_view(await rewards.offers(session, member.id, now)))
    await query.answer()


async def offer_or_list(
    query: CallbackQuery, bot: Bot, session: AsyncSession, member_id: int, reward_id: int, now: datetime
) -> tuple[Offers, Offer] | None:
    """The member's offers and the one for this reward; if they may no longer redeem it, the list and an alert."""
    offers = await rewards.offers(session, member_id, now)
    found = [offer for offer in offers.affordable + offers.close if offer.reward.id == reward_id]
    if not found:
        await show(query, bot, *rewards_view(offers))
        await query.answer(_("rewards.unavailable"), show_alert=True)
        return None
    return offers, found[0]


async def show_reward(
    query: CallbackQuery, callback_data: RewardAction, session: AsyncSession, member: Member, now: datetime, bot: Bot
) -> None:
    """One reward, its photo first when it has one."""
    found = await offer_or_list(query, bot, session, member.id, callback_data.reward, now)
    if found is None:
        return
    text, markup = reward_view(found[1])
    photo = found[1].reward.photo_file_id
    if photo:
        await bot.send_photo(query.from_user.id, photo, caption=found[1].reward.name)
        await bot.send_message(query.from_user.id, text, reply_markup=markup)
    else:
        await show(query, bot, text, markup)
    await query.answer()


async def ask_redeem(
    query: CallbackQuery, callback_data: RewardAction, session: AsyncSession, member: Member, now: datetime, bot: Bot
) -> None:
    """Ask before spending points on the reward (its detail again when points are missing)."""
    found = await offer_or_list(query, bot, session, member.id, callback_data.reward, now)
    if found is None:
        return
    offers, offer = found
    await show(query, bot, *await question_view(session, member.id, offers, offer))
    await query.answer()


async def question_view(
    session: AsyncSession, member_id: int, offers: Offers, offer: Offer
) -> tuple[str, InlineKeyboardMarkup]:
    """The question "Redeem for N points?" with Yes and No; the reward's detail instead when points are missing."""
    if offer.missing:
        return reward_view(offer)
    return confirm_view(offer, offers.points, await newest_entry(session, member_id))


async def ask_again(
    query: CallbackQuery, bot: Bot, session: AsyncSession, member_id: int, reward_id: int, now: datetime
) -> None:
    """The reward changed after the question: say so, show its terms now and ask again (or say what is missing)."""
    found = await offer_or_list(query, bot, session, member_id, reward_id, now)
    if found is None:
        return
    offers, offer = found
    text, markup = await question_view(session, member_id, offers, offer)
    if not offer.missing:
        text = facts_text(offer.reward) + "\n\n" + text
    await show(query, bot, _("rewards.terms_changed") + "\n\n" + text, markup)
    await query.answer()


async def redeem(
    query: CallbackQuery,
    callback_data: RedeemYes,
    session: AsyncSession,
    member: Member,
    club: Club,
    now: datetime,
    event_update: Update,
    bot: Bot,
) -> None:
    """Yes: spend the points and send the voucher; a second press of the same Yes sends nothing new."""
    member_id = member.id  # after a refusal the session's objects are expired
    try:
        redeemed = await rewards.redeem(
            session,
            callback_data.reward,
            member_id=member_id,
            actor_id=query.from_user.id,
            update_id=event_update.update_id,
            now=now,
            key=confirmation_key(member_id, callback_data.reward, callback_data.seen),
            quoted=callback_data.terms,
        )
    except RewardTermsChanged:
        await ask_again(query, bot, session, member_id, callback_data.reward, now)
        return
    except (InsufficientPoints, RewardUnavailable) as error:
        await show(query, bot, redeem_refusal(error), back_to_rewards())
        await query.answer()
        return
    if redeemed.duplicate:
        await query.answer(_("rewards.already_redeemed"), show_alert=True)
        return
    await show(query, bot, _("rewards.redeemed").format(title=redeemed.voucher.title), None)
    balance = _("rewards.balance").format(points=number(redeemed.balance))
    await send_voucher(bot, query.from_user.id, club, redeemed.voucher, balance)
    await query.answer()


async def list_vouchers(message: Message, session: AsyncSession, member: Member, club: Club, now: datetime) -> None:
    """/vouchers: the member's vouchers by status."""
    text, markup = vouchers_view(await vouchers.vouchers_of(session, member.id, now), club.zone)
    await message.answer(text, reply_markup=markup)


async def vouchers_in_place(
    query: CallbackQuery, session: AsyncSession, member: Member, club: Club, now: datetime, bot: Bot
) -> None:
    """The vouchers list, in place (from the rewards list, or No to a cancel)."""
    await show(query, bot, *vouchers_view(await vouchers.vouchers_of(session, member.id, now), club.zone))
    await query.answer()


async def members_voucher(
    query: CallbackQuery, session: AsyncSession, member_id: int, voucher_id: int, now: datetime
) -> VoucherInfo | None:
    """The member's voucher, or None after telling them the button is stale."""
    try:
        return await vouchers.find(session, voucher_id, now, member_id=member_id)
    except VoucherNotFound:
        await query.answer(_("fallback.stale_button"), show_alert=True)
        return None


async def show_voucher(
    query: CallbackQuery,
    callback_data: VoucherAction,
    session: AsyncSession,
    member: Member,
    club: Club,
    now: datetime,
    bot: Bot,
) -> None:
    """An active voucher again: its QR and caption; for one no longer active, since when."""
    voucher = await members_voucher(query, session, member.id, callback_data.voucher, now)
    if voucher is None:
        return
    if voucher.status is not Status.ACTIVE:
        await query.answer(status_text(voucher, club.zone), show_alert=True)
        return
    await send_voucher(bot, query.from_user.id, club, voucher)
    await query.answer()


async def cancellable_voucher(
    query: CallbackQuery, session: AsyncSession, member_id: int, voucher_id: int, now: datetime, zone: ZoneInfo
) -> VoucherInfo | None:
    """The member's voucher if they can cancel it; otherwise None, having told them why not."""
    voucher = await members_voucher(query, session, member_id, voucher_id, now)
    refusal = cancel_refusal(voucher, zone) if voucher is not None else None
    if refusal is not None:
        await query.answer(refusal, show_alert=True)
        return None
    return voucher


async def ask_cancel(
    query: CallbackQuery,
    callback_data: VoucherAction,
    session: AsyncSession,
    member: Member,
    club: Club,
    now: datetime,
    bot: Bot,
) -> None:
    """Ask before cancelling a bought voucher."""
    voucher = await cancellable_voucher(query, session, member.id, callback_data.voucher, now, club.zone)
    if voucher is None:
        return
    await show(query, bot, *cancel_confirm_view(voucher, vouchers.points_back(voucher, member.points_owed)))
    await query.answer()


async def cancel_voucher(
    query: CallbackQuery,
    callback_data: VoucherAction,
    session: AsyncSession,
    member: Member,
    club: Club,
    now: datetime,
    event_update: Update,
    bot: Bot,
) -> None:
    """Yes: cancel the voucher and give its points back; say how many, and the new balance."""
    member_id = member.id  # after a refusal the session's objects are expired
    voucher = await cancellable_voucher(query, session, member_id, callback_data.voucher, now, club.zone)
    if voucher is None:
        return
    try:
        cancelled = await vouchers.cancel(
            session,
            voucher.id,
            member_id=member_id,
            actor_id=query.from_user.id,
            update_id=event_update.update_id,
            now=now,
        )
    except VoucherNotUsable:  # used at the counter since the question was asked
        await cancellable_voucher(query, session, member_id, voucher.id, now, club.zone)
        return
    text = _("rewards.cancelled").format(
        title=cancelled.voucher.title, points=number(cancelled.refunded), balance=number(cancelled.balance)
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.rewards_vouchers"), callback_data=VoucherAction(action="list"))
    await show(query, bot, text, builder.as_markup())
    await query.answer()


def create_router() -> Router:
    """Routes for members' rewards and vouchers; newcomers never reach them."""
    router = Router(name="rewards")
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(list_rewards, Command("rewards"))
    router.message.register(list_rewards, TextIs(keyboards.MENU_REWARDS))
    router.callback_query.register(back_to_list, RewardAction.filter(F.action == "list"))
    router.callback_query.register(show_reward, RewardAction.filter(F.action == "show"))
    router.callback_query.register(ask_redeem, RewardAction.filter(F.action == "ask"))
    router.callback_query.register(redeem, RedeemYes.filter())
    router.message.register(list_vouchers, Command("vouchers"))
    router.callback_query.register(vouchers_in_place, VoucherAction.filter(F.action == "list"))
    router.callback_query.register(show_voucher, VoucherAction.filter(F.action == "show"))
    router.callback_query.register(ask_cancel, VoucherAction.filter(F.action == "ask"))
    router.callback_query.register(cancel_voucher, VoucherAction.filter(F.action == "cancel"))
    return router
