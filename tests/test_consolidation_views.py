"""The consolidation pages and their JSON twins: answering, conflicts, downloads, rounds."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from comments.consolidation import operations as ops
from comments.consolidation.exports import DOCX_MIMETYPE, XLSX_MIMETYPE
from comments.consultation.models import Comment, Decision, Disposition
from drafts.models import DraftState
from extensions import db
from tests import sheets


@pytest.fixture
def rnd(org, make_round):  # type: ignore[no-untyped-def]
    rnd = make_round()
    rnd.comments(
        org.r1,
        [
            (None, "Đề nghị rà soát lỗi chính tả toàn văn."),
            ("Điều 2", "Đề nghị bổ sung nguyên tắc khách quan."),
        ],
    )
    rnd.comments(org.r2, [("Điều 2", "Đề nghị bổ sung nguyên tắc khách quan.")])
    rnd.submit(org.r1)
    rnd.submit(org.r2)
    rnd.submit(org.r3, agrees=True)
    return rnd


def ids(rnd, unit):  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            select(Comment.id)
            .where(Comment.consultation_id == rnd.consultation.id, Comment.unit_id == unit.id)
            .order_by(Comment.id)
        )
    )


def test_consolidation_page_lists_groups_progress_and_units(client, auth, org, rnd):
    auth.login(org.drafter)

    page = client.get(f"/consolidation/{rnd.consultation.id}").get_data(as_text=True)

    assert page.index("Ý kiến chung") < page.index("Điều 2. Nguyên tắc hoạt động")
    assert "Đã xử lý 0/3 ý kiến" in page
    assert "(đã xử lý 0/2)" in page
    assert "Thống nhất với dự thảo" in page  # KV3's state in the units table
    assert "Trả lời chung các ý kiến đã chọn" in page


def test_answering_two_comments_with_one_answer_through_the_page(client, auth, org, rnd):
    auth.login(org.drafter)
    kv1, kv2 = ids(rnd, org.r1)[1], ids(rnd, org.r2)[0]
    url = f"/consolidation/{rnd.consultation.id}/answer"

    form = client.get(url, query_string={"comment": [kv1, kv2]}).get_data(as_text=True)
    assert "Các ý kiến trên sẽ có chung một câu trả lời" in form

    response = client.post(
        url,
        data={
            "comment": [kv1, kv2],
            "decision": Decision.EXPLAINED.value,
            "explanation": "Nguyên tắc khách quan đã có tại Điều 3.",
            "expected": "",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    answers = db.session.scalars(select(Disposition)).all()
    assert len(answers) == 1
    assert sorted(c.id for c in answers[0].comments) == sorted([kv1, kv2])

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Đã lưu câu trả lời cho 2 ý kiến." in page
    assert "Trả lời chung cho 2 ý kiến" in page


def test_missing_explanation_is_shown_on_the_form(client, auth, org, rnd):
    auth.login(org.drafter)
    comment = ids(rnd, org.r1)[0]

    response = client.post(
        f"/consolidation/{rnd.consultation.id}/answer",
        data={"comment": [comment], "decision": Decision.REJECTED.value, "explanation": ""},
    )

    assert response.status_code == 422
    assert "cần nêu lý do không tiếp thu" in response.get_data(as_text=True)
    assert db.session.scalar(select(Disposition.id)) is None

    client.post("/lang", data={"lang": "en"})
    response = client.post(
        f"/consolidation/{rnd.consultation.id}/answer",
        data={"comment": [comment], "decision": Decision.PARTLY.value, "explanation": ""},
    )
    assert response.status_code == 422
    assert "Partly accepted: say which part is accepted" in response.get_data(as_text=True)


def test_stale_answer_gets_409_and_keeps_the_users_text(client, auth, org, rnd):
    auth.login(org.drafter)
    comment_id = ids(rnd, org.r1)[0]
    url = f"/consolidation/{rnd.consultation.id}/answer"
    form = client.get(url, query_string={"comment": comment_id}).get_data(as_text=True)
    assert 'name="expected" type="hidden" value=""' in form
    # Meanwhile another drafter answers the same comment.
    ops.dispose([db.session.get(Comment, comment_id)], Decision.ACCEPTED, "", org.drafter)
    db.session.commit()
    mine = "Không tiếp thu vì trái với Quy chế mẫu của ngành."

    response = client.post(
        url,
        data={
            "comment": [comment_id],
            "decision": Decision.REJECTED.value,
            "explanation": mine,
            "expected": "",
        },
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "vừa được người khác thay đổi" in page
    assert mine in page
    db.session.expire_all()
    current = db.session.get(Comment, comment_id).disposition
    assert current.decision == Decision.ACCEPTED
    # The re-rendered form now carries the current version: saving again wins.
    expected = f"{current.id}:{current.lock_version}"
    assert f'value="{expected}"' in page
    again = client.post(
        url,
        data={
            "comment": [comment_id],
            "decision": Decision.REJECTED.value,
            "explanation": mine,
            "expected": expected,
        },
    )
    assert again.status_code == 302
    db.session.expire_all()
    assert db.session.get(Comment, comment_id).disposition.explanation == mine


def test_api_answers_and_reports_conflicts(api, org, rnd):
    client = api(org.drafter)
    kv1, kv2 = ids(rnd, org.r1)[1], ids(rnd, org.r2)[0]
    url = f"/api/v1/consultations/{rnd.consultation.id}/dispositions"

    missing = client.post(url, json={"comment_ids": [kv1], "decision": "khong_tiep_thu"})
    assert missing.status_code == 422
    assert "lý do" in missing.json["error"]["message"]

    created = client.post(url, json={"comment_ids": [kv1, kv2], "decision": "tiep_thu"})
    assert created.status_code == 200
    body = created.json
    assert body["comment_ids"] == sorted([kv1, kv2]) and body["decision_label"] == "Tiếp thu"

    stale = client.post(
        url, json={"comment_ids": [kv1, kv2], "decision": "giai_trinh", "explanation": "X."}
    )
    assert stale.status_code == 409
    assert stale.json["error"]["code"] == "conflict"

    updated = client.post(
        url,
        json={
            "comment_ids": [kv1, kv2],
            "decision": "giai_trinh",
            "explanation": "Giữ nguyên như dự thảo.",
            "expected_versions": [
                {"disposition_id": body["id"], "lock_version": body["lock_version"]}
            ],
        },
    )
    assert updated.status_code == 200
    assert updated.json["id"] == body["id"]
    assert updated.json["lock_version"] == body["lock_version"] + 1

    summary = client.get(f"/api/v1/consultations/{rnd.consultation.id}/consolidation").json
    assert summary["counts"]["comments_answered"] == 2
    assert summary["counts"]["decisions"]["giai_trinh"] == 2
    assert [g["label"] for g in summary["groups"]] == [
        "Ý kiến chung",
        "Điều 2. Nguyên tắc hoạt động",
    ]
    shared = summary["groups"][1]["comments"][0]["disposition"]
    assert shared["comment_ids"] == sorted([kv1, kv2])


def test_start_consolidation_through_the_page_and_the_api(client, auth, api, org, rnd):
    auth.login(org.drafter)
    page = client.get(f"/consolidation/{rnd.consultation.id}").get_data(as_text=True)
    assert "Bắt đầu tổng hợp" in page

    response = client.post(f"/consolidation/{rnd.consultation.id}/start")

    assert response.status_code == 302
    db.session.expire_all()
    assert rnd.draft.state == DraftState.CONSOLIDATING
    again = api(org.drafter).post(
        f"/api/v1/consultations/{rnd.consultation.id}/consolidation/start"
    )
    assert again.status_code == 409  # already "Đang tổng hợp"


@pytest.mark.parametrize(
    ("url", "mimetype"),
    [
        ("/consolidation/{c}/report.docx", DOCX_MIMETYPE),
        ("/consolidation/{c}/report.xlsx", XLSX_MIMETYPE),
        ("/api/v1/consultations/{c}/report.docx", DOCX_MIMETYPE),
        ("/api/v1/consultations/{c}/report.xlsx", XLSX_MIMETYPE),
    ],
)
def test_report_downloads(client, auth, api, org, rnd, url, mimetype):
    target = url.format(c=rnd.consultation.id)
    if target.startswith("/api/"):
        response = api(org.drafter).get(target)
    else:
        auth.login(org.drafter)
        response = client.get(target)

    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.headers["Content-Disposition"].startswith("attachment;")
    if mimetype == DOCX_MIMETYPE:
        texts = [p.text for p in Document(io.BytesIO(response.data)).paragraphs]
        assert "BẢN TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN GÓP Ý" in texts
    else:
        rows = sheets.table(load_workbook(io.BytesIO(response.data)).active, "STT")
        assert len(rows) == 1 + 3  # the header, then one row per unanswered comment


def test_letter_is_built_from_the_submitted_position_only(client, auth, org, rnd):
    rnd.comment(org.dept, "Điều 1", "Ý kiến nháp của Phòng 1.")
    auth.login(org.drafter)

    unsent = client.get(f"/consolidation/responses/{rnd.response(org.dept).id}/letter.docx")

    assert unsent.status_code == 409
    assert "chưa gửi ý kiến chính thức" in unsent.get_data(as_text=True)


def test_rounds_history_counts_each_round(client, auth, api, org, rnd, make_round):
    ops.dispose([db.session.get(Comment, ids(rnd, org.r1)[0])], Decision.ACCEPTED, "", org.drafter)
    db.session.commit()
    second = make_round(rnd.draft, units=[org.r1, org.r2])
    second.comment(org.r1, "Điều 7", "Ý kiến lần hai.")
    second.submit(org.r1)
    second.comment(org.r2, None, "Ý kiến tại hội nghị.", conference=True)

    rows = api(org.drafter).get(f"/api/v1/drafts/{rnd.draft.id}/rounds").json["items"]

    figures = [
        (
            r["round_number"],
            r["units_invited"],
            r["units_answered"],
            r["units_agreed"],
            r["comments_total"],
            r["comments_answered"],
        )
        for r in rows
    ]
    assert figures == [(1, 4, 3, 1, 3, 1), (2, 2, 2, 0, 2, 0)]
    auth.login(org.drafter)
    page = client.get(f"/consolidation/drafts/{rnd.draft.id}/rounds").get_data(as_text=True)
    assert "Lần lấy ý kiến thứ 2" in page
    assert f"/consolidation/{second.consultation.id}/report.docx" in page


def test_general_comments_are_labelled_in_english_and_citations_keep_the_legal_text(
    client, auth, org, rnd
):
    auth.login(org.drafter)
    client.post("/lang", data={"lang": "en", "next": "/"})

    page = client.get(f"/consolidation/{rnd.consultation.id}").get_data(as_text=True)
    answer = client.get(
        f"/consolidation/{rnd.consultation.id}/answer", query_string={"comment": ids(rnd, org.r1)}
    ).get_data(as_text=True)

    assert "General comments" in page and "Ý kiến chung" not in page
    assert "Điều 2. Nguyên tắc hoạt động" in page  # the clause as the draft writes it
    assert "General comments" in answer and "Ý kiến chung" not in answer
