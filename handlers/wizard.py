"""The wizard engine (shared floor of the chat layer): a flow of steps asked one at a time, read, refused with a
reason and asked again, skipped, gone back over, cancelled and confirmed at a summary; the answers each flow keeps,
typed; the readers of typed answers the wizards share, and the voucher-worth steps of /catalog, /gift and /campaign.

A flow's answers are a pydantic model it declares next to its steps (`Answers`), a field per step named as the
step's state: the engine alone reads them from the conversation state and writes them back, as JSON (Redis keeps it
across restarts and instances), so a step's question, condition, buttons and the summary get the model, never a
dict. Answers an older version of the bot kept are read as far as they go (unknown keys are left out); answers this
version cannot read end the wizard politely (`UnreadableAnswers`, answered by `handlers.errors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiogram import Bot, F, Router
from aiogram.filters import Filter, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.i18n.lazy_proxy import LazyProxy
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.filters import HAS_TEXT, NOT_COMMAND
from handlers.messages import problem, show, stale
from loyalty.errors import InvalidAmount, InvalidNumber
from loyalty.money import parse_amount
from loyalty.numerals import parse_bounded
from loyalty.rewards import MAX_VALIDITY_DAYS, NAME_LENGTH
from loyalty.rules import DEFAULT_CURRENCY
from loyalty.vouchers import Kind, Worth
from texts.numbers import number

View = tuple[str, InlineKeyboardMarkup]
PERCENT_SIGNS = "%٪"
KINDS = {
    Kind.FIXED: __("button.worth_fixed"),
    Kind.PERCENT: __("button.worth_percent"),
    Kind.ITEM: __("button.worth_item"),
}


# What a wizard or a prompt keeps between updates.


class UnreadableAnswers(Exception):
    """Answers kept in the conversation state that this version cannot read (kept by an older one before an
    upgrade, or not this wizard's): the wizard ends, and the user is asked to start again."""


class Answers(BaseModel):
    """A wizard's answers so far; each flow declares its own, a field per step named as the step's state (written
    there, validated: a number's button gives a number, a kind's its Kind), beside what it knew beforehand.

    A field is at its default until its step is answered: "" or 0 for a step that must be answered, None for one
    that may be skipped. `asked` is the steps answered, in order, which Back walks back over; `confirmed_by` the
    update of the summary's first confirmation (`first_press`).
    """

    model_config = ConfigDict(validate_assignment=True)

    asked: list[str] = []
    confirmed_by: str | None = None

    def give(self, key: str, value: object) -> None:
        """Keep `value` as the answer to the step `key`."""
        setattr(self, key, value)
        self.asked.append(key)

    def take_back(self) -> str:
        """Forget the last answer (its field back to its default); the key of its step, to be asked again."""
        key = self.asked.pop()
        setattr(self, key, type(self).model_fields[key].get_default(call_default_factory=True))
        return key

    @property
    def can_go_back(self) -> bool:
        """Back is offered after a first answer, but not at a summary whose confirmation failed midway: pressed
        again, Confirm finishes what the first press began, which changed answers would no longer describe."""
        return bool(self.asked) and self.confirmed_by is None


A = TypeVar("A", bound=Answers)
M = TypeVar("M", bound=BaseModel)


async def kept(state: FSMContext, model: type[M]) -> M:
    """The answers of a wizard or prompt kept in the conversation state, or UnreadableAnswers."""
    try:
        return model.model_validate(await state.get_data())
    except ValidationError as error:
        raise UnreadableAnswers(model.__name__) from error


async def keep(state: FSMContext, waiting: State, answers: BaseModel) -> None:
    """Wait in `waiting`, keeping `answers` (as JSON, beside anything else the conversation keeps)."""
    await state.set_state(waiting)
    await state.update_data(answers.model_dump(mode="json"))


def key_of(state: State | str | None) -> str:
    """A state's own name (a step's key, or `confirm` for a summary)."""
    raw = state.state if isinstance(state, State) else state
    return str(raw).rpartition(":")[2]


# The wizard engine: a flow of steps, each a state of one StatesGroup.


class Refused(Exception):
    """A typed answer a step cannot take; the text says why, in the reply's language."""


def always(answers: Answers) -> bool:
    """Every step applies unless it says otherwise."""
    return True


def answered(key: str, *values: str) -> Callable[[Answers], bool]:
    """The step applies when the answer to the step `key` is one of `values`."""
    return lambda answers: getattr(answers, key) in values


def said(text: LazyProxy) -> Callable[[Answers], str]:
    """A question that does not depend on earlier answers."""
    return lambda answers: str(text)


@dataclass(frozen=True)
class Step(Generic[A]):
    """One question: the state waiting for it, how it is asked, and how the answer is read (kept in the answers'
    field named as the state).

    `read` turns a typed answer into the value or raises Refused; `choices` offers buttons instead (value, label);
    `optional` adds Skip (the value is None); `when` leaves the step out after some earlier answers.
    """

    state: State
    ask: Callable[[A], str]
    read: Callable[[str], object] | None = None
    choices: Callable[[A], list[tuple[str, str]]] | None = None
    optional: bool = False
    when: Callable[[A], bool] = always

    @property
    def key(self) -> str:
        """The state's own name, the answers' field the answer is kept in."""
        return key_of(self.state)


class WizardAction(CallbackData, prefix="wiz"):
    """A wizard's button: `action` (choose, skip, back, cancel, confirm) in the wizard `flow`, at `step` (Back: the
    step or summary it was shown under), with `value`."""

    flow: str
    action: str
    step: str = ""
    value: str = ""


@dataclass(frozen=True)
class Flow(Generic[A]):
    """A wizard: its name on buttons, its states, its answers' model, its steps in order, and the summary confirmed
    in `confirm`."""

    name: str
    group: type[StatesGroup]
    answers: type[A]
    steps: tuple[Step[A], ...]
    confirm: State
    summary: Callable[[A, AsyncSession], Awaitable[str]]
    confirm_label: LazyProxy
    cancelled: LazyProxy

    def __post_init__(self) -> None:
        """Refuse, at import, a step whose answer the answers' model has no field for."""
        unkept = [step.key for step in self.steps if step.key not in self.answers.model_fields]
        if unkept:
            raise TypeError(f"{self.answers.__name__} keeps no answer to the steps {unkept}")

    def step_at(self, raw_state: str | None) -> Step[A] | None:
        """The step waiting in `raw_state`, if it is one of this flow's."""
        return next((step for step in self.steps if step.state.state == raw_state), None)

    def step_named(self, key: str) -> Step[A]:
        """The step whose answer is kept under `key`."""
        return next(step for step in self.steps if step.key == key)

    async def read(self, state: FSMContext) -> A:
        """The answers so far, or UnreadableAnswers (kept by another version, or naming a step this flow lacks)."""
        answers = await kept(state, self.answers)
        if not {step.key for step in self.steps}.issuperset(answers.asked):
            raise UnreadableAnswers(self.name)
        return answers

    def action(self, action: str, step: str = "", value: str = "") -> str:
        """A button's data in this wizard."""
        return WizardAction(flow=self.name, action=action, step=step, value=value).pack()

    def leaving(self, at: str, answers: A) -> list[InlineKeyboardButton]:
        """Back (when it may go back) and Cancel, under the question or summary `at`."""
        back = InlineKeyboardButton(text=_("button.back"), callback_data=self.action("back", at))
        cancel = InlineKeyboardButton(text=_("button.cancel"), callback_data=self.action("cancel"))
        return [back, cancel] if answers.can_go_back else [cancel]

    def keyboard(self, step: Step[A], answers: A) -> InlineKeyboardMarkup:
        """The step's choices, Skip when it is optional, then Back and Cancel."""
        builder = InlineKeyboardBuilder()
        for value, label in step.choices(answers) if step.choices else []:
            builder.button(text=label, callback_data=self.action("choose", step.key, value))
        if step.optional:
            builder.button(text=_("button.skip"), callback_data=self.action("skip", step.key))
        builder.adjust(1)
        builder.row(*self.leaving(step.key, answers))
        return builder.as_markup()

    def confirm_keyboard(self, answers: A) -> InlineKeyboardMarkup:
        """Confirm above Back and Cancel, under the summary."""
        confirm = InlineKeyboardButton(text=str(self.confirm_label), callback_data=self.action("confirm"))
        return InlineKeyboardMarkup(inline_keyboard=[[confirm], self.leaving(key_of(self.confirm), answers)])

    async def question(self, step: Step[A], answers: A, session: AsyncSession) -> View:
        """A step's question and its buttons."""
        return step.ask(answers), self.keyboard(step, answers)

    async def begin(self, state: FSMContext, session: AsyncSession, answers: A) -> View:
        """Start the wizard with what it knows beforehand in `answers`: the first question."""
        await state.set_data(answers.model_dump(mode="json"))
        return await self.next_view(state, session, answers, None)

    async def next_view(self, state: FSMContext, session: AsyncSession, answers: A, after: Step[A] | None) -> View:
        """The first step after `after` that applies (waiting for it), or the summary when none is left."""
        start = 0 if after is None else self.steps.index(after) + 1
        for step in self.steps[start:]:
            if step.when(answers):
                await keep(state, step.state, answers)
                return await self.question(step, answers, session)
        await keep(state, self.confirm, answers)
        return await self.summary(answers, session), self.confirm_keyboard(answers)

    async def answer(self, step: Step[A], state: FSMContext, session: AsyncSession, value: object) -> View:
        """Keep the step's answer and move on."""
        answers = await self.read(state)
        answers.give(step.key, value)
        return await self.next_view(state, session, answers, step)

    async def again(self, refusal: str, state: FSMContext, session: AsyncSession, raw_state: str | None) -> View:
        """Why the answer was refused, and the same question (or the summary) again."""
        answers, step = await self.read(state), self.step_at(raw_state)
        if step is None:
            return refusal + "\n\n" + await self.summary(answers, session), self.confirm_keyboard(answers)
        return refusal + "\n\n" + step.ask(answers), self.keyboard(step, answers)

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
        step: Step[A],
        state: FSMContext,
        session: AsyncSession,
        bot: Bot,
    ) -> None:
        """A choice or Skip of the waiting step: kept, and the next question in place of this one."""
        value = callback_data.value if callback_data.action == "choose" else None
        await show(query, bot, *await self.answer(step, state, session, value))

    async def back(self, query: CallbackQuery, answers: A, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
        """Back: the step answered last is asked again (its answer forgotten) in place of this question or summary;
        a step left out by its `when` was never answered, so Back passes over it."""
        step = self.step_named(answers.take_back())
        await keep(state, step.state, answers)
        await show(query, bot, *await self.question(step, answers, session))

    async def claim(self, state: FSMContext, callback_answer: CallbackAnswer) -> A | None:
        """The answers of the wizard waiting at its summary, ending it; None if it is not waiting (a second press,
        answered as a stale button)."""
        if await state.get_state() != self.confirm.state:
            stale(callback_answer)
            return None
        answers = await self.read(state)
        await state.clear()
        return answers

    async def restore(self, state: FSMContext, answers: A) -> None:
        """Put the claimed answers back at the summary (after a confirmation that failed): Confirm works again."""
        await keep(state, self.confirm, answers)

    async def cancel(self, query: CallbackQuery, state: FSMContext, bot: Bot) -> None:
        """Leave the wizard; nothing was stored."""
        await state.clear()
        await show(query, bot, str(self.cancelled), InlineKeyboardMarkup(inline_keyboard=[]))

    def register(self, router: Router, confirmed: Callable[..., Awaitable[None]], *allowed: Filter) -> None:
        """Route the flow's typed answers, choices, Skip, Back, Cancel and the summary's `confirmed` handler.

        Steps read in a handler of their own (a photo, a member looked up) register it before this.
        """
        buttons = WizardAction.filter((F.flow == self.name) & F.action.in_({"choose", "skip"}))
        back = WizardAction.filter((F.flow == self.name) & (F.action == "back"))
        cancel = WizardAction.filter((F.flow == self.name) & (F.action == "cancel"))
        confirm = WizardAction.filter((F.flow == self.name) & (F.action == "confirm"))
        router.message.register(self.typed, StateFilter(self.group), HAS_TEXT, NOT_COMMAND, *allowed)
        router.callback_query.register(self.pressed, buttons, AtStep(self), *allowed)
        router.callback_query.register(self.back, back, Waiting(self), *allowed)
        router.callback_query.register(self.cancel, cancel, StateFilter(self.group), *allowed)
        router.callback_query.register(confirmed, confirm, StateFilter(self.confirm), *allowed)


def first_press(answers: Answers, update_key: str) -> str:
    """The update key (`bot.middlewares.update_key`) of the summary's first confirmation, kept with the answers: a
    confirmation that failed and is pressed again (its answers restored by `Flow.restore`) makes its key from the
    same update, so it finds what the first press made instead of making it twice."""
    if answers.confirmed_by is None:
        answers.confirmed_by = update_key
    return answers.confirmed_by


class AtStep(Filter):
    """Passes a wizard's choice or Skip only for the step waiting now (an older question's button is stale)."""

    def __init__(self, flow: Flow[A]) -> None:
        self.flow = flow

    async def __call__(
        self, query: CallbackQuery, callback_data: WizardAction, state: FSMContext, raw_state: str | None
    ) -> bool | dict[str, Step[A]]:
        step = self.flow.step_at(raw_state)
        if step is None or step.key != callback_data.step:
            return False
        if callback_data.action == "skip":
            return {"step": step} if step.optional else False
        choices = step.choices(await self.flow.read(state)) if step.choices else []
        return {"step": step} if callback_data.value in dict(choices) else False


class Waiting(Filter):
    """Passes a wizard's Back only under the question or summary waiting now, when it may go back, handing on the
    answers (Back on an older message is stale)."""

    def __init__(self, flow: Flow[A]) -> None:
        self.flow = flow

    async def __call__(
        self, query: CallbackQuery, callback_data: WizardAction, state: FSMContext, raw_state: str | None
    ) -> bool | dict[str, Answers]:
        waiting = self.flow.step_at(raw_state) is not None or raw_state == self.flow.confirm.state
        if not waiting or key_of(raw_state) != callback_data.step:
            return False
        answers = await self.flow.read(state)
        return {"answers": answers} if answers.can_go_back else False


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


class WorthAnswers(Answers):
    """The answers of the voucher-worth steps (`worth_steps`), part of a flow's answers, after the unit amounts are
    shown in (the rules' `currency`, known beforehand; the default for a flow begun by a version that did not
    keep it)."""

    currency: str = DEFAULT_CURRENCY
    kind: Kind | None = None
    amount: int | None = None
    percent: int | None = None
    cap: int | None = None


def kind_is(*kinds: Kind) -> Callable[[WorthAnswers], bool]:
    """The step applies when the kind chosen is one of `kinds`."""
    return lambda answers: answers.kind in kinds


def kind_choices(answers: WorthAnswers) -> list[tuple[str, str]]:
    """Amount off, percent off, free item."""
    return [(choice.value, str(label)) for choice, label in KINDS.items()]


def worth_steps(kind: State, amount: State, percent: State, cap: State) -> tuple[Step[WorthAnswers], ...]:
    """Kind (buttons), then the amount off or the percentage off, then a percentage's cap (or Skip)."""
    return (
        Step(kind, said(__("worth.ask_kind")), choices=kind_choices),
        Step(amount, said(__("worth.ask_amount")), read=read_amount, when=kind_is(Kind.FIXED)),
        Step(percent, said(__("worth.ask_percent")), read=whole(1, 100, "percent"), when=kind_is(Kind.PERCENT)),
        Step(cap, said(__("worth.ask_cap")), read=read_amount, optional=True, when=kind_is(Kind.PERCENT)),
    )


def worth_from(answers: WorthAnswers) -> Worth:
    """The worth the wizard's answers describe."""
    if answers.kind is Kind.FIXED:
        return Worth(Kind.FIXED, answers.amount)
    if answers.kind is Kind.PERCENT:
        return Worth(Kind.PERCENT, answers.percent, answers.cap)
    return Worth(Kind.ITEM)
