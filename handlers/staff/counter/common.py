"""What the counter's handlers share: their states, buttons and kept answers, and how a typed purchase is read
(its amount, receipt, `#category` and payment method, `loyalty.payments`)."""

from __future__ import annotations

from typing import NamedTuple

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import BaseModel

from handlers.filters import ButtonId
from handlers.replies import member_name
from loyalty.audiences import CATEGORY_LENGTH
from loyalty.money import amount_words
from loyalty.payments import Payment, payment_of
from loyalty.text_keys import text_key
from storage.models import Member
from texts.numbers import number, phone_text
from texts.payments import payment_name

CATEGORY_MARK = "#"

Customer = Member | str
"""Whom a purchase is for: a member, or the phone (E.164) of a walk-in customer no member has yet."""


class Counter(StatesGroup):
    """Recording a purchase for a member opened from their card (or a walk-in's phone), confirming an unusual amount,
    and confirming a walk-in's phone typed with /earn."""

    amount = State()
    confirm = State()
    walk_in = State()


class CounterAction(CallbackData, prefix="ctr"):
    """A button on the staff's view of a member (or of a phone no member has yet)."""

    action: str
    member_id: ButtonId = 0
    phone: str = ""


class Confirm(CallbackData, prefix="ctrok"):
    """The cashier's answer to "record this unusual amount?": `token` names the question (the typed message)."""

    record: bool
    token: ButtonId


class PurchaseAction(CallbackData, prefix="ctrp"):
    """A button on one purchase: the cashier's quick undo, a manager's undo (asked, then done), or the list."""

    action: str
    purchase_id: ButtonId


class PayBy(CallbackData, prefix="ctrpay"):
    """A payment method pressed at the amount prompt, for the amount typed next."""

    method: Payment


class AmountFor(BaseModel):
    """What the amount prompt keeps: the member whose purchase it records, or the phone of a walk-in customer, and
    the payment method pressed (None: not said)."""

    member: int = 0
    phone: str = ""
    payment: Payment | None = None


class Pending(BaseModel):
    """A purchase waiting for the cashier's confirmation (an unusual amount, or a walk-in's new phone), and the update
    that typed it: its key is the purchase's key once confirmed, so a second confirmation finds it."""

    member: int = 0
    phone: str = ""  # a walk-in customer's phone (E.164) when `member` is 0
    amount: int
    receipt: str | None
    category: str | None
    payment: Payment | None = None
    key: str
    update_id: int | None = None
    token: int = 0  # the typed message's id, on the buttons: the buttons of an older question are stale
    from_prompt: bool = False  # typed at the amount prompt, which Cancel goes back to


class BadCategory(ValueError):
    """A `#category` the counter cannot record: `#` alone, too long, or more than one."""


def customer_name(customer: Customer) -> str:
    """The name staff know a customer by: the member's, or a walk-in's phone."""
    return member_name(customer) if isinstance(customer, Member) else phone_text(customer)


def take_category(text: str) -> tuple[list[str], str | None]:
    """The words typed without their `#category`, and that category as its key (`loyalty.text_keys`)."""
    words = text.split()
    tags = [word.removeprefix(CATEGORY_MARK) for word in words if word.startswith(CATEGORY_MARK)]
    if not tags:
        return words, None
    category = text_key(tags[0])
    if len(tags) > 1 or not 0 < len(category) <= CATEGORY_LENGTH or CATEGORY_MARK in category:
        raise BadCategory(text)
    return [word for word in words if not word.startswith(CATEGORY_MARK)], category


class Typed(NamedTuple):
    """A purchase as the cashier typed it: the amount's words, the receipt number, the payment method."""

    amount: str
    receipt: str | None
    payment: Payment | None


def typed_purchase(words: list[str]) -> Typed | None:
    """The amount as typed (maybe several words: '۲۵۰ هزار تومان'), then in any order the receipt number and a
    payment method's word ('card', 'نسیه'), each if any; None when there is no amount, two methods, or another
    word follows them."""
    length = amount_words(words)
    amount, rest = " ".join(words[:length]), words[length:]
    named = [index for index, word in enumerate(rest) if payment_of(word) is not None]
    payment = payment_of(rest.pop(named[0])) if len(named) == 1 else None
    if not amount or len(rest) > 1 or len(named) > 1:
        return None
    return Typed(amount, rest[0] if rest else None, payment)


async def read_words(message: Message, text: str) -> tuple[list[str], str | None] | None:
    """The words and `#category` the cashier typed; None once a bad category has been explained."""
    try:
        return take_category(text)
    except BadCategory:
        await message.answer(_("counter.category_invalid").format(length=number(CATEGORY_LENGTH)))
        return None


def amount_buttons(methods: tuple[Payment, ...], chosen: Payment | None = None) -> InlineKeyboardMarkup:
    """Under the amount prompt: the payment `methods` offered (the `chosen` one marked), and leave the prompt."""
    builder = InlineKeyboardBuilder()
    for method in methods:
        label = payment_name(method)
        builder.button(text="✅ " + label if method is chosen else label, callback_data=PayBy(method=method))
    builder.button(text=_("button.cancel"), callback_data=CounterAction(action="cancel"))
    builder.adjust(len(methods) or 1, 1)
    return builder.as_markup()
