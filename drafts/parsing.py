"""Read an uploaded regulation into its title, preamble and clause tree.

Pure module: bytes in, a tree out; no Flask, no database.

Structure recognised, with the kind each label becomes:

==============================  ============  ==========================================
Written as                      kind          number
==============================  ============  ==========================================
``Phần I`` / ``Phần thứ nhất``  part          ``I`` / ``thứ nhất``
``Chương II``                   chapter       ``II``
``Mục 1``, or ``I.`` (outline)  section       ``1`` / ``I``
``Tiểu mục 1``                  subsection    ``1``
``Điều 5.`` ``Điều 5a.``        article       ``5`` / ``5a``
``1.`` ``1a.`` ``2)``           clause        ``1`` / ``1a`` / ``2``
``a)`` ``đ)`` ``a1)`` ``a.``    point         ``a`` / ``đ`` / ``a1``
``1.1.`` (outline)              point         ``1.1`` (a child of clause 1)
``-`` / bullet, then ``+``      paragraph     ``""`` (``+`` items nest under ``-`` items)
==============================  ============  ==========================================

Decisions worth knowing:

* Conservation of text: every non-empty paragraph of the file ends up in exactly one place,
  the document's ``title`` (its name: "QUY CHẾ ...", "NGHỊ ĐỊNH Về ...", "Phụ lục I ..."), its
  ``preamble`` ("Căn cứ ..." lines, and the whole Quyết định that issues an attached text), a
  node of the tree, or ``left_out`` with a reason shown to users (letterhead, national
  heading, signature block, another document in the file, a table before the body...).
* A paragraph without a label continues the node before it (joined with a newline). Right after
  a ``Chương``/``Mục`` label without a title it is that heading's title; right after an ``Điều``
  without a title it is the title only if it looks like a heading (bold or a heading style).
* A ``Phần``/``Chương``/``Mục`` heading is a short line: the label alone, with a title in
  capitals, or a short title after a separator or set as a heading. "Phần thứ hai bao gồm ..."
  is a sentence of the body.
* "Điều4." (no space) is not an article: Vietnamese legal drafting always writes "Điều 4.", and
  reading glued labels would turn citations and typos into articles. A warning names the line.
* The articles of a Quyết định have no titles: "Điều 1. Ban hành kèm theo ..." is its text.
* Word's automatic numbering is rendered the way Word shows it (Latin letters, no "đ") and then
  read like typed text. Counters are kept per abstract list, as Word does, so several list
  instances of one definition continue each other unless one restarts with ``startOverride``.
* Tables in the body are kept as rows of text ("cell | cell") on the node they follow, with a
  warning. Tables before the first label (letterhead, forms) are left out with their reason.
* The signature block is recognised by its shape, never by one word: a "Nơi nhận:" list, a
  "TM./KT./TL./Q." line over the signer's title, "(Đã ký)", or a signature table, with nothing
  after it but the end of the file or a new document. A Quyết định with an attached Quy chế
  ("(Ban hành kèm theo Quyết định số ...)", or a new "QUY CHẾ" title) yields the attached
  document's tree; a Quyết định alone is parsed as it is.
* Lookalike letters (Ð U+00D0 for Đ, Cyrillic letters inside Latin words), no-break and
  zero-width characters and decomposed Unicode are normalised before labels are read.
* Lines hard-wrapped at a margin (text pasted from a PDF, one line per paragraph) are joined
  unless a line starts with a structural label; a warning says so.
* Footnotes are kept with the node of the paragraph that cites them. Text boxes are read after
  the paragraph they are anchored in. Page headers and footers, and a table of contents (Word's
  "TOC" styles), are left out with their reason.
  Comments, deleted revisions and hidden text are not read.
* A table used as layout (one cell framing text, or one or two columns whose cells start with
  "Điều N.") is read paragraph by paragraph as if it were not there; a cell holding only
  "Điều 1." is joined to the cell beside it. Wider tables are data and stay rows of text.
* Other formats (.doc, .odt, .rtf, .pdf) and legacy encodings: see drafts.formats.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import defusedxml.ElementTree as SafeET
import docx
from docx.oxml import parse_xml
from docx.oxml.ns import qn

from drafts.officefile import (
    MSG_NOT_OFFICE,
    N_,
    Note,
    ParseError,
    checked_zip,
    normalize_text,
)

# ---------------------------------------------------------------------------------------------
# Errors and results
# ---------------------------------------------------------------------------------------------


NodeKind = Literal[
    "part", "chapter", "section", "subsection", "article", "clause", "point", "paragraph"
]


@dataclass
class Node:
    """One provision of a regulation. ``number`` is the label without decoration."""

    kind: NodeKind
    number: str
    title: str = ""
    text: str = ""
    children: list[Node] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "number": self.number,
            "title": self.title,
            "text": self.text,
            "children": [child.as_dict() for child in self.children],
        }


# Why a paragraph of the source is not in the title, the preamble or the tree. Shown to users,
# translated where shown; kept in Vietnamese here like the app's other label dictionaries.
LEFT_OUT_NATIONAL_HEADING = N_("Quốc hiệu, tiêu ngữ")
LEFT_OUT_LETTERHEAD = N_("Tên cơ quan, số, ký hiệu, địa danh, ngày tháng")
LEFT_OUT_SIGNATURE = N_("Phần ký, nơi nhận")
LEFT_OUT_SEPARATOR = N_("Dòng kẻ, dòng trang trí")
LEFT_OUT_OTHER_DOCUMENT = N_("Văn bản khác trong cùng tệp, không được nhập")
LEFT_OUT_TABLE = N_("Bảng ngoài phần nội dung (biểu mẫu, tiêu đề)")
LEFT_OUT_PAGE_NUMBER = N_("Số trang")
LEFT_OUT_HEADER_FOOTER = N_("Đầu trang, chân trang")
LEFT_OUT_CONTENTS = N_("Mục lục")
LEFT_OUT_REASONS = (
    LEFT_OUT_NATIONAL_HEADING,
    LEFT_OUT_LETTERHEAD,
    LEFT_OUT_SIGNATURE,
    LEFT_OUT_SEPARATOR,
    LEFT_OUT_OTHER_DOCUMENT,
    LEFT_OUT_TABLE,
    LEFT_OUT_PAGE_NUMBER,
    LEFT_OUT_HEADER_FOOTER,
    LEFT_OUT_CONTENTS,
)


@dataclass
class LeftOut:
    """A paragraph of the source kept out of the import, with the reason shown to users."""

    text: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"text": self.text, "reason": self.reason}


@dataclass
class ParseResult:
    """Everything read from a file: each non-empty paragraph of the source is in exactly one
    of ``title``, ``preamble``, the tree (``nodes``) or ``left_out``."""

    nodes: list[Node]
    warnings: list[str] = field(default_factory=list)
    title: str = ""
    preamble: list[str] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "preamble": list(self.preamble),
            "nodes": [node.as_dict() for node in self.nodes],
            "warnings": list(self.warnings),
            "left_out": [item.as_dict() for item in self.left_out],
        }

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=indent)


# ---------------------------------------------------------------------------------------------
# Upload safety: refuse what must not reach python-docx / openpyxl
# ---------------------------------------------------------------------------------------------

OfficeKind = Literal["docx", "xlsx"]

_MAIN_CONTENT_TYPES: dict[str, OfficeKind] = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
}

MSG_NOT_DOCX = N_("Tệp không phải là tài liệu Word (.docx) hợp lệ.")
MSG_XLSX_NOT_DOCX = N_("Tệp là bảng tính Excel (.xlsx), không phải tài liệu Word (.docx) hợp lệ.")
MSG_UNREADABLE_DOCX = N_("Không đọc được nội dung tài liệu Word (.docx); tệp có thể bị hỏng.")
MSG_NO_STRUCTURE = N_(
    "Không nhận dạng được cấu trúc văn bản (Chương, Điều, Khoản, Điểm) trong tài liệu."
)


def sniff_office_file(data: bytes) -> OfficeKind:
    """Tell a .docx from an .xlsx by content, after the safety checks; else raise ParseError."""
    with checked_zip(data) as archive:
        try:
            content_types = SafeET.fromstring(archive.read("[Content_Types].xml"))
        except Exception as exc:  # missing part, bad XML or a forbidden DTD/entity
            raise ParseError(MSG_NOT_OFFICE) from exc
    for override in content_types:
        kind = _MAIN_CONTENT_TYPES.get(override.get("ContentType", ""))
        if kind:
            return kind
    raise ParseError(MSG_NOT_OFFICE)


def open_docx(data: bytes) -> Any:
    """Return a python-docx Document for checked bytes; ParseError for anything else."""
    kind = sniff_office_file(data)
    if kind != "docx":
        raise ParseError(MSG_XLSX_NOT_DOCX)
    try:
        return docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx has no single error type for broken packages
        raise ParseError(MSG_UNREADABLE_DOCX) from exc


# ---------------------------------------------------------------------------------------------
# Text helpers shared with the criteria parser
# ---------------------------------------------------------------------------------------------

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


def squash(text: str) -> str:
    """normalize_text, with every run of spaces/tabs/nbsp as one space (newlines kept)."""
    return _SPACES.sub(" ", normalize_text(text))


def fold(text: str) -> str:
    """Lower case without diacritics, punctuation as spaces: for matching words loosely."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", bare).split())


