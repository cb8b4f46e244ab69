"""Issue 14: a unit's bonus disappeared between stages.

KV2 self-scores 93,25 and claims a 2,5-point bonus (a Bằng khen): 95,75. Nobody removes
the bonus, yet the Cụm's and the office's columns showed a bonus of 0 and a total of
91,5 or less, the classification dropped, and the results .xlsx had 0 under
"Điểm thưởng". Each stage read only the values it had stored itself, and the bonus is
not a criterion the "complete" guard asks for, so a review could finish without it.

Here the whole path is driven as users drive it, once through the pages (each form
posted back as the browser sends it) and once through the API.
"""

from __future__ import annotations

import html
import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from app import db
from tests.fixtures.workflow import codes_to_keys, sheet_of
from workflow.models import ScoreSheet
from workflow.queries import load_criteria

SELF_SCORES = {"1.1": "9,25", "1.2": "15", "2": "31", "II": "38"}  # 93,25
FLAG = "Xuất sắc, đề nghị Cờ thi đua"


def posted_form(page: str) -> dict[str, str]:
    """The score form's inputs as the browser would post them, unchanged."""
    form = page.split('action="/scoring/sheets/')[1].split("</form>")[0]
    fields = re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', form, re.S)
    return {name: html.unescape(value) for name, value in fields}


def cell(page: str, figure: str, stage: str) -> str:
    match = re.search(rf'id="total-{figure}-{stage}">\s*([^<]*?)\s*<', page)
    assert match is not None, (figure, stage)
    return match.group(1)


def result_row(page: str, sheet: ScoreSheet) -> str:
    return page.split(f'id="result-{sheet.id}"')[1].split("</tr>")[0]


def ranking_row(xlsx: bytes, unit: str) -> dict[str, object]:
    sheet = load_workbook(io.BytesIO(xlsx))["Xếp hạng"]
    header = [c.value for c in sheet[4]]
    row = next(r for r in sheet.iter_rows(min_row=5, values_only=True) if r[1] == unit)
    return dict(zip(header, row, strict=False))


def test_the_bonus_survives_every_stage_through_the_pages(client, auth, org, open_period):
    period = open_period()
    sheet = sheet_of(period, org.r2)
    keys = codes_to_keys(period)
    url = f"/scoring/sheets/{sheet.id}"
    bonus_row = next(r for r in load_criteria(period.criteria_version_id).adjustment_rows
                     if r.kind.value == "bonus")  # fmt: skip

    # The unit's staff fill in the form and claim the Bằng khen.
    auth.login(org.staff2)
    form = posted_form(client.get(url).get_data(as_text=True))
    form.update({f"score-{keys[code]}": value for code, value in SELF_SCORES.items()})
    assert client.post(f"{url}/scores", data=form).status_code == 303
    claim = {"row": f"bonus:{bonus_row.key}", "points": "2,5", "reason": "Bằng khen của UBND tỉnh"}
    added = client.post(f"{url}/adjustments", data=claim)
    assert added.status_code == 303
    page = client.get(url).get_data(as_text=True)
    assert (cell(page, "bonus", "self"), cell(page, "final", "self")) == ("2,5", "95,75")
    auth.logout()
    auth.login(org.head2)
    assert client.post(f"{url}/actions/submit").status_code == 303
    auth.logout()

    # The Cụm opens the sheet, saves the form as it is (it agrees) and finishes.
    auth.login(org.head1)
    page = client.get(url).get_data(as_text=True)
    assert (cell(page, "bonus", "cluster"), cell(page, "final", "cluster")) == ("2,5", "95,75")
    assert client.post(f"{url}/scores", data=posted_form(page)).status_code == 303
    assert client.post(f"{url}/actions/review").status_code == 303
    auth.logout()

    # The office agrees as well, and the council approves.
    auth.login(org.verifier)
    page = client.get(url).get_data(as_text=True)
    assert (cell(page, "bonus", "verified"), cell(page, "final", "verified")) == ("2,5", "95,75")
    assert client.post(f"{url}/actions/verify").status_code == 303
    auth.logout()
    auth.login(org.council)
    assert client.post(f"{url}/actions/approve").status_code == 303

    page = client.get(url).get_data(as_text=True)
    for stage in ("self", "cluster", "verified"):
        assert (cell(page, "bonus", stage), cell(page, "final", stage)) == ("2,5", "95,75")
    results = client.get(f"/scoring/periods/{period.id}/results").get_data(as_text=True)
    row = result_row(results, sheet)
    assert row.count(">95,75<") == 3  # self, Cụm, verified
    assert 'data-figure="bonus">2,5<' in row and FLAG in row
    xlsx = client.get(f"/scoring/periods/{period.id}/results.xlsx").data
    figures = ranking_row(xlsx, org.r2.name)
    assert figures["Điểm thưởng"] == Decimal("2.5")
    assert figures["Tổng điểm"] == 95.75 and figures["Xếp loại"] == FLAG


