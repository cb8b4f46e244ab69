"""User-facing errors and how the web layer shows them.

Operations raise `UserError` subclasses with a plain Vietnamese message. HTML
requests get a page (or a flash and a redirect back); /api/ requests get
`{"error": {"code", "message"}}` with the same status. Nothing reaches a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import (
    Flask,
    Response,
    flash,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from accounts.i18n import N_

log = logging.getLogger(__name__)


class UserError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(UserError):
    status = 404
    code = "not_found"


class Forbidden(UserError):
    status = 403
    code = "forbidden"


class Conflict(UserError):
    """A stale edit, or an action that the object's current state no longer allows."""

    status = 409
    code = "conflict"


class Invalid(UserError):
    status = 422
    code = "invalid"


class TooLarge(UserError):
    """An upload beyond a configured limit (size, memory or rows needed to read it)."""

    status = 413
    code = "too_large"


# URL arguments that name an object, and the page that shows it: a route with
# `consultation_id` is about that round. Packages register theirs (`link_back_by`).
_BACK_BY_VIEW_ARG: dict[str, tuple[str, str]] = {}


def link_back_by(view_arg: str, endpoint: str, label: str) -> None:
    """Error pages of routes taking `view_arg` link back to `endpoint` (label marked N_)."""
    _BACK_BY_VIEW_ARG[view_arg] = (endpoint, label)


def about(url: str, label: str) -> None:
    """Name the object this request is about, once the user may see it: an error page
    then offers the way back to it rather than only to the home page."""
    g.error_back = (url, label)


def back_link(status: int) -> tuple[str, str] | None:
    """(url, label) of the object the failed request was about, if it is known and
    worth going back to (not after a 403 or 404 about the object itself)."""
    if status in (403, 404):
        return None
    named = g.get("error_back")
    if named is not None:
        url, what = named
        return url, _("Quay lại “%(what)s”", what=what)
    for arg, value in (request.view_args or {}).items():
        if arg in _BACK_BY_VIEW_ARG:
            endpoint, label = _BACK_BY_VIEW_ARG[arg]
            return url_for(endpoint, **{arg: value}), _(label)
    return None


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, details: Any = None) -> Response:
    if wants_json():
        body: dict[str, Any] = {"error": {"code": code, "message": message}}
        if details is not None:
            body["error"]["details"] = details
        response = jsonify(body)
    else:
        response = make_response(
            render_template("error.html", status=status, message=message, back=back_link(status))
        )
    response.status_code = status
    return response


_HTTP_MESSAGES = {
    400: ("bad_request", N_("Yêu cầu không hợp lệ.")),
    401: ("unauthorized", N_("Bạn cần đăng nhập.")),
    403: ("forbidden", N_("Bạn không có quyền thực hiện thao tác này.")),
    404: ("not_found", N_("Không tìm thấy trang hoặc đối tượng yêu cầu.")),
    405: ("method_not_allowed", N_("Phương thức không được hỗ trợ.")),
    409: ("conflict", N_("Dữ liệu đã thay đổi, vui lòng tải lại.")),
    413: ("too_large", N_("Tệp tải lên quá lớn.")),
    415: ("unsupported_media_type", N_("Định dạng nội dung không được hỗ trợ.")),
    422: ("invalid", N_("Dữ liệu không hợp lệ.")),
    429: ("too_many_requests", N_("Quá nhiều yêu cầu, vui lòng thử lại sau.")),
    503: ("unavailable", N_("Hệ thống đang bận, vui lòng thử lại sau giây lát.")),
}


def http_message(status: int) -> tuple[str, str]:
    code, message = _HTTP_MESSAGES.get(status, ("error", N_("Đã xảy ra lỗi.")))
    return code, _(message)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(UserError)
    def _user_error(exc: UserError):  # type: ignore[no-untyped-def]
        from app import db

        db.session.rollback()
        if not wants_json() and request.method == "POST" and exc.status in (409, 422, 400):
            # Show the message on the page the user came from; forms keep their own
            # text by re-rendering, so this path is only for simple buttons.
            flash(exc.message, "danger")
            back = back_link(exc.status)
            return redirect(request.referrer or (back[0] if back else "/")), 303
        return error_response(exc.status, exc.code, exc.message, exc.details)

    from workflow.engine import (
        GuardFailed,
        IllegalTransition,
        NoteRequired,
        NotPermitted,
        TransitionError,
    )

    transition_status = {
        IllegalTransition: 409,
        NotPermitted: 403,
        NoteRequired: 422,
        GuardFailed: 422,
    }

    @app.errorhandler(TransitionError)
    def _transition_error(exc: TransitionError):  # type: ignore[no-untyped-def]
        from app import db

        db.session.rollback()
        status = transition_status.get(type(exc), 409)
        if not wants_json() and request.method == "POST":
            flash(exc.message, "danger")
            return redirect(request.referrer or "/"), 303
        return error_response(status, exc.code, exc.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):  # type: ignore[no-untyped-def]
        return error_response(
            400,
            "csrf",
            _("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Vui lòng tải lại trang."),
        )

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError):  # type: ignore[no-untyped-def]
        from app import db

        db.session.rollback()
        return error_response(
            409, "conflict", _("Dữ liệu đã được người khác cập nhật. Vui lòng tải lại trang.")
        )

    @app.errorhandler(DataError)
    def _bad_value(exc: DataError):  # type: ignore[no-untyped-def]
        # A value the database cannot hold (an out-of-range number); the input is wrong.
        from app import db

        db.session.rollback()
        return error_response(422, *http_message(422))

    @app.errorhandler(OperationalError)
    def _db_busy(exc: OperationalError):  # type: ignore[no-untyped-def]
        from app import db

        db.session.rollback()
        log.warning("database unavailable: %s", exc.__class__.__name__)
        response = error_response(503, *http_message(503))
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):  # type: ignore[no-untyped-def]
        status = exc.code or 500
        code, message = http_message(status)
        return error_response(status, code, message)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        from app import db

        db.session.rollback()
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "server_error", _("Đã xảy ra lỗi hệ thống. Vui lòng thử lại."))


def ensure(allowed: bool, message: str | None = None) -> None:
    """Turn a `can_*` predicate's answer into a 403 for views and API routes."""
    if not allowed:
        raise Forbidden(message or http_message(403)[1])
