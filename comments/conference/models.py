"""The conference (hội nghị) of a consultation round: the meeting, who attended, who
takes the minutes, and the opinions voiced there.

Opinions voiced at the conference are `Comment`s of the round (source CONFERENCE,
attributed to the speaker's unit), so they enter the consolidation like written ones; an
`Opinion` row links each to the conference and names who spoke.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.clock import UTCDateTime, now, to_local
from accounts.i18n import N_
from accounts.models import Unit, User, enum_type
from comments.consultation.models import Comment, Consultation
from drafts.models import Clause
from extensions import db


class MeetingMode(enum.StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


MEETING_MODE_LABELS = {
    MeetingMode.ONLINE: N_("Trực tuyến"),
    MeetingMode.IN_PERSON: N_("Trực tiếp"),
    MeetingMode.HYBRID: N_("Trực tiếp kết hợp trực tuyến"),
}
# How documents, the audit log and `Comment.meeting_form` name the meeting: Vietnamese.
MEETING_FORMS = {
    MeetingMode.ONLINE: "Hội nghị trực tuyến",
    MeetingMode.IN_PERSON: "Hội nghị trực tiếp",
    MeetingMode.HYBRID: "Hội nghị trực tiếp kết hợp trực tuyến",
}


class Conference(db.Model):
    """The conference of one consultation round (at most one per round)."""

    __tablename__ = "conferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), unique=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    mode: Mapped[MeetingMode] = mapped_column(enum_type(MeetingMode))
    place: Mapped[str] = mapped_column(String(300))
    chair_name: Mapped[str] = mapped_column(String(200))
    chair_title: Mapped[str] = mapped_column(String(200), default="")
    conclusions: Mapped[str] = mapped_column(Text, default="")
    # What the room's screen shows: a clause, the general opinions, or (neither) all.
    current_clause_id: Mapped[int | None] = mapped_column(
        ForeignKey("clauses.id", ondelete="SET NULL")
    )
    current_general: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)
    # The drafter and a secretary may edit the details or the conclusions at once.
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    consultation: Mapped[Consultation] = relationship()
    current_clause: Mapped[Clause | None] = relationship()
    created_by: Mapped[User] = relationship()
    secretaries: Mapped[list[ConferenceSecretary]] = relationship(
        back_populates="conference", cascade="all, delete-orphan", order_by="ConferenceSecretary.id"
    )
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="conference", cascade="all, delete-orphan", order_by="Attendance.id"
    )
    opinions: Mapped[list[Opinion]] = relationship(
        back_populates="conference",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Opinion.id",
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def meeting_form(self) -> str:
        return MEETING_FORMS[self.mode]

    @property
    def mode_label(self) -> str:
        return MEETING_MODE_LABELS[self.mode]

    @property
    def held_on(self) -> date:
        return to_local(self.starts_at).date()

    @property
    def is_closed(self) -> bool:
        """The round is over: nothing more is recorded."""
        return self.consultation.closed_at is not None

    def attendance_for(self, unit_id: int) -> Attendance | None:
        for row in self.attendances:
            if row.unit_id == unit_id:
                return row
        return None

    # --- permissions -------------------------------------------------------------------
    def can_manage(self, user: User) -> bool:
        """The details, the secretaries: the round's drafters."""
        return self.consultation.can_manage(user)

    def is_secretary(self, user: User) -> bool:
        return user.can_take_minutes() and any(s.user_id == user.id for s in self.secretaries)

    def can_record(self, user: User) -> bool:
        """Who records attendance, opinions, the clause on screen and the conclusions: a
        secretary the drafter assigned, and the drafter themself. (Whether the round still
        takes them is the operations' question: a closed round answers 409.)"""
        return self.can_manage(user) or self.is_secretary(user)

    def can_view(self, user: User) -> bool:
        """The presenter page and the minutes: whoever records, and the round's participants."""
        return self.can_record(user) or self.consultation.can_view(user)

    def can_download_minutes(self, user: User) -> bool:
        """The minutes hold every opinion: whoever records, and the round's drafters."""
        return self.can_record(user) or self.consultation.can_track(user)

    def can_see_opinion(self, user: User, comment: Comment) -> bool:
        """Conference opinions were voiced in public; other units still see them only as
        the round's visibility allows (`Comment.can_view`)."""
        return self.can_record(user) or comment.can_view(user)


class ConferenceSecretary(db.Model):
    """A user with the secretary role, assigned by the drafter to one conference."""

    __tablename__ = "conference_secretaries"
    __table_args__ = (UniqueConstraint("conference_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    conference: Mapped[Conference] = relationship(back_populates="secretaries")
    user: Mapped[User] = relationship()


class Attendance(db.Model):
    """Whether an invited unit attended, and who represented it."""

    __tablename__ = "conference_attendances"
    __table_args__ = (UniqueConstraint("conference_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    attended: Mapped[bool] = mapped_column(Boolean, default=True)
    representatives: Mapped[str] = mapped_column(String(500), default="")

    conference: Mapped[Conference] = relationship(back_populates="attendances")
    unit: Mapped[Unit] = relationship()


class Opinion(db.Model):
    """An opinion voiced at the conference: who spoke, and the round's comment holding
    what was said (its unit, clause and text)."""

    __tablename__ = "conference_opinions"

    id: Mapped[int] = mapped_column(primary_key=True)
    conference_id: Mapped[int] = mapped_column(
        ForeignKey("conferences.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), unique=True
    )
    speaker_name: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    conference: Mapped[Conference] = relationship(back_populates="opinions")
    comment: Mapped[Comment] = relationship(lazy="joined")
    recorded_by: Mapped[User] = relationship()
