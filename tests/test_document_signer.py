"""Who signs the agency's documents: set by an administrator in the app (web and API), else
from SIGNER_* in the configuration, else the drafting unit's head; printed once."""

from __future__ import annotations

import io

from docx import Document
from sqlalchemy import select

from accounts.models import AuditEntry, DocumentSigner
from app import db


def signature_of(data: bytes) -> list[str]:
    right = Document(io.BytesIO(data)).tables[-1].rows[0].cells[1]
    return [p.text for p in right.paragraphs if p.text]


def test_an_administrator_sets_the_signer_and_the_report_prints_it(client, auth, org, make_round):
    rnd = make_round()
    auth.login(org.admin)
    assert client.get("/admin/signer").status_code == 200
    response = client.post(
        "/admin/signer",
        data={"authority": "kt. viện trưởng", "title": "Phó Viện trưởng", "name": "Lê Văn Cường"},
    )
    assert response.status_code == 302
    row = db.session.scalars(select(DocumentSigner)).one()
    assert (row.authority, row.title, row.name) == ("KT. VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG",
                                                    "Lê Văn Cường")  # fmt: skip
    assert db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "document_signer.update")
    ).one()

    auth.login(org.drafter)
    report = client.get(f"/consolidation/{rnd.consultation.id}/report.docx")
    assert signature_of(report.data) == ["KT. VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG", "Lê Văn Cường"]


def test_the_app_setting_wins_over_the_configuration_and_an_empty_name_hands_back(
    app, client, auth, org, make_round, monkeypatch
):
    monkeypatch.setitem(app.config, "SIGNER_TITLE", "VIỆN TRƯỞNG")
    monkeypatch.setitem(app.config, "SIGNER_NAME", "Hoàng Văn Em")
    rnd = make_round()
    url = f"/consolidation/{rnd.consultation.id}/report.docx"
    auth.login(org.admin)
    client.post("/admin/signer", data={"title": "PHÓ VIỆN TRƯỞNG", "name": "Lê Văn Cường",
                                       "authority": "KT. VIỆN TRƯỞNG"})  # fmt: skip
    assert signature_of(client.get(url).data)[-1] == "Lê Văn Cường"
    version = db.session.scalars(select(DocumentSigner)).one().lock_version
    client.post("/admin/signer", data={"title": "", "name": "", "lock_version": version})
    assert signature_of(client.get(url).data) == ["VIỆN TRƯỞNG", "Hoàng Văn Em"]


def test_a_bad_signer_is_refused_with_the_input_kept(client, auth, org):
    auth.login(org.admin)
    response = client.post("/admin/signer", data={"authority": "KT. VIỆN TRƯỞNG", "title": "",
                                                  "name": "Lê Văn Cường"})  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Hãy ghi chức vụ của người ký" in page and 'value="Lê Văn Cường"' in page
    assert db.session.scalars(select(DocumentSigner)).first() is None


def test_a_stale_save_is_a_conflict_that_keeps_the_input(client, auth, org):
    auth.login(org.admin)
    client.post("/admin/signer", data={"title": "VIỆN TRƯỞNG", "name": "A"})
    client.post("/admin/signer", data={"title": "VIỆN TRƯỞNG", "name": "B", "lock_version": 1})
    stale = client.post(
        "/admin/signer", data={"title": "VIỆN TRƯỞNG", "name": "Người thứ ba", "lock_version": 1}
    )
    assert stale.status_code == 409
    assert 'value="Người thứ ba"' in stale.get_data(as_text=True)
    assert db.session.scalars(select(DocumentSigner)).one().name == "B"


def test_only_administrators_set_the_signer(client, auth, org, api):
    auth.login(org.drafter)
    assert client.get("/admin/signer").status_code == 403
    assert client.post("/admin/signer", data={"title": "X", "name": "Y"}).status_code == 403
    assert api(org.drafter).get("/api/v1/admin/signer").status_code == 403
    assert (
        api(org.drafter).put("/api/v1/admin/signer", json={"title": "X", "name": "Y"}).status_code
        == 403
    )
    assert db.session.scalars(select(DocumentSigner)).first() is None


def test_the_api_twin_reads_and_sets_the_signer(app, org, api, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNER_NAME", "")
    admin = api(org.admin)
    assert admin.get("/api/v1/admin/signer").json["source"] == "unit_head"
    body = {
        "authority": "KT. Viện trưởng",
        "title": "Phó Viện trưởng",
        "name": "Lê Văn Cường",
        "lock_version": 0,
    }
    response = admin.put("/api/v1/admin/signer", json=body)
    assert response.status_code == 200
    assert response.json == {
        "authority": "KT. VIỆN TRƯỞNG",
        "title": "PHÓ VIỆN TRƯỞNG",
        "name": "Lê Văn Cường",
        "lock_version": 1,
        "source": "app",
    }
    stale = admin.put("/api/v1/admin/signer", json={**body, "name": "Khác", "lock_version": 9})
    assert stale.status_code == 409 and stale.json["error"]["message"]
    missing = admin.put(
        "/api/v1/admin/signer",
        json={"authority": "KT.", "title": "", "name": "", "lock_version": 1},
    )
    assert missing.status_code == 422 and missing.json["error"]["message"]
    assert admin.put("/api/v1/admin/signer", json={"name": "x"}).status_code in (400, 422)
    spec = admin.get("/api/v1/openapi.json").json
    assert {"get", "put"} <= set(spec["paths"]["/api/v1/admin/signer"])


def test_the_signer_put_needs_the_whole_object_and_patch_changes_a_part(app, org, api, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNER_NAME", "")
    admin = api(org.admin)
    body = {"authority": "KT. Viện trưởng", "title": "Phó Viện trưởng", "name": "Lê Văn Cường"}
    assert admin.put("/api/v1/admin/signer", json=body).status_code == 422
    assert admin.put("/api/v1/admin/signer", json={**body, "lock_version": 0}).status_code == 200

    patched = admin.patch("/api/v1/admin/signer", json={"name": "Trần Thị Dung"})

    assert patched.status_code == 200
    assert patched.json["name"] == "Trần Thị Dung"
    assert patched.json["authority"] == "KT. VIỆN TRƯỞNG"
    assert patched.json["lock_version"] == 2
