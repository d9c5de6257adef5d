"""The Mini App in a browser: Debian's Chromium, headless, opens the real page from the real web server on
127.0.0.1 (SQLite is enough: tests/test_webapp.py runs the API on both databases), with initData and the theme in
the URL fragment as the messenger opens it; the member's card, points, history and rewards, Persian right to left
and English left to right, refusals, and a redeem raced against the chat's. Each saves a screenshot of its page."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from loyalty.codes import grouped
from loyalty.numerals import local_digits
from storage.models import LedgerEntry, Voucher
from tests.browser import screenshot
from tests.databases import sqlite_copy
from tests.factories import NOW
from tests.lookups import count, member_of
from tests.mini_app import MiniApp, member_with_600_points, open_page, open_tab, signed_init_data, visible_tabs
from tests.people import CUSTOMER, MakeChat, Sessions
from tests.steps import add
from texts.numbers import LEFT_TO_RIGHT_MARK

pytestmark = pytest.mark.browser

MEMBER_TABS = ["card", "points", "history", "rewards", "vouchers"]
DARK = {  # a phone in dark mode, as the messenger passes its colours
    "bg_color": "#17212b",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "link_color": "#6ab3f3",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#232e3c",
}


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated SQLite database of this test's own."""
    return sqlite_copy(sqlite_template, tmp_path)


async def open_card(page: Page, app: MiniApp, language: str = "fa", theme: dict[str, str] | None = None) -> None:
    """Open the Mini App as the customer, with fresh initData from an app set to `language`, on their card."""
    await open_page(page, app, signed_init_data(CUSTOMER, language_code=language), theme)
    await expect(page.locator("#view-card")).to_be_visible()


# --- who may open it ---------------------------------------------------------------------------------------------


async def test_valid_init_data_opens_the_members_card_with_its_qr_and_code(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "fa")

    await open_card(page, app)

    await expect(page.locator("#card-qr")).to_be_visible()
    assert await page.locator("#card-qr").evaluate("image => image.naturalWidth") > 0
    shown = LEFT_TO_RIGHT_MARK + local_digits(grouped((await member_of(sessions)).code), "fa")  # "‎۸۱۸۸ ۰۵۶۹"
    await expect(page.locator("#card-code")).to_have_text(shown)
    await screenshot(page, "mini-app-card-fa")


async def test_a_persian_members_page_reads_right_to_left_in_persian(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "fa")

    await open_card(page, app)

    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await expect(page.locator("html")).to_have_attribute("lang", "fa")
    await expect(page.locator("#tabs button[data-view='card']")).to_have_text("کارت")


async def test_an_english_members_page_reads_left_to_right_in_english(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "en")

    await open_card(page, app, "en")

    await expect(page.locator("html")).to_have_attribute("dir", "ltr")
    await expect(page.locator("#tabs button[data-view='card']")).to_have_text("Card")
    await screenshot(page, "mini-app-card-en")


async def test_init_data_signed_with_another_token_shows_the_error_and_is_refused_with_401(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "en")
    forged = signed_init_data(CUSTOMER, token="2000:someone-elses-token", language_code="en")

    answer = await open_page(page, app, forged)

    assert answer.status == 401
    await expect(page.locator("#status-text")).to_have_text((await answer.json())["message"])
    await expect(page.locator("#retry")).to_be_hidden()  # the same initData would be refused again
    await expect(page.locator("#tabs")).to_be_hidden()
    await expect(page.locator("#view-card")).to_be_hidden()
    await screenshot(page, "mini-app-forged")


async def test_init_data_signed_over_an_hour_ago_shows_the_error_and_is_refused_with_401(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "en")
    stale = signed_init_data(CUSTOMER, at=NOW - timedelta(hours=1, minutes=1), language_code="en")

    answer = await open_page(page, app, stale)

    assert answer.status == 401
    assert (await answer.json())["error"] == "webapp.expired"
    await expect(page.locator("#status-text")).to_have_text((await answer.json())["message"])
    await expect(page.locator("#retry")).to_be_hidden()
    await expect(page.locator("#tabs")).to_be_hidden()


async def test_a_customer_sees_only_the_members_tabs(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "en")

    await open_card(page, app, "en")

    assert await visible_tabs(page) == MEMBER_TABS


async def test_a_customer_going_to_a_staff_route_from_the_page_is_refused_with_403(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "en")
    await open_card(page, app, "en")

    status = await page.evaluate(
        """async () => {
            const initData = new URLSearchParams(location.hash.slice(1)).get("tgWebAppData");
            const answer = await fetch("api/staff/whoami", { headers: { Authorization: "tma " + initData } });
            return answer.status;
        }"""
    )

    assert status == 403


# --- what a member sees ------------------------------------------------------------------------------------------


async def test_the_points_tab_shows_the_members_points_and_tier(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "en")
    await open_card(page, app, "en")

    await open_tab(page, "points")

    await expect(page.locator("#points")).to_have_text("600")
    await expect(page.locator("#tier")).to_have_text("Bronze")
    await screenshot(page, "mini-app-points-en")


async def test_the_persian_points_tab_shows_the_points_in_persian_digits(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "fa")
    await open_card(page, app)

    await open_tab(page, "points")

    await expect(page.locator("#points")).to_have_text("۶۰۰")
    await screenshot(page, "mini-app-points-fa")


async def test_the_history_tab_lists_the_ledger_newest_first(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "fa")
    await open_card(page, app)

    await open_tab(page, "history")

    await expect(page.locator("#history li bdi")).to_have_text(["+۵۰۰", "+۱۰۰"])
    await screenshot(page, "mini-app-history-fa")


async def test_the_rewards_tab_offers_the_affordable_reward_to_redeem(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "fa")
    await add(sessions, name="قهوه", cost=100)
    await add(sessions, name="کیک", cost=900)
    await open_card(page, app)

    await open_tab(page, "rewards")

    await expect(page.locator("#rewards .item button")).to_have_count(1)
    await screenshot(page, "mini-app-rewards-fa")


async def test_a_redeem_in_the_page_and_a_yes_in_the_chat_at_once_redeem_once(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    chat = await member_with_600_points(chat_with, sessions, "en")
    reward = await add(sessions)
    [question, _answered] = await chat.press(f"rwd:ask:{reward.id}:0")
    await open_card(page, app, "en")
    await open_tab(page, "rewards")
    await page.locator("#rewards .item > button").click()
    yes = page.locator("#rewards .message button").first

    await asyncio.gather(yes.click(), chat.press(question.callback_data()[0]))

    await expect(page.locator("#rewards .message .code")).to_be_visible()
    assert await count(sessions, Voucher) == 1
    assert await count(sessions, LedgerEntry, LedgerEntry.points < 0) == 1
    assert (await member_of(sessions)).balance == 500
    await screenshot(page, "mini-app-redeemed-en")


# --- the theme ---------------------------------------------------------------------------------------------------


async def test_the_messengers_dark_theme_colours_the_page(
    chat_with: MakeChat, sessions: Sessions, app: MiniApp, page: Page
) -> None:
    await member_with_600_points(chat_with, sessions, "fa")

    await open_card(page, app, theme=DARK)

    background = await page.locator("body").evaluate("body => getComputedStyle(body).backgroundColor")
    assert background == "rgb(23, 33, 43)"  # DARK's bg_color
    await screenshot(page, "mini-app-card-fa-dark")