def test_a_reviewers_change_keeps_the_bonus_and_says_why_through_the_api(api, org, open_period):
    period = open_period()
    sheet = sheet_of(period, org.r2)
    keys = codes_to_keys(period)
    base = f"/api/v1/scoring/sheets/{sheet.id}"
    self_scores = [
        {"lineage": keys[code], "value": value, "lock_version": 0}
        for code, value in SELF_SCORES.items()
    ]
    assert api(org.staff2).patch(f"{base}/scores", json={"stage": "self", "scores": self_scores}
                               ).status_code == 200  # fmt: skip
    claimed = api(org.staff2).post(
        f"{base}/adjustments",
        json={"kind": "bonus", "points": "2,5", "reason": "Bằng khen của UBND tỉnh"},
    )
    assert claimed.status_code == 201, claimed.json
    assert api(org.head2).post(f"{base}/actions", json={"action": "submit"}).status_code == 200

    # The Cụm lowers criterion 2 by 1,75: without a reason it is refused.
    lower = {"lineage": keys["2"], "value": "29,25", "lock_version": 0}
    refused = api(org.head1).patch(f"{base}/scores", json={"stage": "cluster", "scores": [lower]})
    assert refused.status_code == 422
    assert "Cần ghi lý do điều chỉnh tiêu chí I.2" in refused.json["error"]["message"]
    lower["note"] = "Số vụ án quá hạn chưa trừ"
    saved = api(org.head1).put(f"{base}/scores", json={"stage": "cluster", "scores": [lower]})
    assert saved.status_code == 200, saved.json
    totals = saved.json["totals"]
    assert (totals["self"]["final"], totals["cluster"]["final"]) == ("95,75", "94")
    assert totals["cluster"]["bonus"] == "2,5"  # not 0: the total is not 91,5
    assert api(org.head1).post(f"{base}/actions", json={"action": "review"}).status_code == 200
    assert api(org.verifier).post(f"{base}/actions", json={"action": "verify"}).status_code == 200
    assert api(org.council).post(f"{base}/actions", json={"action": "approve"}).status_code == 200

    sheet_json = api(org.council).get(base).json
    assert {stage: t["final"] for stage, t in sheet_json["totals"].items()} == {
        "self": "95,75",
        "cluster": "94",
        "verified": "94",
    }
    assert {stage: t["bonus"] for stage, t in sheet_json["totals"].items()} == dict.fromkeys(
        ("self", "cluster", "verified"), "2,5"
    )
    # Who changed what and why is on the sheet and in its history.
    row = next(c for c in sheet_json["criteria"] if c["code"] == "I.2")
    assert row["scores"]["cluster"]["note"] == "Số vụ án quá hạn chưa trừ"
    assert row["scores"]["cluster"]["by"] == org.head1.full_name
    assert row["held"] == {"self": "31", "cluster": "29,25", "verified": "29,25"}
    item = sheet_json["adjustments"][0]
    assert item["held"] == {"self": "2,5", "cluster": "2,5", "verified": "2,5"}
    assert list(item["scores"]) == ["self"]  # stored once, carried over by the reviews
    changes = api(org.council).get(f"{base}/history").json["score_changes"]
    assert ("cluster", "31", "29,25", "Số vụ án quá hạn chưa trừ") in [
        (c["stage"], c.get("old") or "31", c["new"], c["note"]) for c in changes
    ]

    results = api(org.council).get(f"/api/v1/scoring/periods/{period.id}/results").json
    mine = next(r for r in results["rows"] if r["sheet_id"] == sheet.id)
    assert (mine["final"], mine["bonus"], mine["classification"]) == (
        "94",
        "2,5",
        "Tập thể lao động xuất sắc",
    )
    xlsx = api(org.verifier).get(f"/api/v1/scoring/periods/{period.id}/results.xlsx").data
    assert ranking_row(xlsx, org.r2.name)["Điểm thưởng"] == 2.5
    db.session.expire_all()
    assert db.session.get(ScoreSheet, sheet.id).state == "approved"
