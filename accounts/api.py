"""JSON twins of the organisation pages, plus /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from accounts import invites, operations
from accounts.apispec import (
    ID,
    MAX_ID,
    api_put_patch,
    api_route,
    build_openapi,
    current_api_user,
    list_of,
    whole,
)
from accounts.errors import Invalid, ensure
from accounts.models import (
    AuditEntry,
    EmulationYear,
    Group,
    GroupKind,
    Role,
    Scope,
    Unit,
    UnitKind,
    User,
)
from extensions import db, limiter

bp = Blueprint("accounts_api", __name__, url_prefix="/api/v1")

UNIT = {
    "type": "object",
    "required": ["id", "name", "short_name", "kind", "active"],
    "properties": {
        "id": ID,
        "name": {"type": "string"},
        "short_name": {"type": "string"},
        "kind": {"type": "string", "enum": [k.value for k in UnitKind]},
        "email": {"type": "string", "nullable": True},
        "active": {"type": "boolean"},
        "merged_into_id": {"type": "integer", "nullable": True},
    },
}
UNIT_IN = {
    "type": "object",
    "required": ["name", "short_name", "kind"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "short_name": {"type": "string", "minLength": 1, "maxLength": 60},
        "kind": {"type": "string", "enum": [k.value for k in UnitKind]},
        "email": {"type": "string", "maxLength": 200},
    },
}
GROUP = {
    "type": "object",
    "required": ["id", "year", "kind", "name", "units"],
    "properties": {
        "id": ID,
        "year": {"type": "integer"},
        "kind": {"type": "string", "enum": [k.value for k in GroupKind]},
        "name": {"type": "string"},
        "leader_unit_id": {"type": "integer", "nullable": True},
        "deputy_unit_id": {"type": "integer", "nullable": True},
        "units": {"type": "array", "items": ID},
    },
}
GROUP_IN = {
    "type": "object",
    "required": ["year", "kind", "name"],
    "additionalProperties": False,
    "properties": {
        "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
        "kind": {"type": "string", "enum": [k.value for k in GroupKind]},
        "name": {"type": "string", "minLength": 1, "maxLength": 120},
        "units": {"type": "array", "items": ID, "uniqueItems": True},
        "leader_unit_id": {"type": "integer"},
        "deputy_unit_id": {"type": "integer"},
    },
}
# PUT replaces the whole membership and leadership; 0 means no leader or deputy.
GROUP_PUT = whole(
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "units": {"type": "array", "items": ID, "uniqueItems": True},
            "leader_unit_id": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
            "deputy_unit_id": {"type": "integer", "minimum": 0, "maximum": MAX_ID},
        },
    }
)
# PUT sends the whole unit: a left-out e-mail would have been cleared, and with it the
# unit's reminders. An empty string clears it on purpose.
UNIT_PUT = whole(UNIT_IN)
USER = {
    "type": "object",
    "required": ["id", "username", "full_name", "unit_id", "roles", "active"],
    "properties": {
        "id": ID,
        "username": {"type": "string"},
        "full_name": {"type": "string"},
        "email": {"type": "string"},
        "unit_id": ID,
        "roles": {"type": "array", "items": {"type": "string", "enum": [r.value for r in Role]}},
        "active": {"type": "boolean"},
    },
}
USER_IN = {
    "type": "object",
    "required": ["username", "full_name", "email", "unit_id", "roles", "password"],
    "additionalProperties": False,
    "properties": {
        "username": {
            "type": "string",
            "minLength": 1,
            "maxLength": 80,
            "pattern": "^[A-Za-z0-9._-]+$",
        },
        "full_name": {"type": "string", "minLength": 1, "maxLength": 200},
        "email": {"type": "string", "maxLength": 200},
        "unit_id": ID,
        "roles": {"type": "array", "items": {"type": "string", "enum": [r.value for r in Role]}},
        "password": {"type": "string", "minLength": 8, "maxLength": 200},
    },
}
AUDIT = {
    "type": "object",
    "required": ["id", "at", "action", "object_type"],
    "properties": {
        "id": ID,
        "at": {"type": "string", "format": "date-time"},
        "actor": {"type": "string", "nullable": True},
        "action": {"type": "string"},
        "object_type": {"type": "string"},
        "object_id": {"type": "integer", "nullable": True},
        "summary": {"type": "string"},
    },
}


def unit_json(unit: Unit) -> dict[str, Any]:
    return {
        "id": unit.id,
        "name": unit.name,
        "short_name": unit.short_name,
        "kind": unit.kind.value,
        "email": unit.email,
        "active": unit.active,
        "merged_into_id": unit.merged_into_id,
    }


def group_json(group: Group) -> dict[str, Any]:
    return {
        "id": group.id,
        "year": group.year.year,
        "kind": group.kind.value,
        "name": group.name,
        "leader_unit_id": group.leader.id if group.leader else None,
        "deputy_unit_id": group.deputy.id if group.deputy else None,
        "units": [u.id for u in group.units],
    }


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "unit_id": user.unit_id,
        "roles": sorted(r.value for r in user.roles),
        "active": user.active,
    }


@bp.route("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return jsonify(build_openapi(current_app))


@api_route(
    bp,
    "/me",
    methods=["GET"],
    scope=Scope.READ,
    summary="Người dùng hiện tại",
    tags=["users"],
    response=USER,
)
def me():  # type: ignore[no-untyped-def]
    return user_json(current_api_user())


@api_route(
    bp,
    "/units",
    methods=["GET"],
    scope=Scope.READ,
    summary="Danh sách đơn vị",
    tags=["units"],
    response=list_of(UNIT),
)
def list_units():  # type: ignore[no-untyped-def]
    rows = db.session.scalars(select(Unit).order_by(Unit.name)).all()
    return {"items": [unit_json(u) for u in rows]}


@api_route(
    bp,
    "/units",
    methods=["POST"],
    scope=Scope.ADMIN,
    summary="Thêm đơn vị",
    tags=["units"],
    body=UNIT_IN,
    response=UNIT,
    status=201,
)
def create_unit(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    unit = operations.create_unit(
        name=body["name"],
        short_name=body["short_name"],
        kind=UnitKind(body["kind"]),
        email=body.get("email"),
        actor=current_api_user(),
    )
    db.session.commit()
    return unit_json(unit), 201


@api_route(
    bp,
    "/units/<int:unit_id>",
    methods=["GET"],
    scope=Scope.READ,
    summary="Một đơn vị",
    tags=["units"],
    response=UNIT,
)
def get_unit(unit_id: int):  # type: ignore[no-untyped-def]
    return unit_json(operations.get_or_404(Unit, unit_id))


@api_put_patch(
    bp,
    "/units/<int:unit_id>",
    endpoints=("update_unit", "patch_unit"),
    scope=Scope.ADMIN,
    put="Sửa (đổi tên) đơn vị: gửi cả đối tượng (email rỗng: bỏ e-mail)",
    patch="Sửa một phần đơn vị: chỉ các trường được gửi",
    tags=["units"],
    body=UNIT_PUT,
    response=UNIT,
)
def save_unit(unit_id: int, body: dict[str, Any], partial: bool):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    unit = operations.get_or_404(Unit, unit_id)
    fields = {**unit_json(unit), **body}
    operations.update_unit(
        unit,
        name=fields["name"],
        short_name=fields["short_name"],
        kind=UnitKind(fields["kind"]),
        email=fields["email"] or None,
        actor=current_api_user(),
    )
    db.session.commit()
    return unit_json(unit)


@api_route(
    bp,
    "/units/<int:unit_id>/retire",
    methods=["POST"],
    scope=Scope.ADMIN,
    summary="Cho đơn vị ngừng hoạt động",
    tags=["units"],
    response=UNIT,
)
def retire_unit(unit_id: int):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    unit = operations.get_or_404(Unit, unit_id)
    operations.retire_unit(unit, actor=current_api_user())
    db.session.commit()
    return unit_json(unit)


@api_route(
    bp,
    "/groups",
    methods=["GET"],
    scope=Scope.READ,
    summary="Cụm, Khối thi đua",
    tags=["groups"],
    response=list_of(GROUP),
    query={"year": {"type": "integer", "minimum": 2000}},
)
def list_groups(query: dict[str, Any]):  # type: ignore[no-untyped-def]
    stmt = select(Group).join(EmulationYear).order_by(EmulationYear.year.desc(), Group.name)
    if "year" in query:
        stmt = stmt.where(EmulationYear.year == query["year"])
    return {"items": [group_json(g) for g in db.session.scalars(stmt)]}


def _units_by_id(ids: list[int]) -> list[Unit]:
    units = db.session.scalars(select(Unit).where(Unit.id.in_(ids))).all()
    missing = set(ids) - {u.id for u in units}
    if missing:
        raise Invalid(
            _("Không có đơn vị mã %(names)s.", names=", ".join(map(str, sorted(missing))))
        )
    return list(units)


def _apply_group(group: Group, body: dict[str, Any]) -> None:
    units = _units_by_id(body.get("units", []))
    operations.set_group_members(group, units, actor=current_api_user())
    db.session.flush()
    by_id = {u.id: u for u in units}
    leader_id, deputy_id = body.get("leader_unit_id"), body.get("deputy_unit_id")
    for ident in (leader_id, deputy_id):
        if ident and ident not in by_id:  # 0: none
            raise Invalid(_("Cụm/Khối trưởng và phó phải là đơn vị thành viên."))
    operations.set_group_leadership(
        group,
        leader=by_id.get(leader_id) if leader_id else None,
        deputy=by_id.get(deputy_id) if deputy_id else None,
        actor=current_api_user(),
    )


@api_route(
    bp,
    "/groups",
    methods=["POST"],
    scope=Scope.ADMIN,
    summary="Tạo Cụm/Khối cho một năm",
    tags=["groups"],
    body=GROUP_IN,
    response=GROUP,
    status=201,
)
def create_group(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    year = operations.ensure_year(body["year"], actor=current_api_user())
    group = operations.create_group(
        year=year, kind=GroupKind(body["kind"]), name=body["name"], actor=current_api_user()
    )
    db.session.flush()
    _apply_group(group, body)
    db.session.commit()
    return group_json(group), 201


@api_put_patch(
    bp,
    "/groups/<int:group_id>",
    endpoints=("update_group", "patch_group"),
    scope=Scope.ADMIN,
    put="Thành viên, Cụm/Khối trưởng và phó: gửi cả đối tượng (0: không có)",
    patch="Sửa một phần Cụm/Khối: chỉ các trường được gửi",
    tags=["groups"],
    body=GROUP_PUT,
    response=GROUP,
)
def save_group(group_id: int, body: dict[str, Any], partial: bool):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    group = operations.get_or_404(Group, group_id)
    current = group_json(group)
    _apply_group(
        group,
        {
            "units": current["units"],
            "leader_unit_id": current["leader_unit_id"] or 0,
            "deputy_unit_id": current["deputy_unit_id"] or 0,
            **body,
        },
    )
    db.session.commit()
    return group_json(group)


@api_route(
    bp,
    "/users",
    methods=["GET"],
    scope=Scope.READ,
    summary="Người dùng",
    tags=["users"],
    response=list_of(USER),
)
def list_users():  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    return {
        "items": [user_json(u) for u in db.session.scalars(select(User).order_by(User.username))]
    }


@api_route(
    bp,
    "/users",
    methods=["POST"],
    scope=Scope.ADMIN,
    summary="Tạo người dùng",
    tags=["users"],
    body=USER_IN,
    response=USER,
    status=201,
)
def create_user(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    user = operations.create_user(
        username=body["username"],
        full_name=body["full_name"],
        email=body["email"],
        unit=operations.get_or_404(Unit, body["unit_id"], _("Không có đơn vị này.")),
        roles=[Role(r) for r in body["roles"]],
        password=body["password"],
        actor=current_api_user(),
    )
    db.session.commit()
    return user_json(user), 201


INVITE_IN = {
    "type": "object",
    "required": ["username", "full_name", "email", "unit_id", "roles"],
    "additionalProperties": False,
    "properties": {key: value for key, value in USER_IN["properties"].items() if key != "password"},
}
FORGOT_IN = {
    "type": "object",
    "required": ["login"],
    "additionalProperties": False,
    "properties": {"login": {"type": "string", "minLength": 1, "maxLength": 200}},
}
SET_PASSWORD_IN = {
    "type": "object",
    "required": ["token", "password"],
    "additionalProperties": False,
    "properties": {
        "token": {"type": "string", "minLength": 1, "maxLength": 500},
        "password": {"type": "string", "minLength": 8, "maxLength": 200},
    },
}
MESSAGE = {
    "type": "object",
    "required": ["message"],
    "properties": {"message": {"type": "string"}},
}


@api_route(
    bp,
    "/users/invitations",
    methods=["POST"],
    scope=Scope.ADMIN,
    summary="Mời người dùng của một đơn vị: tạo tài khoản chưa có mật khẩu và gửi thư có "
    "đường dẫn đặt mật khẩu",
    tags=["users"],
    body=INVITE_IN,
    response=USER,
    status=201,
)
def invite_user(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    user = operations.invite_user(
        username=body["username"],
        full_name=body["full_name"],
        email=body["email"],
        unit=operations.get_or_404(Unit, body["unit_id"], _("Không có đơn vị này.")),
        roles=[Role(r) for r in body["roles"]],
        actor=current_api_user(),
    )
    db.session.commit()
    return user_json(user), 201


@api_route(
    bp,
    "/users/<int:user_id>/invitation",
    methods=["POST"],
    scope=Scope.ADMIN,
    summary="Gửi lại lời mời đặt mật khẩu",
    tags=["users"],
    response=USER,
    status=202,
)
def resend_invitation(user_id: int):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    user = operations.get_or_404(User, user_id)
    operations.resend_invitation(user, actor=current_api_user())
    db.session.commit()
    return user_json(user), 202


@api_route(
    bp,
    "/password/forgot",
    methods=["POST"],
    auth=False,
    summary="Quên mật khẩu: gửi đường dẫn đặt lại tới e-mail của tài khoản (câu trả lời như "
    "nhau dù tài khoản có tồn tại hay không)",
    tags=["password"],
    body=FORGOT_IN,
    response=MESSAGE,
    status=202,
)
@limiter.limit(invites.reset_rate)
def forgot_password(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    operations.request_password_reset(body["login"])
    db.session.commit()
    return {"message": invites.forgot_answer()}, 202


@api_route(
    bp,
    "/password/reset",
    methods=["POST"],
    auth=False,
    summary="Đặt mật khẩu mới bằng mã trong thư đặt lại mật khẩu",
    tags=["password"],
    body=SET_PASSWORD_IN,
    response=MESSAGE,
)
@limiter.limit(invites.reset_rate)
def reset_password(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return _set_password(body, invites.RESET)


@api_route(
    bp,
    "/invitations/accept",
    methods=["POST"],
    auth=False,
    summary="Nhận lời mời: đặt mật khẩu bằng mã trong thư mời",
    tags=["password"],
    body=SET_PASSWORD_IN,
    response=MESSAGE,
)
@limiter.limit(invites.reset_rate)
def accept_invitation(body: dict[str, Any]):  # type: ignore[no-untyped-def]
    return _set_password(body, invites.INVITE)


def _set_password(body: dict[str, Any], purpose: invites.Purpose):  # type: ignore[no-untyped-def]
    operations.set_password_by_link(body["token"], purpose, body["password"])
    db.session.commit()
    return {"message": _("Đã đặt mật khẩu. Hãy đăng nhập bằng mật khẩu mới.")}


@api_route(
    bp,
    "/users/<int:user_id>/sessions/end",
    methods=["POST"],
    scope=Scope.ADMIN,
    summary="Đăng xuất người dùng khỏi mọi thiết bị",
    tags=["users"],
    response=USER,
)
def end_user_sessions(user_id: int):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    user = operations.get_or_404(User, user_id)
    operations.end_sessions(user, actor=current_api_user())
    db.session.commit()
    return user_json(user)


@api_route(
    bp,
    "/audit",
    methods=["GET"],
    scope=Scope.READ,
    summary="Nhật ký thao tác",
    tags=["audit"],
    response=list_of(AUDIT),
    query={
        "action": {"type": "string"},
        "object_type": {"type": "string"},
        "limit": {"type": "integer", "minimum": 1},
        "before": {"type": "integer", "minimum": 1},
    },
)
def audit(query: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Newest first; `before` (the last id of a page) asks for the next page."""
    ensure(current_api_user().can_view_audit())
    from sqlalchemy.orm import joinedload

    from accounts.audit import readable_by

    stmt = (
        select(AuditEntry)
        .options(joinedload(AuditEntry.actor))
        .where(readable_by(current_api_user()))
        .order_by(AuditEntry.id.desc())
    )
    if query.get("before"):
        stmt = stmt.where(AuditEntry.id < query["before"])
    if query.get("action"):
        stmt = stmt.where(AuditEntry.action.contains(query["action"]))
    if query.get("object_type"):
        stmt = stmt.where(AuditEntry.object_type == query["object_type"])
    rows = db.session.scalars(stmt.limit(min(query.get("limit", 100), 500))).all()
    return {
        "items": [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "actor": e.actor.username if e.actor else None,
                "action": e.action,
                "object_type": e.object_type,
                "object_id": e.object_id,
                "summary": e.summary,
            }
            for e in rows
        ]
    }


