"""The API's shared behaviour: tokens, JSON errors, the OpenAPI document."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate

from accounts.models import Role
from extensions import db


def test_openapi_document_is_valid_and_covers_every_route(app, client):
    spec = client.get("/api/v1/openapi.json").json
    validate(spec)
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1") or rule.rule == "/api/v1/openapi.json":
            continue
        path = rule.rule
        for conv in ("<int:", "<"):
            while conv in path:
                start = path.index(conv)
                end = path.index(">", start)
                name = path[start + len(conv) : end].split(":")[-1]
                path = path[:start] + "{" + name + "}" + path[end + 1 :]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (
                f"{method} {rule.rule} is not in the OpenAPI document"
            )
    for path in ("/api/v1/units", "/api/v1/groups", "/api/v1/users"):
        assert path in spec["paths"]


def test_missing_and_bad_tokens_get_json_401(client):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/units", headers=headers)
        assert response.status_code == 401
        assert response.is_json and response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "not json", "content_type": "text/plain"}, 415),
        ({"data": "{broken", "content_type": "application/json"}, 400),
        ({"json": {"name": "Phòng 9"}}, 422),
        ({"json": {"name": "", "short_name": "P9", "kind": "department"}}, 422),
        ({"json": {"name": "Phòng 9", "short_name": "P9", "kind": "spaceship"}}, 422),
        ({"json": ["a", "list"]}, 422),
    ],
)
def test_malformed_requests_get_json_errors(create_user, api, kwargs, status):
    admin = create_user(Role.ADMIN)
    response = api(admin).post("/api/v1/units", **kwargs)
    assert response.status_code == status
    assert response.is_json
    assert set(response.json["error"]) >= {"code", "message"}


def test_unknown_api_path_is_json_404(create_user, api):
    response = api(create_user(Role.ADMIN)).get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_wrong_method_is_json_405(create_user, api):
    response = api(create_user(Role.ADMIN)).delete("/api/v1/units")
    assert response.status_code == 405 and response.is_json


def test_permission_is_checked(create_user, api):
    staff = create_user(Role.UNIT_STAFF)
    response = api(staff).post(
        "/api/v1/units", json={"name": "Phòng 9", "short_name": "P9", "kind": "department"}
    )
    assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"


def test_units_groups_users_round_trip(create_user, create_unit, api):
    admin = create_user(Role.ADMIN)
    client = api(admin)
    unit = client.post(
        "/api/v1/units", json={"name": "Phòng 9", "short_name": "P9", "kind": "department"}
    )
    assert unit.status_code == 201
    other = create_unit()
    duplicate = client.post(
        "/api/v1/units", json={"name": "Phòng 9", "short_name": "P9b", "kind": "department"}
    )
    assert duplicate.status_code == 409
    group = client.post(
        "/api/v1/groups",
        json={
            "year": 2026,
            "kind": "block",
            "name": "Khối 1",
            "units": [unit.json["id"], other.id],
            "leader_unit_id": unit.json["id"],
        },
    )
    assert group.status_code == 201, group.json
    assert group.json["leader_unit_id"] == unit.json["id"]
    listed = client.get("/api/v1/groups?year=2026").json["items"]
    assert [g["name"] for g in listed] == ["Khối 1"]
    assert client.get("/api/v1/groups?year=abc").status_code == 422
    user = client.post(
        "/api/v1/users",
        json={
            "username": "p9.staff",
            "full_name": "Lê Văn C",
            "email": "c@vks.test",
            "unit_id": unit.json["id"],
            "roles": ["unit_staff"],
            "password": "mat-khau-123",
        },
    )
    assert user.status_code == 201
    assert user.json["roles"] == ["unit_staff"]


def test_security_headers(client):
    response = client.get("/login")
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_api_answers_in_the_language_asked_then_in_the_owners(create_user, api):
    staff = create_user(Role.UNIT_STAFF)
    client = api(staff)
    body = {"name": "Phòng 9", "short_name": "P9", "kind": "department"}

    def refusal(**headers: str) -> str:
        response = client.post("/api/v1/units", json=body, headers=headers)
        assert response.status_code == 403
        return response.json["error"]["message"]

    vietnamese = refusal()
    assert vietnamese == "Bạn không có quyền thực hiện thao tác này."
    assert refusal(**{"Accept-Language": "en-GB,en;q=0.8"}) == ("You are not allowed to do this.")
    assert refusal(**{"Accept-Language": "fr"}) == vietnamese
    staff.locale = "en"
    db.session.commit()
    assert refusal() == "You are not allowed to do this."
    assert refusal(**{"Accept-Language": "vi"}) == vietnamese
