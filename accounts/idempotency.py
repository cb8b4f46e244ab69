"""Retries that do not act twice: the API's Idempotency-Key header and the pages' form nonce.

A client that sends a request again (after a timeout, a dropped connection, a double
click) sends the same key with it. The first request claims (user, key) in the same
transaction as what it creates, then stores its answer (status, body, Location) there; the
same key with the same request gets that answer back without running the view again; the
same key with a different request is refused (422). A request still running when its twin arrives
answers 409. Only successful answers are kept: a refused request may simply be sent
again. Keys expire after IDEMPOTENCY_KEY_HOURS; expired ones are deleted when a new key is
stored.
"""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, current_app, make_response, request
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from accounts.clock import now
from accounts.errors import Conflict, Invalid
from accounts.models import IdempotencyKey
from app import db

HEADER = "Idempotency-Key"
FORM_FIELD = "idempotency_key"
MAX_KEY_LENGTH = 200
REPLAYED_HEADER = "Idempotent-Replayed"

HEADER_PARAMETER = {
    "name": HEADER,
    "in": "header",
    "required": False,
    "description": "Khóa do người gọi tạo (ví dụ một UUID) cho mỗi thao tác: gửi lại cùng khóa "
    "với cùng nội dung nhận lại câu trả lời lần đầu, không tạo bản sao; cùng khóa với nội "
    "dung khác: 422. Khóa hết hạn sau IDEMPOTENCY_KEY_HOURS giờ.",
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


def run(user_id: int, key: str | None, view: Callable[[], Any]) -> Response:
    """Answer the request through `view`, or with the answer stored under `key`."""
    if key is None:
        return make_response(view())
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise Invalid(_("Khóa chống gửi trùng không hợp lệ (tối đa 200 ký tự in được)."))
    digest = fingerprint()
    stored = _stored(user_id, key)
    if stored is not None:
        return _replay(stored, digest)
    moment = now()
    db.session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= moment))
    hours = current_app.config["IDEMPOTENCY_KEY_HOURS"]
    row = IdempotencyKey(
        user_id=user_id,
        key=key,
        request_hash=digest,
        expires_at=moment + timedelta(hours=hours),
    )
    db.session.add(row)
    try:
        # Claims the key now: a twin running at the same time waits here, then finds it.
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        stored = _stored(user_id, key)
        if stored is None:
            raise _in_progress() from None
        return _replay(stored, digest)
    try:
        response = make_response(view())
    except Exception:
        _forget(user_id, key)
        raise
    if response.status_code >= 400:
        _forget(user_id, key)
        return response
    _keep(row, response)
    return response


def fingerprint() -> str:
    """What makes two requests the same: method, path and content (form fields and files
    by value, JSON by meaning), never the form's CSRF token or the key itself."""
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name in sorted(request.form):
            if name in (FORM_FIELD, "csrf_token"):
                continue
            for value in request.form.getlist(name):
                digest.update(json.dumps([name, value]).encode())
        for name in sorted(request.files):
            for upload in request.files.getlist(name):
                digest.update(json.dumps([name, upload.filename]).encode())
                digest.update(hashlib.sha256(upload.stream.read()).digest())
                upload.stream.seek(0)
    else:
        data = request.get_json(silent=True) if request.is_json else None
        if data is not None:
            digest.update(json.dumps(data, sort_keys=True).encode())
        else:
            digest.update(request.get_data())
    return digest.hexdigest()


def _stored(user_id: int, key: str) -> IdempotencyKey | None:
    return db.session.scalars(
        select(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id,
            IdempotencyKey.key == key,
            IdempotencyKey.expires_at > now(),
        )
    ).first()


def _replay(stored: IdempotencyKey, digest: str) -> Response:
    if stored.request_hash != digest:
        raise Invalid(
            _(
                "Khóa chống gửi trùng này đã được dùng cho một yêu cầu khác. Hãy tải lại "
                "trang (hoặc dùng khóa mới) rồi gửi lại."
            )
        )
    if stored.status is None:
        raise _in_progress()
    response = Response(stored.body or b"", status=stored.status, content_type=stored.content_type)
    if stored.location:
        response.headers["Location"] = stored.location
    response.headers[REPLAYED_HEADER] = "true"
    return response


def _in_progress() -> Conflict:
    return Conflict(_("Yêu cầu này đang được xử lý; hãy thử lại sau giây lát."))


def _keep(row: IdempotencyKey, response: Response) -> None:
    # Added again: a view that rolled back its first attempt dropped the claimed row.
    db.session.add(row)
    row.status = response.status_code
    row.content_type = response.content_type or ""
    row.location = response.headers.get("Location")
    row.body = response.get_data()
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()


def _forget(user_id: int, key: str) -> None:
    """A refused request keeps no key, so that it can be sent again once put right."""
    db.session.rollback()
    try:
        db.session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.user_id == user_id,
                IdempotencyKey.key == key,
                IdempotencyKey.status.is_(None),
            )
        )
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()


# --- pages ----------------------------------------------------------------------------------
def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page's POST that a retry must not repeat: its form carries `form_field()`."""

    @functools.wraps(view)
    def wrapper(**kwargs: Any) -> Any:
        if request.method != "POST" or not current_user.is_authenticated:
            return view(**kwargs)
        return run(current_user.id, request.form.get(FORM_FIELD), lambda: view(**kwargs))

    return wrapper


def form_field() -> Markup:
    """The hidden nonce of a form, new at each render: a resent form sends it again."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        FORM_FIELD, secrets.token_urlsafe(24)
    )
