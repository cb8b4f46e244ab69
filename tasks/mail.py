"""E-mail: rendering from templates/emails, MIME building, and the two backends.

Every mail has a plain-text and an HTML part, rendered from
``templates/emails/<kind>.txt`` and ``.html`` in Vietnamese, with absolute links
built from PUBLIC_URL. The backend is SMTP when MAIL_SERVER is set, otherwise an
outbox directory of .eml files that administrators read in the app.

Nothing here logs a mail's body or the SMTP password.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formataddr, formatdate, parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from jinja2 import TemplateNotFound
from werkzeug.routing import BuildError

from accounts import invites
from accounts.models import User

log = logging.getLogger(__name__)

MAIL_LOCALE = "vi"


@dataclass(frozen=True)
class MailItem:
    """One line of a mail: a reminder or a notice, with its absolute link."""

    title: str
    lines: tuple[str, ...] = ()
    url: str = ""
    escalation: bool = False
    deadline: datetime | None = None


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


class MailError(Exception):
    """A send failed. `permanent` errors are not retried (the server refused for good)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class Backend(Protocol):
    def send(self, message: EmailMessage) -> None: ...


# --- links ------------------------------------------------------------------------
def absolute_url(path_or_url: str) -> str:
    """Make a link absolute with PUBLIC_URL: mails are read outside the app."""
    if not path_or_url:
        return ""
    if urlsplit(path_or_url).scheme:
        return path_or_url
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    return f"{base}/{path_or_url.lstrip('/')}"


def endpoint_url(endpoint: str, fallback: str = "accounts.index", **values: Any) -> str:
    """An absolute link to an endpoint, built without a request (the worker has none).

    Falls back to `fallback` when the endpoint does not exist (yet), so a reminder
    always carries a working link.
    """
    parts = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        parts.netloc or "localhost",
        script_name=parts.path or "/",
        url_scheme=parts.scheme or "http",
    )
    try:
        return adapter.build(endpoint, values, force_external=True)
    except BuildError:
        return adapter.build(fallback, {}, force_external=True)


# --- rendering --------------------------------------------------------------------
def mail_locale(locale: str | None) -> str:
    """The language of a mail: its reader's, Vietnamese when they have not chosen one."""
    return locale if locale in current_app.config["LANGUAGES"] else MAIL_LOCALE


def render_mail(
    kind: str, subject: str, context: Mapping[str, Any], locale: str | None = None
) -> RenderedMail:
    """Render emails/<kind>.txt and .html (falling back to the generic notice), in the
    recipient's language (`locale`, Vietnamese when they have not chosen one)."""
    env = current_app.jinja_env
    context = {
        **context,
        "subject": subject,
        "preferences_url": endpoint_url("accounts.preferences"),
        "notifications_url": endpoint_url("tasks.notifications"),
        "agency_name": current_app.config["AGENCY_NAME"],
        "agency_place": current_app.config["AGENCY_PLACE"],
    }
    # No request in a worker, and a mail speaks its reader's language, not the sender's.
    with force_locale(mail_locale(locale)):
        parts = []
        for ext in ("txt", "html"):
            try:
                template = env.select_template([f"emails/{kind}.{ext}", f"emails/notice.{ext}"])
            except TemplateNotFound as exc:  # pragma: no cover - the notice templates ship
                raise MailError(f"Thiếu mẫu thư {kind}.{ext}", permanent=True) from exc
            parts.append(template.render(**context))
    return RenderedMail(subject=subject, text=parts[0], html=parts[1])


def build_message(
    *,
    to_address: str,
    to_name: str,
    message_id: str,
    rendered: RenderedMail,
    mail_id: int | None = None,
) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = rendered.subject
    message["From"] = current_app.config["MAIL_DEFAULT_SENDER"]
    message["To"] = formataddr((to_name, to_address))
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id
    if mail_id is not None:
        message["X-Draftflow-Mail"] = str(mail_id)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


