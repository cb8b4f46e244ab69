"""Route × role × ownership for the consolidation pages and their JSON twins.

Only the drafters of this draft consolidate; administrators may read the round's
figures and reports; a unit downloads only its own comment letter; anyone who may read
the draft may compare its versions.
"""

from __future__ import annotations

import pytest

from accounts.models import Role
from extensions import db
from tests.fixtures.consolidation import find_node, next_version

# Who is asking, by the name of a fixture attribute (see `people`).
OWNER = "owner"  # a drafter of this draft
OTHER_DRAFTER = "other_drafter"  # a drafter, but of another draft
ADMIN = "admin"
HEAD1 = "head1"  # head of KV1, whose letter is asked for
STAFF1 = "staff1"
HEAD2 = "head2"  # head of KV2, invited too
VERIFIER = "verifier"  # office staff, not invited
EVERYONE = {OWNER, OTHER_DRAFTER, ADMIN, HEAD1, STAFF1, HEAD2, VERIFIER}

# (method, url template, who may, status when allowed)
HTML = [
    ("GET", "/consolidation/{c}", {OWNER, ADMIN}, 200),
    ("POST", "/consolidation/{c}/start", {OWNER}, 302),
    ("GET", "/consolidation/{c}/answer?comment={comment}", {OWNER}, 200),
    ("POST", "/consolidation/{c}/answer", {OWNER}, 302),
    ("GET", "/consolidation/{c}/report.docx", {OWNER, ADMIN}, 200),
    ("GET", "/consolidation/{c}/report.xlsx", {OWNER, ADMIN}, 200),
    ("GET", "/consolidation/responses/{r1}/letter.docx", {OWNER, ADMIN, HEAD1, STAFF1}, 200),
    ("GET", "/consolidation/drafts/{d}/rounds", {OWNER, ADMIN}, 200),
    ("GET", "/consolidation/drafts/{d}/diff", EVERYONE, 200),
    ("GET", "/consolidation/drafts/{d}/comparison.docx", EVERYONE, 200),
    ("GET", "/consolidation/clauses/{clause}/links", {OWNER}, 200),
    ("POST", "/consolidation/clauses/{clause}/links", {OWNER}, 302),
    ("POST", "/consolidation/comments/{comment}/apply-proposal", {OWNER}, 302),
]
API = [
    ("GET", "/api/v1/consultations/{c}/consolidation", {OWNER, ADMIN}, 200),
    ("POST", "/api/v1/consultations/{c}/consolidation/start", {OWNER}, 200),
    ("POST", "/api/v1/consultations/{c}/dispositions", {OWNER}, 200),
    ("GET", "/api/v1/consultations/{c}/report.docx", {OWNER, ADMIN}, 200),
    ("GET", "/api/v1/consultations/{c}/report.xlsx", {OWNER, ADMIN}, 200),
    ("GET", "/api/v1/responses/{r1}/letter.docx", {OWNER, ADMIN, HEAD1, STAFF1}, 200),
    ("GET", "/api/v1/drafts/{d}/rounds", {OWNER, ADMIN}, 200),
    ("GET", "/api/v1/drafts/{d}/diff", EVERYONE, 200),
    ("GET", "/api/v1/drafts/{d}/comparison.docx", EVERYONE, 200),
    ("GET", "/api/v1/versions/{v2}/earlier-comments", EVERYONE, 200),
    ("GET", "/api/v1/clauses/{clause}/change-links", EVERYONE, 200),
    ("PUT", "/api/v1/clauses/{clause}/change-links", {OWNER}, 200),
    ("POST", "/api/v1/clauses/{clause}/change-links", {OWNER}, 200),
    ("DELETE", "/api/v1/clauses/{clause}/change-links/{comment}", {OWNER}, 200),
    ("POST", "/api/v1/comments/{comment}/apply-proposal", {OWNER}, 200),
]


@pytest.fixture
def scene(org, make_round, create_user):  # type: ignore[no-untyped-def]
    rnd = make_round()
    comment = rnd.comment(org.r1, "Điều 2", "Đề nghị bổ sung nguyên tắc khách quan.")
    comment.proposed_text = "Khách quan, tự nguyện, công khai."
    rnd.submit(org.r1)
    version = next_version(
        rnd.draft,
        org.drafter,
        lambda nodes: find_node(nodes, "article", "2").update(text="Khách quan, công khai."),
    )
    clause = next(c for c in version.clauses if c.kind == "article" and c.number == "2")
    people = {
        OWNER: org.drafter,
        OTHER_DRAFTER: create_user(Role.DRAFTER, unit=org.office),
        ADMIN: org.admin,
        HEAD1: org.head1,
        STAFF1: org.staff1,
        HEAD2: org.head2,
        VERIFIER: org.verifier,
    }
    ids = {
        "c": rnd.consultation.id,
        "d": rnd.draft.id,
        "r1": rnd.response(org.r1).id,
        "comment": comment.id,
        "clause": clause.id,
        "v2": version.id,
    }
    db.session.commit()
    return people, ids


def body_for(method: str, url: str, ids: dict) -> dict:  # type: ignore[type-arg]
    if url.endswith("/answer"):
        return {"data": {"comment": [ids["comment"]], "decision": "tiep_thu", "explanation": ""}}
    if url.endswith("/links") and method == "POST":
        return {"data": {"comments": [ids["comment"]]}}
    if url.endswith("/dispositions"):
        return {"json": {"comment_ids": [ids["comment"]], "decision": "tiep_thu"}}
    if url.endswith("/change-links") and method in ("PUT", "POST"):
        return {"json": {"comment_ids": [ids["comment"]]}}
    return {}


def test_every_consolidation_route_is_in_a_matrix(app):
    listed = {url.split("?")[0] for _m, url, _w, _s in HTML + API}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("consolidation.", "consolidation_api.")):
            template = rule.rule
            for name in (
                "consultation_id",
                "draft_id",
                "response_id",
                "clause_id",
                "version_id",
                "comment_id",
            ):
                short = {
                    "consultation_id": "c",
                    "draft_id": "d",
                    "response_id": "r1",
                    "clause_id": "clause",
                    "version_id": "v2",
                    "comment_id": "comment",
                }[name]
                template = template.replace(f"<int:{name}>", "{" + short + "}")
            assert template in listed, f"{rule.rule} has no row in the matrix"


@pytest.mark.parametrize("who", sorted(EVERYONE))
@pytest.mark.parametrize(("method", "url", "allowed", "status"), HTML)
def test_html_route_by_role(client, auth, scene, who, method, url, allowed, status):
    people, ids = scene
    auth.login(people[who])

    response = client.open(url.format(**ids), method=method, **body_for(method, url, ids))

    assert response.status_code == (status if who in allowed else 403), response.get_data(
        as_text=True
    )[:400]


@pytest.mark.parametrize("who", sorted(EVERYONE))
@pytest.mark.parametrize(("method", "url", "allowed", "status"), API)
def test_api_route_by_role(api, scene, who, method, url, allowed, status):
    people, ids = scene

    response = api(people[who])._call(method, url.format(**ids), **body_for(method, url, ids))

    expected = status if who in allowed else 403
    assert response.status_code == expected, response.get_data(as_text=True)[:400]


@pytest.mark.parametrize(("method", "url", "_allowed", "_status"), HTML)
def test_anonymous_is_sent_to_login(client, scene, method, url, _allowed, _status):
    _people, ids = scene

    response = client.open(url.format(**ids), method=method)

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_api_without_token_is_401(client, scene):
    _people, ids = scene
    for _method, url, _w, _s in API:
        if _method == "GET":
            assert client.get(url.format(**ids)).status_code == 401
