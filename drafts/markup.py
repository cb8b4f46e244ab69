"""What a unit sends back about a draft, read into items that become its comments.

Pure module (no Flask, no database). A unit answers with one of:

- the draft for comment (`drafts.documents.build_for_comment_docx`) marked up in Word: each
  Word comment and each clause whose wording the unit changed (with tracked changes or
  without) is an item, placed on its clause by the lineage bookmark ("df_…") around it, or
  else by its text;
- the draft retyped or re-saved without the bookmarks: read with the regulation importer
  (`drafts.parsing`), matched to the version by citation as an imported revision is, and
  compared clause by clause;
- the filled comment form (phiếu góp ý): a row with content is an item;
- a free-form letter (.docx, .pdf, …): a paragraph citing "điểm a khoản 2 Điều 5" goes to
  that clause (`drafts.citations`), the rest is one general comment.

`read_response` (bytes → `ResponseFile`, run in the upload sandbox) only reads the file;
`match_items` (`ResponseFile` + the version's clauses → `ImportItem`s) places the items.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lxml import etree

from drafts import formats
from drafts.citations import CitationIndex
from drafts.diffing import DiffClause
from drafts.documents import BOOKMARK_PREFIX, COMMENT_FORM_HEADERS, bookmark_name, clause_lines
from drafts.officefile import N_
from drafts.parsing import (
    MSG_UNREADABLE_DOCX,
    ParseError,
    checked_zip,
    fold,
    parse_regulation,
    sniff_office_file,
)
from drafts.tree import citation_labels, flat_from_nodes, heading

__all__ = [
    "ImportItem",
    "ResponseFile",
    "match_items",
    "read_response",
    "split_wording",
]

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
FileKind = Literal["markup", "copy", "form", "letter"]
ItemKind = Literal["comment", "proposal"]
# How an item found its clause; shown on the preview.
Method = Literal["bookmark", "text", "citation", "form", "general"]

MSG_NO_ITEMS = N_(
    "Không tìm thấy ý kiến góp ý nào trong tệp: không có chú thích (comment), thay đổi nội "
    "dung, dòng có nội dung trong phiếu góp ý hay đoạn văn nào."
)
MSG_XML = N_("Tệp Word có nội dung XML không hợp lệ; hãy mở tệp, lưu lại rồi tải lên lần nữa.")
# What an item whose only content is new wording says.
PROPOSAL_TEXT = {
    "tracked": "Đề xuất sửa đổi (theo dõi thay đổi trong tệp Word).",
    "edited": "Đề xuất sửa đổi (nội dung sửa trực tiếp trong tệp).",
    "form": "Đề xuất sửa đổi theo phiếu góp ý.",
}
MAX_EXCERPT = 300
# Below this similarity a paragraph is not taken for a clause's text.
TEXT_MATCH_MIN = 0.6
# A .docx with at least this many "Điều n." paragraphs and no bookmark is a copy of the
# draft rather than a letter.
COPY_MIN_ARTICLES = 3

_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_ARTICLE_LINE = re.compile(r"^\s*Điều\s+\d{1,3}[a-zđ]?\s*\.", re.IGNORECASE)
_SPACES = re.compile(r"\s+")


def _q(tag: str) -> str:
    return f"{{{W}}}{tag}"


_P, _T, _DEL_TEXT, _TAB, _BR = _q("p"), _q("t"), _q("delText"), _q("tab"), _q("br")
_INS = {_q("ins"), _q("moveTo")}
_DEL = {_q("del"), _q("moveFrom")}
_BM_START, _BM_END = _q("bookmarkStart"), _q("bookmarkEnd")
_CM_START, _CM_END, _CM_REF = _q("commentRangeStart"), _q("commentRangeEnd"), _q("commentReference")
_ID, _NAME, _AUTHOR = _q("id"), _q("name"), _q("author")


# --------------------------------------------------------------------------- what is read


@dataclass(slots=True)
class Paragraph:
    """A body paragraph: its text with every tracked change accepted, and rejected."""

    accepted: str = ""
    rejected: str = ""
    bookmarks: list[str] = field(default_factory=list)  # df_ names open in it, oldest first
    tracked: bool = False


@dataclass(slots=True)
class WordComment:
    ident: str
    author: str
    text: str
    anchor: str = ""  # the text the comment is anchored to
    paragraph: int | None = None  # the first paragraph it is anchored in


@dataclass(slots=True)
class FormLine:
    """A row of the comment form as the unit filled it."""

    bookmarks: list[str]
    label: str
    content: str
    proposal: str


@dataclass(slots=True)
class ResponseFile:
    kind: FileKind
    paragraphs: list[Paragraph] = field(default_factory=list)
    comments: list[WordComment] = field(default_factory=list)
    rows: list[FormLine] = field(default_factory=list)
    nodes: list[dict[str, Any]] = field(default_factory=list)  # a copy without bookmarks


@dataclass(slots=True)
class ImportItem:
    """One opinion found in the file, with the clause it goes to (None: general)."""

    index: int
    kind: ItemKind
    lineage: str | None
    method: Method
    text: str
    excerpt: str
    proposed_text: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "kind": self.kind,
            "lineage": self.lineage,
            "method": self.method,
            "text": self.text,
            "excerpt": self.excerpt,
            "proposed_text": self.proposed_text,
        }


# --------------------------------------------------------------------------- reading


def read_response(data: bytes, filename: str = "") -> ResponseFile:
    """Read a unit's file (told apart by content). ParseError when it cannot be read."""
    source = formats.identify(data, filename)
    if source == "pdf":
        return ResponseFile("letter", [_plain(text) for text in _pdf_paragraphs(data)])
    if source in formats.CONVERTED:
        data = formats.convert_to_docx(data, source)
    if sniff_office_file(data) != "docx":
        raise ParseError(N_("Tệp là bảng tính Excel (.xlsx); hãy gửi tệp Word (.docx) hoặc PDF."))
    try:
        with checked_zip(data) as archive:
            names = set(archive.namelist())
            body_xml = archive.read("word/document.xml")
            comments_xml = (
                archive.read("word/comments.xml") if "word/comments.xml" in names else None
            )
        root = etree.fromstring(body_xml, _XML)
        comments_root = etree.fromstring(comments_xml, _XML) if comments_xml else None
    except ParseError:
        raise
    except KeyError as exc:
        raise ParseError(MSG_UNREADABLE_DOCX) from exc
    except etree.XMLSyntaxError as exc:
        raise ParseError(MSG_XML) from exc
    body = root.find(_q("body"))
    if body is None:
        raise ParseError(MSG_UNREADABLE_DOCX)
    rows = _form_rows(body)
    if rows is not None:
        return ResponseFile("form", rows=rows)
    paragraphs, anchors = _walk(body)
    comments = _comments(comments_root, anchors)
    has_bookmarks = any(p.bookmarks for p in paragraphs)
    if has_bookmarks or comments or any(p.tracked for p in paragraphs):
        return ResponseFile("markup", paragraphs, comments)
    articles = sum(1 for p in paragraphs if _ARTICLE_LINE.match(p.accepted))
    if articles >= COPY_MIN_ARTICLES:
        parsed = parse_regulation(data, filename)
        return ResponseFile("copy", paragraphs, nodes=[n.as_dict() for n in parsed.nodes])
    return ResponseFile("letter", paragraphs)


