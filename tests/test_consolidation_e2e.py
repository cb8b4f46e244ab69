"""In Chromium: the drafter consolidates a round, downloads the report, revises the draft,
links a change to the comment it answers, compares the versions and adopts."""

from __future__ import annotations

import re

import pytest
from docx import Document
from playwright.sync_api import Page, expect

from tests.fixtures.accounts import PASSWORD

pytestmark = pytest.mark.e2e


def login(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()


def test_drafter_consolidates_revises_links_compares_and_adopts(
    page: Page, live_server, org, make_round, tmp_path
):
    rnd = make_round()
    rnd.comment(org.r1, "Điều 2", "Đề nghị bổ sung nguyên tắc khách quan.")
    rnd.comment(org.r1, None, "Đề nghị rà soát lỗi chính tả.")
    rnd.comment(org.r2, "Điều 2", "Đề nghị bổ sung nguyên tắc khách quan.")
    rnd.submit(org.r1)
    rnd.submit(org.r2)
    base = live_server.url
    login(page, base, "drafter")

    # Consolidate: start, then answer KV1's and KV2's identical comments together.
    page.goto(f"{base}/consolidation/{rnd.consultation.id}")
    page.get_by_role("button", name="Bắt đầu tổng hợp").click()
    expect(page.get_by_text("Dự thảo đã chuyển sang “Đang tổng hợp”.")).to_be_visible()
    article = page.get_by_role("row", name=re.compile("Điều 2"))
    article.get_by_label("Chọn ý kiến của Viện kiểm sát nhân dân khu vực 1").check()
    article.get_by_label("Chọn ý kiến của Viện kiểm sát nhân dân khu vực 2").check()
    page.get_by_role("button", name="Trả lời chung các ý kiến đã chọn").click()
    page.get_by_label("Tiếp thu", exact=True).check()
    page.get_by_label("Nội dung tiếp thu, giải trình").fill("Đã bổ sung nguyên tắc khách quan.")
    page.get_by_role("button", name="Lưu câu trả lời").click()
    expect(page.get_by_text("Đã lưu câu trả lời cho 2 ý kiến.")).to_be_visible()
    # An explanation is required for "Giải trình": the form says so and keeps the choice.
    page.get_by_role(
        "link", name="Trả lời ý kiến của Viện kiểm sát nhân dân khu vực 1", exact=True
    ).click()
    page.get_by_label("Giải trình", exact=True).check()
    page.get_by_role("button", name="Lưu câu trả lời").click()
    expect(page.get_by_text("Giải trình: cần nhập nội dung giải trình.")).to_be_visible()
    page.get_by_label("Nội dung tiếp thu, giải trình").fill("Sẽ rà soát khi hoàn thiện.")
    page.get_by_role("button", name="Lưu câu trả lời").click()
    expect(page.get_by_text("Đã xử lý 3/3 ý kiến")).to_be_visible()

    # The report downloads as a Word document that opens.
    with page.expect_download() as info:
        page.get_by_role("link", name="Tải bản tổng hợp, tiếp thu, giải trình (.docx)").click()
    download = info.value
    assert download.suggested_filename.endswith(".docx")
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    texts = [p.text for p in Document(str(saved)).paragraphs]
    assert "BẢN TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN GÓP Ý" in texts

    # Version 2: a copy of version 1, with Điều 2 rewritten, then published.
    page.goto(f"{base}/drafts/{rnd.draft.id}")
    page.get_by_role("button", name="Tạo Dự thảo lần 2 để chỉnh lý").click()
    page.get_by_label("Thao tác với Điều 2", exact=True).click()  # the clause's menu
    page.get_by_role("link", name="Sửa Điều 2", exact=True).click()
    page.get_by_label("Nội dung").fill("Tự nguyện, khách quan, công khai, dân chủ.")
    page.get_by_role("button", name="Lưu").click()
    page.get_by_role("button", name=re.compile("Hoàn thành chỉnh lý")).click()

    # Compare: the change is highlighted; link it to the comments it answers.
    page.goto(f"{base}/consolidation/drafts/{rnd.draft.id}/diff")
    changed = page.locator(f"tr#clause-{rnd.clause('Điều 2').lineage}")
    expect(changed.locator("ins")).to_have_text("khách quan, ")
    expect(changed.get_by_text("Ý kiến ở dự thảo lần 1").first).to_be_visible()
    changed.get_by_role("link", name=re.compile("Liên kết ý kiến")).click()
    page.get_by_label(re.compile("Viện kiểm sát nhân dân khu vực 2.*khách quan")).check()
    page.get_by_role("button", name="Lưu liên kết").click()
    expect(page.get_by_text("Đã lưu liên kết giữa thay đổi và ý kiến góp ý.")).to_be_visible()
    changed = page.locator(f"tr#clause-{rnd.clause('Điều 2').lineage}")
    expect(changed.get_by_text("Thay đổi này tiếp thu:")).to_be_visible()
    expect(
        changed.locator("ul.linked-comments").get_by_text(
            "Viện kiểm sát nhân dân khu vực 2: Đề nghị bổ sung nguyên tắc khách quan."
        )
    ).to_be_visible()

    # The consolidation page shows the link beside the answer.
    page.goto(f"{base}/consolidation/{rnd.consultation.id}")
    expect(page.get_by_text("Đã chỉnh lý tại Điều 2 (Dự thảo lần 2)")).to_be_visible()

    # Adopt.
    page.goto(f"{base}/drafts/{rnd.draft.id}/adopt")
    page.get_by_label("Số quyết định").fill("125/QĐ-VKS")
    page.get_by_label("Ngày ký (dd/mm/yyyy)").fill("15/12/2026")
    page.get_by_label("Người ký").fill("Nguyễn Văn Viện")
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.get_by_role("heading", name="Xác nhận ban hành")).to_be_visible()
    page.get_by_role("button", name="Xác nhận ban hành Dự thảo lần 2").click()
    expect(page.get_by_role("heading", name="Đã ban hành")).to_be_visible()
