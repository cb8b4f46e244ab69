"""Points, totals, ranking and classification for criteria tables (pure).

:func:`compute_totals` is the one function that adds up a score sheet; pages,
exports and ranking all call it (or :meth:`Scorer.totals`, the same code with the
tree prepared once for many sheets), so a total is the same everywhere.

Decisions worth knowing:

* Input uses a decimal comma ("2,5") but a decimal point ("2.5") is accepted too,
  because values pasted from spreadsheets often carry one. Thousands separators
  are never accepted: criteria points stay below 1,000, and "1.000" or "2,500"
  could be read either way, so such input is rejected rather than guessed.
* Classification bands are fractions of the table's total maximum (0.95, 0.90,
  0.80, 0.50 by default), so the same bands serve 100-, 200- and 1,000-point
  tables. Bands are half-open: a band covers [its minimum, the next band's
  minimum).
* Kind (criterion, bonus, deduction) is read from the top-level rows; their
  descendants inherit it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Any

from accounts.i18n import N_

ZERO = Decimal(0)
_UNCAPPED = Decimal("Infinity")


class ScoreError(ValueError):
    """Invalid points; ``message`` is Vietnamese and safe to show to users."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.criterion_code = code


# -- reading and writing points ------------------------------------------------

_POINTS = re.compile(r"(?P<sign>[+\-−]?)(?P<whole>\d*)(?:[.,](?P<fraction>\d+))?", re.ASCII)
# One separator followed by exactly three digits after a non-zero whole part
# looks like a thousands group ("1.000", "12,500"); refuse to guess.
_AMBIGUOUS = re.compile(r"[+\-−]?[1-9]\d{0,2}[.,]\d{3}", re.ASCII)


def parse_points(value: str | Decimal | int | float | None) -> Decimal | None:
    """Points from user input or a spreadsheet cell; ``None`` for an empty value.

    Accepts "2,5", "2.5", " 10 ", "-0,5" and numbers. Rejects thousands
    separators and ambiguous forms such as "1.000" with :class:`ScoreError`.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ScoreError(f"“{value}” không phải là số điểm.")
    if isinstance(value, Decimal | int | float):
        return _finite(Decimal(str(value)) if isinstance(value, float) else Decimal(value), value)
    text = value.replace("\u00a0", " ").strip()
    if not text:
        return None
    match = _POINTS.fullmatch(text)
    if match is None or not (match["whole"] or match["fraction"]):
        raise ScoreError(
            f"“{text}” không phải là số điểm hợp lệ. Dùng dấu phẩy cho phần thập phân, ví dụ 2,5."
        )
    if _AMBIGUOUS.fullmatch(text):
        raise ScoreError(
            f"“{text}” không rõ nghĩa (phần nghìn hay phần thập phân?). "
            "Không dùng dấu phân cách hàng nghìn; ví dụ viết 1000 hoặc 1,5."
        )
    whole, fraction = match["whole"] or "0", match["fraction"]
    number = Decimal(f"{whole}.{fraction}" if fraction else whole)
    return -number if match["sign"] in ("-", "−") else number


def _finite(number: Decimal, original: Any) -> Decimal:
    if not number.is_finite():
        raise ScoreError(f"“{original}” không phải là số điểm.")
    return number


def format_points(value: Decimal | None) -> str:
    """Points for display with a decimal comma: "2,5", "10", "-0,25" ("" for ``None``)."""
    if value is None:
        return ""
    normalized = value.normalize()
    if normalized == normalized.to_integral_value():
        normalized = normalized.quantize(Decimal(1))
    return format(normalized, "f").replace(".", ",")


# -- the criteria tree -----------------------------------------------------------


class Kind(StrEnum):
    CRITERION = "criterion"
    BONUS = "bonus"
    DEDUCTION = "deduction"


@dataclass(frozen=True)
class Criterion:
    """A row of a criteria table; leaves are scored, groups add up their children."""

    key: str
    code: str
    title: str
    kind: Kind = Kind.CRITERION
    max_points: Decimal | None = None
    children: tuple[Criterion, ...] = ()

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self) -> Iterator[Criterion]:
        yield self
        for child in self.children:
            yield from child.walk()

    def leaves(self) -> Iterator[Criterion]:
        return (node for node in self.walk() if node.is_leaf)

    def effective_max(self) -> Decimal | None:
        """The stated maximum, else the sum of the children's (``None``: uncapped)."""
        if self.max_points is not None:
            return self.max_points
        if self.is_leaf:
            return None
        total = ZERO
        for child in self.children:
            child_max = child.effective_max()
            if child_max is None:
                return None
            total += child_max
        return total


