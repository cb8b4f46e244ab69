"""The report "Bản tổng hợp, tiếp thu, giải trình ý kiến góp ý" built from the database,
its .xlsx twin, the unit's comment letter, PDF conversion, and speed at 3,000 comments."""

from __future__ import annotations

import io
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import pytest
from docx import Document
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table, _Cell
from openpyxl import load_workbook
from sqlalchemy import event, select

from accounts.models import Role
from comments.consolidation import exports, queries
from comments.consolidation import operations as ops
from comments.consultation.models import (
    Comment,
    Decision,
    Disposition,
    ResponseStatus,
    UnitResponse,
)
from drafts.models import Clause
from extensions import db
from tests import sheets
from tests.fixtures.consolidation import find_node, next_version
from tests.office import convert_to_pdf

HEADERS = [
    "STT",
    "Điều, khoản (nhóm vấn đề)",
    "Chủ thể góp ý",
    "Nội dung góp ý",
    "Nội dung tiếp thu, giải trình",
]
GENERAL = "Ý kiến chung"
ARTICLE_2 = "Điều 2. Nguyên tắc hoạt động"
ARTICLE_7 = "Điều 7. Chấm điểm, xếp loại thi đua"


@pytest.fixture
def office_head(org, create_user):  # type: ignore[no-untyped-def]
    return create_user(Role.UNIT_HEAD, unit=org.office, full_name="Nguyễn Văn An")


@pytest.fixture
def rnd(org, make_round, office_head):  # type: ignore[no-untyped-def]
    """Four units asked: KV1 and KV2 comment, KV3 agrees, Phòng 1 keeps an unsent draft;
    KV2 also spoke at the conference. Some comments are answered, one is not."""
    rnd = make_round()
    kv1 = rnd.comments(
        org.r1,
        [
            ("Điều 7", "Đề nghị quy định rõ thời điểm tự chấm điểm."),
            (None, "Đề nghị rà soát lỗi chính tả toàn văn."),
            ("Điều 2", "Đề nghị bổ sung nguyên tắc khách quan."),
            ("điểm đ khoản 4 Điều 7", "Đề nghị làm rõ thế nào là “không đầy đủ”."),
        ],
    )
    kv2 = rnd.comments(
        org.r2,
        [
            ("Điều 2", "Đề nghị bổ sung nguyên tắc khách quan."),
            ("khoản 1 Điều 7", "Đề nghị bổ sung thời hạn gửi bảng tự chấm."),
        ],
    )
    conference = rnd.comment(
        org.r2, None, "Đề nghị ban hành sớm để áp dụng từ năm 2026.", conference=True
    )
    rnd.submit(org.r1)
    rnd.submit(org.r2)
    rnd.submit(org.r3, agrees=True)
    rnd.comment(org.dept, "Điều 1", "Ý kiến nháp của Phòng 1, chưa gửi.")
    ops.dispose([kv1[2], kv2[0]], Decision.ACCEPTED, "Đã bổ sung tại khoản 3 Điều 2.", org.drafter)
    ops.dispose([kv1[1]], Decision.ACCEPTED, "", org.drafter)
    ops.dispose([kv1[3]], Decision.PARTLY, "Bổ sung ví dụ; giữ nguyên cách trừ điểm.", org.drafter)
    ops.dispose([kv2[1]], Decision.REJECTED, "Thời hạn đã quy định tại Điều 9.", org.drafter)
    ops.dispose([conference], Decision.EXPLAINED, "Dự kiến ban hành trong tháng 12.", org.drafter)
    db.session.commit()
    return rnd


def open_docx(data: bytes) -> DocxDocument:
    return Document(io.BytesIO(data))


def main_table(doc: DocxDocument) -> Table:
    # The first and last tables are the header and signature layouts.
    return doc.tables[1]


def physical_cells(table: Table, row_index: int) -> list[_Cell]:
    """The row's own w:tc elements after the STT column, so a merged cell's text is not
    repeated per row."""
    return [_Cell(tc, table) for tc in table.rows[row_index]._tr.tc_lst[1:]]


def download(client, auth, user, url):  # type: ignore[no-untyped-def]
    auth.login(user)
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.data


def consolidated_rows(rnd):  # type: ignore[no-untyped-def]
    """Straight from the tables: comments of sent positions and conference opinions."""
    return list(
        db.session.scalars(
            select(Comment)
            .join(UnitResponse, UnitResponse.id == Comment.response_id)
            .where(
                Comment.consultation_id == rnd.consultation.id,
                (UnitResponse.status == ResponseStatus.SUBMITTED)
                | (Comment.source == "conference"),
            )
        )
    )


