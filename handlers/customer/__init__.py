"""The customers' routers: the shop's profile (for anyone), joining, their account (balance, history, card,
invites), profile and rewards."""

from aiogram import Router

from handlers.customer import account, profile, registration, rewards, shop


def create_router() -> Router:
    """The customers' features, in the order they get a chance at an update."""
    router = Router(name="customer")
    router.include_routers(
        shop.create_router(),  # for newcomers too: before joining's, which answers their every message
        registration.create_router(),
        account.create_router(),
        rewards.create_router(),
        profile.create_router(),
    )
    return router
