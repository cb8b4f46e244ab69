"""Read-side queries for the consultation pages and API.

Every function here issues a fixed number of SQL statements whatever the size of the
draft, the number of units or of comments: rows are eager-loaded deliberately (or loaded
once per table) and arranged in Python. Lazy loads left in templates are many-to-one
look-ups that the identity map already answers (a comment's unit, response and round).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, bindparam, false, func, or_, select, true
from sqlalchemy.orm import aliased, joinedload, selectinload

from accounts import audit
from accounts.clock import days_left, now
from accounts.errors import NotFound
from accounts.models import AuditEntry, Unit, User
from comments.consultation.models import (
    RECORDED_SOURCES,
    TRACKER_LABELS,
    Comment,
    CommentSource,
    Consultation,
    Disposition,
    ResponseStatus,
    TrackerStatus,
    UnitResponse,
    Visibility,
    fold_text,
    tracker_status,
)
from drafts.models import Clause, Draft, DraftDrafter, Version
from drafts.tree import TreeNode, build_tree, citation_labels, iter_tree, load_flat_clauses
from extensions import db

GENERAL_LABEL = "Ý kiến chung"


# --- rounds ------------------------------------------------------------------------------
def _responses_option():  # type: ignore[no-untyped-def]
    return selectinload(Consultation.responses).options(
        joinedload(UnitResponse.unit),
        joinedload(UnitResponse.submitted_by).lazyload(User.role_rows),
    )


def _round_options() -> list:  # type: ignore[type-arg]
    return [
        joinedload(Consultation.draft).selectinload(Draft.drafters),
        joinedload(Consultation.version),
        selectinload(Consultation.attachments),
        _responses_option(),
    ]


def get_round(consultation_id: int, *, responses: bool = True) -> Consultation:
    """One round with its draft, version, drafters, attachments and (unless the page
    reads them otherwise, as the tracker does) its invited units."""
    statement = _ROUND_WITH_RESPONSES if responses else _ROUND
    consultation = (
        db.session.scalars(statement, {"consultation_id": consultation_id}).unique().first()
    )
    if consultation is None:
        raise NotFound(_("Không tìm thấy đợt lấy ý kiến."))
    return consultation


# Built once: making the statement and its loader options cost as much as running it.
# A single round's few drafters and attachments come joined, in one statement.
_ROUND = (
    select(Consultation)
    .where(Consultation.id == bindparam("consultation_id"))
    .options(
        joinedload(Consultation.draft).joinedload(Draft.drafters),
        joinedload(Consultation.version),
        joinedload(Consultation.attachments),
    )
)
_ROUND_WITH_RESPONSES = _ROUND.options(_responses_option())


def rounds_of_draft(draft: Draft) -> list[Consultation]:
    """Every round of a draft, oldest first (the history shown on the draft page)."""
    return list(
        db.session.scalars(
            select(Consultation)
            .where(Consultation.draft_id == draft.id)
            .options(*_round_options())
            .order_by(Consultation.round_number)
        )
    )


def rounds_for_user(user: User, draft_id: int | None = None) -> list[Consultation]:
    """Rounds the user may open: those of drafts they draft, and those their unit is
    invited to (administrators see all), newest first."""
    query = select(Consultation).options(*_round_options())
    if not user.can_administer():
        invited = select(UnitResponse.consultation_id).where(UnitResponse.unit_id == user.unit_id)
        drafting = select(DraftDrafter.draft_id).where(DraftDrafter.user_id == user.id)
        query = query.where(or_(Consultation.id.in_(invited), Consultation.draft_id.in_(drafting)))
    if draft_id is not None:
        query = query.where(Consultation.draft_id == draft_id)
    return list(
        db.session.scalars(query.order_by(Consultation.created_at.desc(), Consultation.id.desc()))
    )


def consulted_version_ids(draft: Draft) -> set[int]:
    return set(
        db.session.scalars(select(Consultation.version_id).where(Consultation.draft_id == draft.id))
    )


def sorted_responses(consultation: Consultation) -> list[UnitResponse]:
    return sorted(
        consultation.responses, key=lambda r: (r.unit.kind.value != "regional", r.unit.name)
    )


# --- the draft's text ----------------------------------------------------------------------
@dataclass
class DraftText:
    """A version's clauses in document order, with citation labels; one query."""

    roots: list[TreeNode]
    nodes: list[TreeNode]
    by_id: dict[int, TreeNode]
    order: dict[int, int] = field(default_factory=dict)

    def position(self, clause_id: int | None) -> int:
        """Document order of a clause; general comments ("Ý kiến chung") come first."""
        if clause_id is None:
            return -1
        return self.order.get(clause_id, len(self.order))

    def label(self, clause_id: int | None) -> str:
        if clause_id is None:
            return GENERAL_LABEL
        node = self.by_id.get(clause_id)
        return node.label if node is not None else ""

    def subtree_ids(self, clause_id: int) -> set[int]:
        node = self.by_id.get(clause_id)
        return {n.id for n in iter_tree([node])} if node is not None else set()


