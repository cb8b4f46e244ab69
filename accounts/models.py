"""The organisation: units, emulation years, clusters and blocks, users and roles.

Permissions are `can_*` predicates on these models. Views answer 403 with them and
templates hide buttons with them, so the two never disagree.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask_babel import gettext
from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from accounts.clock import UTCDateTime, now
from accounts.i18n import N_
from extensions import db


def enum_type(enum_cls: type[enum.Enum], length: int = 32) -> Enum:
    """Store an enum as its string value in a VARCHAR: portable and easy to migrate."""
    return Enum(
        enum_cls,
        native_enum=False,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        length=length,
    )


class UnitKind(enum.StrEnum):
    DEPARTMENT = "department"
    REGIONAL = "regional"
    OFFICE = "office"
    INSPECTION = "inspection"


UNIT_KIND_LABELS = {
    UnitKind.DEPARTMENT: N_("Phòng nghiệp vụ"),
    UnitKind.REGIONAL: N_("VKSND khu vực"),
    UnitKind.OFFICE: N_("Văn phòng"),
    UnitKind.INSPECTION: N_("Thanh tra"),
}


class Role(enum.StrEnum):
    ADMIN = "admin"
    DRAFTER = "drafter"
    UNIT_HEAD = "unit_head"
    UNIT_STAFF = "unit_staff"
    OFFICE_VERIFIER = "office_verifier"
    COUNCIL_MEMBER = "council_member"
    CONFERENCE_SECRETARY = "conference_secretary"


ROLE_LABELS = {
    Role.ADMIN: N_("Quản trị hệ thống"),
    Role.DRAFTER: N_("Cán bộ soạn thảo"),
    Role.UNIT_HEAD: N_("Thủ trưởng đơn vị"),
    Role.UNIT_STAFF: N_("Cán bộ đơn vị"),
    Role.OFFICE_VERIFIER: N_("Thường trực Hội đồng (thẩm định)"),
    Role.COUNCIL_MEMBER: N_("Thành viên Hội đồng Thi đua - Khen thưởng"),
    Role.CONFERENCE_SECRETARY: N_("Thư ký hội nghị"),
}


class Scope(enum.StrEnum):
    """What an API token may be used for; each /api/v1 route declares the one it needs.

    A scope only narrows a token: the user's roles still decide what it may do.
    """

    READ = "read"  # every GET, and marking one's own notifications read
    COMMENT = "comment"  # drafts, consultation rounds, comments, positions, consolidation
    SCORE = "score"  # scoring periods, score sheets, scores, lines, evidence
    ADMIN = "admin"  # units, Cụm/Khối, users, reminders and mails


SCOPE_LABELS = {
    Scope.READ: N_("Đọc dữ liệu"),
    Scope.COMMENT: N_("Soạn thảo, góp ý và tổng hợp ý kiến"),
    Scope.SCORE: N_("Chấm điểm thi đua"),
    Scope.ADMIN: N_("Quản trị tổ chức, nhắc việc"),
}


class GroupKind(enum.StrEnum):
    CLUSTER = "cluster"
    BLOCK = "block"


GROUP_KIND_LABELS = {GroupKind.CLUSTER: N_("Cụm thi đua"), GroupKind.BLOCK: N_("Khối thi đua")}
# "Năm 2026": `EmulationYear.label`, and in the reader's language `display_label`.
YEAR_LABEL = N_("Năm %(n)d")


class GroupRole(enum.StrEnum):
    MEMBER = "member"
    LEADER = "leader"
    DEPUTY = "deputy"


class NotifyMode(enum.StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    OFF = "off"


class Unit(db.Model):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[UnitKind] = mapped_column(enum_type(UnitKind))
    email: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    merged_into: Mapped[Unit | None] = relationship(remote_side=[id])
    name_history: Mapped[list[UnitNameChange]] = relationship(
        back_populates="unit", order_by="UnitNameChange.changed_at"
    )

    @property
    def kind_label(self) -> str:
        return UNIT_KIND_LABELS[self.kind]

    def __repr__(self) -> str:
        return f"<Unit {self.short_name}>"


class UnitNameChange(db.Model):
    """Old names stay findable: documents from 2024 name units as they were then."""

    __tablename__ = "unit_name_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    old_name: Mapped[str] = mapped_column(String(200))
    old_short_name: Mapped[str] = mapped_column(String(60))
    new_name: Mapped[str] = mapped_column(String(200))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    unit: Mapped[Unit] = relationship(back_populates="name_history")


class EmulationYear(db.Model):
    """An emulation year, by default 01/12 of the previous year to 30/11."""

    __tablename__ = "emulation_years"

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)

    groups: Mapped[list[Group]] = relationship(back_populates="year", order_by="Group.name")

    @property
    def label(self) -> str:
        """As documents and the audit log write it, always in Vietnamese."""
        return YEAR_LABEL % {"n": self.year}

    @property
    def display_label(self) -> str:
        """As pages show it, in the reader's language."""
        return gettext(YEAR_LABEL, n=self.year)


