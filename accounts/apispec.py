"""The JSON API's plumbing: token authentication, request validation, and the
OpenAPI document, all declared in one decorator next to each route.

    @api_route(bp, "/units", methods=["POST"], summary="Tạo đơn vị", tags=["units"],
               body=UNIT_IN, response=UNIT_OUT, status=201)
    def create_unit(body): ...

The OpenAPI document is generated from these declarations, so it cannot drift from
the routes; a test checks that every /api/v1 route is declared.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, g, request
from flask_babel import gettext as _
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from sqlalchemy import ColumnElement, Table, bindparam, select
from sqlalchemy.orm import joinedload

from accounts import idempotency
from accounts.clock import format_datetime, now
from accounts.errors import Forbidden, UserError
from accounts.models import ApiToken, Role, Scope, User, UserRole, granted_scopes
from accounts.params import MAX_ID, parse_int
from extensions import db

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {},
            },
        }
    },
}


class Unauthorized(UserError):
    status = 401
    code = "unauthorized"


class TokenExpired(Unauthorized):
    code = "token_expired"


class ScopeMissing(Forbidden):
    code = "insufficient_scope"


class UnsupportedMediaType(UserError):
    status = 415
    code = "unsupported_media_type"


@dataclass
class ApiDoc:
    summary: str
    tags: list[str]
    body: dict[str, Any] | None
    response: dict[str, Any] | None
    status: int
    auth: bool
    query: dict[str, dict[str, Any]] = field(default_factory=dict)
    scope: Scope | None = None  # what the caller's token must allow
    content_type: str = "application/json"  # of a successful response
    upload: bool = False  # multipart/form-data with a `file` part
    idempotent: bool = False  # takes an Idempotency-Key header


@dataclass(frozen=True, slots=True)
class ApiCaller:
    """Who calls a route, as the columns `User`'s permission predicates read.

    Routes declared `caller_only` get it instead of a loaded `User` (an ORM object with
    its unit and roles): the token is checked and the caller read in one plain
    statement. For the busiest write, that was most of the cost of authenticating.
    """

    id: int
    unit_id: int
    full_name: str
    roles: frozenset[Role]

    # `User`'s own predicates (they read only `roles` and `unit_id`): one rule, not two.
    has_role = User.has_role
    can_work_for_unit = User.can_work_for_unit
    can_sign_for_unit = User.can_sign_for_unit


def current_api_user() -> User:
    if "api_user" not in g:
        # A `caller_only` route that needs the whole user after all.
        g.api_user = db.session.get(User, g.api_caller.id)
    return g.api_user


def current_api_caller() -> ApiCaller:
    if "api_caller" not in g:
        user = g.api_user
        g.api_caller = ApiCaller(user.id, user.unit_id, user.full_name, frozenset(user.roles))
    return g.api_caller


def _authenticate(scope: Scope, *, caller_only: bool = False) -> None:
    header = request.headers.get("Authorization", "")
    kind, _, secret = header.partition(" ")
    if kind.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Thiếu mã truy cập (Authorization: Bearer <token>).")
    params = {"token_hash": ApiToken.hash(secret.strip())}
    if caller_only:
        rows = db.session.execute(_caller_query(), params).all()
        if rows:
            _check_token(rows[0].scopes, rows[0].expires_at, scope)
            roles = frozenset(row.role for row in rows if row.role is not None)
            g.api_caller = ApiCaller(rows[0].id, rows[0].unit_id, rows[0].full_name, roles)
            return
    else:
        row = db.session.execute(_user_query(), params).unique().first()
        if row is not None:
            _check_token(row.scopes, row.expires_at, scope)
            g.api_user = row.User
            return
    raise Unauthorized("Mã truy cập không hợp lệ hoặc đã bị thu hồi.")


def _check_token(scopes: str, expires_at: datetime | None, needed: Scope) -> None:
    if expires_at is not None and expires_at <= now():
        raise TokenExpired(
            f"Mã truy cập đã hết hạn từ {format_datetime(expires_at)}; hãy tạo mã mới."
        )
    if needed not in granted_scopes(scopes):
        raise ScopeMissing(
            f"Mã truy cập này không có phạm vi “{needed.value}” mà thao tác cần; "
            f"hãy dùng mã có phạm vi “{needed.value}”."
        )


# Both statements are built once and run with the token's hash: building a statement
# and its cache key cost more than running it. Each is one statement per request.
def _valid_token(tokens: Table, users: Table) -> tuple[ColumnElement[bool], ...]:
    """A usable token: its hash matches, it is not revoked, and its user is active. Its
    expiry and scopes are read with it and checked apart, to answer each with its own
    message."""
    return (
        tokens.c.token_hash == bindparam("token_hash"),
        tokens.c.revoked_at.is_(None),
        users.c.active.is_(True),
    )


@functools.cache
def _user_query():  # type: ignore[no-untyped-def]
    """The token's user with the unit and roles every permission check reads."""
    tokens, users = ApiToken.__table__, User.__table__
    return (
        select(User, tokens.c.scopes, tokens.c.expires_at)
        .join(tokens, tokens.c.user_id == User.id)
        .where(*_valid_token(tokens, users))
        .options(joinedload(User.role_rows))
    )


