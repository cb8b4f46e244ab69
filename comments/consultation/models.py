"""Consultation rounds, each invited unit's response, comments, and dispositions.

One round (Consultation) asks a set of units about one published version. Each
invited unit has one UnitResponse: the official position its head submits. Staff
write Comments on clauses (or general comments) that stay inside the unit until
the head submits. The drafter answers every comment with a Disposition.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask_babel import gettext
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from unidecode import unidecode

from accounts.clock import UTCDateTime, now
from accounts.i18n import N_
from accounts.models import Unit, User, enum_type
from drafts.models import Clause, Draft, DraftState, Version
from extensions import db


def fold_text(text: str) -> str:
    """Lower-case and strip diacritics, so "tieu chi" finds "tiêu chí"."""
    return unidecode(text or "").lower()


def can_open_consultation(draft: Draft, user: User) -> bool:
    """A drafter of the draft opens a round, from "Nháp" or, for the next version,
    from "Đã chỉnh lý" (the lifecycle table says the same)."""
    return (
        user.can_draft()
        and draft.is_drafter(user)
        and draft.state in (DraftState.DRAFT, DraftState.REVISED)
    )


class Visibility(enum.StrEnum):
    OPEN = "open"  # units see each other's submitted comments
    BLIND = "blind"  # only the drafters see comments until the close


VISIBILITY_LABELS = {
    Visibility.OPEN: N_("Công khai (các đơn vị xem được ý kiến đã gửi của nhau)"),
    Visibility.BLIND: N_("Kín (chỉ cơ quan soạn thảo xem ý kiến cho đến khi kết thúc lấy ý kiến)"),
}


class ResponseStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    DRAFTING = "drafting"
    SUBMITTED = "submitted"


class TrackerStatus(enum.StrEnum):
    """What the drafter's tracker shows; derived, never stored."""

    NOT_STARTED = "not_started"
    DRAFTING = "drafting"
    SUBMITTED = "submitted"
    AGREED = "agreed"
    LATE = "late"  # submitted after its deadline
    OVERDUE = "overdue"  # deadline passed, nothing submitted


TRACKER_LABELS = {
    TrackerStatus.NOT_STARTED: N_("Chưa góp ý"),
    TrackerStatus.DRAFTING: N_("Đang soạn ý kiến"),
    TrackerStatus.SUBMITTED: N_("Đã gửi ý kiến"),
    TrackerStatus.AGREED: N_("Thống nhất với dự thảo"),
    TrackerStatus.LATE: N_("Gửi muộn"),
    TrackerStatus.OVERDUE: N_("Quá hạn, chưa gửi"),
}


class CommentSource(enum.StrEnum):
    WRITTEN = "written"
    CONFERENCE = "conference"
    # From a unit's official letter or marked-up file that the drafter imported on its
    # behalf: like a conference opinion, on record at once.
    LETTER = "letter"


# Opinions the drafter records for a unit: they count as sent without the unit's submit.
RECORDED_SOURCES = (CommentSource.CONFERENCE, CommentSource.LETTER)


class Decision(enum.StrEnum):
    ACCEPTED = "tiep_thu"
    PARTLY = "tiep_thu_mot_phan"
    REJECTED = "khong_tiep_thu"
    EXPLAINED = "giai_trinh"


DECISION_LABELS = {
    Decision.ACCEPTED: N_("Tiếp thu"),
    Decision.PARTLY: N_("Tiếp thu một phần"),
    Decision.REJECTED: N_("Không tiếp thu"),
    Decision.EXPLAINED: N_("Giải trình"),
}
# "Lần lấy ý kiến thứ 2": `Consultation.label`, and in the reader's language `display_label`.
ROUND_LABEL = N_("Lần lấy ý kiến thứ %(n)d")


