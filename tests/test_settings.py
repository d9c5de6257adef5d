"""/settings through the real dispatcher: the owner sees and changes the rules, validated and audited; others can't."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.factory import club_of
from bot.settings import Settings
from loyalty import rules
from loyalty.errors import InvalidRule
from loyalty.rules import Rules
from loyalty.staff import Role
from loyalty.stamps import Stamp
from storage.database import write_transaction
from storage.models import AuditEntry, ClubSetting, PointLot, Reward
from tests.chat import Chat, Delivered, Reply, texts, to
from tests.factories import NOW, new_reward
from tests.lookups import audit_log, referral_points
from tests.people import NEEDS_OWNER, customer, hire, owner_chat
from tests.steps import join, member, open_link

MakeChat = Callable[..., Chat]
Sessions = async_sessionmaker[AsyncSession]
OWNER, MANAGER, CASHIER, CUSTOMER = 1, 3, 7, 42
RULE_BUTTONS = [
    "set:ask:amount_per_point:",
    "set:ask:min_purchase:",
    "set:ask:expiry_days:",
    "set:ask:welcome_bonus:",
    "set:ask:tier_window_days:",
    "set:choose:currency:",
    "set:ask:purchase_confirm_above:",
    "set:choose:credit:",
    "set:ask:privacy_retention_days:",
]
TIER_BUTTONS = ["set:tier::bronze", "set:tier::silver", "set:tier::gold"]
MENU_BUTTONS = RULE_BUTTONS + TIER_BUTTONS + ["set:referrals::", "set:birthdays::", "sets:menu:"]
REFERRAL_BUTTONS = [
    "set:choose:referral_reward_to:",
    "set:ask:referral_referrer_points:",
    "set:ask:referral_friend_points:",
    "set:choose:referral_trigger:",
    "set:ask:referral_min_purchase:",
    "set:ask:referral_monthly_cap:",
    "set:ask:referral_window_days:",
    "set:ask:referral_expiry_days:",
    "set:choose:referral_referrer_reward_id:",
    "set:choose:referral_friend_reward_id:",
    "set:menu::",
]
BIRTHDAY_BUTTONS = [
    "set:choose:birthday_greetings:",
    "set:ask:birthday_hour:",
    "set:ask:birthday_points:",
    "set:ask:birthday_expiry_days:",
    "set:choose:birthday_reward_id:",
    "set:ask:expiry_reminder_days:",
    "set:choose:digest:",
    "set:ask:digest_hour:",
    "set:menu::",
]
STALE = "This button is no longer active. Please use the menu."


async def stored_rules(sessions: Sessions, settings: Settings) -> Rules:
    async with sessions() as session:
        return await rules.current(session, club_of(settings).rules)


async def stored_setting(sessions: Sessions) -> str | None:
    async with sessions() as session:
        return await session.scalar(select(ClubSetting.value))


async def change(owner: Chat, button: str, typed: str) -> Reply:
    """Press a rule's button, type the value, and return the one reply to it."""
    [prompt, _] = await owner.press(button)
    assert prompt.callback_data()[-1] == "set:cancel::", prompt.text
    [reply] = await owner.say(typed)
    return reply


async def test_the_owner_sees_the_rules_and_a_button_for_each_rule_and_tier(chat_with: MakeChat) -> None:
    [menu] = await owner_chat(chat_with).say("/settings")
    assert "One point for every 10,000 toman spent" in menu.text
    assert "Purchases earn points from 0 toman" in menu.text and "Points expire after 365 days" in menu.text
    assert "Welcome bonus: 100 points" in menu.text and "over the last 365 days" in menu.text
    assert "• Bronze: from 0 toman · 100% points" in menu.text
    assert "• Silver: from 20,000,000 toman · 125% points" in menu.text
    assert "• Gold: from 100,000,000 toman · 150% points" in menu.text
    assert menu.callback_data() == MENU_BUTTONS
    assert menu.buttons()[-6:] == [
        "🏅 Bronze",
        "🏅 Silver",
        "🏅 Gold",
        "🤝 Referrals",
        "🎂 Birthdays & reminders",
        "🏪 Shop profile",
    ]


async def test_a_persian_owner_sees_the_rules_in_persian_digits(chat_with: MakeChat) -> None:
    [menu] = await owner_chat(chat_with, "fa").say("/settings")
    assert "به ازای هر ۱۰٬۰۰۰ تومان خرید، یک امتیاز" in menu.text
    assert "• نقره‌ای: از ۲۰٬۰۰۰٬۰۰۰ تومان · ۱۲۵٪ امتیاز" in menu.text
    assert menu.buttons()[0] == "💰 مبلغ هر امتیاز"


async def test_a_rule_button_asks_for_the_value_in_place_of_the_menu(chat_with: MakeChat) -> None:
    [prompt, done] = await owner_chat(chat_with).press("set:ask:expiry_days:")
    assert prompt.name == "EditMessageText" and done.name == "AnswerCallbackQuery"
    assert "After how many days" in prompt.text and "Now: 365 days" in prompt.text and "from 1 to 3,650" in prompt.text
    assert prompt.buttons() == ["✖️ Cancel"]


async def test_a_saved_value_is_confirmed_above_the_updated_menu(chat_with: MakeChat) -> None:
    reply = await change(owner_chat(chat_with), "set:ask:amount_per_point:", "5000")
    assert reply.text.startswith("✅ Saved: Amount per point changed from 10,000 toman to 5,000 toman.\n\n⚙️ Club rules")
    assert "One point for every 5,000 toman spent" in reply.text and reply.callback_data() == MENU_BUTTONS


