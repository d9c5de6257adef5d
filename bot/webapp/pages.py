"""The Mini App's page: one HTML file, its stylesheet and script (package files under `static/`, no build step),
and the page's texts from the catalogs in the visitor's language (`PAGE_TEXTS`), with the direction they read in."""

from __future__ import annotations

from pathlib import Path

from aiogram.utils.i18n import gettext as _
from aiohttp import web

from bot.webapp.answers import LANGUAGE
from bot.webapp.visits import visiting

STATIC = Path(__file__).parent / "static"
RIGHT_TO_LEFT = frozenset({"fa"})
PAGE_TEXTS = (
    "webapp.title",
    "webapp.tab_card",
    "webapp.tab_points",
    "webapp.tab_history",
    "webapp.tab_rewards",
    "webapp.tab_vouchers",
    "webapp.points_label",
    "webapp.older",
    "webapp.redeem",
    "webapp.cancel",
    "webapp.loading",
    "webapp.retry",
    "webapp.tab_reports",
    "webapp.tab_members",
    "webapp.search_hint",
    "webapp.search",
    "webapp.no_members",
    "webapp.amount",
    "webapp.receipt",
    "webapp.payment_unsaid",
    "webapp.confirm_record",
    "webapp.adjust_title",
    "webapp.adjust_points",
    "webapp.adjust_reason",
    "webapp.adjust",
    "webapp.back",
    "webapp.show",
    "webapp.download",
    "button.record_purchase",
    "button.recent_purchases",
    "button.undo",
    "button.cancel",
)  # the staff tabs' too: a label tells nothing a staff route would refuse


async def page(request: web.Request) -> web.StreamResponse:
    """The page itself; it reads initData from the messenger and asks the API."""
    return web.FileResponse(STATIC / "index.html")


async def to_page(request: web.Request) -> web.StreamResponse:
    """The Mini App's address without its last slash: to the page, whose files are relative to it."""
    raise web.HTTPPermanentRedirect(request.path + "/")


async def page_texts(request: web.Request) -> web.StreamResponse:
    """The page's texts in the visitor's language, and whether they read right to left."""
    async with visiting(request) as visit:
        language = visit.request[LANGUAGE]
        texts = {key: _(key) for key in PAGE_TEXTS}
    return web.json_response({"language": language, "rtl": language in RIGHT_TO_LEFT, "texts": texts})


def add_routes(app: web.Application) -> None:
    """The page, its files and its texts, under the Mini App's path."""
    app.router.add_get("", to_page)
    app.router.add_get("/", page)
    app.router.add_get("/api/texts", page_texts)
    app.router.add_static("/static", STATIC)
