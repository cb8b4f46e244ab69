"""Route × role × ownership for the scoring pages and their API twins.

Every /scoring route is listed; a test fails when a new one is added without
deciding who may use it.
"""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from accounts.models import AuditEntry, Role
from app import db
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.workflow import place, put_scores, sheet_of
from workflow import operations
from workflow.models import AdjustmentKind, Evidence, ScoreSheet, ScoreStage
from workflow.queries import load_criteria

# Publication is tried by every role in test_workflow_publication.py.
PUBLICATION = "/scoring/periods/{period}/actions/{action}"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
USERS = (
    "staff2",
    "head2",
    "head1",
    "staff1",
    "head3",
    "head4",
    "verifier",
    "council",
    "admin",
    "drafter",
)
UNIT = {"staff2", "head2"}
# Who may see KV2's sheet: its unit, its Cụm trưởng (head of KV1), the office, the council.
VIEWERS = UNIT | {"head1", "verifier", "council", "admin"}
# Before publication (see test_workflow_publication.py for after).
RESULTS = {"verifier", "council", "admin"}
OFFICE = {"verifier", "admin"}

GET_MATRIX = [
    ("/scoring/", set(USERS)),
    ("/scoring/periods/new", {"verifier", "admin"}),
    # Everyone with a sheet in the period sees the period (and only the sheets they may).
    ("/scoring/periods/{period}", set(USERS) - {"drafter"}),
    ("/scoring/periods/{period}/groups/{cluster1}", {"head1", "head2", *RESULTS}),
    ("/scoring/periods/{period}/verification", {"verifier", "admin"}),
    ("/scoring/periods/{period}/results", RESULTS),
    ("/scoring/periods/{period}/results.xlsx", RESULTS),
    ("/scoring/periods/{period}/results.pdf", RESULTS),
    ("/scoring/periods/{period}/results.xlsx?group={cluster1}", RESULTS),
    ("/scoring/periods/{period}/bands", RESULTS),
    ("/scoring/sheets/{sheet}", VIEWERS),
    ("/scoring/sheets/{sheet}/history", VIEWERS),
    ("/scoring/sheets/{sheet}/export.xlsx", VIEWERS),
    ("/scoring/sheets/{sheet}/export.pdf", VIEWERS),
    ("/scoring/evidence/{evidence}", VIEWERS),
]
# (url, state the KV2 sheet is in, who may, form data, status when allowed)
POST_MATRIX = [
    ("/scoring/sheets/{sheet}/scores", "self_scoring", UNIT, "scores", 303),
    ("/scoring/sheets/{sheet}/actions/submit", "self_scoring", {"head2"}, {}, 303),
    ("/scoring/sheets/{sheet}/actions/return", "submitted", {"head1"}, {"note": "Bổ sung"}, 303),
    ("/scoring/sheets/{sheet}/confirm", "submitted", {"head1"}, {}, 303),
    (
        "/scoring/sheets/{sheet}/adjustments",
        "self_scoring",
        UNIT,
        {"row": "{bonus_row}", "points": "1", "reason": "Sáng kiến"},
        303,
    ),
    (
        "/scoring/sheets/{sheet}/adjustments",
        "submitted",
        {"head1"},
        {"row": "{deduction_row}", "points": "0,5", "reason": "Chậm báo cáo quý IV"},
        303,
    ),
    ("/scoring/adjustments/{adjustment}/delete", "self_scoring", UNIT, {}, 303),
    (
        "/scoring/periods/{period}/bands",
        "self_scoring",
        OFFICE,
        {
            "bands-0-name": "Tốt",
            "bands-0-min_points": "80",
            "bands-1-name": "Khác",
            "bands-1-min_points": "0",
            "save": "1",
        },
        303,
    ),
    ("/scoring/sheets/{sheet}/evidence", "self_scoring", UNIT, "upload", 303),
    ("/scoring/evidence/{evidence}/delete", "self_scoring", UNIT, {}, 303),
    (
        "/scoring/sheets/{sheet}/deadline",
        "self_scoring",
        {"verifier"},
        {"due_date": "2026-11-28", "reason": "Đơn vị đề nghị"},
        303,
    ),
    (
        "/scoring/sheets/{sheet}/disqualify",
        "verified",
        {"verifier", "council"},
        {"condition": "{condition}", "note": ""},
        303,
    ),
    ("/scoring/sheets/{sheet}/requalify", "verified", {"verifier", "council"}, {}, 303),
]


@pytest.fixture
def scene(org, open_period, create_unit, create_user, create_group):  # type: ignore[no-untyped-def]
    """The org's Cụm 1 (KV1 leads) and a Cụm 2 led by KV4, all in one period."""
    r4, r5 = (
        create_unit("Viện kiểm sát nhân dân khu vực 4", "KV4"),
        create_unit("Viện kiểm sát nhân dân khu vực 5", "KV5"),
    )
    cluster2 = create_group([r4, r5], name="Cụm thi đua số 2", leader=r4, deputy=r5)
    org.head4 = create_user(Role.UNIT_HEAD, unit=r4, username="head4")
    org.head5 = create_user(Role.UNIT_HEAD, unit=r5, username="head5")
    period = open_period(units=[org.r1, org.r2, org.r3, r4, r5])
    sheet = sheet_of(period, org.r2)
    put_scores(sheet, ScoreStage.SELF)
    place(sheet, "self_scoring")
    evidence = operations.upload_evidence(sheet, None, "Báo cáo.pdf", PDF, org.staff2)
    item = operations.add_adjustment(
        sheet, AdjustmentKind.DEDUCTION, "1", "Chậm báo cáo", org.staff2
    )
    db.session.commit()
    rows = {r.kind.value: r.key for r in load_criteria(period.criteria_version_id).adjustment_rows}
    ids = {
        "period": period.id,
        "sheet": sheet.id,
        "evidence": evidence.id,
        "adjustment": item.id,
        "bonus_row": f"bonus:{rows['bonus']}",
        "deduction_row": f"deduction:{rows['deduction']}",
        "cluster1": org.cluster.id,
        "cluster2": cluster2.id,
        "kv5": sheet_of(period, r5).id,
        "condition": period.disqualifiers[0],
    }
    return org, ids


def sheet_audits() -> int:
    # Signing in writes audit rows of its own; count only the sheet's and the period's.
    return db.session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(AuditEntry.action.like("sheet.%") | AuditEntry.action.like("period.%"))
    )


def login(client, username: str) -> None:  # type: ignore[no-untyped-def]
    client.post("/logout")
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, username


def test_every_scoring_route_is_in_the_matrix(app):
    listed = {url.split("?")[0] for url, _ in GET_MATRIX} | {url for url, *_ in POST_MATRIX}
    listed |= {PUBLICATION}
    listed = {
        re.sub(r"/actions/\w+$", "/actions/<>", re.sub(r"\{\w+\}", "<>", url)) for url in listed
    }
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("workflow."):
            shape = re.sub(r"<[^>]+>", "<>", rule.rule)
            assert shape in listed, f"{rule.rule} has no row in the matrix"


@pytest.mark.parametrize(("url", "allowed"), GET_MATRIX, ids=[u for u, _ in GET_MATRIX])
def test_get_routes_by_role(client, scene, url, allowed):
    _org, ids = scene
    target = url.format(**ids)
    assert client.get(target).status_code == 302  # not logged in: to the login page
    for username in USERS:
        login(client, username)
        status = client.get(target).status_code
        assert status == (200 if username in allowed else 403), (username, status)


def _form(data, ids, scene_org):  # type: ignore[no-untyped-def]
    if data == "upload":
        return {"lineage": "", "file": (io.BytesIO(PDF), "Minh chứng.pdf")}
    if data == "scores":
        sheet = db.session.get(ScoreSheet, ids["sheet"])
        score = sheet.scores[0]
        return {
            "stage": "self",
            f"score-{score.lineage}": "1",
            f"lock-{score.lineage}": str(score.lock_version),
        }
    return {key: value.format(**ids) for key, value in data.items()}


@pytest.mark.parametrize(
    ("url", "state", "allowed", "data", "ok"), POST_MATRIX, ids=[r[0] for r in POST_MATRIX]
)
def test_post_routes_by_role(client, scene, url, state, allowed, data, ok):
    org, ids = scene
    sheet = db.session.get(ScoreSheet, ids["sheet"])
    put_scores(sheet, ScoreStage.CLUSTER, {"1.1": "9"})  # the Cụm has started scoring
    place(sheet, state)
    if "requalify" in url:
        sheet.disqualifier = ids["condition"]
        db.session.commit()
    target = url.format(**ids)
    audits = sheet_audits()
    for username in USERS:
        if username in allowed:
            continue
        login(client, username)
        response = client.post(
            target, data=_form(data, ids, org), content_type="multipart/form-data"
        )
        assert response.status_code == 403, (username, response.status_code)
    db.session.expire_all()
    assert sheet_audits() == audits
    assert db.session.get(ScoreSheet, ids["sheet"]).state == state

    login(client, sorted(allowed)[0])
    response = client.post(target, data=_form(data, ids, org), content_type="multipart/form-data")
    assert response.status_code == ok
    db.session.expire_all()
    assert sheet_audits() > audits


def test_a_cluster_leader_cannot_review_another_clusters_sheet(client, api, scene):
    org, ids = scene
    kv5 = db.session.get(ScoreSheet, ids["kv5"])
    put_scores(kv5, ScoreStage.SELF)
    put_scores(kv5, ScoreStage.CLUSTER)
    place(kv5, "submitted")
    login(client, "head1")
    assert client.get(f"/scoring/sheets/{kv5.id}").status_code == 403
    assert client.post(f"/scoring/sheets/{kv5.id}/actions/review").status_code == 403
    assert (
        client.get(f"/scoring/periods/{ids['period']}/groups/{ids['cluster2']}").status_code == 403
    )
    response = api(org.head1).post(
        f"/api/v1/scoring/sheets/{kv5.id}/actions", json={"action": "review"}
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(ScoreSheet, kv5.id).state == "submitted"

    login(client, "head4")
    assert client.post(f"/scoring/sheets/{kv5.id}/actions/review").status_code == 303
    db.session.expire_all()
    assert db.session.get(ScoreSheet, kv5.id).state == "cluster_scored"


@pytest.mark.parametrize("username", USERS)
def test_evidence_download_through_the_api(api, scene, username):
    org, ids = scene
    user = {"head4": org.head4}.get(username) or getattr(org, username)
    response = api(user).get(f"/api/v1/scoring/evidence/{ids['evidence']}")
    if username in VIEWERS:
        assert response.status_code == 200
        assert response.data == PDF
        assert response.headers["Content-Disposition"].startswith("attachment")
    else:
        assert response.status_code == 403
        assert response.json["error"]["code"] == "forbidden"


def test_evidence_is_stored_outside_static_under_a_generated_name(app, scene):
    _org, ids = scene
    evidence = db.session.get(Evidence, ids["evidence"])
    path = operations.evidence_path(evidence)
    assert path.read_bytes() == PDF
    assert str(path).startswith(app.config["UPLOAD_DIR"])
    assert "static" not in path.parts and "Báo cáo" not in path.name
    assert evidence.filename == "Báo cáo.pdf"
