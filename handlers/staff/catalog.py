"""/catalog for managers and owners: the rewards list, a wizard for a new reward, a reward's switch, stock and cost.

Every route here requires the manager role; for anyone else the filters do not match and the update falls
through, so a customer or a cashier typing /catalog gets the unknown-command answer and a forged button the
stale one. Every change is saved by `loyalty.rewards`, which audits it.

The new-reward wizard is declared in one place: its states (`RewardWizard`) and its steps in order
(`REWARD_FLOW`): name → description (or Skip) → kind → amount or percent (not for a free item) → cap (percent
only, or Skip) → cost → validity → stock (or Skip) → per-member limit (or Skip) → photo (or Skip) → summary with
Save / Cancel, with Back on every question after the first and on the summary. The answers are kept as
`RewardAnswers`. A refused answer is explained and the same question asked again; nothing is stored before Save.
The wizard engine and the voucher-worth steps are the shared floor's (`handlers.wizard`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from aiogram import Bot, F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.filters.callback_data import CallbackData
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

from handlers.club import Club, currency
from handlers.filters import HAS_TEXT, NOT_COMMAND, ButtonId, Magic, staff_only
from handlers.keyboards import ChecklistStep
from handlers.messages import show, stale, toast
from handlers.wizard import (
    Flow,
    Refused,
    Step,
    View,
    WorthAnswers,
    keep,
    kept,
    read_days,
    read_name,
    said,
    whole,
    worth_from,
    worth_steps,
)
from loyalty import onboarding, rewards
from loyalty.errors import InvalidReward
from loyalty.rewards import DESCRIPTION_LENGTH, MAX_COST, RewardDraft
from loyalty.staff import Role
from loyalty.stamps import Stamp
from storage.models import Reward
from texts.numbers import number
from texts.plurals import counted, days_text, points_text
from texts.worth import worth_text

MAX_COUNT = 1_000_000  # stock and per-member limit: more is a typing mistake


# Reading a reward's typed answers.


def read_description(text: str) -> str:
    """A reward's description, trimmed."""
    description = text.strip()
    if len(description) > DESCRIPTION_LENGTH:
        raise Refused(_("catalog.description_length").format(high=number(DESCRIPTION_LENGTH)))
    return description


def refuse_text(text: str) -> str:
    """The photo step takes a photo or Skip, not text."""
    raise Refused(_("catalog.photo_please"))


read_cost = whole(1, MAX_COST)
read_count = whole(0, MAX_COUNT)


# The new-reward wizard.


class RewardWizard(StatesGroup):
    """A new reward, one question at a time (see REWARD_FLOW for the order and what may be skipped)."""

    name = State()
    description = State()
    kind = State()
    amount = State()
    percent = State()
    cap = State()
    cost = State()
    validity = State()
    stock = State()
    limit = State()
    photo = State()
    confirm = State()


class RewardAnswers(WorthAnswers):
    """The new reward's answers (see `handlers.wizard.Answers`); the worth's are `WorthAnswers`."""

    name: str = ""
    description: str | None = None
    cost: int = 0
    validity: int = 0
    stock: int | None = None
    limit: int | None = None
    photo: str | None = None


def draft_from(answers: RewardAnswers) -> RewardDraft:
    """The reward the wizard's answers describe."""
    return RewardDraft(
        name=answers.name,
        description=answers.description or "",
        worth=worth_from(answers),
        cost=answers.cost,
        validity_days=answers.validity,
        stock=answers.stock,
        per_member_limit=answers.limit,
        photo_file_id=answers.photo,
    )


async def reward_summary(answers: RewardAnswers, session: AsyncSession) -> str:
    """The new reward as it will be saved."""
    return _("catalog.summary").format(details=details(draft_from(answers), answers.currency))


