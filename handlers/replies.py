"""The chat's replies built from the club's data, in the member's language, digits and calendar (texts the
scheduler writes too live in `texts`)."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from loyalty.calendar import birthday_example, format_date, format_moment, named_birthday_example
from loyalty.ledger import Balance
from loyalty.numerals import local_digits
from loyalty.purchases import Earned, Summary
from loyalty.referrals import Event, MyResults, ReferralEvent
from loyalty.rules import Rules
from loyalty.staff import StaffEntry
from loyalty.tiers import Progress
from storage.models import LedgerEntry, Member
from texts.languages import LANGUAGE_NAMES, language
from texts.money import amount_text, priced_text
from texts.numbers import code_text, number, phone_text
from texts.plurals import counted, points_text
from texts.tiers import tier_name

REASONS = {
    "welcome": __("reason.welcome"),
    "purchase": __("reason.purchase"),
    "campaign": __("reason.campaign"),
    "expired": __("reason.expired"),
    "purchase_undo": __("reason.purchase_undo"),
    "reversal": __("reason.reversal"),
    "reward": __("reason.reward"),
    "reward_refund": __("reason.reward_refund"),
    "referral": __("reason.referral"),
    "referral_friend": __("reason.referral_friend"),
}
GENDERS = {"female": __("button.female"), "male": __("button.male")}


def name_problem(reason: str) -> str:
    """The translated explanation of why a name was refused."""
    problems = {"empty": _("name.empty"), "too_long": _("name.too_long"), "not_a_name": _("name.not_a_name")}
    return problems[reason]


def date_problem(reason: str) -> str:
    """The translated explanation of why a birthday was refused."""
    problems = {
        "format": _("date.format"),
        "impossible": _("date.impossible"),
        "future": _("date.future"),
        "too_old": _("date.too_old"),
        "two_digit_year": _("date.two_digit_year"),
    }
    return problems[reason].format(example=birthday_example(language()), named=named_birthday_example(language()))


def joined_text(member: Member, bonus: int, referral: ReferralEvent | None = None, waiting: int = 0) -> str:
    """The welcome a new member gets, with the points that waited on their phone, the bonus and a referral reward paid
    on joining, when there are any."""
    paragraphs = [_("join.done").format(name=member.first_name)]
    if waiting:
        paragraphs.append(counted("join.waiting", waiting).format(points=number(waiting)))
    if bonus:
        paragraphs.append(counted("join.bonus", bonus).format(points=number(bonus)))
    if friend_lines := referral_for_friend(referral):
        paragraphs.append("\n".join(friend_lines))
    return "\n\n".join(paragraphs)


def invite_text(link: str, results: MyResults) -> str:
    """The member's invite link and how their invites have done so far."""
    return _("referral.invite").format(
        link=link, joined=number(results.joined), bought=number(results.bought), points=number(results.points)
    )


def _reward_lines(points_template: str, points: int, voucher_id: int | None) -> list[str]:
    """A referral reward in words: the points (in `points_template`, the form for them) and a voucher waiting, each if
    there is one."""
    lines = [points_template.format(points=number(points))] if points else []
    return lines + ([_("referral.voucher_waiting")] if voucher_id else [])


def referral_for_referrer(event: ReferralEvent) -> str:
    """The referrer's news: a friend joined (always told), or bought first and paid them; "" when there is none."""
    template = counted("referral.referrer_points", event.referrer_points)
    rewards = _reward_lines(template, event.referrer_points, event.referrer_voucher_id)
    if event.event == Event.JOINED:
        headline = _("referral.friend_joined").format(name=event.friend_first_name)
    elif rewards:
        headline = _("referral.friend_bought").format(name=event.friend_first_name)
    else:  # a first purchase that paid the referrer nothing now (paid on joining, withheld, or friend only)
        return ""
    return "\n".join([headline, *rewards])


def referral_for_friend(event: ReferralEvent | None) -> list[str]:
    """The friend's lines about their own referral reward paid by this joining or purchase (none if nothing)."""
    if event is None:
        return []
    return _reward_lines(
        counted("referral.friend_points", event.friend_points), event.friend_points, event.friend_voucher_id
    )


def balance_text(member: Member, balance: Balance, zone: ZoneInfo) -> str:
    """Points, tier and the next expiry."""
    text = _("balance.summary").format(
        name=member.first_name, points=number(balance.points), tier=tier_name(balance.tier)
    )
    if balance.expires_at is not None:
        text += "\n" + counted("balance.expiry", balance.expiring_points).format(
            points=number(balance.expiring_points),
            date=format_date(balance.expires_at.astimezone(zone).date(), language()),
        )
    return text


