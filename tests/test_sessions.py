"""A copied session cookie stops working once its user signs out, anywhere."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from accounts.models import Role, User
from extensions import db
from tests.fixtures.accounts import PASSWORD


def _copy(app: Flask, client: FlaskClient) -> FlaskClient:
    """A second browser holding a copy of the first one's session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/account/preferences").status_code == 200


def test_the_session_names_the_user_by_token_not_by_id(app, client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    auth.login(user)
    with client.session_transaction() as sess:
        assert sess["_user_id"] == user.session_token != str(user.id)


def test_copied_cookie_dies_at_logout(app, client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    auth.login(user)
    thief = _copy(app, client)
    assert _signed_in(thief)
    auth.logout()
    assert not _signed_in(thief)


def test_copied_cookie_dies_at_password_change_and_the_changer_stays_in(
    app, client, auth, create_user
):
    user = create_user(Role.UNIT_STAFF)
    auth.login(user)
    thief = _copy(app, client)
    response = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "mat-khau-moi-123", "confirm": "mat-khau-moi-123"},
    )
    assert response.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(thief)


def test_copied_cookie_dies_when_the_user_signs_out_everywhere(app, client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    auth.login(user)
    thief = _copy(app, client)
    assert "Đăng xuất khỏi mọi thiết bị" in client.get("/account/password").get_data(as_text=True)
    assert client.post("/account/sessions/end").status_code == 302
    assert not _signed_in(thief)
    assert not _signed_in(client)


def _victim_session(app: Flask, auth_factory, user: User) -> FlaskClient:  # type: ignore[no-untyped-def]
    victim = app.test_client()
    victim.post("/login", data={"username": user.username, "password": PASSWORD})
    assert _signed_in(victim)
    return _copy(app, victim)


def test_admin_signs_a_user_out_everywhere(app, client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    thief = _victim_session(app, None, user)
    admin = create_user(Role.ADMIN)
    auth.login(admin)
    assert client.post(f"/admin/users/{user.id}/sessions/end").status_code == 302
    assert not _signed_in(thief)
    assert _signed_in(client)


def test_admin_signs_a_user_out_everywhere_through_the_api(app, create_user, api):
    user = create_user(Role.UNIT_STAFF)
    thief = _victim_session(app, None, user)
    admin = create_user(Role.ADMIN)
    response = api(admin).post(f"/api/v1/users/{user.id}/sessions/end")
    assert response.status_code == 200
    assert not _signed_in(thief)


def test_copied_cookie_dies_when_the_user_is_deactivated(app, client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    thief = _victim_session(app, None, user)
    old_token = user.session_token
    admin = create_user(Role.ADMIN)
    auth.login(admin)
    response = client.post(
        f"/admin/users/{user.id}",
        data={
            "username": user.username,
            "full_name": user.full_name,
            "email": user.email,
            "unit": user.unit_id,
            "roles": [Role.UNIT_STAFF.value],
            "password": "",
        },
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert not user.active
    assert user.session_token != old_token
    # Reactivating the account does not bring the old session back.
    user.active = True
    db.session.commit()
    assert not _signed_in(thief)
