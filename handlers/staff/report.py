"""/report for managers and owners: a period picker, then the Sales report (a short text and a chart of each
day's total), the Members report (a short text and a chart of the members by age band), the Points and vouchers
report, the Top customers (each with a button that opens the member at the counter, by the card's deep link),
the Referrals (what /stats shows, over the period), each figure against the previous period of the same length
(▲ ▼ and %), or the Campaigns started in the period and what each brought (`loyalty.campaign_results`).

The periods are the shop's days (`loyalty.periods`) in the reader's calendar: Jalali weeks and months in Persian,
Gregorian ones in English, or a custom range the manager types in either calendar (one prompt, left by /cancel or
any command; its name on the buttons keeps it for the other reports). The Sales report also names the busiest
weekday and hour, and above it comes their heatmap when the period had purchases. For customers and cashiers the
filter does not match, and the command falls through to the unknown-command or needs-a-manager answer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from types import ModuleType
from zoneinfo import ZoneInfo

import jdatetime
from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club, currency
from handlers.filters import HAS_TEXT, NOT_COMMAND, staff_only
from handlers.messages import CARD_PAYLOAD_PREFIX, deep_link
from handlers.staff import payment_report
from loyalty import campaign_results, reports
from loyalty.calendar import JALALI, calendar_for, format_date
from loyalty.digest import AWAY_DAYS
from loyalty.errors import InvalidDate
from loyalty.numerals import local_digits
from loyalty.periods import MOST_DAYS, Period, custom_name, is_period_name, named_period, typed_range
from loyalty.reports import Compared
from loyalty.staff import Role
from texts.changes import compared
from texts.languages import language
from texts.money import amount_text
from texts.numbers import code_text, decimal, number, phone_text
from texts.plurals import counted, days_text, points_text
from texts.tiers import tier_name
from texts.weekdays import weekday_name

SALES, MEMBERS, POINTS, TOP, REFERRALS, CAMPAIGNS = "sales", "members", "points", "top", "referrals", "campaigns"
CUSTOM = "custom"  # the picker's button that asks for a range of days
REPORTS = {
    SALES: __("report.to_sales"),
    MEMBERS: __("report.to_members"),
    POINTS: __("report.to_points"),
    TOP: __("report.to_top"),
    REFERRALS: __("report.to_referrals"),
    CAMPAIGNS: __("report.to_campaigns"),
}
PERIOD_NAMES = {
    "today": __("report.today"),
    "yesterday": __("report.yesterday"),
    "week": __("report.week"),
    "last7": __("report.last7"),
    "last30": __("report.last30"),
    "month": __("report.month"),
}  # one for each of loyalty.periods.KINDS
CUSTOM_NAME = __("report.custom_name")  # a custom range's, in headings
RANGE_REFUSALS = {
    "impossible": __("report.range_impossible"),
    "order": __("report.range_order"),
    "future": __("report.range_future"),
    "too_long": __("report.range_too_long"),
}  # else the range could not be read: report.range_format


class ReportAction(CallbackData, prefix="rpt"):
    """A press on the picker or under a report: which report (or the picker again) over which period."""

    report: str
    period: str


class RangePrompt(StatesGroup):
    """The custom range's prompt: waiting for its days to be typed."""

    days = State()


def charts() -> ModuleType:
    """`texts.charts`, imported when a report first draws: matplotlib and the chart font cost an instance some 70 MB
    of memory (266 MB idle with them loaded at start) that only an owner reading a report needs."""
    import texts.charts

    return texts.charts


def picker() -> InlineKeyboardMarkup:
    """The periods, two a row, each opening the Sales report, then the custom range."""
    builder = InlineKeyboardBuilder()
    for kind, name in PERIOD_NAMES.items():
        builder.button(text=str(name), callback_data=ReportAction(report=SALES, period=kind))
    builder.button(text=_("report.custom"), callback_data=ReportAction(report=CUSTOM, period=""))
    return builder.adjust(2).as_markup()


def report_buttons(shown: str, kind: str, links: dict[str, str] | None = None) -> InlineKeyboardMarkup:
    """Under a report: buttons opening links (label: address), the other reports over the same period, and another
    period."""
    builder = InlineKeyboardBuilder()
    for label, link in (links or {}).items():
        builder.button(text=label, url=link)
    for other, label in REPORTS.items():
        if other != shown:
            builder.button(text=str(label), callback_data=ReportAction(report=other, period=kind))
    builder.button(text=_("report.other_period"), callback_data=ReportAction(report="pick", period=kind))
    return builder.adjust(1).as_markup()