_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def roman_to_int(text: str) -> int | None:
    """Value of a well-formed upper-case Roman numeral up to 399, else None."""
    if not text or any(ch not in _ROMAN_VALUES for ch in text):
        return None
    total = 0
    for ch, nxt in zip(text, [*text[1:], ""], strict=True):
        value = _ROMAN_VALUES[ch]
        total += -value if nxt and _ROMAN_VALUES[nxt] > value else value
    return total if int_to_roman(total) == text else None


def int_to_roman(value: int) -> str:
    parts = []
    for amount, symbol in (
        (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"),
        (1, "I"),
    ):  # fmt: skip
        count, value = divmod(value, amount)
        parts.append(symbol * count)
    return "".join(parts)


# ---------------------------------------------------------------------------------------------
# Word styles and automatic numbering
# ---------------------------------------------------------------------------------------------

_OFF_VALUES = {"0", "false", "off", "none"}
_HEADING_STYLE = re.compile(r"^(heading \d|title|subtitle)$")
# Word's table of contents: its entries repeat the headings, and must not be read as them.
_CONTENTS_STYLE = re.compile(r"^toc (\d|heading)$")


def _val(element: Any, tag: str) -> str | None:
    """The w:val of the child ``tag`` of ``element`` (None when either is absent)."""
    if element is None:
        return None
    child = element.find(qn(tag))
    return None if child is None else child.get(qn("w:val"))


def _toggle(element: Any, tag: str) -> bool | None:
    """A Word on/off property such as w:b: absent → None, bare or true → True."""
    if element is None:
        return None
    child = element.find(qn(tag))
    if child is None:
        return None
    return (child.get(qn("w:val")) or "true").lower() not in _OFF_VALUES


def _int_or(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def _optional_int(text: str | None) -> int | None:
    return None if text is None else _int_or(text, 0)


@dataclass(frozen=True, slots=True)
class _Style:
    name: str = ""
    bold: bool | None = None
    centered: bool | None = None
    num_id: str | None = None
    ilvl: int | None = None
    outline: bool = False


class _Styles:
    """Paragraph/character styles with ``basedOn`` inheritance resolved on demand."""

    def __init__(self, styles_element: Any) -> None:
        self._raw: dict[str, tuple[_Style, str | None]] = {}
        self._cache: dict[str, _Style] = {}
        self.default_paragraph: str | None = None
        if styles_element is None:
            return
        for style in styles_element.iterchildren(qn("w:style")):
            style_id = style.get(qn("w:styleId"))
            if not style_id:
                continue
            if style.get(qn("w:type")) == "paragraph" and _toggle_attr(style, "w:default"):
                self.default_paragraph = style_id
            ppr, rpr = style.find(qn("w:pPr")), style.find(qn("w:rPr"))
            num_pr = None if ppr is None else ppr.find(qn("w:numPr"))
            jc = _val(ppr, "w:jc")
            own = _Style(
                name=(_val(style, "w:name") or "").lower(),
                bold=_toggle(rpr, "w:b"),
                centered=None if jc is None else jc == "center",
                num_id=_val(num_pr, "w:numId"),
                ilvl=_optional_int(_val(num_pr, "w:ilvl")),
                outline=_val(ppr, "w:outlineLvl") not in (None, "9"),
            )
            self._raw[style_id] = (own, _val(style, "w:basedOn"))

    def get(self, style_id: str | None) -> _Style:
        style_id = style_id or self.default_paragraph
        if style_id is None or style_id not in self._raw:
            return _Style()
        if style_id not in self._cache:
            self._cache[style_id] = self._resolve(style_id, set())
        return self._cache[style_id]

    def _resolve(self, style_id: str, seen: set[str]) -> _Style:
        own, based_on = self._raw[style_id]
        seen.add(style_id)
        if based_on is None or based_on not in self._raw or based_on in seen:
            return own
        parent = self._resolve(based_on, seen)
        return _Style(
            name=own.name,
            bold=parent.bold if own.bold is None else own.bold,
            centered=parent.centered if own.centered is None else own.centered,
            num_id=parent.num_id if own.num_id is None else own.num_id,
            ilvl=parent.ilvl if own.ilvl is None else own.ilvl,
            outline=own.outline or parent.outline,
        )

    def is_heading(self, style_id: str | None) -> bool:
        style = self.get(style_id)
        return style.outline or bool(_HEADING_STYLE.match(style.name))


def _toggle_attr(element: Any, attr: str) -> bool:
    return (element.get(qn(attr)) or "0").lower() in {"1", "true", "on"}


@dataclass(frozen=True, slots=True)
class _Level:
    start: int
    fmt: str
    text: str
    restart: int | None  # w:lvlRestart: restart when a level above this one-based level is used
    legal: bool
    style_id: str | None


def _read_levels(container: Any) -> dict[int, _Level]:
    levels = {}
    for lvl in container.iterchildren(qn("w:lvl")):
        restart = _val(lvl, "w:lvlRestart")
        levels[_int_or(lvl.get(qn("w:ilvl")), 0)] = _Level(
            start=_int_or(_val(lvl, "w:start"), 1),
            fmt=_val(lvl, "w:numFmt") or "decimal",
            text=_val(lvl, "w:lvlText") or "",
            restart=None if restart is None else _int_or(restart, 0),
            legal=bool(_toggle(lvl, "w:isLgl")),
            style_id=_val(lvl, "w:pStyle"),
        )
    return levels


@dataclass
class _NumInstance:
    abstract_id: str
    start_overrides: dict[int, int]
    level_overrides: dict[int, _Level]


class _Numbering:
    """Renders the label Word shows for a numbered paragraph, in document order."""

    def __init__(self, numbering_element: Any, styles: _Styles) -> None:
        self._styles = styles
        self._abstract: dict[str, dict[int, _Level]] = {}
        self._style_links: dict[str, str] = {}  # abstractNumId → numbering style it defers to
        self._nums: dict[str, _NumInstance] = {}
        self._counters: dict[str, dict[int, int]] = {}
        self._restart_at: dict[str, dict[int, int]] = {}
        self._entered: set[str] = set()
        if numbering_element is None:
            return
        for abstract in numbering_element.iterchildren(qn("w:abstractNum")):
            abstract_id = abstract.get(qn("w:abstractNumId")) or ""
            self._abstract[abstract_id] = _read_levels(abstract)
            link = _val(abstract, "w:numStyleLink")
            if link:
                self._style_links[abstract_id] = link
        for num in numbering_element.iterchildren(qn("w:num")):
            starts, levels = {}, {}
            for override in num.iterchildren(qn("w:lvlOverride")):
                ilvl = _int_or(override.get(qn("w:ilvl")), 0)
                start = _val(override, "w:startOverride")
                if start is not None:
                    starts[ilvl] = _int_or(start, 1)
                levels.update(_read_levels(override))
            self._nums[num.get(qn("w:numId")) or ""] = _NumInstance(
                _val(num, "w:abstractNumId") or "", starts, levels
            )

    def label(self, num_id: str | None, ilvl: int | None, style_id: str | None) -> str | None:
        """Advance the counters for one paragraph and return its rendered label, if any."""
        style = self._styles.get(style_id)
        if num_id is None:
            num_id = style.num_id
            ilvl = style.ilvl if ilvl is None else ilvl
        if not num_id or num_id == "0" or num_id not in self._nums:
            return None
        instance = self._nums[num_id]
        abstract_id = self._abstract_id(instance.abstract_id)
        levels = {**self._abstract.get(abstract_id, {}), **instance.level_overrides}
        if ilvl is None:
            ilvl = style.ilvl
        if ilvl is None:
            ilvl = next((i for i, lvl in levels.items() if lvl.style_id == style_id), 0)
        if ilvl not in levels:
            return None
        counters = self._counters.setdefault(abstract_id, {})
        restart_at = self._restart_at.setdefault(abstract_id, {})
        if num_id not in self._entered:
            # A list instance with startOverride restarts the shared sequence where it begins.
            self._entered.add(num_id)
            for level, start in instance.start_overrides.items():
                counters.pop(level, None)
                restart_at[level] = start
        if ilvl in counters:
            counters[ilvl] += 1
        else:
            counters[ilvl] = restart_at.pop(ilvl, levels[ilvl].start)
        for deeper in [lv for lv in counters if lv > ilvl]:
            restart = levels[deeper].restart if deeper in levels else None
            if restart is None or (restart != 0 and ilvl < restart):
                del counters[deeper]
        return self._render(levels, counters, restart_at, ilvl)

    def _abstract_id(self, abstract_id: str) -> str:
        # numStyleLink: the real definition hangs off the numbering style's own list.
        for _ in range(3):
            link = self._style_links.get(abstract_id)
            linked_num = self._styles.get(link).num_id if link else None
            if not linked_num or linked_num not in self._nums:
                break
            abstract_id = self._nums[linked_num].abstract_id
        return abstract_id

    @staticmethod
    def _render(
        levels: dict[int, _Level],
        counters: dict[int, int],
        restart_at: dict[int, int],
        ilvl: int,
    ) -> str | None:
        level = levels[ilvl]
        if level.fmt == "none":
            return None
        if level.fmt == "bullet":
            return "+" if level.text.strip() == "+" else "-"

        def number(match: re.Match[str]) -> str:
            ref = int(match.group(1)) - 1
            ref_level = levels.get(ref)
            if ref_level is None:
                return ""
            value = counters.get(ref, restart_at.get(ref, ref_level.start))
            return _format_number(value, "decimal" if level.legal else ref_level.fmt)

        label = squash(re.sub(r"%([1-9])", number, level.text)).strip()
        if not label:
            return None
        # "%1" without punctuation still means a list label; give it the usual mark.
        if label[-1].isalnum():
            label += ")" if level.fmt in ("lowerLetter", "upperLetter") else "."
        return label


def _format_number(value: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        # Word repeats the letter past z: aa, bb, ... (never the Vietnamese alphabet).
        letter = chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1) if value > 0 else ""
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman"):
        roman = int_to_roman(value) if 0 < value < 400 else str(value)
        return roman.lower() if fmt == "lowerRoman" else roman
    if fmt == "decimalZero":
        return f"{value:02d}"
    return str(value)


# ---------------------------------------------------------------------------------------------
# Reading the document body into lines
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Line:
    text: str
    bold_prefix: int  # how many leading characters of ``text`` are bold
    all_bold: bool
    centered: bool
    heading_style: bool
    auto_label: str | None  # rendered Word numbering, only on a paragraph's first line
    first_in_paragraph: bool
    footnotes: tuple[str, ...] = ()  # notes referenced from this paragraph, on its last line
    contents: bool = False  # an entry (or the heading) of a table of contents

    @property
    def emphasised(self) -> bool:
        return self.all_bold or self.heading_style

    @property
    def labelled_text(self) -> str:
        return f"{self.auto_label} {self.text}".strip() if self.auto_label else self.text


# Not read inside a paragraph: deleted or moved-away revisions, properties, and the fallback
# copy Word keeps of alternate content.
_SKIPPED_INLINE = {qn("w:del"), qn("w:moveFrom"), qn("w:pPr"), qn("w:rPr")}
_SKIPPED_INLINE.add("{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback")
_RUN_TEXT = {qn("w:t"): None, qn("w:tab"): " ", qn("w:br"): "\n", qn("w:cr"): "\n"}
_RUN_TEXT[qn("w:noBreakHyphen")] = "-"


class WordBody:
    """The body of a python-docx Document read as lines, with Word numbering rendered.

    Paragraphs must be read in document order: automatic numbers depend on what came before.
    """

    def __init__(self, document: Any) -> None:
        part = document.part
        self.styles = _Styles(_related_element(part, "styles"))
        self.numbering = _Numbering(_related_element(part, "numbering"), self.styles)
        self.body = document.element.body
        self.notes: dict[str, str] = {}
        self.notes = self._read_notes(_related_element(part, "footnotes"))

    def blocks(self, container: Any = None) -> Iterator[tuple[str, Any]]:
        """Yield ("p", element) and ("tbl", element) in order, looking inside content controls."""
        for child in self.body if container is None else container:
            if child.tag == qn("w:p"):
                yield "p", child
            elif child.tag == qn("w:tbl"):
                yield "tbl", child
            elif child.tag in (qn("w:sdt"), qn("w:customXml")):
                content = child.find(qn("w:sdtContent"))
                yield from self.blocks(child if content is None else content)

    def lines(self, paragraph: Any) -> list[_Line]:
        ppr = paragraph.find(qn("w:pPr"))
        style_id = _val(ppr, "w:pStyle")
        style = self.styles.get(style_id)
        num_pr = None if ppr is None else ppr.find(qn("w:numPr"))
        auto_label = self.numbering.label(
            _val(num_pr, "w:numId"), _optional_int(_val(num_pr, "w:ilvl")), style_id
        )
        jc = _val(ppr, "w:jc")
        centered = style.centered if jc is None else jc == "center"
        heading = self.styles.is_heading(style_id)
        contents = bool(_CONTENTS_STYLE.match(style.name))
        lines: list[_Line] = []
        for segments in _split_lines(self._segments(paragraph, style)):
            text = squash("".join(text for text, _ in segments)).strip()
            if not text:
                continue
            bold_prefix = squash("".join(_leading_bold(segments))).strip()
            lines.append(
                _Line(
                    text=text,
                    bold_prefix=len(bold_prefix) if text.startswith(bold_prefix) else 0,
                    all_bold=all(bold for seg, bold in segments if seg.strip()),
                    centered=bool(centered),
                    heading_style=heading,
                    auto_label=None if lines else auto_label,
                    first_in_paragraph=not lines,
                    contents=contents,
                )
            )
        if not lines and auto_label and auto_label not in ("-", "+"):
            # A numbered paragraph with no text ("Chương I" with its title below) still
            # shows its label, and the label opens a node.
            lines.append(_Line("", 0, False, bool(centered), heading, auto_label, True))
        notes = tuple(
            self.notes[ref.get(qn("w:id"), "")]
            for ref in paragraph.iter(qn("w:footnoteReference"))
            if self.notes.get(ref.get(qn("w:id"), ""))
        )
        if notes and lines:
            lines[-1] = dataclasses.replace(lines[-1], footnotes=notes)
        return lines

    def table_cells(self, table: Any) -> list[list[list[_Line]]]:
        """The table as rows of cells, each cell its lines in order; a nested table's rows
        follow the row that holds it."""
        rows: list[list[list[_Line]]] = []
        for row in table.iterchildren(qn("w:tr")):
            cells: list[list[_Line]] = []
            nested: list[list[list[_Line]]] = []
            for cell in row.iterchildren(qn("w:tc")):
                lines: list[_Line] = []
                for kind, element in self.blocks(cell):
                    if kind == "tbl":
                        nested.extend(self.table_cells(element))
                    else:
                        lines.extend(self.paragraph_lines(element))
                cells.append(lines)
            rows.append(cells)
            rows.extend(nested)
        return rows

    def table_rows(self, table: Any) -> list[str]:
        """One text per non-empty row, cells joined by " | " (nested tables flattened)."""
        return rows_text(self.table_cells(table))

    def paragraph_lines(self, paragraph: Any) -> list[_Line]:
        """The lines of a paragraph, then those of the text boxes anchored in it."""
        lines = self.lines(paragraph)
        for box in _text_boxes(paragraph):
            for kind, element in self.blocks(box):
                if kind == "tbl":
                    lines.extend(_plain_line(row) for row in self.table_rows(element))
                else:
                    lines.extend(self.paragraph_lines(element))
        return lines

    def margin_texts(self, document: Any) -> list[str]:
        """The text of the page headers and footers, each distinct text once."""
        texts: list[str] = []
        for rel in document.part.rels.values():
            if rel.is_external or not rel.reltype.endswith(("/header", "/footer")):
                continue
            element = getattr(rel.target_part, "element", None)
            if element is None:
                continue
            for kind, block in self.blocks(element):
                found = (
                    self.table_rows(block)
                    if kind == "tbl"
                    else [ln.labelled_text for ln in self.paragraph_lines(block)]
                )
                texts.extend(text for text in found if text not in texts)
        return texts

    def _read_notes(self, element: Any) -> dict[str, str]:
        """Footnote texts by id (separators and continuation notices have no text)."""
        if element is None:
            return {}
        notes = {}
        for note in element.iterchildren(qn("w:footnote")):
            lines = [
                ln.labelled_text
                for kind, block in self.blocks(note)
                if kind == "p"
                for ln in self.lines(block)
            ]
            if lines:
                notes[note.get(qn("w:id"), "")] = " ".join(lines)
        return notes

    def paragraph_text(self, paragraph: Any) -> str:
        """Visible text of a paragraph, automatic number included, lines joined by newlines."""
        return "\n".join(line.labelled_text for line in self.lines(paragraph))

    def _segments(self, paragraph: Any, style: _Style) -> list[tuple[str, bool]]:
        """(text, bold) pieces of visible text, skipping deletions, text boxes and hidden runs."""
        segments: list[tuple[str, bool]] = []
        pending = list(reversed(paragraph))
        while pending:
            element = pending.pop()
            if element.tag == qn("w:r"):
                segments.extend(self._run_segments(element, style))
            elif element.tag not in _SKIPPED_INLINE and len(element):
                pending.extend(reversed(element))  # hyperlinks, insertions, fields, smart tags
        return segments

    def _run_segments(self, run: Any, style: _Style) -> list[tuple[str, bool]]:
        rpr = run.find(qn("w:rPr"))
        if _toggle(rpr, "w:vanish"):
            return []
        bold = _toggle(rpr, "w:b")
        run_style = _val(rpr, "w:rStyle")
        if bold is None and run_style:
            bold = self.styles.get(run_style).bold
        if bold is None:
            bold = bool(style.bold)
        pieces = []
        for child in run:
            if child.tag in _RUN_TEXT:
                pieces.append(_RUN_TEXT[child.tag] or child.text or "")
        return [("".join(pieces), bold)] if pieces else []


def _related_element(part: Any, name: str) -> Any:
    """The root element of the document's styles/numbering/footnotes part, or None."""
    for rel in part.rels.values():
        if not rel.is_external and rel.reltype.endswith("/" + name):
            element = getattr(rel.target_part, "element", None)
            if element is None and getattr(rel.target_part, "blob", None):
                element = parse_xml(rel.target_part.blob)  # a part python-docx does not model
            return element
    return None


_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"


def _text_boxes(paragraph: Any) -> list[Any]:
    """The text boxes anchored in a paragraph (w:txbxContent), outermost only, skipping the
    VML copy Word keeps in mc:Fallback so each box is read once."""
    boxes = []
    for box in paragraph.iter(qn("w:txbxContent")):
        ancestors = []
        parent = box.getparent()
        while parent is not None and parent is not paragraph:
            ancestors.append(parent.tag)
            parent = parent.getparent()
        if _MC_FALLBACK not in ancestors and qn("w:txbxContent") not in ancestors:
            boxes.append(box)
    return boxes


def rows_text(rows: list[list[list[_Line]]]) -> list[str]:
    """Rows of cells as text: cells joined by " | ", empty rows dropped."""
    texts = []
    for row in rows:
        cells = [
            " ".join(t for line in cell for t in (line.labelled_text, *line.footnotes) if t)
            for cell in row
        ]
        text = " | ".join(cell for cell in cells if cell)
        if text:
            texts.append(text)
    return texts


def _split_lines(segments: list[tuple[str, bool]]) -> list[list[tuple[str, bool]]]:
    """Split at soft line breaks: "Chương I<br/>QUY ĐỊNH CHUNG" reads as two lines."""
    lines: list[list[tuple[str, bool]]] = [[]]
    for text, bold in segments:
        first, *rest = text.split("\n")
        lines[-1].append((first, bold))
        lines.extend([(piece, bold)] for piece in rest)
    return lines


def _leading_bold(segments: list[tuple[str, bool]]) -> Iterator[str]:
    for text, bold in segments:
        if not bold and text.strip():
            return
        yield text


# ---------------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------------

RANK_PART, RANK_CHAPTER, RANK_SECTION, RANK_SUBSECTION = 10, 20, 30, 40
RANK_ARTICLE, RANK_CLAUSE, RANK_POINT, RANK_DASH, RANK_PLUS = 50, 60, 70, 80, 81

Sequence = Literal["arabic", "roman", "letter", "none"]


@dataclass(frozen=True, slots=True)
class _Label:
    kind: NodeKind
    number: str
    rank: int
    rest: str
    sequence: Sequence


_HEADING_RE = re.compile(
    r"^(?P<kw>phần|chương|tiểu\s+mục|mục)\s+"
    r"(?P<num>thứ\s+[^\W\d_]+|(?-i:[IVXLC]+)|\d{1,3}[a-z]?)(?!\w)"
    r"\s*(?P<sep>[.:\-–—])?\s*(?P<rest>.*)$",
    re.IGNORECASE,
)
_HEADING_KINDS: dict[str, tuple[NodeKind, int]] = {
    "phần": ("part", RANK_PART),
    "chương": ("chapter", RANK_CHAPTER),
    "mục": ("section", RANK_SECTION),
    "tiểu mục": ("subsection", RANK_SUBSECTION),
}
_ARTICLE_RE = re.compile(
    r"^điều\s+(?P<num>\d{1,4}[a-zđ]?)(?!\w)\s*(?P<sep>[.:\-–—])?\s*(?P<rest>.*)$", re.IGNORECASE
)
_DOTTED_RE = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,2})+)\.?(?:\s+(?P<rest>.*))?$")
_CLAUSE_RE = re.compile(r"^(?P<num>\d{1,3}[a-zđ]?) ?[.)](?!\d)\s*(?P<rest>.*)$")
_ROMAN_RE = re.compile(r"^(?P<num>[IVXL]{1,7}) ?[.)]\s*(?P<rest>.*)$")
_POINT_RE = re.compile(r"^(?P<num>[a-zđ]\d{0,2}) ?\)\s*(?P<rest>.*)$")
_POINT_DOT_RE = re.compile(r"^(?P<num>[a-zđ])\.\s+(?P<rest>.*)$")  # "a. ..." as some write it
_DASH_RE = re.compile(r"^[-–—−•●▪◦○■□➢➤►✓*]\s*(?P<rest>.*)$")
_PLUS_RE = re.compile(r"^\+\s*(?P<rest>.*)$")
_SEPARATOR_RE = re.compile(r"^[\s\-–—_=.*~·…/]*$")


