"""In Chromium: one sheet from self-scoring to the council's decision, with a return."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.fixtures.accounts import PASSWORD

pytestmark = pytest.mark.e2e


def login(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


def logout(page: Page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_role("heading", name="Đăng nhập")).to_be_visible()


def open_kv2_sheet(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/scoring/")
    page.get_by_role("link", name="Viện kiểm sát nhân dân khu vực 2").first.click()
    expect(page.get_by_role("heading", name="Phiếu chấm điểm: Viện kiểm sát nhân dân khu vực 2"))\
        .to_be_visible()  # fmt: skip


def press(page: Page, button: str, note: str | None = None, label: str | None = None) -> None:
    if note is not None:
        page.get_by_label(label or f"Ghi chú — {button}").fill(note)
    page.get_by_role("button", name=button, exact=True).click()


def test_a_sheet_keeps_its_bonus_from_self_scoring_to_the_councils_decision(
    page: Page, live_server, org, open_period
):
    open_period()
    url = live_server.url

    # The unit's staff self-score (with a decimal comma) and claim a bonus; the head submits.
    login(page, url, "staff2")
    open_kv2_sheet(page, url)
    for code, value in {"I.1.1": "9,5", "I.1.2": "15", "I.2": "35", "II": "38"}.items():
        page.get_by_label(f"Điểm tự chấm {code}", exact=True).fill(value)
    page.get_by_role("button", name="Lưu điểm").click()
    expect(page.locator("#total-final-self")).to_have_text("97,5")
    page.get_by_label("Loại", exact=True).select_option(label="Điểm thưởng")
    page.get_by_label("Số điểm", exact=True).fill("2,5")
    page.get_by_label("Lý do (ví dụ: Bằng khen của UBND tỉnh)").fill("Bằng khen của UBND tỉnh")
    page.get_by_role("button", name="Thêm khoản điểm").click()
    expect(page.locator("#total-final-self")).to_have_text("100")
    logout(page)
    login(page, url, "head2")
    open_kv2_sheet(page, url)
    press(page, "Nộp")
    expect(page.get_by_text("Đã thực hiện: Nộp.")).to_be_visible()
    logout(page)

    # The Cụm trưởng returns it with a reason.
    login(page, url, "head1")
    open_kv2_sheet(page, url)
    press(page, "Trả lại để chỉnh sửa", "Tiêu chí II chưa có minh chứng",
          label="Lý do — Trả lại để chỉnh sửa")  # fmt: skip
    logout(page)

    # The unit sees why, fixes the score and submits again.
    login(page, url, "head2")
    open_kv2_sheet(page, url)
    expect(page.get_by_text("Bị trả lại").first).to_be_visible()
    expect(page.get_by_text("Tiêu chí II chưa có minh chứng")).to_be_visible()
    page.get_by_label("Điểm tự chấm II", exact=True).fill("36")
    page.get_by_role("button", name="Lưu điểm").click()
    expect(page.locator("#total-final-self")).to_have_text("98")
    press(page, "Nộp")
    logout(page)

    # The Cụm's column starts as the unit's; it lowers 1.1, with its reason, and finishes.
    login(page, url, "head1")
    open_kv2_sheet(page, url)
    expect(page.locator("#total-final-cluster")).to_have_text("98")
    page.get_by_label("Điểm Cụm chấm I.1.1", exact=True).fill("9")
    page.get_by_label("Ghi chú I.1.1", exact=True).fill("Tỷ lệ thực tế 98%")
    page.get_by_role("button", name="Lưu điểm").click()
    expect(page.locator("#total-final-cluster")).to_have_text("97,5")
    expect(page.locator("#total-bonus-cluster")).to_have_text("2,5")
    press(page, "Hoàn thành Cụm chấm")
    logout(page)

    # The office agrees with everything: the bonus is still there, and it verifies.
    login(page, url, "verifier")
    open_kv2_sheet(page, url)
    expect(page.locator("#total-final-verified")).to_have_text("97,5")
    expect(page.locator("#total-bonus-verified")).to_have_text("2,5")
    press(page, "Hoàn thành thẩm định")
    logout(page)

    # The council approves and publishes; the results show the rank and the classification.
    login(page, url, "council")
    open_kv2_sheet(page, url)
    press(page, "Công nhận")
    # The last step cannot be taken back: a page names what it does first.
    expect(page.get_by_text("Đây là bước cuối")).to_be_visible()
    press(page, "Công nhận")
    expect(page.get_by_text("Đã công nhận").first).to_be_visible()
    page.get_by_role("link", name="Năm 2026").first.click()
    page.get_by_role("link", name="Kết quả, xếp hạng").click()
    row = page.get_by_role("row", name="Viện kiểm sát nhân dân khu vực 2")
    expect(row).to_contain_text("Xuất sắc, đề nghị Cờ thi đua")
    expect(row.locator("[data-figure=group-rank]")).to_have_text("1")
    expect(row.locator("[data-figure=bonus]")).to_have_text("2,5")
    expect(row).to_contain_text("97,5")
    logout(page)
