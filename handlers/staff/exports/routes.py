"""/export for managers and owners: which table (members, purchases, ledger, vouchers), which format (CSV or XLSX),
then the file as a document.

The rows come from `loyalty.exports` a batch at a time (those there when the export started) and are written into a
temporary file on disk, which is sent and deleted, so a club of any size is exported in constant memory; a table of
more than `PART_ROWS` rows comes in several files, each under the messenger's limit. For a large table the picker's
message shows how far the file has got, edited at most every `PROGRESS_SECONDS`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from pathlib import Path

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, FSInputFile, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club, currency
from handlers.filters import staff_only
from handlers.messages import show
from handlers.staff.exports import files
from handlers.staff.exports.cells import Cell, Cells, header, table_name
from loyalty import exports
from loyalty.exports import Export
from loyalty.staff import Role
from texts.numbers import number

LARGE = 5000  # rows past which the picker's message shows progress
PROGRESS_SECONDS = 5.0  # at most one progress edit this often (the messenger limits edits)
CHECK_EVERY = 500  # rows between looks at the clock
FORMAT_LABELS = {"csv": "CSV", "xlsx": "XLSX (Excel)"}
MAX_BYTES = 50 * 2**20  # the Bot API's limit on a file a bot sends
PART_ROWS = 200_000  # rows per file: about 25 MB of CSV, well under MAX_BYTES

Progress = Callable[[int], Awaitable[None]]


class ExportPick(CallbackData, prefix="exp"):
    """A table picked (`form` empty), then its format."""

    table: str
    form: str = ""


def tables() -> tuple[str, InlineKeyboardMarkup]:
    """The question of what to export, a button per table."""
    builder = InlineKeyboardBuilder()
    for name in exports.EXPORTS:
        builder.button(text=table_name(name), callback_data=ExportPick(table=name))
    return _("export.choose_table"), builder.adjust(2).as_markup()


def formats(table: str) -> tuple[str, InlineKeyboardMarkup]:
    """The question of the file's format, a button per format."""
    builder = InlineKeyboardBuilder()
    for form in files.FORMATS:
        builder.button(text=FORMAT_LABELS[form], callback_data=ExportPick(table=table, form=form))
    return _("export.choose_format").format(table=table_name(table)), builder.as_markup()


async def export_command(message: Message) -> None:
    """/export: what to export."""
    text, markup = tables()
    await message.answer(text, reply_markup=markup)


async def pick_table(query: CallbackQuery, callback_data: ExportPick, bot: Bot) -> None:
    """A table picked: in which format."""
    await show(query, bot, *formats(callback_data.table))


async def counted_cells(
    rows: AsyncIterator[tuple[object, ...]], cells: Cells, progress: Progress
) -> AsyncIterator[list[Cell]]:
    """The rows as cells, telling `progress` how many are written now and then."""
    written = 0
    async for row in rows:
        yield cells(row)
        written += 1
        if written % CHECK_EVERY == 0:
            await progress(written)


def progress_editor(query: CallbackQuery, bot: Bot, total: int) -> Progress:
    """Edits the picker's message with the rows written, at most every PROGRESS_SECONDS, for a large table only."""
    last = time.monotonic()

    async def edit(written: int) -> None:
        nonlocal last
        if total <= LARGE or time.monotonic() - last < PROGRESS_SECONDS:
            return
        last = time.monotonic()
        text = _("export.progress").format(written=number(written), total=number(total))
        try:
            await show(query, bot, text, None)
        except TelegramAPIError:  # progress is a courtesy: a refused edit does not stop the file
            return

    return edit


def file_name(export: Export, form: str, today: date, part: int, parts: int) -> str:
    """members-2026-11-22.csv: the table and the shop's date, and members-2026-11-22-2.csv for a second part."""
    suffix = f"-{part}" if parts > 1 else ""
    return f"{export.name}-{today:%Y-%m-%d}{suffix}.{form}"


def part_caption(title: str, total: int, part: int, parts: int) -> str:
    """The document's caption: the table and its rows, and which part this is of a split table."""
    text = _("export.ready").format(table=title, total=number(total))
    return text if parts == 1 else _("export.part").format(text=text, part=number(part), parts=number(parts))


async def pick_format(
    query: CallbackQuery, callback_data: ExportPick, bot: Bot, session: AsyncSession, club: Club, today: date
) -> None:
    """Write the table into a file of the picked format and send it; an empty table gets a sentence instead."""
    export = exports.EXPORTS[callback_data.table]
    title = table_name(export.name)
    extent = await exports.extent(session, export)
    total = extent.rows
    if total == 0:
        await show(query, bot, _("export.empty").format(table=title), None)
        return
    await show(query, bot, _("export.preparing").format(table=title, total=number(total)), None)
    rows = counted_cells(
        exports.rows(session, export, extent.last_id), Cells(export, club.zone), progress_editor(query, bot, total)
    )
    names = header(export, await currency(session, club))
    parts = -(-total // PART_ROWS)
    with tempfile.TemporaryDirectory(prefix="export-") as folder:
        written = 0
        async for part in files.parts(rows, PART_ROWS):
            written += 1
            path = Path(folder) / file_name(export, callback_data.form, today, written, parts)
            await files.write(path, callback_data.form, names, part, title)
            await send(query, bot, path, part_caption(title, total, written, parts))
            path.unlink()  # one part on disk at a time


async def send(query: CallbackQuery, bot: Bot, path: Path, caption: str) -> None:
    """The file as a document, or a sentence saying it is larger than the messenger takes."""
    size = path.stat().st_size
    if size > MAX_BYTES:
        megabytes = number(-(-size // 2**20))
        await show(query, bot, _("export.too_large").format(size=megabytes, limit=number(MAX_BYTES // 2**20)), None)
        return
    await bot.send_document(query.from_user.id, FSInputFile(path, filename=path.name), caption=caption)


KNOWN = F.table.in_(list(exports.EXPORTS))
ANSWER_FIRST = {"callback_answer": {"pre": True}}  # the press is answered before a long file is written


def create_router() -> Router:
    """Routes for managers' and owners' /export and its two pickers."""
    router = staff_only(Router(name="exports"), Role.MANAGER)
    router.message.register(export_command, Command("export"))
    router.callback_query.register(pick_table, ExportPick.filter(KNOWN & (F.form == "")))
    picked = ExportPick.filter(KNOWN & F.form.in_(list(files.FORMATS)))
    router.callback_query.register(pick_format, picked, flags=ANSWER_FIRST)
    return router
