"""Drafts, their numbered versions, and each version's clause tree.

A clause keeps a `lineage` key that stays the same across versions, so comments,
diffs and the comparison table can follow "the same clause" even when it is
renumbered or moved.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext
from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from accounts.clock import UTCDateTime, now
from accounts.i18n import N_
from accounts.models import Unit, User, enum_type
from extensions import db


class DraftKind(enum.StrEnum):
    REGULATION = "regulation"
    CRITERIA = "criteria"


DRAFT_KIND_LABELS = {
    DraftKind.REGULATION: N_("Quy chế, quy định"),
    DraftKind.CRITERIA: N_("Bảng tiêu chí chấm điểm"),
}


class DraftState(enum.StrEnum):
    DRAFT = "draft"
    CONSULTING = "consulting"
    CONSULTATION_CLOSED = "consultation_closed"
    CONSOLIDATING = "consolidating"
    REVISED = "revised"
    ADOPTED = "adopted"


DRAFT_STATE_LABELS = {
    DraftState.DRAFT: N_("Nháp"),
    DraftState.CONSULTING: N_("Đang lấy ý kiến"),
    DraftState.CONSULTATION_CLOSED: N_("Hết hạn góp ý"),
    DraftState.CONSOLIDATING: N_("Đang tổng hợp"),
    DraftState.REVISED: N_("Đã chỉnh lý"),
    DraftState.ADOPTED: N_("Đã ban hành"),
}
# A draft stays in DRAFT until a round opens, but once a version is published it is no
# longer a "Nháp" to its readers: the label says what they can do with it.
DRAFT_PUBLISHED_LABEL = N_("Đã phát hành, chưa lấy ý kiến")


class ClauseKind(enum.StrEnum):
    PART = "part"
    CHAPTER = "chapter"
    SECTION = "section"
    SUBSECTION = "subsection"
    ARTICLE = "article"
    CLAUSE = "clause"
    POINT = "point"
    PARAGRAPH = "paragraph"
    CRITERION = "criterion"
    BONUS = "bonus"
    DEDUCTION = "deduction"


# Also the words of a heading ("Chương I"), which stays Vietnamese: the text's own numbering.
CLAUSE_KIND_LABELS = {
    ClauseKind.PART: N_("Phần"),
    ClauseKind.CHAPTER: N_("Chương"),
    ClauseKind.SECTION: N_("Mục"),
    ClauseKind.SUBSECTION: N_("Tiểu mục"),
    ClauseKind.ARTICLE: N_("Điều"),
    ClauseKind.CLAUSE: N_("Khoản"),
    ClauseKind.POINT: N_("Điểm"),
    ClauseKind.PARAGRAPH: N_("Đoạn"),
    ClauseKind.CRITERION: N_("Tiêu chí"),
    ClauseKind.BONUS: N_("Điểm thưởng"),
    ClauseKind.DEDUCTION: N_("Điểm trừ"),
}
# "Dự thảo lần 2": `Version.label`, and in the reader's language `display_label`.
VERSION_LABEL = N_("Dự thảo lần %(n)d")


class VersionStatus(enum.StrEnum):
    EDITING = "editing"
    PUBLISHED = "published"


def new_lineage() -> str:
    return uuid.uuid4().hex


class Draft(db.Model):
    __tablename__ = "drafts"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[DraftKind] = mapped_column(enum_type(DraftKind))
    state: Mapped[DraftState] = mapped_column(enum_type(DraftState), default=DraftState.DRAFT)
    drafting_unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    # Set by adoption (thông qua / ban hành).
    adopted_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("versions.id", use_alter=True, name="fk_drafts_adopted_version_id_versions")
    )
    decision_number: Mapped[str | None] = mapped_column(String(120))
    decision_date: Mapped[date | None] = mapped_column(Date)
    signer_name: Mapped[str | None] = mapped_column(String(200))
    adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    drafting_unit: Mapped[Unit] = relationship()
    created_by: Mapped[User] = relationship()
    drafters: Mapped[list[DraftDrafter]] = relationship(
        back_populates="draft", cascade="all, delete-orphan"
    )
    versions: Mapped[list[Version]] = relationship(
        back_populates="draft",
        order_by="Version.number",
        foreign_keys="Version.draft_id",
        cascade="all, delete-orphan",
    )
    adopted_version: Mapped[Version | None] = relationship(foreign_keys=[adopted_version_id])

    @property
    def state_label(self) -> str:
        if self.state == DraftState.DRAFT and self.has_published_version:
            return DRAFT_PUBLISHED_LABEL
        return DRAFT_STATE_LABELS[self.state]

    @property
    def kind_label(self) -> str:
        return DRAFT_KIND_LABELS[self.kind]

    @property
    def latest_version(self) -> Version | None:
        return self.versions[-1] if self.versions else None

    @property
    def has_published_version(self) -> bool:
        return any(v.is_published for v in self.versions)

    def is_drafter(self, user: User) -> bool:
        return any(d.user_id == user.id for d in self.drafters)

    # --- permissions ---------------------------------------------------------------
    def can_edit(self, user: User) -> bool:
        return user.can_draft() and self.is_drafter(user) and self.state != DraftState.ADOPTED

    def can_view(self, user: User) -> bool:
        """Drafters see everything; other users see drafts once published to them.

        The consultation layer widens this for invited units.
        """
        return self.is_drafter(user) or user.can_administer() or self.state != DraftState.DRAFT


class DraftDrafter(db.Model):
    __tablename__ = "draft_drafters"
    __table_args__ = (UniqueConstraint("draft_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

    draft: Mapped[Draft] = relationship(back_populates="drafters")
    user: Mapped[User] = relationship()


class Version(db.Model):
    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("draft_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(
        enum_type(VersionStatus), default=VersionStatus.EDITING
    )
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("versions.id"))
    source_filename: Mapped[str | None] = mapped_column(String(255))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Optimistic lock for the clause editor: two drafters editing one version.
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    # What an import read outside the clause tree, kept so nothing the user gave disappears
    # after the preview: the document's name, its preamble, the parser's warnings and the
    # paragraphs left out ({"text", "reason"}; the reason is a Vietnamese label).
    source_title: Mapped[str] = mapped_column(Text, default="")
    source_preamble: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A warning is {"template", "values"} (drafts.officefile.note_json), shown in the
    # reader's language; versions imported before that hold plain Vietnamese text.
    import_warnings: Mapped[list[Any]] = mapped_column(JSON, default=list)
    left_out: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)

    draft: Mapped[Draft] = relationship(back_populates="versions", foreign_keys=[draft_id])
    based_on: Mapped[Version | None] = relationship(remote_side=[id])
    created_by: Mapped[User] = relationship()
    clauses: Mapped[list[Clause]] = relationship(
        back_populates="version", order_by="Clause.seq", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def label(self) -> str:
        """As documents and the audit log write it, always in Vietnamese."""
        return VERSION_LABEL % {"n": self.number}

    @property
    def display_label(self) -> str:
        """As pages show it, in the reader's language."""
        return gettext(VERSION_LABEL, n=self.number)

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    def can_edit(self, user: User) -> bool:
        return not self.is_published and self.draft.can_edit(user)

    def can_view(self, user: User) -> bool:
        """A version still being written is seen only by its drafters (and admins)."""
        return self.draft.can_view(user) and (
            self.is_published or self.draft.is_drafter(user) or user.can_administer()
        )