@functools.cache
def _caller_query():  # type: ignore[no-untyped-def]
    """The token's caller as plain columns, one row per role."""
    tokens, users, roles = ApiToken.__table__, User.__table__, UserRole.__table__
    return (
        select(
            users.c.id,
            users.c.unit_id,
            users.c.full_name,
            roles.c.role,
            tokens.c.scopes,
            tokens.c.expires_at,
        )
        .select_from(
            tokens.join(users, users.c.id == tokens.c.user_id).outerjoin(
                roles, roles.c.user_id == users.c.id
            )
        )
        .where(*_valid_token(tokens, users))
    )


def _json_body(schema: dict[str, Any]) -> Any:
    if not request.is_json:
        raise UnsupportedMediaType(
            _("Nội dung yêu cầu phải là JSON (Content-Type: application/json).")
        )
    body = request.get_json(silent=True)
    if body is None:
        raise UserError(_("Nội dung JSON không đọc được."))
    if isinstance(body, dict):
        # Every missing field at once, by name: a PUT without one would have cleared it.
        missing = [name for name in schema.get("required", []) if name not in body]
        if missing:
            raise_missing(missing)
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=lambda e: list(e.path))
    if errors:
        raise_validation(errors[0])
    return body


def raise_missing(fields: list[str]) -> None:
    from accounts.errors import Invalid

    message = _("Thiếu trường: %(fields)s.", fields=", ".join(fields))
    if request.method == "PUT":
        message += " " + _("PUT thay cả đối tượng nên cần mọi trường; để sửa một phần, dùng PATCH.")
    raise Invalid(message, details={"missing": fields})


class RequestBody(Mapping[str, Any]):
    """The JSON body, checked against the route's schema when the view first reads it.

    Views read the body after their permission check, so a caller who may not act gets
    403 whatever they send, never a 422 describing what the route expects.
    """

    def __init__(self, schema: dict[str, Any]) -> None:
        self._schema = schema
        self._data: dict[str, Any] | None = None

    def _checked(self) -> dict[str, Any]:
        if self._data is None:
            self._data = _json_body(self._schema)
        return self._data

    def unchecked_id(self, key: str) -> int | None:
        """An id field as sent, before the body is checked (None unless it is one): for
        a view that needs it to decide permission, in the same statement as the rest."""
        raw = request.get_json(silent=True)
        value = raw.get(key) if isinstance(raw, dict) else None
        valid = isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID
        return value if valid else None

    def __getitem__(self, key: str) -> Any:
        return self._checked()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._checked())

    def __len__(self) -> int:
        return len(self._checked())


def patch_of(schema: dict[str, Any]) -> dict[str, Any]:
    """The PATCH twin of a PUT body: the same fields, each optional, at least one sent."""
    patch = {key: value for key, value in schema.items() if key != "required"}
    return {**patch, "minProperties": 1}


