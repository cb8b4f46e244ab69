from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drafts.diffing import (
    DiffClause,
    DiffEntry,
    diff_versions,
    render_word_diff_html,
    summarise,
    word_diff,
)

# (lineage, kind, number, parent_lineage, text, title); position is the order in the tuple list.
Spec = tuple[str, str, str, str | None, str, str]


def version(*specs: Spec) -> list[DiffClause]:
    clauses = []
    for position, (lineage, kind, number, parent, text, title) in enumerate(specs):
        label = f"Điều {number}" if kind == "article" else f"khoản {number}"
        clauses.append(
            DiffClause(
                lineage=lineage,
                kind=kind,
                number=number,
                title=title,
                text=text,
                parent_lineage=parent,
                position=position,
                label=label,
            )
        )
    return clauses


def article(lineage: str, number: str, parent: str | None = "ch1", title: str = "") -> Spec:
    return (lineage, "article", number, parent, "", title or f"Tên điều {lineage}")


def khoan(lineage: str, number: str, parent: str, text: str = "") -> Spec:
    return (lineage, "clause", number, parent, text or f"Nội dung {lineage}.", "")


CHAPTER: Spec = ("ch1", "chapter", "I", None, "", "QUY ĐỊNH CHUNG")


def by_lineage(entries: list[DiffEntry]) -> dict[str, DiffEntry]:
    return {e.lineage: e for e in entries}


def texts(segments, keep: set[str]) -> str:
    return "".join(text for op, text in segments if op in keep)


def test_insertion_renumbers_following_articles_instead_of_removing_them() -> None:
    old = version(CHAPTER, article("a4", "4"), article("a5", "5"), article("a6", "6"))
    new = version(
        CHAPTER,
        article("a4", "4"),
        article("new", "5", title="Điều mới"),
        article("a5", "6"),
        article("a6", "7"),
    )

    entries = diff_versions(old, new)
    got = by_lineage(entries)

    assert [e.lineage for e in entries] == ["ch1", "a4", "new", "a5", "a6"]
    assert got["new"].changes == {"added"}
    assert got["a5"].changes == {"renumbered"}
    assert (got["a5"].old.number, got["a5"].new.number) == ("5", "6")
    assert got["a6"].changes == {"renumbered"}
    assert got["a4"].changes == set()
    assert summarise(entries) == {
        "added": 1,
        "removed": 0,
        "moved": 0,
        "renumbered": 2,
        "changed": 0,
        "unchanged": 2,
    }


def test_only_the_moved_article_is_flagged_when_it_jumps_forward() -> None:
    old = version(CHAPTER, *(article(f"a{n}", str(n)) for n in range(1, 8)))
    order = [1, 3, 4, 5, 6, 2, 7]  # Điều 2 now comes after Điều 6
    new = version(CHAPTER, *(article(f"a{n}", str(i)) for i, n in enumerate(order, start=1)))

    got = by_lineage(diff_versions(old, new))

    moved = {lineage for lineage, e in got.items() if "moved" in e.changes}
    assert moved == {"a2"}
    assert got["a2"].changes == {"moved", "renumbered"}
    assert got["a7"].changes == set()


def test_an_article_moved_to_the_front_is_the_only_one_flagged() -> None:
    old = version(CHAPTER, *(article(f"a{n}", str(n)) for n in range(1, 6)))
    new_specs = [article("a5", "5"), *(article(f"a{n}", str(n)) for n in range(1, 5))]
    new = version(CHAPTER, *new_specs)

    moved = [e.lineage for e in diff_versions(old, new) if "moved" in e.changes]

    assert moved == ["a5"]


def test_article_moved_to_another_chapter_is_moved_but_its_clauses_are_not() -> None:
    chapter2: Spec = ("ch2", "chapter", "II", None, "", "TỔ CHỨC")
    old = version(
        CHAPTER,
        article("a1", "1"),
        article("a2", "2"),
        khoan("a2k1", "1", "a2"),
        chapter2,
        article("a3", "3", parent="ch2"),
    )
    new = version(
        CHAPTER,
        article("a1", "1"),
        chapter2,
        article("a2", "2", parent="ch2"),
        khoan("a2k1", "1", "a2"),
        article("a3", "3", parent="ch2"),
    )

    got = by_lineage(diff_versions(old, new))

    assert got["a2"].changes == {"moved"}
    assert got["a2k1"].changes == set()
    assert got["a3"].changes == set()
    assert got["ch2"].changes == set()


