"""Version n+1 against version n as a Word document with real tracked changes.

Pure module (no Flask, no database), fed with the entries of `drafts.diffing.diff_versions`.
Word and LibreOffice open the result with Accept/Reject working: accepting every change gives
the text of the new version, rejecting every change the old one.

- A clause in both versions at the same place is written once; a changed one carries word-level
  w:ins / w:del, so a renumbered clause shows only its number changing.
- A clause only in the old version is deleted (its runs in w:del, its paragraph marks deleted, so
  accepting merges the empty paragraphs away); one only in the new version is inserted.
- A moved clause (and the clauses travelling with it) is written twice: as w:moveFrom where it
  was and as w:moveTo where it now is, each inside a named move range, instead of deleting and
  re-inserting everything in between.

Clauses are laid out in the order of a merge: the clauses that stayed put ("stable") keep their
relative order in both versions, and between two of them come first what was there before, then
what is there now.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import count

from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from accounts.officedoc import document_to_bytes, new_document
from drafts.diffing import (
    Change,
    DiffClause,
    DiffEntry,
    Segment,
    _longest_increasing_indices,
    word_diff,
)
from drafts.documents import (
    StyledParagraphs,
    bookmark,
    bookmark_name,
    clause_lines,
    paragraph_style,
    text_run,
)

__all__ = ["RedlineHeading", "build_redline_docx", "redline_plan"]

# Op of a run or of a paragraph mark.
EQUAL, INSERT, DELETE, MOVE_FROM, MOVE_TO = "equal", "insert", "delete", "move_from", "move_to"
_CHANGE_TAG = {INSERT: "w:ins", DELETE: "w:del", MOVE_FROM: "w:moveFrom", MOVE_TO: "w:moveTo"}
_PLAIN = {INSERT: INSERT, DELETE: DELETE, MOVE_FROM: DELETE, MOVE_TO: INSERT, EQUAL: EQUAL}


@dataclass(frozen=True, slots=True)
class RedlineHeading:
    draft_title: str
    old_label: str  # "Dự thảo lần 1"
    new_label: str
    author: str  # the drafting office, as Word shows the changes' author
    moment: datetime.datetime  # UTC

    @property
    def date(self) -> str:
        return self.moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class _Para:
    style: str
    runs: list[Segment | tuple[str, str]] = field(default_factory=list)
    mark: str = EQUAL
    before: list[OxmlElement] = field(default_factory=list)  # range and bookmark starts
    after: list[OxmlElement] = field(default_factory=list)  # their ends


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One clause's place in the redline: `op` is equal, insert, delete, move_from or move_to;
    `root` names the move a travelling clause belongs to."""

    op: str
    entry: DiffEntry
    root: str | None = None


def redline_plan(entries: Sequence[DiffEntry]) -> list[PlanItem]:
    """The clauses in the order the redline writes them."""
    old = sorted((e for e in entries if e.old is not None), key=lambda e: _old(e).position)
    new = sorted((e for e in entries if e.new is not None), key=lambda e: _new(e).position)
    roots = {
        e.lineage
        for e in new
        if e.old is not None
        and (Change.MOVED in e.changes or _old(e).parent_lineage != _new(e).parent_lineage)
    }
    while True:
        # A clause travels with its parent when the parent moved and it stayed its child.
        root_of: dict[str, str] = {}
        for e in new:
            parent = _new(e).parent_lineage
            if e.old is None:
                continue
            if e.lineage in roots:
                root_of[e.lineage] = e.lineage
            elif parent is not None and parent in root_of:
                root_of[e.lineage] = root_of[parent]
        stable = [e for e in new if e.old is not None and e.lineage not in root_of]
        # The diff's moves keep the rest in order; should they not, the fewest more move.
        kept = _longest_increasing_indices([_old(e).position for e in stable])
        if len(kept) == len(stable):
            break
        roots |= {e.lineage for i, e in enumerate(stable) if i not in kept}

    stable_lineages = {e.lineage for e in stable}
    before: dict[int, list[PlanItem]] = defaultdict(list)
    gap = 0
    for e in old:
        if e.lineage in stable_lineages:
            gap += 1
        elif e.lineage in root_of:
            before[gap].append(PlanItem(MOVE_FROM, e, root_of[e.lineage]))
        else:
            before[gap].append(PlanItem(DELETE, e))
    gap = 0
    now: dict[int, list[PlanItem]] = defaultdict(list)
    for e in new:
        if e.lineage in stable_lineages:
            gap += 1
        elif e.lineage in root_of:
            now[gap].append(PlanItem(MOVE_TO, e, root_of[e.lineage]))
        else:
            now[gap].append(PlanItem(INSERT, e))
    plan: list[PlanItem] = []
    for index in range(len(stable) + 1):
        plan.extend(before.get(index, ()))
        plan.extend(now.get(index, ()))
        if index < len(stable):
            plan.append(PlanItem(EQUAL, stable[index]))
    return plan


def _old(entry: DiffEntry) -> DiffClause:
    assert entry.old is not None
    return entry.old


def _new(entry: DiffEntry) -> DiffClause:
    assert entry.new is not None
    return entry.new


