"""Consolidation, read: the read models that the consolidation pages, the diff page, the
rounds history and the official documents share.

Only what a unit has officially sent counts: comments of SUBMITTED positions (a unit that
"agrees with the draft" has none) and opinions the drafter recorded from a conference or
imported from its letter. A unit's unsent drafts are never consolidated.

Every read here loads a whole round, or a pair of versions, with a fixed number of queries
(one per table) whatever its size, and groups the rows in Python.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import ColumnElement, Select, String, and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import contains_eager, joinedload, selectinload

from accounts.clock import format_date
from accounts.errors import Invalid, NotFound
from accounts.models import Unit, User
from comments.consolidation.reports import CHANGE_NOTES
from comments.consolidation.reports import GENERAL_GROUP_KEY as GENERAL_KEY
from comments.consultation.models import (
    DECISION_LABELS,
    RECORDED_SOURCES,
    ChangeLink,
    Comment,
    CommentSource,
    Consultation,
    Decision,
    Disposition,
    ResponseStatus,
    UnitResponse,
)
from comments.consultation.queries import GENERAL_LABEL
from drafts.diffing import (
    DiffEntry,
    Segment,
    diff_versions,
    render_word_diff_html,
    summarise,
)
from drafts.models import Clause, Draft, Version
from drafts.tree import (
    CRITERIA_KINDS,
    ClauseLike,
    FlatClause,
    TreeNode,
    build_tree,
    citation_labels,
    heading,
    iter_tree,
    load_flat_clauses,
    load_version_tree,
    to_diff_clauses,
)
from extensions import db


def sentence_start(label: str) -> str:
    """ "điểm đ khoản 4 Điều 7" → "Điểm đ khoản 4 Điều 7": a citation opening a cell."""
    return label[:1].upper() + label[1:]


# --------------------------------------------------------------------------- which comments count


def consolidated_criterion() -> ColumnElement[bool]:
    """SQL condition on Comment joined with its UnitResponse: the comments that count.
    (A unit that agrees with the draft submits no comments, so none of its count.)"""
    return or_(
        Comment.source.in_(RECORDED_SOURCES),
        UnitResponse.status == ResponseStatus.SUBMITTED,
    )


def is_consolidated(comment: Comment) -> bool:
    """The Python twin of `consolidated_criterion`."""
    return comment.is_recorded or comment.response.is_submitted


# --------------------------------------------------------------------------- a round, read


@dataclass(frozen=True, slots=True)
class LinkedChange:
    """A clause of a later version that answers a comment."""

    clause_id: int
    version_id: int
    version_label: str  # "Dự thảo lần 2"
    label: str  # "Điều 6", "khoản 2 Điều 6"

    @property
    def text(self) -> str:
        return f"{sentence_start(self.label)} ({self.version_label})"


@dataclass(slots=True)
class CommentGroup:
    """The comments on one article (its khoản and điểm included), or the general ones."""

    key: str  # the article's lineage, or GENERAL_KEY
    label: str  # "Ý kiến chung", "Điều 5. Nhiệm vụ của Cụm trưởng"
    citation: str  # "Ý kiến chung", "Điều 5"
    comments: list[Any] = field(default_factory=list)  # Comment or ConsolidatedComment

    @property
    def total(self) -> int:
        return len(self.comments)

    @property
    def answered(self) -> int:
        return sum(1 for c in self.comments if c.disposition_id is not None)


@dataclass(slots=True)
class RoundCounts:
    units_invited: int
    units_answered: int
    units_agreed: int
    comments_total: int
    comments_answered: int
    decisions: dict[Decision, int]

    @property
    def unanswered(self) -> int:
        return self.comments_total - self.comments_answered


@dataclass(slots=True)
class Consolidation:
    """Everything the consolidation page and the report show about one round."""

    consultation: Consultation
    responses: list[UnitResponse]
    groups: list[CommentGroup]
    citations: dict[int, str]  # comment id → "Điểm đ khoản 4 Điều 7" / "Ý kiến chung"
    changes: dict[int, list[LinkedChange]]  # comment id → the later clauses answering it
    shared: dict[int, list[int]] = field(default_factory=dict)  # answer id → its comment ids

    @property
    def comments(self) -> list[Comment]:
        return [c for group in self.groups for c in group.comments]

    @property
    def counts(self) -> RoundCounts:
        return round_counts(
            self.responses,
            (
                (c.unit_id, c.is_recorded, c.disposition.decision if c.disposition else None)
                for c in self.comments
            ),
        )

    def unit_label(self, comment: Comment) -> str:
        """The commenting unit, with the meeting for a conference opinion."""
        return unit_label(
            comment.unit.name, comment.is_conference, comment.meeting_date, comment.meeting_form
        )


def round_counts(
    responses: Sequence[UnitResponse],
    comments: Iterable[tuple[int, bool, Decision | None]],
) -> RoundCounts:
    """The round's figures from its responses and, per consolidated comment, (unit id,
    is a conference opinion, decision or None)."""
    conference_units: set[int] = set()
    decisions: Counter[Decision] = Counter()
    total = 0
    for unit_id, is_conference, decision in comments:
        total += 1
        if is_conference:
            conference_units.add(unit_id)
        if decision is not None:
            decisions[decision] += 1
    return RoundCounts(
        units_invited=len(responses),
        units_answered=sum(1 for r in responses if r.is_submitted or r.unit_id in conference_units),
        units_agreed=sum(1 for r in responses if r.is_submitted and r.agrees_without_comments),
        comments_total=total,
        comments_answered=sum(decisions.values()),
        decisions={d: decisions.get(d, 0) for d in Decision},
    )


def unit_label(
    unit_name: str, is_conference: bool, meeting_date: date | None, meeting_form: str | None
) -> str:
    """The commenting unit, with the meeting for a conference opinion."""
    if not is_conference:
        return unit_name
    when = format_date(meeting_date) if meeting_date else ""
    where = " ".join(part for part in (meeting_form or "hội nghị", when) if part)
    return f"{unit_name} (ý kiến tại {where})"


def _responses_by_unit_name(consultation: Consultation) -> list[UnitResponse]:
    """The round's invited units, with their units, by name: one statement."""
    responses = list(
        db.session.scalars(
            select(UnitResponse)
            .options(joinedload(UnitResponse.unit))
            .where(UnitResponse.consultation_id == consultation.id)
        ).unique()
    )
    responses.sort(key=lambda r: r.unit.name)
    return responses


