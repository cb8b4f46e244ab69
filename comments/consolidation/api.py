"""JSON twins of the consolidation pages: answers, reports, letters, rounds, diff, links."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask_babel import gettext as _
from sqlalchemy import select

from accounts.apispec import DATETIME, ID, api_route, current_api_user, list_of
from accounts.errors import Conflict, Invalid, ensure
from accounts.models import Scope
from accounts.operations import get_or_404
from comments.consolidation import exports, queries
from comments.consolidation import operations as ops
from comments.consultation.models import (
    DECISION_LABELS,
    ChangeLink,
    Comment,
    CommentSource,
    Consultation,
    Decision,
    Disposition,
    UnitResponse,
)
from drafts.diffing import Segment
from drafts.models import Clause, Draft, DraftState, Version
from extensions import db
from tasks import background
from tasks.background import JOB_ACCEPTED
from tasks.models import JobKind

bp = Blueprint("consolidation_api", __name__, url_prefix="/api/v1")

TAGS = ["consolidation"]

COUNT = {"type": "integer", "minimum": 0}
DISPOSITION = {
    "type": "object",
    "required": ["id", "decision", "decision_label", "explanation", "lock_version", "comment_ids"],
    "properties": {
        "id": ID,
        "decision": {"type": "string", "enum": [d.value for d in Decision]},
        "decision_label": {"type": "string"},
        "explanation": {"type": "string"},
        "lock_version": {"type": "integer"},
        "comment_ids": {"type": "array", "items": ID},
        "decided_by": {"type": "string"},
        "decided_at": DATETIME,
    },
}
LINKED_CHANGE = {
    "type": "object",
    "required": ["clause_id", "version_id", "label"],
    "properties": {
        "clause_id": ID,
        "version_id": ID,
        "version_label": {"type": "string"},
        "label": {"type": "string"},
    },
}
COMMENT = {
    "type": "object",
    "required": ["id", "unit_id", "unit", "text", "source"],
    "properties": {
        "id": ID,
        "consultation_id": ID,
        "unit_id": ID,
        "unit": {"type": "string"},
        "clause_id": {"type": "integer", "nullable": True},
        "lineage": {"type": "string", "nullable": True},
        "citation": {"type": "string", "description": "Điều, khoản nơi góp ý (trong lần đó)"},
        "round_label": {"type": "string", "description": "“Ý kiến ở dự thảo lần n”"},
        "text": {"type": "string"},
        "proposed_text": {
            "type": "string",
            "nullable": True,
            "description": "Đề xuất sửa đổi của đơn vị (nội dung mới của điều khoản)",
        },
        "source": {"type": "string", "enum": [s.value for s in CommentSource]},
        "disposition": {**DISPOSITION, "nullable": True},
        "changes": {"type": "array", "items": LINKED_CHANGE},
    },
}
COUNTS = {
    "type": "object",
    "required": ["units_invited", "units_answered", "units_agreed", "comments_total"],
    "properties": {
        "units_invited": COUNT,
        "units_answered": COUNT,
        "units_agreed": COUNT,
        "comments_total": COUNT,
        "comments_answered": COUNT,
        "decisions": {
            "type": "object",
            "properties": {d.value: COUNT for d in Decision},
        },
    },
}
CONSOLIDATION = {
    "type": "object",
    "required": ["consultation_id", "draft_id", "counts", "groups"],
    "properties": {
        "consultation_id": ID,
        "draft_id": ID,
        "round_number": {"type": "integer"},
        "version_id": ID,
        "draft_state": {"type": "string", "enum": [s.value for s in DraftState]},
        "can_consolidate": {"type": "boolean"},
        "counts": COUNTS,
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "label", "answered", "total", "comments"],
                "properties": {
                    "key": {"type": "string"},
                    "label": {"type": "string"},
                    "answered": COUNT,
                    "total": COUNT,
                    "comments": {"type": "array", "items": COMMENT},
                },
            },
        },
    },
}
DISPOSITION_IN = {
    "type": "object",
    "required": ["comment_ids", "decision"],
    "additionalProperties": False,
    "properties": {
        "comment_ids": {"type": "array", "items": ID, "minItems": 1, "uniqueItems": True},
        "decision": {"type": "string", "enum": [d.value for d in Decision]},
        "explanation": {"type": "string", "maxLength": 20000},
        "expected_versions": {
            "type": "array",
            "description": "Các câu trả lời hiện có mà người dùng đã xem (khóa lạc quan).",
            "items": {
                "type": "object",
                "required": ["disposition_id", "lock_version"],
                "additionalProperties": False,
                "properties": {"disposition_id": ID, "lock_version": {"type": "integer"}},
            },
        },
    },
}
ROUND = {
    "type": "object",
    "required": ["consultation_id", "round_number", "version_id"],
    "properties": {
        "consultation_id": ID,
        "round_number": {"type": "integer"},
        "version_id": ID,
        "version_label": {"type": "string"},
        "opens_at": DATETIME,
        "closes_at": DATETIME,
        "closed_at": {**DATETIME, "nullable": True},
        "units_invited": COUNT,
        "units_answered": COUNT,
        "units_agreed": COUNT,
        "comments_total": COUNT,
        "comments_answered": COUNT,
    },
}
SEGMENTS = {
    "type": "array",
    "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2},
}
DIFF_CLAUSE = {
    "type": "object",
    "nullable": True,
    "properties": {
        "label": {"type": "string"},
        "kind": {"type": "string"},
        "number": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
    },
}
DIFF = {
    "type": "object",
    "required": ["draft_id", "old_version_id", "new_version_id", "summary", "entries"],
    "properties": {
        "draft_id": ID,
        "old_version_id": ID,
        "new_version_id": ID,
        "summary": {"type": "object", "additionalProperties": COUNT},
        "entries": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["lineage", "changes"],
                "properties": {
                    "lineage": {"type": "string"},
                    "clause_id": {"type": "integer", "nullable": True},
                    "changes": {"type": "array", "items": {"type": "string"}},
                    "old": DIFF_CLAUSE,
                    "new": DIFF_CLAUSE,
                    "word_diff": SEGMENTS,
                    "title_diff": SEGMENTS,
                    "comment_ids": {"type": "array", "items": ID},
                },
            },
        },
    },
}
SYMBOL = {"type": "string", "maxLength": 40, "description": "Số, ký hiệu, e.g. 15/BC-VP"}
VERSIONS_QUERY = {
    "old": {"type": "integer", "minimum": 1},
    "new": {"type": "integer", "minimum": 1},
}
COMPARISON_QUERY = {**VERSIONS_QUERY, "symbol": SYMBOL}
COMMENT_IDS_IN = {
    "type": "object",
    "required": ["comment_ids"],
    "additionalProperties": False,
    "properties": {"comment_ids": {"type": "array", "items": ID, "uniqueItems": True}},
}
LINKS_PATCH = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "properties": {
        "add": {"type": "array", "items": ID, "uniqueItems": True},
        "remove": {"type": "array", "items": ID, "uniqueItems": True},
    },
}
LINKS = {
    "type": "object",
    "required": ["clause_id", "comment_ids"],
    "properties": {"clause_id": ID, "comment_ids": {"type": "array", "items": ID}},
}
EARLIER = {
    "type": "object",
    "required": ["version_id", "lineages"],
    "properties": {
        "version_id": ID,
        "lineages": {"type": "object", "additionalProperties": {"type": "array", "items": COMMENT}},
    },
}


# --- JSON shapes ---------------------------------------------------------------------------
def disposition_json(disposition: Disposition) -> dict[str, Any]:
    return {
        "id": disposition.id,
        "decision": disposition.decision.value,
        "decision_label": DECISION_LABELS[disposition.decision],
        "explanation": disposition.explanation,
        "lock_version": disposition.lock_version,
        "comment_ids": sorted(c.id for c in disposition.comments),
        "decided_by": disposition.decided_by.full_name,
        "decided_at": disposition.decided_at.isoformat(),
    }


def comment_json(
    comment: Comment,
    citation: str | None = None,
    changes: list[queries.LinkedChange] | None = None,
    shared: list[int] | None = None,
) -> dict[str, Any]:
    disposition = comment.disposition
    extra = {"citation": citation} if citation is not None else {}
    return {
        **extra,
        "id": comment.id,
        "consultation_id": comment.consultation_id,
        "unit_id": comment.unit_id,
        "unit": comment.unit.name,
        "clause_id": comment.clause_id,
        "lineage": comment.lineage,
        "text": comment.text,
        "proposed_text": comment.proposed_text,
        "source": comment.source.value,
        "disposition": None
        if disposition is None
        else {
            "id": disposition.id,
            "decision": disposition.decision.value,
            "decision_label": DECISION_LABELS[disposition.decision],
            "explanation": disposition.explanation,
            "lock_version": disposition.lock_version,
            "comment_ids": shared or [comment.id],
        },
        "changes": [
            {
                "clause_id": change.clause_id,
                "version_id": change.version_id,
                "version_label": change.version_label,
                "label": change.label,
            }
            for change in changes or []
        ],
    }


def _consultation(consultation_id: int) -> Consultation:
    return get_or_404(Consultation, consultation_id, _("Không tìm thấy lần lấy ý kiến."))


def _draft(draft_id: int) -> Draft:
    return get_or_404(Draft, draft_id, _("Không tìm thấy dự thảo."))


# --- one round -----------------------------------------------------------------------------
@api_route(
    bp,
    "/consultations/<int:consultation_id>/consolidation",
    methods=["GET"],
    scope=Scope.READ,
    summary="Tổng hợp ý kiến của một lần lấy ý kiến (theo điều, kèm tiến độ)",
    tags=TAGS,
    response=CONSOLIDATION,
)
def get_consolidation(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    user = current_api_user()
    ensure(consultation.can_track(user))
    data = queries.load_consolidation(consultation)
    counts = data.counts
    return {
        "consultation_id": consultation.id,
        "draft_id": consultation.draft_id,
        "round_number": consultation.round_number,
        "version_id": consultation.version_id,
        "draft_state": consultation.draft.state.value,
        "can_consolidate": ops.can_consolidate(consultation, user),
        "counts": {
            "units_invited": counts.units_invited,
            "units_answered": counts.units_answered,
            "units_agreed": counts.units_agreed,
            "comments_total": counts.comments_total,
            "comments_answered": counts.comments_answered,
            "decisions": {d.value: n for d, n in counts.decisions.items()},
        },
        "groups": [
            {
                "key": group.key,
                "label": group.label,
                "answered": group.answered,
                "total": group.total,
                "comments": [
                    comment_json(
                        c,
                        data.citations[c.id],
                        data.changes.get(c.id),
                        data.shared.get(c.disposition_id) if c.disposition_id else None,
                    )
                    for c in group.comments
                ],
            }
            for group in data.groups
        ],
    }


@api_route(
    bp,
    "/consultations/<int:consultation_id>/consolidation/start",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Bắt đầu tổng hợp (dự thảo chuyển sang “Đang tổng hợp”)",
    tags=TAGS,
    response={"type": "object", "properties": {"draft_state": {"type": "string"}}},
)
def start_consolidation(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_manage(current_api_user()))
    ops.start_consolidation(consultation, current_api_user())
    db.session.commit()
    return {"draft_state": consultation.draft.state.value}


@api_route(
    bp,
    "/consultations/<int:consultation_id>/dispositions",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Tiếp thu, giải trình một hoặc nhiều ý kiến giống nhau (một câu trả lời chung)",
    tags=TAGS,
    body=DISPOSITION_IN,
    response=DISPOSITION,
)
def dispose(consultation_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_manage(current_api_user()))
    comments = queries.comments_for_answer(consultation, body["comment_ids"])
    expected = {e["disposition_id"]: e["lock_version"] for e in body.get("expected_versions", [])}
    disposition = ops.dispose(
        comments, body["decision"], body.get("explanation", ""), current_api_user(), expected
    )
    db.session.commit()
    return disposition_json(disposition)


@api_route(
    bp,
    "/consultations/<int:consultation_id>/report.docx",
    methods=["GET"],
    scope=Scope.READ,
    summary="Bản tổng hợp, tiếp thu, giải trình ý kiến góp ý (.docx)",
    tags=TAGS,
    content_type=exports.DOCX_MIMETYPE,
    query={"symbol": SYMBOL},
)
def report_docx(consultation_id: int, query: dict[str, Any]):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_track(current_api_user()))
    symbol = _given_symbol(consultation, "report", query)
    return exports.send_download(exports.consolidation_docx(consultation, symbol))


@api_route(
    bp,
    "/consultations/<int:consultation_id>/report.docx",
    methods=["POST"],
    scope=Scope.READ,
    summary="Tạo bản tổng hợp (.docx) trong nền: 202 và Location của việc; khi xong, "
    "việc cho đường dẫn tải tệp",
    tags=TAGS,
    query={"symbol": SYMBOL},
    response=JOB_ACCEPTED,
    status=202,
)
def report_docx_job(consultation_id: int, query: dict[str, Any]):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_track(current_api_user()))
    symbol = _given_symbol(consultation, "report", query)
    job = background.start_job(
        JobKind.CONSOLIDATION_DOCX,
        owner=current_api_user(),
        subject=consultation,
        params={"symbol": symbol} if symbol else {},
    )
    db.session.commit()
    return background.accepted(job)


@api_route(
    bp,
    "/consultations/<int:consultation_id>/report.xlsx",
    methods=["POST"],
    scope=Scope.READ,
    summary="Tạo bảng tổng hợp (.xlsx) trong nền: 202 và Location của việc",
    tags=TAGS,
    response=JOB_ACCEPTED,
    status=202,
)
def report_xlsx_job(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_track(current_api_user()))
    job = background.start_job(
        JobKind.CONSOLIDATION_XLSX, owner=current_api_user(), subject=consultation
    )
    db.session.commit()
    return background.accepted(job)


def _given_symbol(
    consultation: Consultation | None, document: str, query: dict[str, Any]
) -> str | None:
    """The export's symbol: validated and remembered for the round; the drafter's."""
    given = str(query.get("symbol", "")).strip()
    if not given:
        return None
    if consultation is None:
        return ops.checked_symbol(given)
    ensure(consultation.can_manage(current_api_user()))
    symbol = ops.remember_symbol(consultation, document, given, current_api_user())
    db.session.commit()
    return symbol


@api_route(
    bp,
    "/consultations/<int:consultation_id>/report.xlsx",
    methods=["GET"],
    scope=Scope.READ,
    summary="Bảng tổng hợp ý kiến góp ý (.xlsx)",
    tags=TAGS,
    content_type=exports.XLSX_MIMETYPE,
)
def report_xlsx(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_track(current_api_user()))
    return exports.send_download(exports.consolidation_xlsx(consultation))


@api_route(
    bp,
    "/responses/<int:response_id>/letter.docx",
    methods=["GET"],
    scope=Scope.READ,
    summary="Công văn góp ý của đơn vị (.docx), từ ý kiến đã gửi chính thức",
    tags=TAGS,
    content_type=exports.DOCX_MIMETYPE,
)
def comment_letter(response_id: int):  # type: ignore[no-untyped-def]
    response = get_or_404(UnitResponse, response_id, _("Không tìm thấy ý kiến của đơn vị."))
    ensure(ops.can_download_letter(response, current_api_user()))
    return exports.send_download(exports.comment_letter_docx(response))


# --- a draft's rounds and versions ---------------------------------------------------------
@api_route(
    bp,
    "/drafts/<int:draft_id>/rounds",
    methods=["GET"],
    scope=Scope.READ,
    summary="Các lần lấy ý kiến của dự thảo, kèm số liệu",
    tags=TAGS,
    response=list_of(ROUND),
)
def rounds(draft_id: int):  # type: ignore[no-untyped-def]
    draft = _draft(draft_id)
    ensure(ops.can_view_rounds(draft, current_api_user()))
    return {
        "items": [
            {
                "consultation_id": r.consultation.id,
                "round_number": r.consultation.round_number,
                "version_id": r.consultation.version_id,
                "version_label": r.consultation.version.label,
                "opens_at": r.consultation.opens_at.isoformat(),
                "closes_at": r.consultation.closes_at.isoformat(),
                "closed_at": r.consultation.closed_at.isoformat()
                if r.consultation.closed_at
                else None,
                "units_invited": r.units_invited,
                "units_answered": r.units_answered,
                "units_agreed": r.units_agreed,
                "comments_total": r.comments_total,
                "comments_answered": r.comments_answered,
            }
            for r in queries.rounds_history(draft)
        ]
    }


def _versions(draft: Draft, query: dict[str, Any]) -> tuple[Version, Version]:
    versions = queries.comparable_versions(draft, current_api_user())
    by_id = {v.id: v for v in versions}
    if len(versions) < 2:
        raise Conflict(_("Dự thảo mới có một phiên bản, chưa có gì để so sánh."))
    old_id, new_id = query.get("old", versions[-2].id), query.get("new", versions[-1].id)
    if old_id not in by_id or new_id not in by_id:
        raise Invalid(_("Phiên bản cần so sánh không thuộc dự thảo này hoặc chưa được phát hành."))
    return by_id[old_id], by_id[new_id]


def _clause_json(clause: Any) -> dict[str, Any] | None:
    if clause is None:
        return None
    return {
        "label": clause.label,
        "kind": clause.kind,
        "number": clause.number,
        "title": clause.title,
        "text": clause.text,
    }


def _segments(segments: list[Segment]) -> list[list[str]]:
    return [[op, text] for op, text in segments]


@api_route(
    bp,
    "/drafts/<int:draft_id>/diff",
    methods=["GET"],
    scope=Scope.READ,
    summary="So sánh hai phiên bản (theo khóa định danh điều khoản), kèm ý kiến được tiếp thu",
    tags=TAGS,
    response=DIFF,
    query=VERSIONS_QUERY,
)
def diff(draft_id: int, query: dict[str, Any]):  # type: ignore[no-untyped-def]
    draft = _draft(draft_id)
    ensure(draft.can_view(current_api_user()))
    result = queries.version_diff(*_versions(draft, query))
    links = queries.visible_links(result, current_api_user())
    return {
        "draft_id": draft.id,
        "old_version_id": result.old.id,
        "new_version_id": result.new.id,
        "summary": result.summary,
        "entries": [
            {
                "lineage": row.lineage,
                "clause_id": result.new_clause_ids.get(row.lineage),
                "changes": row.changes,
                "old": _clause_json(row.entry.old),
                "new": _clause_json(row.entry.new),
                "word_diff": _segments(row.entry.word_diff),
                "title_diff": _segments(row.entry.title_diff),
                "comment_ids": [link.comment_id for link in links[row.lineage]],
            }
            for row in result.rows
        ],
    }


@api_route(
    bp,
    "/drafts/<int:draft_id>/comparison.docx",
    methods=["GET"],
    scope=Scope.READ,
    summary="Bảng so sánh hai phiên bản (.docx)",
    tags=TAGS,
    content_type=exports.DOCX_MIMETYPE,
    query=COMPARISON_QUERY,
)
def comparison_docx(draft_id: int, query: dict[str, Any]):  # type: ignore[no-untyped-def]
    draft = _draft(draft_id)
    ensure(draft.can_view(current_api_user()))
    old, new = _versions(draft, query)
    symbol = _given_symbol(queries.round_of_version(old), "comparison", query)
    return exports.send_download(exports.comparison_docx(old, new, symbol))


@api_route(
    bp,
    "/drafts/<int:draft_id>/comparison.docx",
    methods=["POST"],
    scope=Scope.READ,
    summary="Tạo bảng so sánh hai phiên bản (.docx) trong nền: 202 và Location của việc",
    tags=TAGS,
    query=COMPARISON_QUERY,
    response=JOB_ACCEPTED,
    status=202,
)
def comparison_docx_job(draft_id: int, query: dict[str, Any]):  # type: ignore[no-untyped-def]
    draft = _draft(draft_id)
    ensure(draft.can_view(current_api_user()))
    old, new = _versions(draft, query)
    symbol = _given_symbol(queries.round_of_version(old), "comparison", query)
    params: dict[str, Any] = {"old_id": old.id, "new_id": new.id}
    if symbol:
        params["symbol"] = symbol
    job = background.start_job(
        JobKind.COMPARISON_DOCX, owner=current_api_user(), subject=draft, params=params
    )
    db.session.commit()
    return background.accepted(job)


@api_route(
    bp,
    "/versions/<int:version_id>/earlier-comments",
    methods=["GET"],
    scope=Scope.READ,
    summary="Ý kiến góp ý ở các dự thảo trước, theo khóa định danh điều khoản",
    tags=TAGS,
    response=EARLIER,
)
def earlier_comments(version_id: int):  # type: ignore[no-untyped-def]
    version = get_or_404(Version, version_id, _("Không tìm thấy phiên bản."))
    user = current_api_user()
    ensure(version.draft.can_view(user))
    found = queries.earlier_comments_by_lineage(version.draft, version)
    return {
        "version_id": version.id,
        "lineages": {
            lineage: [
                {**comment_json(c), "round_label": queries.earlier_label(c)}
                for c in comments
                if c.can_view(user)
            ]
            for lineage, comments in found.items()
        },
    }


# --- links from a changed clause to the comments it answers --------------------------------
def _clause_for_links(clause_id: int) -> Clause:
    clause = get_or_404(Clause, clause_id, _("Không tìm thấy điều khoản."))
    ensure(ops.can_link_changes(clause.version.draft, current_api_user()))
    return clause


def _comments(ids: list[int]) -> list[Comment]:
    rows = list(db.session.scalars(select(Comment).where(Comment.id.in_(ids))))
    if len(rows) != len(set(ids)):
        raise Invalid(_("Có ý kiến góp ý không tồn tại."))
    return rows


APPLIED = {
    "type": "object",
    "required": ["comment_id", "clause_id", "version_id", "comment_ids"],
    "properties": {
        "comment_id": ID,
        "clause_id": ID,
        "version_id": ID,
        "version_label": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "comment_ids": {
            "type": "array",
            "items": ID,
            "description": "Các ý kiến mà thay đổi của điều khoản này tiếp thu",
        },
    },
}


@api_route(
    bp,
    "/comments/<int:comment_id>/apply-proposal",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Áp dụng đề xuất sửa đổi của ý kiến vào phiên bản tiếp theo (tạo phiên bản nếu "
    "chưa có) và liên kết thay đổi với ý kiến",
    tags=TAGS,
    response=APPLIED,
)
def apply_proposal(comment_id: int):  # type: ignore[no-untyped-def]
    comment = get_or_404(Comment, comment_id, _("Không tìm thấy ý kiến góp ý."))
    user = current_api_user()
    ensure(ops.can_link_changes(comment.consultation.draft, user))
    clause = ops.apply_proposal(comment, user)
    db.session.commit()
    return {
        "comment_id": comment.id,
        "clause_id": clause.id,
        "version_id": clause.version_id,
        "version_label": clause.version.label,
        "title": clause.title,
        "text": clause.text,
        "comment_ids": _links_json(clause)["comment_ids"],
    }


def _links_json(clause: Clause) -> dict[str, Any]:
    ids = db.session.scalars(
        select(ChangeLink.comment_id)
        .where(ChangeLink.clause_id == clause.id)
        .order_by(ChangeLink.comment_id)
    ).all()
    return {"clause_id": clause.id, "comment_ids": list(ids)}


@api_route(
    bp,
    "/clauses/<int:clause_id>/change-links",
    methods=["GET"],
    scope=Scope.READ,
    summary="Các ý kiến góp ý mà thay đổi của điều khoản này tiếp thu",
    tags=TAGS,
    response=LINKS,
)
def get_links(clause_id: int):  # type: ignore[no-untyped-def]
    clause = get_or_404(Clause, clause_id, _("Không tìm thấy điều khoản."))
    ensure(clause.version.draft.can_view(current_api_user()))
    return _links_json(clause)


@api_route(
    bp,
    "/clauses/<int:clause_id>/change-links",
    methods=["PUT"],
    scope=Scope.COMMENT,
    summary="Đặt lại danh sách ý kiến mà thay đổi này tiếp thu",
    tags=TAGS,
    body=COMMENT_IDS_IN,
    response=LINKS,
)
def set_links(clause_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    clause = _clause_for_links(clause_id)
    ops.set_change_links(clause, _comments(body["comment_ids"]), current_api_user())
    db.session.commit()
    return _links_json(clause)


@api_route(
    bp,
    "/clauses/<int:clause_id>/change-links",
    methods=["PATCH"],
    scope=Scope.COMMENT,
    summary="Thêm và bỏ một số liên kết giữa thay đổi và các ý kiến góp ý",
    tags=TAGS,
    body=LINKS_PATCH,
    response=LINKS,
)
def patch_links(clause_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    clause = _clause_for_links(clause_id)
    if body.get("add"):
        ops.link_change(clause, _comments(body["add"]), current_api_user())
    if body.get("remove"):
        ops.unlink_change(clause, _comments(body["remove"]), current_api_user())
    db.session.commit()
    return _links_json(clause)


@api_route(
    bp,
    "/clauses/<int:clause_id>/change-links",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Liên kết thay đổi của điều khoản với các ý kiến góp ý",
    tags=TAGS,
    body=COMMENT_IDS_IN,
    response=LINKS,
)
def add_links(clause_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    clause = _clause_for_links(clause_id)
    ops.link_change(clause, _comments(body["comment_ids"]), current_api_user())
    db.session.commit()
    return _links_json(clause)


@api_route(
    bp,
    "/clauses/<int:clause_id>/change-links/<int:comment_id>",
    methods=["DELETE"],
    scope=Scope.COMMENT,
    summary="Bỏ liên kết giữa thay đổi và một ý kiến góp ý",
    tags=TAGS,
    response=LINKS,
)
def remove_link(clause_id: int, comment_id: int):  # type: ignore[no-untyped-def]
    clause = _clause_for_links(clause_id)
    ops.unlink_change(clause, _comments([comment_id]), current_api_user())
    db.session.commit()
    return _links_json(clause)
