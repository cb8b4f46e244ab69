"""Points parsing, totals, ranking and classification."""

from __future__ import annotations

from decimal import Decimal

import pytest

from workflow.scoring import (
    DEFAULT_BANDS,
    Adjustment,
    Band,
    Bands,
    Criterion,
    Kind,
    RankEntry,
    ScoreError,
    band_problems,
    classify,
    compute_totals,
    default_bands,
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


def bonus(points: str, row: str | None = None) -> Adjustment:
    return Adjustment(Kind.BONUS, D(points), row)


def deduction(points: str, row: str | None = None) -> Adjustment:
    return Adjustment(Kind.DEDUCTION, D(points), row)


def test_bonus_is_capped_by_each_row_and_by_the_bonus_rows() -> None:
    totals = compute_totals(TREE, FULL, [bonus("6", "b1"), bonus("2", "b1"), bonus("5", "b2")])
    assert totals.groups["b1"] == D(6)  # 8 filed under a 6-point row
    assert totals.groups["b2"] == D(5)
    assert totals.groups["B"] == D(10)
    assert totals.bonus == D(10)
    assert totals.final == D(103)


def test_unfiled_bonus_counts_and_the_cap_is_the_smaller_one() -> None:
    items = [bonus("2.5"), bonus("1")]
    assert compute_totals(TREE, FULL, [*items, bonus("3", "b1")]).bonus == D("6.5")
    assert compute_totals(TREE, FULL, [*items, bonus("6", "b1"), bonus("3", "b2")]).bonus == 10
    assert compute_totals(TREE, FULL, items, bonus_cap=D(2)).bonus == D(2)
    assert compute_totals(TREE, FULL, items, bonus_cap=D(50)).bonus == D("3.5")


def test_bonus_without_a_bonus_row_uses_bonus_cap_or_none() -> None:
    tree = TREE[:2]
    assert compute_totals(tree, FULL, [bonus("8"), bonus("8")]).bonus == D(16)
    assert compute_totals(tree, FULL, [bonus("8"), bonus("8")], bonus_cap=D(10)).bonus == D(10)


def test_negative_and_misfiled_items_are_rejected() -> None:
    with pytest.raises(ScoreError, match="Điểm thưởng không được âm"):
        compute_totals(TREE, FULL, [bonus("-1")])
    with pytest.raises(ScoreError, match="không có trong bảng tiêu chí"):
        compute_totals(TREE, FULL, [bonus("1", "t1")])  # a deduction row
    with pytest.raises(ScoreError, match="không có trong bảng tiêu chí"):
        compute_totals(TREE, FULL, [bonus("1", "1.1")])


def test_bonus_and_deduction_rows_are_not_scored_directly() -> None:
    with pytest.raises(ScoreError, match="từng khoản"):
        compute_totals(TREE, {**FULL, "b1": D(3)})


def test_deductions_are_uncapped() -> None:
    totals = compute_totals(TREE, FULL, [deduction("40", "t1"), deduction("2.5"), deduction("1.5")])
    assert totals.deductions == D(44)
    assert totals.final == D(93) - D(44)
    heavy = compute_totals(TREE, FULL, [deduction("150", "t1")])
    assert heavy.final == D(-57)


def test_missing_leaves_are_listed_in_table_order() -> None:
    totals = compute_totals(TREE, {"1.2": D(10), "2.2.1": None}, [bonus("1", "b1")])
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
    result = classify(rank(entries), default_bands(D(total_max)))
    return {c.ranked.entry.unit_id: (c.band.key, c.capped, c.awaiting_vote) for c in result}


def test_default_bands_on_a_100_point_table() -> None:
    assert default_bands() == DEFAULT_BANDS
    assert [band.min_points for band in DEFAULT_BANDS.bands] == [95, 90, 80, 50, 0]
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


def test_a_disqualifier_keeps_a_unit_out_of_the_no_disqualifier_bands() -> None:
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


def test_default_bands_scale_to_a_200_point_table() -> None:
    assert [band.min_points for band in default_bands(D(200)).bands] == [190, 180, 160, 100, 0]
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
        (
            Band("good", "Tốt", D("70"), no_disqualifier=True),
            Band("weak", "Chưa tốt", D(0)),
        )
    )
    result = classify(rank([entry("A", "n", "75", "1"), entry("B", "n", "90", "1", dq=True)]),
                      bands)  # fmt: skip
    assert [(c.ranked.entry.unit_id, c.band.label, c.capped) for c in result] == [
        ("B", "Chưa tốt", True),
        ("A", "Tốt", False),
    ]


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ((Band("a", "A", D(50)), Band("b", "B", D(60)), Band("c", "C", D(0))), "thấp hơn"),
        ((Band("a", "A", D(50)), Band("b", "B", D(10))), "bắt đầu từ 0"),
        ((Band("a", "A", D(50)), Band("b", "B", D(0), no_disqualifier=True)), "điều kiện"),
        ((Band("a", "A", D(50)), Band("b", "B", D(0), first_in_group_only=True)), "điều kiện"),
        ((Band("a", "A", D(50)), Band("a", "B", D(0))), "trùng mã"),
        ((Band("a", "Tốt", D(50)), Band("b", "tốt", D(0))), "trùng tên"),
        ((Band("a", " ", D(50)), Band("b", "B", D(0))), "chưa có tên"),
        ((Band("a", "A", D(-5)), Band("b", "B", D(0))), "không được âm"),
        ((), "ít nhất một mức"),
    ],
)
def test_inconsistent_bands_are_rejected(bands: tuple[Band, ...], message: str) -> None:
    with pytest.raises(ScoreError, match=message):
        Bands(bands)


def test_a_minimum_above_the_table_is_a_problem_named_for_its_band() -> None:
    bands = (Band("a", "Xuất sắc", D(120)), Band("b", "Khác", D(0)))
    problems = band_problems(bands, D(100))
    assert [(p.row, p.text) for p in problems] == [
        (0, "Điểm tối thiểu của mức “Xuất sắc” vượt tổng điểm chuẩn (100).")
    ]
