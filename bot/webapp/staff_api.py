"""The staff's API (JSON, under `api/staff/`): only staff get in (`for_staff`), customers are refused with 403.
For now it says who is asking; the staff pages (reports, member search, a member's page) add their routes here."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.webapp.visits import Visit, for_staff


async def whoami(visit: Visit) -> dict[str, Any]:
    """The staff member's role, by which the staff pages will show what it allows."""
    return {"role": str(visit.role)}


def add_routes(app: web.Application) -> None:
    """The staff's routes, under the Mini App's path."""
    app.router.add_get("/api/staff/whoami", for_staff(whoami))
