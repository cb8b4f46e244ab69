"""The drafts pages: lists, the draft page, import with preview, editing, adoption."""

from __future__ import annotations

import io
import re
from pathlib import Path
from unittest.mock import patch

import pytest
from sqlalchemy import event, func, select

from accounts.models import Role
from drafts.models import Clause, Draft, DraftKind, DraftState, Version
from drafts.officefile import note_from_json
from drafts.parsing import LEFT_OUT_LETTERHEAD
from extensions import db
from tests.docbuild import OLE_HEADER, zip_bomb, zip_bytes
from tests.fixtures.drafts import criteria_xlsx, regulation_docx, regulation_nodes


def upload(data: bytes, name: str = "du-thao.docx") -> dict:
    return {"file": (io.BytesIO(data), name)}


def count_rows(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- lists and the draft page ---------------------------------------------------------------
def test_list_shows_state_kind_unit_and_latest_version(client, auth, org, create_draft):
    create_draft(drafter=org.drafter, state=DraftState.CONSULTING)
    auth.login(org.staff1)
    page = client.get("/drafts/").get_data(as_text=True)
    assert "Quy chế tổ chức và hoạt động của Cụm, Khối thi đua" in page
    assert "Đang lấy ý kiến" in page
    assert "Quy chế, quy định" in page
    assert "Văn phòng" in page
    assert "Dự thảo lần 1" in page
    assert "Tạo dự thảo" not in page


def test_list_hides_other_drafters_unpublished_drafts(client, auth, org, create_draft, create_user):
    create_draft(drafter=org.drafter, title="Dự thảo nội bộ chưa gửi")
    other = create_user(Role.DRAFTER, unit=org.office)
    auth.login(other)
    page = client.get("/drafts/").get_data(as_text=True)
    assert "Dự thảo nội bộ chưa gửi" not in page
    assert "Tạo dự thảo" in page


def test_drafter_creates_a_draft_with_a_co_drafter(client, auth, org, create_user):
    colleague = create_user(Role.DRAFTER, unit=org.office, full_name="Lê Thị Cùng Soạn")
    auth.login(org.drafter)
    form = client.get("/drafts/new").get_data(as_text=True)
    assert "Lê Thị Cùng Soạn" in form
    assert org.staff1.full_name not in form  # only drafters can be co-drafters
    response = client.post(
        "/drafts/new",
        data={
            "title": "Quy chế thi đua năm 2026",
            "kind": "regulation",
            "drafters": [colleague.id],
        },
    )
    assert response.status_code == 302
    draft = db.session.scalar(select(Draft))
    assert draft.title == "Quy chế thi đua năm 2026"
    assert draft.drafting_unit_id == org.office.id
    assert {d.user_id for d in draft.drafters} == {org.drafter.id, colleague.id}


def test_create_refuses_a_co_drafter_without_the_role(client, auth, org):
    auth.login(org.drafter)
    response = client.post(
        "/drafts/new", data={"title": "Quy chế", "kind": "regulation", "drafters": [org.staff1.id]}
    )
    assert response.status_code == 422
    assert count_rows(Draft) == 0


def test_draft_page_renders_the_tree_with_vietnamese_headings(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter)
    auth.login(org.drafter)
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    for text in ("Chương I", "QUY ĐỊNH CHUNG", "Điều 7. Chấm điểm, xếp loại thi đua", "4.", "đ)"):
        assert text in page
    assert "Dự thảo lần 1" in page
    assert "Đã phát hành, chưa lấy ý kiến" in page
    assert 'aria-label="Sửa điểm đ khoản 4 Điều 7"' not in page  # published: not editable


def test_a_draft_stops_saying_nhap_once_a_version_is_published(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter, published=False)
    auth.login(org.drafter)
    badge = re.compile(r'class="badge badge-">([^<]*)</span>')
    assert badge.findall(client.get(f"/drafts/{draft.id}").get_data(as_text=True)) == ["Nháp"]
    version = draft.versions[0]
    sent = client.post(
        f"/drafts/versions/{version.id}/publish",
        data={"confirmed": "1", "lock_version": version.lock_version},
    )
    assert sent.status_code == 302
    for url in (f"/drafts/{draft.id}", "/drafts/"):
        page = client.get(url).get_data(as_text=True)
        assert badge.findall(page) == ["Đã phát hành, chưa lấy ý kiến"], url
    assert db.session.get(Draft, draft.id).state == DraftState.DRAFT  # no round yet
    client.post("/lang", data={"lang": "en"})
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert badge.findall(page) == ["Published, not yet sent for comments"]


def test_criteria_rows_are_a_table_with_points_and_guidance(client, auth, org, create_draft):
    draft = create_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    auth.login(org.drafter)
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert "Điểm chuẩn" in page and "Cách chấm" in page
    assert "Mỗi trường hợp trừ 2,5 điểm" in page
    assert '<td class="num">100</td>' in page  # Tổng điểm chuẩn


def test_unpublished_version_is_hidden_from_other_users(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter, published=False, state=DraftState.CONSULTING)
    auth.login(org.staff1)
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert "Điều 7" not in page
    assert client.get(f"/drafts/{draft.id}?v=1").status_code == 404


def test_lifecycle_actions_and_table(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter, state=DraftState.CONSOLIDATING)
    auth.login(org.drafter)
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert "Thông qua, ban hành" in page
    assert "Tạo Dự thảo lần 2 để chỉnh lý" in page
    auth.logout()
    auth.login(org.staff1)
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert "Thông qua, ban hành" not in page
    table = client.get("/drafts/lifecycle").get_data(as_text=True)
    assert "Đang tổng hợp" in table and "Hoàn thành chỉnh lý" in table


def statements_for(client, url: str) -> tuple[int, str]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


@pytest.mark.parametrize("kind", [DraftKind.REGULATION, DraftKind.CRITERIA])
def test_draft_page_issues_the_same_statements_for_11_and_301_clauses(
    client, auth, org, create_draft, kind
):
    def nodes(count: int) -> list[dict]:
        if kind == DraftKind.REGULATION:
            # One chapter, then articles of four clauses: 1 + 5 * n rows.
            return regulation_nodes(articles=(count - 1) // 5, clauses_per_article=4)
        leaves = [
            {"kind": "criterion", "number": str(i), "title": f"Tiêu chí {i}", "max_points": 1}
            for i in range(1, count)
        ]
        return [{"kind": "criterion", "number": "I", "title": "Nhóm", "max_points": count - 1,
                 "children": leaves}]  # fmt: skip

    small = create_draft(nodes=nodes(11), kind=kind, drafter=org.drafter, published=False)
    large = create_draft(nodes=nodes(301), kind=kind, drafter=org.drafter, published=False)
    assert count_rows(Clause) == 312
    auth.login(org.drafter)
    client.get(f"/drafts/{small.id}")  # warm-up: the first request loads the login's roles
    few, small_page = statements_for(client, f"/drafts/{small.id}")
    many, large_page = statements_for(client, f"/drafts/{large.id}")
    assert len(re.findall(r'id="c\d+"', small_page)) == 11
    assert len(re.findall(r'id="c\d+"', large_page)) == 301
    assert few == many
    assert many <= 12, many


# --- import with preview ----------------------------------------------------------------------
def test_import_shows_a_preview_then_confirm_creates_the_version(
    client, auth, org, create_empty_draft
):
    draft = create_empty_draft(drafter=org.drafter)
    auth.login(org.drafter)
    response = client.post(f"/drafts/{draft.id}/import", data=upload(regulation_docx()))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Chưa có gì được lưu" in page
    assert "Số thứ tự không liên tục: Điều 7 đứng ngay sau Điều 2." in page
    assert "đ)" in page
    assert count_rows(Version) == 0  # nothing saved yet
    # The name, the preamble and what was left out are shown before confirming.
    assert "Tên văn bản:" in page and "QUY CHẾ" in page
    assert "không được nhập vào cây điều khoản" in page

    response = client.post(f"/drafts/{draft.id}/import/confirm")
    assert response.status_code == 302
    version = db.session.scalar(select(Version))
    assert version.number == 1 and version.source_filename == "du-thao.docx"
    assert count_rows(Clause) == 16
    # The version's page keeps showing what the import left out, with the reasons.
    assert version.left_out == [
        {"text": "VIỆN KIỂM SÁT NHÂN DÂN TỈNH", "reason": LEFT_OUT_LETTERHEAD},
        {"text": "DỰ THẢO", "reason": LEFT_OUT_LETTERHEAD},
    ]
    # Kept as template and values, so each reader sees it in their own language.
    assert [note_from_json(w) for w in version.import_warnings] == [
        "Số thứ tự không liên tục: Điều 7 đứng ngay sau Điều 2."
    ]
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    left_out = page.split("Đoạn không đưa vào", 1)[1]
    assert "DỰ THẢO" in left_out and LEFT_OUT_LETTERHEAD in left_out
    assert "Số thứ tự không liên tục: Điều 7 đứng ngay sau Điều 2." in page
    # The upload is gone once used, and it cannot be confirmed twice.
    assert client.post(f"/drafts/{draft.id}/import/confirm").status_code in (303, 409)
    assert count_rows(Version) == 1


def test_criteria_import_preview_lists_group_sum_problems(client, auth, org):
    auth.login(org.drafter)
    client.post("/drafts/new", data={"title": "Bảng tiêu chí 2026", "kind": "criteria"})
    draft = db.session.scalar(select(Draft))
    rows = [
        ["STT", "Tiêu chí", "Điểm chuẩn", "Cách chấm"],
        ["I", "Nghiệp vụ", 60, None],
        ["1", "Tin báo", 20, None],
        ["2", "Án hình sự", 30, None],
        ["II", "Quản lý", 40, None],
    ]
    response = client.post(
        f"/drafts/{draft.id}/import", data=upload(criteria_xlsx(rows), "tieu-chi.xlsx")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nhóm I: điểm chuẩn 60 khác tổng các tiêu chí con 50." in page
    assert "Tổng điểm chuẩn" in page


BAD_FILES = {
    "wrong type": (b"day la tep van ban thuong", "không phải là tài liệu Word"),
    "broken pdf": (b"%PDF-1.7 day la tep PDF", "Không đọc được tệp PDF"),
    "corrupt": (regulation_docx()[:4000], "bị hỏng"),
    "encrypted": (OLE_HEADER, "đặt mật khẩu"),
    "empty": (b"", "Tệp rỗng"),
    "zip bomb": (zip_bomb(2 * 1024 * 1024), "giải nén bất thường"),
    "spreadsheet for a regulation": (criteria_xlsx(), "không phải tài liệu Word"),
    "zip of something else": (zip_bytes({"a.txt": b"xin chao"}), "không phải là tài liệu Word"),
}


# Formats that need pdfminer or LibreOffice are read by a background job.
READ_IN_BACKGROUND = {"broken pdf", "encrypted"}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_uploads_get_a_clear_message_and_nothing_is_created(
    client, auth, org, create_draft, case, app
):
    draft = create_draft(drafter=org.drafter)
    data, message = BAD_FILES[case]
    auth.login(org.drafter)
    pending = Path(app.config["UPLOAD_DIR"]) / "tmp"
    before = set(pending.glob("*")) if pending.exists() else set()
    response = client.post(f"/drafts/{draft.id}/import", data=upload(data), follow_redirects=True)
    if case in READ_IN_BACKGROUND:
        # A PDF or an old Word file is read by a worker: its page tells why it failed.
        assert response.request.path.startswith("/jobs/")
        assert "Không thành công" in response.get_data(as_text=True)
    else:
        assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count_rows(Version) == 1
    assert set(pending.glob("*")) == before if pending.exists() else not before


def test_too_large_upload_gets_413_with_the_limit(client, auth, org, create_draft, app):
    draft = create_draft(drafter=org.drafter)
    auth.login(org.drafter)
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    try:
        response = client.post(f"/drafts/{draft.id}/import", data=upload(b"x" * (2 * 1024 * 1024)))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 20 * 1024 * 1024
    assert response.status_code == 413
    assert "Tệp tải lên quá lớn: giới hạn là 1 MB" in response.get_data(as_text=True)


def test_confirm_uses_only_the_users_own_upload(client, app, auth, org, create_draft, create_user):
    draft = create_draft(drafter=org.drafter)
    colleague = create_user(Role.DRAFTER, unit=org.office)
    draft.drafters.append(type(draft.drafters[0])(user=colleague))
    db.session.commit()
    auth.login(org.drafter)
    # Version 1 is published, so a new import makes version 2.
    client.post(f"/drafts/{draft.id}/import", data=upload(regulation_docx()))
    auth.logout()
    other = app.test_client()
    other.post("/login", data={"username": colleague.username, "password": "mat-khau-thu-nghiem"})
    response = other.post(f"/drafts/{draft.id}/import/confirm")
    assert response.status_code in (303, 409)  # nothing pending in *their* session
    assert count_rows(Version) == 1


# --- editing ----------------------------------------------------------------------------------
def test_edit_form_keeps_the_text_on_a_stale_save(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter, published=False)
    version = draft.versions[0]
    clause = db.session.scalar(select(Clause).where(Clause.number == "đ"))
    auth.login(org.drafter)
    stale = version.lock_version
    # Someone else saves first.
    client.post(
        f"/drafts/clauses/{clause.id}/edit",
        data={"kind": "point", "number": "đ", "text": "Bản của người kia.", "lock_version": stale},
    )
    response = client.post(
        f"/drafts/clauses/{clause.id}/edit",
        data={
            "kind": "point",
            "number": "đ",
            "text": "Nội dung tôi vừa gõ.",
            "lock_version": stale,
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "vừa được người khác sửa" in page
    assert "Nội dung tôi vừa gõ." in page
    db.session.expire_all()
    assert db.session.get(Clause, clause.id).text == "Bản của người kia."


def test_edit_of_a_published_version_is_refused_with_409(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter)
    clause = db.session.scalar(select(Clause).where(Clause.number == "đ"))
    auth.login(org.drafter)
    response = client.post(
        f"/drafts/clauses/{clause.id}/edit",
        data={"kind": "point", "number": "đ", "text": "Sửa lén.", "lock_version": 2},
    )
    assert response.status_code == 409
    assert "đã được phát hành nên không thể sửa" in response.get_data(as_text=True)
    assert client.get(f"/drafts/clauses/{clause.id}/edit").status_code == 409
    db.session.expire_all()
    assert db.session.get(Clause, clause.id).text != "Sửa lén."
    assert draft.versions[0].is_published


def test_add_clause_with_decimal_comma_points(client, auth, org, create_draft):
    draft = create_draft(kind=DraftKind.CRITERIA, drafter=org.drafter, published=False)
    version = draft.versions[0]
    group = db.session.scalar(select(Clause).where(Clause.number == "II"))
    auth.login(org.drafter)
    response = client.post(
        f"/drafts/versions/{version.id}/clauses/new?parent={group.id}",
        data={
            "kind": "criterion", "number": "1", "title": "Công tác văn thư",
            "max_points": "2,5", "guidance": "Chậm 1 ngày trừ 0,25 điểm",
            "lock_version": version.lock_version,
        },
    )  # fmt: skip
    assert response.status_code == 302
    added = db.session.scalar(select(Clause).where(Clause.title == "Công tác văn thư"))
    assert str(added.max_points) == "2.50"
    assert added.parent_id == group.id
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert "2,5" in page


def test_bad_points_are_a_field_error(client, auth, org, create_draft):
    draft = create_draft(kind=DraftKind.CRITERIA, drafter=org.drafter, published=False)
    version = draft.versions[0]
    auth.login(org.drafter)
    response = client.post(
        f"/drafts/versions/{version.id}/clauses/new",
        data={"kind": "criterion", "number": "III", "title": "Khác", "max_points": "mười",
              "lock_version": version.lock_version},
    )  # fmt: skip
    assert response.status_code == 422
    assert "không hợp lệ" in response.get_data(as_text=True)


def test_renumber_shows_old_and_new_then_applies(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter, published=False)
    version = draft.versions[0]
    auth.login(org.drafter)
    page = client.get(f"/drafts/versions/{version.id}/renumber").get_data(as_text=True)
    assert "Điều 7" in page and "Điều 3" in page
    assert "điểm đ khoản 4 Điều 7" in page and "điểm b khoản 2 Điều 3" in page
    response = client.post(
        f"/drafts/versions/{version.id}/renumber", data={"lock_version": version.lock_version}
    )
    assert response.status_code == 302
    numbers = db.session.scalars(select(Clause.number).order_by(Clause.seq)).all()
    assert numbers == ["I", "1", "1", "2", "2", "II", "3", "1", "2", "a", "b"]


def test_delete_confirmation_counts_children(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter, published=False)
    version = draft.versions[0]
    article = db.session.scalar(select(Clause).where(Clause.number == "7"))
    auth.login(org.drafter)
    page = client.get(f"/drafts/clauses/{article.id}/delete").get_data(as_text=True)
    assert "Các mục con (4 mục) cũng bị xóa." in page
    response = client.post(
        f"/drafts/clauses/{article.id}/delete", data={"lock_version": version.lock_version}
    )
    assert response.status_code == 302
    assert count_rows(Clause) == 6


def test_publish_then_new_version_then_finish_revision(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter, published=False)
    version = draft.versions[0]
    auth.login(org.drafter)
    response = client.post(
        f"/drafts/versions/{version.id}/publish",
        data={"lock_version": version.lock_version, "confirmed": "1"},
    )
    assert response.status_code == 302
    draft.state = DraftState.CONSOLIDATING
    db.session.commit()
    assert client.post(f"/drafts/{draft.id}/versions/new").status_code == 302
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert "Dự thảo lần 2" in page and "đang soạn, chưa phát hành" in page
    assert "Hoàn thành chỉnh lý" in page
    assert client.post(f"/drafts/{draft.id}/finish-revision").status_code == 302
    db.session.expire_all()
    draft = db.session.get(Draft, draft.id)
    assert draft.state == DraftState.REVISED
    assert all(v.is_published for v in draft.versions)


# --- adoption ---------------------------------------------------------------------------------
def test_adopt_criteria_with_sum_problems_lists_all_of_them(client, auth, org, create_draft):
    nodes = [
        {"kind": "criterion", "number": "I", "title": "Nghiệp vụ", "max_points": 60, "children": [
            {"kind": "criterion", "number": "1", "title": "Tin báo", "max_points": 20},
            {"kind": "criterion", "number": "2", "title": "Án", "max_points": 30},
        ]},
        {"kind": "criterion", "number": "II", "title": "Quản lý", "max_points": 40, "children": [
            {"kind": "criterion", "number": "1", "title": "Báo cáo", "max_points": 10.5},
        ]},
    ]  # fmt: skip
    draft = create_draft(nodes=nodes, kind=DraftKind.CRITERIA, drafter=org.drafter)
    auth.login(org.drafter)
    response = client.post(
        f"/drafts/{draft.id}/adopt",
        data={"version": draft.versions[0].id, "decision_number": "12/QĐ-VKS",
              "decision_date": "15/12/2026", "signer_name": "Nguyễn Văn Viện",
              "confirmed": "1"},
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nhóm I: điểm chuẩn 60 khác tổng các tiêu chí con 50." in page
    assert "Nhóm II: điểm chuẩn 40 khác tổng các tiêu chí con 10,5." in page
    db.session.expire_all()
    assert db.session.get(Draft, draft.id).state == DraftState.DRAFT


def test_adopted_draft_shows_the_decision_and_is_read_only(client, auth, org, create_draft):
    draft = create_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    auth.login(org.drafter)
    response = client.post(
        f"/drafts/{draft.id}/adopt",
        data={"version": draft.versions[0].id, "decision_number": "125/QĐ-VKS",
              "decision_date": "15/12/2026", "signer_name": "Nguyễn Văn Viện",
              "confirmed": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert "Đã ban hành" in page
    assert "Quyết định số 125/QĐ-VKS ngày 15/12/2026, người ký: Nguyễn Văn Viện." in page
    assert "Tạo Dự thảo lần 2" not in page and "Nhập phiên bản mới" not in page
    assert client.post(f"/drafts/{draft.id}/versions/new").status_code in (303, 409)
    assert count_rows(Version) == 1


def test_an_error_page_offers_the_way_back_to_its_draft(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter)
    draft.state = DraftState.ADOPTED
    db.session.commit()
    auth.login(org.drafter)
    response = client.get(f"/drafts/{draft.id}/adopt")
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert f'<a href="/drafts/{draft.id}">Quay lại “{draft.title}”</a>' in page
    assert "Về trang chủ" in page
    # Not to an object the user may not see.
    auth.logout()
    auth.login(org.head1)
    refused = client.get(f"/drafts/{draft.id}/adopt")
    assert refused.status_code == 403 and "Quay lại" not in refused.get_data(as_text=True)


def rtf(*paragraphs: str) -> bytes:
    """A hand-written RTF file (Vietnamese letters as \\u escapes), as older editors save."""

    def escape(text: str) -> str:
        return "".join(ch if ord(ch) < 128 else f"\\u{ord(ch)}?" for ch in text)

    body = "".join(f"{escape(p)}\\par\n" for p in paragraphs)
    return ("{\\rtf1\\ansi\\deff0{\\fonttbl{\\f0 Times New Roman;}}\\f0\n" + body + "}").encode()


def test_import_accepts_an_rtf_file_converted_by_libreoffice(client, auth, org, create_empty_draft):
    draft = create_empty_draft(drafter=org.drafter)
    auth.login(org.drafter)
    data = rtf(
        "QUY CHẾ",
        "Thi đua, khen thưởng",
        "Điều 1. Phạm vi",
        "1. Quy chế này quy định về thi đua.",
        "Điều 2. Hiệu lực",
        "Nơi nhận:",
        "- Các đơn vị;",
    )

    # A conversion runs as a background job (eager in tests): its page links to the preview.
    response = client.post(f"/drafts/{draft.id}/import", data=upload(data, "quy-che.rtf"))
    assert response.status_code == 303 and response.location.startswith("/jobs/")
    job_page = client.get(response.location).get_data(as_text=True)
    assert "Đã xong" in job_page
    preview_url = f"/drafts/{draft.id}/import/jobs/{response.location.rsplit('/', 1)[1]}"
    assert preview_url in job_page
    response = client.get(preview_url)
    page = response.get_data(as_text=True)

    assert response.status_code == 200
    assert count_rows(Version) == 0
    assert "Quy chế này quy định về thi đua." in page
    assert "QUY CHẾ Thi đua, khen thưởng" in page
    assert "Phần ký, nơi nhận" in page and "- Các đơn vị;" in page

    # Confirming uses the job's parse (the file is not converted again) and saves the version.
    with patch("drafts.operations.read_upload", side_effect=AssertionError("parsed again")):
        response = client.post(f"/drafts/{draft.id}/import/confirm")
    assert response.status_code == 302
    version = db.session.scalar(select(Version))
    assert version.source_filename == "quy-che.rtf"
    assert count_rows(Clause) == 3
