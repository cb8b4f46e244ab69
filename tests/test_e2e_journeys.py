"""In Chromium: each role's journey through consultation, consolidation, adoption and
scoring, walked twice: starting in Vietnamese and ending in English, then the other way
round, so every step is seen in both languages. Every page is screenshotted (under
test-results/journeys/) and checked with axe-core for serious or critical faults.

Factories put each journey where its role starts, so a journey is only that role's
own steps. The import and export steps sit in small helpers of their own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import Browser, Page, expect

from accounts.models import Role
from comments.consultation.models import Visibility
from drafts.models import DraftDrafter, DraftState
from extensions import db
from tests.fixtures.workflow import codes_to_keys, place, put_scores, sheet_of
from tests.journeys import Journey, serious_violations
from workflow.models import ScoreStage

pytestmark = pytest.mark.e2e

COMMENT = "Đề nghị bổ sung nguyên tắc khách quan."


@pytest.fixture(params=["vi", "en"])
def first(request: pytest.FixtureRequest) -> str:
    """The language a journey starts in; half-way it switches to the other."""
    return request.param


# --- import and export steps (kept apart: they may become background jobs) ---------------
def download_report(j: Journey, tmp_path: Path) -> list[str]:
    """The consolidation report, as the drafter downloads it; its paragraphs."""
    with j.page.expect_download() as info:
        j.link("Tải bản tổng hợp, tiếp thu, giải trình (.docx)")
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    return [p.text for p in Document(str(saved)).paragraphs]


def download_results(j: Journey, tmp_path: Path) -> bytes:
    """The period's results as a spreadsheet."""
    with j.page.expect_download() as info:
        j.page.get_by_role("link", name=re.compile(r"\.xlsx")).first.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    return saved.read_bytes()


# --- consultation and consolidation ----------------------------------------------------------
def test_drafter_publishes_invites_consolidates_revises_and_adopts(
    page: Page, live_server, org, create_draft, make_round, tmp_path, first
):
    create_draft(drafter=org.drafter, published=False, title="Quy chế làm việc")
    rnd = make_round()
    rnd.comment(org.r1, "Điều 2", COMMENT)
    rnd.submit(org.r1)
    rnd.submit(org.r2, agrees=True)
    j = Journey(page, live_server.url, f"drafter-{first}")
    j.login("drafter", first)

    # Publish: the confirmation page names the consequences; confirmed from the keyboard.
    j.link("Dự thảo")
    j.check("drafts")
    j.follow("Quy chế làm việc")
    expect(page.locator(".badge").first).to_have_text(j.t("Nháp"))
    j.check("draft-unpublished")
    v1 = j.t("Dự thảo lần %(n)d", n=1)
    j.button("Phát hành %(label)s", label=v1)
    expect(page.get_by_role("heading", name=j.t("Phát hành %(label)s?", label=v1))).to_be_visible()
    j.check("publish-confirm")
    j.tab_to(page.get_by_role("button", name=j.t("Phát hành %(label)s", label=v1)))
    page.keyboard.press("Enter")
    j.flash("Đã phát hành %(label)s; nội dung không thể sửa nữa.", label=v1)
    expect(page.locator(".badge").first).to_have_text(j.t("Đã phát hành, chưa lấy ý kiến"))
    j.check("draft-published")

    # Invite three units.
    j.link("Lấy ý kiến góp ý trên %(v)s", v=j.t("Dự thảo lần %(n)d", n=1))
    page.get_by_label(j.t("Số công văn xin ý kiến")).fill("130/VKS-VP")
    page.get_by_label(j.t("Nội dung công văn")).fill("Đề nghị các đơn vị góp ý.")
    for n in (1, 2, 3):
        page.get_by_label(f"Viện kiểm sát nhân dân khu vực {n}", exact=True).check()
    j.check("open-round")
    j.button("Gửi đề nghị góp ý")
    j.flash("Đã gửi đề nghị góp ý tới %(n)d đơn vị.", n=3)
    expect(page.locator(".badge").first).to_have_text(j.t("Đang nhận góp ý"))
    j.check("tracker")

    # In English from here: consolidate the closed round.
    j.switch_language()
    j.goto(f"/consolidation/{rnd.consultation.id}", "consolidation")
    j.button("Bắt đầu tổng hợp")
    whose = j.t("ý kiến của %(unit)s", unit="Viện kiểm sát nhân dân khu vực 1")
    page.get_by_role("link", name=f"{j.t('Trả lời')} {whose}", exact=True).click()
    j.check("answer")
    page.get_by_label(j.t("Tiếp thu"), exact=True).check()
    page.get_by_label(j.t("Nội dung tiếp thu, giải trình")).fill("Đã bổ sung.")
    j.button("Lưu câu trả lời")
    j.check("consolidation-answered")
    assert "BẢN TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN GÓP Ý" in download_report(j, tmp_path)

    # The next version, edited through the clause menu, then the comparison.
    j.goto(f"/drafts/{rnd.draft.id}")
    j.button("Tạo Dự thảo lần %(n)d để chỉnh lý", n=2)
    j.check("version-2")
    # The clause menu, opened and followed with the keyboard alone.
    j.tab_to(page.get_by_label(j.t("Thao tác với %(what)s", what="Điều 2"), exact=True))
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name=j.t("Sửa %(what)s", what="Điều 2"))).to_be_focused()
    page.keyboard.press("Enter")
    page.get_by_label(j.t("Nội dung")).fill("Tự nguyện, khách quan, công khai, dân chủ.")
    j.check("clause-edit")
    j.button("Lưu")
    page.get_by_role("button", name=j.rx("Hoàn thành chỉnh lý")).click()
    j.goto(f"/consolidation/drafts/{rnd.draft.id}/diff", "diff")
    expect(page.locator("ins").first).to_have_text("khách quan, ")

    # Adopt, through its confirmation page.
    j.goto(f"/drafts/{rnd.draft.id}/adopt")
    page.get_by_label(j.t("Số quyết định")).fill("125/QĐ-VKS")
    page.get_by_label(j.t("Ngày ký (dd/mm/yyyy)")).fill("15/12/2026")
    page.get_by_label(j.t("Người ký")).fill("Nguyễn Văn Viện")
    j.check("adopt")
    j.button("Tiếp tục")
    j.check("adopt-confirm")
    j.button("Xác nhận ban hành %(label)s", label=j.t("Dự thảo lần %(n)d", n=2))
    expect(page.get_by_role("heading", name=j.t("Đã ban hành"))).to_be_visible()
    j.check("adopted")
    db.session.expire_all()
    assert rnd.draft.state == DraftState.ADOPTED


