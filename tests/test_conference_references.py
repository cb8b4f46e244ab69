"""What a secretary types for a clause ("5.2", "Điều 5 khoản 2", "k2 đ5", a label from
the list) names the clause the drafts cite that way; properties over every provision."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comments.conference.minutes import MinutesOpinion, by_clause, by_speaker
from comments.conference.references import GENERAL, Reference, parse_reference, resolve
from drafts.tree import vietnamese_letter

numbers = st.integers(min_value=1, max_value=300).map(str)
amended = st.one_of(numbers, st.builds(lambda n, s: n + s, numbers, st.sampled_from("abc")))
letters = st.integers(min_value=0, max_value=20).map(vietnamese_letter)


@st.composite
def references(draw: st.DrawFn) -> Reference:
    article = draw(amended)
    clause = draw(st.none() | amended)
    point = draw(st.none() | letters) if clause else None
    return Reference(article, clause, point)


@given(references())
def test_dotted_and_cited_forms_name_the_same_provision(ref: Reference) -> None:
    assert parse_reference(ref.dotted) == ref
    assert parse_reference(ref.label) == ref
    assert parse_reference(ref.label.upper()) == ref
    words = [f"Điều {ref.article}"]
    if ref.clause:
        words.append(f"khoản {ref.clause}")
    if ref.point:
        words.append(f"điểm {ref.point}")
    assert parse_reference(" ".join(words)) == ref  # large to small, as people say it
    if ref.point != "đ":  # without diacritics "đ" is "d", another point
        ascii_words = " ".join(words).replace("Điều", "dieu").replace("khoản", "khoan")
        assert parse_reference(ascii_words.replace("điểm", "diem")) == ref


@given(st.lists(references(), min_size=1, max_size=30, unique=True), st.data())
def test_every_provision_resolves_to_its_clause(refs: list[Reference], data: st.DataObject) -> None:
    labels = {index + 1: ref.label for index, ref in enumerate(refs)}
    index = data.draw(st.integers(min_value=0, max_value=len(refs) - 1))
    ref = refs[index]
    assert resolve(ref.dotted, labels) == index + 1
    assert resolve(ref.label, labels) == index + 1
    missing = Reference("999")
    assert resolve(missing.dotted, labels) is None or missing in refs


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", GENERAL),
        ("chung", GENERAL),
        ("Ý kiến chung", GENERAL),
        ("5", Reference("5")),
        ("5.2", Reference("5", "2")),
        ("5.2.a", Reference("5", "2", "a")),
        ("7.4.đ", Reference("7", "4", "đ")),
        ("k2 đ5", Reference("5", "2")),
        ("khoản 2 Điều 5", Reference("5", "2")),
        ("Điều 5a", Reference("5a")),
        ("điểm đ khoản 4 Điều 7", Reference("7", "4", "đ")),
        ("khoản 2", None),
        ("hôm nay", None),
    ],
)
def test_examples(typed: str, expected: object) -> None:
    assert parse_reference(typed) == expected


def test_a_label_from_the_list_wins_over_reading_it():
    labels = {1: "Chương II", 2: "tiêu chí 1.1 mục I", 3: "Điều 1"}
    assert resolve("Chương II", labels) == 1
    assert resolve("tiêu chí 1.1 mục I", labels) == 2
    assert resolve("1", labels) == 3


opinions = st.builds(
    MinutesOpinion,
    speaker=st.sampled_from(["A", "B", "C"]),
    unit=st.sampled_from(["KV1", "KV2"]),
    clause_label=st.sampled_from(["", "Điều 1", "Điều 2", "khoản 1 Điều 2"]),
    text=st.text(min_size=1, max_size=5),
)


@given(st.lists(opinions, max_size=20))
def test_the_minutes_group_every_opinion_exactly_once(items: list[MinutesOpinion]) -> None:
    speakers = by_speaker(items)
    assert sorted(map(id, (o for _s, _u, group in speakers for o in group))) == sorted(
        map(id, items)
    )
    # Each speaker's opinions keep the order they were voiced in.
    for speaker, unit, group in speakers:
        assert group == [o for o in items if (o.speaker, o.unit) == (speaker, unit)]
    clauses = by_clause(items, ["Điều 1", "Điều 2", "khoản 1 Điều 2"])
    assert sorted(map(id, (o for _l, group in clauses for o in group))) == sorted(map(id, items))
    labels = [label for label, _group in clauses]
    order = ["", "Điều 1", "Điều 2", "khoản 1 Điều 2"]
    assert labels == sorted(labels, key=order.index)