def table_max(tree: Sequence[Criterion]) -> Decimal:
    """The table's total maximum: the sum of the top-level criterion groups' maxima."""
    total = ZERO
    for node in tree:
        if node.kind is Kind.CRITERION:
            node_max = node.effective_max()
            if node_max is None:
                raise ScoreError(f"Tiêu chí {node.code} chưa có điểm chuẩn.", code=node.code)
            total += node_max
    return total


def validate_score(criterion: Criterion, value: Decimal | None) -> None:
    """Raise :class:`ScoreError` unless 0 ≤ value ≤ the criterion's maximum.

    ``None`` (not scored yet) is valid. Bonus and deduction rows take magnitudes,
    so they follow the same rule.
    """
    if value is None:
        return
    upper = criterion.effective_max()
    if value < 0 or (upper is not None and value > upper):
        bounds = f"từ 0 đến {format_points(upper)}" if upper is not None else "không được âm"
        raise ScoreError(
            f"Điểm của tiêu chí {criterion.code} {bounds}; đã nhập {format_points(value)}.",
            code=criterion.code,
        )


@dataclass(frozen=True)
class Totals:
    """Every figure of a score sheet."""

    groups: Mapping[str, Decimal]  # each non-leaf row's key -> its (capped) total
    base: Decimal  # sum of the top-level criterion rows
    bonus: Decimal  # after the cap
    deductions: Decimal  # uncapped
    final: Decimal  # base + bonus - deductions
    missing: tuple[str, ...]  # keys of criterion leaves without a score, in table order


def compute_totals(
    criteria_tree: Sequence[Criterion],
    scores: Mapping[str, Decimal | None],
    bonus_lines: Sequence[Decimal] = (),
    deduction_lines: Sequence[Decimal] = (),
    *,
    bonus_cap: Decimal | None = None,
) -> Totals:
    """Totals for one column of a sheet (self, cluster or verified scores).

    A group's total is the sum of its children, capped at the group's maximum.
    Bonus is the bonus rows plus ``bonus_lines``, capped at the smaller of the
    bonus rows' maximum and ``bonus_cap``. Deductions are the deduction rows plus
    ``deduction_lines``, uncapped; a deduction written as "-0,5" or "0,5" subtracts
    0,5 either way. Leaf scores are validated (:class:`ScoreError`).

    To add up many columns over one tree, build a :class:`Scorer` once and call
    :meth:`Scorer.totals`: this function does exactly that.
    """
    return Scorer(criteria_tree).totals(scores, bonus_lines, deduction_lines, bonus_cap=bonus_cap)