class Consultation(db.Model):
    """One round of consultation (lấy ý kiến) on one published version."""

    __tablename__ = "consultations"
    __table_args__ = (UniqueConstraint("draft_id", "round_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), index=True)
    round_number: Mapped[int] = mapped_column(Integer, default=1)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    visibility: Mapped[Visibility] = mapped_column(enum_type(Visibility), default=Visibility.BLIND)
    letter_number: Mapped[str] = mapped_column(String(120), default="")
    letter_text: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # Set when the round is closed (by the deadline scan or by the drafter).
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Số, ký hiệu ("15/BC-VP") of this round's consolidation report and of the comparison
    # table from this round's version to the next, as last given at export.
    report_symbol: Mapped[str | None] = mapped_column(String(40))
    comparison_symbol: Mapped[str | None] = mapped_column(String(40))

    draft: Mapped[Draft] = relationship()
    version: Mapped[Version] = relationship()
    created_by: Mapped[User] = relationship()
    responses: Mapped[list[UnitResponse]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan"
    )
    attachments: Mapped[list[ConsultationAttachment]] = relationship(
        back_populates="consultation", cascade="all, delete-orphan"
    )

    @property
    def label(self) -> str:
        """As documents and the audit log write it, always in Vietnamese."""
        return ROUND_LABEL % {"n": self.round_number}

    @property
    def display_label(self) -> str:
        """As pages show it, in the reader's language."""
        return gettext(ROUND_LABEL, n=self.round_number)

    def is_open(self, moment: datetime | None = None) -> bool:
        """Open for comments: started, and not closed by the drafter.

        After `closes_at` units may still submit (marked late) until the round is
        closed; `UnitResponse.deadline` carries per-unit extensions.
        """
        moment = moment or now()
        return self.closed_at is None and self.opens_at <= moment

    @property
    def letter_attachments(self) -> list[ConsultationAttachment]:
        """The request letter's attachments (the units' own files aside)."""
        return [a for a in self.attachments if a.response_id is None]

    def unit_files(self, response_id: int) -> list[ConsultationAttachment]:
        """The files one unit answered with, as they were imported."""
        return [a for a in self.attachments if a.response_id == response_id]

    def response_for(self, unit_id: int) -> UnitResponse | None:
        for response in self.responses:
            if response.unit_id == unit_id:
                return response
        return None

    # --- permissions -------------------------------------------------------------------
    def is_drafter(self, user: User) -> bool:
        return self.draft.is_drafter(user)

    def is_invited(self, user: User) -> bool:
        return self.response_for(user.unit_id) is not None

    def can_view(self, user: User) -> bool:
        return self.is_drafter(user) or self.is_invited(user) or user.can_administer()

    def can_manage(self, user: User) -> bool:
        return user.can_draft() and self.is_drafter(user)

    def can_track(self, user: User) -> bool:
        """The tracker and the consolidated view: the draft's drafters (and admins)."""
        return self.is_drafter(user) or user.can_administer()

    def can_download(self, user: User) -> bool:
        """The request letter's attachments go to invited units and drafters only."""
        return self.is_drafter(user) or self.is_invited(user)

    def can_see_other_units(self, user: User) -> bool:
        """Open rounds show submitted comments to every invited unit; blind rounds
        only once the round is closed. Drafters always see everything."""
        if self.is_drafter(user) or user.can_administer():
            return True
        if not self.is_invited(user):
            return False
        return self.visibility == Visibility.OPEN or self.closed_at is not None


class ConsultationAttachment(db.Model):
    """A file of the round: the request letter's attachments (`response_id` None), or a
    file a unit answered with (its letter, marked-up draft or comment form), kept as
    imported, once per content (`sha256`)."""

    __tablename__ = "consultation_attachments"
    __table_args__ = (UniqueConstraint("response_id", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    response_id: Mapped[int | None] = mapped_column(
        ForeignKey("unit_responses.id", ondelete="CASCADE"), index=True
    )
    sha256: Mapped[str | None] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    consultation: Mapped[Consultation] = relationship(back_populates="attachments")
    response: Mapped[UnitResponse | None] = relationship()
    uploaded_by: Mapped[User | None] = relationship()

    def can_download(self, user: User) -> bool:
        """The request letter's files go to the invited units and the drafters; a unit's
        own file to its people, the drafters and administrators."""
        if self.response is None:
            return self.consultation.can_download(user)
        return (
            user.can_work_for_unit(self.response.unit_id)
            or self.consultation.is_drafter(user)
            or user.can_administer()
        )


def tracker_status(
    status: ResponseStatus,
    *,
    agrees: bool,
    submitted_at: datetime | None,
    deadline: datetime,
    moment: datetime,
) -> TrackerStatus:
    """A unit's state in the tracker; the tracker computes it from plain columns, a
    `UnitResponse` through `tracker_status()`."""
    if status == ResponseStatus.SUBMITTED:
        if submitted_at is not None and submitted_at > deadline:
            return TrackerStatus.LATE
        if agrees:
            return TrackerStatus.AGREED
        return TrackerStatus.SUBMITTED
    if moment > deadline:
        return TrackerStatus.OVERDUE
    if status == ResponseStatus.DRAFTING:
        return TrackerStatus.DRAFTING
    return TrackerStatus.NOT_STARTED


class UnitResponse(db.Model):
    """An invited unit's official position in one round."""

    __tablename__ = "unit_responses"
    __table_args__ = (UniqueConstraint("consultation_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    status: Mapped[ResponseStatus] = mapped_column(
        enum_type(ResponseStatus), default=ResponseStatus.NOT_STARTED
    )
    agrees_without_comments: Mapped[bool] = mapped_column(Boolean, default=False)
    # A per-unit extension of the round's deadline.
    deadline_override: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # `deadline` stored, so the reminder scan finds the responses due soon through an
    # index; kept equal to it by `_store_due_at` and `_move_due_at` below. (Nullable
    # only so that SQLite can add it without rebuilding the table.)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    consultation: Mapped[Consultation] = relationship(back_populates="responses")
    unit: Mapped[Unit] = relationship()
    submitted_by: Mapped[User | None] = relationship()
    submissions: Mapped[list[PositionSubmission]] = relationship(
        back_populates="response", order_by="PositionSubmission.at", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def deadline(self) -> datetime:
        return self.deadline_override or self.consultation.closes_at

    @property
    def is_submitted(self) -> bool:
        return self.status == ResponseStatus.SUBMITTED

    @property
    def is_late(self) -> bool:
        return self.submitted_at is not None and self.submitted_at > self.deadline

    def tracker_status(self, moment: datetime | None = None) -> TrackerStatus:
        return tracker_status(
            self.status,
            agrees=self.agrees_without_comments,
            submitted_at=self.submitted_at,
            deadline=self.deadline,
            moment=moment or now(),
        )

    # --- permissions -------------------------------------------------------------------
    def can_comment(self, user: User) -> bool:
        return (
            user.can_work_for_unit(self.unit_id)
            and not self.is_submitted
            and self.consultation.is_open()
        )

    def can_submit(self, user: User) -> bool:
        return (
            user.can_sign_for_unit(self.unit_id)
            and not self.is_submitted
            and self.consultation.is_open()
        )

    def can_reopen(self, user: User) -> bool:
        """Before the close, the head may take the position back to change it."""
        return (
            user.can_sign_for_unit(self.unit_id)
            and self.is_submitted
            and self.consultation.is_open()
            and now() <= self.deadline
        )

    def can_extend(self, user: User) -> bool:
        return self.consultation.can_manage(user) and self.consultation.closed_at is None


@event.listens_for(UnitResponse, "before_insert")
@event.listens_for(UnitResponse, "before_update")
def _store_due_at(mapper: Any, connection: Any, target: UnitResponse) -> None:
    """Whoever writes a response (operations, factories), `due_at` is its deadline."""
    state = inspect(target)
    if state.has_identity and not state.attrs.deadline_override.history.has_changes():
        return
    if target.deadline_override is not None:
        target.due_at = target.deadline_override
        return
    # Read the round without lazy loading, which a flush must not do.
    consultation = target.__dict__.get("consultation")
    target.due_at = (
        consultation.closes_at
        if consultation is not None
        else connection.scalar(
            select(Consultation.closes_at).where(Consultation.id == target.consultation_id)
        )
    )


@event.listens_for(Consultation, "after_update")
def _move_due_at(mapper: Any, connection: Any, target: Consultation) -> None:
    if inspect(target).attrs.closes_at.history.has_changes():
        table = UnitResponse.__table__
        connection.execute(
            update(table)
            .where(table.c.consultation_id == target.id, table.c.deadline_override.is_(None))
            .values(due_at=target.closes_at)
        )


class PositionSubmission(db.Model):
    """History of a unit's position: every submit and reopen, with what was sent."""

    __tablename__ = "position_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("unit_responses.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(20))  # submit | reopen
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    agrees_without_comments: Mapped[bool] = mapped_column(Boolean, default=False)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    snapshot: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    response: Mapped[UnitResponse] = relationship(back_populates="submissions")
    by: Mapped[User | None] = relationship()


class Disposition(db.Model):
    """The drafter's answer to one or more identical comments."""

    __tablename__ = "dispositions"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[Decision] = mapped_column(enum_type(Decision))
    explanation: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    decided_by: Mapped[User] = relationship()
    comments: Mapped[list[Comment]] = relationship(back_populates="disposition")

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def decision_label(self) -> str:
        return DECISION_LABELS[self.decision]


class Comment(db.Model):
    """A comment on a clause, or a general comment (clause_id is None)."""

    __tablename__ = "comments"
    __table_args__ = (
        Index("ix_comments_consultation_clause", "consultation_id", "clause_id"),
        Index("ix_comments_lineage", "draft_id", "lineage"),
        # The tracker counts each unit's comments by source from this index alone.
        Index("ix_comments_response_source", "response_id", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultations.id", ondelete="CASCADE"))
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    # Indexed by ix_comments_response_source, whose first column it is.
    response_id: Mapped[int] = mapped_column(ForeignKey("unit_responses.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    clause_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id"))
    # The clause's lineage: comments follow "their" clause into later versions.
    lineage: Mapped[str | None] = mapped_column(String(32))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[CommentSource] = mapped_column(
        enum_type(CommentSource), default=CommentSource.WRITTEN
    )
    meeting_date: Mapped[date | None] = mapped_column(Date)
    meeting_form: Mapped[str] = mapped_column(String(200), default="")
    # The unit's new wording for the clause, as written ("1. text", "Điều 5. Title" and
    # its text); the drafter may apply it to the next version.
    proposed_text: Mapped[str | None] = mapped_column(Text)
    # The unit's file the comment was imported from.
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation_attachments.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)
    disposition_id: Mapped[int | None] = mapped_column(
        ForeignKey("dispositions.id", ondelete="SET NULL"), index=True
    )
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    consultation: Mapped[Consultation] = relationship()
    response: Mapped[UnitResponse] = relationship()
    unit: Mapped[Unit] = relationship()
    clause: Mapped[Clause | None] = relationship()
    author: Mapped[User] = relationship()
    disposition: Mapped[Disposition | None] = relationship(back_populates="comments")
    attachment: Mapped[ConsultationAttachment | None] = relationship()
    change_links: Mapped[list[ChangeLink]] = relationship(
        back_populates="comment", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    def set_text(self, text: str) -> None:
        self.text = text
        self.search_text = fold_text(text)

    @property
    def is_general(self) -> bool:
        return self.clause_id is None

    @property
    def is_conference(self) -> bool:
        return self.source == CommentSource.CONFERENCE

    @property
    def is_recorded(self) -> bool:
        """Recorded by the drafter for the unit (a meeting, a letter): sent at once."""
        return self.source in RECORDED_SOURCES

    # What a comment card shows; `comments.consultation.queries.CommentLine` has the same names.
    @property
    def unit_name(self) -> str:
        return self.unit.name

    @property
    def author_name(self) -> str:
        return self.author.full_name

    @property
    def is_sent(self) -> bool:
        return self.response.is_submitted

    # --- permissions -------------------------------------------------------------------
    def can_edit(self, user: User) -> bool:
        if self.is_recorded:
            return self.consultation.can_manage(user) and self.consultation.closed_at is None
        return self.response.can_comment(user)

    def can_view(self, user: User) -> bool:
        """The unit's own people see its comments at once. Everyone else, drafters
        included, sees a written comment only once the head has submitted it (a
        unit's unsent drafts stay inside the unit); conference opinions were voiced
        in public, so they count as sent. Other units also need the round's
        visibility to allow it. `comments.consultation.queries.visible_comments` is the same
        rule in SQL."""
        if user.can_work_for_unit(self.unit_id):
            return True
        if not (self.is_recorded or self.response.is_submitted):
            return False
        return self.consultation.can_see_other_units(user)


class ChangeLink(db.Model):
    """A changed clause of a later version, linked to a comment it answers."""

    __tablename__ = "change_links"
    __table_args__ = (UniqueConstraint("clause_id", "comment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clause_id: Mapped[int] = mapped_column(ForeignKey("clauses.id", ondelete="CASCADE"), index=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    clause: Mapped[Clause] = relationship()
    comment: Mapped[Comment] = relationship(back_populates="change_links")
