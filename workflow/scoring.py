"""Points, totals, ranking and classification for criteria tables (pure).

:func:`compute_totals` is the one function that adds up one column of a score
sheet; pages, exports, mails and ranking all call it (or :meth:`Scorer.totals`,
the same code with the tree prepared once for many sheets), so a total is the
same everywhere. :func:`carry_forward` is the one rule for what a column holds.

Decisions worth knowing:

* Input uses a decimal comma ("2,5") but a decimal point ("2.5") is accepted too,
  because values pasted from spreadsheets often carry one. Thousands separators
  are never accepted: criteria points stay below 1,000, and "1.000" or "2,500"
  could be read either way, so such input is rejected rather than guessed.
* A later column starts as a copy of the one before it: a value a reviewer does
  not change is carried over unchanged (:func:`carry_forward`). A reviewer who
  leaves the bonus alone therefore keeps it, instead of silently scoring it 0.
* Bonus and deduction points are *adjustments*: items with a reason ("Bằng khen
  của UBND tỉnh"), each filed under a bonus or deduction row of the table (or
  under none when the table has no such row). The rows are never scored
  directly; a row's total is the sum of its items, capped at its maximum.
* Criterion codes are qualified with their parents' (:func:`qualify_codes`), so
  two groups' "1" read "I.1" and "II.1" wherever a code is shown.
* Classification bands hold a minimum in points and two conditions: "first in its
  Cụm/Khối" and "no disqualifier". Bands are half-open: a band covers
  [its minimum, the next band's minimum).
* Kind (criterion, bonus, deduction) is read from the top-level rows; their
  descendants inherit it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_CEILING, Decimal
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


# -- the criteria tree -------------------------------------------------------------


class Kind(StrEnum):
    CRITERION = "criterion"
    BONUS = "bonus"
    DEDUCTION = "deduction"


KIND_NOUNS = {Kind.BONUS: "Điểm thưởng", Kind.DEDUCTION: "Điểm trừ"}


@dataclass(frozen=True)
class Criterion:
    """A row of a criteria table; leaves are scored, groups add up their children.

    A leaf under a top-level bonus or deduction row is not scored: it adds up the
    adjustments filed under it.
    """

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


def qualify_codes(tree: Sequence[Criterion]) -> tuple[Criterion, ...]:
    """The tree with every code unique across the table.

    A child's code is prefixed with its parent's: "1" under "II" reads "II.1", and
    "1.2" under "1" under "I" reads "I.1.2" (the parent's own number is not repeated).
    A code that would still repeat gets " (2)", " (3)"… . An empty code stays empty:
    such a row is named by its title.
    """
    taken: set[str] = set()

    def unique(code: str) -> str:
        if not code:
            return code
        candidate, number = code, 1
        while candidate in taken:
            number += 1
            candidate = f"{code} ({number})"
        taken.add(candidate)
        return candidate

    def visit(node: Criterion, parent_raw: str, parent_full: str) -> Criterion:
        raw = node.code.strip()
        if not raw or not parent_full:
            full = raw
        elif parent_raw and raw.startswith(parent_raw + "."):
            full = parent_full + raw[len(parent_raw) :]
        else:
            full = f"{parent_full}.{raw}"
        full = unique(full)
        children = tuple(
            visit(child, raw or parent_raw, full or parent_full) for child in node.children
        )
        return replace(node, code=full, children=children)

    return tuple(visit(node, "", "") for node in tree)


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

    ``None`` (not scored yet) is valid. An adjustment's points are checked the same
    way against the row it is filed under: one item never exceeds its row.
    """
    if value is None:
        return
    upper = criterion.effective_max()
    if value < 0 or (upper is not None and value > upper):
        bounds = f"từ 0 đến {format_points(upper)}" if upper is not None else "không được âm"
        name = criterion.code or criterion.title
        raise ScoreError(
            f"Điểm của tiêu chí {name} {bounds}; đã nhập {format_points(value)}.",
            code=criterion.code,
        )


@dataclass(frozen=True)
class Adjustment:
    """One bonus or deduction item in one column.

    ``points`` is a magnitude (a deduction of 0,5 is 0,5); ``row`` is the key of the
    table's bonus or deduction row it is filed under, or ``None`` when the table has
    no row of its kind (the period's bonus cap still applies).
    """

    kind: Kind
    points: Decimal
    row: str | None = None


@dataclass(frozen=True)
class Totals:
    """Every figure of one column of a score sheet."""

    # Each row that adds up others -> its capped total: a group (its children), or a
    # bonus or deduction row (the items filed under it).
    groups: Mapping[str, Decimal]
    base: Decimal  # sum of the top-level criterion rows
    bonus: Decimal  # after the caps
    deductions: Decimal  # capped only per row, never as a whole
    final: Decimal  # base + bonus - deductions
    missing: tuple[str, ...]  # keys of criterion leaves without a score, in table order


def compute_totals(
    criteria_tree: Sequence[Criterion],
    scores: Mapping[str, Decimal | None],
    adjustments: Sequence[Adjustment] = (),
    *,
    bonus_cap: Decimal | None = None,
) -> Totals:
    """Totals for one column of a sheet (self, cluster or verified).

    ``scores`` holds the criterion leaves' points (validated, :class:`ScoreError`).
    A group's total is the sum of its children, capped at the group's maximum. A bonus
    or deduction row's total is the sum of the adjustments filed under it, capped at
    the row's maximum. Bonus is the bonus rows plus unfiled bonus items, capped at the
    smaller of the bonus rows' maximum and ``bonus_cap``. Deductions are the deduction
    rows plus unfiled deduction items.

    To add up many columns over one tree, build a :class:`Scorer` once and call
    :meth:`Scorer.totals`: this function does exactly that.
    """
    return Scorer(criteria_tree).totals(scores, adjustments, bonus_cap=bonus_cap)


class Scorer:
    """A criteria tree prepared once, so that adding up many columns (a period's
    results: every sheet times every stage) does not walk the tree each time.

    :meth:`totals` is the only implementation of the rules :func:`compute_totals`
    documents.
    """

    def __init__(self, criteria_tree: Sequence[Criterion]) -> None:
        self.tree = tuple(criteria_tree)
        # A row's kind is its top-level row's: a bonus group's children are bonus rows.
        leaf_kinds = [(leaf, node.kind) for node in self.tree for leaf in node.leaves()]
        self._leaves = {leaf.key: leaf for leaf, kind in leaf_kinds if kind is Kind.CRITERION}
        self._rows = {
            leaf.key: (leaf, kind) for leaf, kind in leaf_kinds if kind is not Kind.CRITERION
        }
        self._upper = {
            key: _UNCAPPED if leaf.max_points is None else leaf.max_points
            for key, leaf in self._leaves.items()
        }
        self._criterion_leaves = tuple(self._leaves)
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

    def row(self, key: str) -> Criterion | None:
        """The bonus or deduction row ``key`` (None: no such row)."""
        found = self._rows.get(key)
        return None if found is None else found[0]

    def totals(
        self,
        scores: Mapping[str, Decimal | None],
        adjustments: Sequence[Adjustment] = (),
        *,
        bonus_cap: Decimal | None = None,
    ) -> Totals:
        """Totals for one column; see :func:`compute_totals`."""
        leaves = self._leaves
        if not leaves.keys() >= scores.keys():
            unknown = [key for key in scores if key not in leaves]
            if any(key in self._rows for key in unknown):
                raise ScoreError(
                    "Điểm thưởng, điểm trừ không chấm trực tiếp trên dòng của bảng tiêu chí; "
                    "hãy nhập từng khoản kèm lý do."
                )
            raise ScoreError(f"Không có tiêu chí để chấm với mã: {', '.join(map(str, unknown))}.")
        upper = self._upper
        for key, value in scores.items():
            if value is not None and not ZERO <= value <= upper[key]:
                validate_score(leaves[key], value)  # raises, naming the criterion

        # Sums of points (a few digits each) are exact: the order of the terms does
        # not matter. Unscored leaves and zeros add nothing.
        values: dict[str, Decimal] = {key: value for key, value in scores.items() if value}
        unfiled = {Kind.BONUS: ZERO, Kind.DEDUCTION: ZERO}
        filed: dict[str, Decimal] = {}
        for item in adjustments:
            if item.kind is Kind.CRITERION:
                raise ScoreError("Khoản điều chỉnh phải là điểm thưởng hoặc điểm trừ.")
            if item.points < 0:
                raise ScoreError(
                    f"{KIND_NOUNS[item.kind]} không được âm; đã nhập {format_points(item.points)}."
                )
            if item.row is None:
                unfiled[item.kind] += item.points
                continue
            row, kind = self._rows.get(item.row, (None, None))
            if row is None or kind is not item.kind:
                raise ScoreError(
                    f"{KIND_NOUNS[item.kind]} được ghi vào một dòng không có trong bảng tiêu chí."
                )
            filed[item.row] = filed.get(item.row, ZERO) + item.points
        rows: dict[str, Decimal] = {}
        for key, (row, _kind) in self._rows.items():
            total = filed.get(key, ZERO)
            if row.max_points is not None:
                total = min(total, row.max_points)
            rows[key] = values[key] = total

        get = values.get
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
        groups.update(rows)

        bonus = by_kind[Kind.BONUS] + unfiled[Kind.BONUS]
        cap = self._rows_cap
        if bonus_cap is not None:
            cap = bonus_cap if cap is None else min(bonus_cap, cap)
        if cap is not None:
            bonus = min(bonus, cap)
        deductions = by_kind[Kind.DEDUCTION] + unfiled[Kind.DEDUCTION]
        base = by_kind[Kind.CRITERION]
        missing = tuple(key for key in self._criterion_leaves if scores.get(key) is None)
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


# -- columns: what a later stage holds ----------------------------------------------


def carry_forward(
    columns: Sequence[Mapping[str, Decimal | None]],
) -> list[dict[str, Decimal]]:
    """What each column holds, given what each column stored itself (in step order).

    A column holds its own values and, for every key it left empty, the value of the
    nearest earlier column that has one. A review that changes nothing therefore
    holds the earlier stage's values, the bonus included; a value it changes is its
    own and stays beside the earlier ones, which are never overwritten.
    """
    held: dict[str, Decimal] = {}
    result: list[dict[str, Decimal]] = []
    for own in columns:
        held = {**held, **{key: value for key, value in own.items() if value is not None}}
        result.append(held)
    return result


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
    key: str  # stable identifier, kept in the results and the API
    label: str  # the level's name, as printed on the results
    min_points: Decimal  # inclusive lower bound, in points of the table
    first_in_group_only: bool = False  # only the unit first in its Cụm/Khối (Cờ thi đua)
    no_disqualifier: bool = False  # never for a unit with a disqualifying condition


@dataclass(frozen=True)
class BandProblem:
    """Why a set of bands cannot be used. ``message`` is a Vietnamese catalogue text
    with ``%(name)s`` placeholders, so forms can translate it; ``row`` is the band's
    position (None: the whole table)."""

    row: int | None
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.message % self.params


def band_problems(bands: Sequence[Band], total_max: Decimal | None = None) -> list[BandProblem]:
    """Everything wrong with ``bands`` (highest first), in reading order."""
    if not bands:
        return [BandProblem(None, N_("Cần ít nhất một mức xếp loại."))]
    problems: list[BandProblem] = []
    labels: set[str] = set()
    keys: set[str] = set()
    for index, band in enumerate(bands):
        name = band.label.strip()
        if not name:
            problems.append(BandProblem(index, N_("Mức thứ %(n)d chưa có tên."), {"n": index + 1}))
        elif name.casefold() in labels:
            problems.append(BandProblem(index, N_("Hai mức trùng tên “%(name)s”."), {"name": name}))
        labels.add(name.casefold())
        if not band.key or band.key in keys:
            problems.append(
                BandProblem(index, N_("Hai mức trùng mã “%(key)s”."), {"key": band.key})
            )
        keys.add(band.key)
        if band.min_points < 0:
            problems.append(
                BandProblem(
                    index,
                    N_("Điểm tối thiểu của mức “%(name)s” không được âm."),
                    {"name": name},
                )
            )
        elif total_max is not None and band.min_points > total_max:
            problems.append(
                BandProblem(
                    index,
                    N_("Điểm tối thiểu của mức “%(name)s” vượt tổng điểm chuẩn (%(max)s)."),
                    {"name": name, "max": format_points(total_max)},
                )
            )
    for index, (high, low) in enumerate(pairwise(bands), start=1):
        if low.min_points >= high.min_points:
            problems.append(
                BandProblem(
                    index,
                    N_("Điểm tối thiểu của mức “%(low)s” phải thấp hơn của mức “%(high)s” ở trên."),
                    {"low": low.label.strip(), "high": high.label.strip()},
                )
            )
    last = bands[-1]
    if last.min_points != 0:
        problems.append(
            BandProblem(
                len(bands) - 1,
                N_("Mức thấp nhất (“%(name)s”) phải bắt đầu từ 0 điểm."),
                {"name": last.label.strip()},
            )
        )
    if last.first_in_group_only or last.no_disqualifier:
        problems.append(
            BandProblem(
                len(bands) - 1,
                N_("Mức thấp nhất (“%(name)s”) không được kèm điều kiện: đơn vị nào cũng có mức."),
                {"name": last.label.strip()},
            )
        )
    return problems


@dataclass(frozen=True)
class Bands:
    """Classification rules (they vary by agency and year, so they are data)."""

    bands: tuple[Band, ...]  # highest first; the last starts at 0 and has no condition

    def __post_init__(self) -> None:
        problems = band_problems(self.bands)
        if problems:
            raise ScoreError(problems[0].text)

    def by_key(self, key: str) -> Band | None:
        return next((band for band in self.bands if band.key == key), None)


# The labels are marked for the catalogue: a period keeps its own copy of its bands, and
# pages translate the ones that are still these defaults (exports print them as stored).
DEFAULT_BAND_SHARES: tuple[tuple[str, str, Decimal, bool, bool], ...] = (
    ("flag", N_("Xuất sắc, đề nghị Cờ thi đua"), Decimal("0.95"), True, True),
    ("excellent", N_("Tập thể lao động xuất sắc"), Decimal("0.90"), False, True),
    ("advanced", N_("Tập thể lao động tiên tiến"), Decimal("0.80"), False, True),
    ("completed", N_("Hoàn thành nhiệm vụ"), Decimal("0.50"), False, False),
    ("not_completed", N_("Không hoàn thành nhiệm vụ"), ZERO, False, False),
)


def default_bands(total_max: Decimal = Decimal(100)) -> Bands:
    """The usual bands for a table of ``total_max`` points: 95 % and first in the
    Cụm/Khối, 90 %, 80 %, 50 %; the three highest never for a disqualified unit."""
    return Bands(
        tuple(
            Band(key, label, _plain(share * total_max), first, clean)
            for key, label, share, first, clean in DEFAULT_BAND_SHARES
        )
    )


def _plain(value: Decimal) -> Decimal:
    # Points have two decimals, as stored: 95 % of 1,25 (1,1875) rounds up to 1,19 so the
    # band still asks for at least its share. 0,90 × 100 is 90,0000: drop the digits (and
    # no "9E+1").
    rounded = value.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
    return parse_points(format_points(rounded)) or ZERO


DEFAULT_BANDS = default_bands()


@dataclass(frozen=True)
class Classified:
    ranked: RankedEntry
    band: Band
    capped: bool = False  # lowered because the unit is disqualified
    awaiting_vote: bool = False  # a first-only band is withheld until the cluster vote


def classify(ranked: Sequence[RankedEntry], bands: Bands = DEFAULT_BANDS) -> list[Classified]:
    """The band for each ranked unit: the highest whose minimum it reaches and whose
    conditions it meets.

    A first-only band goes to a unit ranked first in its group with no unresolved
    tie; a unit tied for first gets the next band it qualifies for and
    ``awaiting_vote=True``. A disqualified unit never gets a "no disqualifier" band;
    ``capped`` says its band is lower because of that.
    """
    results = []
    for item in ranked:
        index, awaiting = _band_index(bands, item, item.entry.disqualified)
        capped = item.entry.disqualified and index > _band_index(bands, item, False)[0]
        results.append(Classified(item, bands.bands[index], capped, awaiting))
    return results


def _band_index(bands: Bands, item: RankedEntry, disqualified: bool) -> tuple[int, bool]:
    awaiting = False
    for index, band in enumerate(bands.bands):
        if item.entry.final_total < band.min_points:
            continue
        if disqualified and band.no_disqualifier:
            continue
        if band.first_in_group_only:
            if item.group_rank != 1:
                continue
            if item.needs_vote:
                awaiting = True
                continue
        return index, awaiting
    return len(bands.bands) - 1, awaiting
