"""The wizard engine through the real dispatcher: answers kept by the version before an upgrade are read as far as
they go, or the wizard ends politely."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State

from handlers.staff.catalog import RewardWizard
from handlers.staff.gifts import GiftWizard
from handlers.staff.settings.routes import RuleEdit
from loyalty.staff import Role
from loyalty.vouchers import Kind
from tests.chat import Chat
from tests.stub_bot import RecordingSession
from tests.test_catalog_chat import (
    MANAGER,
    SAVE,
    Sessions,
    manager_chat,
    skip,
    stored_rewards,
    walk,
)
from tests.test_counter import hire
from tests.test_gifts_chat import choose as choose_gift

MakeChat = Callable[..., Chat]
LOST = "This question has ended: the bot was updated meanwhile. Please start again."


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
    assert "For how many days" in validity.text
    await walk(manager, "30", skip("stock"), skip("limit"))
    [summary, _] = await manager.press(skip("photo"))
    assert "Cake" in summary.text and "20% off" in summary.text
    await manager.press(SAVE)
    [reward] = await stored_rewards(sessions)
    assert (reward.name, reward.kind, reward.value, reward.cost) == ("Cake", Kind.PERCENT, 20, 100)


@pytest.mark.parametrize(
    ("at", "old", "act"),
    [
        (RewardWizard.cost, {"name": "Cake", "kind": "coupon"}, "say:100"),  # a kind this version does not know
        (GiftWizard.tier, {"audience": "tier"}, "press:" + choose_gift("tier", "gold")),  # no tiers kept
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
