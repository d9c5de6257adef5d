"""The /rewards and /vouchers routes: browse, redeem with an idempotent Yes, show and cancel one's vouchers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import keyboards
from handlers.club import Club, currency
from handlers.customer.rewards.views import (
    RedeemYes,
    RewardAction,
    VoucherAction,
    back_to_rewards,
    cancel_confirm_view,
    cancel_refusal,
    confirm_view,
    facts_text,
    redeem_refusal,
    reward_view,
    rewards_view,
    status_text,
    voucher_markup,
    voucher_photo,
    voucher_text,
    vouchers_view,
)
from handlers.filters import IsMember, TextIs
from handlers.messages import alert, show, stale
from loyalty import rewards, vouchers
from loyalty.errors import (
    InsufficientPoints,
    RewardTermsChanged,
    RewardUnavailable,
    VoucherNotFound,
    VoucherNotUsable,
)
from loyalty.rewards import Offer, Offers
from loyalty.stamps import Stamp
from loyalty.vouchers import Status, VoucherInfo
from storage.models import Member
from texts.numbers import number
from texts.plurals import counted, points_text


async def send_voucher(bot: Bot, chat_id: int, club: Club, currency: str, voucher: VoucherInfo, *lines: str) -> None:
    """The voucher as its holder carries it: the QR, captioned with `voucher_text`, then `lines`, then a hint."""
    caption = "\n\n".join([voucher_text(voucher, club.zone, currency), *lines, _("rewards.show_at_counter")])
    photo = await voucher_photo(bot, club, voucher)
    await bot.send_photo(chat_id, photo, caption=caption, reply_markup=voucher_markup(voucher, club.zone))


# --- handlers ----------------------------------------------------------------------------------------------------


async def list_rewards(message: Message, session: AsyncSession, member: Member, now: datetime) -> None:
    """/rewards and the menu's Rewards button."""
    text, markup = rewards_view(await rewards.offers(session, member.id, now))
    await message.answer(text, reply_markup=markup)


async def back_to_list(query: CallbackQuery, session: AsyncSession, member: Member, now: datetime, bot: Bot) -> None:
    """The rewards list, in place."""
    await show(query, bot, *rewards_view(await rewards.offers(session, member.id, now)))


async def offer_or_list(
    query: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    member_id: int,
    reward_id: int,
    now: datetime,
    callback_answer: CallbackAnswer,
) -> tuple[Offers, Offer] | None:
    """The member's offers and the one for this reward; if they may no longer redeem it, the list and an alert."""
    offers = await rewards.offers(session, member_id, now)
    found = [offer for offer in offers.affordable + offers.close if offer.reward.id == reward_id]
    if not found:
        await show(query, bot, *rewards_view(offers))
        alert(callback_answer, _("rewards.unavailable"))
        return None
    return offers, found[0]


