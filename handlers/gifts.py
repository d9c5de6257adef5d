"""/gift for managers and owners: gift vouchers (بن خرید) to one member, a tier or every member, with a message.

Every route here requires the manager role; for anyone else the filters do not match and the update falls
through, so a customer or a cashier typing /gift gets the unknown-command answer.

The wizard is declared in one place, `GiftWizard` (its states) and `GIFT_FLOW` (its steps in order): audience
(one member → their code or phone; a tier → the club's tiers; all members) → kind → amount or percent → cap
(percent only, or Skip) → validity in days → the message to the members → summary with the audience's size →
Give / Cancel. The worth steps are the catalog's (`handlers.catalog.worth_steps`); the vouchers' title is the
message's first line. Give issues the vouchers through `loyalty.gifts.give` under the callback's update id; a
second press finds nothing waiting.

Members are then told: one member at once; an audience by `deliver`, a background task paced under the
messenger's broadcast limit. INTERIM: `deliver` is the stand-in until the broadcast outbox (issue #6) replaces
it; it does not survive a restart (the vouchers are issued all the same, and members see them in their list).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from handlers.catalog import (
    Data,
    Flow,
    Refused,
    Step,
    read_days,
    said,
    worth_from,
    worth_steps,
    worth_text,
)
from handlers.club import Club
from handlers.counter import problem
from handlers.filters import HAS_TEXT, NOT_COMMAND, HasRole
from handlers.replies import language, number, tier_name
from handlers.staff import show
from loyalty import gifts, members, rules
from loyalty.calendar import format_date
from loyalty.codes import grouped
from loyalty.errors import InvalidReward, LoyaltyError, UnknownMember
from loyalty.gifts import Audience, GiftDraft
from loyalty.numerals import local_digits
from loyalty.rewards import DESCRIPTION_LENGTH, NAME_LENGTH
from loyalty.staff import Role
from loyalty.vouchers import VoucherInfo
from storage.database import session_factory
from storage.models import Member

logger = logging.getLogger(__name__)

AUDIENCES = {"member": __("button.gift_member"), "tier": __("button.gift_tier"), "all": __("button.gift_all")}
TIERS_KEY, MEMBER_NAME_KEY = "tiers", "member_name"


class GiftWizard(StatesGroup):
    """A gift, one question at a time (see GIFT_FLOW for the order and what is asked when)."""

    audience = State()
    member = State()
    tier = State()
    kind = State()
    amount = State()
    percent = State()
    cap = State()
    validity = State()
    message = State()
    confirm = State()


def audience_is(kind: str) -> Callable[[Data], bool]:
    """The step applies to gifts for this kind of audience."""
    return lambda data: data.get("audience") == kind


def read_message(text: str) -> str:
    """The message to the members, trimmed."""
    message = text.strip()
    if not 0 < len(message) <= DESCRIPTION_LENGTH:
        raise Refused(_("gifts.message_length").format(high=number(DESCRIPTION_LENGTH)))
    return message


def audience_of(data: Data) -> Audience:
    """Who the wizard's answers give to."""
    if data.get("audience") == "member":
        return Audience(member_id=data["member"])
    return Audience(tier=data["tier"]) if data.get("audience") == "tier" else Audience()


def title_of(message: str) -> str:
    """The vouchers' title: the message's first line, shortened to fit."""
    first = " ".join(message.splitlines()[0].split())
    return first if len(first) <= NAME_LENGTH else first[: NAME_LENGTH - 1] + "…"


def draft_of(data: Data) -> GiftDraft:
    """The gift the wizard's answers describe."""
    return GiftDraft(title=title_of(data["message"]), worth=worth_from(data), validity_days=data["validity"])


async def audience_size(session: AsyncSession, audience: Audience) -> int:
    """How many members the gift reaches now."""
    return int(await session.scalar(select(func.count()).select_from(Member).where(*audience.conditions())) or 0)


async def gift_summary(data: Data, session: AsyncSession) -> str:
    """The gift as it will be given, with how many members it reaches."""
    audience = audience_of(data)
    who = {
        "member": lambda: data.get(MEMBER_NAME_KEY, ""),
        "tier": lambda: _("gifts.to_tier").format(tier=tier_name(data["tier"])),
        "all": lambda: _("gifts.to_all"),
    }[audience.kind]()
    return _("gifts.summary").format(
        audience=who,
        count=number(await audience_size(session, audience)),
        worth=worth_text(worth_from(data)),
        days=number(data["validity"]),
        message=data["message"],
    )