REWARD_FLOW = Flow(
    name="reward",
    group=RewardWizard,
    answers=RewardAnswers,
    steps=(
        Step(RewardWizard.name, said(__("catalog.ask_name")), read=read_name),
        Step(RewardWizard.description, said(__("catalog.ask_description")), read=read_description, optional=True),
        *worth_steps(RewardWizard.kind, RewardWizard.amount, RewardWizard.percent, RewardWizard.cap),
        Step(RewardWizard.cost, said(__("catalog.ask_cost")), read=read_cost),
        Step(RewardWizard.validity, said(__("catalog.ask_validity")), read=read_days),
        Step(RewardWizard.stock, said(__("catalog.ask_stock")), read=read_count, optional=True),
        Step(RewardWizard.limit, said(__("catalog.ask_limit")), read=whole(1, MAX_COUNT), optional=True),
        Step(RewardWizard.photo, said(__("catalog.ask_photo")), read=refuse_text, optional=True),
    ),
    confirm=RewardWizard.confirm,
    summary=reward_summary,
    confirm_label=__("button.catalog_save"),
    cancelled=__("catalog.cancelled"),
)
PHOTO_STEP = REWARD_FLOW.steps[-1]


# The catalog and a reward.


class RewardEdit(StatesGroup):
    """Waiting for a reward's new stock or cost."""

    value = State()


class RewardEditing(BaseModel):
    """What the stock or cost prompt keeps: the reward and the field whose new value it waits for."""

    reward: int
    field: str


class CatalogAction(CallbackData, prefix="cat"):
    """A button of /catalog: `action` on the reward `reward`, for its `field` (stock or cost)."""

    action: str
    reward: ButtonId = 0
    field: str = ""


@dataclass(frozen=True)
class Edit:
    """A reward setting changed from its view: the question, how the answer is read, the confirmation, the maximum."""

    ask: LazyProxy
    read: Callable[[str], int]
    changed: LazyProxy
    high: int


EDITS = {
    "stock": Edit(__("catalog.ask_new_stock"), read_count, __("catalog.stock_changed"), MAX_COUNT),
    "cost": Edit(__("catalog.ask_new_cost"), read_cost, __("catalog.cost_changed"), MAX_COST),
}


def stock_text(stock: int | None) -> str:
    """Stock left, or unlimited."""
    return _("catalog.unlimited") if stock is None else _("catalog.stock_left").format(count=number(stock))


def status_text(active: bool) -> str:
    """On sale or switched off."""
    return _("catalog.active") if active else _("catalog.inactive")


def details(draft: RewardDraft, currency: str) -> str:
    """Everything set on a reward (an amount off in the unit `currency`)."""
    return counted("catalog.details", draft.cost).format(
        name=draft.name,
        description=draft.description or _("catalog.no_description"),
        worth=worth_text(draft.worth, currency),
        cost=number(draft.cost),
        days=days_text(draft.validity_days),
        stock=stock_text(draft.stock),
        limit=_("catalog.no_limit") if draft.per_member_limit is None else number(draft.per_member_limit),
        photo=_("catalog.photo_yes") if draft.photo_file_id else _("catalog.photo_no"),
    )


def catalog_view(found: list[Reward]) -> View:
    """Every reward with its cost, stock and status, a button each, and New reward."""
    lines = [_("catalog.title").format(count=number(len(found)))] if found else [_("catalog.empty")]
    builder = InlineKeyboardBuilder()
    for reward in found:
        line = counted("catalog.line", reward.cost).format(
            name=reward.name,
            cost=number(reward.cost),
            stock=stock_text(reward.stock),
            status=status_text(reward.active),
        )
        lines.append(line)
        label = ("🟢 " if reward.active else "⚪️ ") + reward.name
        builder.button(text=label, callback_data=CatalogAction(action="open", reward=reward.id))
    builder.button(text=_("button.catalog_new"), callback_data=CatalogAction(action="new"))
    builder.adjust(1)
    return "\n".join(lines), builder.as_markup()


def reward_view(reward: Reward, currency: str) -> View:
    """One reward: its details and status, with switch, stock, cost and back buttons."""
    status = _("catalog.status").format(status=status_text(reward.active))
    text = details(rewards.draft_of(reward), currency) + "\n" + status
    builder = InlineKeyboardBuilder()
    switch = _("button.catalog_off") if reward.active else _("button.catalog_on")
    builder.button(text=switch, callback_data=CatalogAction(action="switch", reward=reward.id))
    builder.button(
        text=_("button.catalog_stock"), callback_data=CatalogAction(action="ask", reward=reward.id, field="stock")
    )
    builder.button(
        text=_("button.catalog_cost"), callback_data=CatalogAction(action="ask", reward=reward.id, field="cost")
    )
    builder.button(text=_("button.catalog_back"), callback_data=CatalogAction(action="list"))
    builder.adjust(1)
    return text, builder.as_markup()