def load_draft_text(version: Version) -> DraftText:
    """The version's text for reading: plain rows, not ORM objects (a regulation has
    thousands of clauses and nothing here edits them)."""
    rows = load_flat_clauses([version.id])[version.id]
    roots = build_tree(rows)
    nodes = list(iter_tree(roots))
    return DraftText(
        roots=roots,
        nodes=nodes,
        by_id={n.id: n for n in nodes},
        order={n.id: i for i, n in enumerate(nodes)},
    )


def clause_label(clause_id: int | None) -> str:
    """Citation label of one clause, built from its few ancestors.

    Answers about a single comment need one label; loading the whole version's tree
    for it made every comment submission cost a 2,000-clause query.
    """
    if clause_id is None:
        return GENERAL_LABEL
    chain: list[Clause] = []
    current = db.session.get(Clause, clause_id)
    while current is not None:
        chain.append(current)
        current = current.parent
    return citation_labels(list(reversed(chain))).get(clause_id, "")


# --- comments ------------------------------------------------------------------------------
def submitted_response_ids(consultation: Consultation) -> list[int]:
    return [r.id for r in consultation.responses if r.is_submitted]


def visible_comments(consultation: Consultation, user: User) -> ColumnElement[bool]:
    """`Comment.can_view` as a WHERE clause, for a list of one round's comments."""
    conditions: list[ColumnElement[bool]] = []
    if user.can_work_for_unit(user.unit_id):
        conditions.append(Comment.unit_id == user.unit_id)
    if consultation.can_see_other_units(user):
        conditions.append(
            or_(
                Comment.source.in_(RECORDED_SOURCES),
                Comment.response_id.in_(submitted_response_ids(consultation)),
            )
        )
    return or_(*conditions) if conditions else false()


@dataclass
class CommentFilters:
    """The drafter's filters; every field is optional."""

    unit_id: int | None = None
    clause_id: int | None = None  # the clause and everything under it
    general: bool = False  # only "Ý kiến chung"
    status: TrackerStatus | None = None  # the unit's state in the tracker
    source: CommentSource | None = None
    q: str = ""  # diacritic-insensitive words, all of which must appear

    @property
    def active(self) -> bool:
        return any(
            (self.unit_id, self.clause_id, self.general, self.status, self.source, self.q.strip())
        )