def _classify(text: str, emphasised: bool, centered: bool = False) -> _Label | None:
    """Read the label at the start of a line, if the line starts with one."""
    if (match := _HEADING_RE.match(text)) and _heading_shaped(match, emphasised or centered):
        kind, rank = _HEADING_KINDS[" ".join(match["kw"].lower().split())]
        number = match["num"]
        sequence: Sequence = "roman" if roman_to_int(number) else "arabic"
        if number.lower().startswith("thứ"):
            number, sequence = " ".join(number.lower().split()), "none"
        return _Label(kind, number, rank, match["rest"], sequence)
    if match := _ARTICLE_RE.match(text):
        if match["sep"] or not match["rest"] or emphasised:
            return _Label("article", match["num"].lower(), RANK_ARTICLE, match["rest"], "arabic")
        return None
    if match := _DOTTED_RE.match(text):
        depth = match["num"].count(".")
        return _Label("point", match["num"], RANK_CLAUSE + depth, match["rest"] or "", "none")
    if match := _CLAUSE_RE.match(text):
        return _Label("clause", match["num"], RANK_CLAUSE, match["rest"], "arabic")
    if (match := _ROMAN_RE.match(text)) and roman_to_int(match["num"]):
        return _Label("section", match["num"], RANK_SECTION, match["rest"], "roman")
    if match := _POINT_RE.match(text) or _POINT_DOT_RE.match(text):
        return _Label("point", match["num"], RANK_POINT, match["rest"], "letter")
    for pattern, rank in ((_PLUS_RE, RANK_PLUS), (_DASH_RE, RANK_DASH)):
        match = pattern.match(text)
        if match and not _SEPARATOR_RE.match(match["rest"]):
            return _Label("paragraph", "", rank, match["rest"], "none")
    return None


