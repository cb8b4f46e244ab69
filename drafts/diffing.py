"""Clause-level diff between two versions of a draft.

Pure module: callers flatten each version's clause tree into ``DiffClause`` rows and get back
one ``DiffEntry`` per lineage. Clauses are aligned by their stable ``lineage`` key, never by
their number, so an inserted "Điều 5" that pushes the old one to "Điều 6" reads as a
renumbering rather than a removal plus an addition.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from markupsafe import Markup, escape

__all__ = [
    "Change",
    "DiffClause",
    "DiffEntry",
    "Segment",
    "diff_versions",
    "render_word_diff_html",
    "summarise",
    "word_diff",
]


class Change(StrEnum):
    """Kinds of change; members are plain strings, so ``"moved" in entry.changes`` works."""

    ADDED = "added"
    REMOVED = "removed"
    MOVED = "moved"
    RENUMBERED = "renumbered"
    CHANGED = "changed"


SegmentOp = Literal["equal", "insert", "delete"]
Segment = tuple[SegmentOp, str]


@dataclass(frozen=True, slots=True)
class DiffClause:
    """One node of a version's clause tree, flattened."""

    lineage: str
    kind: str
    number: str
    title: str
    text: str
    parent_lineage: str | None
    position: int
    label: str


@dataclass(slots=True)
class DiffEntry:
    """The fate of one lineage between the old and the new version."""

    lineage: str
    old: DiffClause | None
    new: DiffClause | None
    changes: set[str] = field(default_factory=set)
    word_diff: list[Segment] = field(default_factory=list)
    title_diff: list[Segment] = field(default_factory=list)

    @property
    def clause(self) -> DiffClause:
        """The clause as it now stands, or as it stood when it was removed."""
        clause = self.new or self.old
        assert clause is not None
        return clause