def load_consolidation(consultation: Consultation) -> Consolidation:
    """The round's consolidated comments grouped by article, in document order.

    A fixed number of statements: responses with units, comments with their answers,
    change links with their clauses and versions, the version's clauses, and the linked
    clauses with their ancestors (for their citations).
    """
    responses = _responses_by_unit_name(consultation)
    comments = list(
        db.session.scalars(
            select(Comment)
            .join(Comment.response)
            .options(
                contains_eager(Comment.response),
                joinedload(Comment.unit),
                joinedload(Comment.disposition).joinedload(Disposition.decided_by),
                joinedload(Comment.change_links)
                .joinedload(ChangeLink.clause)
                .joinedload(Clause.version),
            )
            .where(Comment.consultation_id == consultation.id, consolidated_criterion())
            .order_by(Comment.id)
        ).unique()
    )
    groups, citations = group_comments(_outline(consultation.version_id), comments)
    return Consolidation(
        consultation=consultation,
        responses=responses,
        groups=groups,
        citations=citations,
        changes=_linked_changes(comments),
        shared=_answered_together(comments),
    )


@dataclass(slots=True)
class ConsolidatedComment:
    """A consolidated comment as the consolidation page lists it: plain values read in one
    statement, named like `Comment`'s attributes. A round has thousands, and building
    them as ORM objects (with their unit, answer and links) took most of the page's time.
    """

    id: int
    clause_id: int | None
    unit_id: int
    unit_name: str
    text: str
    is_conference: bool
    disposition_id: int | None
    decision: Decision | None
    explanation: str
    unit_label: str  # `unit_label()`: the unit, with the meeting for a conference opinion
    citation: str = ""  # "Điểm đ khoản 4 Điều 7" / "Ý kiến chung"
    changes: tuple[str, ...] = ()  # `LinkedChange.text` of each
    shared: int = 1  # how many comments its answer covers (itself included)
    # The answer form's query selecting this comment, or all those sharing its answer.
    answer_query: str = ""
    proposed_text: str | None = None  # the unit's new wording for the clause
    is_recorded: bool = False  # recorded by the drafter (a meeting, a letter)

    @property
    def decision_label(self) -> str:
        return DECISION_LABELS[self.decision] if self.decision is not None else ""


@dataclass(slots=True)
class ConsolidationPage:
    """The consolidation page of a round: what `Consolidation` holds, as plain rows, with
    the same groups, citations, counts and linked changes (see `consolidation_page`)."""

    consultation: Consultation
    responses: list[UnitResponse]
    groups: list[CommentGroup]  # of ConsolidatedComment
    counts: RoundCounts
    unit_names: dict[int, str]  # the units that commented, by id
    change_texts: set[str]  # every linked change's text, once


