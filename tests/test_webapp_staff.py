"""The Mini App's staff side over HTTP (a real web server on 127.0.0.1), on SQLite and PostgreSQL: every staff route
refuses customers and the manager's refuse cashiers; a report's figures are loyalty.reports' for the same period;
the member search reads phones as the chat does; a purchase recorded from the web is the chat's purchase, once per
form sent; undo and adjust go through the chat's calls; an export is /export's file."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import club_of
from bot.i18n import create_i18n
from bot.settings import Settings
from handlers.staff.exports.cells import header
from loyalty import exports, reports, rules
from loyalty.calendar import JALALI
from loyalty.numerals import format_number
from loyalty.periods import named_period
from loyalty.staff import Role
from loyalty.stamps import Stamp
from storage.models import Purchase
from tests.chat import Chat
from tests.factories import NOW
from tests.lookups import member_of
from tests.mini_app import MiniApp
from tests.people import CASHIER, CUSTOMER, MANAGER, OWNER, customer, hire, joined
from tests.steps import buy

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
KEY = "form-0001-abcdef"
STAFF_ROUTES = [
    ("GET", "/api/staff/whoami"),
    ("GET", "/api/staff/reports"),
    ("GET", "/api/staff/reports/sales?period=today"),
    ("GET", "/api/staff/members?q=Sara"),
    ("GET", "/api/staff/members/1"),
    ("POST", "/api/staff/members/1/purchases"),
    ("POST", "/api/staff/members/1/adjust"),
    ("POST", "/api/staff/purchases/1/undo"),
    ("GET", "/api/staff/exports"),
    ("GET", "/api/staff/exports/members.csv"),
]
MANAGER_ROUTES = [
    ("GET", "/api/staff/reports"),
    ("GET", "/api/staff/reports/sales?period=today"),
    ("POST", "/api/staff/members/1/adjust"),
    ("POST", "/api/staff/purchases/1/undo"),
    ("GET", "/api/staff/exports"),
    ("GET", "/api/staff/exports/members.csv"),
]


async def sara(chat_with: MakeChat, sessions: Sessions) -> int:
    """Sara, who joined by chat in Persian with 0912 123 4567 (100 welcome points): her member id."""
    _, member = await customer(chat_with, sessions)
    return member.id


async def purchase(app: MiniApp, member_id: int, amount: str, key: str = KEY, **more: object) -> object:
    """A purchase recorded by the cashier from the member's page."""
    return await app.post(f"/api/staff/members/{member_id}/purchases", CASHIER, {"amount": amount, "key": key, **more})


async def purchases_of(sessions: Sessions, member_id: int) -> list[Purchase]:
    async with sessions() as session:
        return list((await session.scalars(select(Purchase).where(Purchase.member_id == member_id))).all())


# --- who may ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
async def test_a_customer_is_refused_every_staff_route(
    chat_with: MakeChat, app: MiniApp, method: str, path: str
) -> None:
    await joined(chat_with)

    answer = await app.post(path, CUSTOMER, {}) if method == "POST" else await app.get(path, CUSTOMER)

    assert answer.status == 403
    assert answer.body["error"] == "webapp.staff_only"


@pytest.mark.parametrize(("method", "path"), MANAGER_ROUTES)
async def test_a_cashier_is_refused_the_managers_routes(
    sessions: Sessions, app: MiniApp, method: str, path: str
) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)

    answer = await app.post(path, CASHIER, {}) if method == "POST" else await app.get(path, CASHIER)

    assert answer.status == 403
    assert answer.body["message"] == "این صفحه فقط برای کارکنان فروشگاه است."


async def test_a_cashier_is_told_only_the_members_pages_are_theirs(sessions: Sessions, app: MiniApp) -> None:
    await hire(sessions, CASHIER, Role.CASHIER)

    answer = await app.get("/api/staff/whoami", CASHIER)

    assert answer.body == {"role": "cashier", "may": {"members": True, "reports": False, "exports": False}}


# --- reports ----------------------------------------------------------------------------------------------------