GIFT_FLOW = Flow(
    name="gift",
    group=GiftWizard,
    steps=(
        Step(
            GiftWizard.audience,
            said(__("gifts.ask_audience")),
            choices=lambda data: [(kind, str(label)) for kind, label in AUDIENCES.items()],
        ),
        Step(GiftWizard.member, said(__("gifts.ask_member")), when=audience_is("member")),  # typed: `got_member`
        Step(
            GiftWizard.tier,
            said(__("gifts.ask_tier")),
            choices=lambda data: [(tier, tier_name(tier)) for tier in data[TIERS_KEY]],
            when=audience_is("tier"),
        ),
        *worth_steps(GiftWizard.kind, GiftWizard.amount, GiftWizard.percent, GiftWizard.cap),
        Step(GiftWizard.validity, said(__("gifts.ask_validity")), read=read_days),
        Step(GiftWizard.message, said(__("gifts.ask_message")), read=read_message),
    ),
    confirm=GiftWizard.confirm,
    summary=gift_summary,
    confirm_label=__("button.gift_give"),
    cancelled=__("gifts.cancelled"),
)
MEMBER_STEP = GIFT_FLOW.steps[1]


def voucher_text(message: str, voucher: VoucherInfo, zone: ZoneInfo) -> str:
    """What a member is told: the staff's message, then the voucher, in the member's language."""
    return _("gifts.member_voucher").format(
        message=message,
        title=voucher.title,
        worth=worth_text(voucher.worth),
        code=voucher.shown_code,
        date=format_date(voucher.expires_at.astimezone(zone).date(), language()),
    )


# INTERIM sender: telling an audience from a background task, until the broadcast outbox (issue #6) replaces
# this section. Small on purpose: paced, one page of members read at a time, no retry after a restart.

PACE = 1 / 20  # seconds between two messages of a delivery: at most 20 a second
DELIVERIES: set[asyncio.Task[None]] = set()  # running deliveries, kept from the garbage collector (and for tests)


async def send(bot: Bot, chat_id: int, text: str) -> bool:
    """Send one message, waiting out a flood limit; False when the member cannot be reached."""
    while True:
        try:
            await bot.send_message(chat_id, text)
            return True
        except TelegramRetryAfter as error:
            await asyncio.sleep(error.retry_after)
        except TelegramForbiddenError:  # blocked the bot
            return False
        except TelegramBadRequest as error:
            if "chat not found" not in error.message.lower():
                logger.info("could not send to %s: %s", chat_id, error)
            return False
        except TelegramAPIError as error:
            logger.info("could not send to %s: %s", chat_id, error)
            return False


async def tell(bot: Bot, i18n: I18n, member: Member, text_of: Callable[[], str]) -> bool:
    """Send the member a text written in their language; False if they are not on the bot or cannot be reached."""
    if member.telegram_id is None:
        return False
    with i18n.use_locale(member.language):
        text = text_of()
    return await send(bot, member.telegram_id, text)


@dataclass(frozen=True)
class Delivery:
    """A gift's message to its audience, and who asked for it (to hear how many were reached)."""

    gift_id: int
    message: str
    staff_id: int
    staff_language: str
    zone: ZoneInfo
    now: datetime


