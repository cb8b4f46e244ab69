"""Clause references as a secretary types them during a conference.

Pure module (no Flask, no database). "5.2", "5.2.a", "Điều 5 khoản 2", "khoản 2 Điều 5",
"k2 đ5", "dieu 5 khoan 2 diem a" all name "khoản 2 Điều 5" (or its điểm a); "chung" or an
empty box is a general opinion ("Ý kiến chung"). A reference is resolved against the
citation labels of the version's clauses (`drafts.tree.citation_labels`), so any label
shown in the list (a Chương, a criterion) also resolves as typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from unidecode import unidecode

GENERAL_WORDS = {"", "chung", "y kien chung", "general", "general comment", "0", "-"}

# An article number may carry an amendment's letter ("5a"); a khoản too ("1a"); a điểm is a
# Vietnamese letter, possibly with a digit ("a1").
_ARTICLE = r"\d+[a-z]?"
_CLAUSE = r"\d+[a-z]?"
_POINT = r"[a-zđ]\d?"
_DOTTED = re.compile(rf"^({_ARTICLE})(?:\.({_CLAUSE}))?(?:\.({_POINT}))?\.?$")
# Words are matched on the text folded to ASCII (so "dieu" finds "điều"); the numbers
# and the letter are read from the same positions of the text as typed, where "đ" and
# "d" are different points.
_WORDS = {
    "article": re.compile(rf"\b(?:dieu|d)\s*\.?\s*({_ARTICLE})\b"),
    "clause": re.compile(rf"\b(?:khoan|k)\s*\.?\s*({_CLAUSE})\b"),
    "point": re.compile(r"\b(?:diem|dm|p)\s*\.?\s*([a-z]\d?)\b"),
}


@dataclass(frozen=True, slots=True)
class Reference:
    """A provision: Điều `article`, khoản `clause`, điểm `point` (None: not named)."""

    article: str
    clause: str | None = None
    point: str | None = None

    @property
    def label(self) -> str:
        """As `drafts.tree.citation_labels` cites it: "điểm a khoản 2 Điều 5"."""
        parts = []
        if self.point:
            parts.append(f"điểm {self.point}")
        if self.clause:
            parts.append(f"khoản {self.clause}")
        parts.append(f"Điều {self.article}")
        return " ".join(parts)

    @property
    def dotted(self) -> str:
        return ".".join(p for p in (self.article, self.clause, self.point) if p)


GENERAL = "general"


def parse_reference(text: str) -> Reference | str | None:
    """`GENERAL`, a `Reference`, or None when the text names no provision."""
    typed = " ".join((text or "").split()).casefold()
    folded = unidecode(typed)
    if folded in GENERAL_WORDS:
        return GENERAL
    compact = typed.replace(" ", "")
    match = _DOTTED.match(compact)
    if match:
        article, clause, point = match.groups()
        return Reference(article, clause, point)
    found: dict[str, str] = {}
    for name, pattern in _WORDS.items():
        hit = pattern.search(folded)
        if hit is None:
            continue
        # unidecode keeps one ASCII letter per Vietnamese letter here, so positions agree.
        start, end = hit.span(1)
        found[name] = typed[start:end] if len(typed) == len(folded) else hit.group(1)
    if "article" not in found:
        return None
    return Reference(found["article"], found.get("clause"), found.get("point"))


def resolve(text: str, labels: Mapping[int, str]) -> int | str | None:
    """The clause id `text` names among `labels` (id → citation label), `GENERAL`, or None.

    A label typed as shown wins; otherwise the text is read as a reference."""
    wanted = " ".join((text or "").split()).casefold()
    by_label = _by_label(labels.items())
    if wanted and wanted in by_label:
        return by_label[wanted]
    parsed = parse_reference(text)
    if parsed is None or parsed == GENERAL:
        return parsed
    assert isinstance(parsed, Reference)
    return by_label.get(parsed.label.casefold())


def _by_label(items: Iterable[tuple[int, str]]) -> dict[str, int]:
    found: dict[str, int] = {}
    for clause_id, label in items:
        # A "-" paragraph carries its holder's label: the holder (first in order) wins.
        found.setdefault(label.casefold(), clause_id)
    return found
