"""The wizard engine (shared floor of the chat layer): a flow of steps asked one at a time, read, refused with a
reason and asked again, skipped, cancelled and confirmed at a summary; the readers of typed answers the wizards
share, and the voucher-worth steps of /catalog, /gift and /campaign.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, F, Router
from aiogram.filters import Filter, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.lazy_proxy import LazyProxy
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import HAS_TEXT, NOT_COMMAND
from handlers.messages import problem, show
from handlers.replies import number
from loyalty.errors import InvalidAmount, InvalidNumber
from loyalty.money import parse_amount
from loyalty.numerals import parse_bounded
from loyalty.rewards import MAX_VALIDITY_DAYS, NAME_LENGTH
from loyalty.vouchers import Kind, Worth

Data = dict[str, Any]
View = tuple[str, InlineKeyboardMarkup]
PERCENT_SIGNS = "%٪"
KINDS = {
    Kind.FIXED: __("button.worth_fixed"),
    Kind.PERCENT: __("button.worth_percent"),
    Kind.ITEM: __("button.worth_item"),
}


# The wizard engine: a flow of steps, each a state of one StatesGroup.


class Refused(Exception):
    """A typed answer a step cannot take; the text says why, in the reply's language."""


def always(data: Data) -> bool:
    """Every step applies unless it says otherwise."""
    return True


def answered(key: str, *values: str) -> Callable[[Data], bool]:
    """The step applies when the answer kept under `key` is one of `values`."""
    return lambda data: data.get(key) in values


def said(text: LazyProxy) -> Callable[[Data], str]:
    """A question that does not depend on earlier answers."""
    return lambda data: str(text)


@dataclass(frozen=True)
class Step:
    """One question: the state waiting for it, how it is asked, and how the answer is read (stored by state name).

    `read` turns a typed answer into the value or raises Refused; `choices` offers buttons instead (value, label);
    `optional` adds Skip (the value is None); `when` leaves the step out after some earlier answers.
    """

    state: State
    ask: Callable[[Data], str]
    read: Callable[[str], object] | None = None
    choices: Callable[[Data], list[tuple[str, str]]] | None = None
    optional: bool = False
    when: Callable[[Data], bool] = always

    @property
    def key(self) -> str:
        """The state's own name, under which the answer is kept."""
        return str(self.state.state).rpartition(":")[2]


class WizardAction(CallbackData, prefix="wiz"):
    """A wizard's button: `action` (choose, skip, cancel, confirm) in the wizard `flow`, at `step`, with `value`."""

    flow: str
    action: str
    step: str = ""
    value: str = ""


@dataclass(frozen=True)
class Flow:
    """A wizard: its name on buttons, its states, its steps in order, and the summary confirmed in `confirm`."""

    name: str
    group: type[StatesGroup]
    steps: tuple[Step, ...]
    confirm: State
    summary: Callable[[Data, AsyncSession], Awaitable[str]]
    confirm_label: LazyProxy
    cancelled: LazyProxy

    def step_at(self, raw_state: str | None) -> Step | None:
        """The step waiting in `raw_state`, if it is one of this flow's."""
        return next((step for step in self.steps if step.state.state == raw_state), None)

    def keyboard(self, step: Step, data: Data) -> InlineKeyboardMarkup:
        """The step's choices, Skip when it is optional, and Cancel."""
        builder = InlineKeyboardBuilder()
        for value, label in step.choices(data) if step.choices else []:
            builder.button(
                text=label, callback_data=WizardAction(flow=self.name, action="choose", step=step.key, value=value)
            )
        if step.optional:
            builder.button(
                text=_("button.skip"), callback_data=WizardAction(flow=self.name, action="skip", step=step.key)
            )
        builder.button(text=_("button.cancel"), callback_data=WizardAction(flow=self.name, action="cancel"))
        builder.adjust(1)
        return builder.as_markup()

    def confirm_keyboard(self) -> InlineKeyboardMarkup:
        """Confirm and Cancel under the summary."""
        builder = InlineKeyboardBuilder()
        builder.button(text=str(self.confirm_label), callback_data=WizardAction(flow=self.name, action="confirm"))
        builder.button(text=_("button.cancel"), callback_data=WizardAction(flow=self.name, action="cancel"))
        return builder.as_markup()

    async def begin(self, state: FSMContext, session: AsyncSession, data: Data) -> View:
        """Start the wizard with `data` known beforehand: the first question."""
        await state.set_data(data)
        return await self.next_view(state, session, None)

    async def next_view(self, state: FSMContext, session: AsyncSession, after: Step | None) -> View:
        """The first step after `after` that applies (its state set), or the summary when none is left."""
        data = await state.get_data()
        start = 0 if after is None else self.steps.index(after) + 1
        for step in self.steps[start:]:
            if step.when(data):
                await state.set_state(step.state)
                return step.ask(data), self.keyboard(step, data)
        await state.set_state(self.confirm)
        return await self.summary(data, session), self.confirm_keyboard()

    async def answer(self, step: Step, state: FSMContext, session: AsyncSession, value: object) -> View:
        """Keep the step's answer and move on."""
        await state.update_data({step.key: value})
        return await self.next_view(state, session, step)

    async def again(self, refusal: str, state: FSMContext, session: AsyncSession, raw_state: str | None) -> View:
        """Why the answer was refused, and the same question (or the summary) again."""
        data, step = await state.get_data(), self.step_at(raw_state)
        if step is None:
            return refusal + "\n\n" + await self.summary(data, session), self.confirm_keyboard()
        return refusal + "\n\n" + step.ask(data), self.keyboard(step, data)

    async def typed(self, message: Message, state: FSMContext, session: AsyncSession, raw_state: str | None) -> None:
        """A typed answer: kept and the next question asked, or refused and the same question asked again."""
        step = self.step_at(raw_state)
        try:
            if step is None or step.read is None:
                raise Refused(_("wizard.use_buttons"))
            value = step.read(message.text or "")
        except Refused as refusal:
            text, markup = await self.again(str(refusal), state, session, raw_state)
            await message.answer(text, reply_markup=markup)
            return
        text, markup = await self.answer(step, state, session, value)
        await message.answer(text, reply_markup=markup)

    async def pressed(
        self,
        query: CallbackQuery,
        callback_data: WizardAction,
        step: Step,
        state: FSMContext,
        session: AsyncSession,
        bot: Bot,
    ) -> None:
        """A choice or Skip of the waiting step: kept, and the next question in place of this one."""
        value = callback_data.value if callback_data.action == "choose" else None
        await show(query, bot, *await self.answer(step, state, session, value))
        await query.answer()

    async def claim(self, state: FSMContext, query: CallbackQuery) -> Data | None:
        """The answers of the wizard waiting at its summary, ending it; None if it is not waiting (a second press,
        answered as a stale button)."""
        if await state.get_state() != self.confirm.state:
            await query.answer(_("fallback.stale_button"), show_alert=True)
            return None
        data = await state.get_data()
        await state.clear()
        return data

    async def restore(self, state: FSMContext, data: Data) -> None:
        """Put the claimed answers back at the summary (after a confirmation that failed): Confirm works again."""
        await state.set_state(self.confirm)
        await state.set_data(data)

    async def cancel(self, query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
        """Leave the wizard; nothing was stored."""
        await state.clear()
        await show(query, bot, str(self.cancelled), InlineKeyboardMarkup(inline_keyboard=[]))
        await query.answer()

    def register(self, router: Router, confirmed: Callable[..., Awaitable[None]], *allowed: Filter) -> None:
        """Route the flow's typed answers, choices, Skip, Cancel and the summary's `confirmed` handler.

        Steps read in a handler of their own (a photo, a member looked up) register it before this.
        """
        buttons = WizardAction.filter((F.flow == self.name) & F.action.in_({"choose", "skip"}))
        cancel = WizardAction.filter((F.flow == self.name) & (F.action == "cancel"))
        confirm = WizardAction.filter((F.flow == self.name) & (F.action == "confirm"))
        router.message.register(self.typed, StateFilter(self.group), HAS_TEXT, NOT_COMMAND, *allowed)
        router.callback_query.register(self.pressed, buttons, AtStep(self), *allowed)
        router.callback_query.register(self.cancel, cancel, StateFilter(self.group), *allowed)
        router.callback_query.register(confirmed, confirm, StateFilter(self.confirm), *allowed)


CONFIRMED_KEY = "confirmed_by"  # the answers' key of the update of the summary's first confirmation


def first_press(data: Data, update_key: str) -> str:
    """The update key (`bot.middlewares.update_key`) of the summary's first confirmation, kept with the answers: a
    confirmation that failed and is pressed again (its answers restored by `Flow.restore`) makes its key from the
    same update, so it finds what the first press made instead of making it twice."""
    return str(data.setdefault(CONFIRMED_KEY, update_key))


class AtStep(Filter):
    """Passes a wizard's choice or Skip only for the step waiting now (an older question's button is stale)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    async def __call__(
        self, query: CallbackQuery, callback_data: WizardAction, state: FSMContext, raw_state: str | None
    ) -> bool | dict[str, Step]:
        step = self.flow.step_at(raw_state)
        if step is None or step.key != callback_data.step:
            return False
        if callback_data.action == "skip":
            return {"step": step} if step.optional else False
        choices = step.choices(await state.get_data()) if step.choices else []
        return {"step": step} if callback_data.value in dict(choices) else False


# Reading typed answers.


def typed_number(text: str, field: str, low: int, high: int) -> int:
    """A whole number from `low` to `high` typed in any digits, with thousands separators (and a % for a
    multiplier); else InvalidNumber."""
    if field == "percent":
        text = text.strip().strip(PERCENT_SIGNS)
    return parse_bounded(text, low, high)


def whole(low: int, high: int, field: str = "") -> Callable[[str], int]:
    """A reader of whole numbers from `low` to `high`, typed in any digits with separators (a percent with %)."""

    def read(text: str) -> int:
        try:
            return typed_number(text, field, low, high)
        except InvalidNumber as error:
            if error.reason == "not_a_number":
                raise Refused(_("wizard.not_a_number")) from None
            raise Refused(_("wizard.out_of_range").format(low=number(low), high=number(high))) from None

    return read


def read_amount(text: str) -> int:
    """An amount of money, as the counter reads it."""
    try:
        return parse_amount(text)
    except InvalidAmount as error:
        raise Refused(problem(error)) from None


def read_name(text: str) -> str:
    """A reward's name, spaces folded."""
    name = " ".join(text.split())
    if not 0 < len(name) <= NAME_LENGTH:
        raise Refused(_("catalog.name_length").format(high=number(NAME_LENGTH)))
    return name


read_days = whole(1, MAX_VALIDITY_DAYS)


# What a voucher is worth: the same steps for a reward and a gift.


def kind_is(*kinds: Kind) -> Callable[[Data], bool]:
    """The step applies when the kind chosen is one of `kinds`."""
    return lambda data: data.get("kind") in kinds


def kind_choices(data: Data) -> list[tuple[str, str]]:
    """Amount off, percent off, free item."""
    return [(choice.value, str(label)) for choice, label in KINDS.items()]


def worth_steps(kind: State, amount: State, percent: State, cap: State) -> tuple[Step, ...]:
    """Kind (buttons), then the amount off or the percentage off, then a percentage's cap (or Skip)."""
    return (
        Step(kind, said(__("worth.ask_kind")), choices=kind_choices),
        Step(amount, said(__("worth.ask_amount")), read=read_amount, when=kind_is(Kind.FIXED)),
        Step(percent, said(__("worth.ask_percent")), read=whole(1, 100, "percent"), when=kind_is(Kind.PERCENT)),
        Step(cap, said(__("worth.ask_cap")), read=read_amount, optional=True, when=kind_is(Kind.PERCENT)),
    )


def worth_from(data: Data) -> Worth:
    """The worth the wizard's answers describe."""
    kind = Kind(data["kind"])
    if kind is Kind.FIXED:
        return Worth(kind, data.get("amount"))
    if kind is Kind.PERCENT:
        return Worth(kind, data.get("percent"), data.get("cap"))
    return Worth(kind)


def worth_text(worth: Worth) -> str:
    """What a voucher gives, in the reply's language."""
    if worth.kind is Kind.FIXED:
        return _("worth.fixed").format(amount=number(worth.value or 0))
    if worth.kind is Kind.PERCENT and worth.cap is not None:
        return _("worth.percent_capped").format(percent=number(worth.value or 0), cap=number(worth.cap))
    if worth.kind is Kind.PERCENT:
        return _("worth.percent").format(percent=number(worth.value or 0))
    return _("worth.item")