class Group(db.Model):
    """A Cụm or Khối thi đua for one emulation year."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("year_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id"), index=True)
    kind: Mapped[GroupKind] = mapped_column(enum_type(GroupKind))
    name: Mapped[str] = mapped_column(String(120))

    year: Mapped[EmulationYear] = relationship(back_populates="groups")
    memberships: Mapped[list[GroupMembership]] = relationship(
        back_populates="group", cascade="all, delete-orphan"
    )

    @property
    def kind_label(self) -> str:
        return GROUP_KIND_LABELS[self.kind]

    def unit_with_role(self, role: GroupRole) -> Unit | None:
        for membership in self.memberships:
            if membership.role == role:
                return membership.unit
        return None

    @property
    def leader(self) -> Unit | None:
        return self.unit_with_role(GroupRole.LEADER)

    @property
    def deputy(self) -> Unit | None:
        return self.unit_with_role(GroupRole.DEPUTY)

    @property
    def units(self) -> list[Unit]:
        return sorted((m.unit for m in self.memberships), key=lambda u: u.name)


class GroupMembership(db.Model):
    """A unit in a group for a year, with its role. A unit is in one group per year."""

    __tablename__ = "group_memberships"
    __table_args__ = (UniqueConstraint("year_id", "unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    role: Mapped[GroupRole] = mapped_column(enum_type(GroupRole), default=GroupRole.MEMBER)

    group: Mapped[Group] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship()


class UnitYearStatus(db.Model):
    """Whether a unit was eligible for emulation in a year; feeds the leadership rule."""

    __tablename__ = "unit_year_statuses"
    __table_args__ = (UniqueConstraint("unit_id", "year_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year_id: Mapped[int] = mapped_column(ForeignKey("emulation_years.id"))
    eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str] = mapped_column(Text, default="")


class UserRole(db.Model):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(enum_type(Role), primary_key=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notify_mode: Mapped[NotifyMode] = mapped_column(
        enum_type(NotifyMode), default=NotifyMode.IMMEDIATE
    )
    locale: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the session cookie names the user by (Flask-Login's alternative id): a new
    # value ends every session opened with the old one, copied cookies included.
    session_token: Mapped[str] = mapped_column(
        String(64), unique=True, index=True, default=lambda: secrets.token_urlsafe(32)
    )

    unit: Mapped[Unit] = relationship(lazy="joined")
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    # --- identity -----------------------------------------------------------------
    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def get_id(self) -> str:  # Flask-Login stores this in the session
        return self.session_token

    def end_sessions(self) -> None:
        """Sign out everywhere: every session cookie issued so far stops working."""
        self.session_token = secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:  # Flask-Login reads this
        return self.active

    @property
    def roles(self) -> set[Role]:
        return {row.role for row in self.role_rows}

    def has_role(self, role: Role) -> bool:
        return role in self.roles

    @property
    def role_labels(self) -> list[str]:
        return [ROLE_LABELS[r] for r in Role if r in self.roles]

    # --- permissions ----------------------------------------------------------------
    def can_administer(self) -> bool:
        return self.has_role(Role.ADMIN)

    def can_view_audit(self) -> bool:
        return self.has_role(Role.ADMIN) or self.has_role(Role.OFFICE_VERIFIER)

    def can_draft(self) -> bool:
        return self.has_role(Role.DRAFTER)

    def can_take_minutes(self) -> bool:
        """A conference secretary records the opinions of the conferences a drafter
        assigns them to (`Conference.can_record` decides which)."""
        return self.has_role(Role.CONFERENCE_SECRETARY)

    def can_work_for_unit(self, unit_id: int) -> bool:
        """Staff and the head of a unit prepare its comments and its score sheet."""
        return self.unit_id == unit_id and (
            self.has_role(Role.UNIT_STAFF) or self.has_role(Role.UNIT_HEAD)
        )

    def can_sign_for_unit(self, unit_id: int) -> bool:
        """Only the head signs the unit's official position and submits its sheet."""
        return self.unit_id == unit_id and self.has_role(Role.UNIT_HEAD)

    def can_verify_scores(self) -> bool:
        return self.has_role(Role.OFFICE_VERIFIER)

    def can_decide_scores(self) -> bool:
        return self.has_role(Role.COUNCIL_MEMBER)

    def leads_group(self, group: Group) -> bool:
        """A cluster leader's power follows the unit's role in that year's group.

        Only the unit head acts as Cụm trưởng, since the role is the unit's.
        """
        leader = group.leader
        return leader is not None and leader.id == self.unit_id and self.has_role(Role.UNIT_HEAD)

    def can_use_api(self) -> bool:
        return self.active

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class LoginAttempt(db.Model):
    """Every login attempt, kept to enforce the lock-out across all web workers."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    ip: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    success: Mapped[bool] = mapped_column(Boolean)


class ApiToken(db.Model):
    """A bearer token for /api/v1. Only its SHA-256 is stored; the token is shown once.

    It works until `expires_at` (None: no end date) and only for its scopes.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    # The granted scopes' values, separated by spaces ("read comment").
    scopes: Mapped[str] = mapped_column(String(100), default=Scope.READ.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship()

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def scope_text(scopes: Iterable[Scope]) -> str:
        """Scopes as stored: in the order of `Scope`, separated by spaces."""
        chosen = set(scopes)
        return " ".join(scope.value for scope in Scope if scope in chosen)

    @property
    def granted(self) -> list[Scope]:
        return granted_scopes(self.scopes)

    @property
    def scope_labels(self) -> list[str]:
        return [SCOPE_LABELS[scope] for scope in self.granted]

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= now()

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None and not self.is_expired

    def can_revoke(self, user: User) -> bool:
        return user.id == self.user_id or user.can_administer()


class DocumentSigner(db.Model):
    """Who signs the agency's official documents, as an administrator set it in the app; one
    row at most. Without it (or without a name) SIGNER_* from the configuration apply."""

    __tablename__ = "document_signers"

    id: Mapped[int] = mapped_column(primary_key=True)
    authority: Mapped[str] = mapped_column(String(80), default="")  # "KT. VIỆN TRƯỞNG"
    title: Mapped[str] = mapped_column(String(120), default="")  # "PHÓ VIỆN TRƯỞNG"
    name: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Two administrators editing at once: the second save is refused, not silently lost.
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class IdempotencyKey(db.Model):
    """The first answer to a request sent with a key (the API's Idempotency-Key header, a
    page's form nonce), so that a retry gets it back instead of acting twice. Keys belong
    to one user and expire (see accounts/idempotency.py)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the method, path and body: the same key with another request is refused.
    request_hash: Mapped[str] = mapped_column(String(64))
    # None while the first request is still running.
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str | None] = mapped_column(String(2000))
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class AuditEntry(db.Model):
    """Append-only: who did what to which object, and when."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _audit_is_append_only(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise RuntimeError("audit entries are append-only")


def granted_scopes(text: str) -> list[Scope]:
    """The scopes in a token's stored `scopes` text (unknown words are ignored)."""
    words = set(text.split())
    return [scope for scope in Scope if scope.value in words]


def active_units() -> list[Unit]:
    return list(db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name)))
