"""What a member sees of their club account: balance, history, member card, invite link, rewards."""

from __future__ import annotations

from math import ceil
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import keyboards
from handlers.club import Club
from handlers.filters import IsMember, TextIs
from handlers.messages import CARD_PAYLOAD_PREFIX, deep_link, qr_png
from handlers.replies import balance_text, card_caption, history_text, invite_text
from loyalty import ledger, referrals, shop
from storage import repositories
from storage.models import Member
from storage.repositories import NextExpiry

HISTORY_PAGE_SIZE = 5
SHARE_HOST = "t.me"  # Telegram: https://t.me/share/url?url=…&text=…
SHARE_PATH = "/share/url"


async def show_balance(message: Message, member: Member, next_expiry: NextExpiry | None, club: Club) -> None:
    """Points, tier and what expires first (read with the member, `bot.middlewares.MemberMiddleware`)."""
    summary = ledger.summary(member, next_expiry)
    await message.answer(balance_text(member, summary, club.zone), reply_markup=keyboards.main_menu())


async def _history_page(session: AsyncSession, member: Member, page: int, club: Club) -> tuple[str, object]:
    """The text and buttons of one history page."""
    entries, total = await repositories.history_page(session, member.id, page, HISTORY_PAGE_SIZE)
    pages = max(1, ceil(total / HISTORY_PAGE_SIZE))
    return history_text(entries, page, pages, club.zone), keyboards.history_pages(page, pages)


async def show_history(message: Message, session: AsyncSession, member: Member, club: Club) -> None:
    """The first page of the member's transactions."""
    text, markup = await _history_page(session, member, 0, club)
    await message.answer(text, reply_markup=markup)


async def turn_history_page(
    query: CallbackQuery,
    callback_data: keyboards.HistoryPage,
    session: AsyncSession,
    member: Member,
    club: Club,
) -> None:
    """Newer or older entries, in place."""
    text, markup = await _history_page(session, member, max(0, callback_data.page), club)
    if query.message is not None:
        await query.message.edit_text(text, reply_markup=markup)


async def show_card(message: Message, bot: Bot, session: AsyncSession, member: Member, club: Club) -> None:
    """The member card: a QR the cashier scans, and the code they can type, under the shop's name; a button opens it
    in the Mini App when there is one."""
    link = await deep_link(bot, club, CARD_PAYLOAD_PREFIX + member.code)
    photo = BufferedInputFile(qr_png(link), filename=f"card-{member.code}.png")
    caption = card_caption(member, (await shop.current(session)).name)
    await message.answer_photo(photo, caption=caption, reply_markup=keyboards.open_app(club.webapp_url))


async def show_invite(message: Message, bot: Bot, session: AsyncSession, member: Member, club: Club) -> None:
    """The member's personal invite link as text and QR, a share button where the messenger has one, and results."""
    link = await deep_link(bot, club, referrals.payload_for(member.code))
    results = await referrals.my_results(session, member.id)
    photo = BufferedInputFile(qr_png(link), filename=f"invite-{member.code}.png")
    await message.answer_photo(photo, caption=invite_text(link, results), reply_markup=share_button(link))


def share_button(link: str) -> InlineKeyboardMarkup | None:
    """A button opening Telegram's share page with the link and a ready-made message; None off Telegram.

    The share page picks the chats and sends the message in one go, which a copy_text button (text to the
    clipboard, Telegram only as well) cannot; other messengers (Bale…) have no known share page, so there the
    member forwards the invite or copies the link from it.
    """
    parts = urlsplit(link)
    if parts.hostname != SHARE_HOST:
        return None
    query = urlencode({"url": link, "text": _("referral.share_text")}, quote_via=quote)
    share = urlunsplit((parts.scheme, parts.netloc, SHARE_PATH, query, ""))
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=_("button.referral_share"), url=share)]])


def create_router() -> Router:
    """Routes for members' own account; newcomers never reach them."""
    router = Router(name="account")
    router.message.filter(IsMember())
    router.callback_query.filter(IsMember())
    router.message.register(show_balance, Command("balance"))
    router.message.register(show_balance, TextIs(keyboards.MENU_BALANCE))
    router.message.register(show_history, Command("history"))
    router.callback_query.register(turn_history_page, keyboards.HistoryPage.filter())
    router.message.register(show_card, Command("card"))
    router.message.register(show_card, TextIs(keyboards.MENU_CARD))
    router.message.register(show_invite, Command("invite"))
    router.message.register(show_invite, TextIs(keyboards.MENU_INVITE))
    return router
