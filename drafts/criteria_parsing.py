"""Read a criteria table (.xlsx, or a table in a .docx) into a tree of criteria.

Pure module: bytes in, a tree out; no Flask, no database.

* The header row is found by its column names (STT/TT, Tiêu chí/Nội dung, Điểm chuẩn/Điểm tối
  đa/Điểm, Cách chấm/Hướng dẫn chấm), ignoring case, diacritics and extra words; title rows may
  sit above it. The first sheet (or Word table) with such a header is read.
* Codes give the tree: ``A`` (a letter group, if used) > ``I`` > ``1`` > ``1.1`` > ``1.1.1`` >
  ``a``. A row without a code titled "Điểm thưởng"/"Điểm cộng" is a bonus group and "Điểm trừ" a
  deduction group, both at the top level; later ``1``, ``2``... rows are their items until the
  next Roman group. A "Tổng cộng" row is not a criterion: it is only checked against the total.
* A row without a code but with points is an item of the row above; without points it continues
  the title and guidance of the row above (text split over several rows).
* Points are Decimal: numeric cells, text with a decimal comma ("2,5"), or text around a number
  ("tối đa 5 điểm"; the largest number wins, the sign is dropped). A group left without points
  takes the sum of its items. Unreadable points give a warning and stay empty.
"""

from __future__ import annotations

import io
import json
import re
import threading
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Literal, Protocol

import openpyxl
from docx.oxml.ns import qn
from openpyxl.reader import excel as excel_reader
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet.dimensions import SheetDimension
from openpyxl.xml.constants import SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from drafts.officefile import N_, Note
from drafts.parsing import (
    MSG_UNREADABLE_DOCX,
    ParseError,
    WordBody,
    fold,
    open_docx,
    roman_to_int,
    sniff_office_file,
    squash,
)

CriterionKind = Literal["criterion", "bonus", "deduction"]

MSG_NO_HEADER = N_(
    "Không tìm thấy bảng tiêu chí: cần một dòng tiêu đề có các cột STT, Tiêu chí, Điểm chuẩn."
)
MSG_NO_ROWS = N_("Bảng tiêu chí không có tiêu chí nào dưới dòng tiêu đề.")
MSG_UNREADABLE_XLSX = N_("Không đọc được nội dung bảng tính Excel (.xlsx); tệp có thể bị hỏng.")

# Criteria tables are a few hundred rows. A sheet with content past these limits is refused
# while it is being read (config: CRITERIA_MAX_ROWS, CRITERIA_MAX_COLUMNS), so a million-row
# upload costs a few thousand rows of work, not a million.
MAX_ROWS, MAX_COLUMNS, HEADER_SEARCH_ROWS = 5000, 40, 30
DIMENSION_TAG = f"{{{SHEET_MAIN_NS}}}dimension"
SHEET_DATA_TAG = f"{{{SHEET_MAIN_NS}}}sheetData"
# Empty rows past MAX_ROWS are skipped, up to this many: formatting often reaches far below
# the table, but a sparse sheet must not make the reader walk a million empty rows.
EMPTY_TAIL_ROWS = 1000
MSG_TOO_MANY_ROWS = N_(
    "Bảng tính có quá nhiều dòng: chỉ đọc được bảng tiêu chí tối đa %(limit)d dòng."
)
MSG_TOO_MANY_COLUMNS = N_(
    "Bảng tính có quá nhiều cột: chỉ đọc được bảng tiêu chí tối đa %(limit)d cột."
)


class SheetTooLarge(ParseError):
    """A sheet with content past the row or column limit."""


@dataclass
class CriteriaNode:
    kind: CriterionKind
    code: str
    title: str
    max_points: Decimal | None = None
    guidance: str = ""
    children: list[CriteriaNode] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "code": self.code,
            "title": self.title,
            "max_points": json_number(self.max_points),
            "guidance": self.guidance,
            "children": [child.as_dict() for child in self.children],
        }


@dataclass
class CriteriaResult:
    criteria: list[CriteriaNode]
    warnings: list[str]
    total_max_points: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "criteria": [node.as_dict() for node in self.criteria],
            "total_max_points": json_number(self.total_max_points),
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=indent)