# --- who signs the agency's documents ----------------------------------------------------
SIGNER = {
    "type": "object",
    "required": ["authority", "title", "name", "lock_version", "source"],
    "properties": {
        "authority": {"type": "string"},
        "title": {"type": "string"},
        "name": {"type": "string"},
        "lock_version": {"type": "integer", "nullable": True},
        "source": {"type": "string", "enum": ["app", "config", "unit_head"]},
    },
}
SIGNER_IN = whole(
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "authority": {"type": "string", "maxLength": 80},
            "title": {"type": "string", "maxLength": 120},
            "name": {"type": "string", "maxLength": 120},
            # 0 while no signer has been set in the app
            "lock_version": {"type": "integer", "minimum": 0},
        },
    }
)


def signer_json() -> dict[str, Any]:
    """The signer in force: the one set in the app, else the configured one."""
    row = operations.document_signer()
    if row is not None and row.name:
        values, source = (row.authority, row.title, row.name), "app"
    else:
        config = current_app.config
        values = (config["SIGNER_AUTHORITY"], config["SIGNER_TITLE"], config["SIGNER_NAME"])
        source = "config" if config["SIGNER_NAME"].strip() else "unit_head"
    authority, title, name = values
    return {
        "authority": authority,
        "title": title,
        "name": name,
        "lock_version": row.lock_version if row is not None else None,
        "source": source,
    }


@api_route(
    bp,
    "/admin/signer",
    methods=["GET"],
    scope=Scope.READ,
    summary="Người ký văn bản của cơ quan",
    tags=["admin"],
    response=SIGNER,
)
def get_document_signer():  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    return signer_json()


@api_put_patch(
    bp,
    "/admin/signer",
    endpoints=("set_document_signer", "patch_document_signer"),
    scope=Scope.ADMIN,
    put="Đặt người ký văn bản của cơ quan: gửi cả đối tượng (để trống họ tên: dùng cấu hình)",
    patch="Sửa một phần người ký văn bản: chỉ các trường được gửi",
    tags=["admin"],
    body=SIGNER_IN,
    response=SIGNER,
)
def save_signer(body: dict[str, Any], partial: bool):  # type: ignore[no-untyped-def]
    ensure(current_api_user().can_administer())
    fields = {**signer_json(), **body}
    operations.set_document_signer(
        authority=fields["authority"],
        title=fields["title"],
        name=fields["name"],
        expected_version=fields["lock_version"] or None,
        actor=current_api_user(),
    )
    db.session.commit()
    return signer_json()