@pytest.mark.parametrize(
    ("button", "typed", "stored", "value"),
    [
        ("set:ask:amount_per_point:", "۵٬۰۰۰", lambda saved: saved.amount_per_point, 5000),
        ("set:ask:min_purchase:", "50,000", lambda saved: saved.min_purchase, 50_000),
        ("set:ask:min_purchase:", "0", lambda saved: saved.min_purchase, 0),
        ("set:ask:expiry_days:", "۳۰", lambda saved: saved.expiry_days, 30),
        ("set:ask:welcome_bonus:", "0", lambda saved: saved.welcome_bonus, 0),
        ("set:ask:tier_window_days:", "90", lambda saved: saved.tier_window_days, 90),
        ("set:ask:threshold:silver", "۱٬۰۰۰٬۰۰۰", lambda saved: saved.tiers[1].threshold, 1_000_000),
        ("set:ask:percent:gold", "۱۷۵٪", lambda saved: saved.tiers[2].percent, 175),
        ("set:ask:purchase_confirm_above:", "۵٬۰۰۰٬۰۰۰", lambda saved: saved.purchase_confirm_above, 5_000_000),
    ],
)
async def test_each_rule_is_stored_as_typed_in_any_digits(
    chat_with: MakeChat,
    sessions: Sessions,
    settings: Settings,
    button: str,
    typed: str,
    stored: Callable[[Rules], int],
    value: int,
) -> None:
    reply = await change(owner_chat(chat_with), button, typed)
    assert reply.text.startswith("✅ Saved")
    assert stored(await stored_rules(sessions, settings)) == value


@pytest.mark.parametrize(
    ("button", "typed", "amount", "answer"),
    [
        ("set:ask:amount_per_point:", "5000", "250000", "+50 points"),  # 25 by the default rule
        ("set:ask:min_purchase:", "۵۰٬۰۰۰", "40000", "Purchases earn points from 50,000 toman"),
        ("set:ask:percent:bronze", "200%", "100000", "+20 points"),  # 10 at 100%
    ],
)
async def test_the_next_purchase_follows_the_changed_rule(
    chat_with: MakeChat, sessions: Sessions, button: str, typed: str, amount: str, answer: str
) -> None:
    _, member = await customer(chat_with, sessions)
    owner = owner_chat(chat_with)
    await change(owner, button, typed)
    [reply] = to(await owner.say(f"/earn {member.code} {amount}"), OWNER)
    assert answer in reply.text


