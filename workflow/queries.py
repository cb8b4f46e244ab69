"""Reading periods and sheets with a constant number of SQL statements.

Pages, exports, mails and the API read through these functions: the criteria
table is one query, all scores of any number of sheets one more, their bonus and
deduction items one more. What a column holds and adds up to comes from
:func:`sheet_columns`, the one wrapper around ``scoring.carry_forward`` and the
rules of ``scoring.compute_totals`` (through the table's prepared ``Scorer``), so a
page, an export, a mail and the ranking always agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cache, cached_property
from typing import Protocol

from sqlalchemy import Select, String, bindparam, cast, func, literal_column, or_, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from accounts.models import Group, GroupMembership, User
from app import db
from drafts.models import Clause, ClauseKind
from workflow import scoring, sheetflow
from workflow.models import (
    Evidence,
    PeriodTransition,
    Score,
    ScoreAdjustment,
    ScoreChange,
    ScoreSheet,
    ScoreStage,
    ScoringPeriod,
    SheetTransition,
)

_KINDS = {
    ClauseKind.CRITERION: scoring.Kind.CRITERION,
    ClauseKind.BONUS: scoring.Kind.BONUS,
    ClauseKind.DEDUCTION: scoring.Kind.DEDUCTION,
}


# --- the criteria table -----------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionRow:
    """A row of the table as pages and exports show it."""

    key: str  # the clause lineage; scores are keyed by it
    code: str  # unique across the table: the parents' codes prefixed ("II.1")
    title: str
    kind: scoring.Kind
    max_points: Decimal | None  # as stated, or the sum of the children's
    guidance: str
    depth: int
    is_leaf: bool
    number: str = ""  # the code as the table writes it ("1")

    @property
    def label(self) -> str:
        return f"{self.code}. {self.title}" if self.code else self.title

    @property
    def name(self) -> str:
        """How messages name the row: its code, else its title."""
        return self.code or self.title

    @property
    def takes_adjustments(self) -> bool:
        """A bonus or deduction row: items are filed under it, it is not scored."""
        return self.is_leaf and self.kind is not scoring.Kind.CRITERION


@dataclass(frozen=True)
class CriteriaTable:
    tree: tuple[scoring.Criterion, ...]
    rows: tuple[CriterionRow, ...]

    @property
    def leaves(self) -> tuple[CriterionRow, ...]:
        """The rows that are scored: criterion leaves."""
        return tuple(row for row in self.rows if row.is_leaf and not row.takes_adjustments)

    @property
    def adjustment_rows(self) -> tuple[CriterionRow, ...]:
        """The bonus and deduction rows items are filed under."""
        return tuple(row for row in self.rows if row.takes_adjustments)

    @cached_property
    def leaf_keys(self) -> frozenset[str]:
        return frozenset(row.key for row in self.leaves)

    @cached_property
    def scorer(self) -> scoring.Scorer:
        """The tree prepared once for the many columns a period adds up."""
        return scoring.Scorer(self.tree)

    @property
    def by_key(self) -> dict[str, CriterionRow]:
        return {row.key: row for row in self.rows}

    def criterion(self, key: str) -> scoring.Criterion:
        for node in self.tree:
            for item in node.walk():
                if item.key == key:
                    return item
        raise KeyError(key)

    @property
    def total_max(self) -> Decimal:
        return scoring.table_max(self.tree)

    @property
    def group_one_key(self) -> str | None:
        """The first criterion group (I): the first tie-breaker."""
        for node in self.tree:
            if node.kind is scoring.Kind.CRITERION:
                return node.key
        return None

    def codes(self, keys: Iterable[str]) -> list[str]:
        rows = self.by_key
        return [rows[key].name for key in keys if key in rows]


def load_criteria(version_id: int) -> CriteriaTable:
    """The criteria rows of a version as a scoring tree (one query)."""
    # Plain tuples: a period's results read the table on every page.
    clauses = [tuple(row) for row in db.session.execute(_CRITERIA_ROWS, {"version_id": version_id})]
    ids = {row[0] for row in clauses}
    children: dict[int | None, list] = defaultdict(list)
    for row in clauses:
        children[row[1] if row[1] in ids else None].append(row)

    flat: list[CriterionRow] = []

    def build(row, kind: scoring.Kind | None, depth: int) -> scoring.Criterion:  # type: ignore[no-untyped-def]
        row_id, _parent, row_kind, number, title, text, max_points, guidance, lineage = row
        # Descendants inherit the top-level row's kind (as scoring documents).
        own_kind = kind or _KINDS[row_kind]
        position = len(flat)
        flat.append(None)  # type: ignore[arg-type]
        built = tuple(build(child, own_kind, depth + 1) for child in children[row_id])
        node = scoring.Criterion(
            key=lineage,
            code=number or "",
            title=(title or text or "").strip(),
            kind=own_kind,
            max_points=max_points,
            children=built,
        )
        flat[position] = CriterionRow(
            key=lineage,
            code=node.code,
            title=node.title,
            kind=own_kind,
            max_points=max_points if max_points is not None else node.effective_max(),
            guidance=guidance or "",
            depth=depth,
            is_leaf=not built,
        )
        return node

    raw = tuple(build(row, None, 0) for row in children[None])
    tree = scoring.qualify_codes(raw)
    codes = {node.key: node.code for top in tree for node in top.walk()}
    rows = tuple(replace(row, code=codes[row.key], number=row.code) for row in flat)
    return CriteriaTable(tree, rows)


# Built once, as the other statements every results page runs: building a statement and
# finding it in the compiled cache cost a good part of running it.
_CRITERIA_ROWS = (
    select(
        Clause.id,
        Clause.parent_id,
        Clause.kind,
        Clause.number,
        Clause.title,
        Clause.text,
        Clause.max_points,
        Clause.guidance,
        Clause.lineage,
    )
    .where(Clause.version_id == bindparam("version_id"), Clause.kind.in_(list(_KINDS)))
    .order_by(Clause.seq)
)


# --- scores and adjustments -------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    """A bonus or deduction item as totals and pages need it (see ``ScoreAdjustment``)."""

    key: str
    kind: scoring.Kind
    row: str | None  # the table's row it is filed under
    reason: str = ""

    @property
    def label(self) -> str:
        return f"{scoring.KIND_NOUNS[self.kind]}: {self.reason}"


@dataclass
class SheetData:
    """Everything stored for one sheet's columns, as ORM rows (pages that edit them)."""

    scores: dict[tuple[ScoreStage, str], Score] = field(default_factory=dict)
    adjustments: list[ScoreAdjustment] = field(default_factory=list)

    def own(self, stage: ScoreStage) -> dict[str, Decimal | None]:
        """The values this column stored itself (None: none, it holds the previous one's)."""
        return {
            key: row.value for (row_stage, key), row in self.scores.items() if row_stage == stage
        }

    def value(self, stage: ScoreStage, key: str) -> Decimal | None:
        row = self.scores.get((stage, key))
        return None if row is None else row.value

    @property
    def items(self) -> list[Item]:
        return [
            Item(item.key, item.scoring_kind, item.lineage, item.reason)
            for item in self.adjustments
        ]