def consolidation_page(consultation: Consultation) -> ConsolidationPage:
    """`load_consolidation` for the page: the same grouping, citations, counts and
    linked changes (`group_comments`, `round_counts`, `unit_label`, `_name_changes`), read
    as plain columns. A fixed number of statements: responses with units, the comments
    with their unit and answer, their change links, the draft's versions, the version's
    clauses and (when there are links) the linked clauses with their ancestors.
    """
    responses = _responses_by_unit_name(consultation)
    conference = CommentSource.CONFERENCE
    comments = [
        ConsolidatedComment(
            id=cid,
            clause_id=clause_id,
            unit_id=unit_id,
            unit_name=unit_name,
            text=text,
            is_conference=source == conference,
            disposition_id=disposition_id,
            decision=decision,
            explanation=explanation or "",
            unit_label=unit_label(unit_name, source == conference, meeting_date, meeting_form),
            proposed_text=proposed_text,
            is_recorded=source in RECORDED_SOURCES,
        )
        for (
            cid,
            clause_id,
            unit_id,
            unit_name,
            text,
            source,
            meeting_date,
            meeting_form,
            disposition_id,
            decision,
            explanation,
            proposed_text,
        ) in _read(
            select(
                Comment.id,
                Comment.clause_id,
                Comment.unit_id,
                Unit.name,
                Comment.text,
                # The stored value (CommentSource is a str enum): no conversion per row.
                type_coerce(Comment.source, String),
                Comment.meeting_date,
                Comment.meeting_form,
                Comment.disposition_id,
                Disposition.decision,
                Disposition.explanation,
                Comment.proposed_text,
            )
            .select_from(Comment)
            .join(UnitResponse, UnitResponse.id == Comment.response_id)
            .join(Unit, Unit.id == Comment.unit_id)
            .outerjoin(Disposition, Disposition.id == Comment.disposition_id)
            .where(Comment.consultation_id == consultation.id, consolidated_criterion())
            .order_by(Comment.id)
        )
    ]
    by_id = {c.id: c for c in comments}
    links = _read(
        select(ChangeLink.comment_id, Clause.id, Clause.seq, Clause.version_id)
        .join(Clause, Clause.id == ChangeLink.clause_id)
        .join(Comment, Comment.id == ChangeLink.comment_id)
        .where(Comment.consultation_id == consultation.id)
    )
    # A handful of versions: read once, rather than with each link.
    versions = {v.id: v for v in consultation.draft.versions}
    changes = _name_changes(
        (comment_id, clause_id, seq, versions[version_id])
        for comment_id, clause_id, seq, version_id in links
        if comment_id in by_id
    )
    groups, citations = group_comments(_outline(consultation.version_id), comments)

    # Most answers are one comment's: only those shared by several need their list.
    sizes = Counter(c.disposition_id for c in comments if c.disposition_id is not None)
    shared = _answered_together(c for c in comments if sizes[c.disposition_id] > 1)
    queries: dict[int, str] = {}
    change_texts: set[str] = set()
    for comment in comments:
        comment.citation = citations[comment.id]
        if comment.id in changes:
            comment.changes = tuple(change.text for change in changes[comment.id])
            change_texts.update(comment.changes)
        together = shared.get(comment.disposition_id) if comment.disposition_id else None
        if together is None:
            comment.answer_query = _selection_query([comment.id])
            continue
        comment.shared = len(together)
        if comment.disposition_id not in queries:
            queries[comment.disposition_id] = _selection_query(together)
        comment.answer_query = queries[comment.disposition_id]
    return ConsolidationPage(
        consultation=consultation,
        responses=responses,
        groups=groups,
        counts=round_counts(responses, ((c.unit_id, c.is_recorded, c.decision) for c in comments)),
        unit_names={c.unit_id: c.unit_name for c in comments},
        change_texts=change_texts,
    )


def _read(statement: Select[Any]) -> Iterator[Any]:
    """The rows of a plain-columns statement, one at a time (after the autoflush that
    `Session.execute` would do).

    `Session.execute` builds every row of the result before the first one is read; here
    rows come from the cursor as they are used, so a page turning thousands of rows into
    its own objects never holds both at once (which kept the garbage collector busy).
    """
    if db.session.autoflush:
        db.session.flush()
    return iter(db.session.connection().execute(statement))


def _outline(version_id: int) -> list[FlatClause]:
    """A version's clauses without their text, in document order: enough for grouping
    and citations."""
    return load_flat_clauses([version_id], with_text=False)[version_id]


