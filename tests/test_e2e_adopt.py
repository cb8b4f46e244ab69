"""In Chromium: adopting goes through the confirmation page, which warns before an
older version is adopted and adopts nothing until its button is pressed."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from drafts import operations
from drafts.models import Draft, DraftState
from extensions import db
from tests.test_e2e_login import login

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parent.parent / "test-results"


def test_adopting_an_older_version_asks_twice(page: Page, live_server, create_user, create_draft):
    drafter = create_user(Role.DRAFTER, username="soanthao", full_name="Lê Văn Soạn")
    draft = create_draft(drafter=drafter, state=DraftState.CONSOLIDATING)
    second = operations.new_version(draft, actor=drafter)
    db.session.flush()
    operations.publish_version(second, actor=drafter)
    db.session.commit()

    login(page, live_server.url, "soanthao")
    page.goto(f"{live_server.url}/drafts/{draft.id}")
    page.get_by_role("link", name="Thông qua, ban hành").click()
    page.get_by_label("Phiên bản được ban hành").select_option(label="Dự thảo lần 1")
    page.get_by_label("Số quyết định").fill("125/QĐ-VKS")
    page.get_by_label("Ngày ký (dd/mm/yyyy)").fill("15/12/2026")
    page.get_by_label("Người ký").fill("Nguyễn Văn Viện")
    page.get_by_role("button", name="Tiếp tục").click()

    expect(page.get_by_role("heading", name="Xác nhận ban hành")).to_be_visible()
    expect(page.get_by_text("Dự thảo lần 1 không phải bản mới nhất.")).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "adopt-confirm.png"), full_page=True)
    # "Back" keeps what was typed.
    page.get_by_role("link", name="Quay lại sửa").click()
    expect(page.get_by_label("Số quyết định")).to_have_value("125/QĐ-VKS")
    page.get_by_role("button", name="Tiếp tục").click()

    confirm = page.get_by_role("button", name="Xác nhận ban hành Dự thảo lần 1")
    confirm.click()  # the box is required: the browser does not send the form
    expect(page.get_by_role("heading", name="Xác nhận ban hành")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Draft, draft.id).state == DraftState.CONSOLIDATING

    page.get_by_label("Tôi hiểu và vẫn muốn ban hành Dự thảo lần 1").check()
    confirm.click()
    expect(page.get_by_role("heading", name="Đã ban hành")).to_be_visible()
    expect(page.get_by_text("Phiên bản được ban hành: Dự thảo lần 1.")).to_be_visible()
    db.session.expire_all()
    assert db.session.get(Draft, draft.id).adopted_version_id == draft.versions[0].id