@dataclass
class SheetPoints:
    """The stored points of one sheet without the ORM rows behind them.

    What results and their exports read, for pages that add up many sheets and show
    no note or version of a score. Only entered points are kept: an empty score
    reads as no score, as everywhere.
    """

    scores: dict[ScoreStage, dict[str, Decimal]] = field(default_factory=dict)
    items: list[Item] = field(default_factory=list)

    def own(self, stage: ScoreStage) -> dict[str, Decimal]:
        return self.scores.get(stage, {})

    def value(self, stage: ScoreStage, key: str) -> Decimal | None:
        return self.scores.get(stage, {}).get(key)


class _Points(Protocol):
    def own(self, stage: ScoreStage) -> Mapping[str, Decimal | None]: ...

    @property
    def items(self) -> Sequence[Item]: ...


@dataclass(frozen=True)
class Column:
    """One column of one sheet: what it holds, what it stored itself, its totals."""

    stage: ScoreStage
    held: Mapping[str, Decimal]  # every value it holds, carried ones included
    own: Mapping[str, Decimal]  # the values it stored itself
    totals: scoring.Totals
    shown: bool  # reached by the sheet, or holding values of its own; else left blank

    def value(self, key: str) -> Decimal | None:
        return self.held.get(key)

    def is_own(self, key: str) -> bool:
        return key in self.own