def _selection_query(comment_ids: Iterable[int]) -> str:
    """ "comment=3&comment=7", as `url_for(..., comment=ids)` writes it (ids need no quoting)."""
    return "&".join(f"comment={int(i)}" for i in comment_ids)


def _answered_together(
    comments: Iterable[Comment] | Iterable[ConsolidatedComment],
) -> dict[int, list[int]]:
    shared: dict[int, list[int]] = {}
    for comment in comments:
        if comment.disposition_id is not None:
            shared.setdefault(comment.disposition_id, []).append(comment.id)
    return shared


def group_comments(
    clauses: Sequence[ClauseLike],
    comments: Iterable[Comment] | Iterable[ConsolidatedComment],
) -> tuple[list[CommentGroup], dict[int, str]]:
    """Group comments by article ("Ý kiến chung" first, then document order); a comment on
    a khoản or điểm belongs to its Điều. `clauses` are the version's, in document order
    (`seq`). Returns the groups and each comment's citation."""
    labels = citation_labels(clauses)
    by_id = {c.id: c for c in clauses}
    order = {c.id: i for i, c in enumerate(clauses)}
    groups = {GENERAL_KEY: CommentGroup(GENERAL_KEY, GENERAL_LABEL, GENERAL_LABEL)}
    group_order: dict[str, int] = {GENERAL_KEY: -1}
    citations: dict[int, str] = {}
    placed: list[tuple[int, int, str, Any]] = []
    for comment in comments:
        clause = by_id.get(comment.clause_id) if comment.clause_id is not None else None
        if clause is None:
            citations[comment.id] = GENERAL_LABEL
            placed.append((-1, comment.id, GENERAL_KEY, comment))
            continue
        owner = group_clause(clause, by_id)
        if owner.lineage not in groups:
            citation = sentence_start(labels[owner.id])
            groups[owner.lineage] = CommentGroup(
                owner.lineage, titled_label(citation, owner.title), citation
            )
            group_order[owner.lineage] = order[owner.id]
        citations[comment.id] = sentence_start(labels[clause.id])
        placed.append((order[clause.id], comment.id, owner.lineage, comment))
    # By position, then id: each (position, id) is unique, so the rest is never compared.
    placed.sort()
    for _position, _id, key, comment in placed:
        groups[key].comments.append(comment)
    ordered = sorted(groups.values(), key=lambda g: group_order[g.key])
    return [g for g in ordered if g.comments], citations


def group_clause(clause: ClauseLike, by_id: Mapping[int, ClauseLike]) -> ClauseLike:
    """The provision a comment is grouped under: its Điều; for criteria tables the top
    group; otherwise (a Chương, a Mục) the provision itself. `by_id`: the version's
    clauses."""
    current: ClauseLike | None = clause
    while current is not None:
        kind = str(current.kind)
        parent = by_id.get(current.parent_id) if current.parent_id is not None else None
        if kind == "article" or (parent is None and kind in CRITERIA_KINDS):
            return current
        current = parent
    return clause


def titled_label(label: str, title: str) -> str:
    title = (title or "").strip()
    # Bonus and deduction groups are already cited by their title ("Phần Điểm thưởng").
    return f"{label}. {title}" if title and title not in label else label


def _linked_changes(comments: Iterable[Comment]) -> dict[int, list[LinkedChange]]:
    """Name each linked clause by its citation in its own version (one more query)."""
    return _name_changes(
        (link.comment_id, link.clause.id, link.clause.seq, link.clause.version)
        for c in comments
        for link in c.change_links
    )


def _name_changes(
    links: Iterable[tuple[int, int, int, Version]],
) -> dict[int, list[LinkedChange]]:
    """Each comment's linked clauses, from (comment id, clause id, clause seq, its version),
    in document order and named by their citation in their own version (one query, for
    those clauses and their ancestors, when there are links)."""
    ordered = sorted(links, key=lambda lk: (lk[3].number, lk[2]))
    if not ordered:
        return {}
    labels = _citation_labels_of({clause_id for _comment, clause_id, *_rest in ordered})
    changes: dict[int, list[LinkedChange]] = {}
    for comment_id, clause_id, _seq, version in ordered:
        changes.setdefault(comment_id, []).append(
            LinkedChange(clause_id, version.id, version.label, labels.get(clause_id, ""))
        )
    return changes