def json_number(value: Decimal | None) -> int | float | None:
    """60 stays 60 (not 60.0); 2.5 becomes a float."""
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def format_points(value: Decimal) -> str:
    """Points as Vietnamese users write them: "60", "2,5"."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f").replace(".", ",")


class PointsNode(Protocol):
    """Anything shaped like a criterion: parsed nodes here, or rows loaded from the database."""

    kind: str
    code: str
    title: str
    max_points: Decimal | None

    @property
    def children(self) -> Sequence[PointsNode]: ...


def check_criteria_sums(nodes: Sequence[PointsNode]) -> list[str]:
    """One warning per criteria group whose maximum differs from the sum of its items.

    Bonus and deduction groups are left out: their cap is meant to be below the items' sum.
    Groups with an item lacking points are not checked either.
    """
    problems = []
    for node in nodes:
        children = list(node.children)
        points = [child.max_points for child in children]
        if node.kind == "criterion" and children and node.max_points is not None:
            total = sum((Decimal(str(p)) for p in points if p is not None), Decimal(0))
            maximum = Decimal(str(node.max_points))
            if None not in points and total != maximum:
                problems.append(
                    Note(
                        N_(
                            "Nhóm %(group)s: điểm chuẩn %(maximum)s khác tổng các tiêu chí con "
                            "%(total)s."
                        ),
                        group=node.code or node.title,
                        maximum=format_points(maximum),
                        total=format_points(total),
                    )
                )
        problems.extend(check_criteria_sums(children))
    return problems


def parse_criteria(
    data: bytes,
    filename: str | None = None,
    *,
    max_rows: int = MAX_ROWS,
    max_columns: int = MAX_COLUMNS,
) -> CriteriaResult:
    """Parse a criteria table from .xlsx or .docx bytes; ParseError on unreadable input, or
    on a sheet with content past ``max_rows`` rows or ``max_columns`` columns.

    The format is sniffed from the content; ``filename`` is accepted for callers that have one
    but never decides anything.
    """
    is_xlsx = sniff_office_file(data) == "xlsx"
    tables = _xlsx_tables(data, max_rows, max_columns) if is_xlsx else _docx_tables(data)
    try:
        for table in tables:
            header = _find_header(table)
            if header is not None:
                index, columns = header
                return _TreeBuilder(columns).build(table, index + 1)
    except ParseError:
        raise
    except Exception as exc:  # a malformed file must never surface as a server error
        raise ParseError(MSG_UNREADABLE_XLSX if is_xlsx else MSG_UNREADABLE_DOCX) from exc
    raise ParseError(MSG_NO_HEADER)


# ---------------------------------------------------------------------------------------------
# Sources: every sheet, or every Word table, as a list of rows of cell values
# ---------------------------------------------------------------------------------------------

Cell = str | int | float | Decimal | None
Table = list[list[Cell]]


class _StreamingSheet(ReadOnlyWorksheet):
    """openpyxl's read-only sheet, minus one full pass over the sheet.

    To find a sheet's size openpyxl looks for <dimension> until the *end* of <sheetData>:
    when a file leaves it out, that is the whole sheet, parsed before the first row is
    read. The element comes before <sheetData> or not at all, so look until its start.
    """

    def _get_size(self) -> None:
        with self._get_source() as source:
            for _event, element in iterparse(source, events=("start",)):
                if element.tag == DIMENSION_TAG:
                    boundaries = SheetDimension.from_tree(element).boundaries
                    if boundaries is not None:
                        self._min_column, self._min_row, self._max_column, self._max_row = (
                            boundaries
                        )
                    return
                if element.tag == SHEET_DATA_TAG:
                    return


_SHEET_CLASS_LOCK = threading.Lock()


def _open_workbook(data: bytes) -> Any:
    # Streaming (read_only): rows are parsed one at a time, so reading stops at the limits
    # instead of first building every cell of the sheet. A merged range's other cells are
    # empty either way; data_only gives formulas' cached values. openpyxl builds its sheets
    # inside load_workbook; the lock keeps the class swap to this call.
    with _SHEET_CLASS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions
        original = excel_reader.ReadOnlyWorksheet
        excel_reader.ReadOnlyWorksheet = _StreamingSheet  # type: ignore[misc]
        try:
            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        finally:
            excel_reader.ReadOnlyWorksheet = original  # type: ignore[misc]


def _xlsx_tables(data: bytes, max_rows: int, max_columns: int) -> Iterator[Table]:
    try:
        workbook = _open_workbook(data)
    except Exception as exc:  # openpyxl raises many types on malformed packages
        raise ParseError(MSG_UNREADABLE_XLSX) from exc
    try:
        for sheet in workbook.worksheets:
            yield _sheet_rows(sheet, max_rows, max_columns)
    finally:
        workbook.close()


def _sheet_rows(sheet: Any, max_rows: int, max_columns: int) -> Table:
    rows: Table = []
    # One column more than allowed, to see whether anything lies past the limit.
    cells = sheet.iter_rows(max_col=max_columns + 1, values_only=True)
    for number, row in enumerate(cells, start=1):
        values = [_cell_value(value) for value in row]
        if len(values) > max_columns:
            if _filled(values[max_columns:]):
                raise SheetTooLarge(MSG_TOO_MANY_COLUMNS, limit=max_columns)
            del values[max_columns:]
        if number <= max_rows:
            rows.append(values)
        elif _filled(values):
            raise SheetTooLarge(MSG_TOO_MANY_ROWS, limit=max_rows)
        elif number > max_rows + EMPTY_TAIL_ROWS:
            break
    return rows


def _filled(values: Sequence[Cell]) -> bool:
    return any(value is not None and value != "" for value in values)


def _cell_value(value: Any) -> Cell:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal | None):
        return str(value)  # dates, booleans, error markers: text that cannot be points
    return value


def _docx_tables(data: bytes) -> Iterator[Table]:
    body = WordBody(open_docx(data))
    for kind, element in body.blocks():
        if kind == "tbl":
            yield _word_table(body, element)


def _word_table(body: WordBody, table: Any) -> Table:
    """Rows on the table grid; a merged cell's text sits in its first grid cell only."""
    rows: Table = []
    for tr in table.iterchildren(qn("w:tr")):
        tr_pr = tr.find(qn("w:trPr"))
        before = tr_pr.find(qn("w:gridBefore")) if tr_pr is not None else None
        row: list[Cell] = [None] * (int(before.get(qn("w:val"), "0")) if before is not None else 0)
        for tc in tr.iterchildren(qn("w:tc")):
            tc_pr = tc.find(qn("w:tcPr"))
            span = tc_pr.find(qn("w:gridSpan")) if tc_pr is not None else None
            v_merge = tc_pr.find(qn("w:vMerge")) if tc_pr is not None else None
            continued = v_merge is not None and v_merge.get(qn("w:val"), "continue") == "continue"
            paragraphs = tc.iterchildren(qn("w:p"))
            texts = [body.paragraph_text(p) for p in paragraphs]
            row.append(None if continued else "\n".join(t for t in texts if t))
            row.extend([None] * (int(span.get(qn("w:val"), "1")) - 1 if span is not None else 0))
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# Header row
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Columns:
    title: int
    points: int
    code: int | None
    guidance: int | None