def test_counts_paragraph_matches_the_data(client, auth, org, rnd):
    doc = open_docx(
        download(client, auth, org.drafter, f"/consolidation/{rnd.consultation.id}/report.docx")
    )
    comments = consolidated_rows(rnd)
    decisions = Counter(c.disposition.decision for c in comments if c.disposition)

    expected = (
        "Văn phòng đã gửi xin ý kiến 4 đơn vị; đã nhận được ý kiến của 3 đơn vị, trong đó 1 "
        f"đơn vị thống nhất với dự thảo, không có ý kiến khác. Tổng số có {len(comments)} ý "
        f"kiến góp ý; đã tiếp thu {decisions[Decision.ACCEPTED]} ý kiến, tiếp thu một phần "
        f"{decisions[Decision.PARTLY]} ý kiến, không tiếp thu {decisions[Decision.REJECTED]} "
        f"ý kiến, giải trình {decisions[Decision.EXPLAINED]} ý kiến; còn 1 ý kiến chưa xử lý."
    )
    assert expected in [p.text for p in doc.paragraphs]
    assert (len(comments), decisions[Decision.ACCEPTED]) == (7, 3)


def test_table_groups_every_comment_once_under_its_article(client, auth, org, rnd):
    doc = open_docx(
        download(client, auth, org.drafter, f"/consolidation/{rnd.consultation.id}/report.docx")
    )
    table = main_table(doc)
    body = table.rows[1:]

    assert [c.text for c in table.rows[0].cells] == HEADERS
    # General comments first, then articles in document order; one row per answer.
    assert [r.cells[1].text for r in body] == [GENERAL] * 2 + [ARTICLE_2] + [ARTICLE_7] * 3
    comment_cells = [physical_cells(table, i)[2].text for i in range(1, len(table.rows))]
    expected_group = {
        None: GENERAL,
        "Điều 2": ARTICLE_2,
        "Điều 7": ARTICLE_7,
        "khoản 1 Điều 7": ARTICLE_7,
        "điểm đ khoản 4 Điều 7": ARTICLE_7,
    }
    labels = {c.id: label for label, c in rnd._clauses.items()}
    for comment in consolidated_rows(rnd):
        holding = [i for i, text in enumerate(comment_cells) if comment.text in text]
        assert len(holding) == 1, comment.text
        where = labels.get(comment.clause_id) if comment.clause_id else None
        assert body[holding[0]].cells[1].text == expected_group[where]
    # A comment on a khoản or điểm names its exact provision inside its article's group.
    assert "Điểm đ khoản 4 Điều 7: Đề nghị làm rõ thế nào là “không đầy đủ”." in comment_cells
    assert "Ý kiến nháp của Phòng 1, chưa gửi." not in " ".join(comment_cells)


def test_articles_with_several_rows_are_merged_and_shared_answers_list_units(
    client, auth, org, rnd
):
    doc = open_docx(
        download(client, auth, org.drafter, f"/consolidation/{rnd.consultation.id}/report.docx")
    )
    table = main_table(doc)

    merges = [physical_cells(table, i)[0]._tc.vMerge for i in range(1, len(table.rows))]
    assert merges == ["restart", "continue", None, "restart", "continue", "continue"]
    shared = next(
        physical_cells(table, i)
        for i in range(1, len(table.rows))
        if physical_cells(table, i)[2].text == "Đề nghị bổ sung nguyên tắc khách quan."
    )
    assert [p.text for p in shared[1].paragraphs] == [
        "Viện kiểm sát nhân dân khu vực 1",
        "Viện kiểm sát nhân dân khu vực 2",
    ]
    assert shared[3].text == "Tiếp thu. Đã bổ sung tại khoản 3 Điều 2."
    conference = next(
        physical_cells(table, i)
        for i in range(1, len(table.rows))
        if physical_cells(table, i)[2].text.startswith("Đề nghị ban hành sớm")
    )
    assert conference[1].text == (
        "Viện kiểm sát nhân dân khu vực 2 (ý kiến tại Hội nghị trực tuyến 10/03/2026)"
    )


def test_header_and_signature_come_from_the_agency_settings(client, auth, org, rnd):
    doc = open_docx(
        download(client, auth, org.drafter, f"/consolidation/{rnd.consultation.id}/report.docx")
    )
    texts = [
        "".join(t.text or "" for t in p.iter(qn("w:t"))) for p in doc.element.body.iter(qn("w:p"))
    ]

    assert texts[0] == "VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG"
    assert texts[1] == "VĂN PHÒNG"
    assert "CHÁNH VĂN PHÒNG" in texts
    assert texts[-1] == "Nguyễn Văn An"


