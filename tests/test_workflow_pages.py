"""The scoring pages, exports and demo: what users see and download."""

from __future__ import annotations

import io
import re
import zlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import event, func, insert, select

from accounts.models import Unit, UnitKind, User
from app import db
from tests.fixtures.drafts import CRITERIA
from tests.fixtures.workflow import DEADLINES, codes_to_keys, place, put_scores, sheet_of
from workflow import operations
from workflow.models import AdjustmentKind, Score, ScoreSheet, ScoreStage, SheetTransition
from workflow.queries import load_criteria

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def statements_for(client, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements), response.get_data(as_text=True)


def scored_period(adopt_criteria, create_group, org, units: int, criteria: int):  # type: ignore[no-untyped-def]
    """A period of `units` units over `criteria` criteria, fully scored in every column."""
    per_group = criteria // 2
    nodes = [
        {"kind": "criterion", "number": roman, "title": f"Nhóm {roman}",
         "max_points": per_group, "children": [
             {"kind": "criterion", "number": f"{g}.{i}", "title": f"Tiêu chí {g}.{i}",
              "max_points": 1, "children": []}
             for i in range(1, per_group + 1)]}
        for g, roman in ((1, "I"), (2, "II"))
    ]  # fmt: skip
    draft = adopt_criteria(nodes, title=f"Bảng {units}x{criteria}")
    db.session.execute(
        insert(Unit),
        [{"name": f"Đơn vị thử {units}-{n}", "short_name": f"T{units}-{n}",
          "kind": UnitKind.REGIONAL, "active": True} for n in range(units)],
    )  # fmt: skip
    db.session.commit()
    made = list(db.session.scalars(select(Unit).where(Unit.short_name.like(f"T{units}-%"))))
    for start in range(0, units, 10):
        create_group(made[start : start + 10], name=f"Cụm thử {units}-{start}",
                     leader=made[start])  # fmt: skip
    period = operations.open_period(
        draft, f"Kỳ {units}", made, None, DEADLINES, None, None, None, org.verifier, year=2026
    )
    db.session.commit()
    keys = [row.key for row in load_criteria(period.criteria_version_id).leaves]
    rows = [
        {"sheet_id": sheet.id, "lineage": key, "stage": stage, "value": Decimal(n % 2),
         "note": "", "lock_version": 1}
        for n, sheet in enumerate(period.sheets)
        for key in keys
        for stage in ScoreStage
    ]  # fmt: skip
    db.session.execute(insert(Score), rows)
    db.session.commit()
    return period


def test_results_page_statements_do_not_grow_with_units_or_criteria(
    client, auth, org, adopt_criteria, create_group
):
    small = scored_period(adopt_criteria, create_group, org, units=3, criteria=10)
    large = scored_period(adopt_criteria, create_group, org, units=30, criteria=100)
    assert db.session.scalar(select(func.count()).select_from(Score)) == (3 * 10 + 30 * 100) * 3
    auth.login(org.council)
    client.get(f"/scoring/periods/{small.id}/results")  # warm-up: the login's roles
    few, small_page = statements_for(client, f"/scoring/periods/{small.id}/results")
    many, large_page = statements_for(client, f"/scoring/periods/{large.id}/results")
    assert small_page.count("/scoring/sheets/") == 3
    assert large_page.count("/scoring/sheets/") == 30
    assert few == many
    assert many <= 15, many


def test_results_page_shows_rank_and_classification_per_cluster(client, auth, org, open_period):
    period = open_period()
    put_scores(sheet_of(period, org.r1), ScoreStage.VERIFIED)
    put_scores(sheet_of(period, org.r2), ScoreStage.VERIFIED,
               {"1.1": "9", "1.2": "15", "2": "35", "II": "40"})  # fmt: skip
    auth.login(org.council)
    page = client.get(f"/scoring/periods/{period.id}/results").get_data(as_text=True)
    assert "Cụm thi đua số 1" in page
    kv1 = page.index("Viện kiểm sát nhân dân khu vực 1")
    kv2 = page.index("Viện kiểm sát nhân dân khu vực 2")
    assert kv1 < kv2  # rank order
    assert "Xuất sắc, đề nghị Cờ thi đua" in page[kv1:kv2]
    assert "Tập thể lao động xuất sắc" in page[kv2:]
    assert "Chưa xếp loại" in page  # KV3 has no verified scores


