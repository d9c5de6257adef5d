"""/gift for managers and owners: gift vouchers (بن خرید) to one member, a tier or every member, with a message.

Every route here requires the manager role; for anyone else the filters do not match and the update falls
through, so a customer or a cashier typing /gift gets the unknown-command answer.

The wizard is declared in one place, `GiftWizard` (its states) and `GIFT_FLOW` (its steps in order): audience
(one member → their code or phone; a tier → the club's tiers; all members) → kind → amount or percent → cap
(percent only, or Skip) → validity in days → the message to the members → summary with the audience's size →
Give / Cancel, with Back on every question after the first and on the summary; the answers are kept as
`GiftAnswers`. The worth steps are the wizard engine's (`handlers.wizard.worth_steps`); the vouchers' title is the
message's first line. Give issues the vouchers through `loyalty.gifts.give` under the press's `update_key`; a second
press finds nothing waiting.

Members are then told through the broadcast outbox (`loyalty.outbox`), in their language, under a key per gift and
member, so a repeat adds nothing. One member: a notice, enqueued with the gift's "told" mark in one transaction
and sent at once whatever the hour (unless they are not on the bot, or blocked it). An audience
(`enqueue_messages`): one message per reachable member (the rule of campaign audiences), enqueued a page of
vouchers per short transaction. The bot's broadcast sender (`scheduler.sender`) sends them paced, across restarts,
and holds an audience's through the night's quiet hours; the staff member hears how many members will be told.
Members left out have their voucher all the same.

A gift cut short (a batch of vouchers or the telling failed) is not left half-done: the summary waits again, so
Give pressed once more finishes the same gift (its key is the first press's update, `first_press`), and /gift lists the
gifts not finished first, each with Finish (the batches left, then the messages not sent; nothing twice) and
Cancel (`loyalty.gifts.withdraw`: the vouchers whose message never went out are cancelled). A Give button whose
summary is gone says where to look.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club, currency
from handlers.filters import HAS_TEXT, NOT_COMMAND, ButtonId, staff_only
from handlers.messages import alert, notice_to_member, problem, show, stale
from handlers.replies import member_name
from handlers.wizard import (
    Flow,
    Refused,
    Step,
    View,
    WizardAction,
    WorthAnswers,
    answered,
    first_press,
    read_days,
    said,
    worth_from,
    worth_steps,
)
from loyalty import gifts, members, outbox, rules, staff
from loyalty.calendar import format_date
from loyalty.errors import InvalidReward, LoyaltyError, OwnAccount, UnknownMember
from loyalty.gifts import Audience, GiftDraft, title_of
from loyalty.outbox import Outgoing, enqueue
from loyalty.rewards import DESCRIPTION_LENGTH
from loyalty.staff import Role
from loyalty.stamps import Stamp
from loyalty.vouchers import VoucherInfo
from storage.database import write_transaction
from storage.models import Member
from texts.languages import language
from texts.numbers import code_text, number
from texts.plurals import counted
from texts.tiers import tier_name
from texts.worth import worth_text

logger = logging.getLogger(__name__)

AUDIENCES = {"member": __("button.gift_member"), "tier": __("button.gift_tier"), "all": __("button.gift_all")}


class GiftAction(CallbackData, prefix="gft"):
    """A button on a gift not finished: `action` finish or cancel, on the gift `gift`."""

    action: str
    gift: ButtonId


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


def read_message(text: str) -> str:
    """The message to the members, trimmed."""
    message = text.strip()
    if not 0 < len(message) <= DESCRIPTION_LENGTH:
        raise Refused(_("gifts.message_length").format(high=number(DESCRIPTION_LENGTH)))
    return message


class Recipient(BaseModel):
    """The one member a gift is for: their id, and how the summary names them (first name and code)."""

    id: int
    name: str


class GiftAnswers(WorthAnswers):
    """The gift's answers (see `handlers.wizard.Answers`), after the club's tiers known beforehand; the worth's are
    `WorthAnswers`."""

    tiers: list[str]
    audience: str = ""
    member: Recipient | None = None
    tier: str = ""
    validity: int = 0
    message: str = ""


def audience_of(answers: GiftAnswers) -> Audience:
    """Who the wizard's answers give to."""
    if answers.audience == "member" and answers.member is not None:
        return Audience(member_id=answers.member.id)
    return Audience(tier=answers.tier) if answers.audience == "tier" else Audience()


