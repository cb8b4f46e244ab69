"""In Chromium: the header's language selector stays on one line at common widths, for
the role with the longest navigation, in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Role
from tests.test_e2e_login import login

pytestmark = pytest.mark.e2e

SHOTS = Path(__file__).resolve().parent.parent / "test-results"


@pytest.mark.parametrize("width", [1280, 1024])
def test_the_language_selector_stays_on_one_line(
    page: Page, live_server, create_user, create_unit, width: int
):
    office = create_unit("Văn phòng", "VP")
    create_user(Role.ADMIN, unit=office, username=f"quantri{width}", full_name="Nguyễn Văn Quản")
    page.set_viewport_size({"width": width, "height": 800})
    login(page, live_server.url, f"quantri{width}")
    SHOTS.mkdir(exist_ok=True)
    for lang, greeting in (("vi", "Xin chào"), ("en", "Hello")):
        if lang == "en":
            page.select_option("#lang-select", "en")
            page.locator("form.lang button").click()
        # Measure the page that has loaded, not the one being left.
        expect(page.get_by_role("heading", name=f"{greeting}, Nguyễn Văn Quản")).to_be_visible()
        page.wait_for_load_state("load")
        form = page.locator("form.lang").bounding_box()
        select = page.locator("#lang-select").bounding_box()
        button = page.locator("form.lang button").bounding_box()
        assert form and select and button
        page.screenshot(path=str(SHOTS / f"header-{width}-{lang}.png"))
        # One line: the form is no taller than its tallest control, and the button
        # sits beside the selector rather than under it.
        assert form["height"] <= max(select["height"], button["height"]) + 2, (lang, form)
        assert abs(select["y"] - button["y"]) < select["height"] / 2, (lang, select, button)
        assert button["x"] > select["x"] + select["width"] - 1
        assert form["x"] + form["width"] <= width
        # It stays with the account links, on their line.
        logout = page.locator(".who button.link").bounding_box()
        assert (
            logout
            and select["y"] <= logout["y"] + logout["height"] / 2 <= select["y"] + select["height"]
        )
