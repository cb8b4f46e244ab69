"""Writes through the API: PUT takes the whole object (a missing field is refused by name,
not cleared), PATCH a part, and permission is checked before the body, so a caller who
may not act gets 403 whatever they send."""

from __future__ import annotations

import pytest

from accounts import operations
from accounts.models import Role, Scope
from app import db
from tests.fixtures.accounts import ApiClient
from tests.test_api_scopes import PUBLIC

BAD_BODIES = [{"zzz": 1}, [], {"text": 5, "stage": "nope", "comment_ids": "x"}]


def write_operations(client) -> list[tuple[str, str, dict]]:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").json
    return [
        (path, method, op)
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
        if method in ("post", "put", "patch", "delete") and "requestBody" in op
    ]


def url_of(world, path: str) -> str:  # type: ignore[no-untyped-def]
    return world.url(path.replace("{", "<").replace("}", ">"))


def full_client(app, user) -> ApiClient:  # type: ignore[no-untyped-def]
    _row, secret = operations.create_api_token(
        user, name="thử", scopes=list(Scope), expires_at=None, actor=None
    )
    db.session.commit()
    return ApiClient(app.test_client(), secret)


def test_every_put_has_a_patch_twin(client):
    spec = client.get("/api/v1/openapi.json").json
    puts = [path for path, methods in spec["paths"].items() if "put" in methods]
    assert puts, "no PUT routes found"
    for path in puts:
        assert "patch" in spec["paths"][path], f"PUT {path} has no PATCH twin"
        schema = spec["paths"][path]["put"]["requestBody"]["content"]["application/json"]["schema"]
        assert set(schema["required"]) == set(schema["properties"]), path


def test_permission_comes_before_the_body_on_every_write(app, client, world):
    """A user who may act on nothing sends wrong bodies to every write: always 403."""
    nobody = full_client(app, world.nobody)
    answers = {}
    for path, method, _op in write_operations(client):
        if (method, path) in PUBLIC:
            continue  # no permission to check: the password links (tests/test_invitations.py)
        for bad in BAD_BODIES:
            response = nobody._call(method.upper(), url_of(world, path), json=bad)
            answers[(method.upper(), path, str(bad))] = response.status_code
    assert len(answers) > 3 * 35
    assert {key: status for key, status in answers.items() if status != 403} == {}


@pytest.mark.parametrize("who", ["everyone", "drafter", "head1", "staff2", "verifier", "admin"])
def test_a_bad_body_is_never_accepted(app, client, world, who):
    caller = full_client(app, world.everyone if who == "everyone" else getattr(world.org, who))
    accepted = []
    for path, method, op in write_operations(client):
        if "application/json" not in op["requestBody"]["content"]:
            continue
        for bad in BAD_BODIES:
            response = caller._call(method.upper(), url_of(world, path), json=bad)
            if not 400 <= response.status_code < 500:
                accepted.append((method, path, str(bad), response.status_code))
    assert accepted == []


# --- PUT and PATCH ----------------------------------------------------------------------------
def test_a_put_without_the_email_is_refused_and_keeps_it(org, api):
    admin = api(org.admin)
    url = f"/api/v1/units/{org.r1.id}"

    refused = admin.put(url, json={"name": "VKSND khu vực 1", "short_name": "KV1"})

    assert refused.status_code == 422
    assert refused.json["error"]["message"].startswith("Thiếu trường: email, kind.")
    assert refused.json["error"]["details"] == {"missing": ["email", "kind"]}
    db.session.expire_all()
    assert org.r1.email and org.r1.name == "Viện kiểm sát nhân dân khu vực 1"


