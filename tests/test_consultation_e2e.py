"""In Chromium: a whole consultation round, from the request letter to the tracker."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.accounts import PASSWORD

pytestmark = pytest.mark.e2e

COMMENT = "Đề nghị làm rõ thế nào là không thực hiện đầy đủ chế độ thông tin, báo cáo."


def login(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


def logout(page: Page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()


def open_my_round(page: Page, base_url: str, title: str) -> None:
    page.goto(f"{base_url}/comments/")
    page.get_by_role("link", name=title).click()


def test_a_blind_round_end_to_end(page: Page, live_server, org, create_draft):
    draft = create_draft(drafter=org.drafter)
    base = live_server.url

    # The drafter sends the request letter to three units.
    login(page, base, "drafter")
    page.goto(f"{base}/comments/drafts/{draft.id}/open")
    page.get_by_label("Số công văn xin ý kiến").fill("125/VKS-VP")
    page.get_by_label("Nội dung công văn").fill("Đề nghị các đơn vị góp ý dự thảo Quy chế.")
    for n in (1, 2, 3):
        page.get_by_label(f"Viện kiểm sát nhân dân khu vực {n}", exact=True).check()
    expect(
        page.get_by_label("Kín (chỉ cơ quan soạn thảo xem ý kiến cho đến khi kết thúc lấy ý kiến)")
    ).to_be_checked()
    page.get_by_role("button", name="Gửi đề nghị góp ý").click()
    expect(page.get_by_text("Đã gửi đề nghị góp ý tới 3 đơn vị.")).to_be_visible()
    expect(page.get_by_role("heading", name="Theo dõi các đơn vị được mời")).to_be_visible()
    logout(page)

    # A staff member of unit 1 comments on điểm đ khoản 4 Điều 7.
    login(page, base, "staff1")
    open_my_round(page, base, draft.title)
    page.get_by_role("link", name="Góp ý điểm đ khoản 4 Điều 7").click()
    expect(page.get_by_role("heading", name="Góp ý: điểm đ khoản 4 Điều 7")).to_be_visible()
    page.get_by_label("Nội dung góp ý").fill(COMMENT)
    page.get_by_role("button", name="Lưu góp ý").click()
    expect(page.get_by_text(COMMENT)).to_be_visible()
    expect(page.get_by_text("Đang soạn ý kiến").first).to_be_visible()
    logout(page)

    # Its head checks exactly what will be sent, then sends it.
    login(page, base, "head1")
    open_my_round(page, base, draft.title)
    page.get_by_role("link", name="Gửi ý kiến góp ý của đơn vị").click()
    row = page.get_by_role("row", name="điểm đ khoản 4 Điều 7")
    expect(row).to_contain_text(COMMENT)
    page.get_by_role("button", name="Xác nhận gửi").click()
    expect(page.get_by_text("Đã gửi ý kiến của đơn vị.")).to_be_visible()
    logout(page)

    # Unit 2's head agrees with the draft, without comments.
    login(page, base, "head2")
    open_my_round(page, base, draft.title)
    page.get_by_role("link", name="Thống nhất với dự thảo").click()
    expect(page.get_by_text("thống nhất với dự thảo, không có ý kiến góp ý")).to_be_visible()
    page.get_by_role("button", name="Xác nhận gửi").click()
    expect(page.get_by_text("Đã gửi ý kiến của đơn vị.")).to_be_visible()
    logout(page)

    # The drafter's tracker shows each unit's state.
    login(page, base, "drafter")
    open_my_round(page, base, draft.title)
    tracker = page.get_by_role("table").filter(has_text="Gửi lúc")
    expect(tracker.get_by_role("row", name="Viện kiểm sát nhân dân khu vực 1")).to_contain_text(
        "Đã gửi ý kiến"
    )
    expect(tracker.get_by_role("row", name="Viện kiểm sát nhân dân khu vực 2")).to_contain_text(
        "Thống nhất với dự thảo"
    )
    expect(tracker.get_by_role("row", name="Viện kiểm sát nhân dân khu vực 3")).to_contain_text(
        "Chưa góp ý"
    )
    page.get_by_role("link", name="Ý kiến theo điều khoản").click()
    expect(page.get_by_text(COMMENT)).to_be_visible()
    logout(page)

    # The round is blind: unit 3 does not see the others' comments.
    login(page, base, "staff3")
    open_my_round(page, base, draft.title)
    expect(page.get_by_text("Đây là đợt lấy ý kiến kín")).to_be_visible()
    expect(
        page.get_by_role("heading", name="Ý kiến của Viện kiểm sát nhân dân khu vực 3")
    ).to_be_visible()
    expect(page.get_by_text(COMMENT)).to_have_count(0)
