"""The Mini App mounted on the bot's web server: a sub-application at WEBAPP_URL's path, holding what its routes
need (`WebApp`) and answering every error as JSON (`bot.webapp.answers.json_errors`); each part adds its routes
(`PARTS`: the page, the member's API, the staff's: who they are, reports, members, exports)."""

from __future__ import annotations

from aiohttp import web

from bot.webapp import member_api, pages, staff_api, staff_exports, staff_members, staff_reports
from bot.webapp.answers import json_errors
from bot.webapp.context import WEBAPP, WebApp

PARTS = (
    pages.add_routes,
    member_api.add_routes,
    staff_api.add_routes,
    staff_reports.add_routes,
    staff_members.add_routes,
    staff_exports.add_routes,
)


def add_routes(app: web.Application, *, webapp: WebApp, path: str) -> None:
    """Serve the Mini App at `path` (e.g. /app) of the web server."""
    mini_app = web.Application(middlewares=[json_errors])
    mini_app[WEBAPP] = webapp
    for add in PARTS:
        add(mini_app)
    app.add_subapp(path, mini_app)
