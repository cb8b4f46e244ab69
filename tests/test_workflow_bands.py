"""The classification levels as a table: a row per level (name, minimum points,
conditions), rows added and removed by plain buttons, messages in the user's
language; and the same through the API."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from accounts.models import AuditEntry
from app import db
from tests.fixtures.workflow import put_scores, sheet_of
from workflow.models import ScoreStage, ScoringPeriod
from workflow.queries import period_results


def rows_of(page: str) -> list[tuple[str, str]]:
    names = re.findall(r'name="bands-(\d+)-name"[^>]*value="([^"]*)"', page)
    points = dict(re.findall(r'name="bands-(\d+)-min_points"[^>]*value="([^"]*)"', page))
    return [(name, points[index]) for index, name in names]


def form_of(rows: list[tuple[str, str, bool, bool]], **extra: str) -> dict[str, str]:
    data: dict[str, str] = {}
    for index, (name, minimum, first, clean) in enumerate(rows):
        data[f"bands-{index}-name"] = name
        data[f"bands-{index}-min_points"] = minimum
        if first:
            data[f"bands-{index}-first_in_group_only"] = "y"
        if clean:
            data[f"bands-{index}-no_disqualifier"] = "y"
    return {**data, **extra}


def test_the_office_edits_the_levels_in_a_table_without_javascript(client, auth, org, open_period):
    period = open_period()
    url = f"/scoring/periods/{period.id}/bands"
    auth.login(org.verifier)
    page = client.get(url).get_data(as_text=True)
    assert rows_of(page) == [
        ("Xuất sắc, đề nghị Cờ thi đua", "95"),
        ("Tập thể lao động xuất sắc", "90"),
        ("Tập thể lao động tiên tiến", "80"),
        ("Hoàn thành nhiệm vụ", "50"),
        ("Không hoàn thành nhiệm vụ", "0"),
    ]
    assert "Chỉ đơn vị đứng đầu Cụm, Khối" in page and "Không vi phạm điều kiện loại trừ" in page

    levels = [
        ("Xuất sắc", "92,5", True, True),
        ("Hoàn thành tốt", "70", False, True),
        ("Hoàn thành", "0", False, False),
    ]
    # "Thêm mức" shows one more empty row; nothing is saved yet.
    added = client.post(url, data=form_of(levels, add="1"))
    assert added.status_code == 200
    assert rows_of(added.get_data(as_text=True))[-1] == ("", "")
    # "Xoá mức này" on the second row drops it, still without saving.
    removed = client.post(url, data=form_of(levels, remove="1"))
    assert [name for name, _ in rows_of(removed.get_data(as_text=True))] == [
        "Xuất sắc",
        "Hoàn thành",
    ]
    db.session.expire_all()
    assert db.session.get(ScoringPeriod, period.id).bands_config["bands"][0]["label"] == (
        "Xuất sắc, đề nghị Cờ thi đua"
    )

    # An empty added row is ignored; saving stores the levels with their conditions.
    saved = client.post(url, data=form_of([*levels, ("", "", False, False)], save="1"))
    assert saved.status_code == 303
    db.session.expire_all()
    bands = db.session.get(ScoringPeriod, period.id).bands_for(Decimal(100)).bands
    assert [(b.label, b.min_points, b.first_in_group_only, b.no_disqualifier) for b in bands] == [
        ("Xuất sắc", Decimal("92.5"), True, True),
        ("Hoàn thành tốt", Decimal(70), False, True),
        ("Hoàn thành", Decimal(0), False, False),
    ]
    audit = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "period.bands")).one()
    assert audit.actor_id == org.verifier.id

    # Results use them at once: 93 and first in the Cụm is "Xuất sắc".
    put_scores(sheet_of(period, org.r1), ScoreStage.VERIFIED,
               {"1.1": "10", "1.2": "15", "2": "33", "II": "35"})  # fmt: skip
    db.session.expire_all()
    row = period_results(db.session.get(ScoringPeriod, period.id)).rows[0]
    assert row.classified.band.label == "Xuất sắc"


def test_invalid_levels_are_explained_beside_their_row_in_vietnamese(
    client, auth, org, open_period
):
    period = open_period()
    url = f"/scoring/periods/{period.id}/bands"
    auth.login(org.verifier)
    levels = [
        ("Xuất sắc", "120", False, False),
        ("Khá", "mười", False, False),
        ("Đạt", "60", False, False),
        ("Đạt", "70", False, True),
    ]
    response = client.post(url, data=form_of(levels, save="1"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Điểm tối thiểu “mười” không phải là số; dùng dấu phẩy, ví dụ 92,5." in page
    levels[1] = ("Khá", "80", False, False)
    page = client.post(url, data=form_of(levels, save="1")).get_data(as_text=True)
    for message in (
        "Điểm tối thiểu của mức “Xuất sắc” vượt tổng điểm chuẩn (100).",
        "Hai mức trùng tên “Đạt”.",
        "Điểm tối thiểu của mức “Đạt” phải thấp hơn của mức “Đạt” ở trên.",
        "Mức thấp nhất (“Đạt”) phải bắt đầu từ 0 điểm.",
        "Mức thấp nhất (“Đạt”) không được kèm điều kiện: đơn vị nào cũng có mức.",
    ):
        assert message.replace("“", "&#34;").replace("”", "&#34;") in page or message in page
    # The message sits beside the row it is about.
    row = page.split('id="band-0"')[1].split("</tr>")[0]
    assert "vượt tổng điểm chuẩn" in row
    assert db.session.get(ScoringPeriod, period.id).bands_config["bands"][0]["min_points"] == "95"


def test_the_same_messages_in_english(client, auth, org, open_period):
    period = open_period()
    auth.login(org.verifier)
    client.post("/lang", data={"lang": "en", "next": "/"})
    url = f"/scoring/periods/{period.id}/bands"
    page = client.get(url).get_data(as_text=True)
    assert "Level name" in page and "Minimum points" in page and "Add a level" in page
    response = client.post(url, data=form_of(
        [("Good", "50", False, False), ("Rest", "10", True, False), ("", "x", False, False)],
        save="1",
    ))  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The minimum “x” is not a number; use a decimal comma, e.g. 92,5." in page
    response = client.post(url, data=form_of(
        [("Good", "50", False, False), ("Rest", "10", True, False)], save="1",
    ))  # fmt: skip
    page = response.get_data(as_text=True)
    assert "The lowest level (“Rest”) must start at 0 points." in page
    assert "The lowest level (“Rest”) cannot have a condition: every unit gets a level." in page


def test_who_may_edit_the_levels(client, auth, org, open_period, api):
    period = open_period()
    url = f"/scoring/periods/{period.id}/bands"
    body = {"bands": [{"label": "Đạt", "min_points": "50", "no_disqualifier": True},
                      {"label": "Chưa đạt", "min_points": "0"}]}  # fmt: skip
    for user in (org.council, org.head1, org.staff2, org.drafter):
        response = api(user).put(f"/api/v1{url}", json=body)
        assert response.status_code == 403, user.username
    # The council reads them; units and drafters (before publication) do not.
    assert api(org.council).get(f"/api/v1{url}").json["editable"] is False
    assert api(org.head2).get(f"/api/v1{url}").status_code == 403
    auth.login(org.council)
    page = client.get(url).get_data(as_text=True)
    assert "Lưu mức xếp loại" not in page and "readonly" in page
    assert client.post(url, data=form_of([("A", "0", False, False)], save="1")).status_code == 403


def test_the_levels_through_the_api(api, org, open_period):
    period = open_period()
    url = f"/api/v1/scoring/periods/{period.id}/bands"
    shown = api(org.verifier).get(url).json
    assert shown["total_max"] == "100" and shown["editable"] is True
    assert shown["bands"][0] == {
        "key": "flag", "label": "Xuất sắc, đề nghị Cờ thi đua", "min_points": "95",
        "first_in_group_only": True, "no_disqualifier": True,
    }  # fmt: skip
    bad = api(org.verifier).put(url, json={"bands": [
        {"label": "Tốt", "min_points": "80"}, {"label": "Tốt", "min_points": "10"}]})  # fmt: skip
    assert bad.status_code == 422
    assert "Hai mức trùng tên “Tốt”." in bad.json["error"]["message"]
    problems = bad.json["error"]["details"]["problems"]
    assert {"row": 1, "message": "Mức thấp nhất (“Tốt”) phải bắt đầu từ 0 điểm."} in problems
    good = api(org.verifier).put(url, json={"bands": [
        {"label": "Tốt", "min_points": "80,5", "first_in_group_only": True},
        {"label": "Đạt", "min_points": "0"}]})  # fmt: skip
    assert good.status_code == 200, good.json
    assert [(b["label"], b["min_points"], b["key"]) for b in good.json["bands"]] == [
        ("Tốt", "80,5", "band-1"),
        ("Đạt", "0", "band-2"),
    ]