def test_results_export_puts_the_three_columns_side_by_side(client, auth, org, open_period):
    period = open_period()
    sheet = sheet_of(period, org.r1)
    put_scores(sheet, ScoreStage.SELF, {"1.1": "10", "1.2": "15", "2": "35", "II": "40"})
    put_scores(sheet, ScoreStage.CLUSTER, {"1.1": "9,5", "1.2": "15", "2": "35", "II": "40"})
    put_scores(sheet, ScoreStage.VERIFIED, {"1.1": "9", "1.2": "15", "2": "35", "II": "40"})
    auth.login(org.verifier)
    response = client.get(f"/scoring/periods/{period.id}/results.xlsx")
    assert response.headers["Content-Disposition"].startswith("attachment")
    book = load_workbook(io.BytesIO(response.data))
    ranking = book["Xếp hạng"]
    header = [cell.value for cell in ranking[4]]
    assert header[3:6] == ["Điểm tự chấm", "Điểm Cụm chấm", "Điểm thẩm định"]
    first = [cell.value for cell in ranking[5]]
    assert first[1] == "Viện kiểm sát nhân dân khu vực 1"
    assert first[3:6] == [100, 99.5, 99] and first[11] == "Xuất sắc, đề nghị Cờ thi đua"
    detail = book["Chi tiết"]
    units = [cell.value for cell in detail[1] if cell.value]
    assert units[3:] == [f"Viện kiểm sát nhân dân khu vực {n}" for n in (1, 2, 3)]
    row = next(r for r in detail.iter_rows(values_only=True) if r[0] == "I.1.1")
    assert row[1] == "Giải quyết tố giác, tin báo đạt từ 90% trở lên"
    assert row[2:6] == (10, 10, 9.5, 9)  # maximum, then self / cluster / verified of KV1