def sheet_columns(
    table: CriteriaTable,
    data: _Points,
    period: ScoringPeriod,
    reached: Collection[ScoreStage] = (),
) -> dict[ScoreStage, Column]:
    """Every column of one sheet, in step order. Every figure shown anywhere
    (sheet, results, exports, mails, ranking) comes from here."""
    stages = period.stages
    owns = [
        {key: value for key, value in data.own(stage).items() if value is not None}
        for stage in stages
    ]
    leaves = table.leaf_keys
    items = data.items
    columns: dict[ScoreStage, Column] = {}
    for stage, own, held in zip(stages, owns, scoring.carry_forward(owns), strict=True):
        # A value stored under a row that is no longer scored (a bonus row's own score
        # from before items existed) is not added up.
        scores = {key: value for key, value in held.items() if key in leaves}
        adjustments = [
            scoring.Adjustment(item.kind, held[item.key], item.row)
            for item in items
            if item.key in held
        ]
        totals = table.scorer.totals(scores, adjustments, bonus_cap=period.bonus_cap)
        columns[stage] = Column(stage, held, own, totals, stage in reached or bool(own))
    return columns


@dataclass(frozen=True)
class SheetRow:
    """One row of a sheet as the sheet page, the API and the exports show it."""

    key: str  # a criterion's lineage or an item's key
    label: str
    depth: int
    kind: scoring.Kind
    role: str  # "group", "criterion" (scored), "row" (bonus/deduction row) or "item"
    max_points: Decimal | None
    guidance: str
    values: Mapping[ScoreStage, Decimal | None]  # per shown column (None: blank)
    own: frozenset[ScoreStage]  # the columns that stored this value themselves
    name: str = ""  # how a message or an input's label names it: the code, else the label

    @property
    def editable(self) -> bool:
        return self.role in ("criterion", "item")


def sheet_rows(
    table: CriteriaTable, items: Sequence[Item], columns: Mapping[ScoreStage, Column]
) -> list[SheetRow]:
    """The table's rows with each item right under the row it is filed under (items
    filed under no row come last), and what each shown column holds for them."""
    filed: dict[str | None, list[Item]] = defaultdict(list)
    for item in items:
        filed[item.row if item.row in table.by_key else None].append(item)

    def cells(key: str, total: bool) -> tuple[dict[ScoreStage, Decimal | None], frozenset]:
        values: dict[ScoreStage, Decimal | None] = {}
        own = set()
        for stage, column in columns.items():
            if not column.shown:
                values[stage] = None
                continue
            values[stage] = column.totals.groups.get(key) if total else column.value(key)
            if not total and column.is_own(key):
                own.add(stage)
        return values, frozenset(own)

    def item_row(item: Item, depth: int, label: str) -> SheetRow:
        values, own = cells(item.key, False)
        return SheetRow(
            item.key, label, depth, item.kind, "item", None, "", values, own, item.label
        )

    result: list[SheetRow] = []
    for row in table.rows:
        role = "row" if row.takes_adjustments else "criterion" if row.is_leaf else "group"
        values, own = cells(row.key, role != "criterion")
        result.append(
            SheetRow(
                row.key, row.label, row.depth, row.kind, role, row.max_points, row.guidance,
                values, own, row.name,
            )
        )  # fmt: skip
        for item in filed.get(row.key, []):
            result.append(item_row(item, row.depth + 1, item.reason))
    for item in filed.get(None, []):
        result.append(item_row(item, 0, item.label))
    return result