def edit_view(reward: Reward, field: str) -> View:
    """Ask for a reward's new stock or cost, with Unlimited for stock and Cancel."""
    current = stock_text(reward.stock) if field == "stock" else number(reward.cost)
    text = str(EDITS[field].ask).format(name=reward.name, current=current, high=number(EDITS[field].high))
    builder = InlineKeyboardBuilder()
    if field == "stock":
        builder.button(
            text=_("button.catalog_unlimited"), callback_data=CatalogAction(action="unlimited", reward=reward.id)
        )
    builder.button(text=_("button.cancel"), callback_data=CatalogAction(action="back", reward=reward.id))
    builder.adjust(1)
    return text, builder.as_markup()


async def stored(session: AsyncSession, reward_id: int) -> Reward | None:
    """The reward as stored now."""
    return await session.get(Reward, reward_id, populate_existing=True)


class KnownReward(Filter):
    """Passes a catalog button whose reward exists, handing it on as `reward` (else the button is stale)."""

    async def __call__(
        self, query: CallbackQuery, callback_data: CatalogAction, session: AsyncSession
    ) -> bool | dict[str, Reward]:
        reward = await stored(session, callback_data.reward)
        return {"reward": reward} if reward is not None else False


async def change(session: AsyncSession, reward: Reward, stamp: Stamp, **changes: object) -> Reward:
    """Save the reward with some of its settings changed (audited by the domain)."""
    draft = dataclasses.replace(rewards.draft_of(reward), **changes)  # type: ignore[arg-type]
    return await rewards.update_reward(session, reward.id, draft, stamp)