def whole(schema: dict[str, Any]) -> dict[str, Any]:
    """A PUT body: every field required, so a missing one is refused, not cleared."""
    return {**schema, "required": sorted(schema["properties"])}


def raise_validation(error: ValidationError) -> None:
    from accounts.errors import Invalid

    where = ".".join(str(p) for p in error.absolute_path) or _("(gốc)")
    raise Invalid(
        _("Trường %(field)s không hợp lệ: %(problem)s", field=where, problem=error.message)
    )


def _query_args(spec: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from accounts.errors import Invalid

    values: dict[str, Any] = {}
    for name, schema in spec.items():
        raw = request.args.get(name)
        if raw is None:
            continue
        if schema.get("type") == "integer":
            values[name] = parse_int(
                name, raw, minimum=schema.get("minimum"), maximum=schema.get("maximum")
            )
        else:
            if "enum" in schema and raw not in schema["enum"]:
                raise Invalid(_("Tham số %(name)s không hợp lệ.", name=name))
            values[name] = raw
    return values


def _bounded(query: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Integer query parameters hold database-sized numbers at most, as documented."""
    return {
        name: {"maximum": MAX_ID, **schema} if schema.get("type") == "integer" else schema
        for name, schema in query.items()
    }


def api_route(
    bp: Blueprint,
    rule: str,
    *,
    methods: list[str],
    scope: Scope | None = None,
    summary: str,
    tags: list[str],
    body: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    status: int = 200,
    auth: bool = True,
    query: dict[str, dict[str, Any]] | None = None,
    content_type: str = "application/json",
    upload: bool = False,
    caller_only: bool = False,
    idempotent: bool = False,
    endpoint: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`scope`: what the caller's token must allow; every authenticated route names one.
    `caller_only`: the view reads `current_api_caller()`, not `current_api_user()`, so
    authenticating it loads no `User` (see `ApiCaller`). `idempotent`: a write a retry
    would duplicate; it takes an Idempotency-Key header (see accounts/idempotency.py)."""
    if auth and scope is None:
        raise TypeError(f"{rule}: an authenticated API route declares the scope it needs")
    if "PUT" in methods and body is not None and set(body["required"]) != set(body["properties"]):
        # A field left out of a PUT must be refused, not silently cleared: see `whole`.
        raise TypeError(f"{rule}: a PUT body requires every field")
    doc = ApiDoc(
        summary=summary,
        tags=tags,
        body=body,
        response=response,
        status=status,
        auth=auth,
        query=_bounded(query or {}),
        content_type=content_type,
        upload=upload,
        scope=scope,
        idempotent=idempotent,
    )

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(**kwargs: Any) -> Any:
            if scope is not None:
                _authenticate(scope, caller_only=caller_only)
            if body is not None:
                kwargs["body"] = RequestBody(body)
            if doc.query:
                kwargs["query"] = _query_args(doc.query)
            if idempotent:
                caller = g.api_caller if "api_caller" in g else g.api_user
                key = request.headers.get(idempotency.HEADER)
                return idempotency.run(caller.id, key, lambda: view(**kwargs))
            return view(**kwargs)

        wrapper._api_doc = doc  # type: ignore[attr-defined]
        bp.add_url_rule(rule, endpoint, view_func=wrapper, methods=methods)
        return wrapper

    return decorator


def api_put_patch(
    bp: Blueprint,
    rule: str,
    *,
    endpoints: tuple[str, str],
    put: str,
    patch: str,
    body: dict[str, Any],
    patch_body: dict[str, Any] | None = None,
    **options: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A PUT and its PATCH twin served by one view: two operations in the document.

    `endpoints` names the PUT's and the PATCH's endpoints (their operationIds), `put`
    and `patch` their summaries. The PUT takes `body` (every field required, as
    `api_route` checks), the PATCH `patch_body`, by default `patch_of(body)`. The view
    is called with `partial=False` for the PUT and `partial=True` for the PATCH; the
    other options (`scope`, `tags`, `response`...) are `api_route`'s, shared by both.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        twins = [
            ("PUT", endpoints[0], put, body, False),
            ("PATCH", endpoints[1], patch, patch_body or patch_of(body), True),
        ]
        for method, endpoint, summary, schema, partial in twins:
            api_route(
                bp,
                rule,
                methods=[method],
                endpoint=endpoint,
                summary=summary,
                body=schema,
                **options,
            )(_bound(view, partial=partial))
        return view

    return decorator


def _bound(view: Callable[..., Any], *, partial: bool) -> Callable[..., Any]:
    @functools.wraps(view)
    def call(**kwargs: Any) -> Any:
        return view(**kwargs, partial=partial)

    return call


_CONVERTER = re.compile(r"<(?:(?P<conv>[a-z]+):)?(?P<name>\w+)>")


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for match in _CONVERTER.finditer(rule):
        schema = ID if match.group("conv") == "int" else {"type": "string"}
        params.append(
            {"name": match.group("name"), "in": "path", "required": True, "schema": schema}
        )
    return _CONVERTER.sub(lambda m: "{" + m.group("name") + "}", rule), params


def build_openapi(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        doc: ApiDoc | None = getattr(view, "_api_doc", None)
        if doc is None:
            continue
        path, params = _openapi_path(rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_") + "_" + method.lower(),
                "summary": doc.summary,
                "tags": doc.tags,
                "parameters": params
                + [
                    {"name": n, "in": "query", "required": False, "schema": s}
                    for n, s in doc.query.items()
                ]
                + ([idempotency.HEADER_PARAMETER] if doc.idempotent else []),
                "responses": _responses(doc),
            }
            if doc.body is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": doc.body}},
                }
            elif doc.upload:
                op["requestBody"] = {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                }
            if doc.scope is not None:
                op["security"] = [{"bearerAuth": [doc.scope.value]}]
            elif not doc.auth:
                op["security"] = []  # public: no token
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Draftflow API",
            "version": "1",
            "description": "API JSON của Draftflow. Xác thực bằng mã truy cập: "
            "`Authorization: Bearer <token>` (tạo ở trang Mã truy cập API hoặc bằng "
            "`flask --app app users token USERNAME --scope read --expires YYYY-MM-DD`).",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": SCOPES_DESCRIPTION,
                }
            },
            "schemas": {"Error": ERROR_SCHEMA},
        },
    }


