"""The Mini App's staff side in a browser: Debian's Chromium, headless, opens the real page from the real web server
on 127.0.0.1 (SQLite is enough: tests/test_webapp_staff.py runs the routes on both databases). The owner's Sales
chart over the last seven days, one bar a day, each bar's tooltip the day's total in Persian digits on its Jalali
date, as the server answered; a cashier's Members tab without Reports, a search by a phone typed in Persian digits,
and a purchase recorded from the member's page. Each saves a screenshot of its page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect

from loyalty.numerals import format_number
from loyalty.staff import Role
from tests.browser import VIEWPORT, screenshot
from tests.factories import NOW
from tests.lookups import member_of
from tests.mini_app import MiniApp, open_page, signed_init_data, visible_tabs
from tests.people import CASHIER, MANAGER, OWNER, MakeChat, Sessions, customer, hire
from tests.steps import buy

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

DAILY = [100_000 * (days_ago + 1) for days_ago in range(7)]  # what Sara spent today, yesterday, … six days ago
LAST_7_DAYS = "۷ روز گذشته"


async def sara_buying_each_day(chat_with: MakeChat, sessions: Sessions) -> None:
    """Sara (0912 123 4567), with one purchase on each of the last seven days (DAILY)."""
    _, member = await customer(chat_with, sessions)
    for days_ago, amount in enumerate(DAILY):
        await buy(sessions, member.id, amount, at=NOW - timedelta(days=days_ago), update_id=days_ago + 1)


async def open_as(page: Page, app: MiniApp, user_id: int, first_view: str) -> None:
    """Open the Mini App in Persian as account `user_id`, and wait for the staff view it opens on."""
    await open_page(page, app, signed_init_data(user_id))
    await expect(page.locator(f"#view-{first_view}")).to_be_visible()
    await expect(page.locator("#status")).to_be_hidden()


async def last_7_days_sales(page: Page) -> dict[str, Any]:
    """Pick "last 7 days" on the Sales report; the server's answer, once its chart is drawn."""
    async with page.expect_response(lambda response: "reports/sales?period=last7" in response.url) as answered:
        await page.locator("#period-names button", has_text=LAST_7_DAYS).click()
    body: dict[str, Any] = await (await answered.value).json()
    await expect(page.locator("#report-charts svg rect.bar-shape")).to_have_count(len(body["chart"]["days"]))
    return body


async def bar_of(page: Page, days_ago: int) -> Locator:
    """The Sales chart's bar of the day `days_ago` (the last in the page's order is today's)."""
    bars = page.locator("#report-charts svg rect.bar-shape")
    return bars.nth(await bars.count() - 1 - days_ago)


async def tooltip_of(page: Page, days_ago: int) -> str:
    """Hover the bar of the day `days_ago` and read the tooltip it shows."""
    await (await bar_of(page, days_ago)).hover()
    await expect(page.locator("#tooltip")).to_be_visible()
    return await page.locator("#tooltip").inner_text()


async def owners_sales_chart(chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page) -> dict[str, Any]:
    """Sara buying each day, and the owner on the last 7 days' Sales chart; the server's answer."""
    await sara_buying_each_day(chat_with, sessions)
    await open_as(page, app, OWNER, "reports")
    return await last_7_days_sales(page)


# --- reports --------------------------------------------------------------------------------------------------------


async def test_the_owner_opens_on_the_reports_tab(app: MiniApp, page: Page) -> None:
    await open_as(page, app, OWNER, "reports")

    assert await visible_tabs(page) == ["card", "points", "history", "rewards", "vouchers", "reports", "members"]


