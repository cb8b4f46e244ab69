"""In Chromium: each clause's actions sit in one menu that opens with the keyboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from tests.test_e2e_login import login

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parent.parent / "test-results"


def test_a_clause_menu_opens_with_the_keyboard(page: Page, live_server, create_user, create_draft):
    drafter = create_user(Role.DRAFTER, username="soanmenu", full_name="Lê Văn Soạn")
    draft = create_draft(drafter=drafter, published=False)
    login(page, live_server.url, "soanmenu")
    page.goto(f"{live_server.url}/drafts/{draft.id}")
    summaries = page.locator("details.clause-tools > summary")
    assert summaries.count() == page.locator(".clause-node").count() > 0
    edit = page.get_by_role("link", name="Sửa Điều 1", exact=True)
    expect(edit).to_be_hidden()  # closed until asked for

    page.get_by_label("Thao tác với Điều 1", exact=True).focus()
    page.keyboard.press("Enter")
    expect(edit).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "clause-menu-open.png"))
    page.keyboard.press("Tab")
    expect(edit).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Nội dung")).to_be_visible()