async def test_the_sales_report_has_the_figures_of_loyalty_reports_for_the_same_period(
    chat_with: MakeChat, sessions: Sessions, settings: Settings, app: MiniApp
) -> None:
    member_id = await sara(chat_with, sessions)
    await buy(sessions, member_id, 200_000, at=NOW - timedelta(days=1), update_id=1)
    await buy(sessions, member_id, 300_000, at=NOW, update_id=2)
    await buy(sessions, member_id, 50_000, at=NOW - timedelta(days=9), update_id=3)

    answer = await app.get("/api/staff/reports/sales?period=last7", OWNER)

    zone = club_of(settings).zone
    async with sessions() as session:
        expected = await reports.sales(session, named_period("last7", NOW.astimezone(zone).date(), JALALI), zone)
    figures = answer.body["figures"]
    assert (figures["purchases"]["now"], figures["purchases"]["before"]) == (2, 1)
    assert (figures["total"]["now"], figures["total"]["before"]) == (expected.total.now, expected.total.before)
    assert [day["total"] for day in answer.body["chart"]["days"]] == [day.total for day in expected.days]
    assert figures["total"]["change"] == "▲ ۹۰۰٪"


async def test_a_reports_days_are_jalali_in_persian_digits(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    await buy(sessions, await sara(chat_with, sessions), 250_000, update_id=1)

    answer = await app.get("/api/staff/reports/sales?period=today", OWNER)

    [today] = answer.body["chart"]["days"]
    assert (today["label"], today["total_text"]) == ("۱ آذر", "۲۵۰٬۰۰۰ تومان")
    assert answer.body["hours"]["counts"][1][12] == 1  # a Sunday (the second day from Saturday), 12:30 in Tehran
    assert answer.body["hours"]["weekdays"][1] == "یکشنبه"


async def test_the_points_report_has_the_points_of_loyalty_reports(
    chat_with: MakeChat, sessions: Sessions, settings: Settings, app: MiniApp
) -> None:
    await buy(sessions, await sara(chat_with, sessions), 250_000, update_id=1)

    answer = await app.get("/api/staff/reports/points?period=month", OWNER)

    zone = club_of(settings).zone
    async with sessions() as session:
        span = named_period("month", NOW.astimezone(zone).date(), JALALI)
        expected = await reports.points(session, span, zone, NOW)
    issued = answer.body["figures"]["issued"]
    assert (issued["now"], issued["before"]) == (expected.issued.now, expected.issued.before) != (0, 0)


async def test_the_top_customers_report_lists_the_members_to_open(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    await buy(sessions, await sara(chat_with, sessions), 250_000, update_id=1)

    answer = await app.get("/api/staff/reports/top?period=today", OWNER)

    [listed] = answer.body["members"]
    assert listed["name"] == "Sara" and (await member_of(sessions)).code == listed["code"]


async def test_a_custom_range_typed_in_jalali_is_the_period_of_its_days(app: MiniApp) -> None:
    answer = await app.get("/api/staff/reports/members?range=۱۴۰۵/۰۸/۰۱ تا ۱۴۰۵/۰۸/۳۰", OWNER)

    assert answer.status == 200
    assert answer.body["period"] == "r20261023-20261121"
    assert len(answer.body["bands"]["bands"]) == len(reports.AGE_LIMITS) + 2


async def test_a_range_in_the_wrong_order_is_refused_in_the_chats_words(app: MiniApp) -> None:
    answer = await app.get("/api/staff/reports/sales?range=1405/08/30 - 1405/08/01", OWNER)

    assert answer.status == 400
    assert answer.body["error"] == "range_refused"
    assert answer.body["message"].startswith("روز اول بعد از روز آخر")


async def test_an_unknown_report_is_not_found(app: MiniApp) -> None:
    answer = await app.get("/api/staff/reports/weather?period=today", OWNER)

    assert answer.status == 404


# --- members ----------------------------------------------------------------------------------------------------


async def test_the_search_finds_a_member_by_a_phone_in_persian_digits(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    await sara(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)

    answer = await app.get("/api/staff/members?q=۰۹۱۲ ۱۲۳ ۴۵۶۷", CASHIER)

    [found] = answer.body["members"]
    assert (found["name"], found["points"]) == ("Sara", "۱۰۰")


async def test_the_search_finds_members_by_the_start_of_their_name(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    await sara(chat_with, sessions)

    assert [found["name"] for found in (await app.get("/api/staff/members?q=sa", OWNER)).body["members"]] == ["Sara"]
    assert (await app.get("/api/staff/members?q=Reza", OWNER)).body["members"] == []


async def test_a_purchase_recorded_from_the_web_is_in_the_members_balance(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    member_id = await sara(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)

    answer = await purchase(app, member_id, "۲۵۰ هزار")

    assert answer.status == 200 and not answer.body["duplicate"]
    balance = (await member_of(sessions)).balance
    assert balance > 100
    page = await app.get(f"/api/staff/members/{member_id}", CASHIER)
    assert page.body["points"] == format_number(balance, "fa")
    assert page.body["may"] == {"record": True, "undo": False, "adjust": False}


async def test_a_purchase_form_sent_twice_records_once(chat_with: MakeChat, sessions: Sessions, app: MiniApp) -> None:
    member_id = await sara(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)

    first = await purchase(app, member_id, "250000")
    second = await purchase(app, member_id, "250000")

    assert (first.body["duplicate"], second.body["duplicate"]) == (False, True)
    assert len(await purchases_of(sessions, member_id)) == 1


async def test_an_amount_above_the_owners_cap_is_asked_about_before_it_is_recorded(
    chat_with: MakeChat, sessions: Sessions, settings: Settings, app: MiniApp
) -> None:
    member_id = await sara(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)
    async with sessions() as session:
        cap = Stamp(OWNER, "cap", NOW)
        await rules.set_rule(session, club_of(settings).rules, "purchase_confirm_above", 1_000_000, cap)

    asked = await purchase(app, member_id, "5000000")
    unrecorded = await purchases_of(sessions, member_id)
    confirmed = await purchase(app, member_id, "5000000", confirm=True)

    assert (asked.status, asked.body["error"], unrecorded) == (409, "confirm_amount", [])
    assert "۵٬۰۰۰٬۰۰۰" in asked.body["message"]
    assert confirmed.status == 200
    assert [bought.amount for bought in await purchases_of(sessions, member_id)] == [5_000_000]


async def test_a_bad_amount_is_refused_in_the_chats_words(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    member_id = await sara(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)

    answer = await purchase(app, member_id, "a lot")

    assert answer.status == 409
    assert answer.body["error"] == "purchase_refused" and answer.body["message"]
    assert await purchases_of(sessions, member_id) == []


async def test_a_purchase_without_the_forms_key_is_a_bad_request(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    member_id = await sara(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)

    answer = await app.post(f"/api/staff/members/{member_id}/purchases", CASHIER, {"amount": "250000"})

    assert answer.status == 400


async def test_a_manager_undoes_a_purchase_and_its_points_are_taken_back(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp
) -> None:
    member_id = await sara(chat_with, sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    earned = await buy(sessions, member_id, 250_000)

    answer = await app.post(f"/api/staff/purchases/{earned.purchase.id}/undo", MANAGER)
    again = await app.post(f"/api/staff/purchases/{earned.purchase.id}/undo", MANAGER)

    assert answer.status == 200 and again.status == 409
    assert (await member_of(sessions)).balance == 100


async def test_a_manager_adjusts_points_with_a_reason(chat_with: MakeChat, sessions: Sessions, app: MiniApp) -> None:
    member_id = await sara(chat_with, sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    body = {"points": "-۳۰", "reason": "wrong card", "key": KEY}

    answer = await app.post(f"/api/staff/members/{member_id}/adjust", MANAGER, body)
    await app.post(f"/api/staff/members/{member_id}/adjust", MANAGER, body)

    assert answer.status == 200
    assert (await member_of(sessions)).balance == 70


async def test_an_adjustment_without_a_reason_is_refused(chat_with: MakeChat, sessions: Sessions, app: MiniApp) -> None:
    member_id = await sara(chat_with, sessions)

    answer = await app.post(f"/api/staff/members/{member_id}/adjust", OWNER, {"points": "50", "key": KEY})

    assert answer.status == 400 and answer.body["error"] == "webapp.reason_needed"
    assert (await member_of(sessions)).balance == 100


# --- exports ----------------------------------------------------------------------------------------------------


async def test_the_members_export_downloads_with_its_header_row(
    chat_with: MakeChat, sessions: Sessions, settings: Settings, app: MiniApp
) -> None:
    await sara(chat_with, sessions)

    answer = await app.download("/api/staff/exports/members.csv", OWNER)

    assert answer.status == 200
    assert answer.headers["Content-Disposition"] == 'attachment; filename="members-2026-11-22.csv"'
    i18n = create_i18n("fa")
    with i18n.context(), i18n.use_locale("fa"):
        expected = header(exports.MEMBERS, club_of(settings).rules.currency)
    [names, row] = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert names == expected
    assert "Sara" in row


async def test_the_vouchers_export_of_no_vouchers_is_refused_in_words(app: MiniApp) -> None:
    answer = await app.download("/api/staff/exports/vouchers.xlsx", OWNER)

    assert answer.status == 409


async def test_the_ledger_downloads_as_a_workbook(chat_with: MakeChat, sessions: Sessions, app: MiniApp) -> None:
    await sara(chat_with, sessions)

    answer = await app.download("/api/staff/exports/ledger.xlsx", OWNER)

    assert answer.status == 200 and answer.content.startswith(b"PK")