async def test_the_last_7_days_sales_chart_has_a_bar_for_each_day(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await sara_buying_each_day(chat_with, sessions)
    await open_as(page, app, OWNER, "reports")

    answered = await last_7_days_sales(page)

    assert [day["total"] for day in answered["chart"]["days"]] == DAILY[::-1]
    heights = await page.locator("#report-charts svg rect.bar-shape").evaluate_all(
        "bars => bars.map(bar => Number(bar.getAttribute('height')))"
    )
    assert heights == sorted(heights, reverse=True) and heights[0] > heights[-1] > 0  # the oldest day spent most


async def test_in_persian_the_days_run_right_to_left(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await sara_buying_each_day(chat_with, sessions)
    await open_as(page, app, OWNER, "reports")

    await last_7_days_sales(page)

    lefts = [(await (await bar_of(page, days_ago)).bounding_box() or {"x": -1})["x"] for days_ago in range(7)]
    assert lefts == sorted(lefts) and lefts[0] >= 0  # today's bar leftmost, six days ago's rightmost


async def test_every_bars_tooltip_is_the_servers_figures_of_its_day(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    answered = await owners_sales_chart(chat_with, sessions, app, page)

    shown = [await tooltip_of(page, days_ago) for days_ago in range(7)]

    days = answered["chart"]["days"][::-1]  # today's first, as `days_ago` counts
    assert shown == [f"{day['date']}: {day['total_text']} · {day['purchases_text']}" for day in days]


async def test_a_bars_tooltip_shows_its_days_total_in_persian_digits_on_its_jalali_date(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await sara_buying_each_day(chat_with, sessions)
    await hire(sessions, MANAGER, Role.MANAGER)
    await open_as(page, app, MANAGER, "reports")
    answered = await last_7_days_sales(page)

    shown = await tooltip_of(page, 2)

    day = answered["chart"]["days"][-3]
    assert shown.startswith("۲۹ آبان ۱۴۰۵: ۳۰۰٬۰۰۰ تومان")  # 20 Nov 2026, when Sara spent 300,000
    assert shown.startswith(f"{day['date']}: {day['total_text']}")
    assert format_number(day["total"], "fa") in shown
    await screenshot(page, "mini-app-report-fa")


async def test_the_tooltips_of_the_bars_at_the_charts_edges_stay_on_the_screen(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await owners_sales_chart(chat_with, sessions, app, page)
    edges = []

    for days_ago in (0, 6):  # today's bar on the left, the oldest on the right
        await tooltip_of(page, days_ago)
        edges.append(await page.locator("#tooltip").evaluate("tip => tip.getBoundingClientRect().toJSON()"))

    assert all(edge["left"] >= 0 and edge["right"] <= VIEWPORT["width"] for edge in edges), edges


async def test_a_tapped_bar_keeps_its_tooltip_after_the_finger_lifts(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, touch_page: Page
) -> None:
    await owners_sales_chart(chat_with, sessions, app, touch_page)

    await (await bar_of(touch_page, 2)).tap()

    await expect(touch_page.locator("#tooltip")).to_be_visible()
    await expect(touch_page.locator("#tooltip")).to_contain_text("۲۹ آبان ۱۴۰۵")


async def test_a_tap_beside_the_chart_hides_the_tooltip(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, touch_page: Page
) -> None:
    await owners_sales_chart(chat_with, sessions, app, touch_page)
    await (await bar_of(touch_page, 2)).tap()

    await touch_page.locator("#report-text").tap()

    await expect(touch_page.locator("#tooltip")).to_be_hidden()


# --- members --------------------------------------------------------------------------------------------------------


async def test_a_cashier_sees_members_but_not_reports(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await customer(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)

    await open_as(page, app, CASHIER, "members")

    tabs = await visible_tabs(page)
    assert "members" in tabs and "reports" not in tabs


async def at_the_counter(chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page) -> None:
    """Sara a member, and the cashier on her Members tab."""
    await customer(chat_with, sessions)
    await hire(sessions, CASHIER, Role.CASHIER)
    await open_as(page, app, CASHIER, "members")


async def search(page: Page, words: str) -> None:
    """Search the members for `words` as the cashier types them."""
    await page.locator("#search").fill(words)
    await page.locator("#search-form button").click()


async def test_a_cashier_finds_a_member_by_a_phone_typed_in_persian_digits(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await at_the_counter(chat_with, sessions, app, page)

    await search(page, "۰۹۱۲ ۱۲۳ ۴۵۶۷")

    await expect(page.locator("#found li")).to_have_count(1)
    await expect(page.locator("#found li")).to_contain_text("Sara")


async def test_a_purchase_recorded_on_the_members_page_raises_the_balance_it_shows(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await at_the_counter(chat_with, sessions, app, page)
    await search(page, "۰۹۱۲۱۲۳۴۵۶۷")
    await page.locator("#found li").click()
    await expect(page.locator("#member p.item")).to_contain_text(format_number(100, "fa"))

    await page.locator("#member form input").first.fill("۲۵۰ هزار")
    await page.locator("#member form button").first.click()

    await expect(page.locator("#member .message")).to_be_visible()
    balance = (await member_of(sessions)).balance
    assert balance > 100
    await expect(page.locator("#member p.item")).to_contain_text(format_number(balance, "fa"))
    await screenshot(page, "mini-app-member-fa")