def test_patch_changes_only_what_it_sends_and_put_replaces_all(org, api):
    admin = api(org.admin)
    url = f"/api/v1/units/{org.r1.id}"
    email = org.r1.email

    patched = admin.patch(url, json={"name": "VKSND khu vực 1"})

    assert patched.status_code == 200
    assert patched.json["name"] == "VKSND khu vực 1" and patched.json["email"] == email
    assert patched.json["short_name"] == "KV1" and patched.json["kind"] == "regional"
    assert admin.patch(url, json={}).status_code == 422
    whole = {"name": "VKSND khu vực 1", "short_name": "KV1", "kind": "regional", "email": ""}
    replaced = admin.put(url, json=whole)
    assert replaced.status_code == 200 and replaced.json["email"] is None


def test_group_put_needs_its_leaders_and_patch_keeps_them(org, api):
    admin = api(org.admin)
    url = f"/api/v1/groups/{org.cluster.id}"
    members = [org.r1.id, org.r2.id, org.r3.id]

    refused = admin.put(url, json={"units": members})
    patched = admin.patch(url, json={"deputy_unit_id": org.r3.id})

    assert refused.status_code == 422
    assert refused.json["error"]["details"] == {"missing": ["deputy_unit_id", "leader_unit_id"]}
    assert patched.status_code == 200
    assert patched.json["leader_unit_id"] == org.r1.id
    assert patched.json["deputy_unit_id"] == org.r3.id
    assert sorted(patched.json["units"]) == sorted(members)
    cleared = admin.put(url, json={"units": members, "leader_unit_id": 0, "deputy_unit_id": 0})
    assert cleared.status_code == 200 and cleared.json["leader_unit_id"] is None


def test_score_put_sends_whole_scores_and_patch_keeps_the_note(org, api, open_period):
    from tests.fixtures.workflow import codes_to_keys, sheet_of

    sheet = sheet_of(open_period(), org.r2)
    key = codes_to_keys(sheet.period)["1.1"]
    staff = api(org.staff2)
    url = f"/api/v1/scoring/sheets/{sheet.id}/scores"
    first = staff.put(url, json={"stage": "self", "scores": [
        {"lineage": key, "value": "9", "lock_version": 0, "note": "Đạt 90%"}]})  # fmt: skip
    assert first.status_code == 200, first.json

    refused = staff.put(url, json={"stage": "self", "scores": [
        {"lineage": key, "value": "8", "lock_version": 1}]})  # fmt: skip
    patched = staff.patch(url, json={"stage": "self", "scores": [
        {"lineage": key, "value": "8", "lock_version": 1}]})  # fmt: skip

    assert refused.status_code == 422 and "'note'" in refused.json["error"]["message"]
    assert patched.status_code == 200
    row = next(c for c in patched.json["criteria"] if c["lineage"] == key)
    kept = {k: row["scores"]["self"][k] for k in ("value", "note", "lock_version")}
    assert kept == {"value": "8", "note": "Đạt 90%", "lock_version": 2}


def test_change_links_patch_adds_and_removes(org, api, make_round):
    from tests.fixtures.consolidation import find_node, next_version

    rnd = make_round()
    first = rnd.comment(org.r1, "Điều 2", "Đề nghị bổ sung.")
    second = rnd.comment(org.r2, "Điều 2", "Đề nghị làm rõ.")
    rnd.submit(org.r1)
    rnd.submit(org.r2)
    version = next_version(
        rnd.draft,
        org.drafter,
        lambda nodes: find_node(nodes, "article", "2").update(text="Khách quan, công khai."),
    )
    clause = next(c for c in version.clauses if c.kind == "article" and c.number == "2")
    drafter = api(org.drafter)
    url = f"/api/v1/clauses/{clause.id}/change-links"

    added = drafter.patch(url, json={"add": [first.id, second.id]})
    swapped = drafter.patch(url, json={"remove": [first.id]})

    assert added.status_code == 200 and sorted(added.json["comment_ids"]) == sorted(
        [first.id, second.id]
    )
    assert swapped.json["comment_ids"] == [second.id]
    assert drafter.patch(url, json={}).status_code == 422
    assert api(org.staff1).patch(url, json={}).status_code == 403
    assert Role.DRAFTER in org.drafter.roles