def sheet_totals(
    table: CriteriaTable, data: _Points, stage: ScoreStage, period: ScoringPeriod
) -> scoring.Totals:
    """One column's totals (see :func:`sheet_columns`)."""
    return sheet_columns(table, data, period)[stage].totals


def load_sheet_data(sheet_ids: Sequence[int]) -> dict[int, SheetData]:
    """Scores (with who saved them) and items of many sheets: three queries whatever
    their number."""
    data: dict[int, SheetData] = {sheet_id: SheetData() for sheet_id in sheet_ids}
    if not sheet_ids:
        return data
    scores = db.session.scalars(
        select(Score).where(Score.sheet_id.in_(sheet_ids)).options(selectinload(Score.updated_by))
    )
    for score in scores:
        data[score.sheet_id].scores[(score.stage, score.lineage)] = score
    items = db.session.scalars(
        select(ScoreAdjustment)
        .where(ScoreAdjustment.sheet_id.in_(sheet_ids))
        .order_by(ScoreAdjustment.id)
    )
    for item in items:
        data[item.sheet_id].adjustments.append(item)
    return data


_STAGES = tuple(ScoreStage)


class _Decimals(dict[str, Decimal]):
    """Score texts as the Numeric(10, 2) column reads them, each text converted once."""

    def __init__(self) -> None:
        super().__init__()
        self.quantum = Decimal(1).scaleb(-Score.__table__.c.value.type.scale)

    def __missing__(self, text: str) -> Decimal:
        value = self[text] = Decimal(text).quantize(self.quantum)
        return value


def load_sheet_points(sheet_ids: Sequence[int]) -> dict[int, SheetPoints]:
    """Entered points and items of many sheets: two queries.

    A period's results add up every score of every sheet: 8,550 of them for 30
    sheets of 95 criteria in three columns. Made into Python rows (let alone ORM
    objects) they cost several times what the query does, so the database joins
    each column of a sheet into one "lineage,points,lineage,points…" text, with
    the sheet's count of scores beside them, and each text is split at once.
    Lineages are uuid hex, but the editor takes any text: a comma in one shows as
    a count that does not match, and those sheets are then read row by row.
    """
    points: dict[int, SheetPoints] = {sheet_id: SheetPoints() for sheet_id in sheet_ids}
    if not sheet_ids:
        return points
    rows = db.session.execute(_joined_points(), {"sheet_ids": list(sheet_ids)}).all()
    decimals = _Decimals()
    unsplit: list[int] = []
    for sheet_id, count, *joined in rows:
        columns = {
            stage: text.split(",") for stage, text in zip(_STAGES, joined, strict=True) if text
        }
        if sum(map(len, columns.values())) != 2 * count:
            unsplit.append(sheet_id)
            continue
        points[sheet_id].scores = {
            stage: dict(zip(parts[::2], map(decimals.__getitem__, parts[1::2]), strict=True))
            for stage, parts in columns.items()
        }
    if unsplit:
        _load_points_by_row(unsplit, points)
    for sheet_id, key, kind, row, reason in db.session.execute(
        _ITEMS, {"sheet_ids": list(sheet_ids)}
    ):
        points[sheet_id].items.append(Item(key, scoring.Kind(kind), row, reason))
    return points


_ITEMS = (
    select(
        ScoreAdjustment.sheet_id,
        ScoreAdjustment.key,
        ScoreAdjustment.kind,
        ScoreAdjustment.lineage,
        ScoreAdjustment.reason,
    )
    .where(ScoreAdjustment.sheet_id.in_(bindparam("sheet_ids", expanding=True)))
    .order_by(ScoreAdjustment.id)
)