async def show_catalog(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """/catalog: every reward and New reward (ending any unanswered question)."""
    await state.clear()
    text, markup = catalog_view(await rewards.catalog(session))
    await message.answer(text, reply_markup=markup)


async def back_to_catalog(query: CallbackQuery, session: AsyncSession, bot: Bot) -> None:
    """Back to the list from a reward."""
    await show(query, bot, *catalog_view(await rewards.catalog(session)))


async def open_reward(
    query: CallbackQuery, reward: Reward, state: FSMContext, session: AsyncSession, club: Club, bot: Bot
) -> None:
    """One reward's details and buttons (Cancel at a prompt comes back here)."""
    await state.clear()
    await show(query, bot, *reward_view(reward, await currency(session, club)))


async def new_reward(query: CallbackQuery, state: FSMContext, session: AsyncSession, club: Club, bot: Bot) -> None:
    """New reward: the wizard's first question in place of the list."""
    answers = RewardAnswers(currency=await currency(session, club))
    await show(query, bot, *await REWARD_FLOW.begin(state, session, answers))


async def new_from_checklist(query: CallbackQuery, state: FSMContext, session: AsyncSession, bot: Bot) -> None:
    """The owner's checklist (a first reward): the wizard's first question in a new message, the checklist kept."""
    text, markup = await REWARD_FLOW.begin(state, session, RewardAnswers())
    await bot.send_message(query.from_user.id, text, reply_markup=markup)


async def got_photo(message: Message, state: FSMContext, session: AsyncSession) -> None:
    """The reward's photo: its largest size is kept."""
    largest = max(message.photo or [], key=lambda size: size.width * size.height)
    text, markup = await REWARD_FLOW.answer(PHOTO_STEP, state, session, largest.file_id)
    await message.answer(text, reply_markup=markup)


async def save_reward(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Save: the reward goes into the catalog and is shown with its buttons."""
    data = await REWARD_FLOW.claim(state, callback_answer)
    if data is None:
        return
    try:
        reward = await rewards.add_reward(session, draft_from(data), stamp)
    except InvalidReward:  # the steps check every value; only a changed limit in the domain gets here
        stale(callback_answer)
        return
    text, markup = reward_view(reward, data.currency)
    await show(query, bot, _("catalog.saved").format(name=reward.name) + "\n\n" + text, markup)


async def switch(
    query: CallbackQuery,
    reward: Reward,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Switch the reward on or off: members see (and redeem) only rewards that are on."""
    reward = await change(session, reward, stamp, active=not reward.active)
    await show(query, bot, *reward_view(reward, await currency(session, club)))
    toast(callback_answer, _("catalog.switched_on") if reward.active else _("catalog.switched_off"))


async def ask_edit(
    query: CallbackQuery, callback_data: CatalogAction, reward: Reward, state: FSMContext, bot: Bot
) -> None:
    """Change stock or cost: ask for the new value in place of the reward."""
    await keep(state, RewardEdit.value, RewardEditing(reward=reward.id, field=callback_data.field))
    await show(query, bot, *edit_view(reward, callback_data.field))


async def editing(state: FSMContext, session: AsyncSession) -> tuple[Reward, str] | None:
    """The reward and the field whose new value is awaited (None, the prompt ended, if the reward is gone)."""
    awaited = await kept(state, RewardEditing)
    reward = await stored(session, awaited.reward)
    if reward is None or awaited.field not in EDITS:
        await state.clear()
        return None
    return reward, awaited.field


async def save_edit(
    reward: Reward, field: str, value: int | None, session: AsyncSession, club: Club, stamp: Stamp
) -> View:
    """Store the new stock or cost: the confirmation above the reward."""
    reward = await change(session, reward, stamp, **{field: value})
    value_text = stock_text(reward.stock) if field == "stock" else points_text(reward.cost)
    text, markup = reward_view(reward, await currency(session, club))
    return str(EDITS[field].changed).format(name=reward.name, value=value_text) + "\n\n" + text, markup


async def got_edit(message: Message, state: FSMContext, session: AsyncSession, club: Club, stamp: Stamp) -> None:
    """The typed stock or cost: saved and confirmed, or refused and asked for again."""
    awaited = await editing(state, session)
    if awaited is None:
        await message.answer(_("fallback.stale_button"))
        return
    reward, field = awaited
    try:
        value = EDITS[field].read(message.text or "")
    except Refused as refusal:
        text, markup = edit_view(reward, field)
        await message.answer(f"{refusal}\n\n{text}", reply_markup=markup)
        return
    await state.clear()
    text, markup = await save_edit(reward, field, value, session, club, stamp)
    await message.answer(text, reply_markup=markup)


async def unlimited(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Unlimited stock, from the stock prompt."""
    awaited = await editing(state, session)
    if awaited is None or awaited[1] != "stock":
        stale(callback_answer)
        return
    await state.clear()
    await show(query, bot, *await save_edit(*awaited, None, session, club, stamp))


def create_router() -> Router:
    """Routes for managers' and owners' /catalog."""
    router = staff_only(Router(name="catalog"), Role.MANAGER)
    router.message.register(show_catalog, Command("catalog"))
    router.message.register(got_photo, StateFilter(RewardWizard.photo), Magic(F.photo))
    router.message.register(got_edit, StateFilter(RewardEdit.value), HAS_TEXT, NOT_COMMAND)
    REWARD_FLOW.register(router, save_reward)
    known = KnownReward()
    router.callback_query.register(back_to_catalog, CatalogAction.filter(F.action == "list"))
    router.callback_query.register(new_reward, CatalogAction.filter(F.action == "new"))
    router.callback_query.register(new_from_checklist, ChecklistStep.filter(F.step == onboarding.Step.REWARD))
    router.callback_query.register(open_reward, CatalogAction.filter(F.action == "open"), known)
    router.callback_query.register(
        open_reward, CatalogAction.filter(F.action == "back"), StateFilter(RewardEdit.value), known
    )
    router.callback_query.register(switch, CatalogAction.filter(F.action == "switch"), known)
    router.callback_query.register(
        ask_edit, CatalogAction.filter((F.action == "ask") & F.field.in_(list(EDITS))), known
    )
    router.callback_query.register(
        unlimited, CatalogAction.filter(F.action == "unlimited"), StateFilter(RewardEdit.value)
    )
    return router
