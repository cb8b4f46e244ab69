"""In Chromium: a drafter imports a Word file, checks the preview, confirms, publishes."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role, UnitKind
from tests.fixtures.accounts import PASSWORD
from tests.fixtures.drafts import regulation_docx

pytestmark = pytest.mark.e2e


def test_drafter_imports_previews_confirms_and_publishes(
    page: Page, live_server, create_unit, create_user, tmp_path
):
    office = create_unit("Văn phòng", "VP", UnitKind.OFFICE)
    create_user(Role.DRAFTER, unit=office, username="soanthao", full_name="Trần Thị Soạn")
    docx = tmp_path / "Quy chế Cụm, Khối thi đua.docx"
    docx.write_bytes(regulation_docx())

    page.goto(f"{live_server.url}/login")
    page.get_by_label("Tên đăng nhập").fill("soanthao")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()

    page.goto(f"{live_server.url}/drafts/")
    page.get_by_role("link", name="Tạo dự thảo").click()
    page.get_by_label("Tên dự thảo").fill("Quy chế tổ chức và hoạt động của Cụm, Khối thi đua")
    page.get_by_label("Loại dự thảo").select_option(label="Quy chế, quy định")
    page.get_by_role("button", name="Tạo dự thảo").click()
    expect(page.get_by_text("Đã tạo dự thảo.")).to_be_visible()

    page.get_by_role("link", name="Nhập phiên bản mới từ tệp").click()
    page.get_by_label("Tệp dự thảo").set_input_files(str(docx))
    page.get_by_role("button", name="Đọc tệp và xem trước").click()
    expect(page.get_by_role("heading", name="Xem trước nội dung nhập")).to_be_visible()
    expect(page.get_by_text("Chưa có gì được lưu.")).to_be_visible()
    expect(
        page.get_by_text("Số thứ tự không liên tục: Điều 7 đứng ngay sau Điều 2.")
    ).to_be_visible()
    expect(page.get_by_text("Điều 7. Chấm điểm, xếp loại thi đua")).to_be_visible()

    page.get_by_role("button", name="Xác nhận, tạo phiên bản").click()
    expect(
        page.get_by_text("Đã tạo Dự thảo lần 1 từ tệp Quy chế Cụm, Khối thi đua.docx.")
    ).to_be_visible()
    page.get_by_role("button", name="Phát hành Dự thảo lần 1").click()
    expect(page.get_by_role("heading", name="Phát hành Dự thảo lần 1?")).to_be_visible()
    page.get_by_role("button", name="Phát hành Dự thảo lần 1").click()
    expect(
        page.get_by_text("Đã phát hành Dự thảo lần 1; nội dung không thể sửa nữa.")
    ).to_be_visible()

    content = page.locator(
        "section", has=page.get_by_role("heading", name="Nội dung Dự thảo lần 1")
    )
    expect(content.get_by_text("Điều 7. Chấm điểm, xếp loại thi đua")).to_be_visible()
    point = content.locator("li.clause-point", has_text="Không thực hiện đầy đủ chế độ thông tin")
    expect(point.locator(".clause-number")).to_have_text("đ)")
    expect(content.get_by_role("link", name="Sửa")).to_have_count(0)  # published: read-only