def _citation_labels_of(clause_ids: Iterable[int]) -> dict[int, str]:
    """`citation_labels` of these clauses, each in its own version, from one query that
    reads them with their ancestors (all a citation is made of) rather than their whole
    versions."""
    chain = (
        select(Clause.id, Clause.parent_id)
        .where(Clause.id.in_(set(clause_ids)))
        .cte("chain", recursive=True)
    )
    chain = chain.union(
        select(Clause.id, Clause.parent_id).join(chain, Clause.id == chain.c.parent_id)
    )
    clauses = [
        FlatClause(clause_id, parent_id, 0, kind, number, title)
        for clause_id, parent_id, kind, number, title in _read(
            select(
                Clause.id,
                Clause.parent_id,
                type_coerce(Clause.kind, String),
                Clause.number,
                Clause.title,
            ).where(Clause.id.in_(select(chain.c.id)))
        )
    ]
    return citation_labels(clauses)


def comments_for_answer(consultation: Consultation, ids: Iterable[int]) -> list[Comment]:
    """The selected comments of this round, with their answers, in one query each."""
    ids = set(ids)
    if not ids:
        return []
    rows = list(
        db.session.scalars(
            select(Comment)
            .options(
                joinedload(Comment.unit),
                joinedload(Comment.response),
                selectinload(Comment.disposition).selectinload(Disposition.comments),
            )
            .where(Comment.consultation_id == consultation.id, Comment.id.in_(ids))
            .order_by(Comment.id)
        ).unique()
    )
    if len(rows) != len(ids):
        raise NotFound(_("Không tìm thấy ý kiến góp ý được chọn trong lần lấy ý kiến này."))
    return rows


# --------------------------------------------------------------------------- across versions


def _consolidated_before(draft_id: int, number: int) -> Select[tuple[Comment]]:
    """The consolidated comments on the draft's versions before version `number`, each with
    its response, round (and its version), unit and answer loaded in the same statement."""
    return (
        select(Comment)
        .join(Comment.response)
        .join(Comment.consultation)
        .join(Consultation.version)
        .options(
            contains_eager(Comment.response),
            contains_eager(Comment.consultation).contains_eager(Consultation.version),
            joinedload(Comment.unit),
            joinedload(Comment.disposition),
        )
        .where(
            Comment.draft_id == draft_id,
            Version.number < number,
            consolidated_criterion(),
        )
    )


def earlier_comments_by_lineage(draft: Draft, version: Version) -> dict[str, list[Comment]]:
    """Consolidated comments made on earlier versions of the draft, keyed by the lineage of
    the clause they were made on, so a page showing `version` can put them beside the
    matching clause ("Ý kiến ở dự thảo lần n"). One query.

    Each comment comes with its unit, response, answer and round (`comment.consultation`,
    whose `version.number` is n). Callers decide who may see them (Comment.can_view).
    """
    rows = db.session.scalars(
        _consolidated_before(draft.id, version.number)
        .where(Comment.lineage.is_not(None))
        .order_by(Version.number, Comment.id)
    ).unique()
    found: dict[str, list[Comment]] = {}
    for comment in rows:
        found.setdefault(comment.lineage or "", []).append(comment)
    return found


def earlier_label(comment: Comment) -> str:
    """ "Ý kiến ở dự thảo lần 1"."""
    return f"Ý kiến ở dự thảo lần {comment.consultation.version.number}"


@dataclass(slots=True)
class DiffRow:
    """One clause of the diff, with the comments its change answers."""

    entry: DiffEntry
    links: Sequence[ChangeLink] = ()

    @property
    def lineage(self) -> str:
        return self.entry.lineage

    @property
    def changes(self) -> list[str]:
        return [c for c in CHANGE_NOTES if c in self.entry.changes]

    @property
    def change_labels(self) -> list[str]:
        return [CHANGE_NOTES[c] for c in self.changes]

    @property
    def label(self) -> str:
        return sentence_start(self.entry.clause.label)

    @property
    def old_label(self) -> str | None:
        """The former citation, when the clause was renumbered or moved."""
        old, new = self.entry.old, self.entry.new
        if old is None or new is None or old.label == new.label:
            return None
        return sentence_start(old.label)

    @property
    def heading(self) -> str:
        clause = self.entry.clause
        return heading(clause.kind, clause.number)

    @property
    def old_heading(self) -> str:
        old = self.entry.old
        return heading(old.kind, old.number) if old is not None else ""

    @property
    def title_html(self) -> Markup:
        return self._html(self.entry.title_diff, "title")

    @property
    def text_html(self) -> Markup:
        return self._html(self.entry.word_diff, "text")

    def _html(self, segments: list[Segment], attr: str) -> Markup:
        old, new = self.entry.old, self.entry.new
        if segments:
            return render_word_diff_html(segments)
        if new is None:
            text = getattr(old, attr)
            return Markup("<del>{}</del>").format(text) if text else Markup("")
        text = getattr(new, attr)
        if old is None:
            return Markup("<ins>{}</ins>").format(text) if text else Markup("")
        return escape(text)


