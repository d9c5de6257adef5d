"""The staff's prompts checked as one set lookup (`handlers.filters.InState`) pass exactly what aiogram's StateFilter
of the same states passes."""

from __future__ import annotations

import pytest
from aiogram.filters import StateFilter
from aiogram.types import Update

from handlers.staff import PROMPTS
from handlers.staff.campaigns.flow import CampaignWizard
from handlers.staff.counter import Counter
from handlers.staff.settings import RuleEdit
from tests import updates

EVENT = Update.model_validate(updates.message_update(updates.user_json(1, "Sara", "fa"), text="/balance"))
STATES = [
    None,
    "Registration:name",  # a customer's conversation, not a staff prompt
    *Counter.__all_states_names__,
    *CampaignWizard.__all_states_names__,
    RuleEdit.value.state,
]


@pytest.mark.parametrize("raw_state", STATES)
async def test_the_staff_prompts_pass_what_aiogram_would_pass(raw_state: str | None) -> None:
    aiograms = StateFilter(*PROMPTS.states)
    assert await PROMPTS(EVENT, raw_state) == await aiograms(EVENT, raw_state=raw_state)