SCOPES_DESCRIPTION = (
    "Mã truy cập có phạm vi (scope) và ngày hết hạn. Mỗi thao tác ghi trong `security` "
    "phạm vi nó cần: `read` (mọi thao tác GET, đánh dấu thông báo đã đọc), `comment` "
    "(dự thảo, đợt lấy ý kiến, góp ý, ý kiến đơn vị, tổng hợp), `score` (kỳ chấm điểm, "
    "phiếu điểm, điểm, điểm cộng/trừ, minh chứng), `admin` (đơn vị, Cụm/Khối, người dùng, "
    "nhắc việc, thư). Thiếu phạm vi: 403 `insufficient_scope`; mã hết hạn: 401 "
    "`token_expired`. Phạm vi chỉ thu hẹp mã: vai trò của người dùng vẫn quyết định "
    "họ được làm gì."
)


def _responses(doc: ApiDoc) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    ok: dict[str, Any] = {"description": "OK"}
    if doc.content_type == "application/json":
        if doc.response is not None:
            ok["content"] = {"application/json": {"schema": doc.response}}
    else:
        ok["content"] = {doc.content_type: {"schema": {"type": "string", "format": "binary"}}}
    responses: dict[str, Any] = {str(doc.status): ok}
    codes = ["400", "404", "409", "422", "503"]
    if doc.auth:
        codes += ["401", "403"]
    else:
        codes += ["429"]  # the public routes (sign-in, password links) are rate-limited
    if doc.body is not None or doc.upload:
        codes += ["413", "415"]
    for code in codes:
        responses[code] = {"description": code, **error}
    return responses


# Reusable schema fragments.
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
DATETIME = {"type": "string", "format": "date-time"}
NULLABLE_STRING = {"type": "string", "nullable": True}


def list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": item}},
    }
