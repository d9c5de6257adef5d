"""The owner's reports in the Mini App (managers and owners): the figures of /report over a period picked as in the
chat (`loyalty.periods`: today … this month, Jalali in Persian, or a custom range typed in either calendar), as JSON
the page draws its charts from.

Each report is the chat's: the same domain calls (`loyalty.reports`, through `handlers.staff.report`) and the same
text, word for word; beside it the figures by name, each with the previous period's (`now`, `before`, the change
▲ ▼ %) and, for the charts, the days' sales, the busy hours and the age bands, each value written server-side in the
reader's digits and calendar."""

from __future__ import annotations

from datetime import date
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiohttp import web

from bot.webapp.answers import Refusal
from bot.webapp.visits import Visit, for_staff
from handlers.club import currency
from handlers.staff import report
from loyalty import reports
from loyalty.calendar import calendar_for, format_date, format_day_month
from loyalty.digest import AWAY_DAYS
from loyalty.errors import InvalidDate
from loyalty.periods import Period, custom_name, is_period_name, named_period, typed_range
from loyalty.reports import Compared
from loyalty.staff import Role
from texts.changes import change
from texts.languages import language
from texts.money import amount_text, unit_name
from texts.numbers import hour_text, number
from texts.weekdays import week_order, weekday_name


def today_of(visit: Visit) -> date:
    """The shop's date at the visit's moment."""
    return visit.now.astimezone(visit.webapp.club.zone).date()


def period_asked(visit: Visit) -> tuple[str, Period]:
    """The period asked for: `?period=` a period's name (as the chat's buttons carry it), or `?range=` days typed as in
    the chat's custom range (refused with the chat's words); its name and days."""
    query, today = visit.request.query, today_of(visit)
    if "range" in query:
        try:
            span = typed_range(query["range"], today)
        except InvalidDate as error:
            raise Refusal(400, "range_refused", message=report.range_refusal(error)) from None
        return custom_name(span), span
    kind = query.get("period", "today")
    if not is_period_name(kind):
        raise Refusal(400, "webapp.bad_request")
    return kind, named_period(kind, today, calendar_for(language()))


def figure_of(figure: Compared, text: str) -> dict[str, Any]:
    """A figure for the page: its value now and in the previous period, its change (▲ 25%) and as the chat writes it."""
    return {"now": figure.now, "before": figure.before, "change": change(figure), "text": text}


def compared_figures(figures: object, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Counts (attributes `names` of `figures`, each Compared) for the page, written as the chat writes them."""
    texts = report.counts(figures, names)
    return {name: figure_of(getattr(figures, name), texts[name]) for name in names}


def days_of(sales: reports.Sales, unit: str) -> list[dict[str, Any]]:
    """Each day of the period for the sales chart: its date (axis label and in full), purchases and total."""
    code = language()
    return [
        {
            "day": day.day.isoformat(),
            "label": format_day_month(day.day, code),
            "date": format_date(day.day, code),
            "purchases": day.purchases,
            "total": day.total,
            "purchases_text": report.purchases_text(day.purchases),
            "total_text": amount_text(day.total, unit),
        }
        for day in sales.days
    ]


def hours_of(busy: reports.Hours) -> dict[str, Any]:
    """The busy hours for the heatmap: a row a weekday in the reader's week order, a column an hour."""
    code = language()
    order = week_order(code)
    return {
        "title": _("report.chart_hours"),
        "weekdays": [weekday_name(weekday, code) for weekday in order],
        "hours": [hour_text(hour) for hour in range(24)],
        "counts": [busy.counts[weekday] for weekday in order],
        "written": [[number(count) for count in busy.counts[weekday]] for weekday in order],
    }


async def sales(asked: report.Asked) -> dict[str, Any]:
    """The Sales report: its text, figures, days and busy hours."""
    found = await report.sales_report(asked.session, asked.club, asked.kind, asked.span)
    texts, figures = report.sales_figures(found.sales, found.unit), report.sales_compared(found.sales)
    title = _("report.chart_sales").format(unit=unit_name(found.unit))
    return {
        "text": found.text,
        "figures": {name: figure_of(figure, texts[name]) for name, figure in figures.items()},
        "chart": {"title": title, "days": days_of(found.sales, found.unit)},
        "hours": hours_of(found.busy) if found.sales.purchases.now else None,
    }


async def members(asked: report.Asked) -> dict[str, Any]:
    """The Members report: its text, the new and active members, and the age bands."""
    figures = await report.members_figures(asked)
    bands = [
        {"label": band, "count": count, "count_text": number(count)}
        for band, count in zip(report.age_bands(), figures.ages, strict=True)
    ]
    return {
        "text": report.members_text(figures, AWAY_DAYS, asked.kind, asked.span),
        "figures": compared_figures(figures, ("new", "active")),
        "bands": {"title": _("report.chart_members"), "bands": bands},
    }


async def points(asked: report.Asked) -> dict[str, Any]:
    """The Points and vouchers report: its text and the points issued, spent and expired."""
    figures = await reports.points(asked.session, asked.span, asked.club.zone, asked.now)
    unit = await currency(asked.session, asked.club)
    return {
        "text": report.points_report_text(figures, unit, asked.kind, asked.span),
        "figures": compared_figures(figures, ("issued", "spent", "expired")),
    }


async def top(asked: report.Asked) -> dict[str, Any]:
    """The Top customers report: its text, and the members it lists (by code, to open their page)."""
    text, listed = await report.top_report(asked.session, asked.club, asked.kind, asked.span)
    unique = {member.code: member.name for member in listed}
    return {"text": text, "members": [{"code": code, "name": name} for code, name in unique.items()]}


async def referrals(asked: report.Asked) -> dict[str, Any]:
    """The Referrals report: its text and its figures."""
    figures = await reports.referral_figures(asked.session, asked.span, asked.club.zone)
    return {
        "text": report.referrals_text(figures, asked.kind, asked.span),
        "figures": compared_figures(figures, ("opened", "joined", "bought", "points")),
    }


async def campaigns(asked: report.Asked) -> dict[str, Any]:
    """The Campaigns report: its text."""
    return {"text": await report.campaigns_report(asked)}


REPORTS = {
    report.SALES: sales,
    report.MEMBERS: members,
    report.POINTS: points,
    report.TOP: top,
    report.REFERRALS: referrals,
    report.CAMPAIGNS: campaigns,
}


async def report_of(visit: Visit) -> dict[str, Any]:
    """One report over the period asked for, with the period's name (to ask the other reports over it)."""
    name = visit.request.match_info["report"]
    if name not in REPORTS:
        raise Refusal(404, "webapp.not_found")
    kind, span = period_asked(visit)
    asked = report.Asked(visit.session, visit.webapp.club, visit.now, kind, span)
    return {"report": name, "period": kind, "heading": report.heading(kind, span), **await REPORTS[name](asked)}


async def menu(visit: Visit) -> dict[str, Any]:
    """What the reports page offers: the reports, the periods, and the custom range's question."""
    return {
        "reports": [{"name": name, "label": str(label)} for name, label in report.REPORTS.items()],
        "periods": [{"name": kind, "label": str(label)} for kind, label in report.PERIOD_NAMES.items()],
        "custom": _("report.custom"),
        "range_question": report.range_question(today_of(visit)),
    }


def add_routes(app: web.Application) -> None:
    """The reports' routes, for managers and owners."""
    app.router.add_get("/api/staff/reports", for_staff(menu, Role.MANAGER))
    app.router.add_get("/api/staff/reports/{report}", for_staff(report_of, Role.MANAGER))