def heading(kind: str, span: Period) -> dict[str, str]:
    """The period's name and dates, and how long the previous period compared with is."""
    code = language()
    first, last = format_date(span.first, code), format_date(span.last, code)
    dates = first if span.length == 1 else _("report.dates").format(first=first, last=last)
    return {"period": str(PERIOD_NAMES.get(kind, CUSTOM_NAME)), "dates": dates, "days": days_text(span.length)}


def busiest_text(busy: reports.Hours) -> str:
    """The weekday and the hour of the day with most purchases: Wednesday; 23:00–24:00."""
    weekday, hour = busy.busiest_weekday(), busy.busiest_hour()
    if weekday is None or hour is None:
        return _("report.busiest_none")
    hours = local_digits(f"{hour:02d}:00–{hour + 1:02d}:00", language())
    return _("report.busiest").format(weekday=weekday_name(weekday, language()), hours=hours)


def sales_compared(sales: reports.Sales) -> dict[str, Compared]:
    """The Sales report's figures by name, each against the previous period."""
    buyers = sales.buyers
    return {
        "purchases": sales.purchases,
        "total": sales.total,
        "average": sales.average,
        "per_buyer": sales.per_buyer,
        "buyers": buyers.buyers,
        "new": buyers.new,
        "returning": buyers.returning,
    }


def sales_figures(sales: reports.Sales, unit: str) -> dict[str, str]:
    """The Sales report's figures by name, each written with its change: 1,200,000 toman ▲ 41%."""
    figures = sales_compared(sales)
    written = {
        "purchases": number(int(sales.purchases.now)),
        "total": amount_text(int(sales.total.now), unit),
        "average": amount_text(round(sales.average.now), unit),
        "per_buyer": decimal(sales.per_buyer.now, "#,##0.##"),
    }
    return {name: compared(written.get(name) or number(int(figure.now)), figure) for name, figure in figures.items()}


def sales_text(sales: reports.Sales, busy: reports.Hours, unit: str, kind: str, span: Period) -> str:
    """The Sales report's figures, each with its change, and the busiest weekday and hour."""
    return _("report.sales").format(busiest=busiest_text(busy), **sales_figures(sales, unit), **heading(kind, span))


NOT_GIVEN = __("report.not_given")
GENDER_NAMES = {"female": __("report.women"), "male": __("report.men"), None: NOT_GIVEN}
ORIGIN_NAMES = {
    "invited": __("report.invited"),
    "imported": __("report.imported"),
    "walk_in": __("report.walk_in"),
    "direct": __("report.direct"),
}  # one for each of loyalty.reports.ORIGINS


def breakdown(counts: Iterable[tuple[str, int]], after_name: str = " ") -> str:
    """Counts by name on one line (Bronze 6 · Silver 1, or 18–24: 2 · 25–34: 1 after a band), the zeros left out; a
    dash when all are."""
    return " · ".join(f"{name}{after_name}{number(count)}" for name, count in counts if count) or "—"


def age_bands() -> list[str]:
    """The age bands' names (under 18, 18–24 … 55+), then "not given"."""
    limits = reports.AGE_LIMITS
    between = [_("report.age_range").format(low=number(low), high=number(high - 1)) for low, high in pairwise(limits)]
    return [
        _("report.age_under").format(age=number(limits[0])),
        *between,
        _("report.age_over").format(age=number(limits[-1])),
        str(NOT_GIVEN),
    ]


def members_text(figures: reports.Members, away_days: int, kind: str, span: Period) -> str:
    """The Members report's figures: the new and active ones with their change, the lapsed ones (no purchase in
    `away_days`), and the splits, each on a line."""
    average = "—" if figures.average_age is None else decimal(figures.average_age, "#,##0.#")
    return _("report.members").format(
        total=number(figures.joined + figures.waiting),
        joined=number(figures.joined),
        waiting=number(figures.waiting),
        new=compared(number(int(figures.new.now)), figures.new),
        active=compared(number(int(figures.active.now)), figures.active),
        lapsed=number(figures.lapsed),
        away=days_text(away_days),
        tiers=breakdown((tier_name(tier), count) for tier, count in sorted(figures.tiers.items())),
        genders=breakdown((str(GENDER_NAMES[gender]), count) for gender, count in figures.genders.items()),
        ages=breakdown(zip(age_bands(), figures.ages, strict=True), ": "),
        average=average,
        origins=breakdown((str(ORIGIN_NAMES[origin]), count) for origin, count in figures.origins.items()),
        stopped=number(figures.stopped),
        unreachable=number(figures.unreachable),
        blocked=number(figures.blocked),
        **heading(kind, span),
    )