def build_redline_docx(head: RedlineHeading, entries: Sequence[DiffEntry]) -> bytes:
    ids = count(1)
    paragraphs = [
        _Para("heading", [(EQUAL, head.draft_title.upper())]),
        _Para("heading", [(EQUAL, f"({head.new_label} so với {head.old_label})")]),
        _Para("body"),
    ]
    plan = redline_plan(entries)
    last_of_move = {(item.op, item.root): i for i, item in enumerate(plan) if item.root}
    move_names: dict[str, str] = {}
    open_ranges: dict[tuple[str, str | None], int] = {}
    for index, item in enumerate(plan):
        written = _item_paragraphs(item)
        first, last = written[0], written[-1]
        if item.root is not None:
            key = (item.op, item.root)
            if key not in open_ranges:
                name = move_names.setdefault(item.root, f"move{len(move_names) + 1}")
                ident = next(ids)
                open_ranges[key] = ident
                first.before.append(_range("Start", item.op, ident, head, name))
        if item.op != DELETE and item.op != MOVE_FROM:
            ident = next(ids)
            first.before.append(bookmark("Start", ident, bookmark_name(item.entry.lineage)))
            last.after.append(bookmark("End", ident))
        if item.root is not None and last_of_move[(item.op, item.root)] == index:
            last.after.append(_range("End", item.op, open_ranges[(item.op, item.root)]))
        paragraphs.extend(written)
    _rotate_trailing_marks(paragraphs)

    doc = new_document()
    styled = StyledParagraphs(doc)
    for para in paragraphs:
        _write(styled, para, head, ids)
    return document_to_bytes(doc)


def _item_paragraphs(item: PlanItem) -> list[_Para]:
    entry = item.entry
    if item.op == EQUAL:
        old_text = "\n".join(clause_lines(_old(entry)))
        new_text = "\n".join(clause_lines(_new(entry)))
        segments: list[Segment] = (
            [(EQUAL, new_text)] if old_text == new_text else word_diff(old_text, new_text)
        )
        return _split(segments, _new(entry).kind, EQUAL)
    clause = _old(entry) if item.op in (DELETE, MOVE_FROM) else _new(entry)
    return _split([(item.op, "\n".join(clause_lines(clause)))], clause.kind, item.op)  # type: ignore[list-item]


def _split(segments: Sequence[tuple[str, str]], kind: str, last_mark: str) -> list[_Para]:
    """Paragraphs from segments whose text holds "\\n" between paragraphs; a break inside an
    inserted or deleted segment is an inserted or deleted paragraph mark."""
    paragraphs = [_Para(paragraph_style(kind, 0))]
    for op, text in segments:
        for index, piece in enumerate(text.split("\n")):
            if index:
                paragraphs[-1].mark = op
                paragraphs.append(_Para(paragraph_style(kind, len(paragraphs))))
            if piece:
                paragraphs[-1].runs.append((op, piece))
    paragraphs[-1].mark = last_mark
    return paragraphs


def _rotate_trailing_marks(paragraphs: list[_Para]) -> None:
    """The document's last paragraph mark cannot be deleted or inserted. Whole paragraphs
    inserted or deleted at the end are therefore marked by the break before them rather than
    after: accepting or rejecting then removes "break + text" as one unit."""
    last_equal = max(i for i, p in enumerate(paragraphs) if p.mark == EQUAL)
    trailing = paragraphs[last_equal + 1 :]
    if not trailing:
        return
    marks = [p.mark for p in trailing]
    for para, mark in zip(paragraphs[last_equal:], marks, strict=False):
        # A move's mark stays a move only on a paragraph of the same move.
        same = bool(para.runs) and all(op == mark for op, _text in para.runs)
        para.mark = mark if same else _PLAIN[mark]
    paragraphs[-1].mark = EQUAL


def _range(
    kind: str, op: str, ident: int, head: RedlineHeading | None = None, name: str = ""
) -> OxmlElement:
    side = "moveFrom" if op == MOVE_FROM else "moveTo"
    element = OxmlElement(f"w:{side}Range{kind}")
    element.set(qn("w:id"), str(ident))
    if head is not None:
        element.set(qn("w:author"), head.author)
        element.set(qn("w:date"), head.date)
        element.set(qn("w:name"), name)
    return element


def _change(op: str, head: RedlineHeading, ids: Iterator[int]) -> OxmlElement:
    element = OxmlElement(_CHANGE_TAG[op])
    element.set(qn("w:id"), str(next(ids)))
    element.set(qn("w:author"), head.author)
    element.set(qn("w:date"), head.date)
    return element


def _write(styled: StyledParagraphs, para: _Para, head: RedlineHeading, ids: Iterator[int]) -> None:
    p, bold = styled.add(para.style)
    if para.mark != EQUAL:
        rpr = OxmlElement("w:rPr")
        rpr.append(_change(para.mark, head, ids))
        p.pPr.append(rpr)  # the paragraph mark's properties come last in w:pPr
    for element in para.before:
        p.append(element)
    for op, text in para.runs:
        run = text_run(text, bold=bold, deleted=op == DELETE)
        if op == EQUAL:
            p.append(run)
        else:
            wrapper = _change(op, head, ids)
            wrapper.append(run)
            p.append(wrapper)
    for element in para.after:
        p.append(element)