# --- backends ---------------------------------------------------------------------
class SmtpBackend:
    """smtplib with optional STARTTLS (MAIL_USE_TLS) or implicit TLS (MAIL_USE_SSL)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.server = config["MAIL_SERVER"]
        self.port = int(config["MAIL_PORT"])
        self.use_tls = bool(config["MAIL_USE_TLS"])
        self.use_ssl = bool(config["MAIL_USE_SSL"])
        self.username = config["MAIL_USERNAME"]
        self.password = config["MAIL_PASSWORD"]
        self.timeout = float(config["MAIL_TIMEOUT"])

    def _connect(self) -> smtplib.SMTP:
        if self.use_ssl:
            return smtplib.SMTP_SSL(
                self.server, self.port, timeout=self.timeout, context=ssl.create_default_context()
            )
        return smtplib.SMTP(self.server, self.port, timeout=self.timeout)

    def send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as smtp:
                if self.use_tls and not self.use_ssl:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            raise MailError(
                _smtp_text(codes[0] if codes else 0, "người nhận bị từ chối"),
                permanent=all(code >= 500 for code in codes),
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            # A configuration problem: retry, so mails survive until it is fixed.
            raise MailError(_smtp_text(exc.smtp_code, "đăng nhập máy chủ thư thất bại")) from exc
        except smtplib.SMTPResponseException as exc:
            raise MailError(
                _smtp_text(exc.smtp_code, _decode(exc.smtp_error)), permanent=exc.smtp_code >= 500
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(f"Không kết nối được máy chủ thư: {exc.__class__.__name__}") from exc


class OutboxBackend:
    """Writes each mail as an .eml file; the file name follows the Message-ID, so
    a resend of the same mail replaces its file instead of adding a second one."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / outbox_name(str(message["Message-ID"]))
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(message.as_bytes(policy=policy.SMTP))
            os.replace(tmp, target)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise MailError(f"Không ghi được thư vào hộp thư đi: {exc.strerror}") from exc


def backend_for(config: Mapping[str, Any]) -> Backend:
    if config["MAIL_SERVER"]:
        return SmtpBackend(config)
    return OutboxBackend(config["MAIL_OUTBOX_DIR"])


def current_backend() -> Backend:
    return backend_for(current_app.config)


def _decode(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _smtp_text(code: int, text: str) -> str:
    return f"SMTP {code}: {text}"[:500]


# --- the outbox, as administrators see it ---------------------------------------------
_OUTBOX_NAME = re.compile(r"^[0-9a-f]{32}\.eml$")


def outbox_name(message_id: str) -> str:
    return hashlib.sha256(message_id.encode()).hexdigest()[:32] + ".eml"


@dataclass(frozen=True)
class OutboxEntry:
    name: str
    subject: str
    to: str
    date: datetime | None
    modified: float


def header_datetime(value: object) -> datetime | None:
    """A mail's Date header as an aware datetime, or None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    # A header without a zone ("-0000") means UTC by RFC 5322.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse(path: Path) -> EmailMessage:
    with path.open("rb") as fh:
        return BytesParser(policy=policy.default).parse(fh)  # type: ignore[return-value]


def outbox_entries(directory: str, *, limit: int = 200) -> list[OutboxEntry]:
    folder = Path(directory)
    if not folder.is_dir():
        return []
    files = sorted(
        (p for p in folder.iterdir() if _OUTBOX_NAME.match(p.name)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )[:limit]
    entries = []
    for path in files:
        message = _parse(path)
        entries.append(
            OutboxEntry(
                path.name,
                str(message["Subject"] or ""),
                str(message["To"] or ""),
                header_datetime(message["Date"]),
                path.stat().st_mtime,
            )
        )
    return entries


def outbox_message(directory: str, name: str) -> EmailMessage | None:
    """The parsed mail, or None for an unknown or malformed name (no path tricks)."""
    if not _OUTBOX_NAME.match(name):
        return None
    path = Path(directory) / name
    if not path.is_file():
        return None
    return _parse(path)


def message_parts(message: EmailMessage) -> tuple[str, str]:
    """(text, html) bodies of a mail."""
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None else ""
    html = html_part.get_content() if html_part is not None else ""
    return text, html


def items_summary(items: Sequence[MailItem]) -> str:
    """A short subject line for a digest."""
    escalations = sum(1 for item in items if item.escalation)
    if escalations:
        return ngettext(
            "[Draftflow] Đôn đốc: %(num)d việc cần xử lý, %(late)d việc đã quá hạn",
            "[Draftflow] Đôn đốc: %(num)d việc cần xử lý, %(late)d việc đã quá hạn",
            len(items),
            late=escalations,
        )
    if len(items) == 1:
        return _("[Draftflow] Nhắc việc: %(title)s", title=items[0].title)[:300]
    return _("[Draftflow] Nhắc việc: %(count)d việc cần xử lý", count=len(items))


def account_mail_context(user: User, purpose: invites.Purpose) -> tuple[str, dict[str, Any]]:
    """The subject and the template context of an invitation or a password-reset mail,
    with a link made now (see accounts.invites)."""
    link = endpoint_url(invites.ENDPOINTS[purpose], token=invites.make_token(user, purpose))
    hours = invites.lifetime_seconds(purpose) // 3600
    if purpose == invites.RESET:
        subject = _("[Draftflow] Đặt lại mật khẩu")
    else:
        subject = _("[Draftflow] Lời mời sử dụng hệ thống")
    return subject, {"user": user, "link": link, "hours": hours, "days": hours // 24}