def _filter_conditions(
    consultation: Consultation, filters: CommentFilters, text: DraftText | None
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.unit_id is not None:
        conditions.append(Comment.unit_id == filters.unit_id)
    if filters.general:
        conditions.append(Comment.clause_id.is_(None))
    elif filters.clause_id is not None:
        ids = text.subtree_ids(filters.clause_id) if text is not None else {filters.clause_id}
        conditions.append(Comment.clause_id.in_(sorted(ids)))
    if filters.status is not None:
        moment = now()
        chosen = [
            r.id for r in consultation.responses if r.tracker_status(moment) == filters.status
        ]
        conditions.append(Comment.response_id.in_(chosen))
    if filters.source is not None:
        conditions.append(Comment.source == filters.source)
    for word in fold_text(filters.q).split():
        conditions.append(Comment.search_text.contains(word, autoescape=True))
    return conditions


def list_comments(
    consultation: Consultation,
    user: User,
    filters: CommentFilters | None = None,
    text: DraftText | None = None,
) -> list[Comment]:
    """The round's comments this user may see, filtered, in document order of their
    clause (general comments first), then oldest first. One statement."""
    rows = list(
        db.session.scalars(
            select(Comment)
            .where(_list_conditions(consultation, user, filters, text))
            .options(joinedload(Comment.author).lazyload(User.role_rows))
            .order_by(Comment.created_at, Comment.id)
        )
    )
    if text is not None:
        rows.sort(key=lambda c: text.position(c.clause_id))
    return rows


@dataclass(frozen=True, slots=True)
class CommentLine:
    """A comment as a read-only list shows it. The drafter's view lists thousands, so
    they are loaded as plain columns; the names match `Comment`'s, so the same card
    template shows either."""

    id: int
    clause_id: int | None
    unit_id: int
    unit_name: str
    author_name: str
    text: str
    source: CommentSource
    meeting_form: str
    meeting_date: date | None
    updated_at: datetime
    is_sent: bool

    proposed_text: str | None = None

    @property
    def is_conference(self) -> bool:
        return self.source == CommentSource.CONFERENCE


def list_comment_lines(
    consultation: Consultation,
    user: User,
    filters: CommentFilters | None = None,
    text: DraftText | None = None,
) -> list[CommentLine]:
    """`list_comments` for reading only: same rows, same order, one statement."""
    query = (
        select(
            Comment.id,
            Comment.clause_id,
            Comment.unit_id,
            Unit.name,
            User.full_name,
            Comment.text,
            Comment.source,
            Comment.meeting_form,
            Comment.meeting_date,
            Comment.updated_at,
            UnitResponse.status,
            Comment.proposed_text,
        )
        .join(Unit, Unit.id == Comment.unit_id)
        .join(User, User.id == Comment.author_id)
        .join(UnitResponse, UnitResponse.id == Comment.response_id)
        .where(_list_conditions(consultation, user, filters, text))
        .order_by(Comment.created_at, Comment.id)
    )
    submitted = ResponseStatus.SUBMITTED
    lines = [
        CommentLine(
            *row[:-2],
            is_sent=row[-2] == submitted or row[6] in RECORDED_SOURCES,
            proposed_text=row[-1],
        )
        for row in db.session.execute(query)
    ]
    if text is not None:
        lines.sort(key=lambda c: text.position(c.clause_id))
    return lines


_Shown = TypeVar("_Shown", Comment, CommentLine)


def _list_conditions(
    consultation: Consultation,
    user: User,
    filters: CommentFilters | None,
    text: DraftText | None,
) -> ColumnElement[bool]:
    conditions = [Comment.consultation_id == consultation.id, visible_comments(consultation, user)]
    if filters is not None:
        conditions += _filter_conditions(consultation, filters, text)
    return and_(*conditions)


def unit_written_comments(response: UnitResponse) -> list[Comment]:
    """The comments the unit itself wrote (its position), oldest first."""
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.response_id == response.id, Comment.source == CommentSource.WRITTEN)
            .options(joinedload(Comment.author).lazyload(User.role_rows))
            .order_by(Comment.created_at, Comment.id)
        )
    )


