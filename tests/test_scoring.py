"""Points parsing, totals, ranking and classification."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.scoring import (
    DEFAULT_BANDS,
    Band,
    Bands,
    Criterion,
    Kind,
    RankEntry,
    ScoreError,
    Scorer,
    Totals,
    classify,
    compute_totals,
    format_points,
    parse_points,
    rank,
    table_max,
    validate_score,
)

D = Decimal

# -- parsing and formatting -----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2,5", D("2.5")),
        ("2.5", D("2.5")),
        (" 10 ", D("10")),
        ("\u00a02,5\u00a0", D("2.5")),
        ("0,125", D("0.125")),
        ("0.125", D("0.125")),
        ("12,50", D("12.5")),
        (",5", D("0.5")),
        ("-0,5", D("-0.5")),
        ("−1,5", D("-1.5")),
        ("+3", D("3")),
        ("1000", D("1000")),
        (D("1.25"), D("1.25")),
        (3, D("3")),
        (2.5, D("2.5")),
        (0.1, D("0.1")),
        (None, None),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_points_accepts(raw: object, expected: Decimal | None) -> None:
    assert parse_points(raw) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw",
    [
        "1.000",
        "12,500",
        "-1.000",
        "1.000,5",
        "1,000.5",
        "1.000.000",
        "1 000",
        "abc",
        "5.",
        ",",
        "-",
        "2,5 điểm",
        "--1",
        "1e3",
        "٣",
        True,
        float("nan"),
        float("inf"),
        D("NaN"),
        D("Infinity"),
    ],
)
def test_parse_points_rejects(raw: object) -> None:
    with pytest.raises(ScoreError) as caught:
        parse_points(raw)  # type: ignore[arg-type]
    assert isinstance(caught.value, ValueError)
    assert "số điểm" in caught.value.message or "không rõ nghĩa" in caught.value.message


def test_ambiguous_thousands_get_an_explaining_message() -> None:
    with pytest.raises(ScoreError, match="không rõ nghĩa"):
        parse_points("1.000")


@pytest.mark.parametrize(
    ("value", "text"),
    [(D("2.5"), "2,5"), (D("2.50"), "2,5"), (D("100"), "100"), (D("1E+1"), "10"),
     (D("-0.25"), "-0,25"), (D("0"), "0"), (None, "")],
)  # fmt: skip
def test_format_points_uses_a_decimal_comma(value: Decimal | None, text: str) -> None:
    assert format_points(value) == text


def test_format_and_parse_round_trip() -> None:
    for value in (D("0.25"), D("2.5"), D("17"), D("99.75")):
        assert parse_points(format_points(value)) == value


# -- a 100-point table ---------------------------------------------------------------------


def leaf(key: str, max_points: str | None, kind: Kind = Kind.CRITERION) -> Criterion:
    return Criterion(key, key, f"Tiêu chí {key}", kind, D(max_points) if max_points else None)


TREE = (
    Criterion(
        "I", "I", "Công tác chuyên môn", max_points=D(40),
        children=(leaf("1.1", "20"), leaf("1.2", "20")),
    ),
    Criterion(
        "II", "II", "Công tác xây dựng ngành", max_points=D(60),
        children=(
            leaf("2.1", "30"),
            # Its children add up to 40 but the group is worth 30: the cap applies.
            Criterion("2.2", "2.2", "Kỷ luật", max_points=D(30),
                      children=(leaf("2.2.1", "20"), leaf("2.2.2", "20"))),
        ),
    ),
    Criterion(
        "B", "III", "Điểm thưởng", Kind.BONUS, D(10),
        children=(leaf("b1", "6"), leaf("b2", "6")),
    ),
    Criterion("T", "IV", "Điểm trừ", Kind.DEDUCTION, children=(leaf("t1", None),)),
)  # fmt: skip
FULL = {"1.1": D(20), "1.2": D(18), "2.1": D(25), "2.2.1": D(20), "2.2.2": D(15)}


def test_table_max_sums_the_criterion_groups() -> None:
    assert table_max(TREE) == D(100)


def test_group_totals_are_capped_at_the_group_maximum() -> None:
    totals = compute_totals(TREE, FULL)
    assert totals.groups["2.2"] == D(30)
    assert totals.groups["II"] == D(55)
    assert totals.groups["I"] == D(38)
    assert totals.base == D(93)
    assert (totals.bonus, totals.deductions, totals.final) == (0, 0, D(93))
    assert totals.missing == ()


def test_bonus_is_capped_by_the_bonus_row() -> None:
    totals = compute_totals(TREE, {**FULL, "b1": D(6), "b2": D(5)})
    assert totals.groups["B"] == D(10)
    assert totals.bonus == D(10)
    assert totals.final == D(103)


def test_bonus_lines_count_and_the_cap_is_the_smaller_one() -> None:
    lines = [D("2.5"), D(1)]
    assert compute_totals(TREE, {**FULL, "b1": D(3)}, lines).bonus == D("6.5")
    assert compute_totals(TREE, {**FULL, "b1": D(6), "b2": D(3)}, lines).bonus == D(10)
    assert compute_totals(TREE, FULL, lines, bonus_cap=D(2)).bonus == D(2)
    assert compute_totals(TREE, FULL, lines, bonus_cap=D(50)).bonus == D("3.5")


def test_bonus_without_a_bonus_row_uses_bonus_cap_or_none() -> None:
    tree = TREE[:2]
    assert compute_totals(tree, FULL, [D(8), D(8)]).bonus == D(16)
    assert compute_totals(tree, FULL, [D(8), D(8)], bonus_cap=D(10)).bonus == D(10)


def test_negative_bonus_lines_are_rejected() -> None:
    with pytest.raises(ScoreError, match="Điểm thưởng không được âm"):
        compute_totals(TREE, FULL, [D(-1)])


def test_deductions_are_uncapped_and_sign_insensitive() -> None:
    totals = compute_totals(TREE, {**FULL, "t1": D(40)}, deduction_lines=[D("-2.5"), D("1.5")])
    assert totals.deductions == D(44)
    assert totals.final == D(93) - D(44)
    heavy = compute_totals(TREE, {**FULL, "t1": D(150)})
    assert heavy.final == D(-57)


def test_missing_leaves_are_listed_in_table_order() -> None:
    totals = compute_totals(TREE, {"1.2": D(10), "2.2.1": None, "b1": D(1)})
    assert totals.missing == ("1.1", "2.1", "2.2.1", "2.2.2")
    assert totals.base == D(10)
    assert compute_totals(TREE, {}).missing == ("1.1", "1.2", "2.1", "2.2.1", "2.2.2")


def test_compute_totals_rejects_invalid_and_unknown_scores() -> None:
    with pytest.raises(ScoreError, match=r"tiêu chí 1\.1"):
        compute_totals(TREE, {"1.1": D(21)})
    with pytest.raises(ScoreError, match="II"):
        compute_totals(TREE, {"II": D(10)})


def test_validate_score_names_the_criterion() -> None:
    criterion = leaf("1.2", "20")
    for ok in (None, D(0), D("12.5"), D(20)):
        validate_score(criterion, ok)
    with pytest.raises(ScoreError) as caught:
        validate_score(criterion, D("20.5"))
    assert caught.value.message == "Điểm của tiêu chí 1.2 từ 0 đến 20; đã nhập 20,5."
    assert caught.value.criterion_code == "1.2"
    with pytest.raises(ScoreError, match=r"tiêu chí 1\.2"):
        validate_score(criterion, D("-0.5"))
    with pytest.raises(ScoreError, match="không được âm"):
        validate_score(leaf("t1", None), D(-1))
    validate_score(leaf("t1", None), D(500))


def test_table_max_needs_every_criterion_maximum() -> None:
    with pytest.raises(ScoreError, match="điểm chuẩn"):
        table_max([Criterion("I", "I", "Nhóm", children=(leaf("1", None),))])


# -- property: totals stay within the table ---------------------------------------------------

MAXIMA = st.decimals(min_value=0, max_value=50, places=2)


@st.composite
def trees(draw: st.DrawFn) -> tuple[Criterion, ...]:
    counter = itertools.count()

    def build(depth: int, kind: Kind) -> Criterion:
        key = f"k{next(counter)}"
        if depth == 0 or draw(st.booleans()):
            return Criterion(key, key, key, kind, draw(MAXIMA))
        children = tuple(build(depth - 1, kind) for _ in range(draw(st.integers(1, 3))))
        stated = draw(st.one_of(st.none(), MAXIMA))
        return Criterion(key, key, key, kind, stated, children)

    groups = [build(2, Kind.CRITERION) for _ in range(draw(st.integers(1, 3)))]
    bonus = [build(1, Kind.BONUS) for _ in range(draw(st.integers(0, 1)))]
    return (*groups, *bonus, build(1, Kind.DEDUCTION))


@settings(deadline=None)
@given(tree=trees(), data=st.data())
def test_totals_stay_within_max_plus_bonus_cap(tree: tuple[Criterion, ...], data: st.DataObject):
    scores: dict[str, Decimal | None] = {}
    for node in tree:
        for criterion in node.leaves():
            share = data.draw(st.one_of(st.none(), st.fractions(0, 1)))
            if share is not None:
                value = criterion.max_points * D(share.numerator) / D(share.denominator)
                scores[criterion.key] = value.quantize(D("0.01"), rounding="ROUND_DOWN")
    bonus_lines = data.draw(st.lists(MAXIMA, max_size=3))
    deduction_lines = data.draw(st.lists(MAXIMA, max_size=3))
    bonus_cap = data.draw(MAXIMA)

    totals = compute_totals(tree, scores, bonus_lines, deduction_lines, bonus_cap=bonus_cap)

    assert D(0) <= totals.base <= table_max(tree)
    assert D(0) <= totals.bonus <= bonus_cap
    assert D(0) <= totals.base + totals.bonus <= table_max(tree) + bonus_cap
    assert totals.deductions >= sum(deduction_lines, D(0))
    assert totals.final == totals.base + totals.bonus - totals.deductions
    for node in tree:
        for group in node.walk():
            if not group.is_leaf and group.max_points is not None:
                assert D(0) <= totals.groups[group.key] <= group.max_points
    assert set(totals.missing) == {
        leaf.key
        for node in tree
        if node.kind is Kind.CRITERION
        for leaf in node.leaves()
        if leaf.key not in scores
    }


def reference_totals(tree, scores, bonus_lines, deduction_lines, bonus_cap):  # type: ignore[no-untyped-def]
    """The rules written as plainly as possible: a recursive sum over the tree."""
    leaves = {leaf.key: leaf for node in tree for leaf in node.leaves()}
    unknown = [key for key in scores if key not in leaves]
    if unknown:
        raise ScoreError(f"Không có tiêu chí để chấm với mã: {', '.join(unknown)}.")
    for key, value in scores.items():
        validate_score(leaves[key], value)
    groups: dict[str, Decimal] = {}

    def total(node: Criterion) -> Decimal:
        if node.is_leaf:
            return scores.get(node.key) or D(0)
        value = sum((total(child) for child in node.children), D(0))
        if node.max_points is not None:
            value = min(value, node.max_points)
        groups[node.key] = value
        return value

    by_kind = {kind: D(0) for kind in Kind}
    for node in tree:
        by_kind[node.kind] += total(node)
    for line in bonus_lines:
        if line < 0:
            raise ScoreError(f"Điểm thưởng không được âm; đã nhập {format_points(line)}.")
    bonus = by_kind[Kind.BONUS] + sum(bonus_lines, D(0))
    caps = [bonus_cap] if bonus_cap is not None else []
    rows = tuple(node for node in tree if node.kind is Kind.BONUS)
    if rows and Criterion("", "", "", Kind.BONUS, children=rows).effective_max() is not None:
        caps.append(Criterion("", "", "", Kind.BONUS, children=rows).effective_max())
    if caps:
        bonus = min(bonus, min(caps))
    deductions = by_kind[Kind.DEDUCTION] + sum((abs(line) for line in deduction_lines), D(0))
    base = by_kind[Kind.CRITERION]
    missing = tuple(
        leaf.key
        for node in tree
        if node.kind is Kind.CRITERION
        for leaf in node.leaves()
        if scores.get(leaf.key) is None
    )
    return Totals(groups, base, bonus, deductions, base + bonus - deductions, missing)


POINTS = st.one_of(
    st.none(),
    st.decimals(min_value=-1, max_value=60, places=0),
    st.decimals(min_value=-1, max_value=60, places=2),
    st.sampled_from([D(0), D("0.00"), D("2.50"), D("2.5")]),
)


@settings(deadline=None)
@given(tree=trees(), data=st.data())
def test_a_prepared_scorer_adds_up_as_the_plain_rules_do(
    tree: tuple[Criterion, ...], data: st.DataObject
) -> None:
    """One Scorer adds up many columns (a period's results) exactly as the rules read:
    the same figures with the same digits, the groups in the same order, the same error."""
    scorer = Scorer(tree)
    keys = [leaf.key for node in tree for leaf in node.leaves()]
    for _column in range(3):
        scores = {key: data.draw(POINTS) for key in keys if data.draw(st.booleans())}
        bonus_lines = data.draw(st.lists(POINTS.filter(lambda p: p is not None), max_size=2))
        deduction_lines = data.draw(st.lists(POINTS.filter(lambda p: p is not None), max_size=2))
        bonus_cap = data.draw(st.one_of(st.none(), MAXIMA))
        try:
            expected = reference_totals(tree, scores, bonus_lines, deduction_lines, bonus_cap)
        except ScoreError as error:
            with pytest.raises(ScoreError) as caught:
                scorer.totals(scores, bonus_lines, deduction_lines, bonus_cap=bonus_cap)
            assert caught.value.message == error.message
            continue
        got = scorer.totals(scores, bonus_lines, deduction_lines, bonus_cap=bonus_cap)
        assert repr(got) == repr(expected)
        assert list(got.groups) == list(expected.groups)


# -- ranking ------------------------------------------------------------------------------------


def entry(unit: str, group: str, final: str, group_one: str, dq: bool = False) -> RankEntry:
    return RankEntry(unit, group, D(final), D(group_one), dq)


def test_ties_are_broken_by_group_one() -> None:
    ranked = rank([entry("A", "north", "92", "35"), entry("B", "north", "92", "38")])
    assert [(item.entry.unit_id, item.group_rank, item.needs_vote) for item in ranked] == [
        ("B", 1, False),
        ("A", 2, False),
    ]


def test_an_unresolved_tie_shares_the_rank_and_needs_a_vote() -> None:
    ranked = rank(
        [
            entry("A", "north", "90", "35"),
            entry("B", "north", "92", "35"),
            entry("C", "north", "92", "35"),
            entry("D", "north", "88", "30"),
        ]
    )
    summary = [(i.entry.unit_id, i.group_rank, i.overall_rank, i.needs_vote) for i in ranked]
    assert summary == [
        ("B", 1, 1, True),
        ("C", 1, 1, True),
        ("A", 3, 3, False),
        ("D", 4, 4, False),
    ]


def test_ranks_per_group_and_overall() -> None:
    ranked = rank(
        [
            entry("A", "north", "80", "30"),
            entry("B", "south", "95", "38"),
            entry("C", "north", "91", "36"),
            entry("D", "south", "91", "36"),
        ]
    )
    by_unit = {item.entry.unit_id: item for item in ranked}
    assert [item.entry.unit_id for item in ranked] == ["B", "C", "D", "A"]
    assert {unit: item.group_rank for unit, item in by_unit.items()} == {
        "A": 2,
        "B": 1,
        "C": 1,
        "D": 2,
    }
    assert {unit: item.overall_rank for unit, item in by_unit.items()} == {
        "A": 4,
        "B": 1,
        "C": 2,
        "D": 2,
    }
    # C and D tie overall but are in different clusters: no cluster vote is needed.
    assert not any(item.needs_vote for item in ranked)


def test_rank_of_nothing() -> None:
    assert rank([]) == []


# -- classification -------------------------------------------------------------------------------


def classes(entries: list[RankEntry], total_max: str = "100") -> dict[str, tuple[str, bool, bool]]:
    result = classify(rank(entries), DEFAULT_BANDS, D(total_max))
    return {c.ranked.entry.unit_id: (c.band.key, c.capped, c.awaiting_vote) for c in result}


def test_default_bands_on_a_100_point_table() -> None:
    result = classes(
        [
            entry("first", "north", "96", "38"),
            entry("second", "north", "95.5", "38"),
            entry("excellent", "south", "90", "30"),
            entry("almost", "south", "89.99", "30"),
            entry("advanced", "south", "80", "30"),
            entry("completed", "south", "50", "20"),
            entry("failed", "south", "49.5", "20"),
        ]
    )
    assert result == {
        "first": ("flag", False, False),
        "second": ("excellent", False, False),  # ≥ 95 but not first in its cluster
        "excellent": ("excellent", False, False),
        "almost": ("advanced", False, False),
        "advanced": ("advanced", False, False),
        "completed": ("completed", False, False),
        "failed": ("not_completed", False, False),
    }


def test_a_tie_for_first_withholds_the_flag_until_the_vote() -> None:
    result = classes([entry("A", "north", "97", "38"), entry("B", "north", "97", "38")])
    assert result == {"A": ("excellent", False, True), "B": ("excellent", False, True)}


def test_disqualification_caps_the_band() -> None:
    result = classes(
        [
            entry("top", "north", "99", "40", dq=True),
            entry("good", "south", "85", "30", dq=True),
            entry("middle", "east", "60", "25", dq=True),
            entry("low", "west", "30", "10", dq=True),
        ]
    )
    assert result == {
        "top": ("completed", True, False),
        "good": ("completed", True, False),
        "middle": ("completed", False, False),
        "low": ("not_completed", False, False),
    }


def test_bands_scale_to_a_200_point_table() -> None:
    result = classes(
        [
            entry("flag", "north", "190", "80"),
            entry("excellent", "south", "180", "70"),
            entry("advanced", "east", "179.5", "70"),
            entry("completed", "west", "100", "40"),
            entry("failed", "centre", "99", "40"),
        ],
        total_max="200",
    )
    assert {unit: band for unit, (band, _, _) in result.items()} == {
        "flag": "flag",
        "excellent": "excellent",
        "advanced": "advanced",
        "completed": "completed",
        "failed": "not_completed",
    }


def test_bands_are_data() -> None:
    bands = Bands(
        (Band("good", "Tốt", D("0.7")), Band("weak", "Chưa tốt", D(0))),
        disqualified_cap="weak",
    )
    result = classify(rank([entry("A", "n", "75", "1"), entry("B", "n", "90", "1", dq=True)]),
                      bands, D(100))  # fmt: skip
    assert [(c.ranked.entry.unit_id, c.band.label, c.capped) for c in result] == [
        ("B", "Chưa tốt", True),
        ("A", "Tốt", False),
    ]


@pytest.mark.parametrize(
    ("bands", "cap"),
    [
        ((Band("a", "A", D("0.5")), Band("b", "B", D("0.6")), Band("c", "C", D(0))), "c"),
        ((Band("a", "A", D("0.5")), Band("b", "B", D("0.1"))), "b"),
        ((Band("a", "A", D("0.5")), Band("b", "B", D(0))), "z"),
        ((Band("a", "A", D("0.5")), Band("a", "B", D(0))), "a"),
        ((), "a"),
    ],
)
def test_inconsistent_bands_are_rejected(bands: tuple[Band, ...], cap: str) -> None:
    with pytest.raises(ScoreError):
        Bands(bands, disqualified_cap=cap)


def test_classify_needs_a_positive_total_max() -> None:
    with pytest.raises(ScoreError):
        classify(rank([entry("A", "n", "1", "1")]), DEFAULT_BANDS, D(0))