def _column_role(header: str) -> str | None:
    words = fold(header)
    if any(key in words for key in ("cach cham", "huong dan", "phuong phap cham", "cach tinh")):
        return "guidance"
    if any(key in words for key in ("diem chuan", "diem toi da", "thang diem")) or words in (
        "diem",
        "so diem",
        "diem so",
    ):
        return "points"
    if any(key in words for key in ("tieu chi", "noi dung", "chi tieu")):
        return "title"
    if words in ("stt", "tt", "so tt", "so thu tu", "ma", "ma so", "ma tieu chi"):
        return "code"
    return None


def _find_header(table: Table) -> tuple[int, _Columns] | None:
    for index, row in enumerate(table[:HEADER_SEARCH_ROWS]):
        roles: dict[str, int] = {}
        for column, value in enumerate(row):
            role = _column_role(str(value)) if isinstance(value, str) else None
            if role:
                roles.setdefault(role, column)
        if "title" in roles and "points" in roles:
            return index, _Columns(
                roles["title"], roles["points"], roles.get("code"), roles.get("guidance")
            )
    return None


# ---------------------------------------------------------------------------------------------
# Rows to tree
# ---------------------------------------------------------------------------------------------

_CODE_RE = re.compile(r"^(?P<code>[A-Z]|[IVXLC]+|\d{1,3}(?:\.\d{1,3})*|[a-zđ])\s?[.)]?$")
_CODE_PREFIX_RE = re.compile(
    r"^(?P<code>[A-Z]|[IVXLC]+|\d{1,3}(?:\.\d{1,3})*|[a-zđ])\s?[.)]\s*(?P<rest>\S.*)$", re.S
)
_NUMBER_RE = re.compile(r"\d+(?:[.,]\d+)*")
_CAP_RE = re.compile(r"(?:tối đa|không quá)\s*\+?\s*(\d+(?:[.,]\d+)?)", re.IGNORECASE)
_BONUS_WORDS = ("diem thuong", "diem cong", "cong diem", "thuong diem")
_DEDUCTION_WORDS = ("diem tru", "tru diem")
_TOTAL_WORDS = ("tong cong", "tong so diem", "tong diem", "tong so")
# Below every code rank: a row without a code is an item of the row above it.
_UNCODED_RANK = 100


