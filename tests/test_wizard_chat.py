"""The wizard engine through the real dispatcher: Back on every question after the first and on the summary, and
answers kept by the version before an upgrade (read as far as they go, or the wizard ends politely)."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State

from handlers.staff.catalog import RewardWizard
from handlers.staff.gifts import GiftWizard
from handlers.staff.settings import RuleEdit
from loyalty.staff import Role
from loyalty.vouchers import Kind
from tests.chat import walk
from tests.lookups import stored_campaigns, stored_rewards
from tests.people import MANAGER, MakeChat, Sessions, four_members, hire, manager_chat
from tests.stub_bot import RecordingSession
from tests.wizards import CAMPAIGN, GIFT, NEW_REWARD, REWARD, confirm_failing_at, new_campaign, reward_to_summary

STALE = "This button is no longer active. Please use the menu."
LOST = "This question has ended: the bot was updated meanwhile. Please start again."


async def test_back_from_the_second_question_shows_the_first_in_place(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    [name, _] = await manager.press(NEW_REWARD)
    assert name.buttons() == ["✖️ Cancel"]  # the first question has nothing to go back to
    [description] = await manager.say("Cake")
    assert description.buttons() == ["Skip", "↩️ Back", "✖️ Cancel"]
    assert description.callback_data()[1] == REWARD.back("description")
    [again, answered] = await manager.press(REWARD.back("description"))
    assert again.name == "EditMessageText" and "What is it called?" in again.text
    assert again.buttons() == ["✖️ Cancel"] and answered.name == "AnswerCallbackQuery"
    [description] = await manager.say("Tea")
    assert "Describe it" in description.text


async def test_back_passes_over_the_steps_left_out_and_works_on_a_typed_question(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    manager = await manager_chat(chat_with, sessions)
    [cost, _] = await walk(manager, NEW_REWARD, "Cake", REWARD.skip("description"), REWARD.choose("kind", "item"))
    assert "How many points" in cost.text and REWARD.back("cost") in cost.callback_data()
    [kind, _] = await manager.press(REWARD.back("cost"))  # a free item was never asked its amount, percent or cap
    assert "What does the voucher give?" in kind.text and REWARD.back("kind") in kind.callback_data()
    [percent, _] = await manager.press(REWARD.choose("kind", "percent"))
    assert "What percentage off?" in percent.text


async def test_back_at_the_summary_returns_to_the_last_question_and_keeps_the_answers_before_it(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    manager = await manager_chat(chat_with, sessions)
    [summary, _] = await reward_to_summary(manager)
    assert summary.callback_data() == [REWARD.confirm, REWARD.back("confirm"), REWARD.cancel]
    [photo, _] = await manager.press(REWARD.back("confirm"))
    assert "Send a photo of the reward" in photo.text
    assert photo.callback_data() == [REWARD.skip("photo"), REWARD.back("photo"), REWARD.cancel]
    [limit, _] = await manager.press(REWARD.back("photo"))
    assert "How many times may one member" in limit.text
    [photo] = await manager.say("2")
    [summary, _] = await manager.press(REWARD.skip("photo"))
    assert "Per member: 2" in summary.text and "Cost: 100 points" in summary.text
    await manager.press(REWARD.confirm)
    [reward] = await stored_rewards(sessions)
    assert (reward.name, reward.kind, reward.cost, reward.validity_days) == ("Cake", Kind.ITEM, 100, 30)
    assert (reward.stock, reward.per_member_limit, reward.photo_file_id) == (None, 2, None)


async def test_back_forgets_the_answers_it_goes_back_over(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), CAMPAIGN.choose("audience", "all"), "Hello {name}")
    await walk(manager, CAMPAIGN.choose("gift", "none"), CAMPAIGN.choose("when", "later"))
    [summary] = await manager.say("2026-12-01 18:00")
    assert "Sending: at " in summary.text
    [when, _] = await walk(manager, CAMPAIGN.back("confirm"), CAMPAIGN.back("send_at"))
    assert "When should it be sent?" in when.text
    [summary, _] = await manager.press(CAMPAIGN.choose("when", "now"))  # the date typed before is gone with it
    assert "Sending: now" in summary.text
    await manager.press(CAMPAIGN.confirm)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.send_at is None and campaign.state != "scheduled"


async def test_a_back_on_an_older_question_is_a_stale_button(chat_with: MakeChat, sessions: Sessions) -> None:
    manager = await manager_chat(chat_with, sessions)
    await walk(manager, NEW_REWARD, "Cake", REWARD.skip("description"), REWARD.choose("kind", "item"), "100")
    [stale] = await manager.press(REWARD.back("cost"))  # the cost question was answered: its message is an old one
    assert stale.text == STALE and stale.method.show_alert
    [stock] = await manager.say("30")  # the wizard still waits for the validity
    assert "How many are available?" in stock.text


async def test_back_to_the_campaign_message_tells_the_audience_size_again(
    chat_with: MakeChat, sessions: Sessions
) -> None:
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    await walk(await new_campaign(manager), CAMPAIGN.choose("audience", "all"))
    [gift] = await manager.say("Hello {name}")
    assert "A gift with the message?" in gift.text
    [message, _] = await manager.press(CAMPAIGN.back("gift"))
    assert "Audience: all members — 3 members" in message.text and "{name}" in message.text


async def test_a_summary_whose_confirmation_failed_has_no_back(
    chat_with: MakeChat, sessions: Sessions, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager, _ = await confirm_failing_at(chat_with, sessions, monkeypatch, "_fill_outbox")
    [stale] = await manager.press(CAMPAIGN.back("confirm"))  # pressed again, Confirm finishes what it began
    assert stale.text == STALE
    await manager.press(CAMPAIGN.confirm)
    [campaign] = await stored_campaigns(sessions)
    assert campaign.state == "running"


# Answers kept by the version before an upgrade.


async def kept_before(
    dispatcher: Dispatcher, stubbed: tuple[Bot, RecordingSession], user: int, at: State, data: dict[str, Any]
) -> FSMContext:
    """The conversation state as the version before kept it: a plain dict of answers, waiting in `at`."""
    state = dispatcher.fsm.get_context(stubbed[0], chat_id=user, user_id=user)
    await state.set_state(at)
    await state.set_data(data)
    return state


async def test_a_reward_wizard_kept_by_the_version_before_goes_on(
    chat_with: MakeChat, sessions: Sessions, dispatcher: Dispatcher, stubbed: tuple[Bot, RecordingSession]
) -> None:
    manager = await manager_chat(chat_with, sessions)
    old = {"name": "Cake", "description": None, "kind": "percent", "percent": 20, "cap": None}
    await kept_before(dispatcher, stubbed, MANAGER, RewardWizard.cost, old)
    [validity] = await manager.say("100")
    assert "For how many days" in validity.text and REWARD.back("validity") in validity.callback_data()
    await walk(manager, "30", REWARD.skip("stock"), REWARD.skip("limit"))
    [summary, _] = await manager.press(REWARD.skip("photo"))
    assert "Cake" in summary.text and "20% off" in summary.text
    await manager.press(REWARD.confirm)
    [reward] = await stored_rewards(sessions)
    assert (reward.name, reward.kind, reward.value, reward.cost) == ("Cake", Kind.PERCENT, 20, 100)


@pytest.mark.parametrize(
    ("at", "old", "act"),
    [
        (RewardWizard.cost, {"name": "Cake", "kind": "coupon"}, "say:100"),  # a kind this version does not know
        (GiftWizard.tier, {"audience": "tier"}, "press:" + GIFT.choose("tier", "gold")),  # no tiers kept
        (RuleEdit.value, {"settings_field": "min_purchase", "settings_tier": ""}, "say:5000"),
    ],
)
async def test_answers_this_version_cannot_read_end_the_wizard_politely(
    chat_with: MakeChat,
    sessions: Sessions,
    dispatcher: Dispatcher,
    stubbed: tuple[Bot, RecordingSession],
    caplog: pytest.LogCaptureFixture,
    at: State,
    old: dict[str, Any],
    act: str,
) -> None:
    await hire(sessions, MANAGER, Role.OWNER)
    manager = chat_with(MANAGER, first_name="Mina", language_code="en")
    state = await kept_before(dispatcher, stubbed, MANAGER, at, old)
    how, _, what = act.partition(":")
    [reply] = await (manager.say(what) if how == "say" else manager.press(what))
    assert reply.text == LOST
    assert await state.get_state() is None and await state.get_data() == {}
    assert not [record for record in caplog.records if record.levelname == "ERROR"]
    [catalog] = await manager.say("/catalog")  # and the bot answers as usual afterwards
    assert "The catalog is empty" in catalog.text