def test_removed_article_and_its_clauses_stay_where_they_were() -> None:
    old = version(
        CHAPTER,
        article("a4", "4"),
        khoan("a4k1", "1", "a4"),
        article("a5", "5"),
        khoan("a5k1", "1", "a5"),
        khoan("a5k2", "2", "a5"),
        article("a6", "6"),
    )
    new = version(
        CHAPTER,
        article("a4", "4"),
        khoan("a4k1", "1", "a4"),
        khoan("a4k2", "2", "a4", "Khoản mới bổ sung."),
        article("a6", "5"),
    )

    entries = diff_versions(old, new)

    assert [e.lineage for e in entries] == [
        "ch1",
        "a4",
        "a4k1",
        "a4k2",
        "a5",
        "a5k1",
        "a5k2",
        "a6",
    ]
    got = by_lineage(entries)
    for lineage in ("a5", "a5k1", "a5k2"):
        assert got[lineage].changes == {"removed"}
        assert got[lineage].new is None
    assert got["a4k2"].changes == {"added"}
    assert got["a4k2"].old is None
    assert got["a6"].changes == {"renumbered"}
    counts = summarise(entries)
    assert (counts["added"], counts["removed"], counts["renumbered"]) == (1, 3, 1)


def test_removed_last_clause_goes_to_the_end_of_its_article() -> None:
    old = version(
        CHAPTER,
        article("a1", "1"),
        khoan("k1", "1", "a1"),
        khoan("k2", "2", "a1"),
        article("a2", "2"),
    )
    new = version(CHAPTER, article("a1", "1"), khoan("k1", "1", "a1"), article("a2", "2"))

    assert [e.lineage for e in diff_versions(old, new)] == ["ch1", "a1", "k1", "k2", "a2"]


def test_changed_text_has_word_segments_that_rebuild_both_sides() -> None:
    old_text = "Thời hạn góp ý là 05 ngày làm việc."
    new_text = "Thời hạn góp ý là 10 ngày làm việc, kể từ ngày nhận dự thảo."
    old = version(article("a1", "1", None), khoan("k1", "1", "a1", old_text))
    new = version(article("a1", "1", None), khoan("k1", "1", "a1", new_text))

    entry = by_lineage(diff_versions(old, new))["k1"]

    assert entry.changes == {"changed"}
    assert texts(entry.word_diff, {"equal", "delete"}) == old_text
    assert texts(entry.word_diff, {"equal", "insert"}) == new_text
    assert entry.word_diff[0] == ("equal", "Thời hạn góp ý là ")
    assert ("delete", "05") in entry.word_diff
    assert ("insert", "10") in entry.word_diff
    assert entry.title_diff == []


def test_renumbered_and_changed_together_with_title_diff() -> None:
    old = version(article("a5", "5", None, title="Nhiệm vụ của Cụm trưởng"))
    new = version(
        article("x", "5", None, title="Điều bổ sung"),
        article("a5", "6", None, title="Nhiệm vụ, quyền hạn của Cụm trưởng"),
    )

    entry = by_lineage(diff_versions(old, new))["a5"]

    assert entry.changes == {"renumbered", "changed"}
    assert entry.word_diff == []
    assert ("insert", ", quyền hạn") in entry.title_diff
    assert texts(entry.title_diff, {"equal", "insert"}) == "Nhiệm vụ, quyền hạn của Cụm trưởng"


def test_identical_versions_have_no_changes() -> None:
    specs = [CHAPTER, article("a1", "1"), khoan("k1", "1", "a1"), khoan("k2", "2", "a1")]

    entries = diff_versions(version(*specs), version(*specs))

    assert all(e.changes == set() and e.word_diff == [] for e in entries)
    assert summarise(entries)["unchanged"] == 4


def test_alignment_uses_lineage_not_list_order() -> None:
    specs = [CHAPTER, article("a1", "1"), article("a2", "2")]
    shuffled = list(reversed(version(*specs)))

    entries = diff_versions(version(*specs), shuffled)

    assert [e.lineage for e in entries] == ["ch1", "a1", "a2"]
    assert all(not e.changes for e in entries)


def test_duplicate_lineage_is_rejected_with_a_vietnamese_message() -> None:
    with pytest.raises(ValueError, match="bị trùng"):
        diff_versions(version(article("a1", "1"), article("a1", "2")), [])


def test_html_rendering_escapes_text() -> None:
    html = render_word_diff_html(
        [("equal", "a < b "), ("delete", "<x>"), ("insert", "&y"), ("equal", ".")]
    )

    assert str(html) == "a &lt; b <del>&lt;x&gt;</del><ins>&amp;y</ins>."


def test_replaced_words_read_as_one_replacement() -> None:
    assert word_diff("một hai ba", "bốn năm ba") == [
        ("delete", "một hai"),
        ("insert", "bốn năm"),
        ("equal", " ba"),
    ]


_text = st.text(
    alphabet=st.sampled_from(list("aăâbcdđeêgơưạảấ ,.;:()\n-0123456789")),
    max_size=60,
)


@given(old=_text, new=_text)
def test_segments_rebuild_old_and_new_text(old: str, new: str) -> None:
    segments = word_diff(old, new)

    assert texts(segments, {"equal", "delete"}) == old
    assert texts(segments, {"equal", "insert"}) == new
    assert all(text for _, text in segments)


@given(old=_text, new=_text)
def test_segments_never_repeat_the_same_operation_twice_in_a_row(old: str, new: str) -> None:
    ops = [op for op, _ in word_diff(old, new)]

    assert all(a != b for a, b in pairwise(ops))