def counted_comments(consultation: Consultation) -> list[Comment]:
    """Every comment that counts for consolidation: submitted positions' comments and
    conference opinions."""
    return list(
        db.session.scalars(
            select(Comment)
            .where(
                Comment.consultation_id == consultation.id,
                or_(
                    Comment.source.in_(RECORDED_SOURCES),
                    Comment.response_id.in_(submitted_response_ids(consultation)),
                ),
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )


def group_by_clause(comments: Iterable[_Shown]) -> dict[int | None, list[_Shown]]:
    grouped: dict[int | None, list[_Shown]] = {}
    for comment in comments:
        grouped.setdefault(comment.clause_id, []).append(comment)
    return grouped


# --- the tracker ---------------------------------------------------------------------------
@dataclass
class TrackerRow:
    """One invited unit in the tracker, as plain values (no ORM objects)."""

    response_id: int
    unit_id: int
    unit_name: str
    unit_short_name: str
    status: TrackerStatus
    deadline: datetime
    extended: bool  # the unit has its own, later deadline
    submitted_at: datetime | None
    signer: str | None  # who submitted the position
    is_submitted: bool
    agrees_without_comments: bool
    # Comments in the submitted position; None while the unit's drafts are private.
    written: int | None
    conference: int
    # From the unit's letter or file, imported by the drafter: on record at once.
    letter: int
    moment: datetime

    @property
    def label(self) -> str:
        return TRACKER_LABELS[self.status]

    @property
    def days_left(self) -> int:
        return days_left(self.deadline, self.moment)


@dataclass
class Tracker:
    rows: list[TrackerRow]
    counts: dict[TrackerStatus, int] = field(default_factory=dict)

    @property
    def agreed(self) -> int:
        """Units that answered "thống nhất với dự thảo", on time or late."""
        return sum(1 for r in self.rows if r.is_submitted and r.agrees_without_comments)

    @property
    def comment_total(self) -> int:
        return sum((r.written or 0) + r.conference + r.letter for r in self.rows)


def tracker(consultation: Consultation, moment: datetime | None = None) -> Tracker:
    """Every invited unit with its state and comment counts, in one statement of plain
    columns (the tracker is opened all day long during a round)."""
    moment = moment or now()
    rows = []
    for (
        response_id,
        unit_id,
        unit_name,
        short_name,
        kind,
        status,
        agrees,
        deadline_override,
        submitted_at,
        signer,
        written,
        conference,
        letter,
    ) in db.session.connection().execute(_TRACKER, {"consultation_id": consultation.id}):
        deadline = deadline_override or consultation.closes_at
        submitted = status == ResponseStatus.SUBMITTED
        row = TrackerRow(
            response_id=response_id,
            unit_id=unit_id,
            unit_name=unit_name,
            unit_short_name=short_name,
            status=tracker_status(
                status,
                agrees=agrees,
                submitted_at=submitted_at,
                deadline=deadline,
                moment=moment,
            ),
            deadline=deadline,
            extended=deadline_override is not None,
            submitted_at=submitted_at,
            signer=signer,
            is_submitted=submitted,
            agrees_without_comments=agrees,
            written=written if submitted else None,
            conference=conference,
            letter=letter,
            moment=moment,
        )
        rows.append(((kind.value != "regional", unit_name), row))  # as `sorted_responses`
    ordered = [row for _key, row in sorted(rows, key=lambda pair: pair[0])]
    per_state = Counter(row.status for row in ordered)
    return Tracker(rows=ordered, counts={s: per_state[s] for s in TrackerStatus})


def _count_of(source: CommentSource):  # type: ignore[no-untyped-def]
    """A unit's comments of one source: index-only on (response_id, source)."""
    return (
        select(func.count())
        .where(Comment.response_id == UnitResponse.id, Comment.source == source)
        .scalar_subquery()
    )


_SIGNER = aliased(User, name="signer")
# Built once: the statement is the same for every round, only the parameter changes.
_TRACKER = (
    select(
        UnitResponse.id,
        UnitResponse.unit_id,
        Unit.name,
        Unit.short_name,
        Unit.kind,
        UnitResponse.status,
        UnitResponse.agrees_without_comments,
        UnitResponse.deadline_override,
        UnitResponse.submitted_at,
        _SIGNER.full_name,
        _count_of(CommentSource.WRITTEN),
        _count_of(CommentSource.CONFERENCE),
        _count_of(CommentSource.LETTER),
    )
    .join(Unit, Unit.id == UnitResponse.unit_id)
    .outerjoin(_SIGNER, _SIGNER.id == UnitResponse.submitted_by_id)
    .where(UnitResponse.consultation_id == bindparam("consultation_id"))
)


# --- for reminders and consolidation ----------------------------------------------------
def responses_awaiting_position(
    consultation: Consultation | None = None,
) -> Sequence[UnitResponse]:
    """Invited units without a submitted position, in rounds not yet closed (or in the
    given round), with their unit and round loaded. `response.deadline` is the unit's
    own deadline (extension included)."""
    query = (
        select(UnitResponse)
        .join(Consultation, Consultation.id == UnitResponse.consultation_id)
        .where(UnitResponse.status != ResponseStatus.SUBMITTED)
        .options(joinedload(UnitResponse.unit), joinedload(UnitResponse.consultation))
        .order_by(UnitResponse.consultation_id, UnitResponse.id)
    )
    if consultation is not None:
        query = query.where(UnitResponse.consultation_id == consultation.id)
    else:
        query = query.where(Consultation.closed_at.is_(None))
    return db.session.scalars(query).all()


def open_rounds() -> Sequence[Consultation]:
    """Rounds not yet closed, with their responses loaded."""
    return db.session.scalars(
        select(Consultation)
        .where(Consultation.closed_at.is_(None))
        .options(*_round_options())
        .order_by(Consultation.closes_at)
    ).all()


__all__ = [
    "GENERAL_LABEL",
    "CommentFilters",
    "CommentLine",
    "DraftText",
    "Tracker",
    "TrackerRow",
    "clause_label",
    "consulted_version_ids",
    "counted_comments",
    "get_round",
    "group_by_clause",
    "list_comment_lines",
    "list_comments",
    "load_draft_text",
    "open_rounds",
    "responses_awaiting_position",
    "rounds_for_user",
    "rounds_of_draft",
    "sorted_responses",
    "submitted_response_ids",
    "tracker",
    "unit_written_comments",
    "visible_comments",
]


# --- adding one comment (the API's busiest write) ------------------------------------------
@dataclass(frozen=True, slots=True)
class ClauseRef:
    """The clause a comment is about: what the checks and the answer need of it."""

    id: int
    version_id: int
    lineage: str
    label: str


@dataclass(frozen=True, slots=True)
class _ChainClause:
    """A clause on the way up the tree, as `citation_labels` reads it."""

    id: int
    parent_id: int | None
    version_id: int
    kind: str
    number: str
    title: str
    lineage: str


@dataclass(frozen=True, slots=True)
class CommentTarget:
    """The round, the author's unit response and the clause commented on, as the columns
    that adding a comment checks. Loading the round with every response, drafter and
    attachment, then the clause's ancestors one by one, cost more than the rest of the
    request together."""

    consultation_id: int
    draft_id: int
    version_id: int
    round_number: int
    opens_at: datetime
    closed_at: datetime | None
    # None when the unit is not invited to the round.
    response_id: int | None
    unit_id: int | None
    unit_name: str | None
    unit_short_name: str | None
    response_status: ResponseStatus | None
    response_lock_version: int | None
    # None when no clause was asked for, or when it does not exist.
    clause: ClauseRef | None

    # The round's own rules, read from these columns, so the messages cannot drift.
    label = Consultation.label
    is_open = Consultation.is_open

    @property
    def is_submitted(self) -> bool:
        return self.response_status == ResponseStatus.SUBMITTED


@functools.cache
def _comment_target_query():  # type: ignore[no-untyped-def]
    """Built once and run with bound values (building a statement and its cache key cost
    more than running it), from table columns (a plain Core statement runs at a third of
    the cost of one over mapped attributes).

    One row per clause on the way from the clause up to the top of the tree (a recursive
    query; a few levels), each with the round's columns; a single row with empty clause
    columns when there is no clause.
    """
    rounds, responses, units = Consultation.__table__, UnitResponse.__table__, Unit.__table__
    clauses = Clause.__table__
    columns = [
        clauses.c[name]
        for name in ("id", "parent_id", "version_id", "kind", "number", "title", "lineage")
    ]
    chain = select(*columns).where(clauses.c.id == bindparam("clause_id"))
    chain = chain.cte("chain", recursive=True)
    chain = chain.union_all(select(*columns).join(chain, clauses.c.id == chain.c.parent_id))
    return (
        select(
            rounds.c.id,
            rounds.c.draft_id,
            rounds.c.version_id,
            rounds.c.round_number,
            rounds.c.opens_at,
            rounds.c.closed_at,
            responses.c.id,
            responses.c.unit_id,
            units.c.name,
            units.c.short_name,
            responses.c.status,
            responses.c.lock_version,
            *chain.c,
        )
        .select_from(
            rounds.outerjoin(
                responses,
                and_(
                    responses.c.consultation_id == rounds.c.id,
                    responses.c.unit_id == bindparam("unit_id"),
                ),
            )
            .outerjoin(units, units.c.id == responses.c.unit_id)
            .outerjoin(chain, true())
        )
        .where(rounds.c.id == bindparam("consultation_id"))
    )


# The query's first columns: CommentTarget's, up to its clause.
_ROUND_COLUMNS = 12


def comment_target(consultation_id: int, unit_id: int, clause_id: int | None) -> CommentTarget:
    """The round (404 when missing), the unit's response if it is invited, and the
    clause with its citation label if it exists; one statement."""
    rows = db.session.execute(
        _comment_target_query(),
        {"consultation_id": consultation_id, "unit_id": unit_id, "clause_id": clause_id},
    ).all()
    if not rows:
        raise NotFound(_("Không tìm thấy đợt lấy ý kiến."))
    chain = [_ChainClause(*r[_ROUND_COLUMNS:]) for r in rows if r[_ROUND_COLUMNS] is not None]
    found = next((c for c in chain if c.id == clause_id), None)
    clause = None
    if found is not None:
        label = citation_labels(chain).get(found.id, "")
        clause = ClauseRef(found.id, found.version_id, found.lineage, label)
    return CommentTarget(*rows[0][:_ROUND_COLUMNS], clause=clause)


__all__ += ["ClauseRef", "CommentTarget", "comment_target"]


def viewable_comment_ids(user: User):  # type: ignore[no-untyped-def]
    """`Comment.can_view` over every round at once: a subquery of the ids of the comments
    the user may read (the audit log shows a comment's rows only to them)."""

    sent = or_(
        Comment.source.in_(RECORDED_SOURCES),
        UnitResponse.status == ResponseStatus.SUBMITTED,
    )
    if user.can_administer():
        other_units: ColumnElement[bool] = true()
    else:
        own = aliased(UnitResponse)
        drafter = Consultation.draft_id.in_(
            select(DraftDrafter.draft_id).where(DraftDrafter.user_id == user.id)
        )
        invited = and_(
            Consultation.id.in_(select(own.consultation_id).where(own.unit_id == user.unit_id)),
            or_(Consultation.visibility == Visibility.OPEN, Consultation.closed_at.is_not(None)),
        )
        other_units = or_(drafter, invited)
    conditions = [and_(sent, other_units)]
    if user.can_work_for_unit(user.unit_id):
        conditions.append(Comment.unit_id == user.unit_id)
    return (
        select(Comment.id)
        .join(UnitResponse, Comment.response_id == UnitResponse.id)
        .join(Consultation, Comment.consultation_id == Consultation.id)
        .where(or_(*conditions))
    )


def trackable_consultation_ids(user: User):  # type: ignore[no-untyped-def]
    """`Consultation.can_track` as a subquery of consultation ids."""

    if user.can_administer():
        return select(Consultation.id)
    return select(Consultation.id).where(
        Consultation.draft_id.in_(
            select(DraftDrafter.draft_id).where(DraftDrafter.user_id == user.id)
        )
    )


# --- who reads the audit rows about comments and dispositions --------------------------------
@audit.restrict_readers("comments")
def audit_readers_of_comments(user: User) -> ColumnElement[bool]:
    """A row about a comment follows `Comment.can_view` (a unit's unsent drafts stay inside
    the unit). A row about a comment that no longer exists holds no text; only
    administrators see it."""
    admin = true() if user.can_administer() else false()
    return or_(
        AuditEntry.object_id.in_(viewable_comment_ids(user)),
        and_(admin, AuditEntry.object_id.not_in(select(Comment.id))),
    )


@audit.restrict_readers("dispositions")
def audit_readers_of_dispositions(user: User) -> ColumnElement[bool]:
    """A row about a disposition follows `Consultation.can_track`; one about a disposition
    that no longer exists only administrators see."""
    admin = true() if user.can_administer() else false()
    return or_(
        AuditEntry.object_id.in_(
            select(Disposition.id).where(
                Disposition.consultation_id.in_(trackable_consultation_ids(user))
            )
        ),
        and_(admin, AuditEntry.object_id.not_in(select(Disposition.id))),
    )
