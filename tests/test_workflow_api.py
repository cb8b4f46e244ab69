"""The scoring API: the same operations as the pages, as JSON."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from extensions import db
from tests import sheets
from tests.fixtures.workflow import codes_to_keys, place, put_scores, sheet_of
from workflow.models import ScoreSheet, ScoreStage, ScoringPeriod

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DEADLINES = {"self": "20/11/2026", "cluster": "27/11/2026", "office": "2026-12-05",
             "council": "2026-12-15T17:00:00+07:00"}  # fmt: skip


def test_the_office_opens_a_period_and_a_unit_head_cannot(org, api, adopted_criteria):
    body = {"draft_id": adopted_criteria.id, "name": "Năm 2026", "year": 2026,
            "unit_ids": [org.r1.id, org.r2.id], "deadlines": DEADLINES, "bonus_cap": "3,5",
            "disqualifiers": ["Để xảy ra tham nhũng"]}  # fmt: skip
    refused = api(org.head1).post("/api/v1/scoring/periods", json=body)
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"

    response = api(org.verifier).post("/api/v1/scoring/periods", json=body)
    assert response.status_code == 201, response.json
    period = response.json
    assert [s["key"] for s in period["steps"]] == ["self", "cluster", "office", "council"]
    assert period["deadlines"]["self"] == "2026-11-20T16:59:59+00:00"
    assert period["deadlines"]["council"] == "2026-12-15T10:00:00+00:00"
    assert period["bonus_cap"] == "3,5" and period["stages"] == ["self", "cluster", "verified"]
    assert api(org.verifier).get("/api/v1/scoring/periods").json["items"][0]["id"] == period["id"]

    # Units see only their own sheet in the list; the office sees all.
    own = api(org.staff2).get(f"/api/v1/scoring/periods/{period['id']}/sheets").json["items"]
    assert [s["unit"] for s in own] == ["Viện kiểm sát nhân dân khu vực 2"]
    assert len(api(org.verifier).get(f"/api/v1/scoring/periods/{period['id']}/sheets")
               .json["items"]) == 2  # fmt: skip


def test_custom_steps_and_bands_through_the_api(org, api, adopted_criteria):
    body = {
        "draft_id": adopted_criteria.id, "name": "6 tháng đầu năm 2026", "year": 2026,
        "steps": ["self", {"key": "block", "title": "Khối bình xét", "action": "block_review",
                           "action_label": "Hoàn thành bình xét", "done_state": "block_reviewed",
                           "done_label": "Khối đã bình xét"}, "council"],
        "reviewers": {"block": "group"},
        "deadlines": {"self": "20/05/2026", "block": "25/05/2026", "council": "01/06/2026"},
        "bands": [{"key": "good", "label": "Hoàn thành tốt", "min_fraction": "0,8"},
                  {"key": "rest", "label": "Hoàn thành", "min_fraction": "0"}],
        "disqualified_cap": "rest",
    }  # fmt: skip
    response = api(org.admin).post("/api/v1/scoring/periods", json=body)
    assert response.status_code == 201, response.json
    period = db.session.get(ScoringPeriod, response.json["id"])
    assert period.steps_config[1]["key"] == "block"
    assert period.machine().states[-1] == "approved"
    assert period.stages == (ScoreStage.SELF, ScoreStage.CLUSTER)
    bands = period.bands_for(Decimal(100)).bands
    assert [(band.label, band.min_points) for band in bands] == [
        ("Hoàn thành tốt", 80),
        ("Hoàn thành", 0),
    ]

    body["name"], body["steps"] = "Quý III", ["self", "nonsense"]
    bad = api(org.admin).post("/api/v1/scoring/periods", json=body)
    assert bad.status_code == 422 and "nonsense" in bad.json["error"]["message"]
    # A step table's fault reads in the caller's language too.
    body["steps"] = ["self", "cluster", "cluster"]
    bad = api(org.admin).post(
        "/api/v1/scoring/periods", json=body, headers={"Accept-Language": "en"}
    )
    assert bad.status_code == 422
    assert bad.json["error"]["message"] == "Two steps have the same key."


def test_save_scores_with_lock_versions_then_a_stale_save_is_409(org, api, open_period):
    sheet = sheet_of(open_period(), org.r2)
    keys = codes_to_keys(sheet.period)
    url = f"/api/v1/scoring/sheets/{sheet.id}/scores"
    first = api(org.staff2).patch(url, json={"stage": "self", "scores": [
        {"lineage": keys["1.1"], "value": "9,5", "lock_version": 0, "note": "Đạt 99%"},
        {"lineage": keys["II"], "value": "40", "lock_version": 0},
    ]})  # fmt: skip
    assert first.status_code == 200, first.json
    row = next(c for c in first.json["criteria"] if c["code"] == "I.1.1")
    assert row["number"] == "1.1"
    assert row["scores"]["self"] == {
        "value": "9,5", "note": "Đạt 99%", "lock_version": 1, "by": org.staff2.full_name
    }  # fmt: skip
    assert first.json["totals"]["self"]["final"] == "49,5"
    # Codes are unique across the table: the group's code comes first.
    assert first.json["totals"]["self"]["missing"] == ["I.1.2", "I.2"]
    assert first.json["sheet"]["state"] == "self_scoring"

    stale = api(org.head2).patch(url, json={"stage": "self", "scores": [
        {"lineage": keys["1.1"], "value": "8", "lock_version": 0}]})  # fmt: skip
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "conflict"
    assert stale.json["error"]["details"]["conflicts"] == [keys["1.1"]]

    bad = api(org.head2).patch(url, json={"stage": "self", "scores": [
        {"lineage": keys["1.1"], "value": "10,5", "lock_version": 1}]})  # fmt: skip
    assert bad.status_code == 422 and "từ 0 đến 10" in bad.json["error"]["message"]
    cluster = api(org.head1).patch(url, json={"stage": "cluster", "scores": [
        {"lineage": keys["1.1"], "value": "8", "lock_version": 0}]})  # fmt: skip
    assert cluster.status_code == 403


def test_actions_history_and_results_through_the_api(org, api, open_period):
    period = open_period()
    sheet = sheet_of(period, org.r2)
    put_scores(sheet, ScoreStage.SELF)
    place(sheet, "self_scoring")
    url = f"/api/v1/scoring/sheets/{sheet.id}/actions"
    assert api(org.staff2).post(url, json={"action": "submit"}).status_code == 403
    submitted = api(org.head2).post(url, json={"action": "submit", "note": "Kính trình Cụm"})
    assert submitted.status_code == 200 and submitted.json["state"] == "submitted"
    assert submitted.json["current_step"] == "cluster"

    no_reason = api(org.head1).post(url, json={"action": "return"})
    assert no_reason.status_code == 422 and no_reason.json["error"]["code"] == "note_required"
    wrong_state = api(org.head1).post(url, json={"action": "approve"})
    assert wrong_state.status_code == 409
    assert wrong_state.json["error"]["code"] == "illegal_transition"
    returned = api(org.head1).post(url, json={"action": "return", "note": "Thiếu minh chứng"})
    assert returned.json["returned"] is True and returned.json["state"] == "self_scoring"

    history = api(org.staff2).get(f"/api/v1/scoring/sheets/{sheet.id}/history").json
    assert [(t["action"], t["note"]) for t in history["transitions"]] == [
        ("submit", "Kính trình Cụm"),
        ("return", "Thiếu minh chứng"),
    ]

    put_scores(sheet, ScoreStage.VERIFIED)
    results = api(org.council).get(f"/api/v1/scoring/periods/{period.id}/results")
    assert results.status_code == 200
    top = results.json["rows"][0]
    assert (top["unit"], top["final"], top["group_rank"]) == (
        "Viện kiểm sát nhân dân khu vực 2",
        "100",
        1,
    )
    assert top["classification"] == "Xuất sắc, đề nghị Cờ thi đua"
    assert api(org.head2).get(f"/api/v1/scoring/periods/{period.id}/results").status_code == 403


def test_confirm_adjustments_deadline_and_disqualification(org, api, open_period):
    period = open_period()
    sheet = sheet_of(period, org.r2)
    put_scores(sheet, ScoreStage.SELF)
    put_scores(sheet, ScoreStage.CLUSTER, {"1.1": "9", "1.2": "15", "2": "35", "II": "40"})
    place(sheet, "cluster_scored")
    base = f"/api/v1/scoring/sheets/{sheet.id}"
    item = api(org.verifier).post(f"{base}/adjustments", json={
        "kind": "deduction", "points": "0,5", "reason": "Chậm gửi báo cáo"})  # fmt: skip
    assert item.status_code == 201 and item.json["stage"] == "verified"
    assert item.json["held"] == {"self": None, "cluster": None, "verified": "0,5"}
    confirmed = api(org.verifier).post(f"{base}/confirm")
    assert confirmed.status_code == 200 and confirmed.json["filled"] == 4
    sheet_json = api(org.verifier).get(base).json
    assert sheet_json["totals"]["verified"]["final"] == "98,5"
    assert sheet_json["totals"]["cluster"]["final"] == "99"
    assert [a["reason"] for a in sheet_json["adjustments"]] == ["Chậm gửi báo cáo"]
    removed = api(org.verifier).delete(f"/api/v1/scoring/adjustments/{item.json['id']}")
    assert removed.status_code == 204
    assert api(org.verifier).get(base).json["totals"]["verified"]["final"] == "99"

    extended = api(org.verifier).post(f"{base}/deadline", json={
        "due": "10/12/2026", "reason": "Chờ kết quả thanh tra"})  # fmt: skip
    assert extended.status_code == 200
    assert extended.json["due_at"] == "2026-12-10T16:59:59+00:00"
    assert api(org.head1).post(f"{base}/deadline", json={
        "due": "11/12/2026", "reason": "x"}).status_code == 403  # fmt: skip

    marked = api(org.council).post(f"{base}/disqualification", json={
        "condition": period.disqualifiers[0], "note": "Quyết định số 5"})  # fmt: skip
    assert marked.json["disqualifier"] == period.disqualifiers[0]
    assert api(org.council).delete(f"{base}/disqualification").json["disqualifier"] is None


def test_evidence_upload_download_delete_and_exports(org, api, open_period):
    sheet = sheet_of(open_period(), org.r2)
    base = f"/api/v1/scoring/sheets/{sheet.id}"
    uploaded = api(org.staff2).post(
        f"{base}/evidence",
        data={"file": (io.BytesIO(PDF), "Báo cáo tổng kết.pdf"),
              "lineage": codes_to_keys(sheet.period)["2"]},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert uploaded.status_code == 201, uploaded.json
    assert uploaded.json["filename"] == "Báo cáo tổng kết.pdf"
    url = f"/api/v1/scoring/evidence/{uploaded.json['id']}"
    assert api(org.staff3).get(url).status_code == 403
    assert api(org.head1).get(url).data == PDF
    assert api(org.head1).delete(url).status_code == 403
    assert api(org.staff2).delete(url).status_code == 204
    assert db.session.get(ScoreSheet, sheet.id).evidence == []

    xlsx = api(org.staff2).get(f"{base}/export.xlsx")
    assert xlsx.status_code == 200
    assert "PHIẾU CHẤM ĐIỂM THI ĐUA" in sheets.texts(load_workbook(io.BytesIO(xlsx.data)).active)
    assert api(org.staff2).get(f"{base}/export.pdf").data.startswith(b"%PDF")
    results = api(org.verifier).get(f"/api/v1/scoring/periods/{sheet.period_id}/results.xlsx")
    assert load_workbook(io.BytesIO(results.data)).sheetnames == ["Xếp hạng", "Chi tiết"]
    assert api(org.staff3).get(f"{base}/export.pdf").status_code == 403


def test_unknown_sheets_are_404_json(org, api):
    response = api(org.verifier).get("/api/v1/scoring/sheets/999")
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    assert api(org.verifier).get("/api/v1/scoring/periods/999/results").status_code == 404


def test_queue_filter_and_the_cluster_comparison(org, api, open_period):
    period = open_period()
    kv2, kv3 = sheet_of(period, org.r2), sheet_of(period, org.r3)
    put_scores(kv2, ScoreStage.SELF, {"1.1": "9,5", "1.2": "15", "2": "30", "II": "40"})
    put_scores(kv2, ScoreStage.CLUSTER, {"1.1": "9", "1.2": "15", "2": "30", "II": "40"})
    place(kv2, "cluster_scored")
    place(kv3, "submitted")
    sheets = f"/api/v1/scoring/periods/{period.id}/sheets"
    queue = api(org.verifier).get(f"{sheets}?step=office").json["items"]
    assert [s["unit"] for s in queue] == ["Viện kiểm sát nhân dân khu vực 2"]
    assert len(api(org.verifier).get(f"{sheets}?group_id={org.cluster.id}").json["items"]) == 3

    url = f"/api/v1/scoring/periods/{period.id}/groups/{org.cluster.id}"
    comparison = api(org.head1).get(url)
    assert comparison.status_code == 200
    row = next(c for c in comparison.json["criteria"] if c["code"] == "I.1.1")
    assert row["sheets"][str(kv2.id)] == {"self": "9,5", "cluster": "9"}
    assert comparison.json["totals"][str(kv2.id)] == {"self": "94,5", "cluster": "94"}
    assert api(org.head3).get(url).status_code == 403
