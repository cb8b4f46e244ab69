"""The conference's JSON twins: the same operations, permission before the body, plain
errors with the right status, every route in the OpenAPI document with its scope."""

from __future__ import annotations

import io

from docx import Document
from sqlalchemy import select

from accounts import operations as account_operations
from accounts.models import Role, Scope
from comments.conference.models import Conference, Opinion
from comments.consultation import operations as round_operations
from comments.consultation.models import Comment, CommentSource
from extensions import db
from tests.fixtures.accounts import ApiClient
from tests.fixtures.comments import clause_by_label
from tests.fixtures.conference import speak

MEETING = {
    "starts_at": "2026-12-03T08:30:00+07:00",
    "mode": "online",
    "place": "Hội trường tầng 3",
    "chair_name": "Nguyễn Văn Chủ",
    "chair_title": "Phó Viện trưởng",
}


def url(consultation_id: int, rest: str = "") -> str:
    return f"/api/v1/consultations/{consultation_id}/conference{rest}"


def test_the_drafter_sets_up_the_conference(api, org, blind_round, secretary):
    drafter = api(org.drafter)
    created = drafter.post(url(blind_round.id), json=MEETING)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (
        body["meeting_form"] == "Hội nghị trực tuyến"
        and body["starts_at_local"] == "03/12/2026 08:30"
    )
    assert drafter.post(url(blind_round.id), json=MEETING).status_code == 409
    partial = {k: v for k, v in MEETING.items() if k != "place"}
    missing = drafter.put(url(blind_round.id), json=partial)
    assert missing.status_code == 422 and missing.get_json()["error"]["details"]["missing"] == [
        "place"
    ]
    patched = drafter.patch(url(blind_round.id), json={"place": "Phòng họp số 2"})
    assert patched.status_code == 200 and patched.get_json()["place"] == "Phòng họp số 2"
    assert patched.get_json()["chair_name"] == "Nguyễn Văn Chủ"
    put = drafter.put(url(blind_round.id), json={**MEETING, "mode": "in_person"})
    assert put.get_json()["meeting_form"] == "Hội nghị trực tiếp"
    assigned = drafter.put(url(blind_round.id, "/secretaries"), json={"user_ids": [secretary.id]})
    assert [s["user_id"] for s in assigned.get_json()["secretaries"]] == [secretary.id]
    refused = drafter.put(url(blind_round.id, "/secretaries"), json={"user_ids": [org.staff1.id]})
    assert refused.status_code == 422
    unknown = drafter.put(url(blind_round.id, "/secretaries"), json={"user_ids": [999999]})
    assert unknown.status_code == 422


def test_the_secretary_records_and_presents(api, org, conference, secretary):
    client = api(secretary)
    cid = conference.consultation_id
    attendance = client.put(
        url(cid, "/attendance"),
        json={
            "units": [{"unit_id": org.r1.id, "attended": True, "representatives": "Lê Văn Trưởng"}]
        },
    )
    assert attendance.status_code == 200
    assert attendance.get_json()["attendance"][0]["representatives"] == "Lê Văn Trưởng"
    patched = client.patch(
        url(cid, "/attendance"), json={"units": [{"unit_id": org.r2.id, "attended": False}]}
    )
    rows = {a["unit_id"]: a["attended"] for a in patched.get_json()["attendance"]}
    assert rows == {org.r1.id: True, org.r2.id: False}  # PATCH keeps the units it does not name
    replaced = client.put(
        url(cid, "/attendance"), json={"units": [{"unit_id": org.r2.id, "attended": True}]}
    )
    assert [a["unit_id"] for a in replaced.get_json()["attendance"]] == [org.r2.id]
    by_text = client.post(
        url(cid, "/opinions"),
        json={
            "unit_id": org.r1.id,
            "speaker_name": "Lê Văn Trưởng",
            "clause": "7.4.đ",
            "text": "Một.",
        },
    )
    assert by_text.status_code == 201, by_text.get_json()
    assert by_text.get_json()["clause_label"] == "điểm đ khoản 4 Điều 7"
    clause = clause_by_label(conference.consultation.version, "Điều 2")
    by_id = client.post(
        url(cid, "/opinions"),
        json={"unit_id": org.r2.id, "speaker_name": "B", "clause_id": clause.id, "text": "Hai."},
    )
    assert by_id.status_code == 201
    general = client.post(
        url(cid, "/opinions"), json={"unit_id": org.r3.id, "speaker_name": "C", "text": "Ba."}
    )
    assert general.status_code == 201 and general.get_json()["clause_id"] is None
    listed = client.get(url(cid, "/opinions")).get_json()["items"]
    assert [o["text"] for o in listed] == ["Một.", "Hai.", "Ba."]
    comments = db.session.scalars(select(Comment)).all()
    assert {c.source for c in comments} == {CommentSource.CONFERENCE}

    state = client.put(url(cid, "/current-clause"), json={"clause_id": clause.id, "general": False})
    assert state.status_code == 200
    assert state.get_json()["focus"] == "clause" and [
        o["text"] for o in state.get_json()["opinions"]
    ] == ["Hai."]
    shown = client.get(url(cid, "/presenter")).get_json()
    assert shown["clause_label"] == "Điều 2" and shown["total"] == 3
    client.put(url(cid, "/current-clause"), json={"clause_id": 0, "general": True})
    assert client.get(url(cid, "/presenter")).get_json()["focus"] == "general"
    again = client.patch(url(cid, "/current-clause"), json={"clause_id": clause.id})
    assert again.get_json()["focus"] == "clause"

    conclusions = client.put(
        url(cid, "/conclusions"),
        json={
            "text": "Giao Văn phòng tiếp thu.",
            "lock_version": client.get(url(cid)).get_json()["lock_version"],
        },
    )
    assert conclusions.status_code == 200, conclusions.get_json()
    stale = client.put(url(cid, "/conclusions"), json={"text": "Khác.", "lock_version": 1})
    assert stale.status_code == 409
    patched = client.patch(url(cid, "/conclusions"), json={"text": "Giao Văn phòng tiếp thu."})
    assert patched.status_code == 200 and patched.get_json()["conclusions"].startswith("Giao")
    third = general.get_json()["id"]
    assert api(org.head1).delete(url(cid, f"/opinions/{third}")).status_code == 403
    assert client.delete(url(cid, f"/opinions/{third}")).status_code == 204
    assert client.delete(url(cid, f"/opinions/{third}")).status_code == 404
    assert len(client.get(url(cid, "/opinions")).get_json()["items"]) == 2
    minutes = client.get(url(cid, "/minutes.docx"))
    assert minutes.status_code == 200
    text = "\n".join(p.text for p in Document(io.BytesIO(minutes.data)).paragraphs)
    assert "Giao Văn phòng tiếp thu." in text and "Một." in text


