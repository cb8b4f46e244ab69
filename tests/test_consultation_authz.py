"""Route × role × ownership for the consultation pages and API.

The round is blind, drafted by `drafter`, with KV1, KV2 and KV3 invited. KV1 has an
unsent comment. Every route of the `comments` and `comments_api` blueprints is listed;
a test fails if a new route is added without deciding who may use it.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest

from accounts.models import Role
from comments.consultation import operations
from extensions import db
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.comments import comment_as, response_of

USERS = [
    "anonymous",
    "admin",
    "drafter",
    "other_drafter",
    "head1",
    "staff1",
    "head2",
    "outsider",
    "council",
]
TRACKERS = {"drafter", "admin"}
INVITED = {"head1", "staff1", "head2"}
KV1 = {"head1", "staff1"}
HEADS = {"head1", "head2"}
DOWNLOADERS = {"drafter", *INVITED}
IMPORTERS = {"drafter", *KV1}
LOGGED_IN = set(USERS) - {"anonymous"}

# (method, url, data, allowed users, status for them: one number or per user)
HTML: list[tuple[str, str, dict[str, Any], set[str], Any]] = [
    ("GET", "/comments/", {}, LOGGED_IN, 200),
    ("GET", "/comments/drafts/{draft}/open", {}, {"drafter"}, 200),
    ("POST", "/comments/drafts/{draft}/open", {}, {"drafter"}, 422),
    ("GET", "/comments/rounds/{round}", {}, TRACKERS | INVITED, 302),
    ("GET", "/comments/rounds/{round}/tracker", {}, TRACKERS, 200),
    ("GET", "/comments/rounds/{round}/comments", {}, TRACKERS, 200),
    ("GET", "/comments/rounds/{round}/unit", {}, INVITED, 200),
    ("GET", "/comments/rounds/{round}/comment", {}, INVITED, 200),
    ("POST", "/comments/rounds/{round}/comment", {}, INVITED, 422),
    ("GET", "/comments/{comment}/edit", {}, KV1, 200),
    ("POST", "/comments/{comment}/edit", {}, KV1, 422),
    ("POST", "/comments/{comment}/delete", {}, KV1, 302),
    ("GET", "/comments/rounds/{round}/submit", {}, HEADS, 200),
    # KV1 has a comment, so it cannot "agree"; KV2 has none, so it can.
    (
        "POST",
        "/comments/rounds/{round}/submit",
        {"agrees": "1"},
        HEADS,
        {"head1": 422, "head2": 302},
    ),
    ("POST", "/comments/rounds/{round}/reopen", {}, HEADS, 303),
    ("GET", "/comments/rounds/{round}/responses/{response1}", {}, TRACKERS | KV1, 200),
    ("GET", "/comments/rounds/{round}/responses/{response1}/extend", {}, {"drafter"}, 200),
    ("POST", "/comments/rounds/{round}/responses/{response1}/extend", {}, {"drafter"}, 422),
    ("GET", "/comments/rounds/{round}/conference", {}, {"drafter"}, 200),
    ("POST", "/comments/rounds/{round}/conference", {}, {"drafter"}, 422),
    ("POST", "/comments/rounds/{round}/attachments", {}, {"drafter"}, 302),
    ("GET", "/comments/rounds/{round}/close", {}, {"drafter"}, 200),
    ("POST", "/comments/rounds/{round}/close", {"confirmed": "1"}, {"drafter"}, 302),
    ("GET", "/comments/attachments/{attachment}", {}, DOWNLOADERS, 200),
    # A unit imports into its own response; the drafter into any unit's.
    ("GET", "/comments/rounds/{round}/responses/{response1}/import", {}, IMPORTERS, 200),
    ("POST", "/comments/rounds/{round}/responses/{response1}/import", {}, IMPORTERS, 422),
    # No upload waits under an empty token.
    ("POST", "/comments/rounds/{round}/responses/{response1}/import/confirm", {}, IMPORTERS, 409),
]

API: list[tuple[str, str, Any, set[str], Any]] = [
    ("GET", "/api/v1/consultations", None, LOGGED_IN, 200),
    (
        "POST",
        "/api/v1/consultations",
        {"draft_id": "{draft}", "closes_at": "2099-01-01", "letter_number": "1/VKS"},
        {"drafter"},
        409,
    ),
    ("GET", "/api/v1/consultations/{round}", None, TRACKERS | INVITED, 200),
    ("GET", "/api/v1/consultations/{round}/tracker", None, TRACKERS, 200),
    ("POST", "/api/v1/consultations/{round}/close", None, {"drafter"}, 200),
    ("GET", "/api/v1/consultations/{round}/comments", None, TRACKERS | INVITED, 200),
    ("POST", "/api/v1/consultations/{round}/comments", {"text": "Góp ý."}, INVITED, 201),
    ("GET", "/api/v1/comments/{comment}", None, KV1, 200),
    ("PATCH", "/api/v1/comments/{comment}", {"text": "Sửa.", "lock_version": 1}, KV1, 200),
    ("DELETE", "/api/v1/comments/{comment}", None, KV1, 204),
    (
        "POST",
        "/api/v1/consultations/{round}/conference-opinions",
        {
            "meeting_date": "2020-01-01",
            "meeting_form": "Hội nghị trực tuyến",
            "opinions": [{"unit_id": "{unit1}", "text": "Ý kiến."}],
        },
        {"drafter"},
        201,
    ),
    ("GET", "/api/v1/consultations/{round}/responses/{response1}", None, TRACKERS | KV1, 200),
    (
        "POST",
        "/api/v1/consultations/{round}/responses/{response1}/submit",
        {"agrees": False},
        {"head1"},
        200,
    ),
    ("POST", "/api/v1/consultations/{round}/responses/{response1}/reopen", None, {"head1"}, 409),
    (
        "POST",
        "/api/v1/consultations/{round}/responses/{response1}/extend",
        {"deadline": "2099-01-01"},
        {"drafter"},
        200,
    ),
    ("POST", "/api/v1/consultations/{round}/attachments", "upload", {"drafter"}, 201),
    ("GET", "/api/v1/consultation-attachments/{attachment}", None, DOWNLOADERS, 200),
    # The uploaded "PDF" has no text to read.
    (
        "POST",
        "/api/v1/consultations/{round}/responses/{response1}/imports",
        "upload",
        IMPORTERS,
        422,
    ),
    (
        "POST",
        "/api/v1/consultations/{round}/responses/{response1}/imports/confirm",
        {"token": "x" * 40},
        IMPORTERS,
        409,
    ),
]


@pytest.fixture
def world(org, open_round, create_user):  # type: ignore[no-untyped-def]
    consultation = open_round()
    comment = comment_as(org.staff1, consultation, "khoản 1 Điều 7", "Ý kiến chưa gửi của KV1.")
    attachment = operations.add_attachment(
        consultation,
        operations.AttachmentUpload("Công văn.pdf", b"%PDF-1.4\n%%EOF\n"),
        actor=org.drafter,
    )
    db.session.commit()
    users = {
        "admin": org.admin,
        "drafter": org.drafter,
        "other_drafter": create_user(Role.DRAFTER, unit=org.office, username="drafter2"),
        "head1": org.head1,
        "staff1": org.staff1,
        "head2": org.head2,
        "outsider": create_user(Role.UNIT_STAFF, unit=org.dept, username="outsider"),
        "council": org.council,
    }
    ids = {
        "draft": consultation.draft_id,
        "round": consultation.id,
        "comment": comment.id,
        "response1": response_of(consultation, org.r1).id,
        "attachment": attachment.id,
        "unit1": org.r1.id,
    }
    return users, ids


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str):
        if value.startswith("{") and value.endswith("}") and value[1:-1] in ids:
            return ids[value[1:-1]]
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def _expected(allowed: set[str], ok: Any, who: str) -> int:
    if who not in allowed:
        return 403
    return ok[who] if isinstance(ok, dict) else ok


def _shape(rule: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", rule)


def test_every_route_is_in_a_matrix(app):
    html = {_shape(url) for _m, url, *_ in HTML}
    api = {(m, _shape(url)) for m, url, *_ in API}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("comments."):
            assert _shape(rule.rule) in html, f"{rule.rule} has no row in the matrix"
        elif rule.endpoint.startswith("comments_api."):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert (method, _shape(rule.rule)) in api, f"{method} {rule.rule} is not listed"


def _cases(rows: list[tuple[str, str, Any, set[str], Any]]) -> list[Any]:
    """A GET changes nothing, so one test asks it as everyone in turn. A change is
    asked once by all the users who must be refused (nothing changes for them), then
    by each allowed user on a fresh world."""
    cases = []
    for method, url, data, allowed, ok in rows:
        name = f"{method} {url}"
        if method == "GET":
            cases.append(pytest.param(method, url, data, allowed, ok, USERS, id=name))
            continue
        refused = [u for u in USERS if u not in allowed]
        cases.append(pytest.param(method, url, data, allowed, ok, refused, id=f"{name} refused"))
        for who in sorted(allowed):
            cases.append(pytest.param(method, url, data, allowed, ok, [who], id=f"{name} {who}"))
    return cases


@pytest.mark.parametrize(("method", "url", "data", "allowed", "ok", "whos"), _cases(HTML))
def test_html_route_matrix(app, world, method, url, data, allowed, ok, whos):  # type: ignore[no-untyped-def]
    users, ids = world
    for who in whos:
        client = app.test_client()
        if who != "anonymous":
            login = client.post(
                "/login", data={"username": users[who].username, "password": PASSWORD}
            )
            assert login.status_code == 302
        response = client.open(url.format(**ids), method=method, data=data)
        if who == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
            continue
        expected = _expected(allowed, ok, who)
        assert response.status_code == expected, (who, response.get_data(as_text=True)[:400])


@pytest.mark.parametrize(("method", "url", "body", "allowed", "ok", "whos"), _cases(API))
def test_api_route_matrix(app, api, world, method, url, body, allowed, ok, whos):  # type: ignore[no-untyped-def]
    users, ids = world
    for who in whos:
        if who == "anonymous":
            response = app.test_client().open(url.format(**ids), method=method)
            assert response.status_code == 401
            continue
        kwargs: dict[str, Any] = {}
        if body == "upload":
            kwargs = {
                "data": {"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "Phụ lục.pdf")},
                "content_type": "multipart/form-data",
            }
        elif body is not None:
            kwargs = {"json": _fill(body, ids)}
        response = api(users[who])._call(method, url.format(**ids), **kwargs)
        expected = _expected(allowed, ok, who)
        assert response.status_code == expected, (who, response.get_data(as_text=True)[:400])
        if response.status_code >= 400:
            assert response.is_json and response.json["error"]["message"]