def test_unit_staff_comments_then_self_scores_with_evidence(
    page: Page, live_server, org, make_round, open_period, tmp_path, first
):
    rnd = make_round(closed=False, visibility=Visibility.OPEN)
    keys = codes_to_keys(open_period())
    j = Journey(page, live_server.url, f"staff-{first}")
    j.login("staff1", first)

    j.goto("/comments/", "rounds")
    j.follow(rnd.draft.title)
    j.check("round")
    page.get_by_role("link", name=re.compile("Điều 2")).filter(has_text=j.t("Góp ý")).first.click()
    j.check("comment-form")
    page.get_by_label(j.t("Nội dung góp ý")).fill(COMMENT)
    j.button("Lưu góp ý")
    expect(page.get_by_text(COMMENT)).to_be_visible()
    j.check("comment-saved")

    j.switch_language()
    j.link("Chấm điểm thi đua")
    j.check("scoring")
    page.get_by_role("link", name="Viện kiểm sát nhân dân khu vực 1").first.click()
    for code, value in {"1.1": "9,5", "1.2": "15", "2": "35", "II": "38"}.items():
        # Each box is labelled with its column and the criterion's code and title.
        page.locator(f"#score-{keys[code]}").fill(value)
    j.button("Lưu điểm")
    expect(page.locator("#total-final-self")).to_have_text("97,5")  # points keep the decimal comma
    evidence = tmp_path / "bao-cao.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    upload = page.get_by_label(j.t("Tệp minh chứng (PDF, DOCX, XLSX, JPG, PNG)"))
    upload.set_input_files(str(evidence))
    j.button("Tải lên")
    expect(page.get_by_role("link", name="bao-cao.pdf").first).to_be_visible()
    j.check("sheet-with-evidence")


