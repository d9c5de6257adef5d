"""The counter: staff record purchases (/earn, or by scanning a member card), look members up, adjust and undo.

`recording` records a purchase (an unusual amount or a walk-in's new phone confirmed first), `lookup` shows a
member (or offers a walk-in's phone) and adjusts points, `undo` reverses a purchase; `common` holds their states and
buttons. Every handler here requires a staff role; for anyone else the filters do not match and the update falls
through to the rest of the bot, so a customer typing /earn gets the unknown-command answer.
"""

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter

from handlers.filters import HAS_TEXT, NOT_COMMAND, HasRole, PayloadStarts, staff_only
from handlers.messages import CARD_PAYLOAD_PREFIX
from handlers.staff.counter.common import Confirm, Counter, CounterAction, PayBy, PurchaseAction
from handlers.staff.counter.lookup import adjust_command, member_command, open_card
from handlers.staff.counter.recording import (
    ask_amount,
    cancel,
    confirmed,
    confirmed_walk_in,
    earn_command,
    got_amount,
    not_confirmed,
    pay_by,
    still_asking,
)
from handlers.staff.counter.undo import ask_undo, manager_undo, quick_undo, recent_purchases, undo_command
from loyalty.staff import Role

__all__ = ["Counter", "create_router"]


def create_router() -> Router:
    """Routes for cashiers, managers and owners."""
    router = staff_only(Router(name="counter"), Role.CASHIER)
    manager = HasRole(Role.MANAGER)
    router.message.register(open_card, CommandStart(deep_link=True), PayloadStarts(CARD_PAYLOAD_PREFIX))
    router.message.register(earn_command, Command("earn"))
    router.message.register(member_command, Command("member"))
    router.message.register(adjust_command, Command("adjust"), manager)
    router.message.register(undo_command, Command("undo"), manager)
    router.callback_query.register(cancel, CounterAction.filter(F.action == "cancel"))
    router.callback_query.register(ask_amount, CounterAction.filter(F.action == "earn"))
    router.callback_query.register(confirmed_walk_in, CounterAction.filter(F.action == "walk_in"))
    router.callback_query.register(pay_by, PayBy.filter())
    router.message.register(got_amount, StateFilter(Counter.amount), HAS_TEXT, NOT_COMMAND)
    router.message.register(still_asking, StateFilter(Counter.confirm), NOT_COMMAND)
    router.callback_query.register(confirmed, Confirm.filter(F.record))
    router.callback_query.register(not_confirmed, Confirm.filter(~F.record))
    router.callback_query.register(quick_undo, PurchaseAction.filter(F.action == "quick"))
    router.callback_query.register(recent_purchases, CounterAction.filter(F.action == "recent"), manager)
    router.callback_query.register(ask_undo, PurchaseAction.filter(F.action == "ask"), manager)
    router.callback_query.register(manager_undo, PurchaseAction.filter(F.action == "undo"), manager)
    return router