def history_text(entries: Sequence[LedgerEntry], page: int, pages: int, zone: ZoneInfo) -> str:
    """One page of the member's history, newest first."""
    if not entries:
        return _("history.empty")
    lines = [_("history.title").format(page=number(page + 1), pages=number(pages))]
    for entry in entries:
        sign = "+" if entry.points > 0 else "−"
        reason = entry_label(entry)
        lines.append(
            f"{sign}{number(abs(entry.points))} · {reason} · {format_moment(entry.created_at, language(), zone)}"
        )
    return "\n".join(lines)


def entry_label(entry: LedgerEntry) -> str:
    """Why points moved, in words: a known reason, or a staff correction with the reason they typed."""
    if entry.kind == "adjust":
        return _("reason.adjust").format(reason=entry.reason)
    return str(REASONS.get(entry.reason, entry.reason))


def card_caption(member: Member, shop_name: str | None) -> str:
    """The caption under the member's QR card, headed by the shop's name when it has one."""
    caption = _("card.caption").format(
        name=member.first_name,
        code=code_text(member.code),
        tier=tier_name(member.tier),
    )
    return _("shop.card_line").format(name=shop_name) + "\n" + caption if shop_name else caption


def profile_text(member: Member) -> str:
    """The member's profile card."""
    not_given = _("profile.not_given")
    birthday = format_date(member.birthday, language()) if member.birthday else not_given
    gender = str(GENDERS[member.gender]) if member.gender in GENDERS else not_given
    return _("profile.card").format(
        name=member.first_name,
        phone=phone_text(member.phone),
        birthday=birthday,
        gender=gender,
        news=_("profile.news_on") if member.news_consent else _("profile.news_off"),
        language=LANGUAGE_NAMES.get(member.language, member.language),
    )


def progress_line(progress: Progress, currency: str) -> str:
    """How far the next tier is (an amount in the unit `currency`), or nothing at the top tier."""
    if progress.next_tier is None:
        return ""
    missing = amount_text(progress.missing, currency)
    return _("member.tier_progress").format(amount=missing, tier=tier_name(progress.next_tier))


def member_name(member: Member) -> str:
    """The member's name for staff; a walk-in customer's phone until they join and give one."""
    return member.first_name or phone_text(member.phone)


def earned_for_staff(earned: Earned) -> str:
    """The cashier's confirmation of a purchase (or that it was recorded before); the points of a customer not on the
    bot yet wait on their phone."""
    values = {
        "amount": priced_text(earned.purchase.amount, earned.currency),
        "name": member_name(earned.member),
        "code": code_text(earned.member.code),
        "points": number(earned.points),
        "balance": number(earned.balance),
    }
    if earned.duplicate:
        key = "counter.already_recorded"
    else:
        key = "counter.earned_waiting" if earned.member.telegram_id is None else "counter.earned"
    return counted(key, earned.points).format(**values)


def earned_for_member(earned: Earned) -> str:
    """The member's message after a purchase: points, balance, tier news and progress."""
    lines = [
        counted("member.earned", earned.points).format(
            points=number(earned.points),
            amount=priced_text(earned.purchase.amount, earned.currency),
            balance=points_text(earned.balance),
        )
    ]
    if earned.campaign_points:
        lines.append(
            counted("member.campaign_points", earned.campaign_points).format(points=number(earned.campaign_points))
        )
    lines.extend(referral_for_friend(earned.referral))
    if earned.upgraded_from:
        lines.append(_("member.tier_up").format(tier=tier_name(earned.member.tier)))
    lines.append(progress_line(earned.progress, earned.currency))
    return "\n".join(line for line in lines if line)


def counter_card(member: Member, summary: Summary, club_rules: Rules, zone: ZoneInfo) -> str:
    """A member as staff see them: points, tier, spend, last visits."""
    visits = ", ".join(format_moment(moment, language(), zone) for moment in summary.last_visits)
    card = counted("counter.member_card", club_rules.tier_window_days).format(
        name=member_name(member),
        code=code_text(member.code),
        phone=phone_text(member.phone),
        points=number(member.balance),
        tier=tier_name(member.tier),
        days=number(club_rules.tier_window_days),
        spend=amount_text(summary.progress.spend, club_rules.currency),
        total=amount_text(summary.total_spend, club_rules.currency),
        visits=visits or _("counter.no_visits"),
    ) + ("\n" + progress_line(summary.progress, club_rules.currency) if summary.progress.next_tier else "")
    return card + ("\n" + _("counter.not_joined") if member.telegram_id is None else "")


def shown_name(entry: StaffEntry) -> str:
    """The person's name, or their account number when the bot never learnt it (an OWNER_IDS owner)."""
    return name_or_id(entry.name, entry.telegram_id)


def name_or_id(name: str, telegram_id: int) -> str:
    """A staff member's name, or their account number in the reader's digits when it is unknown."""
    return name or local_digits(str(telegram_id), language())
