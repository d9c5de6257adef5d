"""Who the staff member is (JSON, under `api/staff/`): only staff get in (`for_staff`), customers are refused with
403. The page shows the staff tabs by the answer; the staff pages' routes are in `staff_reports`, `staff_members` and
`staff_exports`, each guarding its own role."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.webapp.visits import Visit, for_staff
from loyalty.staff import Role, at_least


async def whoami(visit: Visit) -> dict[str, Any]:
    """The staff member's role, and the staff pages it opens: members for all staff, reports and exports for
    managers and owners."""
    manager = at_least(visit.role, Role.MANAGER)
    return {"role": str(visit.role), "may": {"members": True, "reports": manager, "exports": manager}}


def add_routes(app: web.Application) -> None:
    """The staff's routes, under the Mini App's path."""
    app.router.add_get("/api/staff/whoami", for_staff(whoami))
