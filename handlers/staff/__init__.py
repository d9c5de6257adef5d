"""The staff's routers: the counter, vouchers at the counter, the team, the owner's rules and catalog, gifts,
campaigns, figures, reports, the daily digest and exports, blocking, members' phone numbers, the owner's import of a
member list, and the staff's own /start (the owner's checklist). Each sets its role once, on its router
(`handlers.filters.staff_only`), and those for staff only sit behind one check of their own, so a customer's update
skips them all at once (a router passed costs about as much as a statement)."""

from aiogram import Router
from aiogram.filters import or_f

from handlers.filters import HasRole, InState, PayloadStarts, staff_only
from handlers.staff import (
    blocking,
    campaigns,
    catalog,
    counter,
    digest,
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
from loyalty.staff import Role

PROMPTS = InState(
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


def for_staff(name: str, *features: Router) -> Router:
    """Features for staff only (each checks its own role), behind one check that the sender is staff at all."""
    router = staff_only(Router(name=name), Role.CASHIER)
    router.include_routers(*features)
    return router


def create_router() -> Router:
    """The staff's features, in the order they get a chance at an update; anyone else's update skips them all at one
    check, but a message that may open a staff invite."""
    router = Router(name="staff-features")
    router.message.filter(or_f(HasRole(Role.CASHIER), PayloadStarts(team.STAFF_PAYLOAD_PREFIX)))
    router.callback_query.filter(HasRole(Role.CASHIER))
    router.include_routers(
        for_staff("staff-counter", counter.create_router()),
        team.create_router(),  # its staff_… invite opens for anyone: before general's /start
        for_staff("staff-only", *_staff_only_features()),
    )
    return router


def _staff_only_features() -> list[Router]:
    """The features after the team's, all for staff only."""
    return [
        settings.create_router(),
        redeem.create_router(),  # a scanned voucher's /start voucher_… is staff's: before general's /start
        catalog.create_router(),
        gifts.create_router(),
        stats.create_router(),
        report.create_router(),
        digest.create_router(),
        exports.create_router(),
        blocking.create_router(),
        phones.create_router(),
        imports.create_router(),
        campaigns.create_router(),
        onboarding.create_router(),  # a staff member's plain /start, after those with an invite, card or voucher
    ]
