"""The shop's profile through the real dispatcher: the owner fills it in /settings, customers see it with /shop and
the menu's button, the member card names the shop, and {shop} is filled in the welcome and in campaigns."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from loyalty import shop
from loyalty.shop import Location, Shop
from loyalty.stamps import Stamp
from tests.chat import Chat, Delivered, Reply, walk
from tests.factories import NOW
from tests.lookups import audit_log
from tests.people import customer, four_members, manager_chat, owner_chat
from tests.wizards import CAMPAIGN, new_campaign

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
OWNER = 1
SECTION = "sets:menu:"
FIELD_BUTTONS = [f"sets:ask:{field}" for field in shop.FIELDS]
FULL = {
    "name": "Café Narenj",
    "description": "Coffee and cake since 1998",
    "address": "12 Narenj St, Tehran",
    "hours": "Sat–Thu 9–21",
    "phone": "02188776655",
    "location": {"latitude": 35.7, "longitude": 51.4},
    "instagram": "narenj.cafe",
    "website": "https://narenj.ir",
    "logo": "logo-file",
}


async def stored_shop(sessions: Sessions) -> Shop:
    async with sessions() as session:
        return await shop.current(session)


async def set_up(sessions: Sessions, **fields: object) -> None:
    """The owner set these fields earlier."""
    async with sessions() as session:
        for field, value in fields.items():
            await shop.set_field(session, field, value, Stamp(OWNER, f"setup:{field}", NOW))


async def at_prompt(owner: Chat, field: str) -> Reply:
    """The owner opens the shop's section and presses a field's button: its prompt."""
    await owner.say("/settings")
    [prompt, _] = await owner.press(f"sets:ask:{field}")
    return prompt


# --- the owner's section --------------------------------------------------------------------------------------


async def test_the_section_opens_from_the_settings_with_every_field_unset(chat_with: MakeChat) -> None:
    owner = owner_chat(chat_with)
    [menu] = await owner.say("/settings")
    assert menu.buttons()[-1] == "🏪 Shop profile"
    [section, _] = await owner.press(SECTION)
    assert section.name == "EditMessageText" and "🏪 Shop profile" in section.text and "/shop" in section.text
    assert "🏷 Name: — not set yet" in section.text and "🖼 Logo: — not set yet" in section.text
    assert section.callback_data() == [*FIELD_BUTTONS, "set:menu::"]
    [rules, _] = await owner.press("set:menu::")
    assert "Club rules" in rules.text


async def test_a_typed_name_is_stored_audited_and_confirmed_with_the_section(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    owner = owner_chat(chat_with)
    prompt = await at_prompt(owner, "name")
    assert "What is the shop called?" in prompt.text and prompt.callback_data() == ["sets:cancel:"]
    [saved] = await owner.say("  Café   Narenj ")
    assert saved.text.startswith("✅ Saved: 🏷 Name.\n\n🏪 Shop profile") and "🏷 Name: Café Narenj" in saved.text
    assert saved.callback_data()[0] == "sets:ask:name"
    assert (await stored_shop(sessions)).name == "Café Narenj"
    assert await audit_log(sessions) == [
        ("shop.change", OWNER, {"field": "name", "before": None, "after": "Café Narenj"})
    ]


async def test_a_description_keeps_its_lines(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    await at_prompt(owner, "description")
    await owner.say("Coffee and cake\nsince 1998")
    assert (await stored_shop(sessions)).description == "Coffee and cake\nsince 1998"


async def test_the_logo_is_the_photo_the_owner_sends(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    prompt = await at_prompt(owner, "logo")
    assert "Send the shop's logo as a photo" in prompt.text
    [refused] = await owner.say("my logo")
    assert "Please send the logo as a photo" in refused.text and (await stored_shop(sessions)).logo is None
    [saved] = await owner.photo()
    assert "✅ Saved: 🖼 Logo." in saved.text and "🖼 Logo: ✅ set" in saved.text
    assert (await stored_shop(sessions)).logo == "photo-file"


async def test_the_location_is_the_map_pin_the_owner_sends(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    prompt = await at_prompt(owner, "location")
    assert "📎" in prompt.text and "Location" in prompt.text
    [refused] = await owner.say("next to the bakery")
    assert "Please send a location" in refused.text
    [saved] = await owner.location(35.7, 51.4)
    assert "✅ Saved: 📍 Location." in saved.text
    assert (await stored_shop(sessions)).location == Location(latitude=35.7, longitude=51.4)


@pytest.mark.parametrize("typed", ["۳۵٫۷، ۵۱٫۴", "https://maps.google.com/?q=35.7,51.4"])
async def test_the_location_may_be_typed_as_coordinates_or_a_map_link(
    chat_with: MakeChat, sessions: Sessions, typed: str
) -> None:
    owner = owner_chat(chat_with, "fa")
    await at_prompt(owner, "location")
    [saved] = await owner.say(typed)
    assert "✅ ذخیره شد: 📍 موقعیت روی نقشه." in saved.text and "📍 موقعیت روی نقشه: ✅ ثبت‌شده" in saved.text
    assert (await stored_shop(sessions)).location == Location(latitude=35.7, longitude=51.4)


async def test_a_field_that_is_set_can_be_removed(chat_with: MakeChat, sessions: Sessions) -> None:
    await set_up(sessions, website="narenj.ir", name="Narenj")
    owner = owner_chat(chat_with)
    prompt = await at_prompt(owner, "website")
    assert "Now: https://narenj.ir" in prompt.text
    assert prompt.callback_data() == ["sets:clear:website", "sets:cancel:"] and prompt.buttons()[0] == "🗑 Remove"
    [removed, _] = await owner.press("sets:clear:website")
    assert removed.text.startswith("🗑 Removed: 🌐 Website.") and "🌐 Website: — not set yet" in removed.text
    assert await stored_shop(sessions) == Shop(name="Narenj")
    [again] = await owner.press("sets:clear:website")
    assert "no longer active" in again.text


async def test_a_bad_website_is_refused_politely_and_asked_for_again(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    await at_prompt(owner, "website")
    [refused] = await owner.say("my site")
    assert refused.text == "That is not a website address. Type it as narenj.ir or https://narenj.ir."
    assert await stored_shop(sessions) == Shop() and await audit_log(sessions) == []
    [saved] = await owner.say("narenj.ir")
    assert "🌐 Website: https://narenj.ir" in saved.text


@pytest.mark.parametrize(
    ("field", "typed", "refusal"),
    [
        ("phone", "۱۲", "این شمارهٔ تلفن درستی نیست"),
        ("instagram", "کافه نارنج", "حساب اینستاگرام درستی نیست"),
        ("name", "ن" * 65, "حداکثر ۶۴ نویسه"),
    ],
)
async def test_a_refusal_is_explained_in_persian(
    chat_with: MakeChat, sessions: Sessions, field: str, typed: str, refusal: str
) -> None:
    owner = owner_chat(chat_with, "fa")
    await at_prompt(owner, field)
    [refused] = await owner.say(typed)
    assert refusal in refused.text and await stored_shop(sessions) == Shop()


async def test_a_persian_owner_sees_the_phone_in_persian_digits(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with, "fa")
    await at_prompt(owner, "phone")
    [saved] = await owner.say("۰۲۱ ۸۸۷۷ ۶۶۵۵")
    assert "✅ ذخیره شد: ☎️ تلفن." in saved.text and "☎️ تلفن: \u200e۰۲۱ ۸۸۷۷ ۶۶۵۵" in saved.text
    assert (await stored_shop(sessions)).phone == "+982188776655"


async def test_cancel_shows_the_section_unchanged_and_a_command_ends_the_prompt(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    owner = owner_chat(chat_with)
    await at_prompt(owner, "name")
    [section, done] = await owner.press("sets:cancel:")
    assert "🏪 Shop profile" in section.text and done.method.text == "Cancelled. Nothing was changed."
    await owner.press("sets:ask:name")
    await owner.say("/settings")
    answers = await owner.say("Narenj")
    assert not any("Saved" in answer.text for answer in answers) and await stored_shop(sessions) == Shop()


async def test_customers_and_other_staff_cannot_open_or_change_the_profile(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    manager = await manager_chat(chat_with, sessions)
    [stale] = await manager.press(SECTION)
    assert "no longer active" in stale.text
    [stale] = await manager.press("sets:ask:name")
    assert "no longer active" in stale.text and await stored_shop(sessions) == Shop()


# --- what customers see ---------------------------------------------------------------------------------------


async def test_shop_before_anything_is_set_is_a_polite_word(chat_with: MakeChat, sessions: Sessions) -> None:
    sara, _ = await customer(chat_with, sessions)
    [reply] = await sara.say("/shop")
    assert reply.text.startswith("🏪 فروشگاه هنوز مشخصاتش را ثبت نکرده است") and "🏪 فروشگاه" in reply.buttons()
    [newcomer] = await chat_with(60, language_code="en").say("/shop")
    assert newcomer.text.startswith("🏪 The shop has not filled in its profile yet") and newcomer.markup is None


async def test_shop_shows_everything_that_is_set(chat_with: MakeChat, sessions: Sessions) -> None:
    await set_up(sessions, **FULL)
    sara, _ = await customer(chat_with, sessions)
    [card, pin] = await sara.say("/shop")
    assert card.name == "SendPhoto" and card.method.photo == "logo-file"
    assert card.text.startswith("🏪 به Café Narenj خوش آمدید\nCoffee and cake since 1998\n\n🏠 نشانی: ۱۲ Narenj St")
    assert "🕘 ساعت کاری: Sat–Thu ۹–۲۱" in card.text and "☎️ تلفن: \u200e۰۲۱ ۸۸۷۷ ۶۶۵۵" in card.text
    assert card.buttons() == ["📸 اینستاگرام", "🌐 وب‌سایت"]
    urls = [button.url for row in card.markup.inline_keyboard for button in row]
    assert urls == ["https://instagram.com/narenj.cafe", "https://narenj.ir"]
    assert pin.name == "SendVenue" and (pin.method.latitude, pin.method.longitude) == (35.7, 51.4)
    assert pin.method.title == "Café Narenj" and pin.method.address == "12 Narenj St, Tehran"


async def test_unset_fields_are_left_out(chat_with: MakeChat, sessions: Sessions) -> None:
    await set_up(sessions, address="12 Narenj St", location={"latitude": 35.7, "longitude": 51.4})
    [text, pin] = await chat_with(50, language_code="en").say("/shop")
    assert text.name == "SendMessage" and text.text == "🏪 About the shop\n\n🏠 Address: 12 Narenj St"
    assert text.markup is None and pin.name == "SendLocation"


async def test_the_menu_button_and_a_newcomer_see_the_shop_too(chat_with: MakeChat, sessions: Sessions) -> None:
    await set_up(sessions, name="Narenj")
    sara, _ = await customer(chat_with, sessions)
    [reply] = await sara.say("🏪 فروشگاه")
    assert reply.text == "🏪 به Narenj خوش آمدید"
    [newcomer] = await chat_with(60, language_code="en").say("/shop")
    assert newcomer.text == "🏪 Welcome to Narenj"


async def test_the_member_card_names_the_shop_once_it_has_a_name(chat_with: MakeChat, sessions: Sessions) -> None:
    sara, _ = await customer(chat_with, sessions)
    [card] = await sara.say("/card")
    assert card.text.startswith("🪪 کارت عضویت")
    await set_up(sessions, name="نارنج")
    [card] = await sara.say("/card")
    assert card.text.startswith("🏪 باشگاه مشتریان نارنج\n🪪 کارت عضویت")


# --- {shop} ---------------------------------------------------------------------------------------------------


async def test_the_welcome_names_the_shop_or_a_neutral_name(chat_with: MakeChat, sessions: Sessions) -> None:
    [welcome] = await chat_with(60).say("/start")
    assert welcome.text.startswith("👋 به باشگاه مشتریان فروشگاه ما خوش آمدید!")
    await set_up(sessions, name="نارنج")
    [welcome] = await chat_with(61).say("/start")
    assert welcome.text.startswith("👋 به باشگاه مشتریان نارنج خوش آمدید!")
    [welcome] = await chat_with(62, language_code="en").say("/start")
    assert welcome.text.startswith("👋 Welcome to the customer club of نارنج!")


async def test_a_campaign_names_the_shop_and_other_braces_stay_as_typed(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), CAMPAIGN.choose("audience", "all"), "Hi {name}, {shop} says {hi} {0}")
    [summary, _] = await walk(manager, CAMPAIGN.choose("gift", "none"), CAMPAIGN.choose("when", "now"))
    assert "Hi Mina, our shop says {hi} {0}" in summary.text
    await set_up(sessions, name="Narenj")
    await manager.press(CAMPAIGN.confirm)
    sent = await delivered()
    assert [reply.text for reply in sent if reply.text.startswith("Hi")] == ["Hi Sara, Narenj says {hi} {0}"] * 3