@dataclass
class _Row:
    number: int
    code: str
    title: str
    points: Cell
    guidance: str


class _TreeBuilder:
    def __init__(self, columns: _Columns) -> None:
        self.columns = columns
        self.roots: list[CriteriaNode] = []
        self.path: list[tuple[int, CriteriaNode]] = []
        self.top_rank = 1  # rank of top-level groups: 0 once letter groups (A, B) appear
        self.stated_total: Decimal | None = None
        self.warnings: list[str] = []

    def build(self, table: Table, first_row: int) -> CriteriaResult:
        for index in range(first_row, len(table)):
            row = self._read_row(table[index], index + 1)
            if row is not None:
                self._add(row)
        if not self.roots:
            raise ParseError(MSG_NO_ROWS)
        _fill_group_points(self.roots)
        self.warnings.extend(check_criteria_sums(self.roots))
        total = sum(
            (n.max_points for n in self.roots if n.kind == "criterion" and n.max_points),
            Decimal(0),
        )
        if self.stated_total is not None and self.stated_total != total:
            self.warnings.append(
                Note(
                    N_(
                        "Dòng tổng cộng ghi %(stated)s điểm, khác tổng điểm chuẩn các nhóm "
                        "tiêu chí %(total)s."
                    ),
                    stated=format_points(self.stated_total),
                    total=format_points(total),
                )
            )
        return CriteriaResult(self.roots, self.warnings, total)

    def _read_row(self, values: list[Cell], number: int) -> _Row | None:
        def cell(column: int | None) -> Cell:
            return values[column] if column is not None and column < len(values) else None

        columns = self.columns
        code, title = _split_code(cell(columns.code), _text(cell(columns.title)))
        if columns.code is None and not code:
            code, title = _split_code(None, title, embedded=True)
        row = _Row(number, code, title, cell(columns.points), _text(cell(columns.guidance)))
        if not (row.code or row.title) and (_text(row.points) or not row.guidance):
            return None  # blank, or a second header row such as "Chuẩn | Tự chấm"
        if _is_column_numbers(values):
            return None
        return row

    def _add(self, row: _Row) -> None:
        words = fold(row.title)
        top_level_code = not row.code or _code_rank(row.code) <= 1
        if not row.code and (words.startswith(_TOTAL_WORDS) or words == "cong"):
            self.stated_total, _ = self._points(row)
            return
        if top_level_code and words.startswith(_BONUS_WORDS):
            self._attach_group("bonus", row)
        elif top_level_code and words.startswith(_DEDUCTION_WORDS):
            self._attach_group("deduction", row)
        elif row.code:
            self._attach(_code_rank(row.code), row)
        elif not _text(row.points):
            self._continue(row)
        else:
            self._attach(_UNCODED_RANK, row)

    def _attach_group(self, kind: CriterionKind, row: _Row) -> None:
        points, _ = self._points(row)
        if points is None and kind == "bonus" and (cap := _CAP_RE.search(row.guidance)):
            points = _vietnamese_number(cap.group(1))
        node = CriteriaNode(kind, row.code, row.title, points, row.guidance)
        self.roots.append(node)
        self.path = [(self.top_rank, node)]

    def _attach(self, rank: int, row: _Row) -> None:
        while self.path and self.path[-1][0] >= rank:
            self.path.pop()
        parent = self.path[-1][1] if self.path else None
        kind: CriterionKind = parent.kind if parent else "criterion"
        points, _ = self._points(row)
        node = CriteriaNode(kind, row.code, row.title, points, row.guidance)
        if parent is None:
            self.roots.append(node)
            self.top_rank = min(self.top_rank, rank)
        else:
            parent.children.append(node)
        self.path.append((rank, node))

    def _continue(self, row: _Row) -> None:
        if not self.path:
            return
        node = self.path[-1][1]
        if row.title:
            node.title = f"{node.title} {row.title}".strip()
        if row.guidance:
            node.guidance = f"{node.guidance}\n{row.guidance}".strip()

    def _points(self, row: _Row) -> tuple[Decimal | None, bool]:
        points, readable = parse_points(row.points)
        if not readable:
            self.warnings.append(
                Note(
                    N_("Dòng %(row)d (%(criterion)s): không đọc được điểm “%(points)s”, để trống."),
                    row=row.number,
                    criterion=row.code or row.title[:40],
                    points=_text(row.points),
                )
            )
        return points, readable