@dataclass(slots=True)
class VersionDiff:
    draft: Draft
    old: Version
    new: Version
    rows: list[DiffRow]
    new_clause_ids: dict[str, int]  # lineage → the clause's id in the newer version

    @property
    def summary(self) -> dict[str, int]:
        return summarise(row.entry for row in self.rows)

    @property
    def changed_rows(self) -> list[DiffRow]:
        return [row for row in self.rows if row.entry.changes]


def version_diff(old: Version, new: Version, *, with_links: bool = True) -> VersionDiff:
    """Two versions aligned by lineage, each change with the comments it answers.

    Two statements whatever the size: both versions' clauses, and the change links made
    on clauses of the versions after `old` up to `new` (with their comments and units).
    Without `with_links`, the rows' `links` stay empty and the second statement is not
    made (the diff page reads the links as plain rows: `diff_page`).
    """
    if old.draft_id != new.draft_id:
        raise Invalid(_("Chỉ so sánh được hai phiên bản của cùng một dự thảo."))
    clauses = load_flat_clauses([old.id, new.id])
    old_rows, new_rows = clauses[old.id], clauses[new.id]
    entries = diff_versions(to_diff_clauses(old_rows), to_diff_clauses(new_rows))
    links = _links_between(old, new) if with_links else {}
    return VersionDiff(
        draft=new.draft,
        old=old,
        new=new,
        rows=[DiffRow(entry, links.get(entry.lineage, ())) for entry in entries],
        new_clause_ids={c.lineage: c.id for c in new_rows},
    )


def _between(old: Version, new: Version) -> ColumnElement[bool]:
    """Versions after the older of the two, up to the newer: where the changes from one
    to the other were made (SQL condition on Version)."""
    low, high = sorted((old.number, new.number))
    return and_(Version.draft_id == old.draft_id, Version.number > low, Version.number <= high)


def _links_between(old: Version, new: Version) -> dict[str, list[ChangeLink]]:
    links = db.session.scalars(
        select(ChangeLink)
        .join(ChangeLink.clause)
        .join(Clause.version)
        .options(
            contains_eager(ChangeLink.clause).contains_eager(Clause.version),
            joinedload(ChangeLink.comment).joinedload(Comment.unit),
            joinedload(ChangeLink.comment).joinedload(Comment.disposition),
            joinedload(ChangeLink.comment).joinedload(Comment.response),
            joinedload(ChangeLink.comment).joinedload(Comment.consultation),
        )
        .where(_between(old, new))
        .order_by(ChangeLink.comment_id)
    ).unique()
    by_lineage: dict[str, list[ChangeLink]] = {}
    seen: set[tuple[str, int]] = set()
    for link in links:
        key = (link.clause.lineage, link.comment_id)
        if key not in seen:
            seen.add(key)
            by_lineage.setdefault(link.clause.lineage, []).append(link)
    return by_lineage


@dataclass(frozen=True, slots=True)
class DiffComment:
    """A comment beside a clause of the diff page, as plain values: one the change
    answers (`DiffPage.linked`) or one made on an earlier version (`DiffPage.earlier`)."""

    id: int
    unit_name: str
    text: str
    decision_label: str  # "" when not answered
    explanation: str
    round: int  # the number of the version it was made on: "Ý kiến ở dự thảo lần n"


@dataclass(slots=True)
class DiffPage:
    """The diff page: the diff (its rows' `links` empty) and, per lineage, the comments
    this user may read beside each clause."""

    diff: VersionDiff
    linked: dict[str, list[DiffComment]]  # what `visible_links` gives, as plain rows
    # What `earlier_comments_by_lineage` gives that the user may read, less the comments
    # the same clause's change is linked to (shown as linked already).
    earlier: dict[str, list[DiffComment]]
    rounds: set[int]  # the version numbers in `earlier`


