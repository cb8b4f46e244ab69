"""Read the data table of an exported worksheet by its header row, wherever the official
heading above it ends, and check the heading and the signature around it."""

from __future__ import annotations

from typing import Any

from openpyxl.worksheet.worksheet import Worksheet

from accounts.officedoc import NATIONAL_MOTTO, NATIONAL_NAME


def header_row(ws: Worksheet, first_heading: str) -> int:
    """The number of the row whose first cell is ``first_heading`` (the table's header)."""
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value == first_heading:
            return int(row[0].row)
    raise AssertionError(f"no header row starting with {first_heading!r}")


def table(ws: Worksheet, first_heading: str) -> list[tuple[Any, ...]]:
    """The header row and the rows under it, up to the first empty row."""
    start = header_row(ws, first_heading)
    rows = []
    for values in ws.iter_rows(min_row=start, values_only=True):
        if all(value is None for value in values):
            break
        rows.append(values)
    return rows


def texts(ws: Worksheet, min_row: int = 1, max_row: int | None = None) -> list[str]:
    """Every text of the given rows, in reading order."""
    return [
        str(value)
        for values in ws.iter_rows(min_row=min_row, max_row=max_row, values_only=True)
        for value in values
        if value not in (None, "")
    ]


def assert_official_layout(ws: Worksheet, first_heading: str, title: str) -> None:
    """The national heading and motto right, the document's title above the table, the table a
    real one (frozen below its header, filtered), and a signature block below it."""
    start = header_row(ws, first_heading)
    above = texts(ws, 1, start - 1)
    assert NATIONAL_NAME in above and NATIONAL_MOTTO in above and title in above
    motto = next(c for row in ws.iter_rows(max_row=start) for c in row if c.value == NATIONAL_MOTTO)
    assert motto.font.underline == "single" and motto.column > 1  # the right half, ruled
    date_line = above[above.index(NATIONAL_MOTTO) + 1 :]
    assert any(", ngày " in text for text in date_line)
    assert ws.freeze_panes == f"A{start + 1}"
    assert ws.auto_filter.ref is not None and ws.auto_filter.ref.startswith(f"A{start}:")
    assert all(cell.font.bold for cell in ws[start] if cell.value is not None)
    last = int(ws.auto_filter.ref.split(":")[1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    assert "Nơi nhận:" in texts(ws, last + 1)
