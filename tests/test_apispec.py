"""`api_put_patch`: one view serves a PUT and its PATCH twin, documented as two operations."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Blueprint, Flask
from flask_babel import Babel
from hypothesis import given
from hypothesis import strategies as st

from accounts.apispec import api_put_patch, build_openapi, patch_of, whole
from accounts.errors import UserError

FIELDS = ("name", "email", "note")
THING = whole(
    {
        "type": "object",
        "additionalProperties": False,
        "properties": {name: {"type": "string"} for name in FIELDS},
    }
)
ADD_REMOVE = {
    "type": "object",
    "minProperties": 1,
    "properties": {"add": {"type": "array", "items": {"type": "integer"}}},
}


@pytest.fixture(scope="module")
def twins() -> Flask:
    app = Flask(__name__)
    Babel(app)
    bp = Blueprint("twins", __name__, url_prefix="/api/v1")

    @api_put_patch(
        bp,
        "/things/<int:thing_id>",
        endpoints=("update_thing", "patch_thing"),
        put="Replace a thing",
        patch="Change part of a thing",
        auth=False,
        tags=["things"],
        body=THING,
    )
    def save_thing(thing_id: int, body: Any, partial: bool) -> dict[str, Any]:
        return {"thing_id": thing_id, "partial": partial, "sent": dict(body)}

    @api_put_patch(
        bp,
        "/lists/<int:list_id>",
        endpoints=("put_list", "patch_list"),
        put="Replace a list",
        patch="Add to a list",
        auth=False,
        tags=["things"],
        body={"type": "object", "required": ["items"], "properties": {"items": {}}},
        patch_body=ADD_REMOVE,
        status=200,
    )
    def save_list(list_id: int, body: Any, partial: bool) -> dict[str, Any]:
        return {"partial": partial, "sent": dict(body)}

    app.register_blueprint(bp)

    @app.errorhandler(UserError)
    def _user_error(exc: UserError):  # type: ignore[no-untyped-def]
        return {"error": {"code": exc.code, "message": exc.message}}, exc.status

    return app


def test_the_twins_are_two_operations_with_their_own_summary_and_body(twins: Flask) -> None:
    with twins.app_context():
        paths = build_openapi(twins)["paths"]
    things = paths["/api/v1/things/{thing_id}"]
    assert set(things) == {"put", "patch"}
    assert things["put"]["operationId"] == "twins_update_thing_put"
    assert things["patch"]["operationId"] == "twins_patch_thing_patch"
    assert things["put"]["summary"] == "Replace a thing"
    assert things["patch"]["summary"] == "Change part of a thing"
    body = things["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == THING
    body = things["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == patch_of(THING)
    lists = paths["/api/v1/lists/{list_id}"]
    body = lists["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == ADD_REMOVE


def test_a_put_twin_must_require_every_field() -> None:
    with pytest.raises(TypeError, match="PUT body requires every field"):
        api_put_patch(
            Blueprint("y", __name__),
            "/y",
            endpoints=("put_y", "patch_y"),
            put="y",
            patch="y",
            auth=False,
            tags=["y"],
            body={"type": "object", "required": [], "properties": {"a": {}}},
        )(lambda **kwargs: kwargs)


@given(sent=st.sets(st.sampled_from(FIELDS)))
def test_put_needs_every_field_and_patch_takes_any_nonempty_part(twins: Flask, sent) -> None:
    client = twins.test_client()
    body = {name: f"{name}-value" for name in sent}
    put = client.put("/api/v1/things/7", json=body)
    if len(sent) == len(FIELDS):
        assert put.status_code == 200
        assert put.json == {"thing_id": 7, "partial": False, "sent": body}
    else:
        assert put.status_code == 422
        missing = sorted(set(FIELDS) - sent)
        assert put.json["error"]["message"].startswith("Thiếu trường: " + ", ".join(missing))
    patch = client.patch("/api/v1/things/7", json=body)
    if sent:
        assert patch.status_code == 200
        assert patch.json == {"thing_id": 7, "partial": True, "sent": body}
    else:
        assert patch.status_code == 422


def test_a_patch_body_of_its_own_replaces_the_derived_one(twins: Flask) -> None:
    client = twins.test_client()
    put = client.put("/api/v1/lists/1", json={"items": []})
    assert put.json == {"partial": False, "sent": {"items": []}}
    patch = client.patch("/api/v1/lists/1", json={"add": [1]})
    assert patch.json == {"partial": True, "sent": {"add": [1]}}
    assert client.patch("/api/v1/lists/1", json={"add": "x"}).status_code == 422