def diff_page(old: Version, new: Version, user: User) -> DiffPage:
    """`version_diff`, `visible_links` and `earlier_comments_by_lineage` filtered by
    `Comment.can_view`, for the page: the same rows, read as plain columns (a draft's
    earlier rounds hold thousands of comments). Four statements whatever the size (the
    clauses, the links, the earlier comments, the draft's rounds for who may see what),
    and for a user who is not a drafter one more per round with comments shown: its
    invited units.
    """
    diff = version_diff(old, new, with_links=False)
    can_view = comment_viewer(
        user,
        db.session.scalars(select(Consultation).where(Consultation.draft_id == new.draft_id)),
    )
    sent = or_(
        Comment.source.in_(RECORDED_SOURCES),
        UnitResponse.status == ResponseStatus.SUBMITTED,
    )
    linked: dict[str, list[DiffComment]] = {}
    seen: set[tuple[str, int]] = set()
    for lineage, cid, unit_id, unit, text, consultation_id, is_sent, decision in _read(
        select(
            Clause.lineage,
            Comment.id,
            Comment.unit_id,
            Unit.name,
            Comment.text,
            Comment.consultation_id,
            sent,
            Disposition.decision,
        )
        .select_from(ChangeLink)
        .join(Clause, Clause.id == ChangeLink.clause_id)
        .join(Version, Version.id == Clause.version_id)
        .join(Comment, Comment.id == ChangeLink.comment_id)
        .join(UnitResponse, UnitResponse.id == Comment.response_id)
        .join(Unit, Unit.id == Comment.unit_id)
        .outerjoin(Disposition, Disposition.id == Comment.disposition_id)
        .where(_between(old, new))
        .order_by(ChangeLink.comment_id)
    ):
        if (lineage, cid) in seen:
            continue
        seen.add((lineage, cid))
        if can_view(unit_id, consultation_id, sent=bool(is_sent)):
            label = DECISION_LABELS[decision] if decision is not None else ""
            linked.setdefault(lineage, []).append(DiffComment(cid, unit, text, label, "", 0))
    earlier: dict[str, list[DiffComment]] = {}
    rounds: set[int] = set()
    for lineage, cid, unit_id, unit, text, consultation_id, number, decision, explanation in _read(
        select(
            Comment.lineage,
            Comment.id,
            Comment.unit_id,
            Unit.name,
            Comment.text,
            Comment.consultation_id,
            Version.number,
            Disposition.decision,
            Disposition.explanation,
        )
        .select_from(Comment)
        .join(UnitResponse, UnitResponse.id == Comment.response_id)
        .join(Consultation, Consultation.id == Comment.consultation_id)
        .join(Version, Version.id == Consultation.version_id)
        .join(Unit, Unit.id == Comment.unit_id)
        .outerjoin(Disposition, Disposition.id == Comment.disposition_id)
        .where(
            Comment.draft_id == new.draft_id,
            Comment.lineage.is_not(None),
            Version.number < new.number,
            consolidated_criterion(),
        )
        .order_by(Version.number, Comment.id)
    ):
        if (lineage, cid) in seen or not can_view(unit_id, consultation_id, sent=True):
            continue
        label = DECISION_LABELS[decision] if decision is not None else ""
        earlier.setdefault(lineage, []).append(
            DiffComment(cid, unit, text, label, explanation or "", number)
        )
        rounds.add(number)
    return DiffPage(diff, linked, earlier, rounds)


def comment_viewer(user: User, consultations: Iterable[Consultation]) -> Callable[..., bool]:
    """`Comment.can_view(user)` for comments read as plain columns (of these rounds):
    `can_view(unit_id, consultation_id, sent=...)`, where `sent` is "a conference opinion
    or the unit's submitted position". The unit and round checks are made once each."""
    rounds = {c.id: c for c in consultations}
    own_unit: dict[int, bool] = {}
    see_others: dict[int, bool] = {}

    def can_view(unit_id: int, consultation_id: int, *, sent: bool) -> bool:
        if unit_id not in own_unit:
            own_unit[unit_id] = user.can_work_for_unit(unit_id)
        if own_unit[unit_id]:
            return True
        if not sent:
            return False
        if consultation_id not in see_others:
            see_others[consultation_id] = rounds[consultation_id].can_see_other_units(user)
        return see_others[consultation_id]

    return can_view


# --------------------------------------------------------------------------- rounds history


@dataclass(slots=True)
class RoundSummary:
    consultation: Consultation
    units_invited: int = 0
    units_answered: int = 0
    units_agreed: int = 0
    comments_total: int = 0
    comments_answered: int = 0


