"""/import for owners: the shop's existing customers from a CSV or XLSX file, checked, shown as a dry run, imported on
confirm (`loyalty.imports`).

/import explains the columns with an example and waits for the file (`ImportFile.waiting`). The file is downloaded
(its size and type checked first), every row checked, and the dry run shown: the new customers, those already
members and the bad rows, the first few named, all of them sent back as a CSV file with a reason column. The file's
id waits in the conversation's data (`PENDING_KEY`) until the Import or Cancel of its dry run is pressed; Import
downloads and checks it again and imports, so a second press (or one under an earlier list) finds nothing waiting
(a stale button) and a retried import adds nothing.
Imported customers are waiting members in the shop's language, not messaged. For anyone but an owner the filters
do not match and it falls through.
"""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import datetime

from aiogram import Bot, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import BufferedInputFile, CallbackQuery, Document, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import InlineKeyboardBuilder
from sqlalchemy.ext.asyncio import AsyncSession

from handlers.club import Club
from handlers.filters import NOT_COMMAND, Magic, staff_only
from handlers.messages import show, stale
from loyalty import imports, rules
from loyalty.errors import UnreadableFile
from loyalty.staff import Role
from loyalty.stamps import Stamp
from texts.numbers import number
from texts.plurals import counted
from texts.tiers import tier_names

PENDING_KEY = "imports.pending"
MAX_BYTES = 10 * 1024 * 1024  # a member list of 100,000 rows is well under this
SUFFIXES = (".csv", ".txt", ".xlsx")
SHOWN_BAD = 5  # bad rows named in the summary; all of them are in the file sent back
PROBLEMS = {  # a bad row's problem (or its column, for the rest of that column's problems): what the owner reads
    "phone": __("import.problem.phone"),
    "name": __("import.problem.name"),
    "birthday": __("import.problem.birthday"),
    "birthday.future": __("import.problem.birthday_future"),
    "gender": __("import.problem.gender"),
    "points": __("import.problem.points"),
    "points.too_large": __("import.problem.points_too_large"),
    "tier": __("import.problem.tier"),
    "duplicate": __("import.problem.duplicate"),
}

UNREADABLE = {  # why a file is refused whole (`UnreadableFile.reason`)
    "format": __("import.unreadable_format"),
    "empty": __("import.unreadable_empty"),
    "no_phone_column": __("import.unreadable_no_phone_column"),
    "too_many_rows": __("import.unreadable_too_many_rows"),
}


class ImportFile(StatesGroup):
    """Waiting for the owner's member list after /import."""

    waiting = State()


class ImportAction(CallbackData, prefix="imp"):
    """Import (`yes`) or Cancel (`no`) under the dry run of the member list whose digest is `sheet`."""

    action: str
    sheet: str


def problem_text(problem: str) -> str:
    """What is wrong with a bad row, in the reader's language."""
    return str(PROBLEMS.get(problem) or PROBLEMS[problem.split(".")[0]])


async def import_command(message: Message, state: FSMContext) -> None:
    """/import: the columns expected, with an example; the next document is the member list."""
    await state.set_state(ImportFile.waiting)
    await state.update_data({PENDING_KEY: None})
    await message.answer(_("import.ask"))


def looks_like_a_table(document: Document) -> bool:
    """True if the document is named as a CSV or XLSX file and is not too big to download."""
    name = (document.file_name or "").casefold()
    return (document.file_size or 0) <= MAX_BYTES and name.endswith(SUFFIXES)


async def checked(
    bot: Bot, file_id: str, club: Club, now: datetime, session: AsyncSession, i18n: I18n
) -> imports.Sheet:
    """The member list of `file_id` downloaded, read and checked against the club's rules (a tier named as the rules
    do or as members see it, in any language); UnreadableFile."""
    content = io.BytesIO()
    await bot.download(file_id, destination=content)
    club_rules = await rules.current(session, club.rules)
    name = tier_names(i18n)
    shown = {name(tier.name, locale): tier.name for tier in club_rules.tiers for locale in i18n.available_locales}
    table = await asyncio.to_thread(
        imports.read_table, content.getvalue()
    )  # a big list: the bot answers others meanwhile
    return await asyncio.to_thread(imports.check_rows, table, club_rules, now.date(), shown)