def rate(figure: Compared) -> str:
    """A redemption rate as a percent, with its change."""
    return compared(_("report.percent").format(value=number(round(figure.now * 100))), figure)


def counts(figures: object, names: tuple[str, ...]) -> dict[str, str]:
    """Counts (attributes `names` of `figures`, each a Compared) with their changes, by name."""
    return {name: compared(number(int(getattr(figures, name).now)), getattr(figures, name)) for name in names}


def vouchers_text(vouchers: reports.Vouchers) -> dict[str, str]:
    """One kind of vouchers' figures: issued, used, expired and the redemption rate."""
    return counts(vouchers, ("issued", "used", "expired")) | {"rate": rate(vouchers.rate)}


def liability(figures: reports.Points, unit: str) -> str:
    """The points members hold, and what they are worth in money when the catalog says."""
    held = points_text(figures.outstanding)
    if figures.worth is None:
        return held
    return held + " " + _("report.worth").format(amount=amount_text(figures.worth, unit))


def points_report_text(figures: reports.Points, unit: str, kind: str, span: Period) -> str:
    """The Points and vouchers report: points issued, spent, expired, held now, and the vouchers of both kinds."""
    points = counts(figures, ("issued", "spent", "expired"))
    rewards = {f"reward_{name}": text for name, text in vouchers_text(figures.rewards).items()}
    gifts = {f"gift_{name}": text for name, text in vouchers_text(figures.gifts).items()}
    return _("report.points").format(
        outstanding=liability(figures, unit), **points, **rewards, **gifts, **heading(kind, span)
    )


def ranked_lines(members: list[reports.Ranked], value: Callable[[int], str]) -> str:
    """A top list, one member a line: 1. Sara · 1234 5678 · 0912 123 4567 — 800,000 toman; a dash when empty."""
    lines = [
        _("report.ranked").format(
            place=number(place), name=member.name, code=code_text(member.code), phone=phone_text(member.phone)
        )
        + f" — {value(member.value)}"
        for place, member in enumerate(members, start=1)
    ]
    return "\n".join(lines) or "—"


def purchases_text(count: int) -> str:
    """A number of purchases with its noun: 1 purchase, 3 purchases, ۳ خرید."""
    return counted("report.purchases", count).format(count=number(count))


def top_text(top: reports.Top, unit: str, kind: str, span: Period) -> str:
    """The Top customers report: by amount spent, by purchases, by points held now."""
    return _("report.top").format(
        spend=ranked_lines(top.spend, lambda amount: amount_text(amount, unit)),
        visits=ranked_lines(top.visits, purchases_text),
        points=ranked_lines(top.points, points_text),
        **heading(kind, span),
    )


def friends_text(count: int) -> str:
    """A number of invited friends who bought: 1 friend bought, 3 friends bought."""
    return counted("report.friends_bought", count).format(count=number(count))


def referrals_text(figures: reports.Referrals, kind: str, span: Period) -> str:
    """The Referrals report: what customers' invites brought in the period, in a shopkeeper's words."""
    return _("report.referrals").format(
        **counts(figures, ("opened", "joined", "bought", "points")),
        inviters=ranked_lines(figures.inviters, friends_text),
        **heading(kind, span),
    )


async def top_report(session: AsyncSession, club: Club, kind: str, span: Period) -> tuple[str, list[reports.Ranked]]:
    """The Top customers report's text (who bought most on credit too, when credit is on) and the members it lists."""
    top, unit = await reports.top(session, span, club.zone), await currency(session, club)
    listed = [*top.spend, *top.visits, *top.points]

    def on_credit(members: list[reports.Ranked]) -> str:
        listed.extend(members)
        return ranked_lines(members, lambda amount: amount_text(amount, unit))

    text = top_text(top, unit, kind, span) + await payment_report.top_lines(session, club, span, on_credit)
    return text, listed


