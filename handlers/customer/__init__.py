"""The customers' routers: the shop's profile (for anyone), joining, profile and rewards, and their own data
(privacy). Their account (balance, history, card, invites) is the root's to place (`handlers.create_router`): it comes
before the others, which take none of its commands."""

from aiogram import Router

from handlers.customer import privacy, profile, registration, rewards, shop


def create_router() -> Router:
    """The customers' features, in the order they get a chance at an update."""
    router = Router(name="customer")
    router.include_routers(
        shop.create_router(),  # for newcomers too: before joining's, which answers their every message
        privacy.create_router(),  # /privacy for newcomers too, and a tap on /forgetme's button once no member
        registration.create_router(),
        rewards.create_router(),
        profile.create_router(),
    )
    return router