async def document_sent(
    message: Message, state: FSMContext, session: AsyncSession, bot: Bot, club: Club, now: datetime, i18n: I18n
) -> None:
    """A member list: its dry run with Import and Cancel (and its bad rows as a file); a wrong file is refused."""
    document = message.document
    assert document is not None  # the filter
    if not looks_like_a_table(document):
        await message.answer(_("import.not_a_table"))
        return
    try:
        sheet = await checked(bot, document.file_id, club, now, session, i18n)
    except UnreadableFile as error:
        await message.answer(_("import.unreadable").format(why=UNREADABLE[error.reason]))
        return
    planned = await imports.plan(session, sheet)
    await state.set_state(None)
    pending = {"file": document.file_id, "sheet": sheet.digest} if planned.new else None
    await state.update_data({PENDING_KEY: pending})
    markup = buttons(len(planned.new), sheet.digest) if planned.new else None
    await message.answer(summary(planned), reply_markup=markup)
    if planned.bad:
        await message.answer_document(bad_rows_file(sheet), caption=_("import.bad_file"))


def summary(planned: imports.Plan) -> str:
    """The dry run in words: how many are new, already members and bad, the first bad rows named."""
    text = _("import.summary").format(
        new=number(len(planned.new)), already=number(planned.already), bad=number(len(planned.bad))
    )
    lines = [
        _("import.bad_line").format(line=number(row.line), problem=problem_text(row.problem))
        for row in planned.bad[:SHOWN_BAD]
    ]
    ending = _("import.confirm") if planned.new else _("import.nothing_new")
    return "\n\n".join([text, *(["\n".join(lines)] if lines else []), ending])


def buttons(count: int, sheet: str) -> InlineKeyboardMarkup:
    """Import the new customers of the list whose digest is `sheet`, or Cancel."""
    builder = InlineKeyboardBuilder()
    label = counted("button.import_yes", count).format(count=number(count))
    builder.button(text=label, callback_data=ImportAction(action="yes", sheet=sheet))
    builder.button(text=_("button.cancel"), callback_data=ImportAction(action="no", sheet=sheet))
    return builder.as_markup()


def bad_rows_file(sheet: imports.Sheet) -> BufferedInputFile:
    """The bad rows as a CSV file (UTF-8 with BOM, so Excel shows Persian): their line, their cells and why."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([_("import.column_line"), *sheet.header, _("import.column_reason")])
    for row in sheet.bad:
        writer.writerow([row.line, *row.cells, problem_text(row.problem)])
    return BufferedInputFile(("\ufeff" + text.getvalue()).encode(), filename="bad-rows.csv")


async def answer_confirmation(
    query: CallbackQuery,
    callback_data: ImportAction,
    state: FSMContext,
    session: AsyncSession,
    stamp: Stamp,
    bot: Bot,
    club: Club,
    i18n: I18n,
    callback_answer: CallbackAnswer,
) -> None:
    """Import: the file is checked again and imported, and the owner told what was done; Cancel: nothing is. Stale
    with no member list waiting (a second press)."""
    pending = (await state.get_data()).get(PENDING_KEY)
    if not isinstance(pending, dict) or pending.get("sheet") != callback_data.sheet:
        stale(callback_answer)  # a second press, or the buttons of another list than the one waiting
        return
    file_id = str(pending["file"])
    await state.update_data({PENDING_KEY: None})
    if callback_data.action == "no":
        await show(query, bot, _("import.cancelled"), None)
        return
    try:
        sheet = await checked(bot, file_id, club, stamp.at, session, i18n)
    except UnreadableFile:
        await show(query, bot, _("import.unreadable").format(why=UNREADABLE["format"]), None)
        return
    done = await imports.run(session, club.rules, sheet, i18n.default_locale, stamp)
    text = counted("import.done", done.created).format(
        created=number(done.created), points=number(done.points), skipped=number(done.skipped)
    )
    await show(query, bot, text, None)


async def still_waiting(message: Message) -> None:
    """Anything but a file while /import waits for one: what to send."""
    await message.answer(_("import.send_file"))


def create_router() -> Router:
    """Routes for owners' /import, the member list it waits for, and the dry run's buttons."""
    router = staff_only(Router(name="imports"), Role.OWNER)
    router.message.register(import_command, Command("import"))
    router.message.register(document_sent, StateFilter(ImportFile.waiting), Magic(F.document))
    router.message.register(still_waiting, StateFilter(ImportFile.waiting), NOT_COMMAND)
    router.callback_query.register(answer_confirmation, ImportAction.filter(F.action.in_(["yes", "no"])))
    return router
