"""JSON twins of the conference pages. They call the same operations and queries as the
HTML views; permission is checked before the body is read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.apispec import (
    DATETIME,
    ID,
    api_put_patch,
    api_route,
    current_api_user,
    list_of,
    whole,
)
from accounts.clock import LOCAL_TZ
from accounts.downloads import send_download
from accounts.errors import Invalid, ensure
from accounts.models import Scope, User
from accounts.operations import get_or_404
from comments.conference import exports, operations, queries
from comments.conference.models import Conference, MeetingMode, Opinion
from comments.conference.references import GENERAL
from comments.consultation import queries as round_queries
from comments.consultation.models import Consultation
from drafts.models import Clause
from extensions import db

bp = Blueprint("conference_api", __name__, url_prefix="/api/v1")

TAGS = ["conferences"]
PREFIX = "/consultations/<int:consultation_id>/conference"
NULLABLE_ID = {**ID, "nullable": True}

MEETING_FIELDS = {
    "starts_at": {
        "type": "string",
        "minLength": 10,
        "maxLength": 40,
        "description": "ISO 8601: 2026-12-05T08:30:00+07:00; không ghi múi giờ thì hiểu là "
        "giờ Việt Nam.",
    },
    "mode": {"type": "string", "enum": [m.value for m in MeetingMode]},
    "place": {"type": "string", "minLength": 1, "maxLength": operations.MAX_PLACE_LENGTH},
    "chair_name": {"type": "string", "minLength": 1, "maxLength": operations.MAX_NAME_LENGTH},
    "chair_title": {"type": "string", "maxLength": operations.MAX_NAME_LENGTH},
}
MEETING_IN = {"type": "object", "additionalProperties": False, "properties": MEETING_FIELDS}
MEETING_POST = {
    **MEETING_IN,
    "required": ["starts_at", "mode", "place", "chair_name"],
}
MEETING_PUT = whole(MEETING_IN)
SECRETARIES_IN = {
    "type": "object",
    "required": ["user_ids"],
    "additionalProperties": False,
    "properties": {"user_ids": {"type": "array", "maxItems": 50, "items": ID}},
}
ATTENDANCE_IN = {
    "type": "object",
    "required": ["units"],
    "additionalProperties": False,
    "properties": {
        "units": {
            "type": "array",
            "maxItems": 500,
            "items": {
                "type": "object",
                "required": ["unit_id", "attended"],
                "additionalProperties": False,
                "properties": {
                    "unit_id": ID,
                    "attended": {"type": "boolean"},
                    "representatives": {
                        "type": "string",
                        "maxLength": operations.MAX_REPRESENTATIVES_LENGTH,
                    },
                },
            },
        }
    },
}
OPINION_IN = {
    "type": "object",
    "required": ["unit_id", "speaker_name", "text"],
    "additionalProperties": False,
    "properties": {
        "unit_id": ID,
        "speaker_name": {"type": "string", "minLength": 1, "maxLength": operations.MAX_NAME_LENGTH},
        "clause_id": {**ID, "description": "Điều khoản được góp ý."},
        "clause": {
            "type": "string",
            "maxLength": 200,
            "description": "Hoặc điều khoản như thư ký gõ: “5.2”, “Điều 5 khoản 2”; "
            "“chung” hoặc bỏ trống cả hai: ý kiến chung.",
        },
        "text": {"type": "string", "minLength": 1, "maxLength": operations.MAX_TEXT_LENGTH},
    },
}
CURRENT_IN = {
    "type": "object",
    "required": ["clause_id", "general"],
    "additionalProperties": False,
    "properties": {
        "clause_id": {**ID, "minimum": 0, "description": "0: không chọn điều khoản."},
        "general": {
            "type": "boolean",
            "description": "Khi clause_id là 0: true trình chiếu ý kiến chung, false mọi ý kiến.",
        },
    },
}
CONCLUSIONS_IN = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "maxLength": operations.MAX_TEXT_LENGTH},
        "lock_version": {"type": "integer", "minimum": 1},
    },
}

CONFERENCE = {
    "type": "object",
    "required": ["id", "consultation_id", "starts_at", "mode", "place", "chair_name"],
    "properties": {
        "id": ID,
        "consultation_id": ID,
        "starts_at": DATETIME,
        "starts_at_local": {"type": "string"},
        "mode": {"type": "string", "enum": [m.value for m in MeetingMode]},
        "meeting_form": {"type": "string"},
        "place": {"type": "string"},
        "chair_name": {"type": "string"},
        "chair_title": {"type": "string"},
        "conclusions": {"type": "string"},
        "current_clause_id": NULLABLE_ID,
        "current_general": {"type": "boolean"},
        "lock_version": {"type": "integer"},
        "is_closed": {"type": "boolean"},
        "secretaries": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"user_id": ID, "full_name": {"type": "string"}},
            },
        },
        "attendance": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "unit_id": ID,
                    "unit_name": {"type": "string"},
                    "attended": {"type": "boolean"},
                    "representatives": {"type": "string"},
                },
            },
        },
    },
}
OPINION = {
    "type": "object",
    "required": ["id", "comment_id", "speaker_name", "unit_id", "text"],
    "properties": {
        "id": ID,
        "comment_id": ID,
        "speaker_name": {"type": "string"},
        "unit_id": ID,
        "unit_name": {"type": "string"},
        "unit_short_name": {"type": "string"},
        "clause_id": NULLABLE_ID,
        "clause_label": {"type": "string"},
        "text": {"type": "string"},
        "recorded_at": DATETIME,
        "recorded_at_local": {"type": "string"},
    },
}
PRESENTER = {
    "type": "object",
    "required": ["focus", "opinions"],
    "properties": {
        "focus": {"type": "string", "enum": ["clause", "general", "all"]},
        "clause_id": NULLABLE_ID,
        "clause_label": {"type": "string"},
        "clause_lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "heading": {"type": "string"},
                    "text": {"type": "string"},
                    "depth": {"type": "integer"},
                },
            },
        },
        "opinions": {"type": "array", "items": OPINION},
        "total": {"type": "integer"},
        "changed_at": DATETIME,
    },
}


# --- helpers ------------------------------------------------------------------------------
def _round(consultation_id: int) -> Consultation:
    return round_queries.get_round(consultation_id)


def _conference(consultation_id: int, access: queries.Access) -> tuple[Consultation, Conference]:
    return queries.conference_of(consultation_id, current_api_user(), access)


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(_("Trường starts_at không phải thời điểm ISO 8601.")) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)
    return moment


def _details(fields: dict[str, Any]) -> operations.MeetingDetails:
    return operations.MeetingDetails(
        starts_at=_moment(fields["starts_at"]),
        mode=MeetingMode(fields["mode"]),
        place=fields["place"],
        chair_name=fields["chair_name"],
        chair_title=fields.get("chair_title", ""),
    )


def _not_invited(unit_id: int) -> str:
    return _("Đơn vị %(unit)s không được mời góp ý trong đợt này.", unit=unit_id)


def _clause_of(consultation: Consultation, clause_id: int | None) -> Clause | None:
    if clause_id is None:
        return None
    clause = get_or_404(Clause, clause_id, _("Không tìm thấy điều khoản."))
    if clause.version_id != consultation.version_id:
        raise Invalid(_("Điều khoản được chọn không thuộc phiên bản đang được lấy ý kiến."))
    return clause


# --- the meeting --------------------------------------------------------------------------
@api_route(
    bp,
    PREFIX,
    methods=["GET"],
    scope=Scope.READ,
    summary="Hội nghị lấy ý kiến của đợt: thông tin, thư ký, đơn vị dự họp",
    tags=TAGS,
    response=CONFERENCE,
)
def get_conference(consultation_id: int):  # type: ignore[no-untyped-def]
    _consultation, conference = _conference(consultation_id, queries.VIEW)
    return exports.conference_json(conference)


@api_route(
    bp,
    PREFIX,
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Tổ chức hội nghị lấy ý kiến cho đợt (mỗi đợt một hội nghị)",
    tags=TAGS,
    body=MEETING_POST,
    response=CONFERENCE,
    status=201,
)
def create_conference(consultation_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    consultation = _round(consultation_id)
    user = current_api_user()
    ensure(consultation.can_manage(user))
    conference = operations.create_conference(
        consultation, details=_details(dict(body)), actor=user
    )
    db.session.commit()
    return exports.conference_json(conference), 201


@api_put_patch(
    bp,
    PREFIX,
    endpoints=("put_conference", "patch_conference"),
    scope=Scope.COMMENT,
    put="Sửa thông tin hội nghị (cả đối tượng)",
    patch="Sửa một phần thông tin hội nghị: chỉ các trường được gửi",
    tags=TAGS,
    body=MEETING_PUT,
    response=CONFERENCE,
)
def save_meeting(consultation_id: int, body: Any, partial: bool) -> Any:
    _consultation, conference = _conference(consultation_id, queries.MANAGE)
    user = current_api_user()
    current = exports.conference_json(conference)
    fields = {key: current[key] for key in MEETING_FIELDS} | dict(body)
    operations.update_conference(conference, details=_details(fields), actor=user)
    db.session.commit()
    return exports.conference_json(conference)


@api_put_patch(
    bp,
    f"{PREFIX}/secretaries",
    endpoints=("put_secretaries", "patch_secretaries"),
    scope=Scope.COMMENT,
    put="Phân công thư ký hội nghị (người dùng có vai trò thư ký hội nghị)",
    patch="Phân công thư ký hội nghị (danh sách duy nhất: như PUT)",
    tags=TAGS,
    body=SECRETARIES_IN,
    response=CONFERENCE,
)
def set_secretaries(consultation_id: int, body: Any, partial: bool) -> Any:
    _consultation, conference = _conference(consultation_id, queries.MANAGE)
    user = current_api_user()
    ids = list(dict.fromkeys(body["user_ids"]))
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    missing = [i for i in ids if i not in users]
    if missing:
        raise Invalid(_("Không tìm thấy người dùng: %(ids)s.", ids=", ".join(map(str, missing))))
    operations.set_secretaries(conference, [users[i] for i in ids], actor=user)
    db.session.commit()
    return exports.conference_json(conference)


@api_put_patch(
    bp,
    f"{PREFIX}/attendance",
    endpoints=("put_attendance", "patch_attendance"),
    scope=Scope.COMMENT,
    put="Ghi đơn vị dự họp và người đại diện (thay cả danh sách)",
    patch="Ghi đơn vị dự họp: chỉ các đơn vị được gửi, các đơn vị khác giữ nguyên",
    tags=TAGS,
    body=ATTENDANCE_IN,
    response=CONFERENCE,
)
def set_attendance(consultation_id: int, body: Any, partial: bool) -> Any:
    """PUT replaces the list; PATCH changes only the units it names."""
    consultation, conference = _conference(consultation_id, queries.RECORD)
    units = {r.unit_id: r.unit for r in consultation.responses}
    entries: dict[int, operations.AttendanceEntry] = {}
    if partial:
        for row in conference.attendances:
            entries[row.unit_id] = operations.AttendanceEntry(
                row.unit, row.attended, row.representatives
            )
    sent: set[int] = set()
    for item in body["units"]:
        unit = units.get(item["unit_id"])
        if unit is None:
            raise Invalid(_not_invited(item["unit_id"]))
        if unit.id in sent:
            raise Invalid(_("%(unit)s được ghi hai lần trong danh sách dự họp.", unit=unit.name))
        sent.add(unit.id)
        entries[unit.id] = operations.AttendanceEntry(
            unit=unit,
            attended=item["attended"],
            representatives=item.get("representatives", ""),
        )
    operations.set_attendance(conference, list(entries.values()), actor=current_api_user())
    db.session.commit()
    return exports.conference_json(conference)


@api_put_patch(
    bp,
    f"{PREFIX}/conclusions",
    endpoints=("put_conclusions", "patch_conclusions"),
    scope=Scope.COMMENT,
    put="Ghi kết luận của chủ trì hội nghị (vào biên bản)",
    patch="Ghi kết luận hội nghị: chỉ các trường được gửi (lock_version tùy chọn)",
    tags=TAGS,
    body=whole(CONCLUSIONS_IN),
    response=CONFERENCE,
)
def set_conclusions(consultation_id: int, body: Any, partial: bool) -> Any:
    _consultation, conference = _conference(consultation_id, queries.RECORD)
    operations.set_conclusions(
        conference,
        text=body.get("text", conference.conclusions),
        actor=current_api_user(),
        lock_version=body.get("lock_version"),
    )
    db.session.commit()
    return exports.conference_json(conference)


# --- during the meeting -------------------------------------------------------------------
@api_route(
    bp,
    f"{PREFIX}/opinions",
    methods=["GET"],
    scope=Scope.READ,
    summary="Ý kiến phát biểu tại hội nghị (theo thứ tự phát biểu)",
    tags=TAGS,
    response=list_of(OPINION),
)
def list_opinions(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation, conference = _conference(consultation_id, queries.VIEW)
    user = current_api_user()
    text = round_queries.load_draft_text(consultation.version)
    return {
        "items": [exports.opinion_json(o) for o in queries.opinion_lines(conference, text, user)]
    }


@api_route(
    bp,
    f"{PREFIX}/opinions",
    methods=["POST"],
    idempotent=True,
    scope=Scope.COMMENT,
    summary="Thư ký ghi một ý kiến phát biểu tại hội nghị (thành ý kiến góp ý của đơn vị)",
    tags=TAGS,
    body=OPINION_IN,
    response=OPINION,
    status=201,
)
def record_opinion(consultation_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    consultation, conference = _conference(consultation_id, queries.RECORD)
    user = current_api_user()
    response = consultation.response_for(body["unit_id"])
    if response is None:
        raise Invalid(_not_invited(body["unit_id"]))
    text = round_queries.load_draft_text(consultation.version)
    if body.get("clause_id") is not None:
        clause = _clause_of(consultation, body["clause_id"])
    else:
        found = queries.resolve_clause(text, body.get("clause", ""))
        if found is None:
            raise Invalid(
                _(
                    "Không tìm thấy điều khoản “%(clause)s” trong dự thảo.",
                    clause=body.get("clause", ""),
                )
            )
        clause = None if found == GENERAL else db.session.get(Clause, found)
    opinion = operations.record_opinion(
        conference,
        unit=response.unit,
        clause=clause,
        speaker_name=body["speaker_name"],
        text=body["text"],
        actor=user,
    )
    db.session.commit()
    line = next(o for o in queries.opinion_lines(conference, text, user) if o.id == opinion.id)
    return exports.opinion_json(line), 201


@api_route(
    bp,
    f"{PREFIX}/opinions/<int:opinion_id>",
    methods=["DELETE"],
    scope=Scope.COMMENT,
    summary="Xóa ý kiến ghi nhầm (cùng ý kiến góp ý tương ứng của đơn vị)",
    tags=TAGS,
    status=204,
)
def delete_opinion(consultation_id: int, opinion_id: int):  # type: ignore[no-untyped-def]
    _consultation, conference = _conference(consultation_id, queries.RECORD)
    opinion = get_or_404(Opinion, opinion_id, _("Không tìm thấy ý kiến này trong hội nghị."))
    operations.delete_opinion(conference, opinion, actor=current_api_user())
    db.session.commit()
    return "", 204


@api_put_patch(
    bp,
    f"{PREFIX}/current-clause",
    endpoints=("put_current_clause", "patch_current_clause"),
    scope=Scope.COMMENT,
    put="Chọn điều khoản đang thảo luận, hiện trên màn hình hội nghị",
    patch="Chọn điều khoản trình chiếu: chỉ các trường được gửi",
    tags=TAGS,
    body=CURRENT_IN,
    response=PRESENTER,
)
def set_current_clause(consultation_id: int, body: Any, partial: bool) -> Any:
    consultation, conference = _conference(consultation_id, queries.RECORD)
    user = current_api_user()
    fields = {
        "clause_id": conference.current_clause_id or 0,
        "general": conference.current_general,
    } | dict(body)
    clause = _clause_of(consultation, fields["clause_id"] or None)
    operations.set_current_clause(conference, clause=clause, general=fields["general"], actor=user)
    db.session.commit()
    text = round_queries.load_draft_text(consultation.version)
    return exports.presenter_json(queries.presenter_state(conference, text, user))


@api_route(
    bp,
    f"{PREFIX}/presenter",
    methods=["GET"],
    scope=Scope.READ,
    summary="Màn hình hội nghị: điều khoản đang thảo luận và các ý kiến về nó",
    tags=TAGS,
    response=PRESENTER,
)
def presenter(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation, conference = _conference(consultation_id, queries.VIEW)
    user = current_api_user()
    text = round_queries.load_draft_text(consultation.version)
    return exports.presenter_json(queries.presenter_state(conference, text, user))


@api_route(
    bp,
    f"{PREFIX}/minutes.docx",
    methods=["GET"],
    scope=Scope.READ,
    summary="Biên bản hội nghị (.docx)",
    tags=TAGS,
    content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
)
def minutes(consultation_id: int):  # type: ignore[no-untyped-def]
    _consultation, conference = _conference(consultation_id, queries.MINUTES)
    return send_download(exports.minutes_docx(conference))
