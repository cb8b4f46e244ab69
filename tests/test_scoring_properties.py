"""Properties of the scoring core, for random criteria tables and columns.

Random tables have groups and sub-criteria (codes that repeat across groups, as real
tables write them), maxima with decimals, group caps below their children's sum,
bonus and deduction rows with and without maxima, and a period bonus cap. Each
property is checked against the rules written as plainly as possible.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from workflow.scoring import (
    DEFAULT_BAND_SHARES,
    Adjustment,
    Band,
    Bands,
    Criterion,
    Kind,
    RankEntry,
    ScoreError,
    Scorer,
    carry_forward,
    classify,
    default_bands,
    format_points,
    parse_points,
    qualify_codes,
    rank,
    table_max,
    validate_score,
)

D = Decimal
POINTS = st.decimals(min_value=0, max_value=40, places=2)
ROMAN = ("I", "II", "III", "IV", "V")


# -- random tables -------------------------------------------------------------------------


@st.composite
def tables(draw: st.DrawFn) -> tuple[Criterion, ...]:
    """A table: criterion groups I, II… whose children restart at "1" (so codes repeat
    across groups), nested up to three levels; then bonus and deduction rows."""
    keys = itertools.count()

    def node(code: str, kind: Kind, depth: int) -> Criterion:
        key = f"k{next(keys)}"
        if depth == 0 or draw(st.booleans()):
            return Criterion(key, code, f"Tiêu chí {code}", kind, draw(POINTS))
        children = tuple(
            node(
                f"{code}.{number}" if draw(st.booleans()) and depth < 2 else str(number),
                kind,
                depth - 1,
            )
            for number in range(1, draw(st.integers(1, 3)) + 1)
        )
        cap = draw(st.one_of(st.none(), POINTS))  # None: the children's sum
        return Criterion(key, code, f"Nhóm {code}", kind, cap, children)

    groups = [node(ROMAN[index], Kind.CRITERION, 2) for index in range(draw(st.integers(1, 3)))]
    bonus = [
        node(code, Kind.BONUS, 1)
        for code in draw(st.lists(st.sampled_from(["A", "B", ""]), max_size=2, unique=True))
    ]
    # A bonus row without a maximum makes the bonus rows uncapped as a whole.
    bonus = [
        row if draw(st.booleans()) else Criterion(row.key, row.code, row.title, row.kind,
                                                  None, row.children)
        for row in bonus
    ]  # fmt: skip
    deductions = [node("", Kind.DEDUCTION, 1) for _ in range(draw(st.integers(0, 1)))]
    return (*groups, *bonus, *deductions)


def kind_of(tree: Sequence[Criterion]) -> dict[str, Kind]:
    return {item.key: top.kind for top in tree for item in top.walk()}


def criterion_leaves(tree: Sequence[Criterion]) -> list[Criterion]:
    return [leaf for top in tree if top.kind is Kind.CRITERION for leaf in top.leaves()]


def adjustment_rows(tree: Sequence[Criterion]) -> list[tuple[Criterion, Kind]]:
    return [(leaf, top.kind) for top in tree if top.kind is not Kind.CRITERION
            for leaf in top.leaves()]  # fmt: skip


@st.composite
def column(draw: st.DrawFn, tree: Sequence[Criterion]) -> tuple[dict, list[Adjustment]]:
    """Valid scores for some criteria, and some items filed under rows or under none."""
    scores: dict[str, Decimal | None] = {}
    for leaf in criterion_leaves(tree):
        if draw(st.booleans()):
            share = draw(st.sampled_from([D(0), D("0.25"), D("0.5"), D("0.9"), D(1)]))
            scores[leaf.key] = (leaf.max_points * share).quantize(D("0.01"))
        elif draw(st.booleans()):
            scores[leaf.key] = None
    rows = adjustment_rows(tree)
    items = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from([Kind.BONUS, Kind.DEDUCTION]))
        of_kind = [leaf.key for leaf, row_kind in rows if row_kind is kind]
        row = draw(st.sampled_from([None, *of_kind]))
        items.append(Adjustment(kind, draw(POINTS), row))
    return scores, items


# -- the rules, written plainly ------------------------------------------------------------------


def reference_totals(tree, scores, items, bonus_cap):  # type: ignore[no-untyped-def]
    """A recursive sum over the tree: groups capped, rows adding up their items."""
    filed: dict[str, Decimal] = {}
    unfiled = {Kind.BONUS: D(0), Kind.DEDUCTION: D(0)}
    for item in items:
        if item.row is None:
            unfiled[item.kind] += item.points
        else:
            filed[item.row] = filed.get(item.row, D(0)) + item.points
    kinds = kind_of(tree)
    groups: dict[str, Decimal] = {}

    def total(node: Criterion) -> Decimal:
        if node.is_leaf:
            if kinds[node.key] is Kind.CRITERION:
                return scores.get(node.key) or D(0)
            value = filed.get(node.key, D(0))
            if node.max_points is not None:
                value = min(value, node.max_points)
            groups[node.key] = value
            return value
        value = sum((total(child) for child in node.children), D(0))
        if node.max_points is not None:
            value = min(value, node.max_points)
        groups[node.key] = value
        return value

    by_kind = {kind: D(0) for kind in Kind}
    for node in tree:
        by_kind[node.kind] += total(node)
    bonus = by_kind[Kind.BONUS] + unfiled[Kind.BONUS]
    caps = [bonus_cap] if bonus_cap is not None else []
    rows = [node for node in tree if node.kind is Kind.BONUS]
    if rows and all(row.effective_max() is not None for row in rows):
        caps.append(sum((row.effective_max() for row in rows), D(0)))
    if caps:
        bonus = min(bonus, *caps)
    deductions = by_kind[Kind.DEDUCTION] + unfiled[Kind.DEDUCTION]
    base = by_kind[Kind.CRITERION]
    missing = [leaf.key for leaf in criterion_leaves(tree) if scores.get(leaf.key) is None]
    return groups, base, bonus, deductions, base + bonus - deductions, missing


@given(tree=tables(), data=st.data())
def test_each_total_is_the_capped_sum_of_its_rows(tree, data) -> None:  # type: ignore[no-untyped-def]
    """Many columns through one prepared Scorer, each equal to the plain rules."""
    scorer = Scorer(tree)
    for _ in range(3):
        scores, items = data.draw(column(tree))
        cap = data.draw(st.one_of(st.none(), POINTS))
        got = scorer.totals(scores, items, bonus_cap=cap)
        groups, base, bonus, deductions, final, missing = reference_totals(tree, scores, items, cap)
        assert dict(got.groups) == groups
        assert (got.base, got.bonus, got.deductions, got.final) == (
            base,
            bonus,
            deductions,
            final,
        )
        assert list(got.missing) == missing
        assert D(0) <= got.base <= table_max(tree)
        assert got.bonus >= 0 and (cap is None or got.bonus <= cap)


@given(tree=tables(), data=st.data())
def test_invalid_points_name_the_criterion_by_its_code(tree, data) -> None:  # type: ignore[no-untyped-def]
    qualified = qualify_codes(tree)
    leaf = data.draw(st.sampled_from(criterion_leaves(qualified)))
    too_much = leaf.max_points + data.draw(st.sampled_from([D("0.01"), D("0.5"), D(3)]))
    for wrong in (too_much, D("-0.5")):
        try:
            Scorer(qualified).totals({leaf.key: wrong})
        except ScoreError as error:
            assert error.criterion_code == leaf.code
            assert f"tiêu chí {leaf.code or leaf.title} " in error.message
        else:
            raise AssertionError("accepted points outside 0…maximum")
        validate_score(leaf, leaf.max_points)


@given(value=st.decimals(min_value=-999, max_value=999, places=2))
def test_points_written_with_a_decimal_comma_read_back_exactly(value: Decimal) -> None:
    text = format_points(value)
    assert "." not in text
    assert parse_points(text) == value


# -- columns --------------------------------------------------------------------------------------

OWN = st.dictionaries(
    st.sampled_from(["a", "b", "c", "bonus-1", "deduction-1"]),
    st.one_of(st.none(), POINTS),
    max_size=5,
)


@given(columns=st.lists(OWN, min_size=1, max_size=4))
def test_a_column_holds_its_own_values_and_carries_the_rest(columns) -> None:  # type: ignore[no-untyped-def]
    held = carry_forward(columns)
    assert len(held) == len(columns)
    for index, column in enumerate(held):
        for key in {k for own in columns for k in own}:
            stored = [own[key] for own in columns[: index + 1] if own.get(key) is not None]
            # The latest column up to this one that stored a value, else nothing.
            assert column.get(key) == (stored[-1] if stored else None)
        # What a column stored itself is never replaced by an earlier column's.
        for key, value in columns[index].items():
            if value is not None:
                assert column[key] == value
    for earlier, later, own in zip(held, held[1:], columns[1:], strict=False):
        for key, value in earlier.items():
            if own.get(key) is None:
                assert later[key] == value  # not changed by the later stage: carried as is


# -- codes ----------------------------------------------------------------------------------------


@given(tree=tables())
def test_criterion_codes_are_unique_across_the_table(tree) -> None:  # type: ignore[no-untyped-def]
    qualified = qualify_codes(tree)
    codes = [node.code for top in qualified for node in top.walk() if node.code]
    assert len(codes) == len(set(codes))
    for before, after in zip(tree, qualified, strict=True):
        pairs = list(zip(before.walk(), after.walk(), strict=True))
        assert all(old.key == new.key for old, new in pairs)
        for old, new in pairs:
            # The row's own number stays the end of its code.
            assert new.code.split(" (")[0].endswith(old.code.rsplit(".", 1)[-1])
    for top in qualified:
        for parent in top.walk():
            for child in parent.children:
                if parent.code and child.code:
                    assert child.code.startswith(parent.code + ".")


def test_two_groups_ones_read_as_their_groups() -> None:
    tree = (
        Criterion("a", "I", "Nhóm I", children=(Criterion("a1", "1", "x", max_points=D(5)),
                                                Criterion("a2", "1", "y", max_points=D(5)),
                                                Criterion("a3", "1.1", "y", max_points=D(5)))),
        Criterion("b", "II", "Nhóm II", children=(Criterion("b1", "1", "z", max_points=D(5)),)),
    )  # fmt: skip
    codes = {node.key: node.code for top in qualify_codes(tree) for node in top.walk()}
    assert codes == {
        "a": "I", "a1": "I.1", "a2": "I.1 (2)", "a3": "I.1.1", "b": "II", "b1": "II.1"
    }  # fmt: skip


# -- ranks and classification ---------------------------------------------------------------------

ENTRIES = st.lists(
    st.builds(
        RankEntry,
        unit_id=st.uuids(),
        group_id=st.sampled_from(["Cụm 1", "Cụm 2", "Khối"]),
        final_total=st.sampled_from([D(0), D(49.5), D(50), D("80.25"), D(90), D(95), D(99)]),
        group_one_total=st.sampled_from([D(30), D(35), D(40)]),
        disqualified=st.booleans(),
    ),
    max_size=12,
)


def better(a: RankEntry, b: RankEntry) -> bool:
    return (a.final_total, a.group_one_total) > (b.final_total, b.group_one_total)


def same(a: RankEntry, b: RankEntry) -> bool:
    return (a.final_total, a.group_one_total) == (b.final_total, b.group_one_total)


@given(entries=ENTRIES)
def test_ranks_follow_totals_then_group_one_and_ties_share(entries) -> None:  # type: ignore[no-untyped-def]
    ranked = rank(entries)
    assert sorted(id(item.entry) for item in ranked) == sorted(id(entry) for entry in entries)
    for item in ranked:
        me = item.entry
        mates = [other for other in entries if other.group_id == me.group_id]
        assert item.overall_rank == 1 + sum(better(other, me) for other in entries)
        assert item.group_rank == 1 + sum(better(other, me) for other in mates)
        assert item.needs_vote == (sum(same(other, me) for other in mates) > 1)
    order = [item.entry for item in ranked]
    assert all(not better(b, a) for a, b in itertools.pairwise(order))


BANDS = st.lists(
    st.tuples(st.integers(1, 100), st.booleans(), st.booleans()),
    min_size=1,
    max_size=5,
    unique_by=lambda band: band[0],
).map(
    lambda raw: Bands(
        (
            *(
                Band(f"b{index}", f"Mức {index}", D(minimum), first, clean)
                for index, (minimum, first, clean) in enumerate(sorted(raw, reverse=True))
            ),
            Band("last", "Mức cuối", D(0)),
        )
    )
)


def expected_band(bands: Bands, item) -> tuple[int, bool]:  # type: ignore[no-untyped-def]
    awaiting = False
    for index, band in enumerate(bands.bands):
        reaches = item.entry.final_total >= band.min_points
        allowed = not (band.no_disqualifier and item.entry.disqualified)
        if reaches and allowed and band.first_in_group_only and item.group_rank == 1:
            if item.needs_vote:
                awaiting = True
                continue
            return index, awaiting
        if reaches and allowed and not band.first_in_group_only:
            return index, awaiting
    raise AssertionError("the last band takes everyone")


@given(entries=ENTRIES, bands=BANDS)
def test_classification_is_the_band_lookup_with_its_conditions(entries, bands) -> None:  # type: ignore[no-untyped-def]
    for result in classify(rank(entries), bands):
        index, awaiting = expected_band(bands, result.ranked)
        assert result.band == bands.bands[index]
        assert result.awaiting_vote == awaiting
        clean = RankEntry(**{**result.ranked.entry.__dict__, "disqualified": False})
        unrestricted, _ = expected_band(
            bands, type(result.ranked)(clean, result.ranked.group_rank,
                                       result.ranked.overall_rank, result.ranked.needs_vote)
        )  # fmt: skip
        assert result.capped == (index > unrestricted)
        assert (
            result.ranked.entry.final_total >= result.band.min_points
            or index == len(bands.bands) - 1
        )


@given(total=st.integers(1, 4000).map(lambda n: D(n) / 4))
def test_default_bands_fit_any_table_total(total: Decimal) -> None:
    """Any table total (quarter points) gets the usual bands: each asks for at least its
    share of the total, in points with two decimals, and reads back from its own text."""
    bands = default_bands(total)
    for band, (_key, _label, share, _first, _clean) in zip(
        bands.bands, DEFAULT_BAND_SHARES, strict=True
    ):
        assert share * total <= band.min_points < share * total + D("0.01")
        assert parse_points(format_points(band.min_points)) == band.min_points