def test_bad_references_and_units_are_422(api, org, conference, secretary):
    client = api(secretary)
    cid = conference.consultation_id
    for body in (
        {"unit_id": org.r1.id, "speaker_name": "A", "clause": "9.9", "text": "x"},
        {"unit_id": org.dept.id, "speaker_name": "A", "text": "x"},
        {"unit_id": org.r1.id, "speaker_name": "A", "text": ""},
        {"unit_id": org.r1.id, "speaker_name": " ", "text": "x"},
        {"unit_id": org.r1.id, "text": "x"},
    ):
        response = client.post(url(cid, "/opinions"), json=body)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["message"]
    assert db.session.scalars(select(Opinion)).all() == []


def test_permission_is_checked_before_the_body(api, org, conference, create_user):
    stranger = create_user(Role.CONFERENCE_SECRETARY, unit=org.office)
    cid = conference.consultation_id
    for user in (stranger, org.head1, org.staff1):
        client = api(user)
        for method, rest in (
            ("post", "/opinions"),
            ("put", "/attendance"),
            ("put", "/current-clause"),
            ("put", "/conclusions"),
            ("put", "/secretaries"),
            ("patch", "/attendance"),
            ("patch", "/current-clause"),
            ("put", ""),
            ("patch", ""),
        ):
            response = getattr(client, method)(url(cid, rest), json={"nonsense": True})
            assert response.status_code == 403, (user.username, method, rest)
    assert api(org.head1).get(url(cid, "/minutes.docx")).status_code == 403


def test_a_round_without_conference_or_a_missing_round_is_404(api, org, blind_round, open_round):
    drafter = api(org.drafter)
    assert drafter.get(url(blind_round.id)).status_code == 404
    assert drafter.get(url(blind_round.id, "/presenter")).status_code == 404
    assert drafter.post(url(999999), json=MEETING).status_code == 404


def test_a_closed_round_is_409(api, org, conference, secretary):
    speak(conference, secretary, org.r1)
    round_operations.close_round(conference.consultation, org.drafter)
    db.session.commit()
    client = api(secretary)
    cid = conference.consultation_id
    response = client.post(
        url(cid, "/opinions"), json={"unit_id": org.r1.id, "speaker_name": "A", "text": "x"}
    )
    assert response.status_code == 409 and "đã kết thúc" in response.get_json()["error"]["message"]
    assert (
        client.put(url(cid, "/current-clause"), json={"clause_id": 0, "general": True}).status_code
        == 409
    )
    assert api(org.drafter).patch(url(cid), json={"place": "x"}).status_code == 409
    # Reading still works.
    assert client.get(url(cid, "/presenter")).status_code == 200
    assert client.get(url(cid, "/minutes.docx")).status_code == 200


def test_routes_declare_their_scopes(app, org, conference, secretary):
    spec = app.test_client().get("/api/v1/openapi.json").get_json()
    base = "/api/v1/consultations/{consultation_id}/conference"
    expected = {
        (base, "get"): "read",
        (base, "post"): "comment",
        (base, "put"): "comment",
        (base, "patch"): "comment",
        (base + "/secretaries", "put"): "comment",
        (base + "/secretaries", "patch"): "comment",
        (base + "/attendance", "put"): "comment",
        (base + "/attendance", "patch"): "comment",
        (base + "/conclusions", "put"): "comment",
        (base + "/conclusions", "patch"): "comment",
        (base + "/current-clause", "patch"): "comment",
        (base + "/opinions", "get"): "read",
        (base + "/opinions", "post"): "comment",
        (base + "/opinions/{opinion_id}", "delete"): "comment",
        (base + "/current-clause", "put"): "comment",
        (base + "/presenter", "get"): "read",
        (base + "/minutes.docx", "get"): "read",
    }
    for (path, method), scope in expected.items():
        assert spec["paths"][path][method]["security"] == [{"bearerAuth": [scope]}], (path, method)
    _token, secret = account_operations.create_api_token(
        secretary, name="read", scopes=[Scope.READ], expires_at=None, actor=None
    )
    db.session.commit()
    reader = ApiClient(app.test_client(), secret)
    response = reader.post(
        url(conference.consultation_id, "/opinions"),
        json={"unit_id": org.r1.id, "speaker_name": "A", "text": "x"},
    )
    assert (
        response.status_code == 403 and response.get_json()["error"]["code"] == "insufficient_scope"
    )
    assert reader.get(url(conference.consultation_id, "/presenter")).status_code == 200
    assert db.session.scalars(select(Conference)).one().opinions == []