class Scorer:
    """A criteria tree prepared once, so that adding up many columns (a period's
    results: every sheet times every stage) does not walk the tree each time.

    :meth:`totals` is the only implementation of the rules :func:`compute_totals`
    documents.
    """

    def __init__(self, criteria_tree: Sequence[Criterion]) -> None:
        self.tree = tuple(criteria_tree)
        self._leaves = {leaf.key: leaf for node in self.tree for leaf in node.leaves()}
        self._upper = {
            key: _UNCAPPED if leaf.max_points is None else leaf.max_points
            for key, leaf in self._leaves.items()
        }
        self._criterion_leaves = tuple(
            leaf.key for node in self.tree if node.kind is Kind.CRITERION for leaf in node.leaves()
        )
        # Groups in post-order (children before their parent), each as
        # (key, its leaf children's keys, its group children's keys, stated cap).
        groups: list[tuple[str, tuple[str, ...], tuple[str, ...], Decimal | None]] = []

        def visit(node: Criterion) -> None:
            for child in node.children:
                if not child.is_leaf:
                    visit(child)
            leaves = tuple(child.key for child in node.children if child.is_leaf)
            subgroups = tuple(child.key for child in node.children if not child.is_leaf)
            groups.append((node.key, leaves, subgroups, node.max_points))

        for node in self.tree:
            if not node.is_leaf:
                visit(node)
        self._groups = tuple(groups)
        self._top = tuple(
            (
                kind,
                tuple(node.key for node in self.tree if node.kind is kind and node.is_leaf),
                tuple(node.key for node in self.tree if node.kind is kind and not node.is_leaf),
            )
            for kind in Kind
        )
        self._rows_cap = _bonus_cap(self.tree, None)

    def totals(
        self,
        scores: Mapping[str, Decimal | None],
        bonus_lines: Sequence[Decimal] = (),
        deduction_lines: Sequence[Decimal] = (),
        *,
        bonus_cap: Decimal | None = None,
    ) -> Totals:
        """Totals for one column; see :func:`compute_totals`."""
        leaves = self._leaves
        if not leaves.keys() >= scores.keys():
            unknown = [key for key in scores if key not in leaves]
            raise ScoreError(f"Không có tiêu chí để chấm với mã: {', '.join(map(str, unknown))}.")
        upper = self._upper
        for key, value in scores.items():
            if value is not None and not ZERO <= value <= upper[key]:
                validate_score(leaves[key], value)  # raises, naming the criterion

        # Sums of points (a few digits each) are exact: the order of the terms does
        # not matter. filter(None, …) skips unscored leaves and zeros, which add nothing.
        get = scores.get
        groups: dict[str, Decimal] = {}
        for key, leaf_keys, subgroups, cap in self._groups:
            total = sum(filter(None, map(get, leaf_keys)), ZERO)
            for child in subgroups:
                total += groups[child]
            if cap is not None:
                total = min(total, cap)
            groups[key] = total
        by_kind: dict[Kind, Decimal] = {}
        for kind, leaf_keys, subgroups in self._top:
            by_kind[kind] = sum(filter(None, map(get, leaf_keys)), ZERO) + sum(
                map(groups.__getitem__, subgroups), ZERO
            )

        bonus_extra = sum((_non_negative(line, "Điểm thưởng") for line in bonus_lines), ZERO)
        bonus = by_kind[Kind.BONUS] + bonus_extra
        cap = self._rows_cap
        if bonus_cap is not None:
            cap = bonus_cap if cap is None else min(bonus_cap, cap)
        if cap is not None:
            bonus = min(bonus, cap)
        deductions = by_kind[Kind.DEDUCTION] + sum((abs(line) for line in deduction_lines), ZERO)
        base = by_kind[Kind.CRITERION]
        missing = tuple(key for key in self._criterion_leaves if get(key) is None)
        return Totals(groups, base, bonus, deductions, base + bonus - deductions, missing)


def _bonus_cap(tree: Sequence[Criterion], bonus_cap: Decimal | None) -> Decimal | None:
    caps = [bonus_cap] if bonus_cap is not None else []
    bonus_rows = [node for node in tree if node.kind is Kind.BONUS]
    if bonus_rows:
        # The rows' own maximum caps the bonus only when every bonus row states one.
        rows_cap = Criterion("", "", "", Kind.BONUS, children=tuple(bonus_rows)).effective_max()
        if rows_cap is not None:
            caps.append(rows_cap)
    return min(caps) if caps else None


def _non_negative(value: Decimal, what: str) -> Decimal:
    if value < 0:
        raise ScoreError(f"{what} không được âm; đã nhập {format_points(value)}.")
    return value


# -- ranking -----------------------------------------------------------------------


@dataclass(frozen=True)
class RankEntry:
    unit_id: Any
    group_id: Any  # the cluster or block
    final_total: Decimal
    group_one_total: Decimal  # total of criteria group I, the first tie-breaker
    disqualified: bool = False


@dataclass(frozen=True)
class RankedEntry:
    entry: RankEntry
    group_rank: int  # 1 = first in its cluster or block
    overall_rank: int
    needs_vote: bool  # tied in its group even after group I: the cluster votes


def rank(entries: Sequence[RankEntry]) -> list[RankedEntry]:
    """Rank by final total, then group I total; remaining ties share a rank.

    Ranks are "1, 2, 2, 4" style and the output is in overall order. Disqualified
    units are ranked by score like everyone else: disqualification limits their
    classification, not their position.
    """
    overall = _competition_ranks(entries, range(len(entries)))
    by_group: dict[Any, list[int]] = {}
    for position, entry in enumerate(entries):
        by_group.setdefault(entry.group_id, []).append(position)
    in_group: dict[int, int] = {}
    for members in by_group.values():
        in_group.update(_competition_ranks(entries, members))
    shared = Counter((entries[position].group_id, value) for position, value in in_group.items())
    order = sorted(range(len(entries)), key=lambda position: _sort_key(entries[position]))
    return [
        RankedEntry(
            entries[position],
            group_rank=in_group[position],
            overall_rank=overall[position],
            needs_vote=shared[(entries[position].group_id, in_group[position])] > 1,
        )
        for position in order
    ]


