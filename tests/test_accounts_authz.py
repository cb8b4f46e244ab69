"""Route × role matrix for the organisation and account pages.

Every route of the `accounts` blueprint is listed here; a test fails if a new
route is added without deciding who may use it.
"""

from __future__ import annotations

import pytest

from accounts.models import Role, Scope
from extensions import db

ROLES = [None, *Role]  # None: not logged in
EVERYONE = set(Role)
ADMIN = {Role.ADMIN}
AUDITORS = {Role.ADMIN, Role.OFFICE_VERIFIER}

# (method, url template, roles allowed, status when allowed)
MATRIX = [
    ("GET", "/", EVERYONE, 200),
    ("GET", "/account/password", EVERYONE, 200),
    ("GET", "/account/preferences", EVERYONE, 200),
    ("GET", "/account/tokens", EVERYONE, 200),
    ("POST", "/account/sessions/end", EVERYONE, 302),
    # The token belongs to staff2, who is not one of the users below; only admins may.
    ("POST", "/account/tokens/{token}/revoke", ADMIN, 302),
    ("GET", "/admin/units", ADMIN, 200),
    ("POST", "/admin/units/import", ADMIN, 302),
    ("GET", "/admin/units/{unit}", ADMIN, 200),
    ("POST", "/admin/units/{unit}/retire", ADMIN, 302),
    ("POST", "/admin/units/{unit}/merge", ADMIN, 302),
    ("GET", "/admin/years", ADMIN, 200),
    ("GET", "/admin/years/2026", ADMIN, 200),
    ("POST", "/admin/years/2026/eligibility", ADMIN, 302),
    ("GET", "/admin/groups/{group}", ADMIN, 200),
    ("GET", "/admin/users", ADMIN, 200),
    ("GET", "/admin/users/new", ADMIN, 200),
    ("GET", "/admin/users/invite", ADMIN, 200),
    ("POST", "/admin/users/{user}/invite", ADMIN, 302),
    ("GET", "/admin/users/{user}", ADMIN, 200),
    ("POST", "/admin/users/{user}/sessions/end", ADMIN, 302),
    ("GET", "/admin/audit", AUDITORS, 200),
    ("GET", "/admin/signer", ADMIN, 200),
]
# Routes open to anyone (the login page itself, logging out, the language switch, the
# e-mailed password links: tests/test_invitations.py).
PUBLIC = {"/login", "/logout", "/lang", "/password/forgot", "/password/reset/<token>",
          "/invitation/<token>"}  # fmt: skip


def test_every_accounts_route_is_in_the_matrix(app):
    listed = {url.split("{")[0].rstrip("/") for _m, url, _r, _s in MATRIX}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("accounts.") and rule.rule not in PUBLIC:
            prefix = rule.rule.split("<")[0].rstrip("/")
            assert prefix in listed or rule.rule == "/", f"{rule.rule} has no row in the matrix"


@pytest.fixture
def objects(org, create_unit):  # type: ignore[no-untyped-def]
    from accounts import operations

    spare = create_unit()
    token, _secret = operations.create_api_token(
        org.staff2, name="x", scopes=list(Scope), expires_at=None, actor=None
    )
    db.session.commit()
    return {
        "unit": spare.id,
        "group": org.cluster.id,
        "user": org.staff1.id,
        "token": token.id,
    }


def _user_for(org, role, create_user):  # type: ignore[no-untyped-def]
    if role == Role.CONFERENCE_SECRETARY:
        return create_user(Role.CONFERENCE_SECRETARY, unit=org.office)
    return {
        Role.ADMIN: org.admin,
        Role.DRAFTER: org.drafter,
        Role.UNIT_HEAD: org.head1,
        Role.UNIT_STAFF: org.staff1,
        Role.OFFICE_VERIFIER: org.verifier,
        Role.COUNCIL_MEMBER: org.council,
    }[role]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
@pytest.mark.parametrize(
    ("method", "url", "allowed", "ok_status"), MATRIX, ids=[f"{m} {u}" for m, u, _a, _s in MATRIX]
)
def test_route_role_matrix(
    client, auth, org, objects, create_user, role, method, url, allowed, ok_status
):
    if role is not None:
        assert auth.login(_user_for(org, role, create_user)).status_code == 302
    target = url.format(**objects)
    response = client.open(target, method=method, data={})
    if role is None:
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    elif role in allowed:
        assert response.status_code == ok_status, response.get_data(as_text=True)[:300]
    else:
        assert response.status_code == 403


def test_a_token_can_be_revoked_by_its_owner(client, auth, org, objects):
    auth.login(org.staff1)
    assert client.post(f"/account/tokens/{objects['token']}/revoke").status_code == 403
    auth.logout()
    auth.login(org.staff2)
    assert client.post(f"/account/tokens/{objects['token']}/revoke").status_code == 302
