"""What every role's journey in Chromium shares: a page walked in either language, a
screenshot and an accessibility check of each page it reaches.

Selectors are written in Vietnamese and looked up in the English catalogue once the
journey has switched language, so one journey covers both interfaces and a label
missing from the catalogue fails the journey that shows it.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from axe_playwright_python.base import AXE_SCRIPT
from babel.messages.pofile import read_po
from playwright.sync_api import Locator, Page, expect

from tests.fixtures.accounts import PASSWORD

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "test-results" / "journeys"
CATALOGUE = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
# What a journey refuses; "moderate" and "minor" findings are left to review.
BLOCKING_IMPACTS = {"serious", "critical"}


@cache
def english() -> dict[str, str]:
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    return {
        m.id: m.string
        for m in catalogue
        if isinstance(m.id, str) and isinstance(m.string, str) and m.string
    }


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it stands. The script is
    the one bundled with axe-playwright-python: nothing is fetched from the network."""
    if page.evaluate("typeof axe === 'undefined'"):
        page.evaluate(AXE_SCRIPT)
    results: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    found = []
    for violation in results["violations"]:
        if violation["impact"] in BLOCKING_IMPACTS:
            targets = [", ".join(map(str, node["target"])) for node in violation["nodes"][:5]]
            found.append(f"{violation['id']} ({violation['impact']}): {targets}")
    return found


class Journey:
    """One role's walk through the app in one browser context."""

    def __init__(self, page: Page, base_url: str, name: str, *, javascript: bool = True) -> None:
        self.page = page
        self.base = base_url
        self.name = name
        self.lang = "vi"
        self.javascript = javascript
        self.step = 0

    # --- language -------------------------------------------------------------------
    def t(self, text: str, **values: Any) -> str:
        """`text` (a catalogue msgid) as the interface shows it in the journey's language."""
        shown = text if self.lang == "vi" else english()[text]
        return shown % values if values else shown

    def rx(self, text: str, **values: Any) -> re.Pattern[str]:
        return re.compile(re.escape(self.t(text, **values)))

    def switch_language(self, lang: str | None = None) -> None:
        """Through the header's selector, as a user does; by default to the other language."""
        lang = lang or ("en" if self.lang == "vi" else "vi")
        self.page.get_by_label(self.t("Ngôn ngữ")).select_option(lang)
        self.page.get_by_role("button", name=self.t("Đổi"), exact=True).click()
        self.lang = lang
        expect(self.page.locator("html")).to_have_attribute("lang", lang)

    # --- pages ------------------------------------------------------------------------
    def goto(self, path: str, shot: str | None = None) -> None:
        response = self.page.goto(f"{self.base}{path}")
        assert response is not None and response.status < 400, (path, response and response.status)
        if shot:
            self.check(shot)

    def check(self, what: str) -> None:
        """Keep a screenshot of the page and refuse serious accessibility faults on it."""
        self.step += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        path = SHOTS / f"{self.name}-{self.step:02d}-{what}-{self.lang}.png"
        self.page.screenshot(path=str(path), full_page=True)
        if self.javascript:
            faults = serious_violations(self.page)
            assert not faults, f"{self.name} / {what} ({self.page.url}):\n" + "\n".join(faults)

    # --- common steps -----------------------------------------------------------------
    def login(self, username: str, lang: str = "vi") -> None:
        """Typed and sent with the Enter key: a form works from the keyboard alone. The
        journey then goes on in `lang`."""
        self.goto("/login", "login")
        self.page.get_by_label(self.t("Tên đăng nhập")).fill(username)
        self.page.get_by_label(self.t("Mật khẩu")).fill(PASSWORD)
        self.page.get_by_label(self.t("Mật khẩu")).press("Enter")
        expect(self.page.get_by_role("button", name=self.t("Đăng xuất"))).to_be_visible()
        if lang != self.lang:
            self.switch_language(lang)
        self.check("home")

    def tab_to(self, target: Locator, limit: int = 80) -> None:
        """Press Tab until `target` has the focus: it can be reached without a mouse."""
        for _ in range(limit):
            self.page.keyboard.press("Tab")
            if target.evaluate("el => el === document.activeElement"):
                return
        raise AssertionError(f"{target} is not reachable with the Tab key")

    def flash(self, text: str, **values: Any) -> None:
        expect(self.page.get_by_text(self.t(text, **values))).to_be_visible()

    def button(self, text: str, **values: Any) -> None:
        self.page.get_by_role("button", name=self.t(text, **values), exact=True).click()

    def link(self, text: str, **values: Any) -> None:
        self.page.get_by_role("link", name=self.t(text, **values), exact=True).first.click()

    def follow(self, name: str) -> None:
        """A link named by the data (a draft's title), the same in either language."""
        self.page.get_by_role("link", name=name, exact=True).first.click()
