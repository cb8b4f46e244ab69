"""The drafts JSON API: each action, and malformed input answered with JSON 4xx."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from drafts.models import Clause, Draft, DraftKind, DraftState, Version
from drafts.parsing import LEFT_OUT_LETTERHEAD
from extensions import db
from tests.docbuild import OLE_HEADER
from tests.fixtures.drafts import criteria_xlsx, regulation_docx


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def find(nodes: list[dict], label: str) -> dict:
    for node in nodes:
        if node["label"] == label:
            return node
        found = find(node["children"], label) if node["children"] else None
        if found:
            return found
    return {}


def test_list_create_and_get_drafts(org, api, create_user):
    client = api(org.drafter)
    created = client.post(
        "/api/v1/drafts", json={"title": "Quy chế thi đua 2026", "kind": "regulation"}
    )
    assert created.status_code == 201
    assert created.json["state_label"] == "Nháp"
    assert created.json["drafting_unit"]["short_name"] == "VP"
    listed = client.get("/api/v1/drafts").json["items"]
    assert [d["title"] for d in listed] == ["Quy chế thi đua 2026"]
    got = client.get(f"/api/v1/drafts/{created.json['id']}")
    assert got.status_code == 200 and got.json["versions"] == []
    assert api(org.staff1).get(f"/api/v1/drafts/{created.json['id']}").status_code == 403


def test_version_tree_is_nested_with_lineage_and_citations(org, api, create_draft):
    draft = create_draft(drafter=org.drafter)
    client = api(org.staff1)
    version_id = draft.versions[0].id
    # A published version of a draft still in "Nháp" is for its drafters only.
    assert client.get(f"/api/v1/versions/{version_id}").status_code == 403
    draft.state = DraftState.CONSULTING
    db.session.commit()
    body = client.get(f"/api/v1/versions/{version_id}").json
    assert body["version"]["label"] == "Dự thảo lần 1"
    point = find(body["clauses"], "điểm đ khoản 4 Điều 7")
    assert point["heading"] == "đ)" and len(point["lineage"]) == 32
    assert body["clauses"][1]["children"][0]["heading"] == "Điều 7."


def test_upload_preview_then_confirm(org, api, create_empty_draft):
    draft = create_empty_draft(drafter=org.drafter)
    client = api(org.drafter)
    preview = client.post(
        f"/api/v1/drafts/{draft.id}/imports",
        data={"file": (io.BytesIO(regulation_docx()), "quy-che.docx")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200
    assert preview.json["count"] == 16
    assert preview.json["warnings"] == ["Số thứ tự không liên tục: Điều 7 đứng ngay sau Điều 2."]
    assert preview.json["title"] == "QUY CHẾ" and preview.json["preamble"] == []
    assert preview.json["left_out"] == [
        {"text": "VIỆN KIỂM SÁT NHÂN DÂN TỈNH", "reason": LEFT_OUT_LETTERHEAD},
        {"text": "DỰ THẢO", "reason": LEFT_OUT_LETTERHEAD},
    ]
    assert find(preview.json["clauses"], "điểm đ khoản 4 Điều 7")["text"].startswith("Không")
    assert count(Version) == 0
    # Another drafter cannot confirm someone else's upload.
    confirm = {"token": preview.json["token"]}
    response = client.post(f"/api/v1/drafts/{draft.id}/imports/confirm", json=confirm)
    assert response.status_code == 201
    assert response.json["label"] == "Dự thảo lần 1" and response.json["status"] == "editing"
    assert count(Clause) == 16
    # What the import left out stays with the version, in its JSON, after the preview.
    for version in (response.json, client.get(f"/api/v1/drafts/{draft.id}").json["versions"][0]):
        assert version["left_out"] == preview.json["left_out"]
        assert version["warnings"] == preview.json["warnings"]
        assert (version["source_title"], version["preamble"]) == ("QUY CHẾ", [])
    again = client.post(f"/api/v1/drafts/{draft.id}/imports/confirm", json=confirm)
    assert again.status_code == 409 and again.is_json


def test_upload_of_criteria_reports_total_and_problems(org, api, create_empty_draft):
    draft = create_empty_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    response = api(org.drafter).post(
        f"/api/v1/drafts/{draft.id}/imports",
        data={"file": (io.BytesIO(criteria_xlsx()), "tieu-chi.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert response.json["total_max_points"] == 100 and response.json["warnings"] == []
    assert response.json["clauses"][0]["children"][0]["max_points"] == 25


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [(OLE_HEADER, 422, "mật khẩu"), (b"", 422, "rỗng"), (b"not office", 422, "không phải")],
)
def test_bad_uploads_are_json_422(org, api, create_empty_draft, data, status, message):
    draft = create_empty_draft(drafter=org.drafter)
    response = api(org.drafter).post(
        f"/api/v1/drafts/{draft.id}/imports",
        data={"file": (io.BytesIO(data), "x.docx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == status and message in response.json["error"]["message"]


def test_upload_without_file_and_too_large(org, api, create_empty_draft, app):
    draft = create_empty_draft(drafter=org.drafter)
    client = api(org.drafter)
    url = f"/api/v1/drafts/{draft.id}/imports"
    response = client.post(url, data={}, content_type="multipart/form-data")
    assert response.status_code == 400 and response.is_json
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = client.post(
            url, data={"file": (io.BytesIO(b"x" * 4096), "x.docx")},
            content_type="multipart/form-data",
        )  # fmt: skip
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    assert response.status_code == 413
    assert response.json["error"]["code"] == "too_large"


def test_clause_add_edit_move_delete_renumber_publish(org, api, create_draft):
    draft = create_draft(drafter=org.drafter, published=False)
    client = api(org.drafter)
    version_id = draft.versions[0].id
    tree = client.get(f"/api/v1/versions/{version_id}").json
    lock = tree["version"]["lock_version"]
    article7 = find(tree["clauses"], "Điều 7")

    added = client.post(
        f"/api/v1/versions/{version_id}/clauses",
        json={"lock_version": lock, "kind": "clause", "number": "5", "text": "Khoản mới.",
              "parent_id": article7["id"]},
    )  # fmt: skip
    assert added.status_code == 201
    assert added.json["clause"]["label"] == "khoản 5 Điều 7"
    lock = added.json["lock_version"]

    edited = client.patch(
        f"/api/v1/clauses/{added.json['clause']['id']}",
        json={"lock_version": lock, "text": "Khoản mới đã sửa."},
    )
    assert edited.status_code == 200 and edited.json["clause"]["text"] == "Khoản mới đã sửa."
    stale = client.patch(
        f"/api/v1/clauses/{added.json['clause']['id']}", json={"lock_version": lock, "text": "x"}
    )
    assert stale.status_code == 409 and "người khác" in stale.json["error"]["message"]
    lock = edited.json["lock_version"]

    moved = client.post(
        f"/api/v1/clauses/{added.json['clause']['id']}/move",
        json={"lock_version": lock, "parent_id": find(tree["clauses"], "Điều 1")["id"]},
    )
    assert moved.status_code == 200 and moved.json["clause"]["label"] == "khoản 5 Điều 1"
    lineage = moved.json["clause"]["lineage"]
    assert lineage == added.json["clause"]["lineage"]
    lock = moved.json["lock_version"]
    up = client.post(
        f"/api/v1/clauses/{added.json['clause']['id']}/move",
        json={"lock_version": lock, "direction": "up"},
    )
    assert up.status_code == 200
    lock = up.json["lock_version"]

    preview = client.get(f"/api/v1/versions/{version_id}/renumber").json
    assert ["khoản 5 Điều 1", "khoản 2 Điều 1"] in [
        [c["old_label"], c["new_label"]] for c in preview["changes"]
    ]
    renumbered = client.post(f"/api/v1/versions/{version_id}/renumber", json={"lock_version": lock})
    assert renumbered.status_code == 200
    lock = renumbered.json["lock_version"]

    deleted = client.delete(
        f"/api/v1/clauses/{find(tree['clauses'], 'Điều 7')['id']}?lock_version={lock}"
    )
    assert deleted.status_code == 200 and deleted.json["deleted"] == 5
    lock = deleted.json["lock_version"]

    published = client.post(f"/api/v1/versions/{version_id}/publish", json={"lock_version": lock})
    assert published.status_code == 200 and published.json["status"] == "published"
    refused = client.patch(
        f"/api/v1/clauses/{added.json['clause']['id']}",
        json={"lock_version": published.json["lock_version"], "text": "Sửa sau khi phát hành"},
    )
    assert refused.status_code == 409 and "đã được phát hành" in refused.json["error"]["message"]
    labels = [find(client.get(f"/api/v1/versions/{version_id}").json["clauses"], x) for x in
              ("khoản 2 Điều 1", "Điều 3")]  # fmt: skip
    assert labels[0]["lineage"] == lineage and labels[1] == {}  # Điều 7 gone, not renamed


def test_new_version_finish_revision_and_adopt(org, api, create_draft):
    draft = create_draft(kind=DraftKind.CRITERIA, drafter=org.drafter,
                         state=DraftState.CONSOLIDATING)  # fmt: skip
    client = api(org.drafter)
    created = client.post(f"/api/v1/drafts/{draft.id}/versions", json={"note": "Lần 2"})
    assert created.status_code == 201 and created.json["based_on_id"] == draft.versions[0].id
    revised = client.post(f"/api/v1/drafts/{draft.id}/finish-revision", json={})
    assert revised.status_code == 200 and revised.json["state"] == "revised"
    adopted = client.post(
        f"/api/v1/drafts/{draft.id}/adopt",
        json={"version_id": created.json["id"], "decision_number": "125/QĐ-VKS",
              "decision_date": "2026-12-15", "signer_name": "Nguyễn Văn Viện"},
    )  # fmt: skip
    assert adopted.status_code == 200
    assert adopted.json["state_label"] == "Đã ban hành"
    assert adopted.json["decision_date"] == "2026-12-15"
    assert adopted.json["adopted_version_id"] == created.json["id"]
    again = client.post(f"/api/v1/drafts/{draft.id}/versions", json={})
    assert again.status_code == 409


def test_adopt_with_sum_problems_returns_the_list(org, api, create_draft):
    nodes = [{"kind": "criterion", "number": "I", "max_points": 100, "children": [
        {"kind": "criterion", "number": "1", "max_points": 30}]}]  # fmt: skip
    draft = create_draft(nodes=nodes, kind=DraftKind.CRITERIA, drafter=org.drafter)
    response = api(org.drafter).post(
        f"/api/v1/drafts/{draft.id}/adopt",
        json={"version_id": draft.versions[0].id, "decision_number": "1/QĐ",
              "decision_date": "2026-12-15", "signer_name": "A"},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json["error"]["details"] == [
        "Nhóm I: điểm chuẩn 100 khác tổng các tiêu chí con 30."
    ]
    db.session.expire_all()
    assert db.session.get(Draft, draft.id).state == DraftState.DRAFT


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("post", "/api/v1/drafts", {"json": {"title": "", "kind": "regulation"}}, 422),
        ("post", "/api/v1/drafts", {"json": {"title": "A", "kind": "luat"}}, 422),
        ("post", "/api/v1/drafts", {"data": "x", "content_type": "text/plain"}, 415),
        ("post", "/api/v1/drafts", {"json": {"title": "A", "kind": "regulation",
                                             "drafter_ids": [99999]}}, 422),
        ("post", "/api/v1/versions/{v}/clauses", {"json": {"kind": "clause"}}, 422),
        ("post", "/api/v1/versions/{v}/clauses",
         {"json": {"lock_version": 1, "kind": "clause", "max_points": "nhiều"}}, 422),
        ("post", "/api/v1/versions/{v}/clauses",
         {"json": {"lock_version": 1, "kind": "criterion", "text": "x"}}, 422),
        ("post", "/api/v1/versions/{v}/clauses",
         {"json": {"lock_version": 1, "kind": "clause", "text": "x", "parent_id": 99999}}, 404),
        ("patch", "/api/v1/clauses/{c}", {"json": {"lock_version": "1"}}, 422),
        ("post", "/api/v1/clauses/{c}/move", {"json": {"lock_version": 1}}, 422),
        ("post", "/api/v1/clauses/{c}/move",
         {"json": {"lock_version": 1, "direction": "up", "parent_id": 0}}, 422),
        ("delete", "/api/v1/clauses/{c}", {}, 422),
        ("delete", "/api/v1/clauses/{c}?lock_version=abc", {}, 422),
        ("post", "/api/v1/drafts/{d}/imports/confirm", {"json": {"token": "../../x"}}, 409),
        ("post", "/api/v1/drafts/{d}/adopt", {"json": {"version_id": 1}}, 422),
        ("post", "/api/v1/drafts/{d}/adopt",
         {"json": {"version_id": 1, "decision_number": "1", "decision_date": "2026-02-31",
                   "signer_name": "A"}}, 422),
        ("get", "/api/v1/versions/99999", {}, 404),
        ("post", "/api/v1/versions/{v}/publish", {"json": {}}, 422),
    ],
)  # fmt: skip
def test_malformed_input_gets_json_4xx(org, api, create_draft, method, path, kwargs, status):
    draft = create_draft(drafter=org.drafter, published=False)
    version = draft.versions[0]
    clause = db.session.scalar(select(Clause).where(Clause.number == "đ"))
    url = path.format(v=version.id, c=clause.id, d=draft.id)
    before = (count(Draft), count(Clause), version.lock_version)
    response = getattr(api(org.drafter), method)(url, **kwargs)
    assert response.status_code == status, response.json
    assert response.is_json and response.json["error"]["message"]
    db.session.expire_all()
    assert (count(Draft), count(Clause), db.session.get(Version, version.id).lock_version) == before


def test_lifecycle_table_is_served(org, api):
    rows = api(org.staff1).get("/api/v1/drafts/lifecycle").json["items"]
    assert {"source": "consolidating", "action": "revise", "target": "revised"}.items() <= rows[
        4
    ].items()