def test_xlsx_has_the_same_rows_with_exact_citations(client, auth, org, rnd):
    data = download(client, auth, org.drafter, f"/consolidation/{rnd.consultation.id}/report.xlsx")
    ws = load_workbook(io.BytesIO(data)).active
    rows = sheets.table(ws, "STT")

    assert [r[1] for r in rows[1:]] == [
        GENERAL,
        GENERAL,
        "Điều 2",
        "Điều 7",
        "Khoản 1 Điều 7",
        "Điểm đ khoản 4 Điều 7",
    ]
    shared = next(r for r in rows if r[1] == "Điều 2")
    assert shared[2:5] == (
        "Viện kiểm sát nhân dân khu vực 1; Viện kiểm sát nhân dân khu vực 2",
        "Đề nghị bổ sung nguyên tắc khách quan.",
        "Tiếp thu",
    )
    # The same heading and signer as the .docx: agency, "Số:" of the round, signer once.
    sheets.assert_official_layout(ws, "STT", "BẢN TỔNG HỢP, TIẾP THU, GIẢI TRÌNH Ý KIẾN GÓP Ý")
    assert "VIỆN KIỂM SÁT NHÂN DÂN TỈNH BẮC GIANG" in sheets.texts(ws, 1, 3)


def test_linked_change_appears_beside_the_answer(client, auth, org, rnd):
    version = next_version(
        rnd.draft,
        org.drafter,
        lambda nodes: find_node(nodes, "article", "2").update(text="Khách quan, công khai."),
    )
    new_article = db.session.scalars(
        select(Clause).where(
            Clause.version_id == version.id, Clause.kind == "article", Clause.number == "2"
        )
    ).one()
    comment = next(c for c in consolidated_rows(rnd) if c.text.startswith("Đề nghị bổ sung nguyên"))
    ops.link_change(new_article, [comment], org.drafter)
    db.session.commit()

    doc = open_docx(
        download(client, auth, org.drafter, f"/consolidation/{rnd.consultation.id}/report.docx")
    )
    responses = [physical_cells(main_table(doc), i)[3] for i in range(1, 7)]
    shared = next(cell for cell in responses if "khoản 3 Điều 2" in cell.text)
    assert [p.text for p in shared.paragraphs] == [
        "Tiếp thu. Đã bổ sung tại khoản 3 Điều 2.",
        "Đã chỉnh lý tại Điều 2 (Dự thảo lần 2).",
    ]
    page = client.get(f"/consolidation/{rnd.consultation.id}").get_data(as_text=True)
    assert "Đã chỉnh lý tại Điều 2 (Dự thảo lần 2)" in page


def test_unit_letter_lists_its_sent_comments_in_document_order(client, auth, org, rnd):
    data = download(
        client, auth, org.head1, f"/consolidation/responses/{rnd.response(org.r1).id}/letter.docx"
    )
    texts = [p.text for p in open_docx(data).paragraphs]

    items = [t for t in texts if t[:2] in ("1.", "2.", "3.", "4.", "5.")]
    assert items == [
        "1. Ý kiến chung: Đề nghị rà soát lỗi chính tả toàn văn.",
        "2. Về Điều 2: Đề nghị bổ sung nguyên tắc khách quan.",
        "3. Về Điều 7: Đề nghị quy định rõ thời điểm tự chấm điểm.",
        "4. Về điểm đ khoản 4 Điều 7: Đề nghị làm rõ thế nào là “không đầy đủ”.",
    ]
    assert "Kính gửi: Văn phòng Viện kiểm sát nhân dân tỉnh Bắc Giang." in texts


def test_letter_of_a_unit_that_agrees(client, auth, org, rnd):
    data = download(
        client, auth, org.drafter, f"/consolidation/responses/{rnd.response(org.r3).id}/letter.docx"
    )
    body = " ".join(p.text for p in open_docx(data).paragraphs)

    assert "thống nhất với nội dung dự thảo, không có ý kiến khác" in body


