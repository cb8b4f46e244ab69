"""In Chromium: the secretary puts a clause on the conference screen and records three
opinions with the keyboard alone, while the screen, open in another browser, follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.test_e2e_login import login

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parent.parent / "test-results"


def say(page: Page, speaker: str, unit_steps: int, text: str, clause: str | None = None) -> None:
    """From the speaker box: name, unit (arrow keys), clause (kept unless given), text, Enter."""
    expect(page.get_by_label("Người phát biểu")).to_be_focused()
    page.keyboard.type(speaker)
    page.keyboard.press("Tab")
    for _ in range(unit_steps):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    if clause is not None:
        page.keyboard.press("Control+A")
        page.keyboard.press("Delete")
        page.keyboard.type(clause)
    page.keyboard.press("Tab")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    expect(page.get_by_text(f"Đã ghi ý kiến của {speaker}.")).to_be_visible()


def show(page: Page, clause: str) -> None:
    """The "on screen" box: reached with the keyboard, typed, Enter."""
    box = page.get_by_label("Điều khoản đang thảo luận", exact=False)
    while not box.evaluate("element => element === document.activeElement"):
        page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type(clause)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Màn hình hội nghị đang trình chiếu:")).to_be_visible()


def test_the_secretary_records_with_the_keyboard_while_the_screen_follows(
    page: Page,
    browser: Browser,
    browser_context_args,
    live_server,
    org,
    conference,
    secretary,
):
    base = f"{live_server.url}/comments/rounds/{conference.consultation_id}/meeting"
    room = browser.new_context(**browser_context_args)
    screen = room.new_page()
    login(screen, live_server.url, org.drafter.username)
    screen.goto(f"{base}/presenter")
    heading = screen.locator("#presenter-heading")
    opinions = screen.locator("#presenter-opinions > li")
    expect(heading).to_have_text("Tất cả ý kiến tại hội nghị")
    expect(opinions).to_have_count(0)

    login(page, live_server.url, secretary.username)
    page.goto(f"{base}/record")
    show(page, "7.4")
    # The screen polls its state: it follows without being reloaded.
    expect(heading).to_have_text("Khoản 4 Điều 7")
    expect(screen.locator("#presenter-clause")).to_contain_text(
        "Đơn vị bị trừ điểm khi có một trong các trường hợp sau:"
    )
    # Back on the form, the clause on screen is the one offered, the speaker box focused.
    expect(page.get_by_label("Điều khoản (ví dụ 5.2", exact=False)).to_have_value("7.4")

    say(page, "Lê Văn Trưởng", 1, "Đề nghị bỏ điểm đ.")
    expect(opinions).to_have_count(1)
    say(page, "Phạm Thị Cán", 2, "Đề nghị giữ nguyên khoản 4.")
    say(page, "Trần Văn Ba", 3, "Thống nhất với bố cục dự thảo.", clause="chung")
    expect(page.get_by_role("heading", name="Ý kiến đã ghi (3)")).to_be_visible()

    expect(opinions).to_have_count(2)  # the general opinion is not on khoản 4
    expect(opinions.nth(0)).to_contain_text("Lê Văn Trưởng")
    expect(opinions.nth(0)).to_contain_text("Đề nghị bỏ điểm đ.")
    expect(opinions.nth(1)).to_contain_text("Đề nghị giữ nguyên khoản 4.")
    SHOTS.mkdir(exist_ok=True)
    screen.screenshot(path=str(SHOTS / "conference-screen.png"))

    show(page, "chung")
    expect(heading).to_have_text("Ý kiến chung")
    expect(opinions).to_have_count(1)
    expect(opinions.nth(0)).to_contain_text("Trần Văn Ba")
    room.close()
