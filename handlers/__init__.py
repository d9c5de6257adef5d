"""Thin aiogram routers: read the update, call the club's rules, reply in the member's language."""

from aiogram import Router
from aiogram.filters import StateFilter

from handlers import (
    account,
    blocking,
    campaigns,
    catalog,
    counter,
    errors,
    general,
    gifts,
    profile,
    redeem,
    registration,
    rewards,
    settings,
    staff,
    stats,
)
from handlers.filters import IS_COMMAND

STAFF_PROMPTS = StateFilter(
    counter.Counter.amount,
    settings.RuleEdit.value,
    redeem.Redeem.code,
    catalog.RewardWizard,
    catalog.RewardEdit,
    gifts.GiftWizard,
    campaigns.CampaignWizard,
)


def create_router() -> Router:
    """The bot's whole tree of routers, in the order they get a chance at an update."""
    root = Router(name="loyalty")
    root.message.register(general.leave_prompt, STAFF_PROMPTS, IS_COMMAND)  # before any router takes the command
    root.include_routers(
        counter.create_router(),
        staff.create_router(),  # before general: a member's /start staff_… must not be a welcome back
        settings.create_router(),
        redeem.create_router(),  # before general: a scanned voucher's /start voucher_… is staff's
        catalog.create_router(),
        gifts.create_router(),
        stats.create_router(),
        blocking.create_router(),
        campaigns.create_router(),
        general.create_router(),
        registration.create_router(),
        account.create_router(),
        rewards.create_router(),
        profile.create_router(),
        general.create_fallback_router(),
        errors.create_router(),
    )
    return root
