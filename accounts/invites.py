"""Links that let a person set a password by e-mail: a password reset and an invitation.

A link carries a token signed with the app's SECRET_KEY (itsdangerous): the user's id, a
stamp of their current password hash, and the time it was made. It stops working after
PASSWORD_RESET_HOURS (a reset) or INVITATION_DAYS (an invitation), and as soon as the
password changes, so it works once: setting the password through it changes the hash.
Nothing about the token is stored; it is made when the mail is sent (tasks.jobs), so a
mail that waits in the queue still carries a full lifetime.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from accounts.errors import Invalid
from accounts.models import User
from app import db

Purpose = Literal["password_reset", "invitation"]
RESET: Purpose = "password_reset"
INVITE: Purpose = "invitation"
# Also the OutgoingMail kinds (and the emails/<kind>.txt templates) of these mails.
MAIL_KINDS: frozenset[str] = frozenset({RESET, INVITE})
ENDPOINTS = {RESET: "accounts.reset_password", INVITE: "accounts.accept_invitation"}


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    # A salt per purpose: a reset link cannot be used as an invitation, nor the reverse.
    return URLSafeTimedSerializer(current_app.secret_key or "", salt=f"draftflow.{purpose}")


def _stamp(user: User) -> str:
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:24]


def lifetime_seconds(purpose: Purpose) -> int:
    config = current_app.config
    if purpose == RESET:
        return int(config["PASSWORD_RESET_HOURS"]) * 3600
    return int(config["INVITATION_DAYS"]) * 86400


def make_token(user: User, purpose: Purpose) -> str:
    return _serializer(purpose).dumps({"u": user.id, "s": _stamp(user)})


def user_for_token(token: str, purpose: Purpose) -> User:
    """The user a valid token names; Invalid when it is forged, expired or already used."""
    try:
        data: Any = _serializer(purpose).loads(token, max_age=lifetime_seconds(purpose))
    except SignatureExpired:
        raise Invalid(_expired_message(purpose)) from None
    except BadSignature:
        raise Invalid(_("Đường dẫn không hợp lệ. Hãy mở đúng đường dẫn trong thư.")) from None
    user = db.session.get(User, data.get("u")) if isinstance(data, dict) else None
    if user is None or not user.active or data.get("s") != _stamp(user):
        raise Invalid(
            _(
                "Đường dẫn này đã được dùng hoặc không còn hiệu lực (mật khẩu đã được đặt lại "
                "sau khi thư được gửi)."
            )
        )
    return user


def _expired_message(purpose: Purpose) -> str:
    if purpose == RESET:
        return _("Đường dẫn đặt lại mật khẩu đã hết hạn. Hãy yêu cầu đường dẫn mới.")
    return _("Lời mời đã hết hạn. Hãy đề nghị quản trị viên gửi lại lời mời.")


def reset_rate() -> str:
    """Reset requests and link uses one address may make (Flask-Limiter syntax)."""
    return str(current_app.config["PASSWORD_RESET_RATE_PER_ADDRESS"])


def forgot_answer() -> str:
    """One wording for the page and the API: it never tells whether the account exists."""
    return _(
        "Nếu tên đăng nhập hoặc e-mail này thuộc một tài khoản có e-mail, một đường dẫn đặt "
        "lại mật khẩu vừa được gửi tới hộp thư của tài khoản đó. Hãy kiểm tra thư (cả mục thư "
        "rác)."
    )


def mail_context(user: User, purpose: Purpose) -> tuple[str, dict[str, Any]]:
    """The subject and the template context of the mail, with a link made now."""
    from tasks.mail import endpoint_url

    link = endpoint_url(ENDPOINTS[purpose], token=make_token(user, purpose))
    hours = lifetime_seconds(purpose) // 3600
    if purpose == RESET:
        subject = _("[Draftflow] Đặt lại mật khẩu")
    else:
        subject = _("[Draftflow] Lời mời sử dụng hệ thống")
    return subject, {"user": user, "link": link, "hours": hours, "days": hours // 24}