@cache  # built once: a new statement costs more to look up in the compiled cache
def _joined_points() -> Select[tuple[int, int, str | None, str | None, str | None]]:
    scores = Score.__table__.c
    # The comma is written into the SQL: as a parameter, SQLite joins twice as slowly.
    comma = literal_column("','")
    pair = scores.lineage.concat(comma).concat(cast(scores.value, String))  # NULL: no value
    return (
        select(
            scores.sheet_id,
            func.count(scores.value),
            *(func.aggregate_strings(pair, comma).filter(scores.stage == st) for st in _STAGES),
        )
        .where(scores.sheet_id.in_(bindparam("sheet_ids", expanding=True)))
        .group_by(scores.sheet_id)
    )


def _load_points_by_row(sheet_ids: Sequence[int], points: dict[int, SheetPoints]) -> None:
    rows = db.session.execute(
        select(Score.sheet_id, Score.stage, Score.lineage, Score.value).where(
            Score.sheet_id.in_(sheet_ids), Score.value.is_not(None)
        )
    )
    for sheet_id, stage, lineage, value in rows:
        points[sheet_id].scores.setdefault(stage, {})[lineage] = value


def group_one_total(table: CriteriaTable, column: Column) -> Decimal:
    """The first tie-breaker: the column's total of criteria group I."""
    key = table.group_one_key
    if key is None:
        return scoring.ZERO
    if key in column.totals.groups:
        return column.totals.groups[key]
    return column.value(key) or scoring.ZERO


# --- sheets -----------------------------------------------------------------------------------


def _sheet_options():  # type: ignore[no-untyped-def]
    return (
        joinedload(ScoreSheet.unit),
        joinedload(ScoreSheet.group)
        .selectinload(Group.memberships)
        .joinedload(GroupMembership.unit),
        selectinload(ScoreSheet.extensions),
    )


def period_sheets(period: ScoringPeriod, group_id: int | None = None) -> list[ScoreSheet]:
    query = (
        select(ScoreSheet)
        .where(ScoreSheet.period_id == period.id)
        .options(*_sheet_options())
        .order_by(ScoreSheet.id)
    )
    if group_id is not None:
        query = query.where(ScoreSheet.group_id == group_id)
    sheets = list(db.session.scalars(query).unique())
    return sorted(sheets, key=_by_group_and_unit)


def _by_group_and_unit(sheet: ScoreSheet) -> tuple[str, str]:
    return (sheet.group.name if sheet.group else "~", sheet.unit.name)


def result_sheets(period: ScoringPeriod) -> list[ScoreSheet]:
    """The period's sheets with only what results show of them (unit, Cụm/Khối)."""
    sheets = db.session.scalars(_RESULT_SHEETS, {"period_id": period.id})
    return sorted(sheets, key=_by_group_and_unit)


_RESULT_SHEETS = (
    select(ScoreSheet)
    .where(ScoreSheet.period_id == bindparam("period_id"))
    .options(joinedload(ScoreSheet.unit), joinedload(ScoreSheet.group))
    .order_by(ScoreSheet.id)
)


def last_transitions(sheet_ids: Sequence[int]) -> dict[int, SheetTransition]:
    """Each sheet's latest transition (one query); "Bị trả lại" is read from it."""
    if not sheet_ids:
        return {}
    latest = (
        select(func.max(SheetTransition.id))
        .where(SheetTransition.sheet_id.in_(sheet_ids))
        .group_by(SheetTransition.sheet_id)
    )
    rows = db.session.scalars(
        select(SheetTransition)
        .where(SheetTransition.id.in_(latest))
        .options(joinedload(SheetTransition.actor))
    )
    return {row.sheet_id: row for row in rows}


def is_returned(last: SheetTransition | None) -> bool:
    return last is not None and sheetflow.is_return_action(last.action)


