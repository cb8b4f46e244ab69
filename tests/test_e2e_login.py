"""In Chromium: two roles log in and each sees its own navigation."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from tests.fixtures.accounts import PASSWORD

pytestmark = pytest.mark.e2e


def login(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def test_each_role_sees_its_navigation(page: Page, live_server, create_user, create_unit):
    office = create_unit("Văn phòng", "VP")
    create_user(Role.ADMIN, unit=office, username="quantri", full_name="Nguyễn Văn Quản")
    create_user(Role.UNIT_STAFF, username="canbo", full_name="Phạm Thị Cán")
    nav = page.get_by_role("navigation", name="Điều hướng chính")

    login(page, live_server.url, "quantri")
    expect(page.get_by_role("heading", name="Xin chào, Nguyễn Văn Quản")).to_be_visible()
    for label in ("Trang chủ", "Dự thảo", "Đơn vị", "Cụm, Khối", "Người dùng", "Nhật ký"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()

    login(page, live_server.url, "canbo")
    expect(page.get_by_role("heading", name="Xin chào, Phạm Thị Cán")).to_be_visible()
    expect(nav.get_by_role("link", name="Dự thảo", exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Chấm điểm thi đua", exact=True)).to_be_visible()
    for label in ("Đơn vị", "Người dùng", "Nhật ký"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)
    # The admin pages answer 403 with a plain message, not a stack trace.
    response = page.goto(f"{live_server.url}/admin/users")
    assert response is not None and response.status == 403
    expect(page.get_by_text("Bạn không có quyền thực hiện thao tác này.")).to_be_visible()


def test_wrong_password_shows_a_message(page: Page, live_server, create_user):
    create_user(Role.UNIT_STAFF, username="canbo2")
    page.goto(f"{live_server.url}/login")
    page.get_by_label("Tên đăng nhập").fill("canbo2")
    page.get_by_label("Mật khẩu").fill("sai-mat-khau")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_text("Tên đăng nhập hoặc mật khẩu không đúng.")).to_be_visible()
