"""/shop and the menu's Shop button, for anyone (members or not): the shop's profile as the owner set it in /settings.

What is set, and only that: the name and description, address, opening hours and phone in words (under the logo
when there is one), Instagram and the website as link buttons, then the location as a map pin; a polite word while
nothing is set yet.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers import keyboards
from handlers.filters import TextIs
from loyalty import outbox, shop
from loyalty.shop import Shop
from storage.models import Member
from texts.shop import LABELS, value_text

DETAILS = ("address", "hours", "phone")  # shown with their labels, under the name and description


def profile_text(profile: Shop) -> str:
    """The name (or a plain title) and description, then each detail that is set, on its own line."""
    title = _("shop.title").format(name=profile.name) if profile.name else _("shop.about")
    head = [title, *([profile.description] if profile.description else [])]
    details = [f"{LABELS[field]}: {value_text(profile, field)}" for field in DETAILS if getattr(profile, field)]
    return "\n\n".join(["\n".join(head), *(["\n".join(details)] if details else [])])


def link_buttons(profile: Shop) -> InlineKeyboardMarkup | None:
    """A button for each link that is set (none: no keyboard)."""
    links = {"instagram": profile.instagram_url, "website": profile.website}
    builder = InlineKeyboardBuilder()
    for field, url in links.items():
        if url:
            builder.button(text=str(LABELS[field]), url=url)
    return builder.as_markup() if links["instagram"] or links["website"] else None


async def show_shop(message: Message, session: AsyncSession, member: Member | None) -> None:
    """The shop's profile: its words (as the logo's caption when there is a logo), links, then its map pin."""
    profile = await shop.current(session)
    if profile.is_empty:
        await message.answer(_("shop.nothing_yet"), reply_markup=keyboards.main_menu() if member else None)
        return
    text, markup = profile_text(profile), link_buttons(profile)
    if profile.logo:
        caption = outbox.Message(text, profile.logo).limited().text
        await message.answer_photo(profile.logo, caption=caption, reply_markup=markup)
    else:
        await message.answer(text, reply_markup=markup)
    await send_pin(message, profile)


async def send_pin(message: Message, profile: Shop) -> None:
    """The location as a map pin, named with the shop's name and address when both are set."""
    pin = profile.location
    if pin is None:
        return
    if profile.name and profile.address:
        await message.answer_venue(pin.latitude, pin.longitude, title=profile.name, address=profile.address)
        return
    await message.answer_location(pin.latitude, pin.longitude)


def create_router() -> Router:
    """Routes of the shop's profile, for everyone (before joining's, which answers newcomers' every message)."""
    router = Router(name="shop")
    router.message.register(show_shop, Command("shop"))
    router.message.register(show_shop, TextIs(keyboards.MENU_SHOP))
    return router
