"""Citations in a unit's letter resolve to the clauses of the version: "điểm a khoản 2
Điều 5", "Điều 7", and "khoản 3" read in the last article cited."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from drafts.citations import CitationIndex, find_citations
from drafts.tree import FlatClause, citation_labels
from tests.unitfiles import regulation

CLAUSES = regulation([[2, 0], [0, 3, 1], [], [1]], lead_points=[0, 0, 2, 0])
BY_LABEL = {c.label: c.lineage for c in CLAUSES}


def test_citations_are_found_as_written() -> None:
    found = [
        c.text
        for c in find_citations(
            "Đề nghị sửa điểm a khoản 2 Điều 5; bỏ Điều 7. Tại khoản 3, điểm đ, khoản 4 của "
            "Điều 10a thì Điều kiện chưa rõ."
        )
    ]
    assert found == ["điểm a khoản 2 Điều 5", "Điều 7", "khoản 3", "điểm đ khoản 4 Điều 10a"]


def test_a_citation_resolves_to_its_clause_and_without_article_to_the_last_one() -> None:
    index = CitationIndex(CLAUSES)

    assert (
        index.resolve_text("Đề nghị sửa điểm b khoản 2 Điều 2")[0]
        == BY_LABEL["điểm b khoản 2 Điều 2"]
    )
    lineage, last = index.resolve_text("Tại Điều 1 cần nêu rõ đối tượng.")
    assert (lineage, last) == (BY_LABEL["Điều 1"], "1")
    # "khoản 2" in the next paragraph is khoản 2 of Điều 1, the last article cited.
    assert index.resolve_text("Khoản 2 nên gộp với khoản 1.", last)[0] == BY_LABEL["khoản 2 Điều 1"]
    # A point directly under an article.
    assert index.resolve_text("điểm b Điều 3")[0] == BY_LABEL["điểm b Điều 3"]
    # A point the article lacks: the nearest provision above it.
    assert index.resolve_text("điểm k khoản 1 Điều 4")[0] == BY_LABEL["khoản 1 Điều 4"]
    # Nothing to read "khoản 2" in; an article the draft does not have.
    assert index.resolve_text("khoản 2 chưa rõ")[0] is None
    assert index.resolve_text("Điều 99 mới")[0] is None


def _written(label: str, upper: bool, commas: bool) -> str:
    """A citation as a letter may write it: capitals, commas or "của" between the parts."""
    words = label.split(" ")
    parts = [" ".join(words[i : i + 2]) for i in range(0, len(words), 2)]
    if upper:
        parts = [p[:1].upper() + p[1:] for p in parts]
    return (", " if commas else " ").join(parts)


@st.composite
def drafts_and_a_clause(draw):  # type: ignore[no-untyped-def]
    shape = draw(st.lists(st.lists(st.integers(0, 12), max_size=6), min_size=1, max_size=15))
    lead = draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape)))
    clauses = regulation(shape, lead)
    clause = draw(st.sampled_from(clauses))
    return clauses, clause


@given(
    drafts_and_a_clause(),
    st.booleans(),
    st.booleans(),
    st.sampled_from(["Đề nghị sửa ", "Tại ", "", "(1) Về "]),
    st.sampled_from([" như sau: bỏ cụm từ “thi đua”.", ".", " chưa phù hợp", ""]),
)
def test_any_citation_of_an_existing_clause_resolves_back_to_it(
    draft_and_clause, upper, commas, before, after
) -> None:  # type: ignore[no-untyped-def]
    clauses, clause = draft_and_clause
    index = CitationIndex(clauses)
    sentence = before + _written(clause.label, upper, commas) + after

    assert index.resolve_text(sentence)[0] == clause.lineage


@given(drafts_and_a_clause(), st.booleans())
def test_a_citation_without_its_article_resolves_in_the_article_cited_before(
    draft_and_clause, upper
) -> None:  # type: ignore[no-untyped-def]
    clauses, clause = draft_and_clause
    index = CitationIndex(clauses)
    article = clause.label.rsplit(" ", 1)[-1]  # every label ends with its article's number
    _lineage, last = index.resolve_text(f"Về Điều {article}:")
    relative = " ".join(clause.label.split(" ")[:-2]) or f"Điều {article}"

    assert index.resolve_text(_written(relative, upper, False) + " cần sửa.", last)[0] == (
        clause.lineage
    )


def test_labels_used_above_are_the_version_labels() -> None:
    rows = [
        FlatClause(1, None, 0, "article", "5", lineage="a"),
        FlatClause(2, 1, 1, "clause", "2", lineage="b"),
        FlatClause(3, 2, 2, "point", "a", lineage="c"),
    ]
    assert list(citation_labels(rows).values()) == [
        "Điều 5",
        "khoản 2 Điều 5",
        "điểm a khoản 2 Điều 5",
    ]
