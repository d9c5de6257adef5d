"""The playground in a browser, as a shop owner trying it sees it: a newcomer joins by sharing their contact, the
cashier records their purchase, and the newcomer's balance shows it; the page switches to English. Screenshots of
each step land in tests/artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Dialog, Page, expect

from bot.playground.cast import ALI, CASHIER, Person
from tests.browser import screenshot
from tests.playground import demo

pytestmark = pytest.mark.browser
ANSWERED = 15_000  # ms the bot gets to answer on a busy machine
QUIET = 400  # ms without a new message after which the bot has answered


async def open_chat(page: Page, person: Person) -> None:
    """Click the person in the people list; their chat is shown, its messages drawn (not the last chat's)."""
    await page.locator(".person", has_text=person.first_name).click()
    await expect(page.locator("#chat-name")).to_have_text(person.first_name)
    await expect(page.locator(f'#messages[data-chat="{person.telegram_id}"]')).to_be_attached()


async def answered(page: Page, seen: int) -> None:
    """Wait until the bot's messages number more than `seen` and a moment passes without another."""
    replies = page.locator(".bubble:not(.mine)")
    await page.wait_for_function(
        "seen => document.querySelectorAll('.bubble:not(.mine)').length > seen", arg=seen, timeout=ANSWERED
    )
    while True:
        count = await replies.count()
        await page.wait_for_timeout(QUIET)
        if await replies.count() == count:
            return


async def bot_messages(page: Page) -> int:
    return await page.locator(".bubble:not(.mine)").count()


async def say(page: Page, text: str) -> None:
    """Type `text` and send it; wait for the bot's answer."""
    seen = await bot_messages(page)
    await page.locator("#input").fill(text)
    await page.locator("#send").click()
    await answered(page, seen)


async def tap_key(page: Page, selector: str) -> None:
    """Press a reply-keyboard button; wait for the bot's answer."""
    seen = await bot_messages(page)
    await page.locator(selector).click()
    await answered(page, seen)


async def accept(dialog: Dialog) -> None:
    await dialog.accept()


async def test_a_newcomer_joins_and_the_cashiers_purchase_shows_in_their_balance(tmp_path: Path, page: Page) -> None:
    page.on("dialog", accept)  # "share your phone number with the bot?"
    async with demo(tmp_path) as visitor:
        await page.goto(visitor.url)
        await open_chat(page, ALI)
        await say(page, "/start")
        await expect(page.locator(".keyboard-button.contact")).to_be_visible()
        await tap_key(page, ".keyboard-button.contact")
        await say(page, ALI.first_name)
        for _ in range(3):  # birthday, gender, news: the last button, not now
            await tap_key(page, ".keyboard-button >> nth=-1")
        await screenshot(page, "playground-joined")
        await say(page, "/balance")
        await expect(page.locator(".bubble:not(.mine)").last).to_contain_text("۱۰۰")

        await open_chat(page, CASHIER)
        await say(page, f"/earn {ALI.phone} 250000")
        await screenshot(page, "playground-cashier")

        await open_chat(page, ALI)
        await say(page, "/balance")
        newest = page.locator(".bubble:not(.mine)").last
        await expect(newest).to_contain_text("۱۲۵")
        await expect(newest).to_be_in_viewport()  # above the main menu that came up when Ali joined
        await screenshot(page, "playground-balance")


async def test_the_page_speaks_persian_right_to_left_and_switches_to_english(tmp_path: Path, page: Page) -> None:
    async with demo(tmp_path) as visitor:
        await page.goto(visitor.url)
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        persian = await page.locator("#input").get_attribute("placeholder")

        await page.locator("#language").click()

        await expect(page.locator("html")).to_have_attribute("dir", "ltr")
        assert await page.locator("#input").get_attribute("placeholder") != persian
        await open_chat(page, CASHIER)
        await screenshot(page, "playground-english")