def test_unit_head_sends_the_position_then_submits_the_sheet(
    page: Page, live_server, org, make_round, open_period, first
):
    rnd = make_round(closed=False)
    rnd.comment(org.r2, "Điều 2", COMMENT)
    sheet = sheet_of(open_period(), org.r2)
    put_scores(sheet, ScoreStage.SELF)
    place(sheet, "self_scoring")
    j = Journey(page, live_server.url, f"head-{first}")
    j.login("head2", first)

    j.goto(f"/comments/rounds/{rnd.consultation.id}")
    j.check("round")
    j.link("Gửi ý kiến góp ý của đơn vị")
    expect(page.get_by_role("row", name=re.compile("Điều 2"))).to_contain_text(COMMENT)
    j.check("position")
    j.button("Xác nhận gửi")
    j.flash("Đã gửi ý kiến của đơn vị.")
    j.check("position-sent")

    j.switch_language()
    j.goto(f"/scoring/sheets/{sheet.id}", "sheet")
    j.button("Nộp")
    j.flash("Đã thực hiện: %(label)s.", label=j.t("Nộp"))
    j.check("sheet-submitted")
    j.link("Lịch sử xử lý")
    j.check("history")


def test_conference_secretary_records_the_meetings_opinions(
    page: Page, live_server, org, make_round, create_user, first
):
    rnd = make_round(closed=False)
    secretary = create_user(Role.DRAFTER, unit=org.office, username="thuky")
    db.session.add(DraftDrafter(draft_id=rnd.draft.id, user_id=secretary.id))
    db.session.commit()
    j = Journey(page, live_server.url, f"secretary-{first}")
    j.login("thuky", first)

    j.goto(f"/comments/rounds/{rnd.consultation.id}/conference", "conference")
    page.get_by_label(j.t("Ngày họp")).fill("2026-03-10")
    first = page.get_by_role("group", name=j.t("Ý kiến %(n)d", n=1))
    first.get_by_label(j.t("Đơn vị")).select_option(label="Viện kiểm sát nhân dân khu vực 3")
    first.get_by_label(j.t("Nội dung ý kiến")).fill("Đề nghị quy định rõ thời hạn họp Cụm.")
    j.button("Lưu các ý kiến")
    j.flash("Đã ghi nhận %(n)d ý kiến tại hội nghị.", n=1)
    j.check("conference-recorded")

    j.switch_language()
    j.goto(f"/comments/rounds/{rnd.consultation.id}/comments", "comments-by-clause")
    expect(page.get_by_text("Đề nghị quy định rõ thời hạn họp Cụm.")).to_be_visible()
    j.goto(f"/comments/rounds/{rnd.consultation.id}/tracker", "tracker")


# --- scoring ----------------------------------------------------------------------------------
def test_cluster_leader_returns_one_sheet_and_reviews_another(
    page: Page, live_server, org, open_period, first
):
    period = open_period()
    for unit in (org.r2, org.r3):
        sheet = sheet_of(period, unit)
        put_scores(sheet, ScoreStage.SELF)
        place(sheet, "submitted")
    j = Journey(page, live_server.url, f"cluster-{first}")
    j.login("head1", first)

    j.link("Chấm điểm thi đua")
    j.check("scoring")
    j.goto(f"/scoring/sheets/{sheet_of(period, org.r2).id}", "sheet-kv2")
    page.get_by_label(j.t("Lý do — %(a)s", a=j.t("Trả lại để chỉnh sửa"))).fill(
        "Tiêu chí II chưa có minh chứng"
    )
    j.button("Trả lại để chỉnh sửa")
    expect(page.get_by_text(j.t("Bị trả lại")).first).to_be_visible()
    j.check("returned")

    j.switch_language()
    j.goto(f"/scoring/sheets/{sheet_of(period, org.r3).id}", "sheet-kv3")
    j.button("Ghi nhận thống nhất với %(col)s", col=j.t("điểm tự chấm"))
    expect(page.locator("#total-final-cluster")).to_have_text("100")
    j.button("Hoàn thành Cụm chấm")
    expect(page.get_by_text(j.t("Cụm đã chấm")).first).to_be_visible()
    j.check("reviewed")


