"""Publishing a period's results, and who sees which results before and after.

Before publication the office, the council and admins see every unit; units and the
drafters see no results at all. The council publishes once every sheet is approved (a
transition of the period, with its audit row). After it each unit sees its own total,
its rank in its Cụm/Khối, its classification and its per-criterion breakdown, and the
drafters see every unit. The pages and the API answer the same, for every role.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from accounts.models import AuditEntry, Role
from app import db
from tasks.models import Notification
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.workflow import place, put_item, put_scores, sheet_of
from tests.test_workflow_pages import assert_official_pdf, pdf_pages_text
from workflow.models import PeriodTransition, ScoreStage, ScoringPeriod

# Verified columns: KV1 96 (first in Cụm 1), KV2 91 (+2,5 bonus = 93,5), KV3 80;
# in Cụm 2, KV4 70 and KV5 55.
SCORES = {
    "r1": {"1.1": "10", "1.2": "15", "2": "35", "II": "36"},
    "r2": {"1.1": "10", "1.2": "15", "2": "30", "II": "36"},
    "r3": {"1.1": "5", "1.2": "10", "2": "30", "II": "35"},
    "r4": {"1.1": "5", "1.2": "10", "2": "25", "II": "30"},
    "r5": {"1.1": "5", "1.2": "5", "2": "20", "II": "25"},
}
USERS = ("staff2", "head2", "head1", "head4", "verifier", "council", "admin", "drafter")
EVERY_UNIT_ALWAYS = {"verifier", "council", "admin"}


@pytest.fixture
def scene(org, open_period, create_unit, create_user, create_group):  # type: ignore[no-untyped-def]
    org.r4 = create_unit("Viện kiểm sát nhân dân khu vực 4", "KV4")
    org.r5 = create_unit("Viện kiểm sát nhân dân khu vực 5", "KV5")
    org.cluster2 = create_group([org.r4, org.r5], name="Cụm thi đua số 2", leader=org.r4)
    org.head4 = create_user(Role.UNIT_HEAD, unit=org.r4, username="head4")
    period = open_period(units=[org.r1, org.r2, org.r3, org.r4, org.r5])
    for name, values in SCORES.items():
        sheet = sheet_of(period, getattr(org, name))
        put_scores(sheet, ScoreStage.SELF, values)
        place(sheet, "approved")
    put_item(sheet_of(period, org.r2), "bonus", {ScoreStage.SELF: "2,5"})
    return org, period


def login(client, username: str) -> None:  # type: ignore[no-untyped-def]
    client.post("/logout")
    assert (
        client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    )


def user(org, username: str):  # type: ignore[no-untyped-def]
    return getattr(org, username)


def result_units(page: str) -> list[str]:
    return re.findall(r'id="result-\d+">\s*<th scope="row"><a [^>]*>([^<]+)</a>', page)


def publish(api, org, period) -> None:  # type: ignore[no-untyped-def]
    response = api(org.council).post(
        f"/api/v1/scoring/periods/{period.id}/actions", json={"action": "publish"}
    )
    assert response.status_code == 200, response.json
    assert response.json["state"] == "published"


def test_before_publication_only_the_office_the_council_and_admins_see_results(client, api, scene):
    org, period = scene
    for username in USERS:
        login(client, username)
        page = client.get(f"/scoring/periods/{period.id}/results")
        from_api = api(user(org, username)).get(f"/api/v1/scoring/periods/{period.id}/results")
        if username in EVERY_UNIT_ALWAYS:
            assert page.status_code == 200 and from_api.status_code == 200
            assert len(result_units(page.get_data(as_text=True))) == 5
            assert len(from_api.json["rows"]) == 5 and from_api.json["published"] is False
        else:
            assert (page.status_code, from_api.status_code) == (403, 403), username
    # A unit still sees its own sheet, not another unit's.
    login(client, "staff2")
    assert client.get(f"/scoring/sheets/{sheet_of(period, org.r2).id}").status_code == 200
    assert client.get(f"/scoring/sheets/{sheet_of(period, org.r1).id}").status_code == 403


@pytest.mark.parametrize("username", USERS)
def test_only_the_council_publishes(client, api, scene, username):
    org, period = scene
    login(client, username)
    web = client.post(f"/scoring/periods/{period.id}/actions/publish")
    if username != "council":
        assert web.status_code == 403
        response = api(user(org, username)).post(
            f"/api/v1/scoring/periods/{period.id}/actions", json={"action": "publish"}
        )
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden"
        db.session.expire_all()
        assert db.session.get(ScoringPeriod, period.id).state == "scoring"
        return
    assert web.status_code == 303
    db.session.expire_all()
    published = db.session.get(ScoringPeriod, period.id)
    assert published.state == "published" and published.published_at is not None
    moves = db.session.scalars(select(PeriodTransition)).all()
    assert [(m.action, m.source, m.target, m.actor_id) for m in moves] == [
        ("publish", "scoring", "published", org.council.id)
    ]
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "period.publish"))
    assert audit.one().object_id == period.id


def test_publication_waits_for_every_sheet_to_be_approved(api, scene):
    org, period = scene
    place(sheet_of(period, org.r3), "verified")
    response = api(org.council).post(
        f"/api/v1/scoring/periods/{period.id}/actions", json={"action": "publish"}
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "guard_failed"
    assert "Còn 1 phiếu chưa được Hội đồng công nhận: KV3" in response.json["error"]["message"]
    db.session.expire_all()
    assert db.session.get(ScoringPeriod, period.id).state == "scoring"
    assert db.session.scalars(select(PeriodTransition)).all() == []


def test_after_publication_each_unit_sees_its_own_result_and_the_drafter_every_unit(
    client, api, scene
):
    org, period = scene
    publish(api, org, period)
    results = f"/scoring/periods/{period.id}/results"

    # KV2's people: their own row, rank in the Cụm, classification, the breakdown.
    for username in ("staff2", "head2"):
        login(client, username)
        page = client.get(results).get_data(as_text=True)
        assert result_units(page) == [org.r2.name]
        row = page.split('id="result-')[1].split("</tr>")[0]
        assert ">93,5<" in row and 'data-figure="group-rank">2<' in row
        assert "Tập thể lao động xuất sắc" in row
        assert 'data-figure="overall-rank"' not in page  # the province-wide order is not theirs
        breakdown = page.split('id="breakdown"')[1]
        assert "I.1.1. Giải quyết tố giác, tin báo đạt từ 90% trở lên" in breakdown
        assert "Bằng khen của Chủ tịch UBND tỉnh" in breakdown
        assert org.r1.name not in page and org.r3.name not in page
        assert "results.xlsx" not in page
        assert client.get(f"{results}.xlsx").status_code == 403
        assert client.get(f"/scoring/sheets/{sheet_of(period, org.r3).id}").status_code == 403
        from_api = api(user(org, username)).get(f"/api/v1{results}").json
        assert [(r["unit"], r["final"], r["group_rank"], r["overall_rank"]) for r in
                from_api["rows"]] == [(org.r2.name, "93,5", 2, None)]  # fmt: skip

    # Another Cụm's leader sees its own unit only.
    login(client, "head4")
    assert result_units(client.get(results).get_data(as_text=True)) == [org.r4.name]

    # The drafter sees every unit, their sheets and the documents.
    login(client, "drafter")
    page = client.get(results).get_data(as_text=True)
    assert sorted(result_units(page)) == sorted(
        getattr(org, name).name for name in ("r1", "r2", "r3", "r4", "r5")
    )
    assert client.get(f"/scoring/sheets/{sheet_of(period, org.r1).id}").status_code == 200
    book = load_workbook(io.BytesIO(client.get(f"{results}.xlsx").data))
    assert book["Xếp hạng"].max_row == 4 + 5
    assert client.get(f"{results}.pdf").data.startswith(b"%PDF")
    assert len(api(org.drafter).get(f"/api/v1{results}").json["rows"]) == 5

    # Each unit was told its own result; the drafters and the office that results are out.
    notices = db.session.scalars(
        select(Notification).where(Notification.kind == "scoring.publish")
    ).all()
    by_user = {notice.user_id: notice for notice in notices}
    assert "Tổng điểm: 93,5" in by_user[org.staff2.id].body
    assert "Xếp hạng trong Cụm thi đua số 1: 2" in by_user[org.head2.id].body
    assert "Xếp loại: Tập thể lao động xuất sắc" in by_user[org.head2.id].body
    assert "Tổng điểm: 96" in by_user[org.head1.id].body
    assert "Kết quả của 5 đơn vị" in by_user[org.drafter.id].body
    assert org.verifier.id in by_user


def test_published_results_are_frozen_until_the_council_withdraws_them(client, api, scene):
    org, period = scene
    publish(api, org, period)
    base = f"/api/v1/scoring/periods/{period.id}"
    sheet = sheet_of(period, org.r1)
    refused = api(org.verifier).post(
        f"/api/v1/scoring/sheets/{sheet.id}/disqualification",
        json={"condition": period.disqualifiers[0]},
    )
    assert refused.status_code == 403
    bands = {
        "bands": [{"label": "Đạt", "min_points": "50"}, {"label": "Chưa đạt", "min_points": "0"}]
    }
    assert api(org.verifier).put(f"{base}/bands", json=bands).status_code == 403

    no_reason = api(org.council).post(f"{base}/actions", json={"action": "unpublish"})
    assert no_reason.status_code == 422 and no_reason.json["error"]["code"] == "note_required"
    withdrawn = api(org.council).post(
        f"{base}/actions", json={"action": "unpublish", "note": "Xem lại điều kiện loại trừ"}
    )
    assert withdrawn.status_code == 200 and withdrawn.json["state"] == "scoring"
    assert withdrawn.json["published_at"] is None
    assert api(org.head2).get(f"{base}/results").status_code == 403
    assert api(org.verifier).put(f"{base}/bands", json=bands).status_code == 200
    moves = db.session.scalars(select(PeriodTransition.action).order_by(PeriodTransition.id))
    assert moves.all() == ["publish", "unpublish"]
    login(client, "council")
    page = client.get(f"/scoring/periods/{period.id}").get_data(as_text=True)
    assert "Xem lại điều kiện loại trừ" in page  # the period's publication history


@time_machine.travel(datetime(2026, 12, 4, 3, 0, tzinfo=UTC), tick=False)
def test_results_of_one_cum_khoi_are_official_documents_with_api_twins(  # type: ignore[no-untyped-def]
    client, api, scene, tmp_path
):
    org, period = scene
    publish(api, org, period)
    login(client, "council")
    web = f"/scoring/periods/{period.id}/results"
    twin = f"/api/v1/scoring/periods/{period.id}/results"
    inside = {org.r4.name, org.r5.name}
    outside = {org.r1.name, org.r2.name, org.r3.name}
    for response in (
        client.get(f"{web}.pdf?group={org.cluster2.id}"),
        api(org.council).get(f"{twin}.pdf?group_id={org.cluster2.id}"),
    ):
        assert response.status_code == 200 and response.mimetype == "application/pdf"
        assert "cum-thi-dua-so-2" in response.headers["Content-Disposition"]
        pages = pdf_pages_text(response.data, tmp_path)
        assert_official_pdf(
            pages,
            "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG",
            "KẾT QUẢ CHẤM ĐIỂM, XẾP LOẠI THI ĐUA",
            ["VIỆN TRƯỞNG"],
        )
        text = "\n".join(pages)
        assert "Năm 2026 — Cụm thi đua số 2" in text
        assert all(name in text for name in inside)
        assert not any(name in text for name in outside)
    for response in (
        client.get(f"{web}.xlsx?group={org.cluster2.id}"),
        api(org.council).get(f"{twin}.xlsx?group_id={org.cluster2.id}"),
    ):
        assert response.status_code == 200
        assert "cum-thi-dua-so-2" in response.headers["Content-Disposition"]
        ranking = load_workbook(io.BytesIO(response.data))["Xếp hạng"]
        assert "CỤM THI ĐUA SỐ 2" in ranking["A1"].value
        rows = list(ranking.iter_rows(min_row=5, values_only=True))
        # KV4 70 first, KV5 55 second, ranked within their Cụm.
        assert [(row[1], row[9]) for row in rows] == [(org.r4.name, 1), (org.r5.name, 2)]
    # The page links each Cụm/Khối's documents; a Cụm of another year is not found.
    page = client.get(web).get_data(as_text=True)
    assert f"results.pdf?group={org.cluster2.id}" in page
    assert f"results.xlsx?group={org.cluster2.id}" in page
    assert client.get(f"{web}.pdf?group=999999").status_code == 404
    assert client.get(f"{web}.xlsx?group=abc").status_code == 422  # not a number
    assert api(org.council).get(f"{twin}.xlsx?group_id=999999").status_code == 404
    spec = client.get("/api/v1/openapi.json").get_json()
    for extension in ("pdf", "xlsx"):
        operation = spec["paths"][f"/api/v1/scoring/periods/{{period_id}}/results.{extension}"][
            "get"
        ]
        assert any(p["name"] == "group_id" for p in operation["parameters"])
