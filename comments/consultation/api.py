"""JSON twins of the consultation pages. They call the same operations and queries as
the HTML views, and return `{"error": {"code", "message"}}` on refusal."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, request
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.apispec import (
    DATETIME,
    ID,
    NULLABLE_STRING,
    RequestBody,
    api_route,
    current_api_caller,
    current_api_user,
    list_of,
)
from accounts.clock import LOCAL_TZ, end_of_local_day, now, parse_date
from accounts.errors import Conflict, Invalid, NotFound, ensure
from accounts.models import Group, Scope, Unit, User
from accounts.operations import get_or_404
from comments.consultation import imports, operations, queries
from comments.consultation.models import (
    TRACKER_LABELS,
    Comment,
    CommentSource,
    Consultation,
    ConsultationAttachment,
    PositionSubmission,
    TrackerStatus,
    UnitResponse,
    Visibility,
)
from comments.consultation.views import send_attachment
from drafts.models import Clause, Draft, Version
from extensions import db

bp = Blueprint("comments_api", __name__, url_prefix="/api/v1")

TAGS = ["consultations"]
NULLABLE_DATETIME = {**DATETIME, "nullable": True}
NULLABLE_INT = {"type": "integer", "nullable": True}
MOMENT_IN = {
    "type": "string",
    "minLength": 10,
    "maxLength": 40,
    "description": "ISO 8601: 2026-12-05T17:00:00+07:00, hoặc chỉ ngày 2026-12-05 (hết ngày đó, "
    "giờ Việt Nam). Không ghi múi giờ thì hiểu là giờ Việt Nam.",
}

ATTACHMENT = {
    "type": "object",
    "required": ["id", "filename", "content_type", "size"],
    "properties": {
        "id": ID,
        "filename": {"type": "string"},
        "content_type": {"type": "string"},
        "size": {"type": "integer"},
        "uploaded_at": DATETIME,
        "url": {"type": "string"},
    },
}
RESPONSE = {
    "type": "object",
    "required": ["id", "consultation_id", "unit_id", "status", "tracker_status", "deadline"],
    "properties": {
        "id": ID,
        "consultation_id": ID,
        "unit_id": ID,
        "unit_name": {"type": "string"},
        "unit_short_name": {"type": "string"},
        "status": {"type": "string", "enum": ["not_started", "drafting", "submitted"]},
        "tracker_status": {"type": "string", "enum": [s.value for s in TrackerStatus]},
        "tracker_label": {"type": "string"},
        "agrees_without_comments": {"type": "boolean"},
        "deadline": DATETIME,
        "deadline_override": NULLABLE_DATETIME,
        "submitted_at": NULLABLE_DATETIME,
        "is_late": {"type": "boolean"},
    },
}
CONSULTATION = {
    "type": "object",
    "required": ["id", "draft_id", "version_id", "round_number", "opens_at", "closes_at"],
    "properties": {
        "id": ID,
        "draft_id": ID,
        "draft_title": {"type": "string"},
        "version_id": ID,
        "version_label": {"type": "string"},
        "round_number": {"type": "integer"},
        "label": {"type": "string"},
        "opens_at": DATETIME,
        "closes_at": DATETIME,
        "closed_at": NULLABLE_DATETIME,
        "is_open": {"type": "boolean"},
        "visibility": {"type": "string", "enum": [v.value for v in Visibility]},
        "letter_number": {"type": "string"},
        "letter_text": {"type": "string"},
        "unit_ids": {"type": "array", "items": ID},
        "attachments": {"type": "array", "items": ATTACHMENT},
        "my_response": {**RESPONSE, "nullable": True},
    },
}
TRACKER_ROW = {
    **RESPONSE,
    "properties": {
        **RESPONSE["properties"],
        "comment_count": {
            **NULLABLE_INT,
            "description": "Số ý kiến trong ý kiến đã gửi; null khi đơn vị chưa gửi.",
        },
        "conference_count": {"type": "integer"},
        "letter_count": {
            "type": "integer",
            "description": "Số ý kiến từ công văn, tệp của đơn vị do cơ quan soạn thảo nhập.",
        },
    },
}
TRACKER = {
    "type": "object",
    "required": ["consultation_id", "counts", "items"],
    "properties": {
        "consultation_id": ID,
        "counts": {
            "type": "object",
            "properties": {s.value: {"type": "integer"} for s in TrackerStatus},
        },
        "agreed": {"type": "integer"},
        "items": {"type": "array", "items": TRACKER_ROW},
    },
}
COMMENT = {
    "type": "object",
    "required": ["id", "consultation_id", "unit_id", "text", "source", "lock_version"],
    "properties": {
        "id": ID,
        "consultation_id": ID,
        "unit_id": ID,
        "unit_name": {"type": "string"},
        "clause_id": NULLABLE_INT,
        "clause_label": {"type": "string"},
        "text": {"type": "string"},
        "source": {"type": "string", "enum": [s.value for s in CommentSource]},
        "meeting_date": {"type": "string", "format": "date", "nullable": True},
        "meeting_form": {"type": "string"},
        "author_id": ID,
        "author_name": {"type": "string"},
        "created_at": DATETIME,
        "updated_at": DATETIME,
        "lock_version": {"type": "integer"},
        "submitted": {"type": "boolean"},
        "proposed_text": {
            **NULLABLE_STRING,
            "description": "Đề xuất sửa đổi: nội dung mới của điều khoản do đơn vị đề xuất.",
        },
        "attachment_id": {
            **NULLABLE_INT,
            "description": "Tệp của đơn vị mà ý kiến được nhập từ đó.",
        },
    },
}
SUBMISSION = {
    "type": "object",
    "required": ["action", "at"],
    "properties": {
        "action": {"type": "string", "enum": ["submit", "reopen"]},
        "at": DATETIME,
        "by": NULLABLE_STRING,
        "agrees_without_comments": {"type": "boolean"},
        "late": {"type": "boolean"},
        "snapshot": {"type": "array", "items": {"type": "object"}},
    },
}
POSITION = {
    **RESPONSE,
    "properties": {
        **RESPONSE["properties"],
        "comments": {"type": "array", "items": COMMENT},
        "fingerprint": {
            **NULLABLE_STRING,
            "description": "Gửi kèm khi nộp để chắc chắn nộp đúng những ý kiến đã xem.",
        },
        "history": {"type": "array", "items": SUBMISSION},
    },
}

OPEN_IN = {
    "type": "object",
    "required": ["draft_id", "closes_at", "letter_number"],
    "additionalProperties": False,
    "properties": {
        "draft_id": ID,
        "version_id": {**ID, "description": "Mặc định: phiên bản đã phát hành mới nhất."},
        "unit_ids": {"type": "array", "items": ID, "uniqueItems": True},
        "group_ids": {
            "type": "array",
            "items": ID,
            "uniqueItems": True,
            "description": "Mời cả Cụm/Khối thi đua của năm thi đua hiện tại.",
        },
        "opens_at": {**MOMENT_IN, "description": "Mặc định: ngay bây giờ."},
        "closes_at": MOMENT_IN,
        "visibility": {"type": "string", "enum": [v.value for v in Visibility]},
        "letter_number": {"type": "string", "minLength": 1, "maxLength": 120},
        "letter_text": {"type": "string", "maxLength": operations.MAX_COMMENT_LENGTH},
    },
}
PROPOSED_IN = {
    "type": "string",
    "maxLength": operations.MAX_COMMENT_LENGTH,
    "description": "Đề xuất sửa đổi (không bắt buộc, chỉ cho một điều khoản): nội dung mới "
    "của điều khoản như được viết, ví dụ “2. Nội dung mới”.",
}
COMMENT_IN = {
    "type": "object",
    "required": ["text"],
    "additionalProperties": False,
    "properties": {
        "clause_id": {**ID, "description": "Bỏ trống: ý kiến chung."},
        "text": {"type": "string", "minLength": 1, "maxLength": operations.MAX_COMMENT_LENGTH},
        "proposed_text": PROPOSED_IN,
    },
}
COMMENT_EDIT = {
    "type": "object",
    "required": ["text", "lock_version"],
    "additionalProperties": False,
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": operations.MAX_COMMENT_LENGTH},
        "lock_version": {"type": "integer", "minimum": 1},
        "proposed_text": {
            **PROPOSED_IN,
            "description": "Đề xuất sửa đổi mới; chuỗi rỗng xóa đề xuất; bỏ trống thì giữ nguyên.",
        },
    },
}
CONFERENCE_IN = {
    "type": "object",
    "required": ["meeting_date", "meeting_form", "opinions"],
    "additionalProperties": False,
    "properties": {
        "meeting_date": {"type": "string", "format": "date"},
        "meeting_form": {"type": "string", "minLength": 1, "maxLength": 200},
        "opinions": {
            "type": "array",
            "minItems": 1,
            "maxItems": 200,
            "items": {
                "type": "object",
                "required": ["unit_id", "text"],
                "additionalProperties": False,
                "properties": {
                    "unit_id": ID,
                    "clause_id": {**ID, "description": "Bỏ trống: ý kiến chung."},
                    "text": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}
SUBMIT_IN = {
    "type": "object",
    "required": ["agrees"],
    "additionalProperties": False,
    "properties": {
        "agrees": {
            "type": "boolean",
            "description": "true: thống nhất với dự thảo (không có ý kiến); false: gửi các ý kiến.",
        },
        "fingerprint": {"type": "string", "maxLength": 64},
    },
}
EXTEND_IN = {
    "type": "object",
    "required": ["deadline"],
    "additionalProperties": False,
    "properties": {"deadline": MOMENT_IN},
}
IMPORT_ITEM = {
    "type": "object",
    "required": ["index", "kind", "method", "clause_id", "text", "excerpt"],
    "properties": {
        "index": {"type": "integer", "minimum": 0},
        "kind": {
            "type": "string",
            "enum": ["comment", "proposal"],
            "description": "comment: ý kiến (chú thích, dòng phiếu, đoạn công văn); proposal: "
            "điều khoản được sửa trong tệp (đề xuất sửa đổi).",
        },
        "method": {
            "type": "string",
            "enum": ["bookmark", "text", "citation", "form", "general"],
            "description": "Cách xác định điều khoản: bookmark của điều khoản, nội dung đoạn "
            "văn, viện dẫn điều/khoản, dòng phiếu góp ý, hoặc không xác định (ý kiến chung).",
        },
        "clause_id": NULLABLE_INT,
        "clause_label": {"type": "string"},
        "text": {"type": "string"},
        "proposed_text": NULLABLE_STRING,
        "before": {
            **NULLABLE_STRING,
            "description": "Nội dung hiện tại của điều khoản, khi mục có đề xuất sửa đổi.",
        },
        "excerpt": {"type": "string", "description": "Trích đoạn tệp gốc."},
    },
}
IMPORT_PREVIEW = {
    "type": "object",
    "required": ["token", "filename", "kind", "items"],
    "properties": {
        "token": {"type": "string", "description": "Gửi lại khi xác nhận."},
        "filename": {"type": "string"},
        "kind": {"type": "string", "enum": ["markup", "copy", "form", "letter"]},
        "on_behalf": {"type": "boolean"},
        "items": {"type": "array", "items": IMPORT_ITEM},
    },
}
IMPORT_CONFIRM_IN = {
    "type": "object",
    "required": ["token"],
    "additionalProperties": False,
    "properties": {
        "token": {"type": "string", "minLength": 1, "maxLength": 100},
        "items": {
            "type": "array",
            "maxItems": imports.MAX_ITEMS,
            "description": "Sửa điều khoản của từng mục hoặc bỏ mục; mục không nêu giữ như "
            "bản xem trước.",
            "items": {
                "type": "object",
                "required": ["index"],
                "additionalProperties": False,
                "properties": {
                    "index": {"type": "integer", "minimum": 0, "maximum": imports.MAX_ITEMS},
                    "clause_id": {**NULLABLE_INT, "description": "null: ý kiến chung."},
                    "include": {"type": "boolean"},
                },
            },
        },
    },
}
COMMENT_QUERY = {
    "unit_id": {"type": "integer", "minimum": 1},
    "clause_id": {"type": "integer", "minimum": 1},
    "general": {"type": "string", "enum": ["true", "false"]},
    "status": {"type": "string", "enum": [s.value for s in TrackerStatus]},
    "source": {"type": "string", "enum": [s.value for s in CommentSource]},
    "q": {"type": "string"},
}


# --- serialisation -------------------------------------------------------------------------
def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def attachment_json(a: ConsultationAttachment) -> dict[str, Any]:
    return {
        "id": a.id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "uploaded_at": _iso(a.uploaded_at),
        "url": f"{bp.url_prefix}/consultation-attachments/{a.id}",
    }


def response_json(r: UnitResponse) -> dict[str, Any]:
    status = r.tracker_status()
    return {
        "id": r.id,
        "consultation_id": r.consultation_id,
        "unit_id": r.unit_id,
        "unit_name": r.unit.name,
        "unit_short_name": r.unit.short_name,
        "status": r.status.value,
        "tracker_status": status.value,
        "tracker_label": TRACKER_LABELS[status],
        "agrees_without_comments": r.agrees_without_comments,
        "deadline": _iso(r.deadline),
        "deadline_override": _iso(r.deadline_override),
        "submitted_at": _iso(r.submitted_at),
        "is_late": r.is_late,
    }


def consultation_json(c: Consultation, user: User) -> dict[str, Any]:
    mine = c.response_for(user.unit_id)
    return {
        "id": c.id,
        "draft_id": c.draft_id,
        "draft_title": c.draft.title,
        "version_id": c.version_id,
        "version_label": c.version.label,
        "round_number": c.round_number,
        "label": c.label,
        "opens_at": _iso(c.opens_at),
        "closes_at": _iso(c.closes_at),
        "closed_at": _iso(c.closed_at),
        "is_open": c.is_open(),
        "visibility": c.visibility.value,
        "letter_number": c.letter_number,
        "letter_text": c.letter_text,
        "unit_ids": [r.unit_id for r in queries.sorted_responses(c)],
        "attachments": [attachment_json(a) for a in c.letter_attachments]
        if c.can_download(user)
        else [],
        "my_response": response_json(mine) if mine is not None else None,
    }


def comment_json(c: Comment, label: str) -> dict[str, Any]:
    return _comment_fields(
        c,
        unit_name=c.unit.name,
        clause_label=label,
        author_name=c.author.full_name,
        submitted=c.is_recorded or c.response.is_submitted,
    )


def added_comment_json(c: operations.AddedComment) -> dict[str, Any]:
    """The answer to a new comment, from the values just inserted (nothing is re-read)."""
    return _comment_fields(
        c,
        unit_name=c.unit_name,
        clause_label=c.clause_label,
        author_name=c.author_name,
        submitted=c.submitted,
    )


def _comment_fields(
    c: Comment | operations.AddedComment,
    *,
    unit_name: str,
    clause_label: str,
    author_name: str,
    submitted: bool,
) -> dict[str, Any]:
    return {
        "id": c.id,
        "consultation_id": c.consultation_id,
        "unit_id": c.unit_id,
        "unit_name": unit_name,
        "clause_id": c.clause_id,
        "clause_label": clause_label,
        "text": c.text,
        "source": c.source.value,
        "meeting_date": c.meeting_date.isoformat() if c.meeting_date else None,
        "meeting_form": c.meeting_form,
        "author_id": c.author_id,
        "author_name": author_name,
        "created_at": _iso(c.created_at),
        "updated_at": _iso(c.updated_at),
        "lock_version": c.lock_version,
        "submitted": submitted,
        "proposed_text": c.proposed_text,
        "attachment_id": c.attachment_id,
    }


def _submission_json(s: PositionSubmission) -> dict[str, Any]:
    return {
        "action": s.action,
        "at": _iso(s.at),
        "by": s.by.full_name if s.by else None,
        "agrees_without_comments": s.agrees_without_comments,
        "late": s.late,
        "snapshot": s.snapshot,
    }


def position_json(response: UnitResponse, user: User) -> dict[str, Any]:
    text = queries.load_draft_text(response.consultation.version)
    comments = queries.unit_written_comments(response)
    own = user.can_work_for_unit(response.unit_id)
    visible = [c for c in comments if c.can_view(user)]
    return {
        **response_json(response),
        "comments": [comment_json(c, text.label(c.clause_id)) for c in visible],
        "fingerprint": operations.position_fingerprint(comments) if own else None,
        "history": [_submission_json(s) for s in response.submissions],
    }


# --- loading -------------------------------------------------------------------------------
def _parse_moment(value: str, field: str, *, end_of_day: bool = False) -> datetime:
    value = value.strip()
    try:
        if len(value) == 10:
            day = parse_date(value)
            return (
                end_of_local_day(day)
                if end_of_day
                else datetime.combine(day, datetime.min.time(), tzinfo=LOCAL_TZ)
            )
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(
            _(
                "Trường %(field)s không phải là thời điểm hợp lệ: %(value)s",
                field=field,
                value=value,
            )
        ) from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TZ)


def _round(consultation_id: int) -> Consultation:
    consultation = queries.get_round(consultation_id)
    ensure(consultation.can_view(current_api_user()))
    return consultation


def _response(consultation: Consultation, response_id: int) -> UnitResponse:
    for response in consultation.responses:
        if response.id == response_id:
            return response
    raise NotFound(_("Không tìm thấy đơn vị trong đợt lấy ý kiến này."))


def _clause(clause_id: int | None) -> Clause | None:
    if clause_id is None:
        return None
    return get_or_404(Clause, clause_id, _("Không tìm thấy điều khoản."))


def _comment(comment_id: int) -> tuple[Comment, Consultation]:
    comment = get_or_404(Comment, comment_id, _("Không tìm thấy ý kiến (có thể đã bị xóa)."))
    consultation = queries.get_round(comment.consultation_id)
    ensure(comment.can_view(current_api_user()))
    return comment, consultation


def _default_version(draft: Draft) -> Version:
    consulted = queries.consulted_version_ids(draft)
    for version in reversed(draft.versions):
        if version.is_published and version.id not in consulted:
            return version
    raise Conflict(_("Dự thảo chưa có phiên bản đã phát hành nào chưa được lấy ý kiến."))


# --- rounds --------------------------------------------------------------------------------
@api_route(
    bp,
    "/consultations",
    methods=["GET"],
    scope=Scope.READ,
    summary="Danh sách đợt lấy ý kiến",
    tags=TAGS,
    response=list_of(CONSULTATION),
    query={"draft_id": {"type": "integer", "minimum": 1}},
)
def list_rounds(query: dict[str, Any]):  # type: ignore[no-untyped-def]
    user = current_api_user()
    rounds = queries.rounds_for_user(user, draft_id=query.get("draft_id"))
    return {"items": [consultation_json(c, user) for c in rounds]}


@api_route(
    bp,
    "/consultations",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Lấy ý kiến góp ý (mở một đợt)",
    tags=TAGS,
    body=OPEN_IN,
    response=CONSULTATION,
    status=201,
)
def open_round(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    user = current_api_user()
    ensure(user.can_draft())
    draft = get_or_404(Draft, body["draft_id"], _("Không tìm thấy dự thảo."))
    ensure(draft.is_drafter(user))
    if "version_id" in body:
        version = get_or_404(Version, body["version_id"], _("Không tìm thấy phiên bản."))
    else:
        version = _default_version(draft)
    unit_ids, group_ids = body.get("unit_ids", []), body.get("group_ids", [])
    units = db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids))).all()
    groups = db.session.scalars(select(Group).where(Group.id.in_(group_ids))).all()
    if len(units) != len(unit_ids) or len(groups) != len(group_ids):
        raise Invalid(_("Có đơn vị hoặc Cụm/Khối không tồn tại."))
    consultation = operations.open_consultation(
        draft,
        version,
        units=operations.invitees(units, groups, year=operations.current_year()),
        opens_at=_parse_moment(body["opens_at"], "opens_at") if "opens_at" in body else now(),
        closes_at=_parse_moment(body["closes_at"], "closes_at", end_of_day=True),
        visibility=Visibility(body.get("visibility", Visibility.BLIND.value)),
        letter_number=body["letter_number"],
        letter_text=body.get("letter_text", ""),
        actor=user,
    )
    db.session.commit()
    return consultation_json(queries.get_round(consultation.id), user), 201


@api_route(
    bp,
    "/consultations/<int:consultation_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Một đợt lấy ý kiến",
    tags=TAGS,
    response=CONSULTATION,
)
def get_round(consultation_id: int):  # type: ignore[no-untyped-def]
    return consultation_json(_round(consultation_id), current_api_user())


@api_route(
    bp,
    "/consultations/<int:consultation_id>/tracker",
    methods=["GET"],
    scope=Scope.READ,
    summary="Theo dõi các đơn vị được mời",
    tags=TAGS,
    response=TRACKER,
)
def tracker(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    ensure(consultation.can_track(current_api_user()))
    board = queries.tracker(consultation)
    responses = {r.id: r for r in consultation.responses}
    return {
        "consultation_id": consultation.id,
        "counts": {s.value: n for s, n in board.counts.items()},
        "agreed": board.agreed,
        "items": [
            {
                **response_json(responses[row.response_id]),
                "comment_count": row.written,
                "conference_count": row.conference,
                "letter_count": row.letter,
            }
            for row in board.rows
        ],
    }


@api_route(
    bp,
    "/consultations/<int:consultation_id>/close",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Kết thúc đợt lấy ý kiến",
    tags=TAGS,
    response=CONSULTATION,
)
def close_round(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    user = current_api_user()
    ensure(consultation.can_manage(user))
    operations.close_round(consultation, actor=user)
    db.session.commit()
    return consultation_json(queries.get_round(consultation_id), user)


# --- comments ------------------------------------------------------------------------------
@api_route(
    bp,
    "/consultations/<int:consultation_id>/comments",
    methods=["GET"],
    scope=Scope.READ,
    summary="Ý kiến góp ý (lọc theo đơn vị, điều khoản, trạng thái; tìm không dấu)",
    tags=TAGS,
    response=list_of(COMMENT),
    query=COMMENT_QUERY,
)
def list_comments(consultation_id: int, query: dict[str, Any]):  # type: ignore[no-untyped-def]
    consultation = _round(consultation_id)
    text = queries.load_draft_text(consultation.version)
    filters = queries.CommentFilters(
        unit_id=query.get("unit_id"),
        clause_id=query.get("clause_id"),
        general=query.get("general") == "true",
        status=TrackerStatus(query["status"]) if "status" in query else None,
        source=CommentSource(query["source"]) if "source" in query else None,
        q=query.get("q", ""),
    )
    comments = queries.list_comments(consultation, current_api_user(), filters, text)
    return {"items": [comment_json(c, text.label(c.clause_id)) for c in comments]}


@api_route(
    bp,
    "/consultations/<int:consultation_id>/comments",
    methods=["POST"],
    idempotent=True,
    scope=Scope.COMMENT,
    summary="Góp ý của đơn vị (trên một điều khoản, hoặc ý kiến chung)",
    tags=TAGS,
    body=COMMENT_IN,
    response=COMMENT,
    status=201,
    caller_only=True,
)
def create_comment(consultation_id: int, body: RequestBody):  # type: ignore[no-untyped-def]
    # The busiest write of the API: plain columns in, plain INSERTs out (see
    # `operations.insert_comment`), and no `User` loaded (`caller_only`); the checks
    # and their order are `add_comment`'s.
    caller = current_api_caller()
    # The clause is read with the round in one statement; its id is taken before the body
    # is checked, so that an uninvited caller is refused first, whatever they sent.
    target = queries.comment_target(consultation_id, caller.unit_id, body.unchecked_id("clause_id"))
    ensure(target.response_id is not None, _("Đơn vị của bạn không được mời góp ý trong đợt này."))
    text = body["text"]
    if body.get("clause_id") is not None and target.clause is None:
        raise NotFound(_("Không tìm thấy điều khoản."))
    comment = operations.insert_comment(
        target, text=text, actor=caller, proposed_text=body.get("proposed_text")
    )
    db.session.commit()
    return added_comment_json(comment), 201


@api_route(
    bp,
    "/comments/<int:comment_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Một ý kiến góp ý",
    tags=TAGS,
    response=COMMENT,
)
def get_comment(comment_id: int):  # type: ignore[no-untyped-def]
    comment, _consultation = _comment(comment_id)
    return comment_json(comment, queries.clause_label(comment.clause_id))


@api_route(
    bp,
    "/comments/<int:comment_id>",
    methods=["PATCH"],
    scope=Scope.COMMENT,
    summary="Sửa ý kiến (gửi lock_version đã đọc; 409 nếu người khác vừa sửa)",
    tags=TAGS,
    body=COMMENT_EDIT,
    response=COMMENT,
)
def edit_comment(comment_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    comment, _consultation = _comment(comment_id)
    operations.edit_comment(
        comment,
        text=body["text"],
        lock_version=body["lock_version"],
        actor=current_api_user(),
        proposed_text=body.get("proposed_text"),
    )
    db.session.commit()
    return comment_json(comment, queries.clause_label(comment.clause_id))


@api_route(
    bp,
    "/comments/<int:comment_id>",
    methods=["DELETE"],
    scope=Scope.COMMENT,
    summary="Xóa ý kiến",
    tags=TAGS,
    status=204,
    query={"lock_version": {"type": "integer", "minimum": 1}},
)
def delete_comment(comment_id: int, query: dict[str, Any]):  # type: ignore[no-untyped-def]
    comment, _consultation = _comment(comment_id)
    operations.delete_comment(
        comment, lock_version=query.get("lock_version"), actor=current_api_user()
    )
    db.session.commit()
    return "", 204


@api_route(
    bp,
    "/consultations/<int:consultation_id>/conference-opinions",
    methods=["POST"],
    idempotent=True,
    scope=Scope.COMMENT,
    summary="Ghi nhận ý kiến phát biểu tại hội nghị thay cho đơn vị",
    tags=TAGS,
    body=CONFERENCE_IN,
    response=list_of(COMMENT),
    status=201,
)
def record_conference(consultation_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    user = current_api_user()
    ensure(consultation.can_manage(user))
    try:
        meeting_date = parse_date(body["meeting_date"])
    except ValueError as exc:
        raise Invalid(_("Ngày họp không hợp lệ (YYYY-MM-DD).")) from exc
    opinions = []
    for item in body["opinions"]:
        response = consultation.response_for(item["unit_id"])
        if response is None:
            raise Invalid(
                _("Đơn vị %(value)s không được mời góp ý trong đợt này.", value=item["unit_id"])
            )
        opinions.append(
            operations.ConferenceOpinion(
                unit=response.unit, clause=_clause(item.get("clause_id")), text=item["text"]
            )
        )
    created = operations.record_conference_opinions(
        consultation,
        meeting_date=meeting_date,
        meeting_form=body["meeting_form"],
        opinions=opinions,
        actor=user,
    )
    db.session.commit()
    text = queries.load_draft_text(consultation.version)
    return {"items": [comment_json(c, text.label(c.clause_id)) for c in created]}, 201


# --- positions -----------------------------------------------------------------------------
def _position_round(consultation_id: int, response_id: int) -> UnitResponse:
    consultation = queries.get_round(consultation_id)
    response = _response(consultation, response_id)
    user = current_api_user()
    ensure(consultation.can_track(user) or user.can_work_for_unit(response.unit_id))
    return response


@api_route(
    bp,
    "/consultations/<int:consultation_id>/responses/<int:response_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Ý kiến của một đơn vị: các góp ý, mã xác nhận và lịch sử gửi",
    tags=TAGS,
    response=POSITION,
)
def get_position(consultation_id: int, response_id: int):  # type: ignore[no-untyped-def]
    response = _position_round(consultation_id, response_id)
    return position_json(response, current_api_user())


@api_route(
    bp,
    "/consultations/<int:consultation_id>/responses/<int:response_id>/submit",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Thủ trưởng gửi ý kiến của đơn vị (hoặc thống nhất với dự thảo)",
    tags=TAGS,
    body=SUBMIT_IN,
    response=POSITION,
)
def submit_position(consultation_id: int, response_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    response = _position_round(consultation_id, response_id)
    user = current_api_user()
    operations.submit_position(
        response, agrees=body["agrees"], actor=user, fingerprint=body.get("fingerprint")
    )
    db.session.commit()
    return position_json(response, user)


@api_route(
    bp,
    "/consultations/<int:consultation_id>/responses/<int:response_id>/reopen",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Mở lại ý kiến đã gửi (trước hạn)",
    tags=TAGS,
    response=POSITION,
)
def reopen_position(consultation_id: int, response_id: int):  # type: ignore[no-untyped-def]
    response = _position_round(consultation_id, response_id)
    user = current_api_user()
    operations.reopen_position(response, actor=user)
    db.session.commit()
    return position_json(response, user)


@api_route(
    bp,
    "/consultations/<int:consultation_id>/responses/<int:response_id>/extend",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Gia hạn góp ý cho một đơn vị",
    tags=TAGS,
    body=EXTEND_IN,
    response=RESPONSE,
)
def extend_deadline(consultation_id: int, response_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    response = _response(consultation, response_id)
    user = current_api_user()
    ensure(consultation.can_manage(user))
    operations.extend_deadline(
        response, deadline=_parse_moment(body["deadline"], "deadline", end_of_day=True), actor=user
    )
    db.session.commit()
    return response_json(response)


# --- importing a unit's file -----------------------------------------------------------------
def _import_target(consultation_id: int, response_id: int) -> UnitResponse:
    consultation = queries.get_round(consultation_id)
    user = current_api_user()
    response = _response(consultation, response_id)
    ensure(user.can_work_for_unit(response.unit_id) or consultation.can_manage(user))
    return response


def import_preview_json(preview: imports.ImportPreview) -> dict[str, Any]:
    items = []
    for item in preview.items:
        clause_id = preview.clause_id(item.lineage)
        items.append(
            {
                "index": item.index,
                "kind": item.kind,
                "method": item.method,
                "clause_id": clause_id,
                "clause_label": preview.labels.get(clause_id, queries.GENERAL_LABEL)
                if clause_id is not None
                else queries.GENERAL_LABEL,
                "text": item.text,
                "proposed_text": item.proposed_text,
                "before": preview.before.get(item.index),
                "excerpt": item.excerpt,
            }
        )
    return {
        "token": preview.token,
        "filename": preview.filename,
        "kind": preview.kind,
        "on_behalf": preview.recorded,
        "items": items,
    }


@api_route(
    bp,
    "/consultations/<int:consultation_id>/responses/<int:response_id>/imports",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Đọc tệp của đơn vị (công văn, dự thảo đã sửa, phiếu góp ý) và xem trước các "
    "ý kiến (chưa lưu); trả về mã xác nhận",
    tags=TAGS,
    upload=True,
    response=IMPORT_PREVIEW,
)
def import_preview(consultation_id: int, response_id: int):  # type: ignore[no-untyped-def]
    response = _import_target(consultation_id, response_id)
    upload = request.files.get("file")
    if upload is None:
        raise Invalid(_("Thiếu tệp tải lên (trường file)."))
    preview = imports.preview_import(
        response, data=upload.read(), filename=upload.filename or "", actor=current_api_user()
    )
    return import_preview_json(preview)


@api_route(
    bp,
    "/consultations/<int:consultation_id>/responses/<int:response_id>/imports/confirm",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Xác nhận tệp đã xem trước: lưu các ý kiến của đơn vị và giữ tệp gốc",
    tags=TAGS,
    body=IMPORT_CONFIRM_IN,
    response=list_of(COMMENT),
    status=201,
)
def import_confirm(consultation_id: int, response_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    response = _import_target(consultation_id, response_id)
    choices = {
        item["index"]: imports.Choice(
            item.get("clause_id"), item.get("include", True), keep_clause="clause_id" not in item
        )
        for item in body.get("items", [])
    }
    created = imports.confirm_import(
        response, token=body["token"], choices=choices, actor=current_api_user()
    )
    db.session.commit()
    text = queries.load_draft_text(response.consultation.version)
    return {"items": [comment_json(c, text.label(c.clause_id)) for c in created]}, 201


# --- attachments ---------------------------------------------------------------------------
@api_route(
    bp,
    "/consultations/<int:consultation_id>/attachments",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Đính kèm tệp vào công văn xin ý kiến (PDF, .docx, .xlsx)",
    tags=TAGS,
    response=ATTACHMENT,
    status=201,
    upload=True,
)
def upload_attachment(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    user = current_api_user()
    ensure(consultation.can_manage(user))
    upload = request.files.get("file")
    if upload is None:
        raise Invalid(_("Thiếu tệp tải lên (trường file)."))
    attachment = operations.add_attachment(
        consultation,
        operations.AttachmentUpload(upload.filename or "", upload.read()),
        actor=user,
    )
    db.session.commit()
    return attachment_json(attachment), 201


@api_route(
    bp,
    "/consultation-attachments/<int:attachment_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Tải tệp đính kèm (đơn vị được mời và cán bộ soạn thảo); tệp góp ý của một đơn "
    "vị: đơn vị đó và cán bộ soạn thảo",
    tags=TAGS,
    content_type="application/octet-stream",
)
def download_attachment(attachment_id: int):  # type: ignore[no-untyped-def]
    attachment = get_or_404(
        ConsultationAttachment, attachment_id, _("Không tìm thấy tệp đính kèm.")
    )
    ensure(attachment.can_download(current_api_user()))
    return send_attachment(attachment)