# A line of a PDF that starts a new paragraph even inside one layout block: "1.", "-", "a)".
_PARAGRAPH_START = re.compile(r"^\s*(\d{1,2}[.)]|[-–+•*]|[a-zđ]\))\s")


def _pdf_paragraphs(data: bytes) -> list[str]:
    paragraphs: list[str] = []
    for block in formats.pdf_blocks(data):
        lines: list[str] = []
        for line in block:
            if lines and _PARAGRAPH_START.match(line):
                paragraphs.append(" ".join(lines))
                lines = []
            lines.append(line.strip())
        paragraphs.append(" ".join(lines))
    return paragraphs


def _plain(text: str) -> Paragraph:
    return Paragraph(text, text)


@dataclass(slots=True)
class _Anchor:
    paragraph: int | None = None
    parts: list[str] = field(default_factory=list)


def _walk(body: Any) -> tuple[list[Paragraph], dict[str, _Anchor]]:
    """The body's paragraphs in document order (table cells included), and where each Word
    comment is anchored: one pass over the XML, with the open bookmarks and comment ranges."""
    paragraphs: list[Paragraph] = []
    stack: list[int] = []  # paragraphs being read (a text box nests one in another)
    open_marks: dict[str, str] = {}  # bookmark id → df_ name
    open_comments: set[str] = set()
    anchors: dict[str, _Anchor] = {}
    inserted = deleted = 0

    def anchor_here(ident: str) -> None:
        anchor = anchors.setdefault(ident, _Anchor())
        if anchor.paragraph is None and stack:
            anchor.paragraph = stack[-1]

    for event, element in etree.iterwalk(body, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == _P:
                stack.append(len(paragraphs))
                paragraphs.append(Paragraph(bookmarks=list(open_marks.values())))
                for ident in open_comments:
                    anchor_here(ident)
            elif tag in _INS:
                inserted += 1
                if stack:
                    paragraphs[stack[-1]].tracked = True
            elif tag in _DEL:
                deleted += 1
                if stack:
                    paragraphs[stack[-1]].tracked = True
            elif tag in (_T, _DEL_TEXT, _TAB, _BR):
                if not stack:
                    continue
                text = (element.text or "") if tag in (_T, _DEL_TEXT) else " "
                paragraph = paragraphs[stack[-1]]
                if not deleted:
                    paragraph.accepted += text
                if not inserted:
                    paragraph.rejected += text
                if open_comments and not deleted:
                    for ident in open_comments:
                        anchors[ident].parts.append(text)
            elif tag == _BM_START:
                name = element.get(_NAME) or ""
                if name.startswith(BOOKMARK_PREFIX):
                    # Clause bookmarks never nest: one starting ends the one before, even
                    # where a re-saved file lost its end (LibreOffice splits a bookmark
                    # over several paragraphs into one per paragraph, some left open).
                    open_marks.clear()
                    open_marks[element.get(_ID) or ""] = name
                    if stack and name not in paragraphs[stack[-1]].bookmarks:
                        paragraphs[stack[-1]].bookmarks.append(name)
            elif tag == _BM_END:
                open_marks.pop(element.get(_ID) or "", None)
            elif tag == _CM_START:
                ident = element.get(_ID) or ""
                open_comments.add(ident)
                anchor_here(ident)
            elif tag == _CM_END:
                open_comments.discard(element.get(_ID) or "")
            elif tag == _CM_REF:
                anchor_here(element.get(_ID) or "")
        else:
            if tag == _P:
                stack.pop()
            elif tag in _INS:
                inserted -= 1
            elif tag in _DEL:
                deleted -= 1
    return paragraphs, anchors


def _comments(root: Any, anchors: dict[str, _Anchor]) -> list[WordComment]:
    if root is None:
        return []
    found = []
    for element in root.iter(_q("comment")):
        ident = element.get(_ID) or ""
        lines = ["".join(p.itertext()) for p in element.iter(_P)]
        text = _squash("\n".join(line for line in lines if line.strip()))
        if not text:
            continue
        anchor = anchors.get(ident, _Anchor())
        found.append(
            WordComment(
                ident,
                element.get(_AUTHOR) or "",
                text,
                _squash("".join(anchor.parts)),
                anchor.paragraph,
            )
        )
    return found


def _cell_text(cell: Any) -> str:
    lines = []
    for p in cell.iter(_P):
        parts = []
        for element in p.iter(_T, _TAB, _BR):
            # Text a unit deleted with tracking on is not part of what it wrote.
            if any(a.tag in _DEL for a in element.iterancestors()):
                continue
            parts.append((element.text or "") if element.tag == _T else " ")
        lines.append("".join(parts))
    return _squash("\n".join(lines))


def _form_rows(body: Any) -> list[FormLine] | None:
    """The rows of the comment form's table, or None when the file has none."""
    wanted = [fold(h) for h in COMMENT_FORM_HEADERS]
    for table in body.iter(_q("tbl")):
        rows = table.findall(_q("tr"))
        if not rows:
            continue
        header = [fold(_cell_text(c)) for c in rows[0].findall(_q("tc"))]
        if header != wanted:
            continue
        found = []
        for row in rows[1:]:
            cells = row.findall(_q("tc"))
            if len(cells) < len(wanted):
                continue
            marks = [
                b.get(_NAME) or ""
                for b in cells[1].iter(_BM_START)
                if (b.get(_NAME) or "").startswith(BOOKMARK_PREFIX)
            ]
            found.append(
                FormLine(marks, _cell_text(cells[1]), _cell_text(cells[3]), _cell_text(cells[4]))
            )
        return found
    return None


def _squash(text: str) -> str:
    """NFC, spaces squashed within lines, blank lines dropped."""
    lines = (
        _SPACES.sub(" ", line).strip() for line in unicodedata.normalize("NFC", text).split("\n")
    )
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------- placing


def match_items(response: ResponseFile, clauses: Sequence[DiffClause]) -> list[ImportItem]:
    """The items of a read file, each placed on a clause of the version (or general)."""
    matcher = _Matcher(clauses)
    if response.kind == "form":
        items = _form_items(response.rows, matcher)
    elif response.kind == "markup":
        items = _markup_items(response, matcher)
    elif response.kind == "copy":
        items = _copy_items(response.nodes, matcher)
    else:
        items = _letter_items(response.paragraphs, matcher)
    if not items:
        raise ParseError(MSG_NO_ITEMS)
    return [replace(item, index=index) for index, item in enumerate(items)]


class _Matcher:
    def __init__(self, clauses: Sequence[DiffClause]) -> None:
        self.clauses = list(clauses)
        self.by_lineage = {c.lineage: c for c in clauses}
        self.by_bookmark = {bookmark_name(c.lineage): c.lineage for c in clauses}
        self.citations = CitationIndex(clauses)
        self._lines: list[tuple[str, str]] | None = None
        self._exact: dict[str, str] | None = None

    def wording(self, lineage: str) -> str:
        return "\n".join(clause_lines(self.by_lineage[lineage]))

    def lineage_of(self, bookmarks: Sequence[str]) -> str | None:
        """The clause of the innermost (last opened) clause bookmark."""
        for name in reversed(bookmarks):
            if name in self.by_bookmark:
                return self.by_bookmark[name]
        return None

    def by_text(self, text: str) -> str | None:
        """The clause one of whose paragraphs reads most like `text` (folded), if close."""
        key = fold(text)
        if not key:
            return None
        if self._lines is None:
            self._lines = [
                (fold(line), c.lineage) for c in self.clauses for line in clause_lines(c) if line
            ]
            self._exact = {}
            for line, lineage in self._lines:
                self._exact.setdefault(line, lineage)
        assert self._exact is not None
        if key in self._exact:
            return self._exact[key]
        best, best_ratio = None, TEXT_MATCH_MIN
        matcher = difflib.SequenceMatcher(autojunk=False)
        matcher.set_seq2(key)
        for line, lineage in self._lines:
            matcher.set_seq1(line)
            if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
                continue
            ratio = matcher.ratio()
            if ratio > best_ratio:
                best, best_ratio = lineage, ratio
        return best


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_EXCERPT else text[: MAX_EXCERPT - 1].rstrip() + "…"


def _same(a: str, b: str) -> bool:
    return " ".join(a.split()) == " ".join(b.split())


def _markup_items(response: ResponseFile, matcher: _Matcher) -> list[ImportItem]:
    items: list[ImportItem] = []
    paragraphs = response.paragraphs
    for comment in response.comments:
        lineage: str | None = None
        method: Method = "general"
        paragraph = paragraphs[comment.paragraph] if comment.paragraph is not None else None
        if paragraph is not None:
            lineage = matcher.lineage_of(paragraph.bookmarks)
            if lineage is not None:
                method = "bookmark"
            else:
                lineage = matcher.by_text(paragraph.accepted)
                method = "text" if lineage is not None else "general"
        if lineage is None:
            lineage, _article = matcher.citations.resolve_text(comment.text)
            method = "citation" if lineage is not None else "general"
        anchor = comment.anchor or (paragraph.accepted if paragraph is not None else "")
        items.append(ImportItem(0, "comment", lineage, method, comment.text, _excerpt(anchor)))

    # Changed wording, clause by clause: the text inside each bookmark, changes accepted,
    # against the published text.
    grouped: dict[str, list[Paragraph]] = {}
    loose: list[Paragraph] = []
    for paragraph in paragraphs:
        lineage = matcher.lineage_of(paragraph.bookmarks)
        if lineage is not None:
            grouped.setdefault(lineage, []).append(paragraph)
        elif paragraph.tracked:
            loose.append(paragraph)
    for lineage, parts in grouped.items():
        after = _squash("\n".join(p.accepted for p in parts))
        if _same(after, matcher.wording(lineage)):
            continue
        how = "tracked" if any(p.tracked for p in parts) else "edited"
        items.append(
            ImportItem(
                0, "proposal", lineage, "bookmark", PROPOSAL_TEXT[how], _excerpt(after), after
            )
        )
    # A tracked change outside every bookmark (the bookmarks were lost): by its text.
    for paragraph in loose:
        lineage = matcher.by_text(paragraph.rejected)
        after = _squash(paragraph.accepted)
        if lineage is None:
            items.append(
                ImportItem(
                    0, "comment", None, "general", PROPOSAL_TEXT["tracked"], _excerpt(after), after
                )
            )
            continue
        items.append(
            ImportItem(
                0, "proposal", lineage, "text", PROPOSAL_TEXT["tracked"], _excerpt(after), after
            )
        )
    return items


def _copy_items(nodes: list[dict[str, Any]], matcher: _Matcher) -> list[ImportItem]:
    """A copy without bookmarks: each parsed clause is the version's clause of the same kind
    and citation; one whose wording differs is a proposal."""
    rows = flat_from_nodes(nodes)
    labels = citation_labels(rows)
    known: dict[tuple[str, str], str] = {}
    for clause in matcher.clauses:
        known.setdefault((clause.kind, clause.label), clause.lineage)
    items: list[ImportItem] = []
    for row in rows:
        lineage = known.get((row.kind, labels[row.id]))
        diff = DiffClause("", row.kind, row.number, row.title, row.text, None, 0, labels[row.id])
        after = _squash("\n".join(clause_lines(diff)))
        if lineage is None:
            if row.kind in ("article", "clause", "point"):
                text = f"Đề xuất bổ sung {labels[row.id]}."
                items.append(
                    ImportItem(0, "comment", None, "general", text, _excerpt(after), after)
                )
            continue
        if not _same(after, matcher.wording(lineage)):
            items.append(
                ImportItem(
                    0, "proposal", lineage, "text", PROPOSAL_TEXT["edited"], _excerpt(after), after
                )
            )
    return items


def _form_items(rows: list[FormLine], matcher: _Matcher) -> list[ImportItem]:
    items = []
    for row in rows:
        if not (row.content or row.proposal):
            continue
        lineage = matcher.lineage_of(row.bookmarks)
        method: Method = "form"
        if lineage is None:
            lineage, _article = matcher.citations.resolve_text(row.label)
            method = "citation" if lineage is not None else "general"
        text = row.content or PROPOSAL_TEXT["form"]
        excerpt = _excerpt(f"{row.label}: {row.content or row.proposal}")
        items.append(ImportItem(0, "comment", lineage, method, text, excerpt, row.proposal or None))
    return items


# Parts of an official letter that are not opinions: the heading, the addressee; and where
# its closing (recipients, signature) starts, after which nothing is an opinion.
_LETTER_FRAME = re.compile(
    r"^(cộng hòa xã hội|cộng hoà xã hội|độc lập\s*-|số\s*:|v/v\b|kính gửi|"
    r"[^\W\d][^,]{1,40},\s*ngày\b)",
    re.IGNORECASE,
)
_LETTER_END = re.compile(r"^(nơi nhận|(tm|kt|tl|tuq)\.\s)", re.IGNORECASE)


def _frame(text: str) -> bool:
    """A line of the letter's frame: a heading phrase, or a short line all in capitals (the
    agency's name, "CỘNG HÒA…", the letter's title)."""
    letters = [ch for ch in text if ch.isalpha()]
    shouting = len(text) <= 120 and bool(letters) and all(ch.isupper() for ch in letters)
    return shouting or bool(_LETTER_FRAME.match(text))


_CONTINUES = re.compile(r"^[-–+•*]\s*|^[a-zđ]")


def _letter_items(paragraphs: list[Paragraph], matcher: _Matcher) -> list[ImportItem]:
    """Each paragraph citing a clause opens an item on it (the following "-" or "+" lines go
    with it); the other paragraphs together are one general comment."""
    items: list[ImportItem] = []
    general: list[str] = []
    last_article = ""
    current: ImportItem | None = None
    for paragraph in paragraphs:
        text = _squash(paragraph.accepted)
        if _LETTER_END.match(text):
            break
        if not text or _frame(text):
            current = None
            continue
        lineage, last_article = matcher.citations.resolve_text(text, last_article)
        if lineage is not None:
            current = ImportItem(0, "comment", lineage, "citation", text, _excerpt(text))
            items.append(current)
        elif current is not None and _CONTINUES.match(text):
            current.text += "\n" + text
        else:
            current = None
            general.append(text)
    if general:
        joined = "\n".join(general)
        items.append(ImportItem(0, "comment", None, "general", joined, _excerpt(joined)))
    return items


# --------------------------------------------------------------------------- applying


def split_wording(kind: str, number: str, wording: str) -> tuple[str | None, str]:
    """New wording of a clause as written ("Điều 5. Title" then its text, "1. text"…) →
    (title, text): the inverse of `clause_lines`. The title is None when the wording does
    not restate the clause's heading (it is then all text)."""
    lines = [line for line in _squash(wording).split("\n")]
    if not lines:
        return None, ""
    head = heading(kind, number).strip()
    first = lines[0]
    if kind == "article":
        match = re.match(r"^\s*Điều\s+\S+?\.\s*", first, re.IGNORECASE)
        if match:
            return first[match.end() :].strip(), "\n".join(lines[1:])
        return None, "\n".join(lines)
    if head and first.startswith(head):
        lines[0] = first[len(head) :].strip()
    return None, "\n".join(line for line in lines if line)
