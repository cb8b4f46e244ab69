"""Read-side queries for the consultation pages and API.

Every function here issues a fixed number of SQL statements whatever the size of the
draft, the number of units or of comments: rows are eager-loaded deliberately (or loaded
once per table) and arranged in Python. Lazy loads left in templates are many-to-one
look-ups that the identity map already answers (a comment's unit, response and round).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from accounts.clock import days_left, now
from accounts.errors import NotFound
from accounts.models import User
from app import db
from comments.models import (
    TRACKER_LABELS,
    Comment,
    CommentSource,
    Consultation,
    ResponseStatus,
    TrackerStatus,
    UnitResponse,
    fold_text,
)
from drafts.models import Clause, Draft, DraftDrafter, Version
from drafts.tree import TreeNode, citation_labels, iter_tree, load_version_tree

GENERAL_LABEL = "Ý kiến chung"


# --- rounds ------------------------------------------------------------------------------
def _round_options() -> list:  # type: ignore[type-arg]
    return [
        joinedload(Consultation.draft).selectinload(Draft.drafters),
        joinedload(Consultation.version),
        selectinload(Consultation.responses).options(
            joinedload(UnitResponse.unit),
            joinedload(UnitResponse.submitted_by).lazyload(User.role_rows),
        ),
        selectinload(Consultation.attachments),
    ]


def get_round(consultation_id: int) -> Consultation:
    """One round with its draft, version, drafters, invited units and attachments."""
    consultation = db.session.scalars(
        select(Consultation).where(Consultation.id == consultation_id).options(*_round_options())
    ).first()
    if consultation is None:
        raise NotFound("Không tìm thấy đợt lấy ý kiến.")
    return consultation


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
    roots = load_version_tree(version)
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
                Comment.source == CommentSource.CONFERENCE,
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
    conditions = [Comment.consultation_id == consultation.id, visible_comments(consultation, user)]
    if filters is not None:
        conditions += _filter_conditions(consultation, filters, text)
    rows = list(
        db.session.scalars(
            select(Comment)
            .where(and_(*conditions))
            .options(joinedload(Comment.author).lazyload(User.role_rows))
            .order_by(Comment.created_at, Comment.id)
        )
    )
    if text is not None:
        rows.sort(key=lambda c: text.position(c.clause_id))
    return rows


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
                    Comment.source == CommentSource.CONFERENCE,
                    Comment.response_id.in_(submitted_response_ids(consultation)),
                ),
            )
            .order_by(Comment.created_at, Comment.id)
        )
    )


def group_by_clause(comments: Iterable[Comment]) -> dict[int | None, list[Comment]]:
    grouped: dict[int | None, list[Comment]] = {}
    for comment in comments:
        grouped.setdefault(comment.clause_id, []).append(comment)
    return grouped


# --- the tracker ---------------------------------------------------------------------------
@dataclass
class TrackerRow:
    response: UnitResponse
    status: TrackerStatus
    # Comments in the submitted position; None while the unit's drafts are private.
    written: int | None
    conference: int
    moment: datetime

    @property
    def label(self) -> str:
        return TRACKER_LABELS[self.status]

    @property
    def deadline(self) -> datetime:
        return self.response.deadline

    @property
    def days_left(self) -> int:
        return days_left(self.response.deadline, self.moment)


@dataclass
class Tracker:
    rows: list[TrackerRow]
    counts: dict[TrackerStatus, int] = field(default_factory=dict)

    @property
    def agreed(self) -> int:
        """Units that answered "thống nhất với dự thảo", on time or late."""
        return sum(
            1 for r in self.rows if r.response.is_submitted and r.response.agrees_without_comments
        )

    @property
    def comment_total(self) -> int:
        return sum((r.written or 0) + r.conference for r in self.rows)


def tracker(consultation: Consultation, moment: datetime | None = None) -> Tracker:
    """Every invited unit with its state and comment counts; one grouped count query."""
    moment = moment or now()
    counts: Counter[tuple[int, CommentSource]] = Counter()
    for response_id, source, n in db.session.execute(
        select(Comment.response_id, Comment.source, func.count(Comment.id))
        .where(Comment.consultation_id == consultation.id)
        .group_by(Comment.response_id, Comment.source)
    ):
        counts[(response_id, CommentSource(source))] = n
    rows = [
        TrackerRow(
            response=r,
            status=r.tracker_status(moment),
            written=counts[(r.id, CommentSource.WRITTEN)] if r.is_submitted else None,
            conference=counts[(r.id, CommentSource.CONFERENCE)],
            moment=moment,
        )
        for r in sorted_responses(consultation)
    ]
    per_state = Counter(row.status for row in rows)
    return Tracker(rows=rows, counts={s: per_state[s] for s in TrackerStatus})


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
    "DraftText",
    "Tracker",
    "TrackerRow",
    "clause_label",
    "consulted_version_ids",
    "counted_comments",
    "get_round",
    "group_by_clause",
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