async def send_top(bot: Bot, chat_id: int, session: AsyncSession, club: Club, kind: str, span: Period) -> None:
    """The Top customers report, with a button for each member listed (on credit too) that opens the member at the
    counter."""
    text, listed = await top_report(session, club, kind, span)
    links = {
        _("report.open_member").format(name=member.name, code=code_text(member.code)): await deep_link(
            bot, club, CARD_PAYLOAD_PREFIX + member.code
        )
        for member in listed
    }
    await bot.send_message(chat_id, text, reply_markup=report_buttons(TOP, kind, links))


async def report_command(message: Message) -> None:
    """/report: the period picker."""
    await message.answer(_("report.pick"), reply_markup=picker())


@dataclass(frozen=True)
class Asked:
    """What a report is drawn for: the database, the club, the moment, the period picked and its days."""

    session: AsyncSession
    club: Club
    now: datetime
    kind: str
    span: Period


async def members_figures(asked: Asked) -> reports.Members:
    """The Members report's figures, members counted lapsed after the digest's days away."""
    return await reports.members(asked.session, asked.span, asked.club.zone, asked.now, AWAY_DAYS)


async def send_members(bot: Bot, chat_id: int, asked: Asked) -> None:
    """The Members report: a chart of the age bands with the figures as the caption."""
    figures = await members_figures(asked)
    chart = await asyncio.to_thread(
        charts().members_chart, age_bands(), figures.ages
    )  # drawing takes a few tenths of a second
    photo = BufferedInputFile(chart, filename=f"members-{asked.span.first}-{asked.span.last}.png")
    caption = members_text(figures, AWAY_DAYS, asked.kind, asked.span)
    await bot.send_photo(chat_id, photo, caption=caption, reply_markup=report_buttons(MEMBERS, asked.kind))


async def points_report(asked: Asked) -> str:
    """The Points and vouchers report's text."""
    figures = await reports.points(asked.session, asked.span, asked.club.zone, asked.now)
    return points_report_text(figures, await currency(asked.session, asked.club), asked.kind, asked.span)


async def referrals_report(asked: Asked) -> str:
    """The Referrals report's text."""
    figures = await reports.referral_figures(asked.session, asked.span, asked.club.zone)
    return referrals_text(figures, asked.kind, asked.span)


def campaign_lines(result: campaign_results.Result, unit: str, zone: ZoneInfo) -> str:
    """One campaign in the Campaigns report: its name and day, messages, gift vouchers used, purchases after it."""
    lines = [
        _("report.campaign").format(
            name=result.name,
            date=format_date(result.started_at.astimezone(zone).date(), language()),
            sent=number(result.sent),
            blocked=number(result.blocked),
            failed=number(result.failed),
        )
    ]
    if result.used is not None:
        lines.append(_("report.campaign_vouchers").format(used=number(result.used)))
    if result.purchases is None or result.amount is None:
        lines.append(_("report.campaign_archived"))
    else:
        amount = amount_text(result.amount, unit)
        lines.append(_("report.campaign_purchases").format(purchases=purchases_text(result.purchases), amount=amount))
    return "\n".join(lines)


async def campaigns_report(asked: Asked) -> str:
    """The Campaigns report's text: the newest campaigns started in the period and what each brought."""
    zone = asked.club.zone
    found = await campaign_results.results(asked.session, *asked.span.bounds(zone))
    if not found:
        return _("report.no_campaigns").format(**heading(asked.kind, asked.span))
    unit = await currency(asked.session, asked.club)
    return _("report.campaigns").format(
        campaigns="\n\n".join(campaign_lines(result, unit, zone) for result in found),
        follow=days_text(campaign_results.FOLLOW_DAYS),
        **heading(asked.kind, asked.span),
    )


TEXT_REPORTS = {
    POINTS: points_report,
    REFERRALS: referrals_report,
    CAMPAIGNS: campaigns_report,
}


async def send_report(
    query: CallbackQuery,
    callback_data: ReportAction,
    session: AsyncSession,
    club: Club,
    bot: Bot,
    state: FSMContext,
    today: date,
    now: datetime,
) -> None:
    """A pressed period or report: the Sales report with its charts, one of the others, or the picker again (a
    custom range's question left unanswered is no longer waited for)."""
    chat_id, kind, report = query.from_user.id, callback_data.period, callback_data.report
    if await state.get_state() == RangePrompt.days.state:
        await state.clear()
    if report == "pick":
        await bot.send_message(chat_id, _("report.pick"), reply_markup=picker())
        return
    span = named_period(kind, today, calendar_for(language()))
    if report == TOP:
        await send_top(bot, chat_id, session, club, kind, span)
    elif report == MEMBERS:
        await send_members(bot, chat_id, Asked(session, club, now, kind, span))
    elif report in TEXT_REPORTS:
        text = await TEXT_REPORTS[report](Asked(session, club, now, kind, span))
        await bot.send_message(chat_id, text, reply_markup=report_buttons(report, kind))
    else:
        await send_sales(bot, chat_id, session, club, kind, span)