def load_sheet(sheet_id: int) -> ScoreSheet | None:
    return (
        db.session.scalars(
            select(ScoreSheet)
            .where(ScoreSheet.id == sheet_id)
            .options(
                *_sheet_options(),
                joinedload(ScoreSheet.period).selectinload(ScoringPeriod.deadlines),
                selectinload(ScoreSheet.evidence).joinedload(Evidence.uploaded_by),
            )
        )
        .unique()
        .first()
    )


def sheet_history(sheet: ScoreSheet) -> tuple[list[SheetTransition], list[ScoreChange]]:
    transitions = list(
        db.session.scalars(
            select(SheetTransition)
            .where(SheetTransition.sheet_id == sheet.id)
            .options(joinedload(SheetTransition.actor))
            .order_by(SheetTransition.id)
        )
    )
    changes = list(
        db.session.scalars(
            select(ScoreChange)
            .where(ScoreChange.sheet_id == sheet.id)
            .options(joinedload(ScoreChange.actor))
            .order_by(ScoreChange.id)
        )
    )
    return transitions, changes


def periods() -> list[ScoringPeriod]:
    return list(
        db.session.scalars(
            select(ScoringPeriod)
            .options(joinedload(ScoringPeriod.year), joinedload(ScoringPeriod.criteria_draft))
            .order_by(ScoringPeriod.created_at.desc(), ScoringPeriod.id.desc())
        ).unique()
    )


