"""schemathesis against /api/v1/openapi.json: no 500 and no schema violation.

Every documented operation is called with generated data, valid and invalid, as an
administrator (who may reach every route) and the responses are checked against
the document: status codes, content types and bodies.
"""

from __future__ import annotations

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
from app import db

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


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    derandomize=True,
)
def test_api_conforms_to_its_document(case, admin_token, live_server):  # type: ignore[no-untyped-def]
    # Over real HTTP: multipart bodies are then encoded by a real client, as in production.
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Bearer {admin_token}"},
        checks=CHECKS,
    )