def _heading_shaped(match: re.Match[str], emphasised: bool) -> bool:
    """A Phần/Chương/Mục heading is a short line: the label alone, or with a title in capitals,
    or a short title after a separator or set as a heading. "Phần thứ hai bao gồm từ ..." is a
    sentence of the body that merely starts with the same words."""
    rest = match["rest"].strip()
    if not rest or (rest == rest.upper() and any(ch.isalpha() for ch in rest)):
        return True
    short = len(rest.split()) <= 15 and not rest.endswith((";", ","))
    return short and (emphasised or bool(match["sep"]))


# Vietnamese alphabet order for typed points: đ is a letter; f, j, w, z are not used.
_VIETNAMESE_LETTERS = "abcdđeghiklmnopqrstuvxy"
_ARABIC_NUMBER = re.compile(r"^(\d+)([a-zđ]?)$")
_LETTER_NUMBER = re.compile(r"^([a-zđ])(\d*)$")


def _follows(previous: str | None, current: str, sequence: Sequence) -> bool:
    """Whether ``current`` may come right after ``previous`` (None: first of its kind)."""
    if sequence == "roman":
        value = roman_to_int(current) or 0
        return value == (roman_to_int(previous) or 0) + 1 if previous else value == 1
    if sequence == "arabic":
        cur, prev = _ARABIC_NUMBER.match(current), _ARABIC_NUMBER.match(previous or "0")
        if not cur or not prev:
            return True
        (number, suffix), (prev_number, prev_suffix) = cur.groups(), prev.groups()
        if int(number) == int(prev_number) + 1 and not suffix:
            return True
        # Amendments insert 5a after 5 and 5b after 5a.
        return int(number) == int(prev_number) and suffix in _next_letters(prev_suffix)
    if sequence == "letter":
        cur, prev = _LETTER_NUMBER.match(current), _LETTER_NUMBER.match(previous or "")
        if not cur:
            return True
        if not prev:
            return current == "a"
        (letter, digits), (prev_letter, prev_digits) = cur.groups(), prev.groups()
        if not digits:
            return letter in _next_letters(prev_letter, vietnamese_only=True)
        return letter == prev_letter and int(digits) == int(prev_digits or 0) + 1
    return True


