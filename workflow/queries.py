"""Reading periods and sheets with a constant number of SQL statements.

Pages, exports and the API read through these functions: the criteria table is
one query, all scores of any number of sheets one more, their bonus/deduction
lines one more. Totals come from :func:`sheet_totals`, the one wrapper around
the rules of ``scoring.compute_totals`` (through the table's prepared ``Scorer``),
so a page, an export and the ranking always agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache, cached_property
from typing import Protocol

from sqlalchemy import Select, String, bindparam, cast, func, literal_column, select
from sqlalchemy.orm import joinedload, lazyload, selectinload

from accounts.models import Group, GroupMembership, User
from drafts.models import Clause, ClauseKind
from extensions import db
from workflow import scoring, sheetflow
from workflow.models import (
    Evidence,
    LineKind,
    Score,
    ScoreChange,
    ScoreSheet,
    ScoreStage,
    ScoringPeriod,
    SheetLine,
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
    code: str
    title: str
    kind: scoring.Kind
    max_points: Decimal | None  # as stated, or the sum of the children's
    guidance: str
    depth: int
    is_leaf: bool

    @property
    def label(self) -> str:
        return f"{self.code}. {self.title}" if self.code else self.title


@dataclass(frozen=True)
class CriteriaTable:
    tree: tuple[scoring.Criterion, ...]
    rows: tuple[CriterionRow, ...]

    @property
    def leaves(self) -> tuple[CriterionRow, ...]:
        return tuple(row for row in self.rows if row.is_leaf)

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
        return [rows[key].code or rows[key].title for key in keys if key in rows]


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

    tree = tuple(build(row, None, 0) for row in children[None])
    return CriteriaTable(tree, tuple(flat))


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


# --- scores and lines -------------------------------------------------------------------------


@dataclass
class SheetData:
    """Everything stored for one sheet's columns."""

    scores: dict[tuple[ScoreStage, str], Score] = field(default_factory=dict)
    lines: list[SheetLine] = field(default_factory=list)

    def values(self, stage: ScoreStage) -> dict[str, Decimal | None]:
        return {
            key: row.value for (row_stage, key), row in self.scores.items() if row_stage == stage
        }

    def value(self, stage: ScoreStage, key: str) -> Decimal | None:
        row = self.scores.get((stage, key))
        return None if row is None else row.value

    def has(self, stage: ScoreStage) -> bool:
        """Whether anything was entered in this column (else pages leave it blank)."""
        return any(
            row_stage == stage and row.value is not None
            for (row_stage, _key), row in self.scores.items()
        ) or bool(self.lines_for(stage))

    def lines_for(self, stage: ScoreStage) -> list[SheetLine]:
        return [line for line in self.lines if line.stage == stage]

    def line_points(self, stage: ScoreStage) -> tuple[list[Decimal], list[Decimal]]:
        """The points of this column's bonus lines and of its deduction lines."""
        lines = self.lines_for(stage)
        return (
            [line.points for line in lines if line.kind == "bonus"],
            [line.points for line in lines if line.kind == "deduction"],
        )


@dataclass
class SheetPoints:
    """The stored points of one sheet without the ORM rows behind them.

    What totals, results and the results export read (``values``, ``value``, ``has``),
    for pages that add up many sheets and show no note or version of a score. Only
    entered points are kept: an empty score reads as no score, as everywhere.
    """

    scores: dict[ScoreStage, dict[str, Decimal]] = field(default_factory=dict)
    lines: dict[ScoreStage, tuple[list[Decimal], list[Decimal]]] = field(default_factory=dict)

    def values(self, stage: ScoreStage) -> dict[str, Decimal]:
        return self.scores.get(stage, {})

    def value(self, stage: ScoreStage, key: str) -> Decimal | None:
        return self.scores.get(stage, {}).get(key)

    def has(self, stage: ScoreStage) -> bool:
        """Whether anything was entered in this column (else pages leave it blank)."""
        return bool(self.scores.get(stage)) or stage in self.lines

    def line_points(self, stage: ScoreStage) -> tuple[list[Decimal], list[Decimal]]:
        """The points of this column's bonus lines and of its deduction lines."""
        return self.lines.get(stage, ([], []))


