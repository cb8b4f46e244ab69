"""Verb-named operations of a round's conference: hold it (create, change its details),
assign its secretaries, record attendance and opinions, put a clause on the room's
screen, write the conclusions.

Each one checks who may act (403) and whether the round still takes it (409 once the
round is closed), validates (422), changes the models and writes the audit row. None
commits: the caller does, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from accounts import audit
from accounts.clock import format_datetime, now
from accounts.errors import Conflict, Forbidden, Invalid, NotFound
from accounts.i18n import N_
from accounts.models import Unit, User
from comments.conference.models import (
    Attendance,
    Conference,
    ConferenceSecretary,
    MeetingMode,
    Opinion,
)
from comments.consultation.models import Comment, CommentSource, Consultation
from comments.consultation.operations import check_clause
from comments.consultation.queries import GENERAL_LABEL, clause_label
from drafts.models import Clause
from extensions import db

MAX_PLACE_LENGTH = 300
MAX_NAME_LENGTH = 200
MAX_REPRESENTATIVES_LENGTH = 500
MAX_TEXT_LENGTH = 20_000


@dataclass(frozen=True)
class MeetingDetails:
    starts_at: datetime
    mode: MeetingMode
    place: str
    chair_name: str
    chair_title: str = ""


@dataclass(frozen=True)
class AttendanceEntry:
    unit: Unit
    attended: bool
    representatives: str = ""


# --- helpers ------------------------------------------------------------------------------
def _one_line(value: str, *, what: str, limit: int, required: bool = True) -> str:
    value = " ".join((value or "").split())
    if required and not value:
        raise Invalid(_("Hãy nhập %(what)s.", what=_(what)))
    if len(value) > limit:
        named = _(what)
        raise Invalid(
            _("%(what)s dài quá %(limit)s ký tự.", what=named[:1].upper() + named[1:], limit=limit)
        )
    return value


def _long_text(value: str, *, what: str, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise Invalid(_("%(what)s không được để trống.", what=_(what)))
    if len(value) > MAX_TEXT_LENGTH:
        limit = f"{MAX_TEXT_LENGTH:,}".replace(",", ".")  # Vietnamese: 20.000
        raise Invalid(_("%(what)s dài quá %(limit)s ký tự.", what=_(what), limit=limit))
    return value


def _not_invited(unit: Unit, consultation: Consultation) -> str:
    return _(
        "%(unit)s không được mời góp ý trong %(label)s.",
        unit=unit.name,
        label=consultation.display_label.lower(),
    )


def _ensure_round_open(consultation: Consultation) -> None:
    if consultation.closed_at is not None:
        raise Conflict(
            _(
                "%(label)s đã kết thúc lúc %(when)s; hội nghị không ghi nhận thêm được nữa.",
                label=consultation.display_label,
                when=format_datetime(consultation.closed_at),
            )
        )


def _ensure_manager(consultation: Consultation, actor: User) -> None:
    if not consultation.can_manage(actor):
        raise Forbidden(_("Chỉ cán bộ soạn thảo của dự thảo mới tổ chức được hội nghị."))


def _ensure_recorder(conference: Conference, actor: User) -> None:
    if not conference.can_record(actor):
        raise Forbidden(
            _("Chỉ thư ký được phân công cho hội nghị này và cán bộ soạn thảo mới ghi nhận được.")
        )


def _clean_details(details: MeetingDetails) -> MeetingDetails:
    return MeetingDetails(
        starts_at=details.starts_at,
        mode=MeetingMode(details.mode),
        place=_one_line(details.place, what=N_("địa điểm hội nghị"), limit=MAX_PLACE_LENGTH),
        chair_name=_one_line(details.chair_name, what=N_("người chủ trì"), limit=MAX_NAME_LENGTH),
        chair_title=_one_line(
            details.chair_title,
            what=N_("chức vụ người chủ trì"),
            limit=MAX_NAME_LENGTH,
            required=False,
        ),
    )


def _details_audit(conference: Conference) -> dict[str, str]:
    return {
        "starts_at": conference.starts_at.isoformat(),
        "mode": conference.mode.value,
        "place": conference.place,
        "chair": conference.chair_name,
    }


# --- the meeting --------------------------------------------------------------------------
def create_conference(
    consultation: Consultation, *, details: MeetingDetails, actor: User
) -> Conference:
    """The drafter sets up the round's conference (one per round)."""
    _ensure_manager(consultation, actor)
    _ensure_round_open(consultation)
    existing = db.session.scalar(
        select(Conference.id).where(Conference.consultation_id == consultation.id)
    )
    if existing is not None:
        raise Conflict(
            _(
                "%(label)s đã có hội nghị; hãy sửa thông tin hội nghị đó.",
                label=consultation.display_label,
            )
        )
    clean = _clean_details(details)
    conference = Conference(
        consultation=consultation,
        starts_at=clean.starts_at,
        mode=clean.mode,
        place=clean.place,
        chair_name=clean.chair_name,
        chair_title=clean.chair_title,
        created_by=actor,
    )
    db.session.add(conference)
    db.session.flush()
    audit.record(
        "conference.create",
        conference,
        actor=actor,
        summary=f"{consultation.draft.title}: {conference.meeting_form} "
        f"{format_datetime(conference.starts_at)}",
        details={"consultation_id": consultation.id, **_details_audit(conference)},
    )
    return conference