def _next_letters(letter: str, vietnamese_only: bool = False) -> set[str]:
    if not letter:
        return {"a"}
    following = set()
    if letter in _VIETNAMESE_LETTERS[:-1]:
        following.add(_VIETNAMESE_LETTERS[_VIETNAMESE_LETTERS.index(letter) + 1])
    if not vietnamese_only and letter.isascii() and letter < "z":
        following.add(chr(ord(letter) + 1))
    return following


# ---------------------------------------------------------------------------------------------
# Building the tree
# ---------------------------------------------------------------------------------------------

_KIND_NAMES: dict[str, str] = {
    "part": "Phần",
    "chapter": "Chương",
    "section": "Mục",
    "subsection": "Tiểu mục",
    "article": "Điều",
    "clause": "khoản",
    "point": "điểm",
}
_FIRST_NUMBER = {"arabic": "1", "roman": "I", "letter": "a"}
_DOCUMENT_TITLES = {"QUY CHẾ", "QUY ĐỊNH", "ĐIỀU LỆ", "NỘI QUY", "HƯỚNG DẪN", "QUY TRÌNH"}
# Names of documents whose first line names them: the document's title starts there.
_TITLE_WORDS = _DOCUMENT_TITLES | {
    "QUYẾT ĐỊNH", "NGHỊ ĐỊNH", "NGHỊ QUYẾT", "THÔNG TƯ", "THÔNG TƯ LIÊN TỊCH", "LUẬT",
    "BỘ LUẬT", "PHÁP LỆNH", "CHỈ THỊ", "KẾ HOẠCH", "CHƯƠNG TRÌNH", "ĐỀ ÁN", "QUY CHẾ MẪU",
}  # fmt: skip
# "Phụ lục I" / "PHỤ LỤC 2" as a line of its own; "phụ lục." is the end of a wrapped sentence.
_APPENDIX_TITLE_RE = re.compile(r"^(Phụ lục|PHỤ LỤC)(\s+(số\s+)?[IVXLC\d]+[a-z]?)?\s*:?$")
_ATTACHMENT_RE = re.compile(
    r"^(\(\s*(ban hành )?kèm theo|(?-i:Ban hành kèm theo|Kèm theo))\s+"
    r"(quyết định|qđ|nghị định|nghị quyết|thông tư|văn bản|công văn|kế hoạch)\b",
    re.IGNORECASE,
)
_DECISION_RE = re.compile(r"^quyết định\b", re.IGNORECASE)
_PREAMBLE_RE = re.compile(r"^(căn cứ|theo đề nghị|xét đề nghị|xét|theo)\b", re.IGNORECASE)
# What a signature block is made of. Any one of these only starts a candidate block: it is the
# signature block when nothing but a new document follows it (see _mark_signatures).
_RECIPIENTS_RE = re.compile(r"^nơi nhận\s*(:.*)?$", re.IGNORECASE)
_AUTHORITY_RE = re.compile(r"^(TM|KT|TL|TUQ|Q)\.\s*(?P<office>\S.*)$")
_SIGNED_RE = re.compile(
    r"^\(?\s*(đã ký|đã ký và đóng dấu|ký,? (ghi rõ )?họ tên.*|ký tên.*|chữ ký.*)\s*\)?\.?$",
    re.IGNORECASE,
)
_PLACE_DATE_RE = re.compile(r"^[^\W\d][^,]{1,40},\s*ngày\b.*\btháng\b.*\bnăm\b", re.IGNORECASE)
# Signature tables: "Nơi nhận:" in one cell, "TM./KT./TL./Q. <office>" over the signer.
_SIGNATURE_IN_TABLE_RE = re.compile(
    r"(^|\| )(nơi nhận\s*:|(TM|KT|TL|TUQ|Q)\.\s)", re.IGNORECASE | re.M
)
_NATIONAL_HEADING = ("cong hoa xa hoi chu nghia", "doc lap tu do hanh phuc")
_LETTERHEAD_RE = re.compile(r"^(số\s*:|số\s+\d|dự thảo\b|v/v\b)", re.IGNORECASE)
_GLUED_ARTICLE_RE = re.compile(r"^điều\d", re.IGNORECASE)


@dataclass
class _Item:
    """One block of the source in order: a line of a paragraph, or a table as rows of text."""

    line: _Line | None = None
    rows: list[str] = field(default_factory=list)
    label: _Label | None = None
    signature: bool = False  # part of the signature block (decided before building)
    reason: str | None = None  # left out before building (a page number of a PDF)
    new_document: bool = False  # a restarted numbering after a signature block

    @property
    def text(self) -> str:
        return self.line.labelled_text if self.line else "\n".join(self.rows)

    @property
    def notes(self) -> tuple[str, ...]:
        return self.line.footnotes if self.line else ()


@dataclass(slots=True)
class _Open:
    """A node on the path from the root to the node being written."""

    rank: int
    node: Node


@dataclass
class _Outline:
    """The tree of one document (a Quyết định, or the Quy chế attached to it), and every
    paragraph read while it was the current document."""

    roots: list[Node] = field(default_factory=list)
    path: list[_Open] = field(default_factory=list)
    is_decision: bool = False
    is_attachment: bool = False
    # Node whose title is still to come on the next line, and node whose title may continue.
    title_due: Node | None = None
    title_open: Node | None = None
    last_numbers: dict[tuple[int, str], str] = field(default_factory=dict)
    seen_numbers: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    head: list[_Item] = field(default_factory=list)  # before the first label
    body: list[str] = field(default_factory=list)  # texts that went into the tree
    left_out: list[LeftOut] = field(default_factory=list)


