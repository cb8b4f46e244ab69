"""schemathesis against /api/v1/openapi.json: no 500 and no schema violation.

Every documented operation is called with generated data, valid and invalid, as an
administrator (who may reach every route) and the responses are checked against
the document: status codes, content types and bodies.
"""

from __future__ import annotations

import zlib
from types import SimpleNamespace

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts import operations
from accounts.models import Role, Scope
from extensions import db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_schema(app, live_server):  # type: ignore[no-untyped-def]
    # Loaded as a plain document (not bound to the WSGI app) so requests go over real
    # HTTP to the live server: multipart bodies are then encoded by a real client.
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    return schemathesis.openapi.from_dict(spec)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def admin_token(create_user, create_unit):  # type: ignore[no-untyped-def]
    admin = create_user(Role.ADMIN, Role.DRAFTER, Role.OFFICE_VERIFIER, Role.COUNCIL_MEMBER)
    create_unit()
    _token, secret = operations.create_api_token(
        admin, name="fuzz", scopes=list(Scope), expires_at=None, actor=None
    )
    db.session.commit()
    return secret


# The operations are cut into fixed shards, one test each, so that the test workers share
# them: as one test they kept a worker busy for most of the run. Every operation is in
# exactly one shard (its crc32 modulo SHARDS).
SHARDS = 4


def shard(number: int):  # type: ignore[no-untyped-def]
    def matches(ctx) -> bool:  # type: ignore[no-untyped-def]
        key = f"{ctx.operation.method.upper()} {ctx.operation.path}"
        return zlib.crc32(key.encode()) % SHARDS == number

    return matches


FUZZ = settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    derandomize=True,
)


def conforms(case, admin_token: str, live_server) -> None:  # type: ignore[no-untyped-def]
    # Over real HTTP: multipart bodies are then encoded by a real client, as in production.
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Bearer {admin_token}"},
        checks=CHECKS,
    )


@schema.include(shard(0)).parametrize()
@FUZZ
def test_api_conforms_to_its_document_shard_0(case, admin_token, live_server):  # type: ignore[no-untyped-def]
    conforms(case, admin_token, live_server)


@schema.include(shard(1)).parametrize()
@FUZZ
def test_api_conforms_to_its_document_shard_1(case, admin_token, live_server):  # type: ignore[no-untyped-def]
    conforms(case, admin_token, live_server)


@schema.include(shard(2)).parametrize()
@FUZZ
def test_api_conforms_to_its_document_shard_2(case, admin_token, live_server):  # type: ignore[no-untyped-def]
    conforms(case, admin_token, live_server)


@schema.include(shard(3)).parametrize()
@FUZZ
def test_api_conforms_to_its_document_shard_3(case, admin_token, live_server):  # type: ignore[no-untyped-def]
    conforms(case, admin_token, live_server)


def test_the_shards_cover_every_operation_once(app):  # type: ignore[no-untyped-def]
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    operations = [
        SimpleNamespace(operation=SimpleNamespace(method=method, path=path))
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "put", "post", "patch", "delete"}
    ]
    assert len(operations) > 100
    for ctx in operations:
        assert sum(shard(number)(ctx) for number in range(SHARDS)) == 1
    assert all(any(shard(n)(ctx) for ctx in operations) for n in range(SHARDS))