async def deliver(delivery: Delivery, bot: Bot, i18n: I18n, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Tell each member of the gift, page by page, paced; then tell the staff member how many were reached.

    Members not on the bot, who said no to news, or who sent /stop are passed over; so, silently, is anyone
    who blocked the bot or whose chat is gone. A session is open only while a page is read.
    """
    delivered = total = after = 0
    with i18n.context():
        while True:
            async with sessions() as session:
                page = await gifts.gift_vouchers(session, delivery.gift_id, delivery.now, after=after)
                reachable = await wanting_news(session, [voucher.member_id for voucher in page])
            if not page:
                break
            for voucher in page:
                total += 1
                member = reachable.get(voucher.member_id)
                if member is not None:
                    delivered += await tell(
                        bot, i18n, member, partial(voucher_text, delivery.message, voucher, delivery.zone)
                    )
                    await asyncio.sleep(PACE)
            after = page[-1].member_id
        with i18n.use_locale(delivery.staff_language):
            report = _("gifts.delivered").format(delivered=number(delivered), total=number(total))
        await send(bot, delivery.staff_id, report)


async def wanting_news(session: AsyncSession, member_ids: list[int]) -> dict[int, Member]:
    """The members among `member_ids` who are on the bot and still take news."""
    found = await session.scalars(
        select(Member).where(
            Member.id.in_(member_ids),
            Member.telegram_id.is_not(None),
            Member.news_consent.is_(True),
            Member.stopped.is_(False),
        )
    )
    return {member.id: member for member in found}


def start_delivery(delivery: Delivery, bot: Bot, i18n: I18n, session: AsyncSession) -> asyncio.Task[None]:
    """Run `deliver` in the background on sessions of its own; the task is kept in DELIVERIES until it ends."""
    task = asyncio.create_task(deliver(delivery, bot, i18n, session_factory(session.bind)))
    DELIVERIES.add(task)
    task.add_done_callback(finished)
    return task


def finished(task: asyncio.Task[None]) -> None:
    """Forget an ended delivery, logging it if it failed."""
    DELIVERIES.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.error("gift delivery failed", exc_info=task.exception())


# The wizard's ends: /gift, the member typed, Give.


async def gift_menu(message: Message, state: FSMContext, session: AsyncSession, club: Club) -> None:
    """/gift: who receives it (ending any unanswered question)."""
    club_rules = await rules.current(session, club.rules)
    text, markup = await GIFT_FLOW.begin(state, session, {TIERS_KEY: [tier.name for tier in club_rules.tiers]})
    await message.answer(text, reply_markup=markup)


async def got_member(message: Message, state: FSMContext, session: AsyncSession, raw_state: str | None) -> None:
    """The member's code or phone: found and the next question asked, or explained and asked again."""
    try:
        member = await members.find(session, message.text or "")
    except LoyaltyError as error:
        text, markup = await GIFT_FLOW.again(problem(error), state, session, raw_state)
        await message.answer(text, reply_markup=markup)
        return
    code = local_digits(grouped(member.code), language())
    await state.update_data({MEMBER_NAME_KEY: f"{member.first_name} · {code}"})
    text, markup = await GIFT_FLOW.answer(MEMBER_STEP, state, session, member.id)
    await message.answer(text, reply_markup=markup)


async def give(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    now: datetime,
    event_update: Update,
    bot: Bot,
    i18n: I18n,
) -> None:
    """Give: the vouchers are issued, the staff member hears how many, and the members are told."""
    data = await GIFT_FLOW.claim(state)
    if data is None:  # pressed twice: the first press gave
        await query.answer(_("fallback.stale_button"), show_alert=True)
        return
    audience = audience_of(data)
    try:
        gifted = await gifts.give(
            session, draft_of(data), audience, actor_id=query.from_user.id, update_id=event_update.update_id, now=now
        )
    except (UnknownMember, InvalidReward):  # the member left meanwhile; the steps check every value
        await query.answer(_("fallback.stale_button"), show_alert=True)
        return
    if gifted.duplicate:
        report = _("gifts.given_before").format(count=number(gifted.issued))
    else:
        report = _("gifts.given").format(count=number(gifted.issued))
        delivery = Delivery(gifted.gift_id, data["message"], query.from_user.id, language(), club.zone, now)
        report += "\n" + await announce(gifted, delivery, session, bot, i18n)
    await show(query, bot, report, InlineKeyboardMarkup(inline_keyboard=[]))
    await query.answer()


async def announce(gifted: gifts.Gifted, delivery: Delivery, session: AsyncSession, bot: Bot, i18n: I18n) -> str:
    """Tell the members of a new gift (one member at once, an audience in the background); the staff's line on it."""
    if gifted.voucher is not None:
        member = await session.get(Member, gifted.voucher.member_id)
        text_of = partial(voucher_text, delivery.message, gifted.voucher, delivery.zone)
        told = member is not None and await tell(bot, i18n, member, text_of)
        return _("gifts.member_told") if told else _("gifts.member_not_told")
    if not gifted.issued:
        return _("gifts.nobody")
    start_delivery(delivery, bot, i18n, session)
    return _("gifts.sending")


def create_router() -> Router:
    """Routes for managers' and owners' /gift."""
    router = Router(name="gifts")
    manager = HasRole(Role.MANAGER)
    router.message.register(gift_menu, Command("gift"), manager)
    router.message.register(got_member, StateFilter(GiftWizard.member), HAS_TEXT, NOT_COMMAND, manager)
    GIFT_FLOW.register(router, give, manager)
    return router