def parse_points(value: Cell) -> tuple[Decimal | None, bool]:
    """Points from a cell: (value, True); (None, True) when empty; (None, False) if unreadable."""
    if value is None:
        return None, True
    if isinstance(value, int | Decimal):
        return abs(Decimal(value)), True
    if isinstance(value, float):
        return abs(Decimal(str(round(value, 6)))), True
    text = squash(value).strip()
    if not text or "khong gioi han" in fold(text):
        return None, True
    numbers = [_vietnamese_number(n) for n in _NUMBER_RE.findall(text)]
    if not numbers:
        return None, False
    return max(numbers), True


def _vietnamese_number(text: str) -> Decimal:
    """ "2,5" → 2.5 and "1.000" → 1000 (Vietnamese separators); "2.5" still reads as 2.5."""
    if "," in text and "." in text:
        decimal_mark = "," if text.rfind(",") > text.rfind(".") else "."
    elif text.count(",") == 1:
        decimal_mark = ","
    elif text.count(".") == 1 and len(text.split(".")[1]) != 3:
        decimal_mark = "."
    else:
        decimal_mark = ""
    grouping = {",", "."} - {decimal_mark}
    digits = "".join(ch for ch in text if ch not in grouping).replace(",", ".")
    try:
        return Decimal(digits)
    except InvalidOperation:
        return Decimal(0)


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    lines = (squash(line).strip() for line in str(value).splitlines())
    return "\n".join(line for line in lines if line)


def _split_code(code_cell: Cell, title: str, embedded: bool = False) -> tuple[str, str]:
    """(code, title) from the code cell, or from a title like "I. Công tác..." when needed.

    A group row merged across the table keeps all its text in the code cell.
    """
    code = _text(code_cell)  # a numeric cell holding 1.1 reads as "1.1"
    if match := _CODE_RE.match(code):
        return match["code"], title
    if code and not title:
        title, embedded = code, True
    elif code:
        return "", title  # a bullet or note in the code column
    if embedded and (match := _CODE_PREFIX_RE.match(title)):
        return match["code"], match["rest"]
    return "", title


def _code_rank(code: str) -> int:
    if len(code) == 1 and "A" <= code <= "Z" and code not in "IVX":
        return 0
    if roman_to_int(code):
        return 1
    if code[0].isdigit():
        return 1 + len(code.split("."))  # 1 → 2, 1.1 → 3, 1.1.1 → 4
    return 10


def _is_column_numbers(values: list[Cell]) -> bool:
    """The "(1) (2) (3) (4)" row printed under many headers."""
    filled = [_text(v) for v in values if _text(v)]
    return len(filled) >= 3 and all(re.fullmatch(r"\(?\w{1,2}\)?", v) for v in filled)


def _fill_group_points(nodes: list[CriteriaNode]) -> None:
    """A group left without points (often a formula never calculated) sums its items."""
    for node in nodes:
        _fill_group_points(node.children)
        points = [child.max_points for child in node.children]
        if node.kind == "criterion" and node.max_points is None and points and None not in points:
            node.max_points = sum(points, Decimal(0))  # type: ignore[arg-type]