class _Points(Protocol):
    def values(self, stage: ScoreStage) -> Mapping[str, Decimal | None]: ...

    def value(self, stage: ScoreStage, key: str) -> Decimal | None: ...

    def line_points(self, stage: ScoreStage) -> tuple[list[Decimal], list[Decimal]]: ...


def load_sheet_data(sheet_ids: Sequence[int]) -> dict[int, SheetData]:
    """Scores and lines of many sheets: two queries whatever their number."""
    data: dict[int, SheetData] = {sheet_id: SheetData() for sheet_id in sheet_ids}
    if not sheet_ids:
        return data
    for score in db.session.scalars(select(Score).where(Score.sheet_id.in_(sheet_ids))):
        data[score.sheet_id].scores[(score.stage, score.lineage)] = score
    lines = db.session.scalars(
        select(SheetLine).where(SheetLine.sheet_id.in_(sheet_ids)).order_by(SheetLine.id)
    )
    for line in lines:
        data[line.sheet_id].lines.append(line)
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
    """Entered points and line points of many sheets: two queries.

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
    lines = db.session.execute(_LINE_POINTS, {"sheet_ids": list(sheet_ids)})
    for sheet_id, stage, kind, line_points in lines:
        bonus, deductions = points[sheet_id].lines.setdefault(stage, ([], []))
        if kind == LineKind.BONUS:
            bonus.append(line_points)
        elif kind == LineKind.DEDUCTION:
            deductions.append(line_points)
    return points


_LINE_POINTS = (
    select(SheetLine.sheet_id, SheetLine.stage, SheetLine.kind, SheetLine.points)
    .where(SheetLine.sheet_id.in_(bindparam("sheet_ids", expanding=True)))
    .order_by(SheetLine.id)
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


def sheet_totals(
    table: CriteriaTable, data: _Points, stage: ScoreStage, period: ScoringPeriod
) -> scoring.Totals:
    """One column's totals. Every total shown anywhere comes from here."""
    leaves = table.leaf_keys
    values = data.values(stage)
    if not leaves.issuperset(values):  # a group row's own stored value is not added up
        values = {key: value for key, value in values.items() if key in leaves}
    bonus, deductions = data.line_points(stage)
    return table.scorer.totals(values, bonus, deductions, bonus_cap=period.bonus_cap)


def group_one_total(
    table: CriteriaTable, data: _Points, totals: scoring.Totals, stage: ScoreStage
) -> Decimal:
    key = table.group_one_key
    if key is None:
        return scoring.ZERO
    if key in totals.groups:
        return totals.groups[key]
    return data.value(stage, key) or scoring.ZERO


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
    totals: dict[ScoreStage, scoring.Totals]
    final: scoring.Totals
    complete: bool  # every criterion has a score in the final column
    ranked: scoring.RankedEntry | None = None
    classified: scoring.Classified | None = None


@dataclass(frozen=True)
class Results:
    period: ScoringPeriod
    table: CriteriaTable
    rows: list[ResultRow]
    data: dict[int, SheetPoints]

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
    stages = period.stages  # read from the period's configuration at each call
    final_stage = stages[-1]
    rows: dict[int, ResultRow] = {}
    entries: list[scoring.RankEntry] = []
    for sheet in sheets:
        totals = {stage: sheet_totals(table, data[sheet.id], stage, period) for stage in stages}
        final = totals[final_stage]
        complete = not final.missing
        rows[sheet.id] = ResultRow(sheet, totals, final, complete)
        if complete:
            entries.append(
                scoring.RankEntry(
                    unit_id=sheet.id,
                    group_id=sheet.group_id or 0,
                    final_total=final.final,
                    group_one_total=group_one_total(table, data[sheet.id], final, final_stage),
                    disqualified=sheet.disqualified,
                )
            )
    ranked = scoring.rank(entries)
    classified = scoring.classify(ranked, period.bands, table.total_max)
    ordered: list[ResultRow] = []
    for item in classified:
        sheet_id = item.ranked.entry.unit_id
        base = rows.pop(sheet_id)
        ordered.append(ResultRow(base.sheet, base.totals, base.final, True, item.ranked, item))
    ordered.extend(rows.values())  # unranked: the final column is not complete yet
    return Results(period, table, ordered, data)