class _RegulationBuilder:
    """Feeds items through two modes, title block then body; signature blocks are marked on
    the items beforehand. Every item ends up in exactly one place."""

    def __init__(self) -> None:
        self.outlines = [_Outline()]
        self.mode: Literal["preamble", "body"] = "preamble"
        self.notes: list[str] = []

    @property
    def outline(self) -> _Outline:
        return self.outlines[-1]

    def add(self, item: _Item) -> None:
        text = item.text
        if item.reason:
            self.outline.left_out.append(LeftOut(text, item.reason))
            return
        if item.signature:
            # The national heading of an attached text can sit between its issuer's signature
            # and its name: left out all the same, under its own reason.
            national = _head_reason(text) == LEFT_OUT_NATIONAL_HEADING
            reason = LEFT_OUT_NATIONAL_HEADING if national else LEFT_OUT_SIGNATURE
            self.outline.left_out.append(LeftOut(text, reason))
            self.outline.left_out.extend(LeftOut(n, LEFT_OUT_SIGNATURE) for n in item.notes)
            return
        if item.line is None:
            if item.new_document:
                self._start_document()  # the letterhead table of the text after a signature
            self._add_table(item)
            return
        if _SEPARATOR_RE.match(text):
            self.outline.left_out.append(LeftOut(text, LEFT_OUT_SEPARATOR))
            return
        if _GLUED_ARTICLE_RE.match(text):
            self.outline.warnings.append(
                Note(
                    N_(
                        "Dòng “%(line)s” viết liền chữ “Điều” với số nên không được coi là "
                        "một điều; nếu đây là tiêu đề điều, hãy thêm dấu cách sau chữ “Điều”."
                    ),
                    line=_shorten(text),
                )
            )
        label = item.label
        if (
            item.new_document
            or _ATTACHMENT_RE.match(text)
            or (_is_document_title(text) and self.outline.roots and not self.outline.title_due)
            or (self._names_next_document(item.line) and label is None)
        ):
            self._start_document(attachment=_ATTACHMENT_RE.match(text) is not None)
            if label is None or label.rank >= RANK_POINT:
                self.outline.head.append(item)
                return
        if label and label.rank < RANK_SECTION and self._ends_with_bare_article():
            self._start_document()  # a Chương after top-level articles: the attached text
        if self.mode == "preamble":
            if label is None or label.rank >= RANK_POINT:
                self.outline.is_decision |= bool(_DECISION_RE.match(text))
                self.outline.head.append(item)
                return
            self.mode = "body"
        self.outline.body.append(text)
        assert item.line is not None
        if label is None:
            self._continue(item.line)
        else:
            self._open(label, item.line, auto=item.line.auto_label is not None)
        node = self.outline.path[-1].node
        for note in item.notes:
            node.text = f"{node.text}\n{note}" if node.text else note
            self.outline.body.append(note)

    def _names_next_document(self, line: _Line) -> bool:
        """A heading in capitals naming a regulation on one line ("QUY CHẾ LÀM VIỆC CỦA ...")
        after the articles of a document, where no heading's title is still going on."""
        outline = self.outline
        if not outline.roots or outline.title_due or outline.title_open:
            return False
        text = line.text
        if not (line.emphasised or line.centered) or text != text.upper():
            return False
        return len(text.split()) <= 30 and any(text.startswith(w + " ") for w in _DOCUMENT_TITLES)

    def _add_table(self, item: _Item) -> None:
        if self.mode != "body":
            cells = [cell for row in item.rows for cell in row.split(" | ")]
            letterhead = any(_head_reason(cell) for cell in cells)
            reason = LEFT_OUT_LETTERHEAD if letterhead else LEFT_OUT_TABLE
            self.outline.left_out.append(LeftOut(item.text, reason))
            return
        node = self.outline.path[-1].node
        rows = "\n".join(item.rows)
        node.text = f"{node.text}\n{rows}" if node.text else rows
        self.outline.body.append(rows)
        self.outline.title_due = self.outline.title_open = None
        self.outline.warnings.append(
            Note(
                N_(
                    "Bảng trong %(where)s được nhập thành %(rows)d dòng văn bản (các ô cách "
                    "nhau bởi “|”); hãy kiểm tra lại nội dung bảng."
                ),
                where=self._cite(self.outline.path),
                rows=len(item.rows),
            )
        )

    def result(self) -> ParseResult:
        filled = [outline for outline in self.outlines if outline.roots]
        if not filled:
            raise ParseError(MSG_NO_STRUCTURE)
        chosen = next((o for o in filled if o.is_attachment), None)
        if chosen is None and _is_decision(filled[0]) and len(filled) > 1:
            chosen = filled[1]
        notes: list[str] = []
        if chosen is not None and chosen is not filled[0]:
            articles = sum(node.kind == "article" for node in filled[0].roots)
            notes.append(
                Note(
                    N_(
                        "Quyết định ban hành (%(articles)d điều) được đưa vào phần mở đầu; "
                        "chỉ nhập văn bản kèm theo thành cây điều khoản."
                    ),
                    articles=articles,
                )
            )
        else:
            chosen = filled[0]
            if len(filled) > 1:
                notes.append(
                    Note(
                        N_(
                            "Chỉ nhập văn bản đầu tiên trong tệp; các văn bản phía sau được "
                            "liệt kê ở phần không nhập."
                        )
                    )
                )
        index = self.outlines.index(chosen)
        result = ParseResult(nodes=chosen.roots)
        for position, outline in enumerate(self.outlines):
            if position < index:
                self._wrapper_into(outline, result)
            elif position == index:
                self._head_into(outline.head, result)
                result.left_out.extend(outline.left_out)
            else:
                texts = [item.text for item in outline.head] + outline.body
                result.left_out.extend(LeftOut(t, LEFT_OUT_OTHER_DOCUMENT) for t in texts)
                result.left_out.extend(outline.left_out)
        result.warnings = notes + self.notes + chosen.warnings
        return result

    @staticmethod
    def _wrapper_into(outline: _Outline, result: ParseResult) -> None:
        """A Quyết định issuing the imported text: its words belong to the preamble."""
        _sort_head(outline.head, result, take_title=False)
        result.preamble.extend(outline.body)
        result.left_out.extend(outline.left_out)

    @staticmethod
    def _head_into(head: list[_Item], result: ParseResult) -> None:
        _sort_head(head, result, take_title=True)

    def _ends_with_bare_article(self) -> bool:
        roots = self.outline.roots
        return bool(roots) and roots[-1].kind == "article"

    def _start_document(self, attachment: bool = False) -> None:
        if self.outline.roots:
            self.outlines.append(_Outline())
        self.outline.is_attachment |= attachment
        self.mode = "preamble"

    def _open(self, label: _Label, line: _Line, auto: bool) -> None:
        outline = self.outline
        titled = label.rank <= RANK_ARTICLE
        title, text = _title_and_text(label, line, auto) if titled else ("", label.rest)
        if label.kind == "article" and title and not text and _is_provision(outline, line):
            title, text = "", title  # "Điều 1. Ban hành kèm theo Quyết định này ...": a sentence
        node = Node(label.kind, label.number, title, text)
        while outline.path and outline.path[-1].rank >= label.rank:
            outline.path.pop()
        parent = outline.path[-1].node if outline.path else None
        (parent.children if parent else outline.roots).append(node)
        outline.path.append(_Open(label.rank, node))
        self._check_number(label, parent, auto)
        outline.title_due = node if titled and not title and not text else None
        outline.title_open = node if title and line.emphasised else None

    def _continue(self, line: _Line) -> None:
        outline = self.outline
        node = outline.path[-1].node
        if outline.title_due is node and (node.kind != "article" or line.emphasised):
            node.title = line.text
            outline.title_due, outline.title_open = None, node
            return
        if outline.title_open is node and not node.text and _continues_title(line, node):
            node.title = f"{node.title} {line.text}"
            return
        outline.title_due = outline.title_open = None
        node.text = f"{node.text}\n{line.text}" if node.text else line.text

    def _check_number(self, label: _Label, parent: Node | None, auto: bool) -> None:
        # Articles and chapters run through the whole document; the rest restart per parent.
        scope = 0 if label.kind in ("article", "chapter", "part") else id(parent)
        key = (scope, label.kind)
        seen = self.outline.seen_numbers.setdefault(key, set())
        previous = self.outline.last_numbers.get(key)
        self.outline.last_numbers[key] = label.number
        if label.sequence == "none" or auto:
            return
        where = self._cite(self.outline.path)
        if label.number in seen:
            self.outline.warnings.append(
                Note(N_("Trùng số: %(where)s xuất hiện nhiều lần."), where=where)
            )
        elif not _follows(previous, label.number, label.sequence):
            name = _KIND_NAMES[label.kind]
            if previous:
                note = Note(
                    N_("Số thứ tự không liên tục: %(where)s đứng ngay sau %(kind)s %(previous)s."),
                    where=where,
                    kind=name,
                    previous=previous,
                )
            else:
                note = Note(
                    N_(
                        "Số thứ tự không liên tục: %(where)s là %(kind)s đầu tiên nhưng không "
                        "được đánh số %(first)s."
                    ),
                    where=where,
                    kind=name.lower(),
                    first=_FIRST_NUMBER[label.sequence],
                )
            self.outline.warnings.append(note)
        seen.add(label.number)

    @staticmethod
    def _cite(path: list[_Open]) -> str:
        """Citation from small to large, e.g. "điểm a khoản 2 Điều 5"."""
        parts = []
        for entry in reversed(path):
            if entry.node.kind == "paragraph":
                continue
            parts.append(f"{_KIND_NAMES[entry.node.kind]} {entry.node.number}")
            if entry.rank <= RANK_ARTICLE:
                break
        return " ".join(parts) or "phần đầu văn bản"


