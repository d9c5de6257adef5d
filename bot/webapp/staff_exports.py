"""The exports in the Mini App (managers and owners): the members, purchases, ledger or vouchers as the CSV or XLSX
file /export sends, written by the same writer (`handlers.staff.exports`, rows from `loyalty.exports` a batch at a
time into a temporary file), then streamed to the page as a download, a chunk at a time, and deleted. A web page has
no messenger's size limit, so the table comes whole, in one file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from aiogram.utils.i18n import gettext as _
from aiohttp import web

from bot.webapp.answers import Refusal
from bot.webapp.visits import Visit, for_staff, staff_visiting
from handlers.club import currency
from handlers.staff.exports import files
from handlers.staff.exports.cells import Cells, header, table_name
from handlers.staff.exports.routes import FORMAT_LABELS, file_name
from loyalty import exports
from loyalty.staff import Role

CHUNK = 2**16  # bytes read from the file and sent at a time
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def download(request: web.Request) -> web.StreamResponse:
    """The table in the format the path names (members.csv, ledger.xlsx …); an empty table is refused in words."""
    table, form = request.match_info["table"], request.match_info["form"]
    async with staff_visiting(request, Role.MANAGER) as visit:
        if table not in exports.EXPORTS or form not in files.FORMATS:
            raise Refusal(404, "webapp.not_found")
        export = exports.EXPORTS[table]
        title, club = table_name(export.name), visit.webapp.club
        extent = await exports.extent(visit.session, export)
        if extent.rows == 0:
            raise Refusal(409, "export_empty", message=_("export.empty").format(table=title))
        names = header(export, await currency(visit.session, club))
        cells = Cells(export, club.zone)
        rows = (cells(row) async for row in exports.rows(visit.session, export, extent.last_id))
        today = visit.now.astimezone(club.zone).date()
        with tempfile.TemporaryDirectory(prefix="export-") as folder:
            path = Path(folder) / file_name(export, form, today, 1, 1)
            await files.write(path, form, names, rows, title)
            return await streamed(request, path, MEDIA_TYPES[form])


async def streamed(request: web.Request, path: Path, media_type: str) -> web.StreamResponse:
    """The file at `path` sent as an attachment under its name, a chunk at a time."""
    response = web.StreamResponse(
        headers={
            "Content-Type": media_type,
            "Content-Disposition": f'attachment; filename="{path.name}"',
            "Content-Length": str(path.stat().st_size),
        }
    )
    await response.prepare(request)
    with path.open("rb") as file:
        while chunk := file.read(CHUNK):
            await response.write(chunk)
    await response.write_eof()
    return response


async def tables(visit: Visit) -> dict[str, Any]:
    """What can be downloaded: each table by its name, in each format."""
    return {
        "title": _("export.choose_table"),
        "tables": [{"name": name, "label": table_name(name)} for name in exports.EXPORTS],
        "formats": [{"name": form, "label": FORMAT_LABELS[form]} for form in files.FORMATS],
    }


def add_routes(app: web.Application) -> None:
    """The exports' routes, for managers and owners."""
    app.router.add_get("/api/staff/exports", for_staff(tables, Role.MANAGER))
    app.router.add_get("/api/staff/exports/{table}.{form}", download)
