"""Login, lock-out, CSRF, passwords, tokens and the organisation operations."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from accounts import operations
from accounts.clock import now
from accounts.errors import Conflict, Invalid
from accounts.models import ApiToken, AuditEntry, Role, Unit, UnitKind, UnitNameChange, User
from extensions import db
from tests.fixtures.accounts import PASSWORD


def test_login_page_is_vietnamese(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in page
    assert 'lang="vi"' in page


def test_login_and_logout(client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    response = auth.login(user)
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert user.full_name in home
    auth.logout()
    assert client.get("/").status_code == 302


def test_wrong_password_is_refused_with_message(client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    response = auth.login(user, "sai-mat-khau")
    assert response.status_code == 401
    assert "Tên đăng nhập hoặc mật khẩu không đúng" in response.get_data(as_text=True)


def test_five_wrong_passwords_lock_the_login(client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    start = now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            assert auth.login(user, "sai-mat-khau").status_code == 401
        # Even the right password is refused while locked, with a clear message.
        response = auth.login(user)
        assert response.status_code == 429
        assert "khóa" in response.get_data(as_text=True)
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        assert auth.login(user).status_code == 302


def test_post_without_csrf_token_is_refused(app, create_user):
    user = create_user(Role.UNIT_STAFF)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 400
        assert "biểu mẫu không hợp lệ" in response.get_data(as_text=True)
        assert (
            db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.login")) is None
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_login_redirect_stays_on_site(client, create_user):
    user = create_user(Role.UNIT_STAFF)
    response = client.post(
        "/login?next=https://evil.example/",
        data={"username": user.username, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_change_password(client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    auth.login(user)
    bad = client.post(
        "/account/password",
        data={"current": "khong-dung", "new": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"},
    )
    assert "Mật khẩu hiện tại không đúng" in bad.get_data(as_text=True)
    ok = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": "mat-khau-moi-1", "confirm": "mat-khau-moi-1"},
    )
    assert ok.status_code == 302
    auth.logout()
    assert auth.login(user, "mat-khau-moi-1").status_code == 302


def test_session_expires(app, client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    start = now()
    with time_machine.travel(start, tick=False):
        auth.login(user)
        assert client.get("/").status_code == 200
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    with time_machine.travel(start + lifetime + timedelta(minutes=1), tick=False):
        assert client.get("/").status_code == 302


def test_session_slides_with_activity(app, client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
    start = now()
    with time_machine.travel(start, tick=False):
        auth.login(user)
    # Still in use after most of a lifetime: the cookie is signed again...
    with time_machine.travel(start + lifetime - timedelta(minutes=5), tick=False):
        assert client.get("/").status_code == 200
    # ...so it outlives the first lifetime, counted from the last request.
    with time_machine.travel(start + lifetime + timedelta(hours=1), tick=False):
        assert client.get("/").status_code == 200


def test_session_cookie_not_resent_within_a_minute(app, client, auth, create_user):
    user = create_user(Role.UNIT_STAFF)
    start = now().replace(second=0, microsecond=0)
    with time_machine.travel(start, tick=False):
        auth.login(user)
        client.get("/")  # the first page after login adds its CSRF token to the session
        assert "Set-Cookie" not in client.get("/").headers
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert "session=" in client.get("/").headers.get("Set-Cookie", "")


def test_switch_to_english(client, auth, create_user):
    user = create_user(Role.ADMIN)
    auth.login(user)
    client.post("/lang", data={"lang": "en", "next": "/"})
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page
    assert "Users" in page and "Người dùng" not in page


def test_rename_keeps_history(create_user):
    admin = create_user(Role.ADMIN)
    unit = operations.create_unit(
        name="Viện kiểm sát nhân dân huyện Yên Dũng",
        short_name="YD",
        kind=UnitKind.REGIONAL,
        email=None,
        actor=admin,
    )
    db.session.flush()
    operations.update_unit(
        unit,
        name="Viện kiểm sát nhân dân khu vực 5",
        short_name="KV5",
        kind=UnitKind.REGIONAL,
        email=None,
        actor=admin,
    )
    db.session.commit()
    change = db.session.scalars(
        select(UnitNameChange).where(UnitNameChange.unit_id == unit.id)
    ).one()
    assert change.old_name == "Viện kiểm sát nhân dân huyện Yên Dũng"
    assert change.new_name == "Viện kiểm sát nhân dân khu vực 5"


def test_merge_moves_people_and_keeps_the_old_unit(create_unit, create_user):
    admin = create_user(Role.ADMIN)
    old, new = create_unit(), create_unit()
    staff = create_user(Role.UNIT_STAFF, unit=old)
    operations.merge_units(old, new, actor=admin)
    db.session.commit()
    assert staff.unit_id == new.id
    assert old.active is False and old.merged_into_id == new.id
    assert db.session.get(Unit, old.id) is not None


def test_ineligible_unit_cannot_lead(app, create_unit, create_group, create_year):
    a, b = create_unit(), create_unit()
    last_year = create_year(2025)
    operations.set_unit_eligibility(
        a, last_year, eligible=False, reason="Có cán bộ bị kỷ luật", actor=None
    )
    db.session.commit()
    with pytest.raises(Invalid) as exc:
        create_group([a, b], year=2026, leader=a)
    assert "không đủ điều kiện" in exc.value.message and "2025" in exc.value.message
    db.session.rollback()
    app.config["RULE_INELIGIBLE_CANNOT_LEAD"] = False
    try:
        group = create_group([a, b], year=2026, leader=a, name="Cụm thử")
        assert group.leader.id == a.id
    finally:
        app.config["RULE_INELIGIBLE_CANNOT_LEAD"] = True


def test_rotation_history_is_kept(create_unit, create_group):
    a, b = create_unit(), create_unit()
    g2025 = create_group([a, b], year=2025, leader=a, name="Cụm 1")
    g2026 = create_group([a, b], year=2026, leader=b, name="Cụm 1")
    assert g2025.leader.id == a.id and g2026.leader.id == b.id


def test_a_unit_is_in_one_group_per_year(create_unit, create_group):
    a, b = create_unit(), create_unit()
    create_group([a], year=2026, name="Cụm 1")
    with pytest.raises(Conflict):
        create_group([a, b], year=2026, name="Cụm 2")


def test_emulation_year_defaults_to_december_start(create_year):
    year = create_year(2026)
    assert year.starts_on.isoformat() == "2025-12-01"
    assert year.ends_on.isoformat() == "2026-11-30"


def test_audit_rows_cannot_be_changed(create_user):
    user = create_user(Role.ADMIN)
    entry = db.session.scalars(select(AuditEntry)).first() or operations.audit.record(
        "test", user, actor=user
    )
    db.session.commit()
    entry.summary = "sửa"
    with pytest.raises(RuntimeError):
        db.session.commit()
    db.session.rollback()


# --- CLI -------------------------------------------------------------------------------
def test_units_import_cli_all_or_nothing(runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,short_name,kind,email\n"
        "Phòng 1,P1,department,p1@vks.test\n"
        "Phòng 2,,department,\n"
        "Phòng 3,P3,khong-ro,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["units", "import", str(bad)])
    assert result.exit_code != 0
    assert "Dòng 3" in result.output and "Dòng 4" in result.output
    assert db.session.scalar(select(Unit).where(Unit.short_name == "P1")) is None

    good = tmp_path / "good.csv"
    good.write_text(
        "\ufeffname,short_name,kind,email\n"
        "Phòng 1,P1,department,p1@vks.test\n"
        "Văn phòng,VP,office,\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["units", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert {u.short_name for u in db.session.scalars(select(Unit))} == {"P1", "VP"}


def test_users_create_and_token_cli(runner, create_unit, client):
    create_unit("Văn phòng", "VP", UnitKind.OFFICE)
    result = runner.invoke(
        args=[
            "users",
            "create",
            "canbo",
            "--name",
            "Trần Thị B",
            "--email",
            "b@vks.test",
            "--unit",
            "VP",
            "--role",
            "drafter",
            "--password",
            "mat-khau-123",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "token", "canbo"])
    assert result.exit_code == 0
    token = result.output.strip()
    assert db.session.scalar(select(ApiToken)).token_hash != token  # stored hashed
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["username"] == "canbo"

    result = runner.invoke(args=["users", "revoke-token", token[:10]])
    assert result.exit_code == 0
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_users_create_cli_rejects_unknown_unit(runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "x",
            "--name",
            "X",
            "--email",
            "x@vks.test",
            "--unit",
            "NOPE",
            "--role",
            "drafter",
            "--password",
            "mat-khau-123",
        ]
    )
    assert result.exit_code != 0
    assert "Không có đơn vị" in result.output
    assert db.session.scalar(select(User)) is None