class Clause(db.Model):
    """One node of a version's tree: Chương, Điều, Khoản, Điểm… or a criterion row.

    `seq` is the document order within the version (pre-order), so a whole version
    loads with one ordered query and the tree is rebuilt in Python.
    """

    __tablename__ = "clauses"
    __table_args__ = (
        UniqueConstraint("version_id", "lineage"),
        Index("ix_clauses_version_seq", "version_id", "seq"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("clauses.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[ClauseKind] = mapped_column(enum_type(ClauseKind))
    number: Mapped[str] = mapped_column(String(20), default="")
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    max_points: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    guidance: Mapped[str] = mapped_column(Text, default="")
    lineage: Mapped[str] = mapped_column(String(32), default=new_lineage, index=True)

    version: Mapped[Version] = relationship(back_populates="clauses")
    parent: Mapped[Clause | None] = relationship(remote_side=[id])

    @property
    def kind_label(self) -> str:
        return CLAUSE_KIND_LABELS[self.kind]

    @property
    def heading(self) -> str:
        """How the clause is written at its own start: "Điều 5.", "1.", "a)", "Chương I"."""
        k = self.kind
        if k in (ClauseKind.PART, ClauseKind.CHAPTER, ClauseKind.SECTION, ClauseKind.SUBSECTION):
            return f"{self.kind_label} {self.number}".strip()
        if k == ClauseKind.ARTICLE:
            return f"Điều {self.number}."
        if k == ClauseKind.CLAUSE:
            return f"{self.number}."
        if k == ClauseKind.POINT:
            return f"{self.number})"
        if k == ClauseKind.CRITERION:
            return self.number
        return ""
