"""Recording a purchase: /earn, or the amount typed after opening a member (or a walk-in's phone).

How it was paid is a word typed after the amount (`/earn … card`, '۲۵۰ هزار نسیه') or, at the amount prompt, a
button pressed before typing the amount: one tap, and a purchase typed without it says no method.

An amount far above the shop's usual one (`purchases.unusual`) is confirmed by the cashier before anything is
written, and so is a phone no member has yet (a walk-in customer, `loyalty.walk_ins`), read back to the cashier. A
confirmation records the purchase under the key of the update that typed it, so a second press records nothing
more. The cashier's confirmation of a purchase has an Undo button (`handlers.staff.counter.undo`).
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial

from aiogram import Bot
from aiogram.filters import CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club, currency
from handlers.messages import alert, notice_to_member, notice_to_referrer, problem, show, stale, toast
from handlers.replies import earned_for_member, earned_for_staff
from handlers.staff.counter.common import (
    AmountFor,
    Confirm,
    Counter,
    CounterAction,
    Customer,
    PayBy,
    Pending,
    PurchaseAction,
    Typed,
    amount_buttons,
    customer_name,
    read_words,
    typed_purchase,
)
from handlers.wizard import keep, kept
from loyalty import members, payments, purchases, rules, staff, walk_ins
from loyalty.codes import looks_like_member_code, take_member_reference
from loyalty.errors import CreditOff, LoyaltyError, OwnAccount, UnknownMember
from loyalty.money import parse_amount
from loyalty.outbox import Outgoing, notice_key
from loyalty.phones import normalise_phone
from loyalty.stamps import Stamp
from storage.models import Member
from texts.money import amount_text
from texts.numbers import number, phone_text
from texts.payments import payment_name


async def earn_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    state: FSMContext,
) -> None:
    """/earn <member code or phone> <amount> [receipt] [#category] [payment method]; a phone no member has is
    confirmed first."""
    typed = await read_words(message, command.args or "")
    if typed is None:
        return
    words, category = typed
    reference, rest = take_member_reference(" ".join(words))
    purchase = typed_purchase(rest.split())
    if purchase is None:
        await message.answer(_("counter.earn_usage"))
        return
    try:
        customer = await member_or_new_phone(session, reference)
        pending = pending_purchase(message, stamp, customer, purchase, category, from_prompt=False)
        if isinstance(customer, Member):
            await record_or_ask(message, session, club, stamp, i18n, state, customer, pending)
        else:
            await confirm_walk_in(message, session, club, state, pending)
    except LoyaltyError as error:
        await message.answer(problem(error))


async def member_or_new_phone(session: AsyncSession, reference: str) -> Customer:
    """The member a cashier means, or the phone they typed (E.164) when no member has it yet."""
    try:
        return await members.find(session, reference)
    except UnknownMember:
        if looks_like_member_code(reference):
            raise
        return normalise_phone(reference)


def pending_purchase(
    message: Message, stamp: Stamp, customer: Customer, typed: Typed, category: str | None, from_prompt: bool
) -> Pending:
    """The purchase typed (amount, receipt, payment method, category) for `customer`, under the key of the update
    that typed it."""
    return Pending(
        member=customer.id if isinstance(customer, Member) else 0,
        phone="" if isinstance(customer, Member) else customer,
        amount=parse_amount(typed.amount),
        receipt=typed.receipt,
        category=category,
        payment=typed.payment,
        key=stamp.update_key,
        update_id=stamp.update_id,
        token=message.message_id,
        from_prompt=from_prompt,
    )


async def record_or_ask(
    message: Message,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    state: FSMContext,
    customer: Customer,
    pending: Pending,
) -> None:
    """Record the purchase typed, or first ask the cashier to confirm an unusual amount."""
    if isinstance(customer, Member):
        staff.refuse_own_account(customer, stamp.actor_id, "purchase")
    if pending.payment is not None:  # on credit refused now, not after the unusual amount is confirmed
        payments.check(pending.payment, await rules.current(session, club.rules))
    why = await purchases.unusual(session, club.rules, pending.amount)
    if why is None:
        text, markup = await record(session, club, stamp, i18n, pending)
        await state.clear()
        await message.answer(text, reply_markup=markup)
        return
    await keep(state, Counter.confirm, pending)
    unit = await currency(session, club)
    question = confirm_question(pending.amount, customer, why, unit)
    await message.answer(question, reply_markup=confirm_buttons(pending, unit))


def confirm_question(amount: int, customer: Customer, why: purchases.Unusual, unit: str) -> str:
    """The question before an unusual amount is recorded: the amount, for whom, and why it is asked."""
    return _("counter.confirm_amount").format(
        amount=amount_text(amount, unit), name=customer_name(customer), reason=unusual_reason(why, unit)
    )


def unusual_reason(why: purchases.Unusual, unit: str) -> str:
    """Why an unusual amount is asked about: above the owner's cap, or far above the usual purchase."""
    if why.cap is not None:
        return _("counter.above_cap").format(cap=amount_text(why.cap, unit))
    usual = amount_text(why.usual or 0, unit)
    return _("counter.above_usual").format(times=number(purchases.UNUSUAL_FACTOR), usual=usual)


def confirm_buttons(pending: Pending, unit: str) -> InlineKeyboardMarkup:
    """Yes, record the amount; or cancel."""
    builder = InlineKeyboardBuilder()
    label = _("button.confirm_amount").format(amount=amount_text(pending.amount, unit))
    builder.button(text=label, callback_data=Confirm(record=True, token=pending.token))
    builder.button(text=_("button.cancel"), callback_data=Confirm(record=False, token=pending.token))
    builder.adjust(1)
    return builder.as_markup()


async def record(
    session: AsyncSession, club: Club, stamp: Stamp, i18n: I18n, pending: Pending
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Record a purchase (on a walk-in's phone when it has no member); the cashier's confirmation with its Undo
    button. The member (and a referrer) are told through the outbox."""
    notices = partial(purchase_notices, i18n)
    details = {
        "amount": pending.amount,
        "receipt": pending.receipt,
        "stamp": stamp,
        "category": pending.category,
        "payment": pending.payment,
    }
    if pending.phone:
        earned = await walk_ins.record_walk_in(
            session, club.rules, phone=pending.phone, language=i18n.default_locale, notices=notices, **details
        )
    else:
        earned = await purchases.record_purchase(
            session, club.rules, member_id=pending.member, notices=notices, **details
        )
    if earned.duplicate or earned.purchase.reversed_at is not None:
        return staff_confirmation(earned), None
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.undo"), callback_data=PurchaseAction(action="quick", purchase_id=earned.purchase.id))
    return staff_confirmation(earned), builder.as_markup()


def purchase_notices(i18n: I18n, earned: purchases.Earned) -> list[Outgoing]:
    """The member's notice of a new purchase, and the referrer's when it converted their referral."""
    key = notice_key("purchase", earned.purchase.id)
    notices = notice_to_member(i18n, earned.member, key, lambda: earned_for_member(earned))
    if earned.referral is not None:
        notices += notice_to_referrer(i18n, earned.referral)
    return notices


def staff_confirmation(earned: purchases.Earned) -> str:
    """The cashier's confirmation, with the purchase's category and payment method when it has them."""
    text = earned_for_staff(earned)
    if earned.purchase.category:
        text += "\n" + _("counter.earned_category").format(category=earned.purchase.category)
    if earned.purchase.payment:
        text += "\n" + _("payment.paid").format(method=payment_name(earned.purchase.payment))
    return text


async def waiting(state: FSMContext, asked: str, token: int | None = None) -> Pending | None:
    """The purchase waiting for the confirmation `asked` (a state of `Counter`) under the question `token`, if that
    question is still open."""
    if await state.get_state() != asked:
        return None
    pending = await kept(state, Pending)
    return pending if token is None or pending.token == token else None


async def confirmed(
    query: CallbackQuery,
    callback_data: Confirm,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Yes, record the unusual amount: recorded under the key of the typed message, once however often pressed."""
    pending = await waiting(state, Counter.confirm.state, callback_data.token)
    if pending is None:
        alert(callback_answer, _("counter.confirm_stale"))
        return
    await state.clear()
    try:
        at_typing = replace(stamp, update_key=pending.key, update_id=pending.update_id)
        view = await record(session, club, at_typing, i18n, pending)
    except LoyaltyError as error:
        view = problem(error), None
    await show(query, bot, *view)


async def not_confirmed(
    query: CallbackQuery,
    callback_data: Confirm,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Cancel the unusual amount: nothing written; typed at the amount prompt, the prompt asks again (its payment
    method still chosen)."""
    pending = await waiting(state, Counter.confirm.state, callback_data.token)
    answers = AmountFor(member=pending.member, phone=pending.phone, payment=pending.payment) if pending else None
    customer = await prompted_for(session, answers) if answers else None
    if pending is None or answers is None or customer is None:
        alert(callback_answer, _("counter.confirm_stale"))
        return
    if not pending.from_prompt:
        await state.clear()
        await show(query, bot, _("counter.cancelled"), None)
        return
    await state.set_data({})
    await keep(state, Counter.amount, answers)
    text = _("counter.amount_again").format(name=customer_name(customer))
    await show(query, bot, text, await prompt_buttons(session, club, answers))


async def still_asking(message: Message, state: FSMContext, session: AsyncSession, club: Club) -> None:
    """Something typed while the unusual amount waits for an answer: the question's buttons again."""
    pending = await kept(state, Pending)
    unit = await currency(session, club)
    text = _("counter.confirm_first").format(amount=amount_text(pending.amount, unit))
    await message.answer(text, reply_markup=confirm_buttons(pending, unit))


async def confirm_walk_in(
    message: Message, session: AsyncSession, club: Club, state: FSMContext, pending: Pending
) -> None:
    """Read the new phone back to the cashier (refusing first what would be refused, and saying so when the amount is
    unusual) and ask to confirm it."""
    await walk_ins.check(session, club.rules, pending.amount, pending.receipt, pending.payment)
    await keep(state, Counter.walk_in, pending)
    phone, unit = phone_text(pending.phone), await currency(session, club)
    builder = InlineKeyboardBuilder()
    builder.button(text=_("button.record_walk_in").format(phone=phone), callback_data=CounterAction(action="walk_in"))
    builder.button(text=_("button.cancel"), callback_data=CounterAction(action="cancel"))
    builder.adjust(1)
    text = _("counter.walk_in_confirm").format(phone=phone, amount=amount_text(pending.amount, unit))
    why = await purchases.unusual(session, club.rules, pending.amount)
    if why is not None:
        text += "\n⚠️ " + unusual_reason(why, unit)
    await message.answer(text, reply_markup=builder.as_markup())


async def confirmed_walk_in(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """The cashier confirmed the walk-in's phone: record the purchase under the key of the /earn that typed it."""
    pending = await waiting(state, Counter.walk_in.state)
    if pending is None or not isinstance(query.message, Message):
        stale(callback_answer)
        return
    await state.clear()
    try:
        at_earn = replace(stamp, update_key=pending.key, update_id=pending.update_id)
        text, markup = await record(session, club, at_earn, i18n, pending)
    except LoyaltyError as error:
        text, markup = problem(error), None
    await query.message.answer(text, reply_markup=markup)


async def ask_amount(
    query: CallbackQuery,
    callback_data: CounterAction,
    session: AsyncSession,
    club: Club,
    state: FSMContext,
    callback_answer: CallbackAnswer,
) -> None:
    """The cashier pressed "record purchase" under a member or a walk-in's phone: ask for the amount, with a button
    for each payment method offered."""
    answers = AmountFor(member=callback_data.member_id, phone=callback_data.phone)
    customer = await prompted_for(session, answers)
    if query.message is None or customer is None:
        stale(callback_answer)
        return
    try:
        if isinstance(customer, Member):
            staff.refuse_own_account(customer, query.from_user.id, "purchase")
    except OwnAccount as error:
        alert(callback_answer, problem(error))
        return
    await keep(state, Counter.amount, answers)
    text = _("counter.ask_amount").format(name=customer_name(customer))
    await query.message.answer(text, reply_markup=await prompt_buttons(session, club, answers))


async def prompt_buttons(session: AsyncSession, club: Club, answers: AmountFor) -> InlineKeyboardMarkup:
    """The amount prompt's buttons: the payment methods the rules in force offer (the chosen one marked), Cancel."""
    offered = payments.offered(await rules.current(session, club.rules))
    return amount_buttons(offered, answers.payment)


async def pay_by(
    query: CallbackQuery,
    callback_data: PayBy,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """A payment method pressed at the amount prompt: kept for the amount typed next, and marked on the prompt."""
    answers = await kept(state, AmountFor) if await state.get_state() == Counter.amount.state else None
    customer = await prompted_for(session, answers) if answers else None
    if answers is None or customer is None:
        stale(callback_answer)
        return
    club_rules = await rules.current(session, club.rules)
    try:
        payments.check(callback_data.method, club_rules)
    except CreditOff as error:
        alert(callback_answer, problem(error))
        return
    await keep(state, Counter.amount, answers.model_copy(update={"payment": callback_data.method}))
    text = _("counter.ask_amount").format(name=customer_name(customer))
    await show(query, bot, text, amount_buttons(payments.offered(club_rules), callback_data.method))
    toast(callback_answer, _("payment.chosen").format(method=payment_name(callback_data.method)))


async def got_amount(
    message: Message, state: FSMContext, session: AsyncSession, club: Club, stamp: Stamp, i18n: I18n
) -> None:
    """The amount (and maybe a receipt number, a payment method and a `#category`) for the member or phone the
    prompt is for; without a method typed, the one pressed at the prompt."""
    typed = await read_words(message, message.text or "")
    if typed is None:
        return
    words, category = typed
    answers = await kept(state, AmountFor)
    customer = await prompted_for(session, answers)
    purchase = typed_purchase(words)
    if customer is None or purchase is None:
        await message.answer(_("counter.ask_amount_again"))
        return
    try:
        purchase = purchase._replace(payment=purchase.payment or answers.payment)
        pending = pending_purchase(message, stamp, customer, purchase, category, from_prompt=True)
        await record_or_ask(message, session, club, stamp, i18n, state, customer, pending)
    except LoyaltyError as error:
        await message.answer(problem(error))


async def prompted_for(session: AsyncSession, answers: AmountFor) -> Customer | None:
    """Whom the amount prompt records for: the walk-in's phone, or the member (None if gone)."""
    return answers.phone or (await session.get(Member, answers.member) if answers.member else None)


async def cancel(query: CallbackQuery, state: FSMContext) -> None:
    """Leave the amount prompt, or the walk-in's question."""
    await state.clear()
    if query.message is not None:
        await query.message.answer(_("counter.cancelled"))