def update_conference(
    conference: Conference,
    *,
    details: MeetingDetails,
    actor: User,
    lock_version: int | None = None,
) -> Conference:
    """Change the date, form, place or chair. Opinions already recorded keep the date and
    form they were voiced under only until this change: they follow the meeting."""
    _ensure_manager(conference.consultation, actor)
    _ensure_round_open(conference.consultation)
    _ensure_lock(conference, lock_version)
    clean = _clean_details(details)
    conference.starts_at = clean.starts_at
    conference.mode = clean.mode
    conference.place = clean.place
    conference.chair_name = clean.chair_name
    conference.chair_title = clean.chair_title
    for opinion in conference.opinions:
        opinion.comment.meeting_date = conference.held_on
        opinion.comment.meeting_form = conference.meeting_form
    audit.record(
        "conference.update",
        conference,
        actor=actor,
        summary=f"{conference.consultation.draft.title}: {conference.meeting_form} "
        f"{format_datetime(conference.starts_at)}",
        details=_details_audit(conference),
    )
    return conference


def _ensure_lock(conference: Conference, lock_version: int | None) -> None:
    if lock_version is not None and lock_version != conference.lock_version:
        raise Conflict(
            _(
                "Thông tin hội nghị vừa được người khác sửa sau khi bạn mở ra. Nội dung bạn "
                "nhập vẫn được giữ nguyên; hãy đối chiếu rồi lưu lại."
            ),
            details={"current_lock_version": conference.lock_version},
        )


def set_secretaries(conference: Conference, users: Sequence[User], *, actor: User) -> Conference:
    """The drafter assigns the conference's secretaries: users with the secretary role."""
    _ensure_manager(conference.consultation, actor)
    _ensure_round_open(conference.consultation)
    chosen: dict[int, User] = {}
    for user in users:
        if not (user.active and user.can_take_minutes()):
            raise Invalid(
                _(
                    "%(name)s không có vai trò thư ký hội nghị; quản trị hệ thống cần cấp vai "
                    "trò này trước.",
                    name=user.full_name,
                )
            )
        chosen[user.id] = user
    kept = [s for s in conference.secretaries if s.user_id in chosen]
    known = {s.user_id for s in kept}
    conference.secretaries = kept + [
        ConferenceSecretary(user=user) for uid, user in chosen.items() if uid not in known
    ]
    audit.record(
        "conference.secretaries",
        conference,
        actor=actor,
        summary=", ".join(u.full_name for u in chosen.values()) or "(không có thư ký)",
        details={"user_ids": sorted(chosen)},
    )
    return conference


def set_attendance(
    conference: Conference, entries: Sequence[AttendanceEntry], *, actor: User
) -> Conference:
    """Record which invited units attended and who represented them; the list replaces
    the previous one (a unit left out is "not recorded")."""
    _ensure_recorder(conference, actor)
    consultation = conference.consultation
    _ensure_round_open(consultation)
    rows: dict[int, Attendance] = {}
    previous = {row.unit_id: row for row in conference.attendances}
    for entry in entries:
        if consultation.response_for(entry.unit.id) is None:
            raise Invalid(_not_invited(entry.unit, consultation))
        if entry.unit.id in rows:
            raise Invalid(
                _("%(unit)s được ghi hai lần trong danh sách dự họp.", unit=entry.unit.name)
            )
        representatives = _one_line(
            entry.representatives,
            what=N_("người đại diện"),
            limit=MAX_REPRESENTATIVES_LENGTH,
            required=False,
        )
        row = previous.get(entry.unit.id) or Attendance(unit=entry.unit)
        row.attended = entry.attended
        row.representatives = representatives
        rows[entry.unit.id] = row
    conference.attendances = list(rows.values())
    present = [r.unit.short_name for r in rows.values() if r.attended]
    audit.record(
        "conference.attendance",
        conference,
        actor=actor,
        summary=f"{len(present)} đơn vị dự họp: {', '.join(present)}" if present else "",
        details={
            "attended": sorted(u for u, r in rows.items() if r.attended),
            "absent": sorted(u for u, r in rows.items() if not r.attended),
        },
    )
    return conference