def _sort_head(head: list[_Item], result: ParseResult, take_title: bool) -> None:
    """Letterhead and national heading left out; the document's name as the title (or, for a
    wrapper, into the preamble); the rest ("Căn cứ ...", "QUYẾT ĐỊNH:") as the preamble."""
    start = next((i for i, item in enumerate(head) if _names_document(item.text)), None)
    end = start
    if start is not None:
        end = start + 1
        # A bare "QUY CHẾ" is always followed by what it is about, however it is set.
        bare = _names_document(head[start].text.upper()) and len(head[start].text.split()) <= 3
        while end < len(head) and end - start < 4 and _continues_name(head[end], bare):
            end += 1
            bare = False
        if take_title:
            result.title = " ".join(item.text for item in head[start:end])
    for position, item in enumerate(head):
        in_title = start is not None and start <= position < (end or 0)
        if in_title and take_title:
            result.preamble.extend(item.notes)
            continue
        before_title = start is None or position < start
        reason = None if in_title else _head_reason(item.text, caps_are_letterhead=before_title)
        if reason:
            result.left_out.append(LeftOut(item.text, reason))
            result.left_out.extend(LeftOut(note, reason) for note in item.notes)
        else:
            result.preamble.append(item.text)
            result.preamble.extend(item.notes)


def _is_decision(outline: _Outline) -> bool:
    """A Quyết định: its heading was seen, or its first article issues the attached text."""
    first = outline.roots[0]
    issues = "kèm theo quyết định này" in f"{first.title} {first.text}".lower()
    return outline.is_decision or (first.kind == "article" and issues)


def _is_provision(outline: _Outline, line: _Line) -> bool:
    """Whether an article's words are its provision rather than its title: the articles of a
    Quyết định have no titles ("Điều 1. Ban hành kèm theo Quyết định này Quy chế ...")."""
    if line.all_bold:
        return False
    issues = re.search(r"(ban hành )?kèm theo (quyết định|nghị định|thông tư) này", line.text, re.I)
    return outline.is_decision or issues is not None


def _national_heading(item: _Item) -> bool:
    """The national heading as a line of its own, or in a letterhead table."""
    folded = fold(item.text)
    if item.line is None:
        return any(heading in folded for heading in _NATIONAL_HEADING)
    return any(folded.startswith(heading) for heading in _NATIONAL_HEADING)


def _starts_document(text: str) -> bool:
    """An attachment line, or a regulation's name: "QUY CHẾ" alone or "QUY CHẾ LÀM VIỆC ..." in
    capitals on one line."""
    if _ATTACHMENT_RE.match(text) or _is_document_title(text):
        return True
    capitals = text == text.upper() and len(text.split()) <= 30
    return capitals and any(text.startswith(word + " ") for word in _DOCUMENT_TITLES)


def _is_document_title(text: str) -> bool:
    """A line that alone names a new document: "QUY CHẾ", "QUY ĐỊNH" ..., or "Phụ lục I"."""
    return text.rstrip(" .:") in _DOCUMENT_TITLES or bool(_APPENDIX_TITLE_RE.match(text))


def _names_document(text: str) -> bool:
    """The first line of a document's name: "QUY CHẾ", "NGHỊ ĐỊNH", "Phụ lục I" ..."""
    name = text.strip().rstrip(" .")
    if name.endswith(":"):
        return False  # "QUYẾT ĐỊNH:" proclaims the articles; it does not name the document
    if _APPENDIX_TITLE_RE.match(name):
        return True
    capitals = name == name.upper()
    return capitals and any(name == w or name.startswith(w + " ") for w in _TITLE_WORDS)


_NAME_CONTINUATION_RE = re.compile(
    r"^(về|v/v|quy định|ban hành|hướng dẫn|sửa đổi|bổ sung|thể thức|của|và)\b", re.IGNORECASE
)


def _continues_name(item: _Item, right_after_bare_name: bool = False) -> bool:
    line = item.line
    if line is None or item.label is not None:
        return False
    text = line.text
    if text.startswith("(") or text.endswith(":") or _PREAMBLE_RE.match(text):
        return False
    if _SEPARATOR_RE.match(text) or _head_reason(text, caps_are_letterhead=False):
        return False
    capitals = text == text.upper() and any(ch.isalpha() for ch in text)
    if right_after_bare_name and len(text.split()) <= 25 and not text.endswith(";"):
        return True
    return capitals or line.emphasised or bool(_NAME_CONTINUATION_RE.match(text))


def _head_reason(text: str, caps_are_letterhead: bool = True) -> str | None:
    """Why a line of the title block is left out, or None when it belongs to the preamble."""
    folded = fold(text)
    if any(folded.startswith(h) or (h in folded and "|" in text) for h in _NATIONAL_HEADING):
        return LEFT_OUT_LETTERHEAD if "|" in text else LEFT_OUT_NATIONAL_HEADING
    if _SEPARATOR_RE.match(text):
        return LEFT_OUT_SEPARATOR
    if _LETTERHEAD_RE.match(text) or _PLACE_DATE_RE.match(text):
        return LEFT_OUT_LETTERHEAD
    capitals = text == text.upper() and any(ch.isalpha() for ch in text)
    if caps_are_letterhead and capitals and len(text.split()) <= 15 and not text.endswith(":"):
        return LEFT_OUT_LETTERHEAD  # agency names above the document's name
    return None


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _title_and_text(label: _Label, line: _Line, auto: bool) -> tuple[str, str]:
    """Split an article line into title and text where bold stops ("Điều 9. Hiệu lực. Quy...")."""
    rest = label.rest
    if label.kind != "article" or line.all_bold or not rest:
        return rest, ""
    text = line.text
    label_end = 0 if auto else len(text) - len(rest)
    bold_end = line.bold_prefix
    if label_end < bold_end < len(text):
        title = text[label_end:bold_end].strip().rstrip(".:").strip()
        body = text[bold_end:].strip()
        if title and body:
            return title, body
    return rest, ""


def _continues_title(line: _Line, node: Node) -> bool:
    """A second title line: same paragraph, or a heading set in capitals over two lines."""
    if not line.first_in_paragraph:
        return line.emphasised
    capitals = line.text == line.text.upper() and any(ch.isalpha() for ch in line.text)
    return node.kind != "article" and capitals and (line.emphasised or line.centered)


# ---------------------------------------------------------------------------------------------
# From the file to items: signature blocks and hard-wrapped lines
# ---------------------------------------------------------------------------------------------


def _docx_items(reader: WordBody) -> list[_Item]:
    items: list[_Item] = []
    for kind, element in reader.blocks():
        if kind == "p":
            for line in reader.paragraph_lines(element):
                reason = LEFT_OUT_CONTENTS if line.contents else None
                items.append(_Item(line=line, reason=reason))
            continue
        cells = reader.table_cells(element)
        if _is_layout_table(cells):
            items.extend(_Item(line=line) for line in _layout_lines(cells))
        elif rows := rows_text(cells):
            items.append(_Item(rows=rows))
    return items


def _is_layout_table(rows: list[list[list[_Line]]]) -> bool:
    """A table used as page layout rather than data: a one-cell frame around text, or one or
    two columns whose cells start with the document's articles ("Điều 2."). Its paragraphs are
    read as if the table were not there."""
    filled = [cell for row in rows for cell in row if cell]
    if len(filled) == 1 and len(rows) == 1:
        return True
    if any(sum(1 for cell in row if cell) > 2 for row in rows):
        return False  # a data table (a form, a specimen of layout) keeps its rows
    return any(
        (label := _classify(cell[0].labelled_text, True, cell[0].centered)) is not None
        and label.kind == "article"
        for cell in filled
    )


def _layout_lines(rows: list[list[list[_Line]]]) -> list[_Line]:
    """The lines of a layout table in reading order. A cell holding only a label ("Điều 1.")
    is joined to the first line of the cell beside it."""
    lines: list[_Line] = []
    for row in rows:
        pending: _Line | None = None
        for cell in row:
            if not cell:
                continue
            first, rest = cell[0], cell[1:]
            if pending is not None:
                first = dataclasses.replace(
                    pending,
                    text=f"{pending.text} {first.text}",
                    all_bold=pending.all_bold and first.all_bold,
                    footnotes=pending.footnotes + first.footnotes,
                )
                pending = None
            label = _classify(first.labelled_text, True, first.centered)
            if not rest and label is not None and not label.rest and label.rank <= RANK_CLAUSE:
                pending = first
                continue
            lines.extend([first, *rest])
        if pending is not None:
            lines.append(pending)
    return lines


def _label_items(items: list[_Item]) -> None:
    for item in items:
        line = item.line
        if line is not None and item.reason is None:
            emphasised = line.emphasised or line.auto_label is not None
            item.label = _classify(line.labelled_text, emphasised, line.centered)


def _signature_start(item: _Item) -> bool:
    if item.line is None:
        return bool(_SIGNATURE_IN_TABLE_RE.search(item.text))
    text = item.text
    if item.label is not None or len(text) > 120:
        return False
    if _RECIPIENTS_RE.match(text):
        return True
    authority = _AUTHORITY_RE.match(text)
    if authority:
        office = authority["office"]
        return office == office.upper() and any(ch.isalpha() for ch in office)
    return bool(_SIGNED_RE.match(text))


