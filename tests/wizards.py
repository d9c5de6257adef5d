"""The wizards of /catalog, /gift and /campaign in the chat tests: each flow's buttons, packed as the engine packs
them (`handlers.wizard.WizardAction`), the buttons that start a wizard, and the walks several test modules share."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from handlers.staff.campaigns.view import CampaignAction
from handlers.staff.catalog import CatalogAction
from handlers.wizard import WizardAction
from loyalty import campaigns
from tests.chat import Chat, Reply, walk
from tests.faults import fail_once
from tests.people import MakeChat, Sessions, four_members, manager_chat


@dataclass(frozen=True)
class Buttons:
    """The buttons of the wizard named `flow` on its buttons."""

    flow: str

    def button(self, action: str, step: str = "", value: str = "") -> str:
        """The data of the button doing `action` at `step` with `value`."""
        return WizardAction(flow=self.flow, action=action, step=step, value=value).pack()

    def choose(self, step: str, value: str) -> str:
        """The choice `value` offered at `step`."""
        return self.button("choose", step, value)

    def skip(self, step: str) -> str:
        """Skip, under the optional question `step`."""
        return self.button("skip", step)

    def back(self, at: str) -> str:
        """Back, under the question `at` (or the summary: `confirm`)."""
        return self.button("back", at)

    @property
    def confirm(self) -> str:
        """The summary's Confirm (Save, Give, Confirm and send)."""
        return self.button("confirm")

    @property
    def cancel(self) -> str:
        """Cancel, under every question and the summary."""
        return self.button("cancel")


REWARD, GIFT, CAMPAIGN = Buttons("reward"), Buttons("gift"), Buttons("campaign")
NEW_REWARD = CatalogAction(action="new").pack()  # /catalog's New reward: the reward wizard's first question
NEW_CAMPAIGN = CampaignAction(action="new").pack()  # /campaign's New campaign: the campaign wizard's first question


async def reward_to_summary(chat: Chat) -> list[Reply]:
    """Answer the reward wizard for a free cake, skipping what may be skipped, up to the summary."""
    await walk(chat, NEW_REWARD, "Cake", REWARD.skip("description"), REWARD.choose("kind", "item"), "100", "30")
    return await walk(chat, REWARD.skip("stock"), REWARD.skip("limit"), REWARD.skip("photo"))


async def new_campaign(manager: Chat) -> Chat:
    """/campaign, then New campaign: the wizard waits for the audience."""
    await manager.say("/campaign")
    await manager.press(NEW_CAMPAIGN)
    return manager


async def campaign_to_summary(manager: Chat) -> None:
    """A campaign to all members with a points gift, sent now, up to its summary."""
    await walk(await new_campaign(manager), CAMPAIGN.choose("audience", "all"), "Hello {name}")
    await walk(manager, CAMPAIGN.choose("gift", "points"), "50", "30", CAMPAIGN.choose("when", "now"))


async def confirm_failing_at(
    chat_with: MakeChat, sessions: Sessions, monkeypatch: pytest.MonkeyPatch, step: str
) -> tuple[Chat, list[Reply]]:
    """A manager walks a campaign for four members to its summary and confirms it, `campaigns.<step>` failing once;
    the manager and the replies to that Confirm."""
    await four_members(chat_with, sessions)
    manager = await manager_chat(chat_with, sessions)
    await campaign_to_summary(manager)
    fail_once(monkeypatch, campaigns, step)
    return manager, await manager.press(CAMPAIGN.confirm)