# A word keeps its combining marks (decomposed Vietnamese); every other character is its own
# token or part of a whitespace run, so joining the tokens gives back the exact text.
_TOKEN = re.compile(r"[\w\u0300-\u036f]+|\s+|[^\w\s]")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def word_diff(old: str, new: str) -> list[Segment]:
    """Word-level segments; equal+delete joins to ``old``, equal+insert joins to ``new``."""
    a, b = _tokens(old), _tokens(new)
    # Most edits touch a few words, so the shared head and tail are matched directly and only
    # the middle goes to SequenceMatcher.
    head = _common_prefix_length(a, b)
    tail = _common_prefix_length(a[::-1], b[::-1], limit=min(len(a), len(b)) - head)
    raw: list[Segment] = []
    if head:
        raw.append(("equal", "".join(a[:head])))
    middle_a, middle_b = a[head : len(a) - tail], b[head : len(b) - tail]
    # Whitespace tokens are by far the most frequent and make matching slow; as "junk" they
    # cannot start a match but are still absorbed into matches around them. autojunk would
    # instead drop any frequent word in long clauses.
    matcher = difflib.SequenceMatcher(str.isspace, middle_a, middle_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            raw.append(("equal", "".join(middle_a[i1:i2])))
            continue
        if i2 > i1:
            raw.append(("delete", "".join(middle_a[i1:i2])))
        if j2 > j1:
            raw.append(("insert", "".join(middle_b[j1:j2])))
    if tail:
        raw.append(("equal", "".join(a[len(a) - tail :])))
    return _coalesce(raw)


def _common_prefix_length(a: Sequence[str], b: Sequence[str], limit: int | None = None) -> int:
    n = min(len(a), len(b)) if limit is None else limit
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _coalesce(raw: list[Segment]) -> list[Segment]:
    """Join each run of changes into one deletion followed by one insertion.

    A lone space between two changed words is absorbed into the run, so "a b" → "x y" reads
    as one replacement instead of alternating fragments.
    """
    out: list[Segment] = []
    deleted: list[str] = []
    inserted: list[str] = []

    def flush() -> None:
        if deleted:
            out.append(("delete", "".join(deleted)))
        if inserted:
            out.append(("insert", "".join(inserted)))
        deleted.clear()
        inserted.clear()

    for index, (op, text) in enumerate(raw):
        if op == "delete":
            deleted.append(text)
        elif op == "insert":
            inserted.append(text)
        elif (
            (deleted or inserted)
            and text.isspace()
            and index + 1 < len(raw)
            and raw[index + 1][0] != "equal"
        ):
            deleted.append(text)
            inserted.append(text)
        else:
            flush()
            if out and out[-1][0] == "equal":
                out[-1] = ("equal", out[-1][1] + text)
            else:
                out.append((op, text))
    flush()
    return out


def render_word_diff_html(segments: Iterable[Segment]) -> Markup:
    """HTML with ``<ins>``/``<del>`` around changed text; all text is escaped."""
    parts: list[Markup] = []
    for op, text in segments:
        if op == "insert":
            parts.append(Markup("<ins>{}</ins>").format(text))
        elif op == "delete":
            parts.append(Markup("<del>{}</del>").format(text))
        else:
            parts.append(escape(text))
    return Markup("").join(parts)


def diff_versions(old: Sequence[DiffClause], new: Sequence[DiffClause]) -> list[DiffEntry]:
    """Diff two flattened versions, in the new document's order.

    Removed clauses are placed where they used to be: before their next surviving sibling,
    else after their previous surviving sibling's subtree, else at the end of their parent's
    subtree; removed descendants of a removed clause follow it.
    """
    old_sorted = sorted(old, key=lambda c: c.position)
    new_sorted = sorted(new, key=lambda c: c.position)
    old_by = _index_by_lineage(old_sorted)
    _index_by_lineage(new_sorted)  # rejects duplicate lineages

    new_index = {c.lineage: i for i, c in enumerate(new_sorted)}

    entries = [_compare(old_by.get(c.lineage), c) for c in new_sorted]
    for lineage in _moved_within_siblings(new_sorted, old_by):
        entries[new_index[lineage]].changes.add(Change.MOVED)
    return _place_removed(entries, old_sorted, new_sorted, new_index)


def summarise(entries: Iterable[DiffEntry]) -> dict[str, int]:
    """Count entries per change kind, plus ``unchanged``; every key is always present."""
    counts: Counter[str] = Counter()
    for entry in entries:
        counts.update(str(change) for change in entry.changes)
        if not entry.changes:
            counts["unchanged"] += 1
    return {key: counts[key] for key in [*(c.value for c in Change), "unchanged"]}


def _index_by_lineage(clauses: Sequence[DiffClause]) -> dict[str, DiffClause]:
    by: dict[str, DiffClause] = {}
    for clause in clauses:
        if clause.lineage in by:
            raise ValueError(f"Khóa định danh điều khoản bị trùng: {clause.lineage}")
        by[clause.lineage] = clause
    return by


def _compare(old: DiffClause | None, new: DiffClause) -> DiffEntry:
    entry = DiffEntry(lineage=new.lineage, old=old, new=new)
    if old is None:
        entry.changes.add(Change.ADDED)
        return entry
    if old.number.strip() != new.number.strip():
        entry.changes.add(Change.RENUMBERED)
    if old.parent_lineage != new.parent_lineage:
        entry.changes.add(Change.MOVED)
    if old.text != new.text:
        entry.changes.add(Change.CHANGED)
        entry.word_diff = word_diff(old.text, new.text)
    if old.title != new.title:
        entry.changes.add(Change.CHANGED)
        entry.title_diff = word_diff(old.title, new.title)
    return entry


def _moved_within_siblings(
    new_sorted: Sequence[DiffClause], old_by: dict[str, DiffClause]
) -> list[str]:
    """Lineages whose order among surviving siblings changed.

    Only clauses that stayed under the same parent take part (a new parent is already a move).
    The longest run of siblings still in their old relative order stays put; the rest moved.
    """
    siblings: dict[str | None, list[DiffClause]] = defaultdict(list)
    for clause in new_sorted:
        before = old_by.get(clause.lineage)
        if before is not None and before.parent_lineage == clause.parent_lineage:
            siblings[clause.parent_lineage].append(clause)

    moved: list[str] = []
    for group in siblings.values():
        old_positions = [old_by[c.lineage].position for c in group]
        kept = _longest_increasing_indices(old_positions)
        moved.extend(c.lineage for i, c in enumerate(group) if i not in kept)
    return moved


def _longest_increasing_indices(values: Sequence[int]) -> set[int]:
    """Indices of one longest strictly increasing subsequence (patience sorting, O(n log n))."""
    tails: list[int] = []  # tails[k]: smallest tail value of an increasing run of length k+1
    tail_index: list[int] = []
    previous: list[int] = [-1] * len(values)
    for i, value in enumerate(values):
        k = bisect.bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_index.append(i)
        else:
            tails[k] = value
            tail_index[k] = i
        previous[i] = tail_index[k - 1] if k else -1
    kept: set[int] = set()
    i = tail_index[-1] if tail_index else -1
    while i != -1:
        kept.add(i)
        i = previous[i]
    return kept


def _place_removed(
    entries: list[DiffEntry],
    old_sorted: Sequence[DiffClause],
    new_sorted: Sequence[DiffClause],
    new_index: dict[str, int],
) -> list[DiffEntry]:
    last_descendant = _last_descendant_index(new_sorted, new_index)

    # A survivor counts as an anchor for its old siblings only if it kept its parent.
    def stays(clause: DiffClause) -> bool:
        i = new_index.get(clause.lineage)
        return i is not None and new_sorted[i].parent_lineage == clause.parent_lineage

    old_siblings: dict[str | None, list[DiffClause]] = defaultdict(list)
    for clause in old_sorted:
        old_siblings[clause.parent_lineage].append(clause)
    next_kept: dict[str, DiffClause] = {}
    prev_kept: dict[str, DiffClause] = {}
    for group in old_siblings.values():
        _fill_neighbours(group, stays, next_kept, prev_kept)

    before: dict[int, list[DiffEntry]] = defaultdict(list)
    after: dict[int, list[DiffEntry]] = defaultdict(list)
    trailing: list[DiffEntry] = []
    removed_groups: dict[str, list[DiffEntry]] = {}  # removed lineage → its group's list

    for clause in old_sorted:
        if clause.lineage in new_index:
            continue
        entry = DiffEntry(lineage=clause.lineage, old=clause, new=None, changes={Change.REMOVED})
        parent = clause.parent_lineage
        if parent is not None and parent in removed_groups:
            group = removed_groups[parent]
        elif clause.lineage in next_kept:
            group = before[new_index[next_kept[clause.lineage].lineage]]
        elif clause.lineage in prev_kept:
            group = after[last_descendant[prev_kept[clause.lineage].lineage]]
        elif parent is not None and parent in new_index:
            group = after[last_descendant[parent]]
        else:
            group = trailing
        group.append(entry)
        removed_groups[clause.lineage] = group

    if not before and not after and not trailing:
        return entries
    ordered: list[DiffEntry] = []
    for i, entry in enumerate(entries):
        ordered.extend(before.get(i, ()))
        ordered.append(entry)
        ordered.extend(after.get(i, ()))
    ordered.extend(trailing)
    return ordered


def _last_descendant_index(
    new_sorted: Sequence[DiffClause], new_index: dict[str, int]
) -> dict[str, int]:
    """For each lineage, the index of the last clause of its subtree in the new order."""
    last = {c.lineage: i for i, c in enumerate(new_sorted)}
    for i, clause in enumerate(new_sorted):
        parent = clause.parent_lineage
        seen: set[str] = set()  # guards against a malformed cycle in the parent links
        while parent is not None and parent in new_index and parent not in seen:
            seen.add(parent)
            last[parent] = max(last[parent], i)
            parent = new_sorted[new_index[parent]].parent_lineage
    return last


def _fill_neighbours(
    group: Sequence[DiffClause],
    stays: Callable[[DiffClause], bool],
    next_kept: dict[str, DiffClause],
    prev_kept: dict[str, DiffClause],
) -> None:
    """Record, for each clause, its nearest following and preceding sibling that stays."""
    following: DiffClause | None = None
    for clause in reversed(group):
        if following is not None:
            next_kept[clause.lineage] = following
        if stays(clause):
            following = clause
    preceding: DiffClause | None = None
    for clause in group:
        if preceding is not None:
            prev_kept[clause.lineage] = preceding
        if stays(clause):
            preceding = clause