def _signature_lead_in(item: _Item) -> bool:
    """A line just above a signature: the place and date, or the signer's title in capitals."""
    if item.line is None or item.label is not None or len(item.text) > 80:
        return False
    text = item.text
    capitals = text == text.upper() and any(ch.isalpha() for ch in text)
    return capitals or bool(_PLACE_DATE_RE.match(text))


def _is_structure(item: _Item) -> bool:
    return item.label is not None and item.label.rank <= RANK_ARTICLE


def _restarts(item: _Item) -> bool:
    label = item.label
    return label is not None and label.number.lower() in {"1", "01", "i", "thứ nhất", "a"}


def _mark_signatures(items: list[_Item]) -> None:
    """Mark signature blocks by their shape: a "Nơi nhận:" list, a "TM./KT./TL./Q." line over
    the signer's title, "(Đã ký)", or a signature table, with nothing after it but the end of
    the file or a new document (an attached text, or numbering that starts again). The same
    words in the middle of the body ("nơi nhận hồ sơ", a sample form) are body text."""
    index = 0
    while index < len(items):
        if not _signature_start(items[index]):
            index += 1
            continue
        end = index + 1
        while end < len(items) and not (
            _is_structure(items[end]) or (items[end].line and _starts_document(items[end].text))
        ):
            end += 1
        if end < len(items) and not (_starts_document(items[end].text) or _restarts(items[end])):
            index += 1  # the body goes on after it: not a signature block
            continue
        start = index
        while start > 0 and index - start < 3 and _signature_lead_in(items[start - 1]):
            start -= 1
        # The next document's national heading (a line or a letterhead table) ends the block.
        end = next((i for i in range(index + 1, end) if _national_heading(items[i])), end)
        for item in items[start:end]:
            item.signature = True
        if end < len(items) and not _starts_document(items[end].text):
            items[end].new_document = True
        index = end


_SENTENCE_END = (".", ";", ":", "!", "?", "./.", "…")


def _wrap_width(items: list[_Item]) -> int | None:
    """The width lines were cut at, when the text is hard-wrapped (pasted from a PDF, one line
    per paragraph); None for ordinary paragraphs."""
    lengths = sorted(
        len(item.line.text)
        for item in items
        if item.line is not None and item.line.first_in_paragraph and len(item.line.text) >= 20
    )
    if len(lengths) < 12:
        return None
    width = lengths[int(len(lengths) * 0.9)]
    if not 40 <= width <= 120:
        return None
    # A line cut at the margin mid-sentence, and the next line goes on in lower case.
    full = continued = 0
    for item, following in itertools.pairwise(items):
        line, next_line = item.line, following.line
        if line is None or len(line.text) < 0.75 * width or line.text.endswith(_SENTENCE_END):
            continue
        full += 1
        continued += next_line is not None and next_line.text[:1].islower()
    return width if full >= 0.25 * len(lengths) and continued >= 0.5 * full else None


def _join_wrapped(items: list[_Item], width: int) -> list[_Item]:
    """Join each line to the one before when that one ran to the margin mid-sentence, unless
    the line starts with a structural label (Phần, Chương, Mục, Điều, 1., a), -)."""
    joined: list[_Item] = []
    last_length = 0
    for item in items:
        previous = joined[-1] if joined else None
        line = item.line
        if (
            previous is not None
            and previous.line is not None
            and line is not None
            and not previous.signature
            and previous.reason is None
            and item.reason is None
            and last_length >= 0.7 * width
            and not previous.line.text.endswith(_SENTENCE_END)
            and line.auto_label is None
            and _classify(line.text, False) is None
            and not _starts_document(line.text)
            and not _signature_start(item)
        ):
            previous.line = dataclasses.replace(
                previous.line,
                text=f"{previous.line.text} {line.text}",
                footnotes=previous.line.footnotes + line.footnotes,
                all_bold=previous.line.all_bold and line.all_bold,
            )
            last_length = len(line.text)
            continue
        joined.append(item)
        last_length = len(line.text) if line is not None else 0
    return joined


def _build(items: list[_Item], notes: list[str]) -> ParseResult:
    width = _wrap_width(items)
    if width is not None:
        before = len(items)
        items = _join_wrapped(items, width)
        if len(items) < before:
            notes.append(
                Note(
                    N_(
                        "Văn bản bị ngắt dòng cứng (khoảng %(width)d ký tự mỗi dòng, thường do "
                        "sao chép từ PDF): đã nối %(joined)d dòng vào câu phía trước; hãy kiểm tra."
                    ),
                    width=width,
                    joined=before - len(items),
                )
            )
    _label_items(items)
    _mark_signatures(items)
    builder = _RegulationBuilder()
    builder.notes = notes
    for item in items:
        builder.add(item)
    result = builder.result()
    _warn_if_mostly_left_out(result)
    return result


def _warn_if_mostly_left_out(result: ParseResult) -> None:
    def size(nodes: list[Node]) -> int:
        return sum(len(n.title) + len(n.text) + size(n.children) for n in nodes)

    kept = size(result.nodes)
    outside = sum(len(item.text) for item in result.left_out)
    if outside > max(kept, 200):
        result.warnings.append(
            Note(
                N_(
                    "Phần lớn nội dung của tệp nằm trong phần không nhập, ngoài cây điều khoản; "
                    "hãy kiểm tra kỹ trước khi xác nhận."
                )
            )
        )


def parse_regulation(data: bytes, filename: str = "") -> ParseResult:
    """Parse a regulation into its title, preamble, clause tree and left-out paragraphs.

    ``data`` is a .docx, or a .doc/.odt/.rtf (converted with LibreOffice) or a .pdf with a
    text layer, told apart by content (``filename`` only names the format in messages).
    ParseError on unreadable input. Pure: no Flask, no database; the result pickles.
    """
    from drafts import formats

    source = formats.identify(data, filename)
    notes: list[str] = []
    if source == "pdf":
        blocks = formats.pdf_blocks(data)
        notes.append(
            Note(
                N_(
                    "Tệp PDF: bố cục (đậm, căn giữa, xuống dòng) được suy đoán từ chữ; hãy kiểm "
                    "tra kỹ cây điều khoản trước khi xác nhận."
                )
            )
        )
        return _build(_pdf_items(blocks), notes)
    if source in formats.CONVERTED:
        data = formats.convert_to_docx(data, source)
    document = open_docx(data)
    formats.refuse_legacy_encoding(document)
    try:
        reader = WordBody(document)
        result = _build(_docx_items(reader), notes)
        margins = reader.margin_texts(document)
        result.left_out.extend(LeftOut(text, LEFT_OUT_HEADER_FOOTER) for text in margins)
        return result
    except ParseError:
        raise
    except Exception as exc:  # a malformed package must never surface as a server error
        raise ParseError(MSG_UNREADABLE_DOCX) from exc


_PAGE_NUMBER_RE = re.compile(r"^(trang\s+)?\d{1,4}(\s*/\s*\d{1,4})?$", re.IGNORECASE)


def _pdf_items(blocks: list[list[str]]) -> list[_Item]:
    """Lines of a PDF (no bold, no centring) as items: the lines of one block are one paragraph
    unless a line starts with a label; a block goes on the one before when that one stops
    mid-sentence and it starts in lower case (a paragraph cut by a page break, even with a
    page number between the halves). Page numbers are set aside."""
    items: list[_Item] = []
    last: _Item | None = None  # the last item holding text (not a page number)
    previous_length = 0
    for block in blocks:
        width = max(len(line.strip()) for line in block)
        for number, raw in enumerate(block):
            text = squash(raw).strip()
            if not text:
                continue
            # A line that stopped well short of the block's width ended its paragraph.
            ran_to_margin, previous_length = previous_length >= 0.6 * width, len(text)
            if _PAGE_NUMBER_RE.match(text):
                items.append(_Item(line=_plain_line(text), reason=LEFT_OUT_PAGE_NUMBER))
                continue
            goes_on = (
                last is not None
                and last.line is not None
                and not last.line.text.endswith(_SENTENCE_END)
                and (text[:1].islower() or (number > 0 and ran_to_margin))
                and _classify(text, False) is None
                and not _starts_document(text)
                and not _signature_start(_Item(line=_plain_line(text)))
            )
            if goes_on and last is not None and last.line is not None:
                last.line = dataclasses.replace(last.line, text=f"{last.line.text} {text}")
                continue
            last = _Item(line=_plain_line(text))
            items.append(last)
    return items


def _plain_line(text: str) -> _Line:
    return _Line(text, 0, False, False, False, None, True)
