"""Who may do what on the drafts pages and API: route × role × ownership.

Only a drafter of THIS draft changes it; other drafters, unit staff and heads, and
administrators get 403; nobody changes an adopted draft.
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from accounts.models import AuditEntry, Role
from drafts import operations
from drafts.models import Clause, DraftKind, DraftState
from extensions import db
from tests.fixtures.accounts import PASSWORD

# (method, url template, form data). {d} draft, {v} editing version, {c} one of its clauses.
CHANGE_ROUTES = [
    ("GET", "/drafts/{d}/import", None),
    ("POST", "/drafts/{d}/import", {}),
    ("POST", "/drafts/{d}/import/confirm", {}),
    ("POST", "/drafts/{d}/import/cancel", {}),
    ("POST", "/drafts/{d}/versions/new", {}),
    ("GET", "/drafts/versions/{v}/publish", None),
    ("POST", "/drafts/versions/{v}/publish", {"lock_version": "{lock}", "confirmed": "1"}),
    ("GET", "/drafts/versions/{v}/discard", None),
    ("POST", "/drafts/versions/{v}/discard", {"confirmed": "1"}),
    ("GET", "/drafts/versions/{v}/clauses/new", None),
    ("POST", "/drafts/versions/{v}/clauses/new",
     {"kind": "clause", "number": "9", "text": "Khoản thêm.", "lock_version": "{lock}"}),
    ("GET", "/drafts/clauses/{c}/edit", None),
    ("POST", "/drafts/clauses/{c}/edit",
     {"kind": "point", "number": "đ", "text": "Sửa.", "lock_version": "{lock}"}),
    ("POST", "/drafts/clauses/{c}/up", {"lock_version": "{lock}"}),
    ("POST", "/drafts/clauses/{c}/down", {"lock_version": "{lock}"}),
    ("GET", "/drafts/clauses/{c}/move", None),
    ("POST", "/drafts/clauses/{c}/move", {"parent": "0", "lock_version": "{lock}"}),
    ("GET", "/drafts/clauses/{c}/delete", None),
    ("POST", "/drafts/clauses/{c}/delete", {"lock_version": "{lock}"}),
    ("GET", "/drafts/versions/{v}/renumber", None),
    ("POST", "/drafts/versions/{v}/renumber", {"lock_version": "{lock}"}),
    ("POST", "/drafts/{d}/finish-revision", {}),
    ("GET", "/drafts/{d}/adopt", None),
    ("POST", "/drafts/{d}/adopt", {"version": "1", "decision_number": "1/QĐ",
                                   "decision_date": "15/12/2026", "signer_name": "A"}),
]  # fmt: skip

API_ROUTES = [
    ("post", "/api/v1/drafts/{d}/versions", {}),
    ("post", "/api/v1/drafts/{d}/imports/confirm", {"token": "x" * 43}),
    ("post", "/api/v1/versions/{v}/publish", {"lock_version": "{lock}"}),
    ("delete", "/api/v1/versions/{v}", None),
    ("post", "/api/v1/versions/{v}/clauses",
     {"lock_version": "{lock}", "kind": "clause", "number": "9", "text": "x"}),
    ("patch", "/api/v1/clauses/{c}", {"lock_version": "{lock}", "text": "Sửa."}),
    ("post", "/api/v1/clauses/{c}/move", {"lock_version": "{lock}", "direction": "up"}),
    ("delete", "/api/v1/clauses/{c}?lock_version={lock}", None),
    ("get", "/api/v1/versions/{v}/renumber", None),
    ("post", "/api/v1/versions/{v}/renumber", {"lock_version": "{lock}"}),
    ("post", "/api/v1/drafts/{d}/finish-revision", {}),
    ("post", "/api/v1/drafts/{d}/adopt", {"version_id": "{v}", "decision_number": "1/QĐ",
                                          "decision_date": "2026-12-15", "signer_name": "A"}),
]  # fmt: skip

OUTSIDERS = ["other_drafter", "staff", "head", "admin", "verifier"]


@pytest.fixture
def world(org, create_draft, create_user):  # type: ignore[no-untyped-def]
    """A draft under consolidation (everyone may view it) with a published version 1 and
    an unpublished version 2, owned by org.drafter."""
    draft = create_draft(drafter=org.drafter, state=DraftState.CONSOLIDATING)
    version = operations.new_version(draft, actor=org.drafter)
    db.session.commit()
    clause = db.session.scalar(
        select(Clause).where(Clause.version_id == version.id, Clause.number == "đ")
    )
    users = {
        "owner": org.drafter,
        "other_drafter": create_user(Role.DRAFTER, unit=org.office),
        "staff": org.staff1,
        "head": org.head1,
        "admin": org.admin,
        "verifier": org.verifier,
    }
    ids = {"d": draft.id, "v": version.id, "c": clause.id, "lock": version.lock_version}
    return draft, users, ids


def fill(template, ids):  # type: ignore[no-untyped-def]
    if isinstance(template, str):
        value = template.format(**ids)
        return int(value) if template.startswith("{") and value.isdigit() else value
    if isinstance(template, dict):
        return {k: fill(v, ids) for k, v in template.items()}
    return template


def audit_rows() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def login(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.post("/login", data={"username": user.username, "password": PASSWORD})
    return client


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize(("method", "url", "data"), CHANGE_ROUTES)
def test_only_the_drafters_of_this_draft_change_it(app, world, who, method, url, data):
    _draft, users, ids = world
    client = login(app, users[who])
    before = audit_rows()  # after the login, which is audited too
    response = client.open(fill(url, ids), method=method, data=fill(data, ids))
    assert response.status_code == 403
    assert audit_rows() == before


@pytest.mark.parametrize(("method", "url", "data"), CHANGE_ROUTES)
def test_the_owner_passes_the_permission_check(app, world, method, url, data):
    _draft, users, ids = world
    response = login(app, users["owner"]).open(fill(url, ids), method=method, data=fill(data, ids))
    assert response.status_code not in (401, 403, 404, 500)


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize(("method", "url", "body"), API_ROUTES)
def test_api_change_routes_refuse_outsiders(api, world, who, method, url, body):
    _draft, users, ids = world
    client = api(users[who])
    before = audit_rows()
    kwargs = {"json": fill(body, ids)} if body is not None else {}
    response = getattr(client, method)(fill(url, ids), **kwargs)
    assert response.status_code == 403, response.json
    assert audit_rows() == before


def test_anonymous_users_are_sent_to_login(client, world):
    _draft, _users, ids = world
    pages = [("GET", "/drafts/", None), ("GET", "/drafts/{d}", None)]
    for method, url, data in [*CHANGE_ROUTES, *pages]:
        response = client.open(fill(url, ids), method=method, data=fill(data, ids))
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_unit_staff_cannot_create_drafts(client, auth, org, api):
    auth.login(org.staff1)
    assert client.get("/drafts/new").status_code == 403
    assert client.post("/drafts/new", data={"title": "X", "kind": "regulation"}).status_code == 403
    response = api(org.head1).post("/api/v1/drafts", json={"title": "X", "kind": "regulation"})
    assert response.status_code == 403


def test_a_draft_in_nhap_is_seen_only_by_its_drafters_and_admins(
    app, org, create_draft, create_user
):
    draft = create_draft(drafter=org.drafter)
    other = create_user(Role.DRAFTER, unit=org.office)
    for user, status in ((org.drafter, 200), (org.admin, 200), (other, 403), (org.staff1, 403)):
        assert login(app, user).get(f"/drafts/{draft.id}").status_code == status


def test_nobody_edits_an_adopted_draft(app, api, org, create_draft):
    draft = create_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    clause = db.session.scalar(select(Clause).where(Clause.number == "1.1"))
    version = draft.versions[0]
    operations.adopt_draft(draft, version, "125/QĐ-VKS", date(2026, 12, 15), "Nguyễn Văn Viện",
                           org.drafter)  # fmt: skip
    db.session.commit()
    ids = {"d": draft.id, "v": version.id, "c": clause.id, "lock": version.lock_version}
    others = [login(app, user) for user in (org.admin, org.staff1)]
    owner = login(app, org.drafter)
    owner_api = api(org.drafter)
    before = audit_rows()
    for method, url, data in CHANGE_ROUTES:
        if url.endswith("/cancel"):
            continue  # dropping a pending upload changes nothing
        response = owner.open(fill(url, ids), method=method, data=fill(data, ids))
        # Forms answer 409 with the message; buttons flash it and go back (303).
        assert response.status_code in (409, 303), (method, url, response.status_code)
    page = owner.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert "Dự thảo đã được ban hành" in page or "đã được phát hành" in page
    for method, url, body in API_ROUTES:
        kwargs = {"json": fill(body, ids)} if body is not None else {}
        response = getattr(owner_api, method)(fill(url, ids), **kwargs)
        assert response.status_code == 409, (method, url, response.json)
    for other in others:
        response = other.post(
            f"/drafts/clauses/{clause.id}/edit",
            data={"kind": "criterion", "title": "x", "lock_version": 1},
        )
        assert response.status_code == 403
    assert audit_rows() == before
