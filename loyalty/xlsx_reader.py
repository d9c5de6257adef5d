"""Reading an XLSX file's first sheet as rows of text cells with the standard library (zipfile and ElementTree).

A streaming read of the sheet's XML: several times faster than openpyxl's read-only reader, which builds an object per
cell's text and reads the whole sheet twice. Cells are typed as a spreadsheet shows them: shared and inline strings as
text, a whole number without `.0`, a number in a date format as year-month-day, a missing cell as ''.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from datetime import date, timedelta
from typing import IO
from xml.etree.ElementTree import Element, ParseError, iterparse

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELATIONSHIP = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PACKAGE_RELATIONSHIP = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_DATE_FORMAT_IDS = frozenset((*range(14, 18), 22, *range(27, 37), *range(50, 59)))  # Excel's built-in date formats
_NOT_IN_FORMAT = re.compile(r'"[^"]*"|\[[^]]*]|\\.')  # quoted text, colours and conditions, escaped characters
_EPOCHS = {False: date(1899, 12, 30), True: date(1904, 1, 1)}
_CELL = _MAIN + "c"
_ROW = _MAIN + "row"
_TEXT = _MAIN + "t"
_RUN = _MAIN + "r"
_INLINE = _MAIN + "is"
_VALUE = _MAIN + "v"


class BadWorkbook(Exception):
    """The file is not a workbook this reader understands."""


def rows(content: IO[bytes]) -> list[list[str]]:
    """The rows of the workbook's first sheet, each cell as text, all as wide as the widest (as openpyxl reads them:
    the same cells, so the same file digest); BadWorkbook."""
    try:
        with zipfile.ZipFile(content) as book:
            sheet, date1904 = _first_sheet(book)
            strings = _shared_strings(book)
            dates = _date_styles(book)
            with book.open(sheet) as xml:
                table = list(_sheet_rows(xml, strings, dates, _EPOCHS[date1904]))
    except (zipfile.BadZipFile, KeyError, ValueError, IndexError, OverflowError, ParseError, OSError):
        raise BadWorkbook from None
    width = max(map(len, table), default=0)
    return [row + [""] * (width - len(row)) for row in table]


def _first_sheet(book: zipfile.ZipFile) -> tuple[str, bool]:
    """The path of the first sheet in the package, and whether the workbook counts days from 1904."""
    workbook = _parse(book, "xl/workbook.xml")
    first = workbook.find(f"{_MAIN}sheets/{_MAIN}sheet")
    properties = workbook.find(f"{_MAIN}workbookPr")
    date1904 = properties is not None and properties.get("date1904", "0").lower() in ("1", "true")
    if first is None:
        raise BadWorkbook
    targets = {
        link.get("Id"): link.get("Target", "")
        for link in _parse(book, "xl/_rels/workbook.xml.rels").iter(_PACKAGE_RELATIONSHIP)
    }
    target = targets[first.get(_RELATIONSHIP)]
    return (target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")), date1904


def _shared_strings(book: zipfile.ZipFile) -> list[str]:
    """The workbook's shared strings (none when it has no table of them), phonetic guides left out."""
    if "xl/sharedStrings.xml" not in book.namelist():
        return []
    return [_text(item) for item in _parse(book, "xl/sharedStrings.xml").iter(_MAIN + "si")]


def _date_styles(book: zipfile.ZipFile) -> frozenset[int]:
    """The cell styles (their positions in cellXfs) whose number format shows a date."""
    if "xl/styles.xml" not in book.namelist():
        return frozenset()
    styles = _parse(book, "xl/styles.xml")
    custom = {
        int(number_format.get("numFmtId", "0")): number_format.get("formatCode", "")
        for number_format in styles.iter(_MAIN + "numFmt")
    }
    cell_styles = styles.find(_MAIN + "cellXfs")
    return frozenset(
        position
        for position, style in enumerate(cell_styles if cell_styles is not None else ())
        if _is_date_format(int(style.get("numFmtId", "0")), custom)
    )


def _is_date_format(format_id: int, custom: dict[int, str]) -> bool:
    """Whether a number format shows a date: one of Excel's built-in date formats, or a code with days, months or
    years (months without hours or seconds: those are minutes)."""
    if format_id in custom:
        code = _NOT_IN_FORMAT.sub("", custom[format_id]).lower()
        return any(letter in code for letter in "dy") or ("m" in code and "h" not in code and "s" not in code)
    return format_id in _DATE_FORMAT_IDS


def _parse(book: zipfile.ZipFile, name: str) -> Element:
    """A small part of the package as one tree."""
    with book.open(name) as xml:
        root: Element | None = None
        for _, element in iterparse(xml, ("end",)):
            root = element
    if root is None:
        raise BadWorkbook
    return root


def _text(item: Element) -> str:
    """The text of a string item, plain or in rich-text runs, phonetic guides left out."""
    return "".join(
        (child.text or "") if child.tag == _TEXT else (child.findtext(_TEXT) or "")
        for child in item
        if child.tag in (_TEXT, _RUN)
    )


def _sheet_rows(xml: IO[bytes], strings: list[str], dates: frozenset[int], epoch: date) -> Iterator[list[str]]:
    """The sheet's rows as read, each row's cells dropped once read (the sheet is never held whole)."""
    for _, element in iterparse(xml, ("end",)):
        if element.tag != _ROW:
            continue
        row: list[str] = []
        for cell in element.iter(_CELL):
            reference = cell.get("r")
            if reference:
                row.extend([""] * (_column(reference) - len(row)))
            row.append(_cell_text(cell, strings, dates, epoch))
        yield row
        element.clear()


def _column(reference: str) -> int:
    """The position of the column of a cell reference such as `AB12` (A is 0)."""
    number = 0
    for letter in reference:
        if letter.isdigit():
            break
        number = number * 26 + ord(letter.upper()) - 64
    return number - 1


def _cell_text(cell: Element, strings: list[str], dates: frozenset[int], epoch: date) -> str:
    """A cell as typed text, as openpyxl's values and `str` show it."""
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = cell.find(_INLINE)
        return _text(inline) if inline is not None else ""
    value = cell.findtext(_VALUE) or ""
    if not value or kind in ("str", "e"):
        return value
    if kind == "s":
        return strings[int(value)]
    if kind == "b":
        return "True" if value == "1" else "False"
    number = float(value)
    if int(cell.get("s", "0")) in dates:
        return (epoch + timedelta(days=int(number))).strftime("%Y-%m-%d")
    return str(int(number)) if number.is_integer() else str(number)
