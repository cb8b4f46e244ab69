"""JSON twins of the drafts pages. They call the same operations as drafts.views."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from accounts.apispec import MAX_ID, api_route, current_api_user, list_of
from accounts.downloads import DOCX_MIMETYPE, send_download
from accounts.errors import Conflict, Invalid, NotFound, UserError, ensure, error_response
from accounts.i18n import note_text
from accounts.models import Scope, User
from accounts.operations import get_or_404
from drafts import exports, operations, queries, tree
from drafts.lifecycle import DRAFT_MACHINE
from drafts.models import (
    CLAUSE_KIND_LABELS,
    Clause,
    ClauseKind,
    Draft,
    DraftKind,
    DraftState,
    Version,
)
from extensions import db
from tasks import background
from tasks.background import JOB_ACCEPTED
from tasks.models import JobKind

bp = Blueprint("drafts_api", __name__, url_prefix="/api/v1")
TAGS = ["drafts"]


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
    from drafts.views import too_large_message

    return error_response(413, "too_large", too_large_message())


# --- schemas -----------------------------------------------------------------------------
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
LOCK = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
POINTS_OUT = {"type": "number", "nullable": True}
POINTS_IN = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "maxLength": 30}]}
VERSION = {
    "type": "object",
    "required": ["id", "draft_id", "number", "label", "status", "lock_version"],
    "properties": {
        "id": ID,
        "draft_id": ID,
        "number": {"type": "integer"},
        "label": {"type": "string"},
        "status": {"type": "string", "enum": ["editing", "published"]},
        "published_at": {"type": "string", "format": "date-time", "nullable": True},
        "based_on_id": {"type": "integer", "nullable": True},
        "source_filename": {"type": "string", "nullable": True},
        "note": {"type": "string"},
        "lock_version": {"type": "integer"},
        "source_title": {"type": "string", "description": "Tên văn bản đọc từ tệp nhập"},
        "preamble": {"type": "array", "items": {"type": "string"}},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "left_out": {
            "type": "array",
            "description": "Các đoạn của tệp không đưa vào cây điều khoản, kèm lý do",
            "items": {
                "type": "object",
                "required": ["text", "reason"],
                "properties": {"text": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
    },
}
# Children repeat this shape; OpenAPI 3.0 cannot say so without a named component.
CLAUSE = {
    "type": "object",
    "required": ["id", "kind", "number", "heading", "title", "text", "lineage", "label"],
    "properties": {
        "id": ID,
        "parent_id": {"type": "integer", "nullable": True},
        "kind": {"type": "string", "enum": [k.value for k in ClauseKind]},
        "kind_label": {"type": "string"},
        "number": {"type": "string"},
        "heading": {"type": "string"},
        "title": {"type": "string"},
        "text": {"type": "string"},
        "max_points": POINTS_OUT,
        "guidance": {"type": "string"},
        "lineage": {"type": "string"},
        "label": {"type": "string"},
        "depth": {"type": "integer"},
        "children": {"type": "array", "items": {"type": "object"}},
    },
}
VERSION_TREE = {
    "type": "object",
    "required": ["version", "clauses"],
    "properties": {
        "version": VERSION,
        "clauses": {"type": "array", "items": CLAUSE},
        "total_max_points": POINTS_OUT,
        "problems": {"type": "array", "items": {"type": "string"}},
    },
}
DRAFT = {
    "type": "object",
    "required": ["id", "title", "kind", "state", "state_label", "drafting_unit", "versions"],
    "properties": {
        "id": ID,
        "title": {"type": "string"},
        "kind": {"type": "string", "enum": [k.value for k in DraftKind]},
        "kind_label": {"type": "string"},
        "state": {"type": "string", "enum": [s.value for s in DraftState]},
        "state_label": {"type": "string"},
        "drafting_unit": {
            "type": "object",
            "properties": {"id": ID, "name": {"type": "string"}, "short_name": {"type": "string"}},
        },
        "drafter_ids": {"type": "array", "items": ID},
        "versions": {"type": "array", "items": VERSION},
        "actions": {"type": "array", "items": {"type": "string"}},
        "adopted_version_id": {"type": "integer", "nullable": True},
        "decision_number": {"type": "string", "nullable": True},
        "decision_date": {"type": "string", "format": "date", "nullable": True},
        "signer_name": {"type": "string", "nullable": True},
    },
}
DRAFT_IN = {
    "type": "object",
    "required": ["title", "kind"],
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 500},
        "kind": {"type": "string", "enum": [k.value for k in DraftKind]},
        "drafter_ids": {"type": "array", "items": ID, "uniqueItems": True, "maxItems": 50},
    },
}
CLAUSE_FIELDS = {
    "kind": {"type": "string", "enum": [k.value for k in ClauseKind]},
    "number": {"type": "string", "maxLength": 20},
    "title": {"type": "string", "maxLength": 2000},
    "text": {"type": "string", "maxLength": 50000},
    "max_points": POINTS_IN,
    "guidance": {"type": "string", "maxLength": 10000},
}
CLAUSE_IN = {
    "type": "object",
    "required": ["lock_version", "kind"],
    "additionalProperties": False,
    "properties": {"lock_version": LOCK, "parent_id": ID, "after_id": ID, **CLAUSE_FIELDS},
}
CLAUSE_EDIT = {
    "type": "object",
    "required": ["lock_version"],
    "additionalProperties": False,
    "properties": {"lock_version": LOCK, **CLAUSE_FIELDS},
}
MOVE_IN = {
    "type": "object",
    "required": ["lock_version"],
    "additionalProperties": False,
    "description": "Either `direction` (one place up or down among siblings), or `parent_id` "
    "(0 = top level) with an optional `after_id` (a child of that parent; last when absent).",
    "properties": {
        "lock_version": LOCK,
        "direction": {"type": "string", "enum": ["up", "down"]},
        "parent_id": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
        "after_id": ID,
    },
}
CLAUSE_RESULT = {
    "type": "object",
    "required": ["clause", "lock_version"],
    "properties": {"clause": CLAUSE, "lock_version": {"type": "integer"}},
}
LOCK_IN = {
    "type": "object",
    "required": ["lock_version"],
    "additionalProperties": False,
    "properties": {"lock_version": LOCK},
}
NOTE_IN = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"note": {"type": "string", "maxLength": 2000}},
}
RENUMBER = {
    "type": "object",
    "required": ["changes", "lock_version"],
    "properties": {
        "lock_version": {"type": "integer"},
        "changes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["clause_id", "old_number", "new_number", "old_label", "new_label"],
                "properties": {
                    "clause_id": ID,
                    "lineage": {"type": "string"},
                    "kind": {"type": "string"},
                    "old_number": {"type": "string"},
                    "new_number": {"type": "string"},
                    "old_label": {"type": "string"},
                    "new_label": {"type": "string"},
                },
            },
        },
    },
}
PREVIEW = {
    "type": "object",
    "required": [
        "token",
        "filename",
        "kind",
        "clauses",
        "warnings",
        "count",
        "title",
        "preamble",
        "left_out",
    ],
    "properties": {
        "token": {"type": "string"},
        "filename": {"type": "string"},
        "kind": {"type": "string", "enum": [k.value for k in DraftKind]},
        "clauses": {"type": "array", "items": CLAUSE},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "title": {"type": "string", "description": "Tên văn bản đọc được (rỗng nếu không có)"},
        "preamble": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Phần mở đầu: các dòng Căn cứ, Quyết định ban hành",
        },
        "left_out": {
            "type": "array",
            "description": "Các đoạn không nhập vào cây điều khoản, kèm lý do",
            "items": {
                "type": "object",
                "required": ["text", "reason"],
                "properties": {"text": {"type": "string"}, "reason": {"type": "string"}},
            },
        },
        "count": {"type": "integer"},
        "total_max_points": POINTS_OUT,
    },
}
CONFIRM_IN = {
    "type": "object",
    "required": ["token"],
    "additionalProperties": False,
    "properties": {"token": {"type": "string", "minLength": 1, "maxLength": 100}},
}
ADOPT_IN = {
    "type": "object",
    "required": ["version_id", "decision_number", "decision_date", "signer_name"],
    "additionalProperties": False,
    "properties": {
        "version_id": ID,
        "decision_number": {"type": "string", "minLength": 1, "maxLength": 120},
        "decision_date": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "signer_name": {"type": "string", "minLength": 1, "maxLength": 200},
        # Adopting a version older than the latest published one needs this; else 409.
        "confirm_not_latest": {"type": "boolean", "default": False},
    },
}
DELETED = {
    "type": "object",
    "required": ["deleted"],
    "properties": {"deleted": {"type": "integer"}, "lock_version": {"type": "integer"}},
}
LIFECYCLE_ROW = {
    "type": "object",
    "required": ["source", "action", "target"],
    "properties": {
        "source": {"type": "string"},
        "source_label": {"type": "string"},
        "action": {"type": "string"},
        "label": {"type": "string"},
        "target": {"type": "string"},
        "target_label": {"type": "string"},
        "who": {"type": "string"},
        "requires_note": {"type": "boolean"},
        "guarded": {"type": "boolean"},
    },
}


# --- serialisers -------------------------------------------------------------------------
def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def version_json(version: Version) -> dict[str, Any]:
    return {
        "id": version.id,
        "draft_id": version.draft_id,
        "number": version.number,
        "label": version.label,
        "status": version.status.value,
        "published_at": version.published_at.isoformat() if version.published_at else None,
        "based_on_id": version.based_on_id,
        "source_filename": version.source_filename,
        "note": version.note or "",
        "lock_version": version.lock_version,
        "source_title": version.source_title or "",
        "preamble": list(version.source_preamble or []),
        "warnings": [note_text(w) for w in version.import_warnings or []],
        "left_out": [_left_out_json(item) for item in version.left_out or []],
    }


def draft_json(draft: Draft, user: User) -> dict[str, Any]:
    return {
        "id": draft.id,
        "title": draft.title,
        "kind": draft.kind.value,
        "kind_label": draft.kind_label,
        "state": draft.state.value,
        "state_label": draft.state_label,
        "drafting_unit": {
            "id": draft.drafting_unit.id,
            "name": draft.drafting_unit.name,
            "short_name": draft.drafting_unit.short_name,
        },
        "drafter_ids": [d.user_id for d in draft.drafters],
        "versions": [version_json(v) for v in draft.versions if v.can_view(user)],
        "actions": [t.action for t in DRAFT_MACHINE.actions_for(draft, user)],
        "adopted_version_id": draft.adopted_version_id,
        "decision_number": draft.decision_number,
        "decision_date": draft.decision_date.isoformat() if draft.decision_date else None,
        "signer_name": draft.signer_name,
    }


def clause_json(node: tree.TreeNode, *, nested: bool = True) -> dict[str, Any]:
    data = {
        "id": node.id,
        "parent_id": node.parent.id if node.parent is not None else None,
        "kind": node.kind,
        "kind_label": CLAUSE_KIND_LABELS[ClauseKind(node.kind)],
        "number": node.number,
        "heading": node.heading,
        "title": node.title,
        "text": node.text,
        "max_points": _number(node.max_points),
        "guidance": node.guidance,
        "lineage": node.lineage,
        "label": node.label,
        "depth": node.depth,
    }
    if nested:
        data["children"] = [clause_json(child) for child in node.children]
    return data


def _clause_result(clause: Clause) -> dict[str, Any]:
    version = clause.version
    nodes = {n.id: n for n in tree.iter_tree(tree.load_version_tree(version))}
    return {"clause": clause_json(nodes[clause.id]), "lock_version": version.lock_version}


# --- loading and permissions --------------------------------------------------------------
def _draft(draft_id: int) -> Draft:
    draft = queries.get_draft(draft_id)
    ensure(draft.can_view(current_api_user()))
    return draft


def _drafter_only(draft: Draft) -> None:
    user = current_api_user()
    ensure(user.can_draft() and draft.is_drafter(user))


def _version(version_id: int, *, change: bool = False) -> Version:
    version = get_or_404(Version, version_id, _("Không tìm thấy phiên bản."))
    ensure(version.can_view(current_api_user()))
    if change:
        _drafter_only(version.draft)
    return version


def _clause(clause_id: int) -> Clause:
    clause = get_or_404(Clause, clause_id, _("Không tìm thấy điều khoản."))
    _version(clause.version_id, change=True)
    return clause


def _clause_in(version: Version, clause_id: int | None) -> Clause | None:
    if not clause_id:
        return None
    clause = db.session.get(Clause, clause_id)
    if clause is None or clause.version_id != version.id:
        raise NotFound(_("Không tìm thấy điều khoản trong phiên bản này."))
    return clause


def _fields(body: dict[str, Any], clause: Clause | None = None) -> operations.ClauseFields:
    pick = body.get

    try:
        points = (
            tree.parse_points(body["max_points"])
            if "max_points" in body
            else (clause.max_points if clause is not None else None)
        )
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    return operations.ClauseFields(
        kind=ClauseKind(pick("kind", clause.kind if clause else None)),
        number=pick("number", clause.number if clause else ""),
        title=pick("title", clause.title if clause else ""),
        text=pick("text", clause.text if clause else ""),
        max_points=points,
        guidance=pick("guidance", clause.guidance if clause else ""),
    )


# --- drafts ------------------------------------------------------------------------------
@api_route(
    bp,
    "/drafts",
    methods=["GET"],
    scope=Scope.READ,
    summary="Danh sách dự thảo được xem",
    tags=TAGS,
    response=list_of(DRAFT),
)
def list_drafts():  # type: ignore[no-untyped-def]
    user = current_api_user()
    return jsonify({"items": [draft_json(d, user) for d in operations.visible_drafts(user)]})


@api_route(
    bp,
    "/drafts",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Tạo dự thảo",
    tags=TAGS,
    body=DRAFT_IN,
    response=DRAFT,
    status=201,
)
def create_draft(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    user = current_api_user()
    ensure(user.can_draft())
    wanted = set(body.get("drafter_ids", [])) - {user.id}
    found = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}
    if wanted - set(found):
        raise Invalid(
            _("Không tìm thấy người dùng: %(ids)s.", ids=", ".join(map(str, wanted - set(found))))
        )
    draft = operations.create_draft(
        title=body["title"],
        kind=DraftKind(body["kind"]),
        drafting_unit=user.unit,
        actor=user,
        drafters=list(found.values()),
    )
    db.session.commit()
    return jsonify(draft_json(draft, user)), 201


@api_route(
    bp,
    "/drafts/lifecycle",
    methods=["GET"],
    scope=Scope.READ,
    summary="Bảng các bước của dự thảo",
    tags=TAGS,
    response=list_of(LIFECYCLE_ROW),
)
def lifecycle():  # type: ignore[no-untyped-def]
    return jsonify({"items": DRAFT_MACHINE.as_table()})


@api_route(
    bp,
    "/drafts/<int:draft_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Một dự thảo và các phiên bản",
    tags=TAGS,
    response=DRAFT,
)
def get_draft(draft_id: int):  # type: ignore[no-untyped-def]
    return jsonify(draft_json(_draft(draft_id), current_api_user()))


@api_route(
    bp,
    "/versions/<int:version_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Cây điều khoản của một phiên bản (lồng nhau, kèm khóa định danh và trích dẫn)",
    tags=TAGS,
    response=VERSION_TREE,
)
def get_version(version_id: int):  # type: ignore[no-untyped-def]
    version = _version(version_id)
    roots = tree.load_version_tree(version)
    criteria = version.draft.kind == DraftKind.CRITERIA
    return jsonify(
        {
            "version": version_json(version),
            "clauses": [clause_json(r) for r in roots],
            "total_max_points": _number(tree.criteria_total(roots)) if criteria else None,
            "problems": [note_text(p) for p in tree.criteria_problems(roots)]
            if criteria and roots
            else [],
        }
    )


# --- import ------------------------------------------------------------------------------
@api_route(
    bp,
    "/drafts/<int:draft_id>/imports",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Tải tệp lên và xem trước (chưa lưu); trả về mã xác nhận",
    tags=TAGS,
    upload=True,
    response=PREVIEW,
)
def import_preview(draft_id: int):  # type: ignore[no-untyped-def]
    user = current_api_user()
    draft = _draft(draft_id)
    _drafter_only(draft)
    upload = request.files.get("file")
    if upload is None:
        raise UserError(_("Thiếu tệp (trường multipart “file”)."))
    data = upload.read()
    operations.ensure_can_add_version(draft)
    preview = operations.read_upload(draft.kind, data, upload.filename or "")
    token = operations.stash_upload(data, filename=upload.filename or "", user=user, draft=draft)
    return jsonify(preview_json(preview, token, operations.display_filename(upload.filename or "")))


def _left_out_json(item: dict[str, str]) -> dict[str, str]:
    reason = item["reason"]  # a label marked N_ where the parser defines it
    return {"text": item["text"], "reason": _(reason)}


def preview_json(preview: operations.ImportPreview, token: str, filename: str) -> dict[str, Any]:
    return {
        "token": token,
        "filename": filename,
        "kind": preview.kind.value,
        "clauses": [clause_json(r) for r in preview.roots],
        "warnings": [note_text(w) for w in preview.warnings],
        "count": preview.count,
        "title": preview.title,
        "preamble": preview.preamble,
        "left_out": [_left_out_json(item) for item in preview.left_out],
        "total_max_points": _number(preview.total_max_points),
    }


@api_route(
    bp,
    "/drafts/<int:draft_id>/import-jobs",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Tải tệp lên và đọc nó trong nền (tệp lớn, .doc/.odt/.rtf/.pdf): trả về 202 "
    "và Location của việc; khi xong, việc chứa bản xem trước và mã xác nhận",
    tags=TAGS,
    upload=True,
    response=JOB_ACCEPTED,
    status=202,
)
def import_job(draft_id: int):  # type: ignore[no-untyped-def]
    user = current_api_user()
    draft = _draft(draft_id)
    _drafter_only(draft)
    upload = request.files.get("file")
    if upload is None:
        raise UserError(_("Thiếu tệp (trường multipart “file”)."))
    data = upload.read()
    operations.ensure_can_add_version(draft)
    token = operations.stash_upload(data, filename=upload.filename or "", user=user, draft=draft)
    job = background.start_job(
        JobKind.DRAFT_IMPORT, owner=user, subject=draft, params={"token": token}
    )
    db.session.commit()
    return background.accepted(job)


@api_route(
    bp,
    "/drafts/<int:draft_id>/imports/confirm",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Xác nhận tệp đã xem trước: tạo phiên bản mới",
    tags=TAGS,
    body=CONFIRM_IN,
    response=VERSION,
    status=201,
)
def import_confirm(draft_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    user = current_api_user()
    draft = _draft(draft_id)
    _drafter_only(draft)
    upload = operations.take_upload(body["token"], user=user, draft=draft)
    version = operations.import_version(
        draft,
        actor=user,
        data=upload.data,
        filename=upload.filename,
        preview=operations.kept_preview(user, draft, upload.token),
    )
    db.session.commit()
    operations.drop_upload(upload.token)
    return jsonify(version_json(version)), 201


# --- versions ----------------------------------------------------------------------------
@api_route(
    bp,
    "/drafts/<int:draft_id>/versions",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Tạo phiên bản tiếp theo, sao chép phiên bản đã phát hành gần nhất",
    tags=TAGS,
    body=NOTE_IN,
    response=VERSION,
    status=201,
)
def new_version(draft_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    draft = _draft(draft_id)
    _drafter_only(draft)
    version = operations.new_version(draft, actor=current_api_user(), note=body.get("note", ""))
    db.session.commit()
    return jsonify(version_json(version)), 201


@api_route(
    bp,
    "/versions/<int:version_id>/publish",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Phát hành phiên bản",
    tags=TAGS,
    body=LOCK_IN,
    response=VERSION,
)
def publish(version_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    version = _version(version_id, change=True)
    operations.publish_version(version, actor=current_api_user(), lock_version=body["lock_version"])
    db.session.commit()
    return jsonify(version_json(version))


@api_route(
    bp,
    "/versions/<int:version_id>",
    methods=["DELETE"],
    scope=Scope.COMMENT,
    summary="Xóa một phiên bản chưa phát hành",
    tags=TAGS,
    response=DELETED,
)
def discard(version_id: int):  # type: ignore[no-untyped-def]
    version = _version(version_id, change=True)
    operations.discard_version(version, actor=current_api_user())
    db.session.commit()
    return jsonify({"deleted": 1})


@api_route(
    bp,
    "/versions/<int:version_id>/renumber",
    methods=["GET"],
    scope=Scope.READ,
    summary="Xem trước “Đánh số lại” (số cũ → số mới)",
    tags=TAGS,
    response=RENUMBER,
)
def renumber_preview(version_id: int):  # type: ignore[no-untyped-def]
    version = _version(version_id, change=True)
    operations.ensure_editable(version)
    plan = operations.renumber_preview(version)
    return jsonify({"changes": [_change(c) for c in plan], "lock_version": version.lock_version})


@api_route(
    bp,
    "/versions/<int:version_id>/renumber",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Đánh số lại",
    tags=TAGS,
    body=LOCK_IN,
    response=RENUMBER,
)
def renumber(version_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    version = _version(version_id, change=True)
    plan = operations.renumber_version(
        version, actor=current_api_user(), lock_version=body["lock_version"]
    )
    db.session.commit()
    return jsonify({"changes": [_change(c) for c in plan], "lock_version": version.lock_version})


def _change(change: tree.Renumbering) -> dict[str, Any]:
    return {
        "clause_id": change.clause_id,
        "lineage": change.lineage,
        "kind": change.kind,
        "old_number": change.old_number,
        "new_number": change.new_number,
        "old_label": change.old_label,
        "new_label": change.new_label,
    }


# --- clauses -----------------------------------------------------------------------------
@api_route(
    bp,
    "/versions/<int:version_id>/clauses",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Thêm điều khoản (vào cuối mục cha, hoặc ngay sau after_id)",
    tags=TAGS,
    body=CLAUSE_IN,
    response=CLAUSE_RESULT,
    status=201,
)
def add_clause(version_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    version = _version(version_id, change=True)
    clause = operations.add_clause(
        version,
        _fields(body),
        actor=current_api_user(),
        lock_version=body["lock_version"],
        parent=_clause_in(version, body.get("parent_id")),
        after=_clause_in(version, body.get("after_id")),
    )
    db.session.commit()
    return jsonify(_clause_result(clause)), 201


@api_route(
    bp,
    "/clauses/<int:clause_id>",
    methods=["PATCH"],
    scope=Scope.COMMENT,
    summary="Sửa điều khoản",
    tags=TAGS,
    body=CLAUSE_EDIT,
    response=CLAUSE_RESULT,
)
def edit_clause(clause_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    clause = _clause(clause_id)
    operations.edit_clause(
        clause, _fields(body, clause), actor=current_api_user(), lock_version=body["lock_version"]
    )
    db.session.commit()
    return jsonify(_clause_result(clause))


@api_route(
    bp,
    "/clauses/<int:clause_id>/move",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Chuyển điều khoản: lên/xuống, hoặc vào mục cha khác",
    tags=TAGS,
    body=MOVE_IN,
    response=CLAUSE_RESULT,
)
def move_clause(clause_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    clause = _clause(clause_id)
    user, lock = current_api_user(), body["lock_version"]
    if "direction" in body:
        if "parent_id" in body or "after_id" in body:
            raise Invalid(_("Chỉ dùng direction, hoặc parent_id/after_id, không dùng cả hai."))
        operations.shift_clause(clause, body["direction"], actor=user, lock_version=lock)
    elif "parent_id" in body:
        version = clause.version
        operations.move_clause(
            clause,
            actor=user,
            lock_version=lock,
            parent=_clause_in(version, body["parent_id"]),
            after=_clause_in(version, body.get("after_id")),
        )
    else:
        raise Invalid(_("Cần direction (up/down) hoặc parent_id (0 = cấp cao nhất)."))
    db.session.commit()
    return jsonify(_clause_result(clause))


@api_route(
    bp,
    "/clauses/<int:clause_id>",
    methods=["DELETE"],
    scope=Scope.COMMENT,
    summary="Xóa điều khoản cùng các mục con",
    tags=TAGS,
    response=DELETED,
    query={"lock_version": {"type": "integer", "minimum": 0, "maximum": MAX_ID}},
)
def delete_clause(clause_id: int, query: dict[str, Any]):  # type: ignore[no-untyped-def]
    clause = _clause(clause_id)
    version = clause.version
    if "lock_version" not in query:
        raise Invalid(_("Cần tham số lock_version (phiên bản dữ liệu bạn đang xem)."))
    count = operations.delete_clause(
        clause, actor=current_api_user(), lock_version=query["lock_version"]
    )
    db.session.commit()
    return jsonify({"deleted": count, "lock_version": version.lock_version})


# --- lifecycle ---------------------------------------------------------------------------
@api_route(
    bp,
    "/drafts/<int:draft_id>/finish-revision",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Hoàn thành chỉnh lý: phát hành phiên bản mới, chuyển sang “Đã chỉnh lý”",
    tags=TAGS,
    body=NOTE_IN,
    response=DRAFT,
)
def finish_revision(draft_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    user = current_api_user()
    draft = _draft(draft_id)
    _drafter_only(draft)
    operations.finish_revision(draft, user, body.get("note") or None)
    db.session.commit()
    return jsonify(draft_json(draft, user))


@api_route(
    bp,
    "/drafts/<int:draft_id>/adopt",
    methods=["POST"],
    scope=Scope.COMMENT,
    summary="Thông qua, ban hành một phiên bản đã phát hành",
    tags=TAGS,
    body=ADOPT_IN,
    response=DRAFT,
)
def adopt(draft_id: int, body: dict[str, Any]):  # type: ignore[no-untyped-def]
    user = current_api_user()
    draft = _draft(draft_id)
    _drafter_only(draft)
    if draft.state == DraftState.ADOPTED:
        raise Conflict(_("Dự thảo đã được ban hành; không thể sửa đổi."))
    version = db.session.get(Version, body["version_id"])
    if version is None or version.draft_id != draft.id:
        raise NotFound(_("Phiên bản không thuộc dự thảo này."))
    try:
        decided = date.fromisoformat(body["decision_date"])
    except ValueError as exc:
        raise Invalid(_("Ngày ký không hợp lệ (YYYY-MM-DD).")) from exc
    operations.adopt_draft(
        draft,
        version,
        body["decision_number"],
        decided,
        body["signer_name"],
        user,
        confirm_not_latest=bool(body.get("confirm_not_latest", False)),
    )
    db.session.commit()
    return jsonify(draft_json(draft, user))


# --- Word documents of a version ---------------------------------------------------------
@api_route(
    bp,
    "/versions/<int:version_id>/for-comment.docx",
    methods=["GET"],
    scope=Scope.READ,
    summary="Dự thảo gửi lấy ý kiến (.docx), mỗi điều khoản trong một bookmark theo khóa định danh",
    tags=TAGS,
    content_type=DOCX_MIMETYPE,
)
def for_comment_docx(version_id: int):  # type: ignore[no-untyped-def]
    return send_download(exports.for_comment_docx(_version(version_id)))


@api_route(
    bp,
    "/versions/<int:version_id>/comment-form.docx",
    methods=["GET"],
    scope=Scope.READ,
    summary="Phiếu góp ý (.docx): bảng các điều, khoản của dự thảo với cột góp ý để trống",
    tags=TAGS,
    content_type=DOCX_MIMETYPE,
)
def comment_form_docx(version_id: int):  # type: ignore[no-untyped-def]
    return send_download(exports.comment_form_docx(_version(version_id)))


@api_route(
    bp,
    "/versions/<int:version_id>/redline.docx",
    methods=["GET"],
    scope=Scope.READ,
    summary="Bản theo dõi thay đổi (.docx, track changes) so với phiên bản trước "
    "(mặc định: phiên bản làm cơ sở)",
    tags=TAGS,
    content_type=DOCX_MIMETYPE,
    query={"against": ID},
)
def redline_docx(version_id: int, query: dict[str, Any]):  # type: ignore[no-untyped-def]
    version = _version(version_id)
    against = _version(query["against"]) if "against" in query else None
    return send_download(exports.redline_docx(version, exports.redline_base(version, against)))
