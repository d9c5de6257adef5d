"""The XLSX writer of exports: what it writes, openpyxl reads back cell for cell, in either of its modes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from handlers.staff.exports import xlsx

ROWS: list[list[str | int]] = [
    ["سارا رضایی", 12_345_678_901, "+989121234567", ""],
    ["<b> & 'c' \"d\"", -5, "  spaces kept  ", "line\nbreak"],
    ["bell\x07 gone", 0, "\u200cنیم‌فاصله", "١٢٣"],
]


async def rows() -> AsyncIterator[list[str | int]]:
    for row in ROWS:
        yield row


@pytest.mark.parametrize("read_only", [True, False])
async def test_the_sheet_reads_back_as_written_but_characters_xml_cannot_hold(tmp_path: Path, read_only: bool) -> None:
    path = tmp_path / "members.xlsx"
    await xlsx.write(path, ["نام", "Points", "Phone", "Note"], rows(), "اعضا: [1/2]")
    book = load_workbook(path, read_only=read_only)
    assert book.sheetnames == ["اعضا   1 2 "]  # what a sheet name cannot hold becomes a space
    found = [list(row) for row in book.active.iter_rows(values_only=True)]
    expected = [["نام", "Points", "Phone", "Note"], *ROWS]
    expected[3][0] = "bell gone"
    assert found == [[cell if cell != "" else None for cell in row] for row in expected]


async def test_a_sheet_without_rows_has_its_header(tmp_path: Path) -> None:
    async def none() -> AsyncIterator[list[str | int]]:
        for row in []:
            yield row

    await xlsx.write(tmp_path / "empty.xlsx", ["A", "B"], none(), "")
    book = load_workbook(tmp_path / "empty.xlsx", read_only=True)
    assert [list(row) for row in book.active.iter_rows(values_only=True)] == [["A", "B"]]
