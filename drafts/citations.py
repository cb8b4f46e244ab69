"""Citations in a unit's letter ("điểm a khoản 2 Điều 5", "Điều 7", "khoản 3") resolved to
the clauses of a version.

Pure module (no Flask, no database). Citations run from small to large; a citation without
an article ("khoản 3", "điểm b") is read relative to the last article the text cited, as a
reader would. The clauses come as `DiffClause` rows in document order.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from drafts.diffing import DiffClause

__all__ = ["Citation", "CitationIndex", "find_citations"]

# "điểm a", "khoản 2", "Điều 5", in that order, each part optional but at least one present;
# commas or "của" may separate the parts ("điểm a, khoản 2 của Điều 5").
_SEP = r"(?:\s*,\s*|\s+của\s+|\s+)"
_CITATION = re.compile(
    r"(?<!\w)"
    r"(?:điểm\s+(?P<point>[a-zđ]\d{0,2})(?!\w))?"
    r"(?:(?(point)" + _SEP + r"|)khoản\s+(?P<clause>\d{1,3}[a-zđ]?)(?!\w))?"
    r"(?:(?(point)"
    + _SEP
    + r"|(?(clause)"
    + _SEP
    + r"|))điều\s+(?P<article>\d{1,3}[a-zđ]?)(?!\w))?",
    re.IGNORECASE,
)

Key = tuple[str, str, str]  # (article, clause, point) numbers in lower case; "" when absent


@dataclass(frozen=True, slots=True)
class Citation:
    """One citation as written; `article` is "" when the text left it to the context."""

    point: str
    clause: str
    article: str
    start: int
    end: int

    @property
    def text(self) -> str:
        parts = []
        if self.point:
            parts.append(f"điểm {self.point}")
        if self.clause:
            parts.append(f"khoản {self.clause}")
        if self.article:
            parts.append(f"Điều {self.article}")
        return " ".join(parts)


def find_citations(text: str) -> Iterator[Citation]:
    """Every citation in `text`, in order."""
    text = unicodedata.normalize("NFC", text)
    for match in _CITATION.finditer(text):
        point, clause, article = match.group("point", "clause", "article")
        if not (point or clause or article):
            continue
        yield Citation(
            (point or "").lower(),
            (clause or "").lower(),
            (article or "").lower(),
            match.start(),
            match.end(),
        )


class CitationIndex:
    """The provisions (articles, khoản, điểm) of one version by their citation."""

    def __init__(self, clauses: Sequence[DiffClause]) -> None:
        by_lineage = {c.lineage: c for c in clauses}
        self._keys: dict[Key, str] = {}
        for clause in clauses:
            key = _key(clause, by_lineage)
            if key is not None:
                self._keys.setdefault(key, clause.lineage)

    def resolve(self, citation: Citation, last_article: str = "") -> str | None:
        """The lineage of the clause cited, or None. Without an article the citation is
        read in `last_article`. A cited point or khoản that the version lacks resolves to
        the nearest provision above it that it has ("điểm x khoản 2 Điều 5" → khoản 2)."""
        article = citation.article or last_article
        if not article:
            return None
        for key in (
            (article, citation.clause, citation.point),
            (article, citation.clause, ""),
            (article, "", ""),
        ):
            if key in self._keys:
                return self._keys[key]
        return None

    def resolve_text(self, text: str, last_article: str = "") -> tuple[str | None, str]:
        """The first clause `text` cites (or None) and the last article in force after it:
        the context for the next paragraph of the letter."""
        found: str | None = None
        for citation in find_citations(text):
            lineage = self.resolve(citation, last_article)
            if citation.article:
                last_article = citation.article
            if found is None and lineage is not None:
                found = lineage
        return found, last_article


def _key(clause: DiffClause, by_lineage: dict[str, DiffClause]) -> Key | None:
    """(article, khoản, điểm) of an article, khoản or điểm; None for anything else."""
    if clause.kind not in ("article", "clause", "point"):
        return None
    numbers = {"article": "", "clause": "", "point": ""}
    current: DiffClause | None = clause
    while current is not None and current.kind in numbers:
        if numbers[current.kind]:
            return None  # a khoản inside a khoản: not a citable shape
        numbers[current.kind] = current.number.strip().lower()
        if current.kind == "article":
            break
        current = by_lineage.get(current.parent_lineage or "")
    if not numbers["article"]:
        return None
    return numbers["article"], numbers["clause"], numbers["point"]