def _sort_key(entry: RankEntry) -> tuple[Decimal, Decimal]:
    return (-entry.final_total, -entry.group_one_total)


def _competition_ranks(entries: Sequence[RankEntry], members: Iterable[int]) -> dict[int, int]:
    """Rank of each member (a position in ``entries``) among ``members``."""
    ranks: dict[int, int] = {}
    previous: tuple[Decimal, Decimal] | None = None
    current = 0
    ordered = sorted(members, key=lambda position: _sort_key(entries[position]))
    for place, position in enumerate(ordered, start=1):
        key = _sort_key(entries[position])
        if key != previous:
            current, previous = place, key
        ranks[position] = current
    return ranks


# -- classification -----------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    min_fraction: Decimal  # inclusive lower bound, as a fraction of the table's maximum
    first_in_group_only: bool = False  # e.g. the Cờ thi đua proposal


@dataclass(frozen=True)
class Bands:
    """Classification rules (they vary by agency and year, so they are data)."""

    bands: tuple[Band, ...]  # highest first; the last has min_fraction 0
    disqualified_cap: str  # key of the highest band a disqualified unit may get

    def __post_init__(self) -> None:
        fractions = [band.min_fraction for band in self.bands]
        if not self.bands or fractions[-1] != 0:
            raise ScoreError("Bảng xếp loại phải có mức thấp nhất bắt đầu từ 0.")
        if any(high <= low for high, low in pairwise(fractions)):
            raise ScoreError("Các mức xếp loại phải xếp từ cao xuống thấp, không trùng ngưỡng.")
        keys = [band.key for band in self.bands]
        if len(set(keys)) != len(keys) or self.disqualified_cap not in keys:
            raise ScoreError("Mã mức xếp loại trùng nhau hoặc mức giới hạn không tồn tại.")

    def index(self, key: str) -> int:
        return [band.key for band in self.bands].index(key)


# The labels are marked for the catalogue: a period keeps its own copy of its bands, and
# pages translate the ones that are still these defaults (exports print them as stored).
DEFAULT_BANDS = Bands(
    bands=(
        Band("flag", N_("Xuất sắc, đề nghị Cờ thi đua"), Decimal("0.95"), first_in_group_only=True),
        Band("excellent", N_("Tập thể lao động xuất sắc"), Decimal("0.90")),
        Band("advanced", N_("Tập thể lao động tiên tiến"), Decimal("0.80")),
        Band("completed", N_("Hoàn thành nhiệm vụ"), Decimal("0.50")),
        Band("not_completed", N_("Không hoàn thành nhiệm vụ"), ZERO),
    ),
    disqualified_cap="completed",
)


@dataclass(frozen=True)
class Classified:
    ranked: RankedEntry
    band: Band
    capped: bool = False  # lowered because the unit is disqualified
    awaiting_vote: bool = False  # a first-only band is withheld until the cluster vote


def classify(
    ranked: Sequence[RankedEntry], bands: Bands = DEFAULT_BANDS, total_max: Decimal = Decimal(100)
) -> list[Classified]:
    """The band for each ranked unit.

    A first-only band goes to a unit ranked first in its group with no
    unresolved tie; a unit tied for first gets the next band it qualifies for
    and ``awaiting_vote=True``. Disqualified units get at most
    ``bands.disqualified_cap``.
    """
    if total_max <= 0:
        raise ScoreError("Tổng điểm tối đa của bảng tiêu chí phải lớn hơn 0.")
    cap_index = bands.index(bands.disqualified_cap)
    results = []
    for item in ranked:
        fraction = item.entry.final_total / total_max
        index, awaiting = _score_band(bands, item, fraction)
        capped = item.entry.disqualified and index < cap_index
        if capped:
            index = cap_index
        results.append(Classified(item, bands.bands[index], capped, awaiting and not capped))
    return results


def _score_band(bands: Bands, item: RankedEntry, fraction: Decimal) -> tuple[int, bool]:
    awaiting = False
    for index, band in enumerate(bands.bands):
        if fraction < band.min_fraction:
            continue
        if band.first_in_group_only:
            if item.group_rank != 1:
                continue
            if item.needs_vote:
                awaiting = True
                continue
        return index, awaiting
    return len(bands.bands) - 1, awaiting
