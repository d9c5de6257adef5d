"""What a member sees of their club account: balance, history, member card, invite link, rewards."""

from __future__ import annotations

import io
from datetime import datetime
from math import ceil

import segno
from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import keyboards
from handlers.club import Club
from handlers.filters import IsMember, TextIs
from handlers.replies import balance_text, card_caption, history_text
from loyalty import ledger
from storage import repositories
from storage.models import Member

HISTORY_PAGE_SIZE = 5
CARD_PAYLOAD_PREFIX = "card_"
INVITE_PAYLOAD_PREFIX = "ref_"


async def show_balance(message: Message, session: AsyncSession, member: Member, now: datetime, club: Club) -> None:
    """Points, tier and what expires first."""
    summary = await ledger.balance(session, member, now)
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
    await query.answer()


async def deep_link(bot: Bot, club: Club, payload: str) -> str:
    """A link that opens this bot with a /start payload, on whichever messenger it runs."""
    me = await bot.me()
    return f"{club.deep_link_url}/{me.username}?start={payload}"


def qr_png(link: str) -> bytes:
    """A QR code of `link` as PNG bytes."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()


async def show_card(message: Message, bot: Bot, member: Member, club: Club) -> None:
    """The member card: a QR the cashier scans, and the code they can type."""
    link = await deep_link(bot, club, CARD_PAYLOAD_PREFIX + member.code)
    photo = BufferedInputFile(qr_png(link), filename=f"card-{member.code}.png")
    await message.answer_photo(photo, caption=card_caption(member))


async def show_invite(message: Message, bot: Bot, member: Member, club: Club) -> None:
    """The member's personal invite link."""
    link = await deep_link(bot, club, INVITE_PAYLOAD_PREFIX + member.code)
    await message.answer(_("invite.link").format(link=link), disable_web_page_preview=True)


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
