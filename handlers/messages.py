"""Message helpers of the chat layer (shared floor): a view put in place of the pressed message, the staff-facing
explanation of a refusal, a notice to a member in their own language, a link that opens the bot and its QR code.

A notice tells another person than the one the update answers (a member of a purchase, a referrer of a friend's
join): it is never sent from here but written, in the recipient's language, for the outbox (`loyalty.outbox`),
and handed to the change that it reports, which enqueues it in its own transaction (`notices=`)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable

import segno
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.club import Club
from handlers.replies import referral_for_referrer
from loyalty import outbox
from loyalty.errors import (
    AlreadyReversed,
    CreditOff,
    InvalidAmount,
    LoyaltyError,
    MistypedCode,
    NotAMemberReference,
    OwnAccount,
    PurchaseNotFound,
    ReceiptTaken,
    UnknownMember,
)
from loyalty.numerals import local_digits
from loyalty.outbox import Outgoing, notice_key
from loyalty.referrals import ReferralEvent
from loyalty.staff import Owner
from storage.models import Member
from texts.languages import language
from texts.money import amount_text

CARD_PAYLOAD_PREFIX = "card_"
VOUCHER_PAYLOAD_PREFIX = "voucher_"


def toast(answer: CallbackAnswer, text: str) -> None:
    """The pressed button's answer: `text` in a toast that fades (sent by aiogram's CallbackAnswerMiddleware once the
    handler is done; a button a handler says nothing of is answered silently)."""
    answer.text = text


def alert(answer: CallbackAnswer, text: str) -> None:
    """The pressed button's answer: `text` in an alert the user dismisses."""
    answer.text, answer.show_alert = text, True


def stale(answer: CallbackAnswer) -> None:
    """The pressed button's answer: it is no longer active (a forged, old or second press)."""
    alert(answer, _("fallback.stale_button"))


async def show(query: CallbackQuery, bot: Bot, text: str, markup: InlineKeyboardMarkup | None) -> None:
    """Put a view in place of the pressed message, or in a new one when that message is out of reach or a photo (a
    voucher's QR code), whose caption is not a view's place."""
    if not isinstance(query.message, Message) or query.message.photo:
        await bot.send_message(query.from_user.id, text, reply_markup=markup)
        return
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:  # a second tap on the same button: the view is already shown
        if "not modified" not in str(error):
            raise


def problem(error: LoyaltyError) -> str:
    """The staff-facing explanation of a refusal."""
    if isinstance(error, InvalidAmount):
        texts = {
            "not_a_number": _("counter.amount_not_a_number"),
            "not_positive": _("counter.amount_not_positive"),
            "too_large": _("counter.amount_too_large"),
            "below_minimum": _("counter.amount_below_minimum").format(
                minimum=amount_text(error.minimum, error.currency)
            ),
        }
        return texts[error.reason]
    if isinstance(error, OwnAccount):
        own = {
            "purchase": _("counter.own_purchase"),
            "adjust": _("counter.own_adjust"),
            "gift": _("counter.own_gift"),
        }
        return own[error.action]
    reference = local_digits(str(error.args[0]), language()) if error.args else ""  # echoed in the reply's digits
    texts = {
        UnknownMember: _("counter.unknown_member"),
        MistypedCode: _("counter.mistyped_code"),
        NotAMemberReference: _("counter.not_a_reference"),
        ReceiptTaken: _("counter.receipt_taken"),
        PurchaseNotFound: _("counter.purchase_not_found"),
        AlreadyReversed: _("counter.already_reversed"),
        CreditOff: _("payment.credit_off"),
    }
    return texts.get(type(error), _("errors.unexpected")).format(reference=reference)


def notice_to_member(i18n: I18n, member: Member, key: str, text_of: Callable[[], str]) -> list[Outgoing]:
    """The notice (under `key`, see `loyalty.outbox.notice_key`) telling a member something in their own language."""
    return notice_to(i18n, member.telegram_id, member.id, member.language, key, text_of)


def notice_to(
    i18n: I18n, chat_id: int | None, member_id: int | None, language: str, key: str, text_of: Callable[[], str]
) -> list[Outgoing]:
    """The notice to a member's chat (or a staff member's, `member_id` None if not a member) with the text `text_of`
    writes in `language`; none if it writes none, or the member is not on the bot."""
    if chat_id is None:
        return []
    with i18n.use_locale(language):
        text = text_of()
    return [Outgoing(key, outbox.NOTICE, chat_id, outbox.Message(text), member_id)] if text else []


def notice_to_owners(
    i18n: I18n, owners: Iterable[Owner], key_of: Callable[[int], str], text_of: Callable[[], str]
) -> list[Outgoing]:
    """Each owner's notice (under `key_of` their chat) with the text `text_of` writes, in their language (the shop's
    if they are not a member)."""
    return [
        notice
        for owner in owners
        for notice in notice_to(
            i18n,
            owner.telegram_id,
            owner.member_id,
            owner.language or i18n.default_locale,
            key_of(owner.telegram_id),
            text_of,
        )
    ]


def notice_to_referrer(i18n: I18n, event: ReferralEvent) -> list[Outgoing]:
    """The notice telling the member whose link brought a friend what just happened, in the referrer's language;
    one per referral and event."""
    key = notice_key("referral", event.referral_id, event.event)
    chat_id, language = event.referrer_telegram_id, event.referrer_language
    return notice_to(i18n, chat_id, event.referrer_id, language, key, lambda: referral_for_referrer(event))


async def deep_link(bot: Bot, club: Club, payload: str) -> str:
    """A link that opens this bot with a /start payload, on whichever messenger it runs."""
    me = await bot.me()
    return f"{club.deep_link_url}/{me.username}?start={payload}"


def qr_png(link: str) -> bytes:
    """A QR code of `link` as PNG bytes."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=8, border=2)
    return buffer.getvalue()