def rounds_history(draft: Draft) -> list[RoundSummary]:
    """Every round of the draft with its figures: three aggregate queries in all."""
    consultations = db.session.scalars(
        select(Consultation)
        .options(joinedload(Consultation.version))
        .where(Consultation.draft_id == draft.id)
        .order_by(Consultation.round_number)
    ).all()
    summaries = {c.id: RoundSummary(c) for c in consultations}
    if not summaries:
        return []
    submitted = UnitResponse.status == ResponseStatus.SUBMITTED
    agreed = and_(submitted, UnitResponse.agrees_without_comments.is_(True))
    spoke_at_conference = (
        select(Comment.id)
        .where(Comment.response_id == UnitResponse.id, Comment.source.in_(RECORDED_SOURCES))
        .exists()
    )
    for cid, invited, answered, agreed_count in db.session.execute(
        select(
            UnitResponse.consultation_id,
            func.count(UnitResponse.id),
            func.count(case((or_(submitted, spoke_at_conference), 1))),
            func.count(case((agreed, 1))),
        )
        .where(UnitResponse.consultation_id.in_(summaries))
        .group_by(UnitResponse.consultation_id)
    ):
        row = summaries[cid]
        row.units_invited, row.units_answered, row.units_agreed = invited, answered, agreed_count
    for cid, total, answered in db.session.execute(
        select(
            Comment.consultation_id,
            func.count(Comment.id),
            func.count(Comment.disposition_id),
        )
        .join(Comment.response)
        .where(Comment.consultation_id.in_(summaries), consolidated_criterion())
        .group_by(Comment.consultation_id)
    ):
        summaries[cid].comments_total, summaries[cid].comments_answered = total, answered
    return list(summaries.values())


# --------------------------------------------------------------------------- linking a change


@dataclass(slots=True)
class LinkCandidate:
    """An earlier comment the drafter may link to a clause of a later version."""

    comment: Comment
    citation: str  # where it was made, in its own version: "Khoản 2 Điều 5" / "Ý kiến chung"
    related: bool  # made on this clause, one of its parents or children, or general
    linked: bool


@dataclass(slots=True)
class LinkChoices:
    label: str  # the clause's citation: "Khoản 2 Điều 6"
    candidates: list[LinkCandidate]


def link_candidates(clause: Clause, *, related_only: bool = True) -> LinkChoices:
    """Consolidated comments on earlier versions, those about this clause first; with
    `related_only`, only those (and whatever is already linked).

    Four statements whatever the size: this version's clauses, the comments, the clauses
    of the versions they were made on (for their citations), and the current links.
    """
    version = clause.version
    roots = load_version_tree(version)
    target = next((n for n in iter_tree(roots) if n.id == clause.id), None)
    if target is None:
        raise NotFound(_("Không tìm thấy điều khoản."))
    family = _family_lineages(target)
    comments = list(
        db.session.scalars(_consolidated_before(version.draft_id, version.number)).unique()
    )
    linked = set(
        db.session.scalars(select(ChangeLink.comment_id).where(ChangeLink.clause_id == clause.id))
    )
    version_ids = {c.consultation.version_id for c in comments}
    earlier = db.session.scalars(
        select(Clause).where(Clause.version_id.in_(version_ids)).order_by(Clause.seq)
    ).all()
    nodes = {n.id: n for n in iter_tree(build_tree(earlier))}
    order = {clause_id: i for i, clause_id in enumerate(nodes)}
    candidates = []
    for comment in comments:
        node = nodes.get(comment.clause_id) if comment.clause_id is not None else None
        related = comment.lineage is None or comment.lineage in family
        if related_only and not related and comment.id not in linked:
            continue
        candidates.append(
            LinkCandidate(
                comment=comment,
                citation=sentence_start(node.label) if node is not None else GENERAL_LABEL,
                related=related,
                linked=comment.id in linked,
            )
        )
    candidates.sort(
        key=lambda c: (
            not c.related,
            c.comment.consultation.round_number,
            order.get(c.comment.clause_id, -1) if c.comment.clause_id else -1,
            c.comment.id,
        )
    )
    return LinkChoices(sentence_start(target.label), candidates)


def _family_lineages(node: TreeNode) -> set[str]:
    """The clause's lineage with those of its ancestors and descendants."""
    family = {n.lineage for n in iter_tree([node])}
    parent = node.parent
    while parent is not None:
        family.add(parent.lineage)
        parent = parent.parent
    return family


def comparable_versions(draft: Draft, user: User) -> list[Version]:
    """Versions this user may compare: drafters see work in progress too."""
    return [v for v in draft.versions if v.can_view(user)]


def visible_links(diff: VersionDiff, user: User) -> dict[str, list[ChangeLink]]:
    """The diff's linked comments this user may read (other units' comments follow the
    round's visibility)."""
    return {
        row.lineage: [link for link in row.links if link.comment.can_view(user)]
        for row in diff.rows
    }


def round_of_version(version: Version) -> Consultation | None:
    """The latest round held on `version`: the comparison from it to the next is that round's."""
    return db.session.scalars(
        select(Consultation)
        .where(Consultation.version_id == version.id)
        .order_by(Consultation.round_number.desc())
        .limit(1)
    ).first()
