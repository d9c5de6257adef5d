"""The staff's routers: the counter, vouchers at the counter, the team, the owner's rules and catalog, gifts,
campaigns, figures, reports and exports, blocking, members' phone numbers, the owner's import of a member list,
and the staff's own /start (the owner's checklist). Each sets its role once, on its router
(`handlers.filters.staff_only`)."""

from aiogram import Router
from aiogram.filters import StateFilter

from handlers.staff import (
    blocking,
    campaigns,
    catalog,
    counter,
    exports,
    gifts,
    imports,
    onboarding,
    phones,
    redeem,
    report,
    settings,
    stats,
    team,
)
from handlers.staff.campaigns.flow import CampaignWizard

PROMPTS = StateFilter(
    counter.Counter,
    settings.RuleEdit.value,
    settings.ShopEdit.value,
    redeem.Redeem.code,
    catalog.RewardWizard,
    catalog.RewardEdit,
    gifts.GiftWizard,
    CampaignWizard,
    imports.ImportFile,
    report.RangePrompt,
)
"""The staff's prompts, which a command typed instead of an answer leaves."""


def create_router() -> Router:
    """The staff's features, in the order they get a chance at an update."""
    router = Router(name="staff-features")
    router.include_routers(
        counter.create_router(),
        team.create_router(),  # its staff_… invite opens for anyone: before general's /start
        settings.create_router(),
        redeem.create_router(),  # a scanned voucher's /start voucher_… is staff's: before general's /start
        catalog.create_router(),
        gifts.create_router(),
        stats.create_router(),
        report.create_router(),
        exports.create_router(),
        blocking.create_router(),
        phones.create_router(),
        imports.create_router(),
        campaigns.create_router(),
        onboarding.create_router(),  # a staff member's plain /start, after those with an invite, card or voucher
    )
    return router
