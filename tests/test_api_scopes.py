"""API tokens have scopes and an expiry: every route declares the scope it needs, a token
without it is refused with 403 naming the scope, an expired token with 401."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from flask import Blueprint
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from accounts import operations
from accounts.apispec import api_route
from accounts.clock import end_of_local_day, now
from accounts.models import ApiToken, Scope
from app import create_app, db
from tests.fixtures.accounts import ApiClient

START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


def token(user, scopes, expires_at=None) -> str:  # type: ignore[no-untyped-def]
    _row, secret = operations.create_api_token(
        user, name="thử", scopes=scopes, expires_at=expires_at, actor=None
    )
    db.session.commit()
    return secret


def operations_of(spec: dict) -> list[tuple[str, str, dict]]:  # type: ignore[type-arg]
    return [
        (path, method, op)
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    ]


# Reached without a token: a person who cannot sign in asks for, or uses, an e-mailed link.
PUBLIC = {
    ("post", "/api/v1/password/forgot"),
    ("post", "/api/v1/password/reset"),
    ("post", "/api/v1/invitations/accept"),
}


def test_every_api_route_declares_its_scope(client):
    spec = client.get("/api/v1/openapi.json").json
    found = operations_of(spec)
    assert len(found) > 80
    for path, method, op in found:
        if (method, path) in PUBLIC:
            assert op["security"] == [] and "401" not in op["responses"], path
            continue
        assert op["security"] in [[{"bearerAuth": [scope.value]}] for scope in Scope], (
            f"{method.upper()} {path} declares no scope"
        )
        if method == "get":
            assert op["security"] == [{"bearerAuth": ["read"]}], path
        assert "403" in op["responses"] and "401" in op["responses"]
    assert "read" in spec["components"]["securitySchemes"]["bearerAuth"]["description"]


def test_a_route_without_a_scope_cannot_be_declared():
    with pytest.raises(TypeError, match="scope"):
        api_route(Blueprint("x", __name__), "/x", methods=["GET"], summary="x", tags=["x"])


def test_each_route_refuses_a_token_lacking_its_scope(app, client, world):
    """A token with every scope but the one a route needs is refused before anything else
    is looked at (its body, the object, the user's permission)."""
    spec = client.get("/api/v1/openapi.json").json
    clients = {
        scope: ApiClient(app.test_client(), token(world.everyone, set(Scope) - {scope}))
        for scope in Scope
    }
    for path, method, op in operations_of(spec):
        if (method, path) in PUBLIC:
            continue
        needed = Scope(op["security"][0]["bearerAuth"][0])
        url = world.url(path.replace("{", "<").replace("}", ">"))
        response = clients[needed]._call(method.upper(), url, json={"x": 1})
        assert response.status_code == 403, (method, path, response.status_code)
        assert response.json["error"]["code"] == "insufficient_scope"
        assert f"“{needed.value}”" in response.json["error"]["message"]


def test_a_read_token_reads_but_does_not_write(org, open_round, app):
    consultation = open_round()
    reader = ApiClient(app.test_client(), token(org.staff1, [Scope.READ]))
    assert reader.get(f"/api/v1/consultations/{consultation.id}").status_code == 200
    refused = reader.post(
        f"/api/v1/consultations/{consultation.id}/comments", json={"text": "Đề nghị sửa."}
    )
    assert refused.status_code == 403
    assert refused.json["error"]["message"].startswith("Mã truy cập này không có phạm vi “comment”")
    writer = ApiClient(app.test_client(), token(org.staff1, [Scope.READ, Scope.COMMENT]))
    made = writer.post(
        f"/api/v1/consultations/{consultation.id}/comments", json={"text": "Đề nghị sửa."}
    )
    assert made.status_code == 201


def test_a_scope_does_not_widen_the_users_roles(org, app):
    staff = ApiClient(app.test_client(), token(org.staff1, list(Scope)))
    response = staff.post(
        "/api/v1/units", json={"name": "Phòng 9", "short_name": "P9", "kind": "department"}
    )
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"


def test_an_expired_token_is_401(org, app):
    with time_machine.travel(START, tick=False):
        secret = token(org.staff1, [Scope.READ], expires_at=START + timedelta(days=1))
        client = ApiClient(app.test_client(), secret)
        assert client.get("/api/v1/me").status_code == 200
    with time_machine.travel(START + timedelta(days=1), tick=False):
        response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "token_expired"
    assert "03/03/2026 10:00" in response.json["error"]["message"]  # Hà Nội time


def test_a_token_cannot_be_made_without_scope_or_already_expired(org):
    from accounts.errors import Invalid

    with pytest.raises(Invalid, match="phạm vi"):
        operations.create_api_token(org.staff1, scopes=[], expires_at=None, actor=None)
    with pytest.raises(Invalid, match="tương lai"):
        operations.create_api_token(
            org.staff1, scopes=[Scope.READ], expires_at=now() - timedelta(1), actor=None
        )


# --- where tokens are made --------------------------------------------------------------
def test_the_cli_makes_scoped_tokens_with_an_expiry(runner, org, app):
    with time_machine.travel(START, tick=False):
        default = runner.invoke(args=["users", "token", "staff1"])
        chosen = runner.invoke(
            args=[
                *["users", "token", "staff1", "--scope", "comment", "--scope", "read"],
                *["--expires", "31/12/2026"],
            ]
        )
        endless = runner.invoke(args=["users", "token", "staff1", "--expires", "never"])
        bad = runner.invoke(args=["users", "token", "staff1", "--expires", "mai"])
        past = runner.invoke(args=["users", "token", "staff1", "--expires", "2026-01-01"])
        unknown = runner.invoke(args=["users", "token", "staff1", "--scope", "everything"])
    assert [default.exit_code, chosen.exit_code, endless.exit_code] == [0, 0, 0]
    assert bad.exit_code != 0 and "không hợp lệ" in bad.output
    assert past.exit_code != 0 and "tương lai" in past.output
    assert unknown.exit_code != 0
    rows = {r.token_hash: r for r in db.session.scalars(select(ApiToken))}
    made = [rows[ApiToken.hash(r.output.strip())] for r in (default, chosen, endless)]
    assert [r.scopes for r in made] == ["read", "read comment", "read"]
    assert made[0].expires_at == START + timedelta(days=app.config["API_TOKEN_DAYS"])
    assert made[1].expires_at == end_of_local_day(date(2026, 12, 31))
    assert made[2].expires_at is None


def test_the_tokens_page_makes_scoped_tokens(client, auth, org):
    with time_machine.travel(START, tick=False):
        auth.login(org.staff1)
        page = client.get("/account/tokens").get_data(as_text=True)
        made = client.post(
            "/account/tokens",
            data={"name": "máy chấm", "scopes": ["read", "score"], "lifetime": 30},
        )
        refused = client.post("/account/tokens", data={"name": "không", "lifetime": 30})
    assert re.search(r'<input checked id="scopes-0"[^>]* value="read">', page)
    assert "Chấm điểm thi đua" in page and "required" not in page.split('name="scopes"')[1][:40]
    assert made.status_code == 200
    row = db.session.scalars(select(ApiToken).where(ApiToken.name == "máy chấm")).one()
    assert row.scopes == "read score"
    assert row.expires_at == START + timedelta(days=30)
    assert "Đọc dữ liệu; Chấm điểm thi đua" in made.get_data(as_text=True)
    assert refused.status_code == 422
    assert "Hãy chọn ít nhất một phạm vi." in refused.get_data(as_text=True)


# --- tokens made before scopes existed -----------------------------------------------------
def test_existing_tokens_keep_every_scope_and_expire_90_days_after_the_upgrade(
    fresh_database_url,
):
    fresh = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": fresh_database_url,
            "SECRET_KEY": "x",
            "CELERY_BROKER_URL": "memory://",
        }
    )
    with fresh.app_context():
        upgrade(revision="0004")
        engine = create_engine(fresh.config["SQLALCHEMY_DATABASE_URI"])
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO units (id, name, short_name, kind, active, created_at) "
                    "VALUES (1, 'Văn phòng', 'VP', 'office', true, :at)"
                ),
                {"at": START},
            )
            conn.execute(
                text(
                    "INSERT INTO users (id, username, full_name, email, unit_id, password_hash,"
                    " active, notify_mode, created_at) VALUES (1, 'cu', 'Cũ', 'cu@vks.test', 1,"
                    " 'x', true, 'immediate', :at)"
                ),
                {"at": START},
            )
            conn.execute(
                text(
                    "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) "
                    "VALUES (1, 'cũ', :hash, 'dft_cu', :at)"
                ),
                {"hash": "0" * 64, "at": START},
            )
        with time_machine.travel(START, tick=False):
            upgrade()
        row = db.session.scalars(select(ApiToken)).one()
        assert row.granted == list(Scope)
        assert row.expires_at == START + timedelta(days=90)
        engine.dispose()
        db.session.remove()
        db.engine.dispose()
