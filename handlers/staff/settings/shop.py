"""The shop's profile in /settings: what customers see with /shop, one field at a time.

The section shows every field (set or not) with a button each → a field's button asks for its new value in place of
the section (with Remove for a field that is set, and Cancel) → the answer is stored (`loyalty.shop.set_field`,
validated and audited) and the section comes back with a confirmation; a refused value is explained and asked for
again. Most fields are typed; the logo is sent as a photo and the location as a map pin (📎 → Location), or typed
as coordinates or a map link that shows them.
"""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.lazy_proxy import LazyProxy
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.messages import show, stale, toast
from handlers.staff.settings.views import SettingsAction, ShopAction
from handlers.wizard import View, keep, kept
from loyalty import shop
from loyalty.errors import InvalidShop
from loyalty.shop import Shop
from loyalty.stamps import Stamp
from texts.numbers import number
from texts.shop import LABELS, value_text

QUESTIONS = {
    "name": __("shop.ask_name"),
    "description": __("shop.ask_description"),
    "address": __("shop.ask_address"),
    "hours": __("shop.ask_hours"),
    "phone": __("shop.ask_phone"),
    "location": __("shop.ask_location"),
    "instagram": __("shop.ask_instagram"),
    "website": __("shop.ask_website"),
    "logo": __("shop.ask_logo"),
}
SENT_AS = {"logo": "photo", "location": "location"}  # fields sent as something else than text
HOW_TO_ANSWER = {"photo": __("shop.send_photo"), "location": __("shop.send_location"), "text": __("shop.type_text")}
SAVED, REMOVED = __("shop.saved"), __("shop.removed")
REFUSALS = {
    "string_too_short": __("shop.empty"),
    "phone": __("shop.bad_phone"),
    "instagram": __("shop.bad_instagram"),
    "website": __("shop.bad_website"),
}


class ShopEdit(StatesGroup):
    """Waiting for the new value of the field the owner picked."""

    value = State()


class ShopEditing(BaseModel):
    """What the prompt keeps: the field whose new value it waits for."""

    field: str


def shop_view(profile: Shop) -> View:
    """Every field of the profile, set or not, with a button for each and one back to the rules."""
    lines = [f"{label}: {value_text(profile, field) or _('shop.not_set')}" for field, label in LABELS.items()]
    builder = InlineKeyboardBuilder()
    for field, label in LABELS.items():
        builder.button(text=str(label), callback_data=ShopAction(action="ask", field=field))
    builder.button(text=_("button.settings_back"), callback_data=SettingsAction(action="menu"))
    builder.adjust(2, 2, 2, 2, 1)  # the fields two by two, the logo and Back each on a row of its own
    return _("shop.settings").format(fields="\n".join(lines)), builder.as_markup()


def prompt_view(profile: Shop, field: str) -> View:
    """Ask for a field's new value, showing the one set (and Remove when there is one)."""
    current = value_text(profile, field)
    text = str(QUESTIONS[field]) + ("\n\n" + _("shop.now").format(value=current) if current else "")
    builder = InlineKeyboardBuilder()
    if current:
        builder.button(text=_("button.shop_clear"), callback_data=ShopAction(action="clear", field=field))
    builder.button(text=_("button.cancel"), callback_data=ShopAction(action="cancel"))
    builder.adjust(1)
    return text, builder.as_markup()


def answer_of(message: Message, field: str) -> object | None:
    """The value a message gives the field (a photo's largest size for the logo, a map pin or typed coordinates for
    the location, typed text for the others), or None when it is not that kind of answer."""
    kind = SENT_AS.get(field, "text")
    if kind == "photo":
        largest = max(message.photo or [], key=lambda size: size.width * size.height, default=None)
        return largest.file_id if largest else None
    if kind == "location":
        pin = message.location
        return {"latitude": pin.latitude, "longitude": pin.longitude} if pin else shop.read_location(message.text or "")
    return message.text


def refusal(error: InvalidShop) -> str:
    """Why a value was refused, and what would do."""
    if error.reason == "string_too_long":
        return _("shop.too_long").format(high=number(longest(error.field)))
    return str(REFUSALS.get(error.reason, __("shop.bad_value")))


def longest(field: str) -> int:
    """The most characters the field takes, read from the profile's own constraints."""
    lengths = [getattr(item, "max_length", None) for item in Shop.model_fields[field].metadata]
    return next(int(length) for length in lengths if length is not None)


def changed_view(changed: shop.Changed, field: str, confirmation: LazyProxy) -> View:
    """The section after a change, under its confirmation (SAVED or REMOVED)."""
    text, markup = shop_view(changed.after)
    return str(confirmation).format(field=LABELS[field]) + "\n\n" + text, markup


async def show_shop(query: CallbackQuery, session: AsyncSession, bot: Bot) -> None:
    """The section, from the rules' menu."""
    await show(query, bot, *shop_view(await shop.current(session)))


async def ask_field(
    query: CallbackQuery, callback_data: ShopAction, state: FSMContext, session: AsyncSession, bot: Bot
) -> None:
    """A field's button: ask for its new value in place of the section."""
    await keep(state, ShopEdit.value, ShopEditing(field=callback_data.field))
    await show(query, bot, *prompt_view(await shop.current(session), callback_data.field))


async def got_answer(message: Message, state: FSMContext, session: AsyncSession, stamp: Stamp) -> None:
    """The new value: stored and confirmed with the section, or refused (nothing stored) and asked for again."""
    field = (await kept(state, ShopEditing)).field
    value = answer_of(message, field)
    if value is None:
        await message.answer(str(HOW_TO_ANSWER[SENT_AS.get(field, "text")]))
        return
    try:
        changed = await shop.set_field(session, field, value, stamp)
    except InvalidShop as error:
        await message.answer(refusal(error))
        return
    await state.clear()
    text, markup = changed_view(changed, field, SAVED)
    await message.answer(text, reply_markup=markup)


async def clear_field(
    query: CallbackQuery,
    callback_data: ShopAction,
    state: FSMContext,
    session: AsyncSession,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Remove at the prompt: the field is cleared, and confirmed with the section (another prompt's is stale)."""
    if (await kept(state, ShopEditing)).field != callback_data.field:
        stale(callback_answer)
        return
    changed = await shop.set_field(session, callback_data.field, None, stamp)
    await state.clear()
    await show(query, bot, *changed_view(changed, callback_data.field, REMOVED))


async def cancel(
    query: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot, callback_answer: CallbackAnswer
) -> None:
    """Leave the prompt: the section comes back unchanged (a prompt already answered or left is stale)."""
    if await state.get_state() != ShopEdit.value.state:
        stale(callback_answer)
        return
    await state.clear()
    await show(query, bot, *shop_view(await shop.current(session)))
    toast(callback_answer, _("settings.cancelled"))


def register(router: Router) -> None:
    """The section's routes, on the owners' /settings router."""
    router.message.register(got_answer, StateFilter(ShopEdit.value))
    router.callback_query.register(show_shop, ShopAction.filter(F.action == "menu"))
    router.callback_query.register(ask_field, ShopAction.filter((F.action == "ask") & F.field.in_(list(LABELS))))
    router.callback_query.register(clear_field, ShopAction.filter(F.action == "clear"), StateFilter(ShopEdit.value))
    router.callback_query.register(cancel, ShopAction.filter(F.action == "cancel"))