def state_counts(period_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if not period_ids:
        return counts
    rows = db.session.execute(
        select(ScoreSheet.period_id, ScoreSheet.state, func.count())
        .where(ScoreSheet.period_id.in_(period_ids))
        .group_by(ScoreSheet.period_id, ScoreSheet.state)
    )
    for period_id, state, count in rows:
        counts[period_id][state] = count
    return counts


# --- what a user must do ----------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    sheet: ScoreSheet
    actions: tuple[str, ...]  # labels of the actions this user may take
    returned: bool


def tasks_for(user: User) -> list[Task]:
    """Sheets waiting for this user (to score, submit, review, verify or decide)."""
    sheets = list(
        db.session.scalars(
            select(ScoreSheet)
            .where(ScoreSheet.due_at.is_not(None))
            .options(*_sheet_options(), joinedload(ScoreSheet.period))
            .order_by(ScoreSheet.due_at, ScoreSheet.id)
        ).unique()
    )
    last = last_transitions([sheet.id for sheet in sheets])
    tasks = []
    for sheet in sheets:
        machine = sheet.period.machine()
        actions = tuple(row.label for row in machine.actions_for(sheet, user))
        if actions or sheet.can_edit_scores(user):
            tasks.append(Task(sheet, actions, is_returned(last.get(sheet.id))))
    return tasks


# --- ranking and classification ---------------------------------------------------------------


@dataclass(frozen=True)
class ResultRow:
    sheet: ScoreSheet
    columns: dict[ScoreStage, Column]
    final: scoring.Totals
    complete: bool  # the final column is reached and every criterion holds a score
    ranked: scoring.RankedEntry | None = None
    classified: scoring.Classified | None = None

    @property
    def totals(self) -> dict[ScoreStage, scoring.Totals]:
        return {stage: column.totals for stage, column in self.columns.items()}


@dataclass(frozen=True)
class Results:
    period: ScoringPeriod
    table: CriteriaTable
    rows: list[ResultRow]
    data: dict[int, SheetPoints]
    bands: scoring.Bands

    @property
    def groups(self) -> list[tuple[Group | None, list[ResultRow]]]:
        """Rows per Cụm/Khối, each group in rank order."""
        grouped: dict[int | None, list[ResultRow]] = defaultdict(list)
        for row in self.rows:
            grouped[row.sheet.group_id].append(row)
        ordered = sorted(
            grouped.items(),
            key=lambda item: (item[1][0].sheet.group.name if item[1][0].sheet.group else "~"),
        )
        return [(rows[0].sheet.group, rows) for _gid, rows in ordered]

    def only(self, keep: Callable[[ResultRow], bool]) -> Results:
        """The same results with fewer rows: ranks stay those of the whole period."""
        return replace(self, rows=[row for row in self.rows if keep(row)])

    def for_group(self, group_id: int | None) -> Results:
        """One Cụm/Khối's rows (None: every row)."""
        if group_id is None:
            return self
        return self.only(lambda row: row.sheet.group_id == group_id)

    def visible_to(self, user: User) -> Results:
        """The rows ``user`` may see (see ``ScoringPeriod.can_see_result_of``)."""
        if self.period.can_see_all_results(user):
            return self
        return self.only(lambda row: self.period.can_see_result_of(user, row.sheet))


def period_for_results(period_id: int) -> ScoringPeriod | None:
    """A period with what its results show (the criteria draft), without its deadlines."""
    return db.session.scalars(_RESULT_PERIOD, {"period_id": period_id}).first()


_RESULT_PERIOD = (
    select(ScoringPeriod)
    .where(ScoringPeriod.id == bindparam("period_id"))
    .options(joinedload(ScoringPeriod.criteria_draft), lazyload(ScoringPeriod.deadlines))
)


def period_results(period: ScoringPeriod) -> Results:
    """Totals, rank and classification of every sheet in the period."""
    table = load_criteria(period.criteria_version_id)
    sheets = result_sheets(period)
    data = load_sheet_points([sheet.id for sheet in sheets])
    final_stage = period.final_stage  # read from the period's configuration at each call
    rows: dict[int, ResultRow] = {}
    entries: list[scoring.RankEntry] = []
    for sheet in sheets:
        columns = sheet_columns(table, data[sheet.id], period, sheet.completed_stages)
        last = columns[final_stage]
        complete = last.shown and not last.totals.missing
        rows[sheet.id] = ResultRow(sheet, columns, last.totals, complete)
        if complete:
            entries.append(
                scoring.RankEntry(
                    unit_id=sheet.id,
                    group_id=sheet.group_id or 0,
                    final_total=last.totals.final,
                    group_one_total=group_one_total(table, last),
                    disqualified=sheet.disqualified,
                )
            )
    bands = period.bands_for(table.total_max)
    ranked = scoring.rank(entries)
    classified = scoring.classify(ranked, bands)
    ordered: list[ResultRow] = []
    for item in classified:
        sheet_id = item.ranked.entry.unit_id
        base = rows.pop(sheet_id)
        ordered.append(replace(base, ranked=item.ranked, classified=item))
    ordered.extend(rows.values())  # unranked: the final column is not complete yet
    return Results(period, table, ordered, data, bands)


def period_history(period: ScoringPeriod) -> list[PeriodTransition]:
    return list(
        db.session.scalars(
            select(PeriodTransition)
            .where(PeriodTransition.period_id == period.id)
            .options(joinedload(PeriodTransition.actor))
            .order_by(PeriodTransition.id)
        )
    )


# --- who may see which sheet ------------------------------------------------------------------
def viewable_sheet_ids(user: User) -> Select[tuple[int]] | list[int]:
    """`ScoreSheet.can_view` over every period: the ids of the sheets the user may see (the
    audit log shows a sheet's rows only to them)."""
    if user.can_verify_scores() or user.can_decide_scores() or user.can_administer():
        return select(ScoreSheet.id)
    # Anyone else sees the unit's own sheets and those its head reviews as Cụm/Khối leader
    # or deputy: all among the sheets of the groups the unit belongs to. The predicate
    # itself decides, so that the log can never show more than the sheet pages do.
    groups = select(GroupMembership.group_id).where(GroupMembership.unit_id == user.unit_id)
    candidates = db.session.scalars(
        select(ScoreSheet)
        .where(or_(ScoreSheet.unit_id == user.unit_id, ScoreSheet.group_id.in_(groups)))
        .options(
            selectinload(ScoreSheet.group)
            .selectinload(Group.memberships)
            .joinedload(GroupMembership.unit)
        )
    )
    return [sheet.id for sheet in candidates if sheet.can_view(user)]