def test_office_verifies(page: Page, live_server, org, open_period, first):
    period = open_period()
    sheet = sheet_of(period, org.r2)
    put_scores(sheet, ScoreStage.SELF)
    put_scores(sheet, ScoreStage.CLUSTER, {"1.1": "9", "1.2": "15", "2": "35", "II": "40"})
    place(sheet, "cluster_scored")
    j = Journey(page, live_server.url, f"office-{first}")
    j.login("verifier", first)

    j.goto(f"/scoring/periods/{period.id}", "period")
    j.goto(f"/scoring/periods/{period.id}/verification", "verification")
    j.switch_language()
    j.goto(f"/scoring/sheets/{sheet.id}", "sheet")
    j.button("Ghi nhận thống nhất với %(col)s", col=j.t("điểm Cụm chấm"))
    expect(page.locator("#total-final-verified")).to_have_text("99")
    j.button("Hoàn thành thẩm định")
    expect(page.get_by_text(j.t("Đã thẩm định")).first).to_be_visible()
    j.check("verified")


def test_council_approves_on_the_confirmation_page_and_reads_the_results(
    page: Page, live_server, org, open_period, fill_all, tmp_path, first
):
    period = open_period()
    fill_all(period.sheets)
    for sheet in period.sheets:
        place(sheet, "verified")
    kv2 = sheet_of(period, org.r2)
    j = Journey(page, live_server.url, f"council-{first}")
    j.login("council", first)

    j.goto(f"/scoring/sheets/{kv2.id}", "sheet")
    j.button("Công nhận")
    final = "Đây là bước cuối: phiếu chuyển sang “%(state)s” và không còn bước nào sau đó."
    expect(page.get_by_text(j.t(final, state=j.t("Đã công nhận")))).to_be_visible()
    j.check("approve-confirm")
    j.button("Công nhận")
    expect(page.get_by_text(j.t("Đã công nhận")).first).to_be_visible()
    j.check("approved")

    j.switch_language()
    j.goto(f"/scoring/periods/{period.id}/results", "results")
    row = page.get_by_role("row", name=re.compile("Viện kiểm sát nhân dân khu vực 2"))
    expect(row.get_by_role("cell").first).to_have_text("100")
    assert download_results(j, tmp_path)[:2] == b"PK"


# --- administration ---------------------------------------------------------------------------
def test_administrator_reads_users_units_groups_and_the_audit_log(
    page: Page, live_server, org, create_draft, first
):
    create_draft(drafter=org.drafter)  # something for the audit log
    j = Journey(page, live_server.url, f"admin-{first}")
    j.login("admin", first)
    j.link("Người dùng")
    j.check("users")
    j.link("Đơn vị")
    j.check("units")
    j.link("Cụm, Khối")
    j.check("years")
    j.switch_language()
    j.goto(f"/admin/groups/{org.cluster.id}", "group")
    j.goto(f"/admin/users/{org.head1.id}", "user-edit")
    j.link("Nhật ký")
    expect(page.get_by_text(j.t("Phát hành phiên bản")).first).to_be_visible()
    j.check("audit")
    j.goto("/admin/outbox", "outbox")
    j.goto("/admin/reminders", "reminders")


def test_the_accessibility_check_catches_a_serious_fault(page: Page):
    """The check above would pass on anything if axe-core were not really running."""
    Journey(page, "", "axe-self-check")
    page.set_content('<html lang="vi"><body><main><input><img src="x.png"></main></body></html>')
    found = serious_violations(page)
    assert any(f.startswith("label (critical)") for f in found), found
    assert any(f.startswith("image-alt (critical)") for f in found), found


def test_without_javascript_a_form_the_clause_menu_and_a_confirmation_still_work(
    browser: Browser, browser_context_args, live_server, org, create_draft
):
    draft = create_draft(drafter=org.drafter, published=False)
    context = browser.new_context(**browser_context_args, java_script_enabled=False)
    try:
        page = context.new_page()
        j = Journey(page, live_server.url, "nojs", javascript=False)
        j.login("drafter")
        j.goto(f"/drafts/{draft.id}")
        page.get_by_label(j.t("Thao tác với %(what)s", what="Điều 1"), exact=True).click()
        j.link("Sửa %(what)s", what="Điều 1")
        expect(page.get_by_label(j.t("Nội dung"))).to_be_visible()
        j.check("clause-edit")
        j.goto(f"/drafts/{draft.id}")
        first = j.t("Dự thảo lần %(n)d", n=1)
        j.button("Phát hành %(label)s", label=first)
        j.check("publish-confirm")
        j.button("Phát hành %(label)s", label=first)
        j.flash("Đã phát hành %(label)s; nội dung không thể sửa nữa.", label=first)
        j.check("published")
    finally:
        context.close()