async def show_reward(
    query: CallbackQuery,
    callback_data: RewardAction,
    session: AsyncSession,
    member: Member,
    club: Club,
    now: datetime,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """One reward, its photo first when it has one."""
    found = await offer_or_list(
        query, bot, session, member.id, callback_data.reward, now, callback_answer=callback_answer
    )
    if found is None:
        return
    text, markup = reward_view(found[1], await currency(session, club))
    photo = found[1].reward.photo_file_id
    if photo:
        await bot.send_photo(query.from_user.id, photo, caption=found[1].reward.name)
        await bot.send_message(query.from_user.id, text, reply_markup=markup)
    else:
        await show(query, bot, text, markup)


async def ask_redeem(
    query: CallbackQuery,
    callback_data: RewardAction,
    session: AsyncSession,
    member: Member,
    club: Club,
    now: datetime,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Ask before spending points on the reward (its detail again when points are missing)."""
    found = await offer_or_list(
        query, bot, session, member.id, callback_data.reward, now, callback_answer=callback_answer
    )
    if found is None:
        return
    offers, offer = found
    await show(query, bot, *await question_view(session, member.id, offers, offer, await currency(session, club)))


async def question_view(
    session: AsyncSession, member_id: int, offers: Offers, offer: Offer, unit: str
) -> tuple[str, InlineKeyboardMarkup]:
    """The question "Redeem for N points?" with Yes and No; the reward's detail instead when points are missing."""
    if offer.missing:
        return reward_view(offer, unit)
    return confirm_view(offer, offers.points, await rewards.newest_entry(session, member_id))


async def ask_again(
    query: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    member_id: int,
    reward_id: int,
    now: datetime,
    unit: str,
    callback_answer: CallbackAnswer,
) -> None:
    """The reward changed after the question: say so, show its terms now and ask again (or say what is missing)."""
    found = await offer_or_list(query, bot, session, member_id, reward_id, now, callback_answer=callback_answer)
    if found is None:
        return
    offers, offer = found
    text, markup = await question_view(session, member_id, offers, offer, unit)
    if not offer.missing:
        text = facts_text(offer.reward, unit) + "\n\n" + text
    await show(query, bot, _("rewards.terms_changed") + "\n\n" + text, markup)


async def redeem(
    query: CallbackQuery,
    callback_data: RedeemYes,
    session: AsyncSession,
    member: Member,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Yes: spend the points and send the voucher; a second press of the same Yes sends nothing new."""
    member_id = member.id  # after a refusal the session's objects are expired
    try:
        redeemed = await rewards.redeem(
            session,
            callback_data.reward,
            stamp,
            member_id=member_id,
            key=rewards.confirmation_key(member_id, callback_data.reward, callback_data.seen),
            quoted=callback_data.terms,
        )
    except RewardTermsChanged:
        unit = await currency(session, club)
        await ask_again(query, bot, session, member_id, callback_data.reward, stamp.at, unit, callback_answer)
        return
    except (InsufficientPoints, RewardUnavailable) as error:
        await show(query, bot, redeem_refusal(error), back_to_rewards())
        return
    if redeemed.duplicate:
        alert(callback_answer, _("rewards.already_redeemed"))
        return
    await show(query, bot, _("rewards.redeemed").format(title=redeemed.voucher.title), None)
    balance = counted("rewards.balance", redeemed.balance).format(points=number(redeemed.balance))
    await send_voucher(bot, query.from_user.id, club, await currency(session, club), redeemed.voucher, balance)


async def list_vouchers(message: Message, session: AsyncSession, member: Member, club: Club, now: datetime) -> None:
    """/vouchers: the member's vouchers by status."""
    found = await vouchers.vouchers_of(session, member.id, now)
    text, markup = vouchers_view(found, club.zone, await currency(session, club))
    await message.answer(text, reply_markup=markup)


async def vouchers_in_place(
    query: CallbackQuery, session: AsyncSession, member: Member, club: Club, now: datetime, bot: Bot
) -> None:
    """The vouchers list, in place (from the rewards list, or No to a cancel)."""
    found = await vouchers.vouchers_of(session, member.id, now)
    await show(query, bot, *vouchers_view(found, club.zone, await currency(session, club)))


async def members_voucher(
    query: CallbackQuery,
    session: AsyncSession,
    member_id: int,
    voucher_id: int,
    now: datetime,
    callback_answer: CallbackAnswer,
) -> VoucherInfo | None:
    """The member's voucher, or None after telling them the button is stale."""
    try:
        return await vouchers.find(session, voucher_id, now, member_id=member_id)
    except VoucherNotFound:
        stale(callback_answer)
        return None


async def show_voucher(
    query: CallbackQuery,
    callback_data: VoucherAction,
    session: AsyncSession,
    member: Member,
    club: Club,
    now: datetime,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """An active voucher again: its QR and caption; for one no longer active, since when."""
    voucher = await members_voucher(
        query, session, member.id, callback_data.voucher, now, callback_answer=callback_answer
    )
    if voucher is None:
        return
    if voucher.status is not Status.ACTIVE:
        alert(callback_answer, status_text(voucher, club.zone))
        return
    await send_voucher(bot, query.from_user.id, club, await currency(session, club), voucher)


async def cancellable_voucher(
    query: CallbackQuery,
    session: AsyncSession,
    member_id: int,
    voucher_id: int,
    now: datetime,
    zone: ZoneInfo,
    callback_answer: CallbackAnswer,
) -> VoucherInfo | None:
    """The member's voucher if they can cancel it; otherwise None, having told them why not."""
    voucher = await members_voucher(query, session, member_id, voucher_id, now, callback_answer=callback_answer)
    refusal = cancel_refusal(voucher, zone) if voucher is not None else None
    if refusal is not None:
        alert(callback_answer, refusal)
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
    callback_answer: CallbackAnswer,
) -> None:
    """Ask before cancelling a bought voucher."""
    voucher = await cancellable_voucher(
        query, session, member.id, callback_data.voucher, now, club.zone, callback_answer=callback_answer
    )
    if voucher is None:
        return
    await show(query, bot, *cancel_confirm_view(voucher, vouchers.points_back(voucher, member.points_owed)))


async def cancel_voucher(
    query: CallbackQuery,
    callback_data: VoucherAction,
    session: AsyncSession,
    member: Member,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Yes: cancel the voucher and give its points back; say how many, and the new balance."""
    member_id = member.id  # after a refusal the session's objects are expired
    voucher = await cancellable_voucher(
        query, session, member_id, callback_data.voucher, stamp.at, club.zone, callback_answer=callback_answer
    )
    if voucher is None:
        return
    try:
        cancelled = await vouchers.cancel(
            session,
            voucher.id,
            stamp,
            member_id=member_id,
        )
    except VoucherNotUsable:  # used at the counter since the question was asked
        await cancellable_voucher(
            query, session, member_id, voucher.id, stamp.at, club.zone, callback_answer=callback_answer
        )
        return
    text = counted("rewards.cancelled", cancelled.refunded).format(
        title=cancelled.voucher.title, points=number(cancelled.refunded), balance=points_text(cancelled.balance)
    )
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.rewards_vouchers"), callback_data=VoucherAction(action="list"))
    await show(query, bot, text, builder.as_markup())


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
