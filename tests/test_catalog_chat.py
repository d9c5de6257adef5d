"""/catalog through the real dispatcher: managers add rewards with the wizard, switch them and change stock and cost."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty.staff import Role
from loyalty.vouchers import Kind
from tests import updates
from tests.chat import Chat, Reply, texts, walk
from tests.lookups import audit_log, stored_rewards
from tests.people import NEEDS_MANAGER, customer, hire, manager_chat
from tests.steps import add
from tests.wizards import NEW_REWARD, REWARD, reward_to_summary

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
OWNER, MANAGER, CASHIER, CUSTOMER = 1, 3, 7, 42
NEW, SAVE, CANCEL = NEW_REWARD, REWARD.confirm, REWARD.cancel
back, choose, skip = REWARD.back, REWARD.choose, REWARD.skip


async def photo(chat: Chat) -> list[Reply]:
    """Send a photo in two sizes, the larger one second."""
    sizes = [
        {"file_id": "small-photo", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": "large-photo", "file_unique_id": "l", "width": 1280, "height": 960},
    ]
    return await chat.feed(updates.message_update(chat.user, photo=sizes))


async def test_an_empty_catalog_offers_a_new_reward(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    [catalog] = await manager.say("/catalog")
    assert "The catalog is empty" in catalog.text
    assert catalog.buttons() == ["➕ New reward"] and catalog.callback_data() == [NEW]


async def test_a_manager_adds_a_reward_with_every_field_in_persian_digits(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    manager = await manager_chat(chat_with, sessions)
    [name, _] = await manager.press(NEW)
    assert name.name == "EditMessageText" and "What is it called?" in name.text
    await walk(manager, "  Weekend   coffee ", "A cup of the day, weekends only")
    [percent, _] = await manager.press(choose("kind", "percent"))
    assert "What percentage off?" in percent.text
    await walk(manager, "۲۰٪", "۵۰٬۰۰۰", "۳۰۰", "۳۰", "۱۲", "۲")
    [summary] = await photo(manager)
    assert "Please check the new reward" in summary.text
    assert "20% off, up to 50,000 toman" in summary.text and "Cost: 300 points" in summary.text
    assert "Stock: 12 left" in summary.text and "Per member: 2" in summary.text and "Photo: yes" in summary.text
    assert summary.callback_data() == [SAVE, back("confirm"), CANCEL]
    [saved, _] = await manager.press(SAVE)
    assert saved.text.startswith("✅ Saved: Weekend coffee is in the catalog.")
    [reward] = await stored_rewards(sessions)
    assert (reward.name, reward.description) == ("Weekend coffee", "A cup of the day, weekends only")
    assert (reward.kind, reward.value, reward.cap) == (Kind.PERCENT, 20, 50_000)
    assert (reward.cost, reward.validity_days, reward.stock, reward.per_member_limit) == (300, 30, 12, 2)
    assert (reward.photo_file_id, reward.active, reward.created_by) == ("large-photo", True, MANAGER)
    [(action, actor, details)] = await audit_log(sessions)
    assert (action, actor, details["name"], details["stock"]) == ("reward.add", MANAGER, "Weekend coffee", 12)


async def test_a_manager_adds_a_reward_skipping_every_optional_step(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, NEW, "Free cake", skip("description"), choose("kind", "item"), "100", "7")
    await walk(manager, skip("stock"), skip("limit"))
    [summary, _] = await manager.press(skip("photo"))
    assert (
        "a free item" in summary.text and "Stock: unlimited" in summary.text and "Per member: no limit" in summary.text
    )
    assert "(no description)" in summary.text and "Photo: none" in summary.text
    await manager.press(SAVE)
    [reward] = await stored_rewards(sessions)
    assert (reward.name, reward.description, reward.kind, reward.value, reward.cap) == (
        "Free cake",
        "",
        "item",
        None,
        None,
    )
    assert (reward.cost, reward.validity_days, reward.stock, reward.per_member_limit) == (100, 7, None, None)
    assert reward.photo_file_id is None


async def test_an_amount_off_asks_for_the_amount_and_no_cap(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, NEW, "50,000 off", skip("description"))
    [amount, _] = await manager.press(choose("kind", "fixed"))
    assert "How much off?" in amount.text
    [cost] = await manager.say("50,000")
    assert "How many points does it cost?" in cost.text
    [summary, _] = await walk(manager, "500", "60", "5", skip("limit"), skip("photo"))
    assert "50,000 toman off" in summary.text and "Voucher valid for 60 days" in summary.text
    await manager.press(SAVE)
    [reward] = await stored_rewards(sessions)
    assert (reward.kind, reward.value, reward.cap, reward.stock) == ("fixed", 50_000, None, 5)


async def test_a_persian_manager_is_asked_in_persian(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions, "fa")
    [name, _] = await manager.press(NEW)
    assert "نامش چیست؟" in name.text and name.buttons() == ["✖️ انصراف"]
    [description] = await manager.say("قهوه")
    assert description.buttons() == ["فعلاً نه", "➡️ بازگشت", "✖️ انصراف"]
    [kind, _] = await manager.press(skip("description"))
    assert kind.buttons() == ["💵 مبلغ ثابت تخفیف", "📉 درصد تخفیف", "🎁 کالای رایگان", "➡️ بازگشت", "✖️ انصراف"]
    await walk(manager, choose("kind", "percent"), "۱۰", skip("cap"), "۱٬۵۰۰", "۳۰", "۵", skip("limit"))
    [summary, _] = await manager.press(skip("photo"))
    assert "۱۰٪ تخفیف" in summary.text and "امتیاز لازم: ۱٬۵۰۰" in summary.text and "۵ عدد مانده" in summary.text


@pytest.mark.parametrize(
    ("before", "typed", "answer", "question"),
    [
        ((), "x" * 65, "The name must be 1 to 64 characters long.", "What is it called?"),
        (("Cake",), "y" * 1001, "at most 1,000 characters", "Describe it"),
        (
            ("Cake", skip("description")),
            "fixed",
            "Please answer with the buttons below.",
            "What does the voucher give?",
        ),
        (("Cake", skip("description"), choose("kind", "percent")), "150", "from 1 to 100", "What percentage off?"),
        (("Cake", skip("description"), choose("kind", "percent")), "ten", "whole number", "What percentage off?"),
        (("Cake", skip("description"), choose("kind", "fixed")), "-5", "more than zero", "How much off?"),
        (("Cake", skip("description"), choose("kind", "item")), "lots", "whole number", "How many points"),
        (("Cake", skip("description"), choose("kind", "item")), "0", "from 1 to 1,000,000", "How many points"),
        (("Cake", skip("description"), choose("kind", "item"), "100"), "۴۰۰۰", "from 1 to 3,650", "how many days"),
        (("Cake", skip("description"), choose("kind", "item"), "100", "30"), "-1", "from 0 to", "How many are"),
        (("Cake", skip("description"), choose("kind", "item"), "100", "30", "5"), "0", "from 1 to", "How many times"),
        (("Cake", skip("description"), choose("kind", "item"), "100", "30", "5", "1"), "nice", "send a photo", "photo"),
    ],
)
async def test_a_bad_answer_is_explained_and_asked_again_with_nothing_stored(
    chat_with: MakeChat, sessions: Sessions, before: tuple[str, ...], typed: str, answer: str, question: str
) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, NEW, *before)
    [again] = await manager.say(typed)
    assert answer in again.text and question in again.text.split("\n\n", 1)[1]
    assert CANCEL in again.callback_data()
    assert await stored_rewards(sessions) == [] and await audit_log(sessions) == []


async def test_after_a_bad_answer_the_wizard_goes_on(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, NEW, "Cake", skip("description"), choose("kind", "item"), "lots")
    [validity] = await manager.say("250")
    assert "how many days" in validity.text


async def test_cancel_stores_nothing_and_ends_the_wizard(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, NEW, "Cake", skip("description"), choose("kind", "item"), "100")
    [cancelled, _] = await manager.press(CANCEL)
    assert cancelled.text == "Cancelled. No reward was added." and cancelled.buttons() == []
    assert not any("how many days" in text for text in texts(await manager.say("30")))
    assert await stored_rewards(sessions) == [] and await audit_log(sessions) == []


@pytest.mark.parametrize(("pressed", "stored"), [(CANCEL, 0), (SAVE, 1)])
async def test_save_after_cancel_or_save_is_stale(
    chat_with: MakeChat, sessions: Sessions, pressed: str, stored: int
) -> None:
    manager = await manager_chat(chat_with, sessions)
    await reward_to_summary(manager)
    await manager.press(pressed)
    [stale] = await manager.press(SAVE)
    assert stale.text == "This button is no longer active. Please use the menu."
    assert len(await stored_rewards(sessions)) == stored


async def test_a_button_of_an_earlier_question_is_stale(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, NEW, "Cake", skip("description"))
    [stale] = await manager.press(skip("description"))
    assert stale.text == "This button is no longer active. Please use the menu."
    [stale] = await manager.press(choose("kind", "gold"))
    assert stale.text == "This button is no longer active. Please use the menu."
    [amount, _] = await manager.press(choose("kind", "fixed"))
    assert "How much off?" in amount.text


async def test_the_catalog_lists_rewards_with_cost_stock_and_status(chat_with: MakeChat, sessions: Sessions) -> None:
    coffee = await add(sessions, name="Coffee", cost=100, stock=3)
    cake = await add(sessions, name="Cake", cost=250, active=False)
    manager = await manager_chat(chat_with, sessions)
    [catalog] = await manager.say("/catalog")
    assert "Rewards catalog (2)" in catalog.text
    assert "• Coffee — 100 points · 3 left · on" in catalog.text
    assert "• Cake — 250 points · unlimited · off" in catalog.text
    assert catalog.callback_data() == [f"cat:open:{coffee.id}:", f"cat:open:{cake.id}:", NEW]


async def test_a_reward_opens_with_its_buttons_and_goes_back(chat_with: MakeChat, sessions: Sessions) -> None:
    coffee = await add(sessions, name="Coffee", description="Any size")
    manager = await manager_chat(chat_with, sessions)
    [view, _] = await manager.press(f"cat:open:{coffee.id}:")
    assert "🎁 Coffee\nAny size" in view.text and "Status: on" in view.text
    assert view.buttons() == ["⏸ Switch off", "📦 Change stock", "💎 Change cost", "↩️ Back to the catalog"]
    [catalog, _] = await manager.press("cat:list:0:")
    assert "• Coffee" in catalog.text


async def test_switching_a_reward_off_and_on_is_stored_and_audited(chat_with: MakeChat, sessions: Sessions) -> None:
    coffee = await add(sessions, name="Coffee")
    manager = await manager_chat(chat_with, sessions)
    [view, toast] = await manager.press(f"cat:switch:{coffee.id}:")
    assert "Status: off" in view.text and view.buttons()[0] == "▶️ Switch on"
    assert toast.text == "Switched off: members no longer see it."
    [stored] = await stored_rewards(sessions)
    assert stored.active is False
    await manager.press(f"cat:switch:{coffee.id}:")
    [stored] = await stored_rewards(sessions)
    assert stored.active is True
    entries = await audit_log(sessions)
    assert [(action, actor, details["active"]) for action, actor, details in entries[1:]] == [
        ("reward.update", MANAGER, False),
        ("reward.update", MANAGER, True),
    ]


async def test_changing_stock_is_stored_audited_and_keeps_the_rest(chat_with: MakeChat, sessions: Sessions) -> None:
    coffee = await add(sessions, name="Coffee", cost=120, stock=3, per_member_limit=1)
    manager = await manager_chat(chat_with, sessions)
    [prompt, _] = await manager.press(f"cat:ask:{coffee.id}:stock")
    assert "How many of Coffee are left? Now: 3 left." in prompt.text
    assert prompt.buttons() == ["♾ Unlimited", "✖️ Cancel"]
    [again] = await manager.say("lots")
    assert "whole number" in again.text and "How many of Coffee are left?" in again.text
    [saved] = await manager.say("۴۰")
    assert saved.text.startswith("✅ Saved: stock of Coffee is now 40 left.") and "Stock: 40 left" in saved.text
    [stored] = await stored_rewards(sessions)
    assert (stored.stock, stored.cost, stored.per_member_limit, stored.name) == (40, 120, 1, "Coffee")
    (action, actor, details) = (await audit_log(sessions))[-1]
    assert (action, actor, details["stock"]) == ("reward.update", MANAGER, 40)
    assert not any("Saved" in text for text in texts(await manager.say("50")))  # the prompt is over


async def test_stock_can_become_unlimited(chat_with: MakeChat, sessions: Sessions) -> None:
    coffee = await add(sessions, name="Coffee", stock=3)
    manager = await manager_chat(chat_with, sessions)
    await manager.press(f"cat:ask:{coffee.id}:stock")
    [saved, _] = await manager.press(f"cat:unlimited:{coffee.id}:")
    assert saved.text.startswith("✅ Saved: stock of Coffee is now unlimited.")
    [stored] = await stored_rewards(sessions)
    assert stored.stock is None


async def test_changing_cost_is_stored(chat_with: MakeChat, sessions: Sessions) -> None:
    coffee = await add(sessions, name="Coffee", cost=100)
    manager = await manager_chat(chat_with, sessions)
    [prompt, _] = await manager.press(f"cat:ask:{coffee.id}:cost")
    assert "How many points should Coffee cost? Now: 100." in prompt.text
    [refused] = await manager.say("0")
    assert "from 1 to 1,000,000" in refused.text
    [saved] = await manager.say("1,500")
    assert saved.text.startswith("✅ Saved: Coffee now costs 1,500 points.")
    [stored] = await stored_rewards(sessions)
    assert stored.cost == 1500


async def test_cancel_at_a_prompt_shows_the_reward_unchanged(chat_with: MakeChat, sessions: Sessions) -> None:
    coffee = await add(sessions, name="Coffee", cost=100)
    manager = await manager_chat(chat_with, sessions)
    await manager.press(f"cat:ask:{coffee.id}:cost")
    [view, _] = await manager.press(f"cat:back:{coffee.id}:")
    assert "Cost: 100 points" in view.text
    assert not any("Saved" in text for text in texts(await manager.say("500")))
    [stale] = await manager.press(f"cat:unlimited:{coffee.id}:")
    assert stale.text == "This button is no longer active. Please use the menu."
    assert [reward.cost for reward in await stored_rewards(sessions)] == [100]
    assert len(await audit_log(sessions)) == 1  # the factory's reward.add


async def test_catalog_typed_mid_wizard_starts_over(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, NEW, "Cake")
    [catalog] = await manager.say("/catalog")
    assert "The catalog is empty" in catalog.text
    assert not any("Please check" in text for text in texts(await manager.say("Some description")))


async def test_another_command_mid_wizard_ends_it(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, NEW, "Cake")
    [help_text] = await manager.say("/help")
    assert "/catalog" in help_text.text
    after = texts(await manager.say("Some description"))
    assert not any("Kind" in text or "kind" in text for text in after)
    assert await stored_rewards(sessions) == []


async def test_the_owner_may_use_the_catalog(chat_with: MakeChat) -> None:
    [catalog] = await chat_with(OWNER, language_code="en").say("/catalog")
    assert "The catalog is empty" in catalog.text


async def test_customers_and_cashiers_get_the_unknown_command_answer(chat_with: MakeChat, sessions: Sessions) -> None:
    coffee = await add(sessions, name="Coffee")
    await hire(sessions, CASHIER, Role.CASHIER)
    for user_id, phone in ((CUSTOMER, "09121234567"), (CASHIER, "09121112233")):
        chat, _ = await customer(chat_with, sessions, user_id, phone)
        unknown = texts(await chat.say("/foo"))
        expected = [NEEDS_MANAGER.format(command="/catalog")] if user_id == CASHIER else unknown
        assert texts(await chat.say("/catalog")) == expected
        for button in (NEW, f"cat:switch:{coffee.id}:", f"cat:ask:{coffee.id}:stock", SAVE):
            assert texts(await chat.press(button)) == texts(await chat.press("nothing"))
    [stored] = await stored_rewards(sessions)
    assert stored.active is True and len(await audit_log(sessions)) == 1
