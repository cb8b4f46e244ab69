"""Security: uploads (size, content sniffing, zip bombs, file names) on every real upload
endpoint, HTML escaping in Chromium, security headers and cookie flags, and no secret
in the logs."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from accounts.models import User
from app import db
from comments.models import ConsultationAttachment
from drafts.models import DraftKind, Version
from tests.docbuild import DOCX_CONTENT_TYPES, DocxBuilder, zip_bytes
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.comments import comment_as, submit_as
from tests.fixtures.workflow import sheet_of
from workflow.models import Evidence

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(512)
XLSX_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Override PartName="/xl/workbook.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
)
BOMB_SIZE = 30 * 1024 * 1024  # inflates from ~30 KB; the parser refuses past a 100:1 ratio


def regulation_docx() -> bytes:
    doc = DocxBuilder()
    doc.paragraph("Chương I", bold=True, center=True)
    doc.paragraph("QUY ĐỊNH CHUNG", bold=True, center=True)
    doc.paragraph("Điều 1. Phạm vi điều chỉnh", bold=True)
    doc.paragraph("1. Quy chế này quy định về tổ chức Cụm, Khối thi đua.")
    return doc.to_bytes()


def docx_bomb() -> bytes:
    return zip_bytes(
        {"[Content_Types].xml": DOCX_CONTENT_TYPES, "word/document.xml": bytes(BOMB_SIZE)}
    )


def xlsx_bomb() -> bytes:
    return zip_bytes(
        {"[Content_Types].xml": XLSX_CONTENT_TYPES, "xl/worksheets/sheet1.xml": bytes(BOMB_SIZE)}
    )


# --- the upload endpoints -----------------------------------------------------------------
@dataclass
class Endpoint:
    """One real upload endpoint: where it is, who may use it, and how to count what it
    kept (so a refusal can be shown to have stored nothing)."""

    name: str
    url: str
    user: User
    stored: Callable[[], int]
    field: str = "file"


@pytest.fixture
def endpoints(org, create_draft, blind_round, open_period) -> dict[str, Endpoint]:  # type: ignore[no-untyped-def]
    draft = create_draft(drafter=org.drafter)
    criteria = create_draft(kind=DraftKind.CRITERIA, drafter=org.drafter, title="Bảng tiêu chí mới")
    sheet = sheet_of(open_period(), org.r1)

    def versions(draft_id: int) -> Callable[[], int]:
        return lambda: len(
            db.session.scalars(select(Version).where(Version.draft_id == draft_id)).all()
        )

    def attachments() -> int:
        return len(db.session.scalars(select(ConsultationAttachment)).all())

    def evidence() -> int:
        return len(db.session.scalars(select(Evidence)).all())

    return {
        "import": Endpoint(
            "import", f"/api/v1/drafts/{draft.id}/imports", org.drafter, versions(draft.id)
        ),
        "import_criteria": Endpoint(
            "import_criteria",
            f"/api/v1/drafts/{criteria.id}/imports",
            org.drafter,
            versions(criteria.id),
        ),
        "evidence": Endpoint(
            "evidence", f"/api/v1/scoring/sheets/{sheet.id}/evidence", org.staff1, evidence
        ),
        "attachment": Endpoint(
            "attachment",
            f"/api/v1/consultations/{blind_round.id}/attachments",
            org.drafter,
            attachments,
        ),
        "html_import": Endpoint(
            "html_import", f"/drafts/{draft.id}/import", org.drafter, versions(draft.id)
        ),
        "html_evidence": Endpoint(
            "html_evidence", f"/scoring/sheets/{sheet.id}/evidence", org.staff1, evidence
        ),
        "html_attachment": Endpoint(
            "html_attachment",
            f"/comments/rounds/{blind_round.id}/attachments",
            org.drafter,
            attachments,
        ),
    }


def upload(client: Any, endpoint: Endpoint, data: bytes, filename: str, **headers: str) -> Any:
    return client.post(
        endpoint.url,
        data={endpoint.field: (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
        headers=headers,
    )


@pytest.fixture
def sender(api, auth) -> Callable[[Endpoint], Any]:  # type: ignore[no-untyped-def]
    """A client for the endpoint: a bearer token for /api/, a logged-in session otherwise."""

    def factory(endpoint: Endpoint) -> Any:
        if endpoint.url.startswith("/api/"):
            return api(endpoint.user)
        auth.login(endpoint.user)
        return auth.client

    return factory


def refused_json(response: Any, status: int = 422) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]["message"]


API = ["import", "evidence", "attachment"]
HTML = ["html_import", "html_evidence", "html_attachment"]


@pytest.mark.parametrize("name", API + HTML)
def test_an_upload_over_the_size_limit_gets_413_and_a_clear_message(
    name, endpoints, sender, app, monkeypatch
):
    endpoint = endpoints[name]
    client = sender(endpoint)
    before = endpoint.stored()
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 64 * 1024)
    response = upload(client, endpoint, PDF + bytes(200 * 1024), "ho-so-lon.pdf")
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    if name in API:
        assert response.get_json()["error"]["code"] == "too_large"
        assert "quá lớn" in response.get_json()["error"]["message"]
    else:
        assert response.mimetype == "text/html" and "quá lớn" in text
    assert endpoint.stored() == before


@pytest.mark.parametrize("name", ["import", "evidence", "attachment"])
@pytest.mark.parametrize("payload", [EXE, PDF], ids=["exe", "pdf"])
def test_a_docx_name_on_foreign_bytes_is_never_taken_for_a_docx(name, payload, endpoints, sender):
    endpoint = endpoints[name]
    client = sender(endpoint)
    before = endpoint.stored()
    response = upload(client, endpoint, payload, "du-thao.docx")
    if name == "attachment" and payload is PDF:
        # Attachments take PDF too: the content decides, and it is kept and served as a
        # PDF, never as what the name claims.
        assert response.status_code == 201
        body = response.get_json()
        assert body["filename"].endswith(".pdf")
        row = db.session.get(ConsultationAttachment, body["id"])
        assert row.content_type == "application/pdf" and row.stored_name.endswith(".pdf")
        download = client.get(f"/api/v1/consultation-attachments/{row.id}")
        assert download.mimetype == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment")
        return
    message = refused_json(response)
    assert re.search(r"[àáảãạăâđêôơưếềệốồộớờợứừự]", message), message  # a Vietnamese sentence
    assert endpoint.stored() == before


def test_the_html_import_page_refuses_an_executable_named_docx(endpoints, sender):
    endpoint = endpoints["html_import"]
    client = sender(endpoint)
    response = upload(client, endpoint, EXE, "du-thao.docx")
    assert response.status_code == 422
    assert "docx" in response.get_data(as_text=True).lower()
    assert endpoint.stored() == 1


@pytest.mark.parametrize(
    ("name", "bomb", "filename"),
    [
        ("import", docx_bomb, "du-thao.docx"),
        ("import_criteria", xlsx_bomb, "bang-tieu-chi.xlsx"),
        ("evidence", docx_bomb, "minh-chung.docx"),
        ("evidence", xlsx_bomb, "minh-chung.xlsx"),
        ("attachment", docx_bomb, "phu-luc.docx"),
        ("attachment", xlsx_bomb, "phu-luc.xlsx"),
    ],
)
def test_zip_bombs_are_refused(name, bomb, filename, endpoints, sender):
    endpoint = endpoints[name]
    client = sender(endpoint)
    before = endpoint.stored()
    data = bomb()
    assert len(data) < BOMB_SIZE // 100
    message = refused_json(upload(client, endpoint, data, filename))
    assert message
    assert endpoint.stored() == before


HOSTILE_NAMES = [
    "../../x.docx",
    "..\\..\\windows\\x.docx",
    "bad\x00name.docx",
    "dài" * 400 + ".docx",
]


def _safe_display_name(name: str) -> None:
    assert name and len(name) <= 255
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".")


def _inside(root: Path, name: str) -> None:
    matches = list(root.rglob(name))
    assert len(matches) == 1 and matches[0].resolve().is_relative_to(root.resolve())


@pytest.mark.parametrize("hostile", HOSTILE_NAMES, ids=["dotdot", "backslash", "nul", "long"])
@pytest.mark.parametrize("name", ["evidence", "attachment"])
def test_stored_uploads_get_a_safe_name_and_a_generated_file(hostile, name, endpoints, sender, app):
    upload_dir = Path(app.config["UPLOAD_DIR"])
    endpoint = endpoints[name]
    created = upload(sender(endpoint), endpoint, regulation_docx(), hostile)
    assert created.status_code == 201, created.get_data(as_text=True)
    model = Evidence if name == "evidence" else ConsultationAttachment
    row = db.session.get(model, created.get_json()["id"])
    _safe_display_name(row.filename)
    assert row.filename.endswith(".docx")
    assert re.fullmatch(r"[0-9a-f]{32}\.docx", row.stored_name)
    _inside(upload_dir, row.stored_name)
    # Nothing was written where the name pointed.
    assert not list(upload_dir.parent.glob("x.docx")) and not list(Path("/tmp").glob("x.docx"))


@pytest.mark.parametrize("hostile", HOSTILE_NAMES, ids=["dotdot", "backslash", "nul", "long"])
def test_an_imported_version_keeps_a_safe_source_name(hostile, endpoints, sender):
    endpoint = endpoints["import"]
    client = sender(endpoint)
    preview = upload(client, endpoint, regulation_docx(), hostile)
    assert preview.status_code == 200, preview.get_data(as_text=True)
    _safe_display_name(preview.get_json()["filename"])
    version = client.post(f"{endpoint.url}/confirm", json={"token": preview.get_json()["token"]})
    assert version.status_code == 201, version.get_data(as_text=True)
    _safe_display_name(db.session.get(Version, version.get_json()["id"]).source_filename)


# --- HTML escaping, in Chromium -----------------------------------------------------------
SCRIPT = "<script>alert(1)</script>"


@pytest.mark.e2e
def test_a_script_in_a_comment_is_shown_as_text_in_chromium(page, live_server, org, blind_round):
    comment_as(org.staff1, blind_round, "Điều 1", text=f"Đề nghị sửa {SCRIPT} tại Điều 1.")
    submit_as(org.head1, blind_round)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(f"{live_server.url}/login")
    page.get_by_label("Tên đăng nhập").fill("drafter")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(f"{live_server.url}/comments/rounds/{blind_round.id}/comments")

    text = f"Đề nghị sửa {SCRIPT} tại Điều 1."
    expect(page.get_by_text(text, exact=True)).to_be_visible()
    assert page.locator("script", has_text="alert(1)").count() == 0
    page.goto(f"{live_server.url}/consolidation/{blind_round.id}")
    expect(page.get_by_text(text, exact=True)).to_be_visible()
    assert dialogs == []


# --- headers and cookies ------------------------------------------------------------------
def _assert_security_headers(response: Any) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert (
        "default-src 'self'" in csp and "script-src 'self'" in csp and "'unsafe-inline'" not in csp
    )
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_security_headers_on_html_json_and_errors(client, api, org):
    _assert_security_headers(client.get("/login"))
    _assert_security_headers(client.get("/khong-co-trang-nay"))
    me = api(org.staff1).get("/api/v1/me")
    assert me.status_code == 200 and me.is_json
    _assert_security_headers(me)
    anonymous = client.get("/api/v1/me")
    assert anonymous.status_code == 401 and anonymous.is_json
    _assert_security_headers(anonymous)


def _session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_session_cookie_is_httponly_lax_and_secure_when_configured(app, auth, org, monkeypatch):
    cookie = _session_cookie(auth.login(org.staff1))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    auth.logout()
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    cookie = _session_cookie(auth.login(org.staff1))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_cookie_secure_comes_from_the_environment(monkeypatch, tmp_path):
    import config

    monkeypatch.setenv("SESSION_COOKIE_SECURE", "true")
    assert config.build_config(tmp_path, {"SECRET_KEY": "k"})["SESSION_COOKIE_SECURE"] is True
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "false")
    assert config.build_config(tmp_path, {"SECRET_KEY": "k"})["SESSION_COOKIE_SECURE"] is False


def _failed_login_ip(application, org, headers: dict[str, str]) -> str:
    from accounts.models import LoginAttempt

    application.test_client().post(
        "/login",
        data={"username": org.staff1.username, "password": "sai-mat-khau"},
        headers=headers,
    )
    db.session.expire_all()
    attempt = db.session.scalars(select(LoginAttempt).order_by(LoginAttempt.id.desc())).first()
    assert attempt is not None and not attempt.success
    return attempt.ip


def test_forwarded_addresses_are_believed_only_from_trusted_proxies(app, org):
    from app import create_app

    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    # Directly exposed (the default): a client could claim any address.
    assert _failed_login_ip(app, org, forwarded) == "127.0.0.1"
    keys = ("TESTING", "SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "WTF_CSRF_ENABLED")
    keys += ("CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER", "UPLOAD_DIR", "MAIL_OUTBOX_DIR")
    behind_nginx = create_app({**{k: app.config[k] for k in keys}, "TRUSTED_PROXIES": 1})
    assert _failed_login_ip(behind_nginx, org, forwarded) == "203.0.113.7"


# --- no secrets in the logs ---------------------------------------------------------------
SMTP_PASSWORD = "mat-khau-may-chu-thu-Qz7"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_passwords_and_tokens_never_reach_the_logs(
    app, client, auth, org, caplog, monkeypatch, smtp_with_auth
):
    caplog.set_level(logging.DEBUG)
    new_password = "mat-khau-moi-Xy9-2026"
    wrong = "sai-mat-khau-Kp4-2026"

    assert auth.login(org.staff1, wrong).status_code == 401
    assert auth.login(org.staff1).status_code == 302
    page = client.post(
        "/account/tokens", data={"name": "máy tính văn phòng", "scopes": ["read"]}
    ).get_data(as_text=True)
    token = re.search(r"dft_[A-Za-z0-9_-]{20,}", page)
    assert token, "the new token is shown once on the page"
    changed = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": new_password, "confirm": new_password},
    )
    assert changed.status_code in (200, 302, 303)
    db.session.expire_all()
    assert db.session.get(User, org.staff1.id).check_password(new_password)
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {token.group(0)}"}).status_code
        == 200
    )

    from tasks.mail import backend_for

    port, received = smtp_with_auth
    config = {**app.config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_USE_TLS": False,
              "MAIL_USE_SSL": False, "MAIL_USERNAME": "draftflow", "MAIL_PASSWORD": SMTP_PASSWORD,
              "MAIL_TIMEOUT": 5}  # fmt: skip
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "no-reply@vks.test", "a@vks.test", "Thử"
    message.set_content("Nội dung thử.")
    backend_for(config).send(message)
    assert received == ["draftflow"]

    secrets = [PASSWORD, wrong, new_password, token.group(0), SMTP_PASSWORD]
    logged = "\n".join(
        f"{r.name} {r.getMessage()} {r.args!r} {getattr(r, 'exc_text', '') or ''}"
        for r in caplog.records
    )
    assert caplog.records, "the steps above log something at DEBUG"
    for secret in secrets:
        assert secret not in logged


@pytest.fixture
def smtp_with_auth():  # type: ignore[no-untyped-def]
    """An SMTP server (aiosmtpd) that requires AUTH and accepts our user."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    from tests.pgserver import free_port

    logins: list[str] = []

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = auth_data.login == b"draftflow" and auth_data.password == SMTP_PASSWORD.encode()
        if ok:
            logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
            return "250 OK"

    port = free_port()
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, authenticator=authenticator,
        auth_required=True, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    try:
        yield port, logins
    finally:
        controller.stop()
