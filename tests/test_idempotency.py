"""A retried comment or score request does not act twice: the API's Idempotency-Key header
and the pages' form nonce give back the first answer instead of creating a duplicate."""

from __future__ import annotations

import re
from datetime import timedelta

import time_machine
from sqlalchemy import func, select

from accounts.clock import now
from accounts.models import IdempotencyKey
from app import db
from comments.models import Comment
from tests.fixtures.comments import clause_by_label
from tests.fixtures.workflow import codes_to_keys, sheet_of
from tests.test_consultation_views import client_for
from workflow.models import ScoreAdjustment


def _comments() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(Comment.id))) or 0


def _lines() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(ScoreAdjustment.id))) or 0


def _comment_url(consultation) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/consultations/{consultation.id}/comments"


# --- API --------------------------------------------------------------------------------------
def test_a_retried_comment_with_its_key_returns_the_first_answer(org, blind_round, api):
    staff = api(org.staff1)
    key = {"Idempotency-Key": "3f1c9a52-0d7e-4f0e-9a51-6c1d2b7e4a10"}
    body = {"text": "Đề nghị làm rõ thời hạn."}

    first = staff.post(_comment_url(blind_round), json=body, headers=key)
    retry = staff.post(_comment_url(blind_round), json=body, headers=key)

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json == first.json
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert _comments() == 1
    # Without a key (or with another one) the same text is a second comment, as before.
    assert staff.post(_comment_url(blind_round), json=body).status_code == 201
    other = {"Idempotency-Key": "another"}
    assert staff.post(_comment_url(blind_round), json=body, headers=other).status_code == 201
    assert _comments() == 3


def test_a_key_reused_for_another_request_is_refused(org, blind_round, api):
    staff = api(org.staff1)
    key = {"Idempotency-Key": "k-1"}
    assert (
        staff.post(_comment_url(blind_round), json={"text": "Một."}, headers=key).status_code == 201
    )

    reused = staff.post(_comment_url(blind_round), json={"text": "Hai."}, headers=key)

    assert reused.status_code == 422
    assert "Khóa chống gửi trùng" in reused.json["error"]["message"]
    assert _comments() == 1