def test_a_sheet_exports_as_xlsx_and_as_a_pdf_with_vietnamese_text(client, auth, org, open_period):
    period = open_period()
    sheet = sheet_of(period, org.r2)
    put_scores(sheet, ScoreStage.SELF, {"1.1": "9,5", "1.2": "15", "2": "30", "II": "40"})
    operations.add_adjustment(
        sheet, AdjustmentKind.DEDUCTION, "1", "Chậm gửi báo cáo quý III", org.staff2
    )
    db.session.commit()
    auth.login(org.staff2)
    book = load_workbook(io.BytesIO(client.get(f"/scoring/sheets/{sheet.id}/export.xlsx").data))
    values = [row for row in book.active.iter_rows(values_only=True)]
    assert ("Tổng điểm", None, None, Decimal("93.5")) == values[-4][:4] or any(
        r[0] == "Tổng điểm" and r[3] == 93.5 for r in values
    )
    assert any(r[0] and "Chậm gửi báo cáo quý III" in r[0] for r in values)

    response = client.get(f"/scoring/sheets/{sheet.id}/export.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = response.data
    assert data.startswith(b"%PDF") and b"LiberationSerif" in data
    # The embedded font's ToUnicode map has the letters of "Điểm tự chấm" (Đ, ự, ấ).
    streams = [data]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            streams.append(zlib.decompress(match.group(1)))
        except zlib.error:
            continue
    cmaps = b"".join(part for part in streams if b"beginbfchar" in part)
    for code in (b"<0110>", b"<1EF1>", b"<1EA5>"):
        assert code in cmaps, code


def test_a_missing_font_is_a_clear_message(app, client, auth, org, open_period, monkeypatch):
    from workflow import exports

    sheet = sheet_of(open_period(), org.r2)
    monkeypatch.setattr(exports, "FONT_DIRS", ())
    monkeypatch.setattr(exports.importlib.util, "find_spec", lambda name: None)
    auth.login(org.staff2)
    response = client.get(f"/scoring/sheets/{sheet.id}/export.pdf")
    assert response.status_code == 503
    assert "fonts-liberation2" in response.get_data(as_text=True)


# --- the sheet page ---------------------------------------------------------------------------


def test_sheet_page_shows_criteria_totals_and_what_is_missing(client, auth, org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    put_scores(sheet, ScoreStage.SELF, {"1.1": "9,5", "2": "30"})
    place(sheet, "self_scoring")
    auth.login(org.staff2)
    page = client.get(f"/scoring/sheets/{sheet.id}").get_data(as_text=True)
    for text in (
        "Điểm chuẩn",
        "Cách chấm",
        "Thiếu 1% trừ 0,5 điểm",
        "Điểm tự chấm",
        "Điểm Cụm chấm",
        "Điểm thẩm định",
        "Minh chứng",
        "Đang tự chấm",
    ):
        assert text in page, text  # fmt: skip
    assert "Còn thiếu điểm tự chấm" in page and "I.1.2, II" in page
    assert re.search(r'id="total-final-self">\s*39,5<', page)
    assert 'name="score-' in page and "Lưu điểm" in page


def test_saving_through_the_form_recomputes_the_total(client, auth, org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    keys = codes_to_keys(sheet.period)
    auth.login(org.staff2)
    form = {"stage": "self"}
    for code, value in {"1.1": "9,5", "1.2": "15", "2": "30", "II": "40"}.items():
        form |= {f"score-{keys[code]}": value, f"orig-{keys[code]}": "", f"lock-{keys[code]}": "0"}
    form[f"note-{keys['1.1']}"] = "Đạt 99%"
    response = client.post(f"/scoring/sheets/{sheet.id}/scores", data=form)
    assert response.status_code == 303
    page = client.get(f"/scoring/sheets/{sheet.id}").get_data(as_text=True)
    assert re.search(r'id="total-final-self">\s*94,5<', page)
    assert "Đạt 99%" in page


def test_a_stale_form_save_is_409_and_keeps_the_users_input(client, auth, org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    key = codes_to_keys(sheet.period)["1.1"]
    operations.save_scores(sheet, ScoreStage.SELF, [operations.ScoreInput(key, "7")], org.head2)
    db.session.commit()
    auth.login(org.staff2)
    # The form was loaded before head2 saved: no score then, lock version 0.
    response = client.post(
        f"/scoring/sheets/{sheet.id}/scores",
        data={"stage": "self", f"score-{key}": "8,5", f"orig-{key}": "", f"lock-{key}": "0"},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "vừa được người khác cập nhật" in page
    assert 'value="8,5"' in page  # the user's own input stays in the box
    assert "giá trị hiện tại: 7" in page
    db.session.expire_all()
    assert db.session.scalars(select(Score.value)).one() == Decimal("7")


def test_invalid_points_in_the_form_are_422_with_the_message_beside_the_input(
    client, auth, org, open_period
):
    sheet = sheet_of(open_period(), org.r2)
    key = codes_to_keys(sheet.period)["1.1"]
    auth.login(org.staff2)
    response = client.post(
        f"/scoring/sheets/{sheet.id}/scores",
        data={"stage": "self", f"score-{key}": "12", f"orig-{key}": "", f"lock-{key}": "0"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'value="12"' in page and "từ 0 đến 10; đã nhập 12" in page
    assert db.session.scalar(select(func.count()).select_from(Score)) == 0


def test_a_returned_sheet_shows_the_reason_and_the_history(client, auth, org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    put_scores(sheet, ScoreStage.SELF)
    place(sheet, "self_scoring")
    operations.apply_sheet_action(sheet, "submit", org.head2)
    operations.apply_sheet_action(sheet, "return", org.head1, "Tiêu chí 2 thiếu minh chứng")
    db.session.commit()
    auth.login(org.staff2)
    page = client.get(f"/scoring/sheets/{sheet.id}").get_data(as_text=True)
    assert "Bị trả lại" in page and "Tiêu chí 2 thiếu minh chứng" in page
    history = client.get(f"/scoring/sheets/{sheet.id}/history").get_data(as_text=True)
    assert history.index("Nộp") < history.index("Trả lại để chỉnh sửa")
    assert "Đã nộp" in history and org.head1.full_name in history


def test_overdue_sheets_stand_out(client, auth, org, open_period):
    period = open_period()
    with time_machine.travel(datetime(2026, 11, 22, 3, 0, tzinfo=UTC), tick=False):
        auth.login(org.verifier)  # inside the travel, or the session would have expired
        page = client.get(f"/scoring/periods/{period.id}").get_data(as_text=True)
        assert page.count('class="row-overdue"') == 3
        assert "quá hạn 2 ngày" in page
        operations.extend_deadline(sheet_of(period, org.r2),
                                   datetime(2026, 11, 30, 16, 59, tzinfo=UTC), "Ốm đau",
                                   org.verifier)  # fmt: skip
        db.session.commit()
        page = client.get(f"/scoring/periods/{period.id}").get_data(as_text=True)
        assert page.count('class="row-overdue"') == 2
        assert "còn 8 ngày" in page


def test_index_lists_what_the_user_must_do(client, auth, org, open_period):
    period = open_period()
    sheet = sheet_of(period, org.r2)
    put_scores(sheet, ScoreStage.SELF)
    place(sheet, "submitted")
    auth.login(org.head1)
    page = client.get("/scoring/").get_data(as_text=True)
    tasks = page.split("Các kỳ chấm điểm")[0]
    # head1 reviews KV2 and KV3's sheets... KV3 has not been submitted, so only KV2 and its own.
    assert "Viện kiểm sát nhân dân khu vực 2" in tasks and "Hoàn thành Cụm chấm" in tasks
    assert "Viện kiểm sát nhân dân khu vực 1" in tasks  # its own unit's self-scoring
    assert "Viện kiểm sát nhân dân khu vực 3" not in tasks
    auth.logout()
    auth.login(org.council)
    assert "không có phiếu chấm điểm nào chờ bạn" in client.get("/scoring/").get_data(as_text=True)


def test_the_office_opens_a_period_through_the_form(client, auth, org, adopted_criteria):
    auth.login(org.verifier)
    assert client.get("/scoring/periods/new").status_code == 200
    response = client.post(
        "/scoring/periods/new",
        data={
            "draft": adopted_criteria.id, "name": "6 tháng đầu năm 2026", "year": 2026,
            "scope": "groups", "groups": [org.cluster.id],
            "review_steps": ["cluster", "office", "council"],
            "due_self": "2026-05-20", "due_cluster": "2026-05-25", "due_office": "2026-06-01",
            "due_council": "2026-06-10", "bonus_cap": "4,5",
            "disqualifiers": "Để xảy ra tham nhũng\nCó cán bộ bị kỷ luật từ cảnh cáo trở lên",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.get_data(as_text=True)
    sheets = db.session.scalars(select(ScoreSheet)).all()
    assert sorted(s.unit.short_name for s in sheets) == ["KV1", "KV2", "KV3"]
    period = sheets[0].period
    assert period.bonus_cap == Decimal("4.5")
    assert period.disqualifiers[0] == "Để xảy ra tham nhũng"
    # The usual bands, in points of the table; the office edits them on the bands page.
    bands = period.bands_for(Decimal(100)).bands
    assert [(b.key, b.min_points) for b in bands][:2] == [("flag", 95), ("excellent", 90)]
    assert period.deadline_for("self").astimezone(UTC) == datetime(
        2026, 5, 20, 16, 59, 59, tzinfo=UTC
    )


def test_the_form_refuses_a_missing_deadline_with_a_message(client, auth, org, adopted_criteria):
    auth.login(org.verifier)
    response = client.post(
        "/scoring/periods/new",
        data={"draft": adopted_criteria.id, "name": "Năm 2026", "year": 2026, "scope": "all",
              "review_steps": ["cluster"], "due_self": "2026-11-20"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Cần đặt hạn cho bước “Cụm chấm”" in response.get_data(as_text=True)


# --- evidence -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("chuong-trinh.exe", b"MZ\x90\x00", "Chỉ nhận minh chứng dạng PDF"),
        ("gia-mao.pdf", b"just text", "Chỉ nhận minh chứng dạng PDF"),
        ("anh.pdf", PNG, "Nội dung tệp là PNG"),
        ("hong.docx", b"PK\x03\x04not a zip", "docx"),
    ],
)
def test_evidence_type_is_sniffed(client, auth, org, open_period, name, data, message):
    sheet = sheet_of(open_period(), org.r2)
    auth.login(org.staff2)
    response = client.post(
        f"/scoring/sheets/{sheet.id}/evidence",
        data={"lineage": "", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    follow = client.get(f"/scoring/sheets/{sheet.id}").get_data(as_text=True)
    if message != "docx":
        assert message in follow
    assert sheet.evidence == []


def test_evidence_size_is_limited(app, client, auth, org, open_period, monkeypatch):
    sheet = sheet_of(open_period(), org.r2)
    monkeypatch.setitem(app.config, "EVIDENCE_MAX_BYTES", 1024)
    auth.login(org.staff2)
    response = client.post(
        f"/scoring/sheets/{sheet.id}/evidence",
        data={"lineage": "", "file": (io.BytesIO(PDF + b"0" * 2000), "lon.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    assert db.session.get(ScoreSheet, sheet.id).evidence == []


def test_evidence_names_are_sanitised_and_downloads_are_attachments(client, auth, org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    key = codes_to_keys(sheet.period)["1.1"]
    auth.login(org.staff2)
    client.post(
        f"/scoring/sheets/{sheet.id}/evidence",
        data={
            "lineage": key,
            "file": (io.BytesIO(PNG), "C:\\Users\\cb\\Ảnh hiện trường <1>|2.png"),
        },
        content_type="multipart/form-data",
    )
    evidence = db.session.get(ScoreSheet, sheet.id).evidence[0]
    assert evidence.filename == "Ảnh hiện trường 12.png"
    assert evidence.lineage == key and evidence.content_type == "image/png"
    auth.logout()
    auth.login(org.head1)
    response = client.get(f"/scoring/evidence/{evidence.id}")
    assert response.status_code == 200 and response.data == PNG
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition


# --- demo -----------------------------------------------------------------------------------------


def test_demo_opens_a_period_with_sheets_in_several_states(app, adopt_criteria):
    from accounts import demo as accounts_demo
    from workflow import demo

    units = accounts_demo.load_organisation(2026)
    # drafts.demo adopts this table; a copy of its name is enough here.
    drafter = db.session.scalars(select(User).where(User.username == "soanthao")).one()
    adopt_criteria(
        CRITERIA, title="Bảng tiêu chí chấm điểm, xếp loại thi đua năm 2026", drafter=drafter
    )
    demo.load_demo(units, 2026)
    db.session.commit()
    demo.load_demo(units, 2026)  # idempotent
    db.session.commit()
    sheets = {s.unit.short_name: s for s in db.session.scalars(select(ScoreSheet))}
    assert set(units) <= set(sheets)  # every active unit has a sheet
    assert sheets["KV1"].state == "submitted"
    assert sheets["KV2"].state == "self_scoring" and sheets["KV2"].scores
    assert sheets["KV3"].state == "self_scoring"
    last = db.session.scalars(
        select(SheetTransition)
        .where(SheetTransition.sheet_id == sheets["KV3"].id)
        .order_by(SheetTransition.id.desc())
    ).first()
    assert last.action == "return" and "minh chứng" in last.note


# --- official PDFs (Decree 30 layout) ----------------------------------------------------------


def pdf_pages_text(data: bytes, tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    """Each page's text as poppler's pdftotext lays it out."""
    import subprocess

    path = tmp_path / "document.pdf"
    path.write_bytes(data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1]


def assert_official_pdf(pages: list[str], agency_unit: str, title: str, signer: list[str]) -> None:
    first = [line.strip() for line in pages[0].splitlines() if line.strip()]
    assert first[0].endswith("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert first[0].startswith("VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG ")
    assert any(line.endswith("Độc lập - Tự do - Hạnh phúc") for line in first[:3])
    assert any(line.startswith(agency_unit) for line in first[:3])
    assert any("Bắc Giang, ngày 04 tháng 12 năm 2026" in line for line in first[:5])
    assert title in first
    text = "\n".join(pages)
    assert "Nơi nhận:" in text
    for line in signer:
        assert text.count(line) == 1, line
    for number, page in enumerate(pages[1:], start=2):
        # Numbered from page 2, centred at the top.
        assert page.strip().splitlines()[0].strip() == str(number)
    assert not any(line.strip() == "1" for line in first[:2])


@time_machine.travel(datetime(2026, 12, 4, 3, 0, tzinfo=UTC), tick=False)
def test_the_sheet_pdf_is_an_official_document_signed_by_the_unit_head(
    client, auth, org, open_period, tmp_path
):
    sheet = sheet_of(open_period(), org.r2)
    put_scores(sheet, ScoreStage.SELF, {"1.1": "9,5", "1.2": "15", "2": "30", "II": "40"})
    auth.login(org.staff2)
    response = client.get(f"/scoring/sheets/{sheet.id}/export.pdf")
    assert response.status_code == 200
    assert_official_pdf(
        pdf_pages_text(response.data, tmp_path),
        "VIỆN KIỂM SÁT NHÂN DÂN KHU VỰC 2",
        "PHIẾU CHẤM ĐIỂM THI ĐUA",
        ["VIỆN TRƯỞNG", org.head2.full_name],
    )


@time_machine.travel(datetime(2026, 12, 4, 3, 0, tzinfo=UTC), tick=False)
def test_the_results_pdf_is_the_councils_document_signed_by_the_configured_signer(
    app, client, auth, org, open_period, monkeypatch, tmp_path
):
    monkeypatch.setitem(app.config, "SIGNER_AUTHORITY", "kt. viện trưởng")
    monkeypatch.setitem(app.config, "SIGNER_TITLE", "Phó Viện trưởng")
    monkeypatch.setitem(app.config, "SIGNER_NAME", "Lê Văn Cường")
    period = open_period()
    put_scores(sheet_of(period, org.r1), ScoreStage.VERIFIED)
    auth.login(org.council)
    web = client.get(f"/scoring/periods/{period.id}/results.pdf")
    assert web.status_code == 200 and web.mimetype == "application/pdf"
    assert web.headers["Content-Disposition"].startswith("attachment")
    pages = pdf_pages_text(web.data, tmp_path)
    assert_official_pdf(
        pages,
        "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG",
        "KẾT QUẢ CHẤM ĐIỂM, XẾP LOẠI THI ĐUA",
        ["KT. VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG", "Lê Văn Cường"],
    )
    assert "Viện kiểm sát nhân dân khu vực 1" in pages[0]
    assert "Xuất sắc," in pages[0]  # the band, wrapped in its cell


@time_machine.travel(datetime(2026, 12, 4, 3, 0, tzinfo=UTC), tick=False)
def test_a_long_results_pdf_is_numbered_from_page_two(
    adopt_criteria, create_group, client, auth, org, tmp_path
):
    period = scored_period(adopt_criteria, create_group, org, units=40, criteria=4)
    auth.login(org.council)
    pages = pdf_pages_text(client.get(f"/scoring/periods/{period.id}/results.pdf").data, tmp_path)
    assert len(pages) >= 2
    assert_official_pdf(
        pages, "HỘI ĐỒNG THI ĐUA - KHEN THƯỞNG", "KẾT QUẢ CHẤM ĐIỂM, XẾP LOẠI THI ĐUA",
        ["VIỆN TRƯỞNG"],
    )  # fmt: skip


def test_the_results_pdf_has_an_api_twin_and_is_refused_to_others(
    client, auth, org, open_period, api
):
    period = open_period()
    auth.login(org.staff2)
    assert client.get(f"/scoring/periods/{period.id}/results.pdf").status_code == 403
    url = f"/api/v1/scoring/periods/{period.id}/results.pdf"
    assert api(org.staff2).get(url).status_code == 403
    response = api(org.council).get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/scoring/periods/{period_id}/results.pdf" in spec["paths"]


def test_the_councils_recognition_asks_first(client, auth, org, open_period, fill_all):
    period = open_period()
    sheet = sheet_of(period, org.r1)
    fill_all([sheet])
    place(sheet, "verified")
    auth.login(org.council)
    url = f"/scoring/sheets/{sheet.id}/actions/approve"
    asked = client.post(url, data={"note": "Đủ điều kiện"})
    assert asked.status_code == 303 and "/actions/approve?note=" in asked.headers["Location"]
    db.session.expire_all()
    assert db.session.get(ScoreSheet, sheet.id).state == "verified"
    page = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Đây là bước cuối" in page and "Đã công nhận" in page
    assert 'name="note" value="Đủ điều kiện"' in page and 'name="confirmed" value="1"' in page
    done = client.post(url, data={"note": "Đủ điều kiện", "confirmed": "1"})
    assert done.status_code == 303
    db.session.expire_all()
    assert db.session.get(ScoreSheet, sheet.id).state == "approved"
    # Steps that can be taken back go straight through, as before.
    place(sheet, "verified")
    back = client.post(f"/scoring/sheets/{sheet.id}/actions/return", data={"note": "Bổ sung"})
    assert back.status_code == 303
    db.session.expire_all()
    assert db.session.get(ScoreSheet, sheet.id).state == "self_scoring"