# --- during the meeting -------------------------------------------------------------------
def record_opinion(
    conference: Conference,
    *,
    unit: Unit,
    clause: Clause | None,
    speaker_name: str,
    text: str,
    actor: User,
) -> Opinion:
    """One opinion voiced at the conference, on a clause (None: "Ý kiến chung"), on behalf
    of the speaker's invited unit. It becomes a comment of the round (source CONFERENCE),
    which counts in the consolidation like a written one. A unit that speaks attended:
    its attendance says so, with the speaker as its representative when none was named."""
    _ensure_recorder(conference, actor)
    consultation = conference.consultation
    _ensure_round_open(consultation)
    response = consultation.response_for(unit.id)
    if response is None:
        raise Invalid(_not_invited(unit, consultation))
    check_clause(consultation, clause)
    speaker = _one_line(speaker_name, what=N_("tên người phát biểu"), limit=MAX_NAME_LENGTH)
    comment = Comment(
        consultation=consultation,
        draft_id=consultation.draft_id,
        response=response,
        unit_id=unit.id,
        clause=clause,
        lineage=clause.lineage if clause is not None else None,
        author=actor,
        source=CommentSource.CONFERENCE,
        meeting_date=conference.held_on,
        meeting_form=conference.meeting_form,
    )
    comment.set_text(_long_text(text, what=N_("Nội dung ý kiến")))
    opinion = Opinion(
        conference=conference, comment=comment, speaker_name=speaker, recorded_by=actor
    )
    db.session.add_all([comment, opinion])
    attendance = conference.attendance_for(unit.id)
    if attendance is None:
        conference.attendances.append(Attendance(unit=unit, attended=True, representatives=speaker))
    else:
        attendance.attended = True
        attendance.representatives = attendance.representatives or speaker
    db.session.flush()
    audit.record(
        "conference.opinion",
        comment,
        actor=actor,
        summary=f"{unit.short_name}: ý kiến #{comment.id} tại {conference.meeting_form}",
        details={
            "conference_id": conference.id,
            "consultation_id": consultation.id,
            "clause_id": comment.clause_id,
            "digest": audit.digest(comment.text),
        },
    )
    return opinion


def delete_opinion(conference: Conference, opinion: Opinion, *, actor: User) -> None:
    """Take back an opinion recorded by mistake (the wrong unit, a slip of the keyboard):
    the opinion and its comment go, the audit row stays."""
    _ensure_recorder(conference, actor)
    _ensure_round_open(conference.consultation)
    if opinion.conference_id != conference.id:
        raise NotFound(_("Không tìm thấy ý kiến này trong hội nghị."))
    comment = opinion.comment
    audit.record(
        "conference.opinion_delete",
        comment,
        actor=actor,
        summary=f"{comment.unit.short_name}: ý kiến #{comment.id} tại {conference.meeting_form}",
        details={
            "conference_id": conference.id,
            "speaker": opinion.speaker_name,
            "digest": audit.digest(comment.text),
        },
    )
    conference.opinions.remove(opinion)
    db.session.delete(opinion)
    db.session.delete(comment)


def set_current_clause(
    conference: Conference, *, clause: Clause | None, general: bool, actor: User
) -> Conference:
    """What the room's screen shows: a clause, the general opinions, or (neither) every
    opinion so far."""
    _ensure_recorder(conference, actor)
    _ensure_round_open(conference.consultation)
    check_clause(conference.consultation, clause)
    conference.current_clause = clause
    conference.current_general = clause is None and general
    audit.record(
        "conference.current_clause",
        conference,
        actor=actor,
        summary=clause_label(clause.id)
        if clause is not None
        else (GENERAL_LABEL if general else "Tất cả ý kiến"),
        details={"clause_id": clause.id if clause else None, "general": conference.current_general},
    )
    conference.updated_at = now()
    return conference


def set_conclusions(
    conference: Conference, *, text: str, actor: User, lock_version: int | None = None
) -> Conference:
    """The chair's conclusions, as the secretary or the drafter writes them for the minutes."""
    _ensure_recorder(conference, actor)
    _ensure_round_open(conference.consultation)
    _ensure_lock(conference, lock_version)
    old = conference.conclusions
    conference.conclusions = _long_text(text, what=N_("Kết luận hội nghị"), required=False)
    audit.record(
        "conference.conclusions",
        conference,
        actor=actor,
        summary=f"{len(conference.conclusions)} ký tự",
        details={"old_digest": audit.digest(old), "digest": audit.digest(conference.conclusions)},
    )
    return conference