def test_keys_belong_to_their_user(org, blind_round, api):
    key = {"Idempotency-Key": "same-key"}
    body = {"text": "Ý kiến chung."}
    first = api(org.staff1).post(_comment_url(blind_round), json=body, headers=key)
    second = api(org.staff2).post(_comment_url(blind_round), json=body, headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json["id"] != second.json["id"]
    assert second.json["unit_name"] == org.r2.name
    assert _comments() == 2


def test_a_refused_request_keeps_no_key_so_it_can_be_sent_again(org, blind_round, api):
    staff = api(org.staff1)
    key = {"Idempotency-Key": "retry-after-fix"}
    refused = staff.post(_comment_url(blind_round), json={"text": ""}, headers=key)
    assert refused.status_code == 422
    db.session.rollback()
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 0

    sent = staff.post(_comment_url(blind_round), json={"text": "Đã sửa."}, headers=key)

    assert sent.status_code == 201
    assert _comments() == 1


def test_a_bad_key_is_a_plain_422(org, blind_round, api):
    staff = api(org.staff1)
    for bad in ("x" * 201, "   ", "a\tb"):
        answer = staff.post(
            _comment_url(blind_round), json={"text": "Một."}, headers={"Idempotency-Key": bad}
        )
        assert answer.status_code == 422
        assert answer.json["error"]["message"]
    assert _comments() == 0


def test_a_key_expires(app, org, blind_round, api):
    staff = api(org.staff1)
    key = {"Idempotency-Key": "old"}
    body = {"text": "Một."}
    assert staff.post(_comment_url(blind_round), json=body, headers=key).status_code == 201
    later = now() + timedelta(hours=app.config["IDEMPOTENCY_KEY_HOURS"], minutes=1)
    with time_machine.travel(later, tick=False):
        again = staff.post(_comment_url(blind_round), json=body, headers=key)
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again.headers
    assert _comments() == 2
    # The expired key was cleared when the new one was stored.
    assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 1


def test_a_retried_score_line_is_added_once(org, api, open_period):
    sheet = sheet_of(open_period(), org.r2)
    staff = api(org.staff2)
    url = f"/api/v1/scoring/sheets/{sheet.id}/adjustments"
    body = {"kind": "bonus", "points": "2", "reason": "Sáng kiến được công nhận."}
    key = {"Idempotency-Key": "line-1"}

    first = staff.post(url, json=body, headers=key)
    retry = staff.post(url, json=body, headers=key)

    assert first.status_code == retry.status_code == 201
    assert retry.json == first.json
    assert _lines() == 1


def test_a_retried_score_save_gives_the_first_answer(org, api, open_period):
    sheet = sheet_of(open_period(), org.r2)
    key = codes_to_keys(sheet.period)["1.1"]
    staff = api(org.staff2)
    url = f"/api/v1/scoring/sheets/{sheet.id}/scores"
    body = {"stage": "self", "scores": [
        {"lineage": key, "value": "9", "lock_version": 0, "note": ""}]}  # fmt: skip
    headers = {"Idempotency-Key": "scores-1"}

    first = staff.put(url, json=body, headers=headers)
    retry = staff.put(url, json=body, headers=headers)

    assert first.status_code == retry.status_code == 200
    assert retry.json == first.json
    assert retry.headers["Idempotent-Replayed"] == "true"


def test_the_openapi_document_names_the_header_on_comment_and_score_writes(client):
    spec = client.get("/api/v1/openapi.json").json
    for path, method in [
        ("/api/v1/consultations/{consultation_id}/comments", "post"),
        ("/api/v1/consultations/{consultation_id}/conference-opinions", "post"),
        ("/api/v1/scoring/sheets/{sheet_id}/scores", "put"),
        ("/api/v1/scoring/sheets/{sheet_id}/scores", "patch"),
        ("/api/v1/scoring/sheets/{sheet_id}/adjustments", "post"),
        ("/api/v1/scoring/sheets/{sheet_id}/evidence", "post"),
        ("/api/v1/scoring/sheets/{sheet_id}/confirm", "post"),
    ]:
        names = [p["name"] for p in spec["paths"][path][method]["parameters"]]
        assert "Idempotency-Key" in names, (method, path)


# --- pages ------------------------------------------------------------------------------------
def _nonce(html: str) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert found, "the form carries no nonce"
    return found.group(1)


def test_a_comment_form_sent_twice_saves_one_comment(app, org, blind_round):
    staff = client_for(app, org.staff1)
    target = clause_by_label(blind_round.version, "điểm đ khoản 4 Điều 7")
    url = f"/comments/rounds/{blind_round.id}/comment?clause={target.id}"
    nonce = _nonce(staff.get(url).get_data(as_text=True))
    form = {"text": "Đề nghị bổ sung thời hạn báo cáo.", "idempotency_key": nonce}

    first = staff.post(url, data=form)
    again = staff.post(url, data=form)

    assert first.status_code == again.status_code == 302
    assert again.headers["Location"] == first.headers["Location"]
    assert _comments() == 1
    # A new render is a new nonce: writing a second comment on purpose still works.
    fresh = _nonce(staff.get(url).get_data(as_text=True))
    assert fresh != nonce
    assert staff.post(url, data={**form, "idempotency_key": fresh}).status_code == 302
    assert _comments() == 2


def test_a_score_line_form_sent_twice_adds_one_line(client, auth, org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    auth.login(org.staff2)
    page = client.get(f"/scoring/sheets/{sheet.id}").get_data(as_text=True)
    row = re.search(r'<select[^>]*name="row"[^>]*>\s*<option[^>]*value="([^"]+)"', page)
    assert row, "the sheet offers no bonus or deduction row"
    form = {
        "row": row.group(1),
        "points": "2",
        "reason": "Sáng kiến được công nhận.",
        "idempotency_key": _nonce(page),
    }

    first = client.post(f"/scoring/sheets/{sheet.id}/adjustments", data=form)
    again = client.post(f"/scoring/sheets/{sheet.id}/adjustments", data=form)

    assert first.status_code == again.status_code
    assert first.status_code in (302, 303)
    assert _lines() == 1