def test_documents_stay_vietnamese_for_a_reader_in_english(client, auth, org, rnd):
    """The interface language changes the pages, never the official documents."""
    version = next_version(
        rnd.draft,
        org.drafter,
        lambda nodes: find_node(nodes, "article", "2").update(text="Khách quan, công khai."),
    )
    auth.login(org.drafter)
    client.post("/lang", data={"lang": "en", "next": "/"})
    page = client.get(f"/consolidation/{rnd.consultation.id}").get_data(as_text=True)
    assert "Partly accepted" in page and "Tiếp thu một phần" not in page

    doc = open_docx(client.get(f"/consolidation/{rnd.consultation.id}/report.docx").data)
    table = main_table(doc)
    answers = [physical_cells(table, i)[3].text for i in range(1, len(table.rows))]
    texts = [p.text for p in doc.paragraphs] + answers
    assert [c.text for c in table.rows[0].cells] == HEADERS
    assert "Tiếp thu một phần. Bổ sung ví dụ; giữ nguyên cách trừ điểm." in answers
    assert any("(Dự thảo lần 1)" in text for text in texts)
    english = ("Accepted", "Partly accepted", "Explained", "Draft 1", "Consultation round")
    assert not [word for word in english if any(word in text for text in texts)]

    data = client.get(f"/consolidation/{rnd.consultation.id}/report.xlsx").data
    rows = sheets.table(load_workbook(io.BytesIO(data)).active, "STT")
    assert {r[4] for r in rows[1:]} >= {"Tiếp thu", "Tiếp thu một phần", "Không tiếp thu"}

    comparison = client.get(
        f"/consolidation/drafts/{rnd.draft.id}/comparison.docx",
        query_string={"old": rnd.version.id, "new": version.id},
    )
    cells = [c.text for t in open_docx(comparison.data).tables for row in t.rows for c in row.cells]
    assert "Dự thảo lần 1" in cells and "Dự thảo lần 2" in cells and "Sửa đổi" in cells
    assert "Draft 2" not in cells and "Amended" not in cells


def test_report_and_comparison_convert_to_pdf(client, auth, org, rnd, tmp_path: Path):
    version = next_version(
        rnd.draft,
        org.drafter,
        lambda nodes: find_node(nodes, "article", "2").update(text="Khách quan, công khai."),
    )
    auth.login(org.drafter)
    report = client.get(f"/consolidation/{rnd.consultation.id}/report.docx")
    comparison = client.get(
        f"/consolidation/drafts/{rnd.draft.id}/comparison.docx",
        query_string={"old": rnd.version.id, "new": version.id},
    )
    assert report.status_code == comparison.status_code == 200

    convert_to_pdf({"tong-hop.docx": report.data, "so-sanh.docx": comparison.data}, tmp_path)


# --------------------------------------------------------------------------- at scale


def fill(rnd, units, per_unit: int) -> int:  # type: ignore[no-untyped-def]
    """`per_unit` comments from each unit spread over the clauses; every third comment of
    the first unit is answered, and every fifteenth shares its answer with the second
    unit's comment on the same clause. Returns how many answers are shared."""
    clauses = [None, *rnd.version.clauses]
    made: list[list[Comment]] = []
    for unit in units:
        mine = []
        for i in range(per_unit):
            clause = clauses[i % len(clauses)]
            mine.append(
                Comment(
                    consultation=rnd.consultation,
                    draft_id=rnd.draft.id,
                    response=rnd.response(unit),
                    unit_id=unit.id,
                    clause=clause,
                    lineage=clause.lineage if clause is not None else None,
                    author=rnd.authors[unit.id],
                    text=f"Góp ý số {i} của {unit.short_name}: đề nghị chỉnh sửa câu chữ.",
                    search_text="",
                )
            )
        made.append(mine)
    db.session.add_all([c for mine in made for c in mine])
    for unit in units:
        rnd.submit(unit)
    shared = 0
    for i in range(0, per_unit, 3):
        answer = Disposition(
            consultation_id=rnd.consultation.id,
            decision=Decision.EXPLAINED,
            explanation="Giữ nguyên như dự thảo.",
            decided_by_id=rnd.consultation.created_by_id,
        )
        made[0][i].disposition = answer
        if i % 15 == 0:
            made[1][i].disposition = answer
            shared += 1
    db.session.commit()
    return shared


@contextmanager
def count_statements():  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def statements_for(client, urls: list[str]) -> list[int]:  # type: ignore[no-untyped-def]
    counts = []
    for url in urls:
        with count_statements() as seen:
            response = client.get(url)
        assert response.status_code == 200
        counts.append(len(seen))
    return counts


def test_statement_count_does_not_grow_with_the_comments(client, auth, org, make_round):
    small, large = make_round(), make_round()
    fill(small, [org.r1, org.r2], 3)
    fill(large, [org.r1, org.r2, org.r3], 40)
    auth.login(org.drafter)

    urls = ["/consolidation/{}", "/consolidation/{}/report.docx", "/consolidation/{}/report.xlsx"]
    assert statements_for(client, [u.format(small.consultation.id) for u in urls]) == (
        statements_for(client, [u.format(large.consultation.id) for u in urls])
    )