@dataclass(frozen=True)
class SalesReport:
    """The Sales report of a period: its figures, its busy hours, the shop's unit, and its text."""

    sales: reports.Sales
    busy: reports.Hours
    unit: str
    text: str


async def sales_report(session: AsyncSession, club: Club, kind: str, span: Period) -> SalesReport:
    """The Sales report's figures and text (the figures, the busiest hour, and the split by payment method)."""
    sales, unit = await reports.sales(session, span, club.zone), await currency(session, club)
    busy = await reports.hours(session, span, club.zone)
    text = sales_text(sales, busy, unit, kind, span) + await payment_report.sales_lines(session, club, span, unit)
    return SalesReport(sales, busy, unit, text)


async def send_sales(bot: Bot, chat_id: int, session: AsyncSession, club: Club, kind: str, span: Period) -> None:
    """The Sales report: the heatmap of its weekdays and hours (when it had purchases), then its chart with the
    figures as the caption and the buttons, last."""
    report = await sales_report(session, club, kind, span)
    sales, busy, unit, caption = report.sales, report.busy, report.unit, report.text
    # each drawing takes a few tenths of a second: both are drawn before either is sent, so they arrive together
    heat = await asyncio.to_thread(charts().hours_chart, busy) if sales.purchases.now else None
    chart = await asyncio.to_thread(charts().sales_chart, sales.days, unit)
    if heat is not None:
        await bot.send_photo(chat_id, BufferedInputFile(heat, filename=f"hours-{span.first}-{span.last}.png"))
    photo = BufferedInputFile(chart, filename=f"sales-{span.first}-{span.last}.png")
    markup = report_buttons(SALES, kind)
    await bot.send_photo(chat_id, photo, caption=caption, reply_markup=markup)


def range_question(today: date) -> str:
    """The custom range's question, with an example in the reader's calendar and digits: the last 15 days."""
    code = language()
    first, last = today - timedelta(days=14), today
    if calendar_for(code) == JALALI:
        typed = [jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d") for day in (first, last)]
    else:
        typed = [day.isoformat() for day in (first, last)]
    example = local_digits(_("report.dates").format(first=typed[0], last=typed[1]), code)
    return _("report.ask_range").format(example=example, days=days_text(MOST_DAYS))


async def ask_range(query: CallbackQuery, state: FSMContext, bot: Bot, today: date) -> None:
    """The custom range's button: ask for its days."""
    await state.set_state(RangePrompt.days)
    await bot.send_message(query.from_user.id, range_question(today))


def range_refusal(error: InvalidDate) -> str:
    """Why typed days are no range: a day its calendar lacks, the wrong order, days to come, too long, or unread."""
    refusal = RANGE_REFUSALS.get(error.reason, __("report.range_format"))
    return str(refusal).format(days=days_text(MOST_DAYS))


async def read_range(
    message: Message, state: FSMContext, session: AsyncSession, club: Club, bot: Bot, today: date
) -> None:
    """The typed days: the Sales report over them, or why not and the question again."""
    try:
        span = typed_range(message.text or "", today)
    except InvalidDate as error:
        await message.answer(range_refusal(error) + "\n\n" + range_question(today))
        return
    await state.clear()
    await send_sales(bot, message.chat.id, session, club, custom_name(span), span)


def create_router() -> Router:
    """Routes for managers' and owners' /report and its buttons."""
    router = staff_only(Router(name="report"), Role.MANAGER)
    router.message.register(report_command, Command("report"))
    router.callback_query.register(
        send_report, ReportAction.filter(F.period.func(is_period_name) & F.report.in_([*REPORTS, "pick"]))
    )
    router.callback_query.register(ask_range, ReportAction.filter(F.report == CUSTOM))
    router.message.register(read_range, StateFilter(RangePrompt.days), HAS_TEXT, NOT_COMMAND)
    return router
