"""One sheet of text and whole numbers as an XLSX workbook, its rows streamed as XML text into the zip file on disk.

openpyxl's write-only workbook makes an object, a style and an XML element of each cell (about 140 s for a million
members of 14 cells); this writes each row's XML as text, strings inline (no shared-string table, no styles), about
ten times faster and in constant memory. The package is the least that Excel, LibreOffice and openpyxl open: the
content types, the package's and the workbook's relations, the workbook and its one sheet.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import AsyncIterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{RELATIONS}"><Relationship Id="rId1" '
        f'Type="{DOCUMENT}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{RELATIONS}"><Relationship Id="rId1" '
        f'Type="{DOCUMENT}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
SHEET = "xl/worksheets/sheet1.xml"
NOT_XML_CHARACTERS = "\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff"  # characters XML 1.0 cannot hold: left out
NOT_XML = re.compile(f"[{NOT_XML_CHARACTERS}]")
TO_MEND = re.compile(f"[&<>{NOT_XML_CHARACTERS}]")  # what a text needs mended in: most texts have none of it
NOT_IN_TITLE = re.compile(r"[\[\]:*?/\\]")  # characters a sheet's name cannot hold
BATCH = 1_000  # rows joined into one write


def _workbook(title: str) -> str:
    name = quoteattr(NOT_IN_TITLE.sub(" ", NOT_XML.sub("", title))[:31] or "Sheet")
    return (
        f'<workbook xmlns="{MAIN}" xmlns:r="{DOCUMENT}"><sheets>'
        f'<sheet name={name} sheetId="1" r:id="rId1"/></sheets></workbook>'
    )


def _cell(value: str | int) -> str:
    if isinstance(value, int):
        return f"<c><v>{int(value)}</v></c>"
    if not value:
        return "<c/>"  # a blank cell
    return f'<c t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'


def _text(value: str) -> str:
    """The text as XML: markup escaped, characters XML cannot hold left out (a text needing neither as it is)."""
    return escape(NOT_XML.sub("", value)) if TO_MEND.search(value) else value


def _row(cells: Sequence[str | int]) -> str:
    return "<row>" + "".join(map(_cell, cells)) + "</row>"


async def write(path: Path, header: Sequence[str], rows: AsyncIterable[Sequence[str | int]], title: str) -> None:
    """The header and rows as the one sheet, named `title`, of an XLSX workbook at `path`."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for name, text in (*PARTS.items(), ("xl/workbook.xml", _workbook(title))):
            package.writestr(name, HEAD + text)
        with package.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write(f'{HEAD}<worksheet xmlns="{MAIN}"><sheetData>{_row(header)}'.encode())
            batch = []
            async for row in rows:
                batch.append(_row(row))
                if len(batch) == BATCH:
                    sheet.write("".join(batch).encode())
                    batch.clear()
            sheet.write(("".join(batch) + "</sheetData></worksheet>").encode())