async def test_the_cap_above_which_purchases_are_confirmed_is_set_and_lifted(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    owner = owner_chat(chat_with)
    [prompt, _] = await owner.press("set:ask:purchase_confirm_above:")
    assert "Now: no limit" in prompt.text and prompt.buttons() == ["⏭ Skip: no limit", "✖️ Cancel"]
    [saved] = await owner.say("5,000,000")
    assert saved.text.startswith("✅ Saved: Confirm purchases above changed from no limit to 5,000,000 toman.")
    await owner.press("set:ask:purchase_confirm_above:")
    [lifted, _] = await owner.press("set:unset::")
    assert lifted.text.startswith("✅ Saved: Confirm purchases above changed from 5,000,000 toman to no limit.")
    assert (await stored_rules(sessions, settings)).purchase_confirm_above is None


async def test_a_new_expiry_dates_the_points_of_the_next_purchase(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    owner = owner_chat(chat_with)
    await change(owner, "set:ask:expiry_days:", "30")
    await owner.say(f"/earn {member.code} 100000")
    async with sessions() as session:
        newest = await session.scalar(select(PointLot).order_by(PointLot.id.desc()).limit(1))
    assert newest is not None and newest.points == 10 and newest.expires_at == NOW + timedelta(days=30)


async def test_a_new_welcome_bonus_is_given_to_the_next_member(chat_with: MakeChat, sessions: Sessions) -> None:
    await change(owner_chat(chat_with), "set:ask:welcome_bonus:", "250")
    chat, _ = await customer(chat_with, sessions)
    [balance] = await chat.say("/balance")
    assert "امتیاز: ۲۵۰" in balance.text


async def test_a_new_tier_window_is_what_the_counter_counts(chat_with: MakeChat, sessions: Sessions) -> None:
    _, member = await customer(chat_with, sessions)
    owner = owner_chat(chat_with)
    await change(owner, "set:ask:tier_window_days:", "90")
    [card] = await owner.say(f"/member {member.code}")
    assert "Spent in the last 90 days" in card.text


async def test_a_tier_opens_with_its_threshold_and_multiplier(chat_with: MakeChat) -> None:
    owner = owner_chat(chat_with)
    [tier, _] = await owner.press("set:tier::silver")
    assert tier.name == "EditMessageText"
    assert (
        "Starts at 20,000,000 toman spent in the last 365 days" in tier.text
        and "Earns 125% of normal points" in tier.text
    )
    assert tier.callback_data() == ["set:ask:threshold:silver", "set:ask:percent:silver", "set:menu::"]
    [menu, _] = await owner.press("set:menu::")
    assert menu.callback_data() == MENU_BUTTONS


async def test_the_first_tier_always_starts_at_zero(chat_with: MakeChat) -> None:
    [tier, _] = await owner_chat(chat_with).press("set:tier::bronze")
    assert "always starts at 0" in tier.text
    assert tier.callback_data() == ["set:ask:percent:bronze", "set:menu::"]


async def test_a_lower_silver_threshold_lifts_the_next_buyer_to_silver(
    chat_with: MakeChat, sessions: Sessions, delivered: Delivered
) -> None:
    _, member = await customer(chat_with, sessions)
    owner = owner_chat(chat_with)
    await change(owner, "set:ask:threshold:silver", "1000000")
    await owner.say(f"/earn {member.code} 1000000")
    [notice] = to(await delivered(), CUSTOMER)
    assert "سطح شما اکنون نقره‌ای است" in notice.text


async def test_each_change_is_audited_with_who_before_and_after(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    await change(owner, "set:ask:min_purchase:", "50000")
    await change(owner, "set:ask:percent:gold", "175")
    entries = await audit_log(sessions)
    assert entries[0] == ("settings.change", OWNER, {"field": "min_purchase", "before": 0, "after": 50000})
    action, actor, details = entries[1]
    assert (action, actor, details["field"], len(entries)) == ("settings.change", OWNER, "tiers", 2)
    assert [tier["percent"] for tier in details["before"]] == [100, 125, 150]  # type: ignore[index]
    assert [tier["percent"] for tier in details["after"]] == [100, 125, 175]  # type: ignore[index]


@pytest.mark.parametrize(
    ("button", "typed", "answer"),
    [
        ("set:ask:amount_per_point:", "lots", "Please send a whole number"),
        ("set:ask:amount_per_point:", "12.5", "Please send a whole number"),
        ("set:ask:amount_per_point:", "0", "Amount per point must be from 1 toman to 10,000,000,000,000 toman"),
        (
            "set:ask:min_purchase:",
            "99999999999999999999",
            "Minimum purchase must be from 0 toman to 10,000,000,000,000 toman",
        ),
        ("set:ask:expiry_days:", "۰", "Points expiry (days) must be from 1 to 3,650"),
        ("set:ask:tier_window_days:", "3651", "Tier window (days) must be from 1 to 3,650"),
        ("set:ask:welcome_bonus:", "-5", "Welcome bonus must be from 0 to 1,000,000"),
        ("set:ask:percent:silver", "99", "Silver points multiplier must be from 100% to 1,000%"),
        ("set:ask:threshold:silver", "200000000", "Tiers must climb"),
        ("set:ask:threshold:gold", "20,000,000", "Tiers must climb"),
        (
            "set:ask:referral_referrer_points:",
            "1000001",
            "Points for the member who invites must be from 0 to 1,000,000",
        ),
        ("set:ask:referral_friend_points:", "-1", "Points for the friend must be from 0 to 1,000,000"),
        ("set:ask:referral_friend_points:", "lots", "Please send a whole number"),
        (
            "set:ask:referral_min_purchase:",
            "-5",
            "Minimum first purchase must be from 0 toman to 10,000,000,000,000 toman",
        ),
        ("set:ask:referral_monthly_cap:", "0", "Monthly cap per member must be from 1 to 10,000"),
        ("set:ask:referral_window_days:", "۹۱", "Days to join after the link must be from 1 to 90"),
        ("set:ask:referral_expiry_days:", "0", "Referral points expiry (days) must be from 1 to 3,650"),
        ("set:ask:birthday_hour:", "24", "Greeting hour must be from 0 to 23"),
        ("set:ask:birthday_hour:", "-1", "Greeting hour must be from 0 to 23"),
        ("set:ask:birthday_hour:", "ten", "I could not read that hour"),
        ("set:ask:birthday_hour:", "9:30", "Please send a whole hour, for example 9 am, 18 or 6 pm"),
        ("set:ask:birthday_hour:", "6 tomorrow", "I could not read that hour"),
        ("set:ask:birthday_points:", "-1", "Birthday points must be from 0 to 1,000,000"),
        ("set:ask:birthday_expiry_days:", "۰", "Birthday points expiry (days) must be from 1 to 3,650"),
        ("set:ask:expiry_reminder_days:", "91", "Expiry reminder (days) must be from 0 to 90"),
    ],
)
async def test_an_invalid_value_is_explained_and_nothing_is_stored(
    chat_with: MakeChat, sessions: Sessions, button: str, typed: str, answer: str
) -> None:
    reply = await change(owner_chat(chat_with), button, typed)
    assert answer in reply.text and "Nothing was changed" in reply.text
    assert await stored_setting(sessions) is None
    assert await audit_log(sessions) == []


async def test_a_refusal_is_explained_in_persian(chat_with: MakeChat, sessions: Sessions) -> None:
    reply = await change(owner_chat(chat_with, "fa"), "set:ask:expiry_days:", "۵۰۰۰")
    assert "باید بین ۱ تا ۳٬۶۵۰ باشد" in reply.text
    assert await stored_setting(sessions) is None


async def test_after_a_refusal_the_owner_can_type_again(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    owner = owner_chat(chat_with)
    await change(owner, "set:ask:expiry_days:", "0")
    [saved] = await owner.say("90")
    assert saved.text.startswith("✅ Saved: Points expiry (days) changed from 365 to 90.")
    assert (await stored_rules(sessions, settings)).expiry_days == 90


async def test_cancel_shows_the_menu_and_leaves_the_rules_unchanged(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    await owner.press("set:ask:amount_per_point:")
    [menu, toast] = await owner.press("set:cancel::")
    assert menu.name == "EditMessageText" and "One point for every 10,000 toman spent" in menu.text
    assert toast.text == "Cancelled. Nothing was changed."
    assert not any("Saved" in text for text in texts(await owner.say("5000")))  # the prompt is over
    assert await stored_setting(sessions) is None and await audit_log(sessions) == []


@pytest.mark.parametrize("command", ["/settings", "/help", "/language", "/foo", "/staff", "/member 1234"])
async def test_a_command_ends_the_prompt(chat_with: MakeChat, sessions: Sessions, command: str) -> None:
    owner = owner_chat(chat_with)
    await owner.press("set:ask:amount_per_point:")
    answers = " ".join(texts(await owner.say(command)))
    assert answers and "Saved" not in answers and "whole number" not in answers
    assert not any("Saved" in text for text in texts(await owner.say("5000")))
    assert await stored_setting(sessions) is None


@pytest.mark.parametrize(
    "button",
    ["set:cancel::", "set:ask:tiers:", "set:ask:name:", "set:tier::platinum", "set:ask:percent:platinum", "set:x::"],
)
async def test_a_stale_or_unknown_button_is_answered_as_stale(
    chat_with: MakeChat, sessions: Sessions, button: str
) -> None:
    [alert] = await owner_chat(chat_with).press(button)
    assert alert.name == "AnswerCallbackQuery" and alert.text == "This button is no longer active. Please use the menu."
    assert await stored_setting(sessions) is None


async def test_the_cancel_button_of_an_answered_prompt_is_stale(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    await change(owner, "set:ask:welcome_bonus:", "50")
    [alert] = await owner.press("set:cancel::")
    assert alert.text == "This button is no longer active. Please use the menu."


async def test_customers_and_other_staff_get_the_unknown_command_answer(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await hire(sessions, MANAGER, Role.MANAGER)
    await hire(sessions, CASHIER, Role.CASHIER)
    for user_id, phone in ((CUSTOMER, "09121234567"), (MANAGER, "09351112233"), (CASHIER, "09121112233")):
        chat, _ = await customer(chat_with, sessions, user_id, phone)
        unknown = texts(await chat.say("/foo"))
        expected = unknown if user_id == CUSTOMER else [NEEDS_OWNER.format(command="/settings")]
        assert texts(await chat.say("/settings")) == expected
        assert texts(await chat.press("set:ask:welcome_bonus:")) == texts(await chat.press("nothing"))
        assert texts(await chat.press("set:tier::gold")) == texts(await chat.press("nothing"))
    assert await stored_setting(sessions) is None and await audit_log(sessions) == []


# --- the referral section ----------------------------------------------------------------------------------------


async def rule_changes(sessions: Sessions) -> list[dict[str, object]]:
    """The details of the settings changes in the audit log, oldest first."""
    return [details for action, _, details in await audit_log(sessions) if action == "settings.change"]


async def rewards(sessions: Sessions) -> tuple[Reward, Reward]:
    """An active reward (Coffee) and a switched-off one (Cake) in the catalog."""
    async with sessions() as session:
        return await new_reward(session, name="Coffee"), await new_reward(session, name="Cake", active=False)


async def test_the_referral_section_shows_its_rules_with_a_button_each(chat_with: MakeChat) -> None:
    [section, _] = await owner_chat(chat_with).press("set:referrals::")
    assert section.name == "EditMessageText" and section.text.startswith("🤝 Referrals")
    for line in (
        "• Rewarded: Both the member and the friend",
        "• The member who invites: 100 points",
        "• The invited friend: 50 points",
        "• When: On the friend's first purchase",
        "• Minimum first purchase: 0",
        "• At most 20 rewarded friends per member in 30 days",
        "• A friend joins within 7 days of opening the link",
        "• Referral points expire after (days): like all points (365)",
        "• Voucher for the member who invites: No voucher",
        "• Voucher for the friend: No voucher",
    ):
        assert line in section.text
    assert section.callback_data() == REFERRAL_BUTTONS
    assert section.buttons()[-1] == "↩️ Back to the rules"


async def test_a_persian_owner_sees_the_referral_rules_in_persian_digits(chat_with: MakeChat) -> None:
    [section, _] = await owner_chat(chat_with, "fa").press("set:referrals::")
    assert "• دعوت‌کننده: ۱۰۰ امتیاز" in section.text and "• پاداش می‌گیرد: هم دعوت‌کننده و هم دوست" in section.text
    assert "مثل بقیهٔ امتیازها (۳۶۵)" in section.text and section.buttons()[0] == "👥 چه کسی پاداش بگیرد"


SECTION_SHOWN = {  # a section's heading and buttons, shown again after one of its rules changed
    "referrals": ("\n\n🤝 Referrals", REFERRAL_BUTTONS),
    "birthdays": ("\n\n🎂 Birthdays & reminders", BIRTHDAY_BUTTONS),
}


@pytest.mark.parametrize(
    ("field", "typed", "value"),
    [
        ("referral_referrer_points", "150", 150),
        ("referral_friend_points", "۰", 0),
        ("referral_min_purchase", "۵۰۰٬۰۰۰", 500_000),
        ("referral_monthly_cap", "5", 5),
        ("referral_window_days", "14", 14),
        ("referral_expiry_days", "۳۰", 30),
        ("birthday_hour", "۸", 8),
        ("birthday_hour", "0", 0),
        ("birthday_hour", "ساعت ۱۸", 18),
        ("birthday_hour", "۶ عصر", 18),
        ("birthday_hour", "۹ صبح", 9),
        ("birthday_hour", "7 pm", 19),
        ("birthday_points", "۲۵۰", 250),
        ("birthday_points", "0", 0),
        ("birthday_expiry_days", "۶۰", 60),
        ("expiry_reminder_days", "3", 3),
        ("expiry_reminder_days", "۰", 0),
    ],
)
async def test_each_section_number_is_stored_as_typed_and_audited(
    chat_with: MakeChat, sessions: Sessions, settings: Settings, field: str, typed: str, value: int
) -> None:
    heading, buttons = SECTION_SHOWN["referrals" if field.startswith("referral_") else "birthdays"]
    before = getattr(await stored_rules(sessions, settings), field)
    reply = await change(owner_chat(chat_with), f"set:ask:{field}:", typed)
    assert reply.text.startswith("✅ Saved") and heading in reply.text
    assert reply.callback_data() == buttons  # back where the owner came from
    assert getattr(await stored_rules(sessions, settings), field) == value
    assert await rule_changes(sessions) == [{"field": field, "before": before, "after": value}]


async def test_a_saved_referral_number_is_confirmed_in_words(chat_with: MakeChat) -> None:
    reply = await change(owner_chat(chat_with), "set:ask:referral_referrer_points:", "150")
    assert reply.text.startswith("✅ Saved: Points for the member who invites changed from 100 to 150.")
    assert "• The member who invites: 150 points" in reply.text


async def test_a_referral_prompt_shows_the_value_in_force_and_the_range(chat_with: MakeChat) -> None:
    [prompt, _] = await owner_chat(chat_with).press("set:ask:referral_window_days:")
    assert "Now: 7 days" in prompt.text and "from 1 to 90" in prompt.text
    assert prompt.callback_data() == ["set:cancel::"]


async def test_skip_lets_referral_points_expire_like_all_points_again(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    owner = owner_chat(chat_with)
    await change(owner, "set:ask:referral_expiry_days:", "30")
    [prompt, _] = await owner.press("set:ask:referral_expiry_days:")
    assert "Now: 30" in prompt.text and prompt.buttons() == ["⏭ Skip: like all points", "✖️ Cancel"]
    [section, _] = await owner.press("set:unset::")
    assert section.text.startswith(
        "✅ Saved: Referral points expiry (days) changed from 30 to like all points (365).\n\n🤝 Referrals"
    )
    assert (await stored_rules(sessions, settings)).referral_expiry_days is None
    assert (await rule_changes(sessions))[-1] == {"field": "referral_expiry_days", "before": 30, "after": None}
    assert not any("Saved" in text for text in texts(await owner.say("40")))  # the prompt is over


@pytest.mark.parametrize("opened", [None, "set:ask:welcome_bonus:", "set:ask:referral_monthly_cap:"])
async def test_skip_is_stale_unless_the_prompt_of_a_rule_that_may_be_unset_waits(
    chat_with: MakeChat, sessions: Sessions, opened: str | None
) -> None:
    owner = owner_chat(chat_with)
    if opened:
        await owner.press(opened)
    [alert] = await owner.press("set:unset::")
    assert alert.name == "AnswerCallbackQuery" and alert.text == STALE
    assert await stored_setting(sessions) is None


async def test_cancel_at_a_referral_prompt_shows_the_referral_section(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    await owner.press("set:ask:referral_friend_points:")
    [section, toast] = await owner.press("set:cancel::")
    assert section.text.startswith("🤝 Referrals") and toast.text == "Cancelled. Nothing was changed."
    assert await stored_setting(sessions) is None


async def test_who_is_rewarded_is_chosen_with_buttons_the_current_one_ticked(chat_with: MakeChat) -> None:
    [question, _] = await owner_chat(chat_with).press("set:choose:referral_reward_to:")
    assert question.name == "EditMessageText" and "Now: Both the member and the friend" in question.text
    assert question.buttons() == [
        "✅ Both the member and the friend",
        "Only the member who invites",
        "Only the invited friend",
        "Nobody",
        "↩️ Back to referrals",
    ]
    assert question.callback_data() == [
        "setc:referral_reward_to:both",
        "setc:referral_reward_to:referrer",
        "setc:referral_reward_to:friend",
        "setc:referral_reward_to:none",
        "set:referrals::",
    ]


@pytest.mark.parametrize(
    ("field", "option", "value", "confirmed"),
    [
        ("referral_reward_to", "friend", "friend", "Who is rewarded changed from Both the member and the friend to "),
        ("referral_reward_to", "none", "none", "to Nobody."),
        ("referral_trigger", "registration", "registration", "from On the friend's first purchase to When the "),
    ],
)
async def test_a_choice_is_stored_audited_and_confirmed_with_the_section(
    chat_with: MakeChat, sessions: Sessions, settings: Settings, field: str, option: str, value: str, confirmed: str
) -> None:
    before = getattr(await stored_rules(sessions, settings), field)
    [section, _] = await owner_chat(chat_with).press(f"setc:{field}:{option}")
    assert section.text.startswith("✅ Saved: ") and confirmed in section.text
    assert section.callback_data() == REFERRAL_BUTTONS
    assert getattr(await stored_rules(sessions, settings), field) == value
    assert await rule_changes(sessions) == [{"field": field, "before": before, "after": value}]


async def test_the_voucher_choices_are_the_active_rewards_and_none(chat_with: MakeChat, sessions: Sessions) -> None:
    coffee, _ = await rewards(sessions)
    [question, _] = await owner_chat(chat_with).press("set:choose:referral_friend_reward_id:")
    assert "Now: No voucher" in question.text
    assert question.buttons() == ["Coffee", "✅ No voucher", "↩️ Back to referrals"]
    assert question.callback_data()[:2] == [
        f"setc:referral_friend_reward_id:{coffee.id}",
        "setc:referral_friend_reward_id:none",
    ]


async def test_a_catalog_reward_chosen_as_voucher_is_stored_and_can_be_removed(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    coffee, _ = await rewards(sessions)
    owner = owner_chat(chat_with)
    [section, _] = await owner.press(f"setc:referral_referrer_reward_id:{coffee.id}")
    assert section.text.startswith("✅ Saved: Voucher for the member who invites changed from No voucher to Coffee.")
    assert "• Voucher for the member who invites: Coffee" in section.text
    assert (await stored_rules(sessions, settings)).referral_referrer_reward_id == coffee.id
    [question, _] = await owner.press("set:choose:referral_referrer_reward_id:")
    assert question.buttons()[:2] == ["✅ Coffee", "No voucher"]
    await owner.press("setc:referral_referrer_reward_id:none")
    assert (await stored_rules(sessions, settings)).referral_referrer_reward_id is None
    assert [change["after"] for change in await rule_changes(sessions)] == [coffee.id, None]


async def test_a_voucher_reward_switched_off_since_is_shown_as_paused(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    _, cake = await rewards(sessions)
    async with sessions() as session, write_transaction(session):
        defaults = club_of(settings).rules
        await rules.change(
            session, defaults, "referral_friend_reward_id", cake.id, actor_id=OWNER, now=NOW, update_id=1
        )
    [section, _] = await owner_chat(chat_with).press("set:referrals::")
    assert "• Voucher for the friend: Cake (paused: no voucher is given)" in section.text


@pytest.mark.parametrize(
    "button",
    [
        "setc:referral_reward_to:cousin",
        "setc:referral_trigger:never",
        "setc:referral_friend_reward_id:999",
        "setc:referral_friend_reward_id:cake",  # the switched-off reward, by id below
        "setc:referral_window_days:5",
        "setc:tiers:none",
        "set:choose:referral_window_days:",
        "set:choose:tiers:",
        "set:ask:referral_reward_to:",
        "setc:birthday_greetings:maybe",
        "setc:birthday_greetings:True",
        "setc:birthday_reward_id:cake",
        "setc:birthday_hour:8",
        "set:choose:birthday_hour:",
        "set:ask:birthday_greetings:",
        "set:ask:birthday_reward_id:",
    ],
)
async def test_a_forged_or_stale_choice_is_answered_as_stale_and_nothing_is_stored(
    chat_with: MakeChat, sessions: Sessions, button: str
) -> None:
    _, cake = await rewards(sessions)
    [alert] = await owner_chat(chat_with).press(button.replace("cake", str(cake.id)))
    assert alert.name == "AnswerCallbackQuery" and alert.text == STALE
    assert await stored_setting(sessions) is None and await rule_changes(sessions) == []


async def test_paying_on_registration_rewards_the_referrer_when_the_friend_joins(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    owner = owner_chat(chat_with)
    await owner.press("setc:referral_trigger:registration")
    await change(owner, "set:ask:referral_referrer_points:", "150")
    referrer = await member(sessions, 1001)
    club_rules = await stored_rules(sessions, settings)
    await open_link(sessions, referrer, 2002, club_rules=club_rules)
    joined = await join(sessions, 2002, club_rules=club_rules)
    assert joined.referral is not None and joined.referral.rewarded
    assert await referral_points(sessions, referrer.id) == 150


async def test_customers_and_other_staff_cannot_open_or_change_the_referral_rules(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await hire(sessions, MANAGER, Role.MANAGER)
    chat, _ = await customer(chat_with, sessions, MANAGER, "09351112233")
    stale = texts(await chat.press("nothing"))
    for button in ("set:referrals::", "set:choose:referral_reward_to:", "setc:referral_reward_to:none", "set:unset::"):
        assert texts(await chat.press(button)) == stale
    assert await stored_setting(sessions) is None and await audit_log(sessions) == []


# --- the birthdays & reminders section ---------------------------------------------------------------------------


async def test_the_birthday_section_opens_from_the_menu_with_its_rules_and_a_button_each(chat_with: MakeChat) -> None:
    [section, _] = await owner_chat(chat_with).press("set:birthdays::")
    assert section.name == "EditMessageText" and section.text.startswith("🎂 Birthdays & reminders")
    for line in (
        "• Birthday greeting: On",
        "• Sent at 10:00, shop time",
        "• Birthday points: 100",
        "• Birthday points expire after 30 days",
        "• Birthday voucher: No voucher",
        "• Reminder before points expire: 7 days before",
    ):
        assert line in section.text
    assert section.callback_data() == BIRTHDAY_BUTTONS
    assert section.buttons()[-1] == "↩️ Back to the rules"
    [menu, _] = await owner_chat(chat_with).press("set:menu::")
    assert menu.callback_data() == MENU_BUTTONS


async def test_a_persian_owner_sees_the_birthday_rules_in_persian(chat_with: MakeChat) -> None:
    [section, _] = await owner_chat(chat_with, "fa").press("set:birthdays::")
    assert section.text.startswith("🎂 تولد و یادآوری‌ها")
    assert "• تبریک تولد: روشن" in section.text and "• ساعت ارسال تبریک: ۱۰:۰۰ به وقت فروشگاه" in section.text
    assert "• یادآوری پیش از انقضای امتیاز: ۷ روز قبل" in section.text and "• بن هدیهٔ تولد: بدون بن" in section.text
    assert section.buttons()[0] == "🎂 تبریک تولد"


async def test_the_owner_sets_the_digests_hour_or_turns_it_off(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    owner = owner_chat(chat_with, "fa")
    [section, _] = await owner.press("set:birthdays::")
    assert "• گزارش روزانه به مالکان: روشن، ساعت ۲۱:۰۰" in section.text
    reply = await change(owner, "set:ask:digest_hour:", "۲۰")
    assert reply.text.startswith("✅ ذخیره شد: ساعت گزارش روزانه از ۲۱:۰۰ به ۲۰:۰۰ تغییر کرد.")
    [section, _] = await owner.press("setc:digest:off")
    assert "• گزارش روزانه به مالکان: خاموش" in section.text
    saved = await stored_rules(sessions, settings)
    assert (saved.digest, saved.digest_hour) == (False, 20)


async def test_the_hour_prompt_shows_the_hour_in_force_and_the_range(chat_with: MakeChat) -> None:
    [prompt, _] = await owner_chat(chat_with).press("set:ask:birthday_hour:")
    assert "Now: 10:00" in prompt.text and "from 0 to 23" in prompt.text
    assert prompt.callback_data() == ["set:cancel::"]


@pytest.mark.parametrize(
    ("language", "typed", "confirmed", "line"),
    [
        ("en", "۸", "✅ Saved: Greeting hour changed from 10:00 to 08:00.", "• Sent at 08:00, shop time"),
        ("fa", "۲۱", "✅ ذخیره شد: ساعت تبریک تولد از ۱۰:۰۰ به ۲۱:۰۰ تغییر کرد.", "ساعت ارسال تبریک: ۲۱:۰۰"),
    ],
)
async def test_a_new_hour_is_confirmed_as_a_time_of_day(
    chat_with: MakeChat, language: str, typed: str, confirmed: str, line: str
) -> None:
    reply = await change(owner_chat(chat_with, language), "set:ask:birthday_hour:", typed)
    assert reply.text.startswith(confirmed) and line in reply.text


async def test_a_refused_hour_is_explained_and_asked_for_again(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    owner = owner_chat(chat_with)
    refused = await change(owner, "set:ask:birthday_hour:", "24")
    assert "Greeting hour must be from 0 to 23. Nothing was changed; please send another value." in refused.text
    assert await stored_setting(sessions) is None and await rule_changes(sessions) == []
    [saved] = await owner.say("۲۳")
    assert saved.text.startswith("✅ Saved: Greeting hour changed from 10:00 to 23:00.")
    assert (await stored_rules(sessions, settings)).birthday_hour == 23


async def test_a_refused_hour_is_explained_in_persian(chat_with: MakeChat, sessions: Sessions) -> None:
    reply = await change(owner_chat(chat_with, "fa"), "set:ask:birthday_hour:", "۲۴")
    assert "ساعت تبریک تولد باید بین ۰ تا ۲۳ باشد" in reply.text
    assert await stored_setting(sessions) is None


async def test_no_reminder_and_no_birthday_points_read_as_off_and_none(chat_with: MakeChat) -> None:
    owner = owner_chat(chat_with)
    reminder = await change(owner, "set:ask:expiry_reminder_days:", "0")
    assert reminder.text.startswith("✅ Saved: Expiry reminder (days) changed from 7 days before to Off.")
    assert "• Reminder before points expire: Off" in reminder.text
    points = await change(owner, "set:ask:birthday_points:", "0")
    assert points.text.startswith("✅ Saved: Birthday points changed from 100 to No points.")
    assert "• Birthday points: No points" in points.text
    [prompt, _] = await owner.press("set:ask:expiry_reminder_days:")
    assert "Now: Off" in prompt.text


async def test_the_greeting_is_switched_with_two_buttons_the_current_one_ticked(chat_with: MakeChat) -> None:
    [question, _] = await owner_chat(chat_with).press("set:choose:birthday_greetings:")
    assert question.name == "EditMessageText" and "Now: On" in question.text
    assert question.buttons() == ["✅ On", "Off", "↩️ Back to birthdays & reminders"]
    assert question.callback_data() == ["setc:birthday_greetings:on", "setc:birthday_greetings:off", "set:birthdays::"]


async def test_greetings_turned_off_and_on_are_stored_audited_and_confirmed(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    owner = owner_chat(chat_with)
    [section, _] = await owner.press("setc:birthday_greetings:off")
    assert section.text.startswith("✅ Saved: Birthday greeting changed from On to Off.\n\n🎂 Birthdays & reminders")
    assert "• Birthday greeting: Off" in section.text and section.callback_data() == BIRTHDAY_BUTTONS
    assert (await stored_rules(sessions, settings)).birthday_greetings is False
    [question, _] = await owner.press("set:choose:birthday_greetings:")
    assert question.buttons()[:2] == ["On", "✅ Off"]
    await owner.press("setc:birthday_greetings:on")
    assert (await stored_rules(sessions, settings)).birthday_greetings is True
    assert await rule_changes(sessions) == [
        {"field": "birthday_greetings", "before": True, "after": False},
        {"field": "birthday_greetings", "before": False, "after": True},
    ]


async def test_a_birthday_voucher_is_chosen_among_the_active_rewards_and_can_be_removed(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    coffee, _ = await rewards(sessions)
    owner = owner_chat(chat_with)
    [question, _] = await owner.press("set:choose:birthday_reward_id:")
    assert "Now: No voucher" in question.text
    assert question.buttons() == ["Coffee", "✅ No voucher", "↩️ Back to birthdays & reminders"]
    [section, _] = await owner.press(f"setc:birthday_reward_id:{coffee.id}")
    assert section.text.startswith("✅ Saved: Birthday voucher changed from No voucher to Coffee.")
    assert "• Birthday voucher: Coffee" in section.text and section.callback_data() == BIRTHDAY_BUTTONS
    assert (await stored_rules(sessions, settings)).birthday_reward_id == coffee.id
    [section, _] = await owner.press("setc:birthday_reward_id:none")
    assert "• Birthday voucher: No voucher" in section.text
    assert (await stored_rules(sessions, settings)).birthday_reward_id is None
    assert await rule_changes(sessions) == [
        {"field": "birthday_reward_id", "before": None, "after": coffee.id},
        {"field": "birthday_reward_id", "before": coffee.id, "after": None},
    ]


async def test_every_birthday_change_is_in_force_together(
    chat_with: MakeChat, sessions: Sessions, settings: Settings
) -> None:
    coffee, _ = await rewards(sessions)
    owner = owner_chat(chat_with)
    await change(owner, "set:ask:birthday_hour:", "۹")
    await owner.press("setc:birthday_greetings:off")
    await change(owner, "set:ask:birthday_points:", "50")
    await change(owner, "set:ask:birthday_expiry_days:", "14")
    await owner.press(f"setc:birthday_reward_id:{coffee.id}")
    await change(owner, "set:ask:expiry_reminder_days:", "0")
    saved = await stored_rules(sessions, settings)
    assert (saved.birthday_hour, saved.birthday_greetings, saved.birthday_points) == (9, False, 50)
    assert (saved.birthday_expiry_days, saved.birthday_reward_id, saved.expiry_reminder_days) == (14, coffee.id, 0)
    assert [details["field"] for details in await rule_changes(sessions)] == [
        "birthday_hour",
        "birthday_greetings",
        "birthday_points",
        "birthday_expiry_days",
        "birthday_reward_id",
        "expiry_reminder_days",
    ]
    [section, _] = await owner.press("set:birthdays::")
    for line in ("Sent at 09:00", "greeting: Off", "points: 50", "after 14 days", "voucher: Coffee", "expire: Off"):
        assert line in section.text


async def test_cancel_at_a_birthday_prompt_shows_the_birthday_section(chat_with: MakeChat, sessions: Sessions) -> None:
    owner = owner_chat(chat_with)
    await owner.press("set:ask:birthday_hour:")
    [section, toast] = await owner.press("set:cancel::")
    assert section.text.startswith("🎂 Birthdays & reminders") and toast.text == "Cancelled. Nothing was changed."
    assert await stored_setting(sessions) is None


async def test_customers_and_other_staff_cannot_open_or_change_the_birthday_rules(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await hire(sessions, MANAGER, Role.MANAGER)
    chat, _ = await customer(chat_with, sessions, MANAGER, "09351112233")
    stale = texts(await chat.press("nothing"))
    for button in ("set:birthdays::", "set:ask:birthday_hour:", "setc:birthday_greetings:off"):
        assert texts(await chat.press(button)) == stale
    assert await stored_setting(sessions) is None and await audit_log(sessions) == []


# --- rules.set_rule: what every change above is, in one call --------------------------------------------------


async def test_a_tiers_part_changes_that_tier_alone_under_the_stamp(sessions: Sessions) -> None:
    async with sessions() as session:
        changed = await rules.set_rule(
            session, Rules(), "threshold", 10_000_000, Stamp(OWNER, "k", NOW, 5), tier="silver"
        )
    assert [tier.threshold for tier in changed.before.tiers] == [0, 20_000_000, 100_000_000]
    assert [tier.threshold for tier in changed.after.tiers] == [0, 10_000_000, 100_000_000]
    async with sessions() as session:
        audited = (
            await session.execute(select(AuditEntry.actor_id, AuditEntry.update_id, AuditEntry.created_at))
        ).all()
    assert audited == [(OWNER, 5, NOW)]


@pytest.mark.parametrize(
    ("field", "value", "tier", "reason"),
    [
        ("threshold", 200_000_000, "silver", "value_error"),
        ("percent", 120, "platinum", "unknown"),
        ("cake", 1, "", "unknown"),
    ],
)
async def test_a_refused_change_writes_nothing(
    sessions: Sessions, field: str, value: int, tier: str, reason: str
) -> None:
    async with sessions() as session:
        with pytest.raises(InvalidRule) as refused:
            await rules.set_rule(session, Rules(), field, value, Stamp(OWNER, "k", NOW), tier=tier)
    assert refused.value.reason == reason
    assert await stored_setting(sessions) is None and await audit_log(sessions) == []
