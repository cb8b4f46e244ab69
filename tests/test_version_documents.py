"""A version's Word documents on the web and the API: the draft sent out for comment (each
clause inside its lineage bookmark), the comment form, the redline against an earlier version;
who may download them."""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict

import pytest
from docx import Document
from docx.enum.section import WD_ORIENT
from lxml import etree

from accounts.officedoc import NATIONAL_MOTTO, NATIONAL_NAME
from drafts import operations
from drafts.documents import COMMENT_FORM_HEADERS, bookmark_name, clause_lines
from drafts.models import Clause, DraftState
from drafts.tree import load_flat_clauses, to_diff_clauses
from extensions import db
from tests.tracked import W, body_paragraphs, change_tags

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def bookmark_texts(data: bytes) -> dict[str, list[str]]:
    """The paragraphs each bookmark spans, by bookmark name, wherever they are (body, cells)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    names: dict[str, str] = {}
    open_ids: set[str] = set()
    found: dict[str, list[str]] = defaultdict(list)
    for paragraph in root.iter(f"{{{W}}}p"):
        here = set(open_ids)
        for element in paragraph.iter():
            local = etree.QName(element).localname
            ident = element.get(f"{{{W}}}id")
            if local == "bookmarkStart":
                names[ident] = element.get(f"{{{W}}}name")
                open_ids.add(ident)
                here.add(ident)
            elif local == "bookmarkEnd":
                open_ids.discard(ident)
        text = "".join(paragraph.xpath(".//w:t/text()", namespaces={"w": W}))
        for ident in here:
            found[names[ident]].append(text)
    assert not open_ids, "a bookmark is never closed"
    return dict(found)


def all_texts(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    return ["".join(p.xpath(".//w:t/text()", namespaces={"w": W})) for p in root.iter(f"{{{W}}}p")]


@pytest.fixture
def consulting(create_draft, org):  # type: ignore[no-untyped-def]
    """A published draft out for comment, which every user may read."""
    draft = create_draft(drafter=org.drafter)
    draft.state = DraftState.CONSULTING
    db.session.commit()
    return draft


def revise(draft, drafter):  # type: ignore[no-untyped-def]
    """Dự thảo lần 2 (not yet published): Điều 2 reworded, a khoản removed, Điều 7 → Điều 3."""
    version = operations.new_version(draft, actor=drafter)
    db.session.flush()
    by_number = {(c.kind.value, c.number): c for c in version.clauses}
    by_number[("article", "2")].text = "Tự nguyện, công khai, dân chủ, đoàn kết."
    by_number[("article", "7")].number = "3"
    removed = next(c for c in version.clauses if c.text.startswith("Quy chế áp dụng"))
    db.session.delete(removed)
    db.session.commit()
    return version


def lines(version) -> list[str]:  # type: ignore[no-untyped-def]
    clauses = to_diff_clauses(load_flat_clauses([version.id])[version.id])
    return [line for clause in clauses for line in clause_lines(clause)]


# --------------------------------------------------------------------------- export for comment


def test_for_comment_docx_has_the_heading_and_one_bookmark_per_clause(
    consulting, org, auth, client
):
    version = consulting.versions[0]
    auth.login(org.staff1)
    response = client.get(f"/drafts/versions/{version.id}/for-comment.docx")
    assert response.status_code == 200 and response.mimetype == DOCX
    assert "attachment" in response.headers["Content-Disposition"]
    data = response.data
    texts = all_texts(data)
    assert NATIONAL_NAME in texts and NATIONAL_MOTTO in texts
    assert "VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG" in texts and "VĂN PHÒNG" in texts
    assert consulting.title.upper() in texts
    clauses = to_diff_clauses(load_flat_clauses([version.id])[version.id])
    spans = bookmark_texts(data)
    # One bookmark per clause, named from its lineage, spanning exactly the clause's text.
    assert spans == {bookmark_name(c.lineage): clause_lines(c) for c in clauses}
    assert len(spans) == len(clauses) == 11
    assert all(len(name) <= 40 and name[0].isalpha() for name in spans)
    lineage = db.session.query(Clause.lineage).filter(Clause.text.like("Chậm gửi%")).scalar()
    assert spans[f"df_{lineage}"] == ["a) Chậm gửi báo cáo;"]


def test_comment_form_has_one_row_per_provision_and_empty_comment_columns(consulting, org, api):
    version = consulting.versions[0]
    response = api(org.staff1).get(f"/api/v1/versions/{version.id}/comment-form.docx")
    assert response.status_code == 200 and response.mimetype == DOCX
    doc = Document(io.BytesIO(response.data))
    assert doc.sections[0].orientation == WD_ORIENT.LANDSCAPE
    heading = doc.tables[0].rows[0].cells
    assert NATIONAL_NAME in heading[1].text and "VĂN PHÒNG" in heading[0].text
    table = doc.tables[1]
    assert tuple(c.text for c in table.rows[0].cells) == COMMENT_FORM_HEADERS
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    # Điều 1 with khoản 1-2, Điều 2, Điều 7 with khoản 1 and 4 (điểm a, đ): nine provisions.
    assert [r[1] for r in rows] == [
        "Điều 1",
        "Khoản 1 Điều 1",
        "Khoản 2 Điều 1",
        "Điều 2",
        "Điều 7",
        "Khoản 1 Điều 7",
        "Khoản 4 Điều 7",
        "Điểm a khoản 4 Điều 7",
        "Điểm đ khoản 4 Điều 7",
    ]
    assert [r[0] for r in rows] == [str(n) for n in range(1, 10)]
    assert rows[3][2] == "Điều 2. Nguyên tắc hoạt động\nTự nguyện, công khai, dân chủ."
    assert all(r[3] == "" and r[4] == "" for r in rows)
    # The label cells carry the lineage bookmarks, for reading a filled form back.
    assert len(bookmark_texts(response.data)) == 9


def test_version_page_links_the_documents(consulting, org, auth, client):
    version = consulting.versions[0]
    auth.login(org.staff1)
    page = client.get(f"/drafts/{consulting.id}").get_data(as_text=True)
    assert f"/drafts/versions/{version.id}/for-comment.docx" in page
    assert f"/drafts/versions/{version.id}/comment-form.docx" in page
    assert "redline.docx" not in page  # nothing earlier to compare with


# --------------------------------------------------------------------------- redline


def test_redline_of_the_next_version_accepts_to_it_and_rejects_to_the_base(
    consulting, org, auth, client
):
    base = consulting.versions[0]
    version = revise(consulting, org.drafter)
    auth.login(org.drafter)
    page = client.get(f"/drafts/{consulting.id}?v=2").get_data(as_text=True)
    assert f"/drafts/versions/{version.id}/redline.docx" in page
    response = client.get(f"/drafts/versions/{version.id}/redline.docx")
    assert response.status_code == 200 and response.mimetype == DOCX
    data = response.data
    title = [consulting.title.upper(), "(Dự thảo lần 2 so với Dự thảo lần 1)", ""]
    assert body_paragraphs(data, accept=True) == title + lines(version)
    assert body_paragraphs(data, accept=False) == title + lines(base)
    tags = change_tags(data)
    assert tags["ins"] and tags["del"] and tags["moveFrom"] == 0
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert 'w:author="Văn phòng"' in xml


def test_redline_against_a_chosen_earlier_version_through_the_api(consulting, org, api):
    first = consulting.versions[0]
    second = revise(consulting, org.drafter)
    operations.publish_version(second, actor=org.drafter)
    third = operations.new_version(consulting, actor=org.drafter)
    db.session.commit()
    client = api(org.drafter)
    url = f"/api/v1/versions/{third.id}/redline.docx"
    by_default = client.get(url)
    assert by_default.status_code == 200
    assert body_paragraphs(by_default.data, accept=False)[3:] == lines(second)
    chosen = client.get(f"{url}?against={first.id}")
    assert chosen.status_code == 200
    assert body_paragraphs(chosen.data, accept=False)[3:] == lines(first)
    assert body_paragraphs(chosen.data, accept=True)[3:] == lines(third)
    later = client.get(f"/api/v1/versions/{second.id}/redline.docx?against={third.id}")
    assert later.status_code == 422 and later.json["error"]["code"] == "invalid"
    assert client.get(f"{url}?against=999999").status_code == 404
    first_has_none = client.get(f"/api/v1/versions/{first.id}/redline.docx")
    assert first_has_none.status_code == 409


# --------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("document", ["for-comment", "comment-form", "redline"])
def test_who_may_download(consulting, org, api, auth, client, document):
    version = revise(consulting, org.drafter)  # Dự thảo lần 2, still being written
    path = f"/versions/{version.id}/{document}.docx"
    # Someone who may not see the unpublished version: 403 on the API and the page.
    refused = api(org.staff1).get(f"/api/v1{path}")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"
    auth.login(org.staff1)
    assert client.get(f"/drafts{path}").status_code == 403
    assert client.get(f"/drafts/versions/999999/{document}.docx").status_code == 404
    assert api(org.staff1).get(f"/api/v1/versions/999999/{document}.docx").status_code == 404
    # The drafter sees it; an unpublished version is not sent out for comment.
    answer = api(org.drafter).get(f"/api/v1{path}")
    if document == "redline":
        assert answer.status_code == 200
    else:
        assert answer.status_code == 409 and answer.json["error"]["code"] == "conflict"


def test_openapi_lists_the_documents(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for document in ("for-comment", "comment-form", "redline"):
        operation = paths[f"/api/v1/versions/{{version_id}}/{document}.docx"]["get"]
        assert DOCX in operation["responses"]["200"]["content"]
    parameters = paths["/api/v1/versions/{version_id}/redline.docx"]["get"]["parameters"]
    assert "against" in {p["name"] for p in parameters}
