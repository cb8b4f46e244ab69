"""The English interface: every text marked in the code is in the English catalogue, and
the labels kept in code (states, roles, kinds, rounds, versions) show translated on the
pages; what the user typed shows as typed."""

from __future__ import annotations

import ast
import re
import shlex
from html import unescape
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from tests.fixtures.comments import comment_as, submit_as
from tests.fixtures.workflow import DEADLINES, place, put_scores, sheet_of
from workflow.models import ScoreStage

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    """The visible text of a page, tags removed and spaces collapsed."""
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def in_english(client, auth, user):  # type: ignore[no-untyped-def]
    """Log in and switch to English, as a user does from the header."""
    auth.login(user)
    client.post("/lang", data={"lang": "en", "next": "/"})
    return client


def present(text: str, *vietnamese: str) -> list[str]:
    """Which of these Vietnamese labels the text still shows."""
    return [label for label in vietnamese if label in text]


# --- the catalogue --------------------------------------------------------------------------
def extract_command(output: Path) -> list[str]:
    """The Makefile's `pybabel extract` (i18n-extract), writing to `output` instead."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    line = next(line for line in makefile.splitlines() if "pybabel extract" in line)
    args = shlex.split(line.strip().replace("$(BIN)/", ""))
    args[args.index("-o") + 1] = str(output)
    return args


def test_extraction_finds_nothing_the_catalogue_lacks(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    template = tmp_path / "messages.pot"
    CommandLineInterface().run(extract_command(template))
    with template.open("rb") as f:
        extracted = read_po(f)
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)

    missing = [m.id for m in extracted if m.id and m.id not in catalogue]
    assert not missing, missing[:10]
    # Labels marked with N_ in the code, and the formatted ones, are extracted too.
    for marked in ("Chưa góp ý", "Quản trị hệ thống", "Dự thảo lần %(n)d", "Chưa chấm"):
        assert marked in extracted, marked
    # Every template with a translated text is read (a template Jinja cannot parse
    # is skipped without an error).
    read = {filename for m in extracted for filename, _line in m.locations}
    translating = re.compile(r"\b_\(|gettext\(")
    templates = {
        str(path.relative_to(ROOT))
        for path in (ROOT / "templates").rglob("*")
        if path.suffix in (".html", ".txt") and translating.search(path.read_text(encoding="utf-8"))
    }
    assert templates and not templates - read, sorted(templates - read)


def test_every_message_has_an_english_translation():
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    messages = [m for m in catalogue if m.id]
    assert len(messages) > 500
    untranslated = [
        m.id
        for m in messages
        if m.fuzzy or not all(m.string if isinstance(m.string, tuple) else (m.string,))
    ]
    assert not untranslated, untranslated[:10]
    # Placeholders agree between each message and its translation.
    problems = [(m.id, errors) for m, errors in catalogue.check()]
    assert not problems, problems[:5]


# --- pages -------------------------------------------------------------------------------------
def test_tracker_shows_states_round_and_version_in_english(client, auth, org, blind_round):
    comment_as(org.staff1, blind_round, "Điều 2", "Đề nghị bổ sung nguyên tắc khách quan.")
    submit_as(org.head1, blind_round)
    submit_as(org.head2, blind_round, agrees=True)
    comment_as(org.staff3, blind_round, None, "Bản nháp của KV3.")
    in_english(client, auth, org.drafter)

    text = page_text(client.get(f"/comments/rounds/{blind_round.id}/tracker"))

    assert "Consultation round 1 · Draft 1" in text
    assert "Closed (only the drafting body sees the comments until the round is closed)" in text
    assert "Viện kiểm sát nhân dân khu vực 1 Comments submitted" in text
    assert "Viện kiểm sát nhân dân khu vực 2 Agrees with the draft" in text
    assert "Viện kiểm sát nhân dân khu vực 3 Drafting comments" in text
    assert "1 Comments submitted" in text and "0 No comments yet" in text
    assert not present(
        text,
        "Lần lấy ý kiến thứ",
        "Dự thảo lần",
        "Kín (",
        "Đã gửi ý kiến",
        "Thống nhất với dự thảo",
        "Đang soạn ý kiến",
        "Chưa góp ý",
    )


def test_tracker_stays_vietnamese_by_default(client, auth, org, blind_round):
    auth.login(org.drafter)
    text = page_text(client.get(f"/comments/rounds/{blind_round.id}/tracker"))
    assert "Lần lấy ý kiến thứ 1 · Dự thảo lần 1" in text
    assert "3 Chưa góp ý" in text and "Consultation round" not in text


def test_results_show_stage_headers_and_states_in_english(client, auth, org, open_period):
    period = open_period()
    put_scores(sheet_of(period, org.r1), ScoreStage.VERIFIED)
    place(sheet_of(period, org.r3), "cluster_scored")
    in_english(client, auth, org.council)

    text = page_text(client.get(f"/scoring/periods/{period.id}/results"))

    assert "Unit Self score Cluster score Verified score" in text
    assert "verified scores incomplete · Scored by the cluster" in text
    assert "verified scores incomplete · Not started" in text
    assert not present(
        text, "Điểm tự chấm", "Điểm Cụm chấm", "Điểm thẩm định", "Chưa đủ", "Cụm đã chấm"
    )
    # r1's classification: one of the default bands, in English.
    english_bands = ("Outstanding", "Advanced Labour Collective", "Tasks completed")
    assert any(band in text for band in english_bands), text
    assert not present(text, "Tập thể lao động", "Hoàn thành nhiệm vụ", "Cờ thi đua")


def test_sheet_actions_and_states_in_english(client, auth, org, open_period, fill_all):
    period = open_period()
    sheet = sheet_of(period, org.r1)
    fill_all([sheet])
    place(sheet, "verified")
    in_english(client, auth, org.council)

    text = page_text(client.get(f"/scoring/sheets/{sheet.id}"))

    assert "Status Verified" in text and "Current step Council review and recognition" in text
    assert "Self score Cluster score Verified score" in text
    for action in (
        "Recognise",
        "Return for revision",
        "Return to the step “Cluster score”",
        "Return to the step “Verification”",
    ):
        assert f"Note — {action}" in text or f"Reason — {action}" in text, action
    assert not present(text, "Đã thẩm định", "Công nhận", "Trả lại", "Điểm tự chấm")

    text = page_text(client.get(f"/scoring/periods/{period.id}"))
    assert "Self-scoring — due" in text and "Not started" in text


def test_step_labels_a_period_brings_show_as_typed(client, auth, org, open_period, fill_all):
    """Admin-entered step labels go through `_()` too: markup and "%" stay text."""
    step = {
        "key": "block",
        "title": "Khối <b>bình xét</b> 100%",
        "action": "block_review",
        "action_label": "Xong <i>50%</i>",
        "done_state": "block_reviewed",
        "done_label": "Khối đã xét <script>x</script>",
    }
    due = DEADLINES
    deadlines = {"self": due["self"], "block": due["cluster"], "council": due["council"]}
    period = open_period(steps=["self", step, "council"], deadlines=deadlines)
    sheet = sheet_of(period, org.r3)
    fill_all([sheet])
    place(sheet, "submitted")

    in_english(client, auth, org.head1)  # KV1 leads the Cụm: it reviews KV3's sheet
    html = client.get(f"/scoring/sheets/{sheet.id}").get_data(as_text=True)
    assert "Khối &lt;b&gt;bình xét&lt;/b&gt; 100%" in html and "<b>bình" not in html
    assert "Xong &lt;i&gt;50%&lt;/i&gt;" in html and "<i>50%" not in html
    auth.logout()

    place(sheet, "block_reviewed")
    in_english(client, auth, org.verifier)
    html = client.get(f"/scoring/periods/{period.id}").get_data(as_text=True)
    assert "Khối đã xét &lt;script&gt;" in html and "<script>x</script>" not in html


def test_drafts_list_and_page_in_english(client, auth, org, blind_round):
    in_english(client, auth, org.drafter)

    text = page_text(client.get("/drafts/"))
    assert "Regulation or rules" in text and "Under consultation" in text
    assert not present(text, "Quy chế, quy định", "Đang lấy ý kiến")

    text = page_text(client.get(f"/drafts/{blind_round.draft_id}"))
    assert "Status: Under consultation" in text
    assert "Consultation round 1 Draft 1" in text
    assert not present(text, "Đang lấy ý kiến", "Lần lấy ý kiến thứ", "Dự thảo lần")


def test_admin_pages_show_roles_and_kinds_in_english(client, auth, org):
    in_english(client, auth, org.admin)

    text = page_text(client.get("/admin/users"))
    for role in ("System administrator", "Unit head", "Unit staff", "Council standing body"):
        assert role in text, role
    assert not present(text, "Quản trị hệ thống", "Thủ trưởng đơn vị", "Cán bộ đơn vị")

    text = page_text(client.get("/admin/users/new"))
    assert "Member of the Emulation and Commendation Council" in text
    assert "Thành viên Hội đồng" not in text

    text = page_text(client.get("/admin/units"))
    assert "Regional procuracy" in text and "Office" in text
    assert not present(text, "VKSND khu vực", "Phòng nghiệp vụ")

    text = page_text(client.get("/admin/years/2026"))
    assert "Year 2026" in text and "Emulation cluster" in text
    assert not present(text, "Năm 2026", "Cụm thi đua số 1 Cụm thi đua")


def test_reminder_log_in_english(client, auth, org):
    in_english(client, auth, org.admin)
    text = page_text(client.get("/admin/reminders"))
    assert "Planned: 0" in text and "Comment deadline reminder" in text
    assert not present(text, "Đã lên lịch", "Nhắc hạn góp ý")


def test_error_page_in_english(client, auth, org):
    in_english(client, auth, org.staff1)
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "The page or item was not found." in response.get_data(as_text=True)


def test_login_request_speaks_the_pages_language(client):
    vietnamese = client.get("/drafts/", follow_redirects=True).get_data(as_text=True)
    assert "Vui lòng đăng nhập để tiếp tục." in vietnamese
    assert "Please log in" not in vietnamese
    client.post("/lang", data={"lang": "en", "next": "/login"})
    english = client.get("/drafts/", follow_redirects=True).get_data(as_text=True)
    assert "Please log in to continue." in english
    assert "Vui lòng đăng nhập" not in english


def test_forbidden_page_in_english(client, auth, org):
    in_english(client, auth, org.staff1)
    response = client.get("/admin/users")
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "You are not allowed to do this." in page
    assert "Bạn không có quyền" not in page


def test_every_audit_action_written_has_a_label():
    """The audit page names each action; a new code without a label would show raw."""
    from accounts.audit import action_label

    source = "\n".join(
        path.read_text(encoding="utf-8")
        for package in ("accounts", "notices", "drafts", "comments", "workflow", "tasks")
        for path in (ROOT / package).rglob("*.py")
    )
    codes = set(re.findall(r'audit\.record\(\s*"([a-z_.]+)"', source))
    assert len(codes) > 40
    assert not [code for code in sorted(codes) if action_label(code) is None]
    for dynamic in ("draft.adopt", "sheet.submit", "sheet.add_bonus", "sheet.remove_deduction"):
        assert action_label(dynamic) is not None


def test_the_audit_log_names_actions_in_the_readers_language(client, auth, org, create_draft):
    create_draft(drafter=org.drafter)
    in_english(client, auth, org.admin)
    text = page_text(client.get("/admin/audit"))
    assert "New draft (draft.create)" in text
    assert "Publish version" in text
    assert "Tạo dự thảo" not in text


# --- messages raised to a user -----------------------------------------------------------------
USER_ERRORS = {"UserError", "NotFound", "Forbidden", "Conflict", "Invalid", "TooLarge"}
# The pure modules cannot translate; their errors and warnings carry a template marked N_
# (or a constant so marked), which the page renders in its reader's language.
TEMPLATED = {"ParseError", "SheetTooLarge", "LimitExceeded", "TableError", "Note"}
TRANSLATORS = {"_", "gettext", "ngettext", "refusal"}


def _untranslated(node: ast.expr) -> bool:
    """A message written out in place (a literal, an f-string, or one glued from them)
    rather than passed through the catalogue."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and any(c.isalpha() for c in node.value)
    if isinstance(node, ast.JoinedStr):
        return any(_untranslated(v) for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp):
        return _untranslated(node.left) or _untranslated(node.right)
    format_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    if format_call and node.func.attr in ("format", "replace"):
        return _untranslated(node.func.value)
    return False


def _called(node: ast.Call) -> str:
    return node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")


def test_every_refusal_raised_to_a_user_is_translated():
    """An error a user reads (403, 404, 409, 422…) goes through the catalogue: written out
    in place, an English reader would get it in Vietnamese."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if parts[0] in {".venv", "tests", "migrations", "bench", "instance"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                call = node.exc
                message = call.args[0] if call.args else None
                if _called(call) not in USER_ERRORS | TEMPLATED or message is None:
                    continue
            elif isinstance(node, ast.Call) and _called(node) == "Note" and node.args:
                message = node.args[0]
            elif isinstance(node, ast.Call) and _called(node) == "get_or_404":
                call, message = node, node.args[2] if len(node.args) > 2 else None
                if message is None:
                    continue
            else:
                continue
            if _untranslated(message):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []
