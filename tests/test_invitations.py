"""Password reset and invitations by e-mail: signed links that expire and work once, mail
sent only after the commit, answers that never tell whether an account exists."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import time_machine
from sqlalchemy import select

from accounts import operations
from accounts.clock import now
from accounts.models import Role, User
from app import db
from tests.fixtures.tasks import text_of

NEW_PASSWORD = "mat-khau-moi-2026"


def _link(message) -> str:  # type: ignore[no-untyped-def]
    found = re.search(r"http://draftflow\.test/\S+", text_of(message))
    assert found, text_of(message)
    return found.group(0)


def _path(link: str) -> str:
    return urlsplit(link).path


def _can_log_in(app, username: str, password: str) -> bool:  # type: ignore[no-untyped-def]
    answer = app.test_client().post("/login", data={"username": username, "password": password})
    return answer.status_code == 302


# --- password reset -----------------------------------------------------------------------------
def test_forgot_password_mails_a_link_that_sets_the_password_once(app, client, org, mailer):
    login_page = client.get("/login").get_data(as_text=True)
    assert "/password/forgot" in login_page

    answer = client.post("/password/forgot", data={"login": org.staff1.username})

    assert answer.status_code == 302
    [message] = mailer.to(org.staff1)
    link = _link(message)
    assert link.startswith("http://draftflow.test/password/reset/")
    assert client.get(_path(link)).status_code == 200
    saved = client.post(_path(link), data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert saved.status_code == 302
    assert _can_log_in(app, org.staff1.username, NEW_PASSWORD)
    # Used once: the link no longer works.
    again = client.post(_path(link), data={"new": "khac-nua-2026", "confirm": "khac-nua-2026"})
    assert again.status_code == 422
    assert "đã được dùng" in again.get_data(as_text=True)
    assert _can_log_in(app, org.staff1.username, NEW_PASSWORD)


def test_the_answer_does_not_tell_whether_the_account_exists(app, client, org, mailer):
    known = client.post("/password/forgot", data={"login": org.staff1.email})
    known_page = client.get("/login").get_data(as_text=True)
    unknown = client.post("/password/forgot", data={"login": "khong-co-ai@example.com"})
    unknown_page = client.get("/login").get_data(as_text=True)

    assert known.status_code == unknown.status_code == 302
    assert known.headers["Location"] == unknown.headers["Location"]
    assert "Nếu tên đăng nhập hoặc e-mail này" in known_page
    assert known_page == unknown_page
    assert len(mailer.sent) == 1

    api = app.test_client()
    first = api.post("/api/v1/password/forgot", json={"login": "ai-do"})
    second = api.post("/api/v1/password/forgot", json={"login": org.staff2.username})
    assert first.status_code == second.status_code == 202
    assert first.json == second.json
    assert len(mailer.sent) == 2


def test_a_reset_link_expires(app, client, org, mailer):
    client.post("/password/forgot", data={"login": org.staff1.username})
    link = _path(_link(mailer.sent[0]))
    later = now() + timedelta(hours=app.config["PASSWORD_RESET_HOURS"], minutes=1)

    with time_machine.travel(later, tick=False):
        expired = client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert expired.status_code == 422
    assert "hết hạn" in expired.get_data(as_text=True)
    assert not _can_log_in(app, org.staff1.username, NEW_PASSWORD)


def test_a_link_stops_working_once_the_password_changed(app, client, org, mailer):
    from tests.fixtures.accounts import PASSWORD

    client.post("/password/forgot", data={"login": org.staff1.username})
    link = _path(_link(mailer.sent[0]))
    operations.change_password(org.staff1, current=PASSWORD, new="doi-o-noi-khac")
    db.session.commit()

    answer = client.post(link, data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})

    assert answer.status_code == 422
    assert not _can_log_in(app, org.staff1.username, NEW_PASSWORD)


def test_a_forged_or_other_purpose_token_is_refused(app, client, org, mailer):
    client.post("/password/forgot", data={"login": org.staff1.username})
    token = _path(_link(mailer.sent[0])).rsplit("/", 1)[1]
    assert client.get(f"/password/reset/{token}x").status_code == 422
    # A reset link is not an invitation.
    assert client.get(f"/invitation/{token}").status_code == 422


def test_no_mail_leaves_before_the_commit(app, org, mailer):
    with app.test_request_context():
        operations.request_password_reset(org.staff1.username)
        db.session.rollback()
    assert mailer.sent == []


def test_requests_are_throttled_per_address_and_per_account(app, client, org, mailer):
    limit = int(app.config["PASSWORD_RESET_RATE_PER_ADDRESS"].split()[0])
    answers = [
        client.post("/password/forgot", data={"login": org.staff1.username}).status_code
        for _ in range(limit + 1)
    ]
    assert answers[:limit] == [302] * limit
    assert answers[-1] == 429
    # However often asked, one account gets one mail per interval.
    assert len(mailer.to(org.staff1)) == 1


# --- invitations --------------------------------------------------------------------------------
def test_an_administrator_invites_a_units_user_who_sets_a_password(app, client, auth, org, mailer):
    auth.login(org.admin)
    assert f"/admin/users/invite?unit={org.r3.id}" in client.get("/admin/units").get_data(
        as_text=True
    )
    page = client.get(f"/admin/users/invite?unit={org.r3.id}")
    assert page.status_code == 200

    sent = client.post(
        "/admin/users/invite",
        data={
            "unit": org.r3.id,
            "username": "canbo3",
            "full_name": "Nguyễn Thị Ba",
            "email": "canbo3@kv3.example",
            "roles": [Role.UNIT_STAFF.value],
        },
    )

    assert sent.status_code == 302
    auth.logout()
    user = db.session.scalars(select(User).where(User.username == "canbo3")).one()
    assert user.unit_id == org.r3.id
    [message] = mailer.to(user)
    link = _link(message)
    assert link.startswith("http://draftflow.test/invitation/")
    assert "Nguyễn Thị Ba" in text_of(message)
    accepted = client.post(_path(link), data={"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert accepted.status_code == 302
    assert _can_log_in(app, "canbo3", NEW_PASSWORD)
    assert client.get(_path(link)).status_code == 422


def test_the_api_twin_invites_and_accepts(app, org, api, mailer):
    admin = api(org.admin)
    created = admin.post(
        "/api/v1/users/invitations",
        json={
            "username": "canbo2",
            "full_name": "Trần Văn Hai",
            "email": "canbo2@kv2.example",
            "unit_id": org.r2.id,
            "roles": ["unit_staff"],
        },
    )
    assert created.status_code == 201, created.json
    assert api(org.staff1).post(
        "/api/v1/users/invitations",
        json={"username": "x", "full_name": "x", "email": "x@x.example", "unit_id": org.r2.id,
              "roles": []},
    ).status_code == 403  # fmt: skip
    token = _path(_link(mailer.sent[0])).rsplit("/", 1)[1]
    public = app.test_client()

    accepted = public.post(
        "/api/v1/invitations/accept", json={"token": token, "password": NEW_PASSWORD}
    )
    reused = public.post("/api/v1/invitations/accept", json={"token": token, "password": "x" * 9})

    assert accepted.status_code == 200
    assert reused.status_code == 422 and reused.json["error"]["message"]
    assert _can_log_in(app, "canbo2", NEW_PASSWORD)
    resent = admin.post(f"/api/v1/users/{created.json['id']}/invitation")
    assert resent.status_code == 202
    assert len(mailer.sent) == 2