def test_report_of_3000_comments_is_fast(app, client, auth, org, make_round):
    rnd = make_round()
    shared = fill(rnd, [org.r1, org.r2, org.r3], 1000)
    auth.login(org.drafter)

    with count_statements() as seen:
        response = client.get(f"/consolidation/{rnd.consultation.id}/report.docx")

    assert response.status_code == 200
    assert len(seen) < 30
    table = main_table(open_docx(response.data))
    # One row per comment, but one for each pair sharing an answer.
    assert shared == 67
    assert len(table.rows) == 1 + 3000 - shared
    # Reading and arranging the round is ours to keep fast (about a second); writing the
    # .docx is python-docx's, linear in the rows, and not timed here.
    db.session.expire_all()
    with app.test_request_context():
        started = time.perf_counter()
        report = exports.consolidation_report(queries.load_consolidation(rnd.consultation))
        elapsed = time.perf_counter() - started
    assert len(report.rows) == 3000 - shared
    assert elapsed < 10, f"{elapsed:.1f} s"


# --- số, ký hiệu given at export, remembered per round --------------------------------------


def number_of(data: bytes) -> list[str]:
    left = open_docx(data).tables[0].rows[0].cells[0]
    return [p.text for p in left.paragraphs if p.text.startswith("Số:")]


def test_the_report_symbol_is_asked_at_export_and_remembered_for_the_round(client, auth, org, rnd):
    url = f"/consolidation/{rnd.consultation.id}/report.docx"
    assert number_of(download(client, auth, org.drafter, url)) == []

    given = client.get(url, query_string={"symbol": " 15/bc-vp "})
    assert given.status_code == 200
    assert number_of(given.data) == ["Số: 15/BC-VP"]
    db.session.refresh(rnd.consultation)
    assert rnd.consultation.report_symbol == "15/BC-VP"
    # The next export, by anyone who may download it, prints the remembered symbol.
    assert number_of(client.get(url).data) == ["Số: 15/BC-VP"]
    page = client.get(f"/consolidation/{rnd.consultation.id}").get_data(as_text=True)
    assert 'value="15/BC-VP"' in page


@pytest.mark.parametrize("symbol", ["15/BC VP", "<script>", "15//BC", "A" * 41])
def test_an_invalid_symbol_is_refused_with_a_message_and_not_kept(
    client, auth, org, rnd, api, symbol
):
    url = f"/consolidation/{rnd.consultation.id}/report.docx"
    auth.login(org.drafter)
    web = client.get(url, query_string={"symbol": symbol})
    assert web.status_code == 422
    assert "Số, ký hiệu văn bản không hợp lệ" in web.get_data(as_text=True)

    response = api(org.drafter).get(
        f"/api/v1/consultations/{rnd.consultation.id}/report.docx", query_string={"symbol": symbol}
    )
    assert response.status_code in (400, 422)
    assert response.json["error"]["message"]
    db.session.refresh(rnd.consultation)
    assert rnd.consultation.report_symbol is None


def test_the_api_twin_takes_the_symbol_too_and_only_the_drafter_may_set_it(org, rnd, api):
    url = f"/api/v1/consultations/{rnd.consultation.id}/report.docx"
    response = api(org.drafter).get(url, query_string={"symbol": "7/BC-VP"})
    assert response.status_code == 200
    assert number_of(response.data) == ["Số: 7/BC-VP"]
    assert api(org.head1).get(url, query_string={"symbol": "8/BC-VP"}).status_code == 403
    db.session.refresh(rnd.consultation)
    assert rnd.consultation.report_symbol == "7/BC-VP"


def test_the_configured_signer_signs_the_report_once(app, client, auth, org, rnd, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNER_AUTHORITY", "KT. VIỆN TRƯỞNG")
    monkeypatch.setitem(app.config, "SIGNER_TITLE", "PHÓ VIỆN TRƯỞNG")
    monkeypatch.setitem(app.config, "SIGNER_NAME", "Lê Văn Cường")
    doc = open_docx(
        download(client, auth, org.drafter, f"/consolidation/{rnd.consultation.id}/report.docx")
    )
    signature = [p.text for p in doc.tables[-1].rows[0].cells[1].paragraphs if p.text]
    assert signature == ["KT. VIỆN TRƯỞNG", "PHÓ VIỆN TRƯỞNG", "Lê Văn Cường"]
    texts = [p.text for p in doc.paragraphs]
    assert "Nguyễn Văn An" not in texts + signature