def draft_of(answers: GiftAnswers) -> GiftDraft:
    """The gift the wizard's answers describe."""
    return GiftDraft(title=title_of(answers.message), worth=worth_from(answers), validity_days=answers.validity)


async def gift_summary(answers: GiftAnswers, session: AsyncSession) -> str:
    """The gift as it will be given, with how many members it reaches."""
    audience = audience_of(answers)
    who = {
        "member": lambda: answers.member.name if answers.member else "",
        "tier": lambda: _("gifts.to_tier").format(tier=tier_name(answers.tier)),
        "all": lambda: _("gifts.to_all"),
    }[audience.kind]()
    return counted("gifts.summary", answers.validity).format(
        audience=who,
        count=number(await gifts.audience_size(session, audience)),
        worth=worth_text(worth_from(answers), answers.currency),
        days=number(answers.validity),
        message=answers.message,
    )


GIFT_FLOW = Flow(
    name="gift",
    group=GiftWizard,
    answers=GiftAnswers,
    steps=(
        Step(
            GiftWizard.audience,
            said(__("gifts.ask_audience")),
            choices=lambda answers: [(kind, str(label)) for kind, label in AUDIENCES.items()],
        ),
        Step(
            GiftWizard.member, said(__("gifts.ask_member")), when=answered("audience", "member")
        ),  # typed: `got_member`
        Step(
            GiftWizard.tier,
            said(__("gifts.ask_tier")),
            choices=lambda answers: [(tier, tier_name(tier)) for tier in answers.tiers],
            when=answered("audience", "tier"),
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


def voucher_text(message: str, voucher: VoucherInfo, zone: ZoneInfo, currency: str) -> str:
    """What a member is told: the staff's message, then the voucher (worth in the unit `currency`), in the member's
    language."""
    return _("gifts.member_voucher").format(
        message=message,
        title=voucher.title,
        worth=worth_text(voucher.worth, currency),
        code=voucher.shown_code,
        date=format_date(voucher.expires_at.astimezone(zone).date(), language()),
    )


async def enqueue_messages(
    session: AsyncSession,
    i18n: I18n,
    gift_id: int,
    message: str,
    zone: ZoneInfo,
    currency: str,
    now: datetime,
    *,
    page: int | None = None,
) -> int:
    """Put in the outbox the message telling each reachable member of the gift; how many members it tells.

    Page by page through the gift's vouchers, a short write transaction each; each member's text is written in
    their language. A member already in the outbox for this gift (a repeat, a retry after a crash) is skipped.
    """
    told = after = 0
    page = page or gifts.BATCH
    while True:
        async with write_transaction(session):
            vouchers = await gifts.gift_vouchers(session, gift_id, now, after=after, limit=page)
            reached = await gifts.reachable(session, [voucher.member_id for voucher in vouchers])
            outgoing = []
            for voucher in vouchers:
                member = reached.get(voucher.member_id)
                if member is None:
                    continue
                with i18n.use_locale(member.language):
                    text = voucher_text(message, voucher, zone, currency)
                key = gifts.message_key(gift_id, member.member_id)
                outgoing.append(Outgoing(key, gifts.KIND, member.chat_id, outbox.Message(text), member.member_id))
            await enqueue(session, outgoing, now)
        told += len(outgoing)
        if len(vouchers) < page:
            return told
        after = vouchers[-1].member_id


# The wizard's ends: /gift, the member typed, Give.


def unfinished_view(found: list[gifts.Unfinished]) -> View:
    """The gifts not finished, each with Finish and Cancel."""
    lines = [_("gifts.unfinished_title")]
    builder = InlineKeyboardBuilder()
    for gift in found:
        who = {
            "member": _("gifts.to_member"),
            "tier": _("gifts.to_tier").format(tier=tier_name(gift.tier or "")),
        }.get(gift.audience, _("gifts.to_all"))
        lines.append(_("gifts.unfinished_line").format(title=gift.title, audience=who, count=number(gift.issued)))
        builder.button(
            text=_("button.gift_finish").format(title=gift.title),
            callback_data=GiftAction(action="finish", gift=gift.id),
        )
        builder.button(
            text=_("button.gift_withdraw").format(title=gift.title),
            callback_data=GiftAction(action="cancel", gift=gift.id),
        )
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


async def gift_menu(message: Message, state: FSMContext, session: AsyncSession, club: Club) -> None:
    """/gift: the gifts not finished, if any, each with Finish and Cancel; then who receives a new one (ending any
    unanswered question)."""
    found = await gifts.unfinished(session)
    if found:
        text, markup = unfinished_view(found)
        await message.answer(text, reply_markup=markup)
    club_rules = await rules.current(session, club.rules)
    tiers = [tier.name for tier in club_rules.tiers]
    answers = GiftAnswers(tiers=tiers, currency=club_rules.currency)
    text, markup = await GIFT_FLOW.begin(state, session, answers)
    await message.answer(text, reply_markup=markup)


async def got_member(message: Message, state: FSMContext, session: AsyncSession, raw_state: str | None) -> None:
    """The member's code or phone: found and the next question asked, or explained and asked again."""
    try:
        member = await members.find(session, message.text or "")
        staff.refuse_own_account(member, message.from_user.id, "gift")
    except LoyaltyError as error:
        text, markup = await GIFT_FLOW.again(problem(error), state, session, raw_state)
        await message.answer(text, reply_markup=markup)
        return
    code = code_text(member.code)
    recipient = Recipient(id=member.id, name=f"{member_name(member)} · {code}")
    text, markup = await GIFT_FLOW.answer(MEMBER_STEP, state, session, recipient)
    await message.answer(text, reply_markup=markup)


async def give(
    query: CallbackQuery,
    state: FSMContext,
    session: AsyncSession,
    club: Club,
    stamp: Stamp,
    bot: Bot,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """Give: the vouchers are issued, the staff member hears how many, and the members are told.

    Should it fail midway, the summary waits again: Give pressed once more finishes the same gift (the batches
    issued are not issued again), and /gift lists it as not finished meanwhile.
    """
    data = await GIFT_FLOW.claim(state, callback_answer)
    if data is None:  # pressed twice: the first press gave
        return
    first = replace(stamp, update_key=first_press(data, stamp.update_key))  # a retried summary gives the same gift
    try:
        gifted = await gifts.give(session, draft_of(data), audience_of(data), first, message=data.message)
        headline = (_("gifts.given_before") if gifted.duplicate else _("gifts.given")).format(
            count=number(gifted.issued)
        )
        unit = await currency(session, club)
        report = await tell_members(gifted, headline, data.message, session, i18n, club.zone, unit, stamp.at)
    except (UnknownMember, InvalidReward, OwnAccount):  # the member left meanwhile (or is the giver; asked before)
        stale(callback_answer)
        return
    except Exception:  # cut short: the summary waits again, and /gift lists the gift as not finished
        logger.exception("giving gift %s failed midway", first.update_key)
        await GIFT_FLOW.restore(state, data)
        alert(callback_answer, _("gifts.not_finished"))
        return
    await show(query, bot, report, InlineKeyboardMarkup(inline_keyboard=[]))


async def tell_members(
    gifted: gifts.Gifted,
    headline: str,
    message: str,
    session: AsyncSession,
    i18n: I18n,
    zone: ZoneInfo,
    currency: str,
    now: datetime,
) -> str:
    """Tell the members of a gift whose vouchers are all issued, and mark it told; the staff's report under
    `headline` (dates in the shop's `zone`, amounts in its unit `currency`). An audience's messages are enqueued
    again (a key per member: none twice); one member already told is not told again, and is told in the
    transaction that marks the gift told."""
    report, notices = headline, []
    if gifted.voucher is None:
        report += "\n" + await announce(gifted, message, session, i18n, zone, currency, now)
    elif not gifted.told:
        notices = await member_notice(gifted.gift_id, gifted.voucher, message, session, i18n, zone, currency)
        report += "\n" + (_("gifts.member_told") if notices else _("gifts.member_not_told"))
    await gifts.mark_told(session, gifted.gift_id, now, notices)
    return report


async def member_notice(
    gift_id: int,
    voucher: VoucherInfo,
    message: str,
    session: AsyncSession,
    i18n: I18n,
    zone: ZoneInfo,
    currency: str,
) -> list[Outgoing]:
    """The notice telling the member of a one-member gift of their voucher; none if they are not on the bot, or are
    known to have blocked it."""
    member = await session.get(Member, voucher.member_id)
    if member is None or member.unreachable:
        return []
    key = gifts.message_key(gift_id, member.id)
    return notice_to_member(i18n, member, key, partial(voucher_text, message, voucher, zone, currency))


async def announce(
    gifted: gifts.Gifted,
    message: str,
    session: AsyncSession,
    i18n: I18n,
    zone: ZoneInfo,
    currency: str,
    now: datetime,
) -> str:
    """Tell the audience of a new gift through the outbox; the staff's line on it."""
    if not gifted.issued:
        return _("gifts.nobody")
    told = await enqueue_messages(session, i18n, gifted.gift_id, message, zone, currency, now)
    return _("gifts.queued").format(count=number(told))


async def finish_gift(
    query: CallbackQuery,
    callback_data: GiftAction,
    session: AsyncSession,
    club: Club,
    now: datetime,
    bot: Bot,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """Finish a gift cut short: the vouchers not issued yet, then the members' messages not sent yet."""
    try:
        gifted = await gifts.finish(session, callback_data.gift, now=now)
    except gifts.GiftOver:
        stale(callback_answer)
        return
    headline = _("gifts.finished").format(count=number(gifted.issued))
    unit = await currency(session, club)
    report = await tell_members(gifted, headline, gifted.message, session, i18n, club.zone, unit, now)
    await show(query, bot, report, InlineKeyboardMarkup(inline_keyboard=[]))


async def withdraw_gift(
    query: CallbackQuery,
    callback_data: GiftAction,
    session: AsyncSession,
    stamp: Stamp,
    bot: Bot,
    callback_answer: CallbackAnswer,
) -> None:
    """Cancel a gift cut short: its vouchers whose message never went out are cancelled, its messages not sent."""
    try:
        cancelled = await gifts.withdraw(session, callback_data.gift, stamp)
    except gifts.GiftOver:
        stale(callback_answer)
        return
    await show(
        query, bot, _("gifts.withdrawn").format(count=number(cancelled)), InlineKeyboardMarkup(inline_keyboard=[])
    )


async def confirm_gone(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    """Give pressed on a summary no longer waiting (given, cancelled, or its answers lost): what to do instead."""
    alert(callback_answer, _("gifts.confirm_gone"))


def create_router() -> Router:
    """Routes for managers' and owners' /gift."""
    router = staff_only(Router(name="gifts"), Role.MANAGER)
    router.message.register(gift_menu, Command("gift"))
    router.message.register(got_member, StateFilter(GiftWizard.member), HAS_TEXT, NOT_COMMAND)
    GIFT_FLOW.register(router, give)
    confirm = WizardAction.filter((F.flow == GIFT_FLOW.name) & (F.action == "confirm"))
    router.callback_query.register(confirm_gone, confirm)
    router.callback_query.register(finish_gift, GiftAction.filter(F.action == "finish"))
    router.callback_query.register(withdraw_gift, GiftAction.filter(F.action == "cancel"))
    return router
