"""Importing what a unit sends: the draft for comment marked up in Word (comments, tracked
changes, edits without tracking), a copy without its bookmarks, the filled comment form, a
letter (.docx, .pdf). Each opinion becomes a comment of the unit on its clause, with the
unit's new wording as a proposal; nothing is saved before the confirmation; the file is kept
once as the unit's attachment; a proposal is applied to the next version with its link."""

from __future__ import annotations

import datetime
import io
import re
from pathlib import Path

import pytest
from docx import Document
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from accounts.models import AuditEntry
from comments.consolidation import operations as consolidation
from comments.consultation import imports, operations, queries
from comments.consultation.models import (
    ChangeLink,
    Comment,
    CommentSource,
    ConsultationAttachment,
    ResponseStatus,
)
from drafts import exports
from drafts.documents import DraftHeading, bookmark_name, build_for_comment_docx, clause_lines
from drafts.markup import match_items, read_response, split_wording
from drafts.tree import load_flat_clauses, to_diff_clauses
from extensions import db
from tests.fixtures.comments import clause_by_label, response_of, submit_as
from tests.office import convert
from tests.tracked import add_word_comment, paragraph_text, track_replace
from tests.unitfiles import (
    fill_form,
    letter_docx,
    letter_pdf,
    mark_up,
    regulation,
    without_bookmarks,
)

LETTER = [
    "VIỆN KIỂM SÁT NHÂN DÂN KHU VỰC 1",
    "Số: 12/VKS-KV1",
    "Kính gửi: Văn phòng Viện kiểm sát nhân dân tỉnh",
    "Sau khi nghiên cứu dự thảo, đơn vị thống nhất về cơ bản và có ý kiến như sau:",
    "1. Tại Điều 7: đề nghị bổ sung tiêu chí về kỷ luật.",
    "- Khoản 4 nên nêu rõ mức trừ điểm.",
    "2. Đề nghị sửa điểm đ khoản 4 Điều 7 cho rõ hơn.",
    "- bỏ cụm từ “đầy đủ”.",
    "Ngoài ra, đề nghị rà soát lỗi chính tả.",
    "Nơi nhận:",
    "- Như trên;",
    "- Lưu: VT.",
]


def for_comment(consultation) -> bytes:  # type: ignore[no-untyped-def]
    return exports.for_comment_docx(consultation.version).data


def marked_up(consultation) -> bytes:  # type: ignore[no-untyped-def]
    """Two Word comments, a tracked change and an edit made without tracking."""
    return mark_up(
        for_comment(consultation),
        comments=[
            ("2. Quy chế áp dụng", "Đề nghị bỏ khoản này vì trùng khoản 1."),
            ("Điều 7.", "Cần thêm tiêu chí về kỷ luật."),
        ],
        tracked=[("a) Chậm gửi", "báo cáo;", "báo cáo định kỳ;")],
        edited=[("Tự nguyện", "dân chủ.", "dân chủ, đoàn kết.")],
    )


MARKED_UP_ITEMS = [
    ("comment", "khoản 2 Điều 1", "bookmark", "Đề nghị bỏ khoản này vì trùng khoản 1.", None),
    ("comment", "Điều 7", "bookmark", "Cần thêm tiêu chí về kỷ luật.", None),
    (
        "proposal",
        "Điều 2",
        "bookmark",
        "Đề xuất sửa đổi (nội dung sửa trực tiếp trong tệp).",
        "Điều 2. Nguyên tắc hoạt động\nTự nguyện, công khai, dân chủ, đoàn kết.",
    ),
    (
        "proposal",
        "điểm a khoản 4 Điều 7",
        "bookmark",
        "Đề xuất sửa đổi (theo dõi thay đổi trong tệp Word).",
        "a) Chậm gửi báo cáo định kỳ;",
    ),
]


def placed(items, consultation):  # type: ignore[no-untyped-def]
    labels = {c.lineage: c.label for c in clauses_of(consultation)}
    return [
        (i.kind, labels.get(i.lineage, "chung"), i.method, i.text, i.proposed_text) for i in items
    ]


def clauses_of(consultation):  # type: ignore[no-untyped-def]
    version_id = consultation.version_id
    return to_diff_clauses(load_flat_clauses([version_id])[version_id])


def comment_rows(consultation):  # type: ignore[no-untyped-def]
    labels = {c.lineage: c.label for c in clauses_of(consultation)}
    rows = db.session.scalars(
        select(Comment).where(Comment.consultation_id == consultation.id).order_by(Comment.id)
    ).all()
    return [(labels.get(c.lineage or "", "chung"), c.text, c.proposed_text) for c in rows]


def count(model) -> int:  # type: ignore[no-untyped-def]
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


# --- reading and placing (the pure part) ------------------------------------------------------
def test_a_marked_up_draft_gives_its_comments_and_changed_clauses(blind_round) -> None:
    read = read_response(marked_up(blind_round))

    assert read.kind == "markup"
    assert placed(match_items(read, clauses_of(blind_round)), blind_round) == MARKED_UP_ITEMS


def test_a_comment_outside_every_bookmark_is_placed_by_its_paragraph_text(blind_round) -> None:
    data = without_bookmarks(
        mark_up(for_comment(blind_round), comments=[("đ) Không thực hiện", "Nên tách điểm này.")])
    )
    items = match_items(read_response(data), clauses_of(blind_round))

    assert placed(items, blind_round) == [
        ("comment", "điểm đ khoản 4 Điều 7", "text", "Nên tách điểm này.", None)
    ]


def test_a_copy_edited_without_bookmarks_is_compared_clause_by_clause(blind_round) -> None:
    data = without_bookmarks(
        mark_up(
            for_comment(blind_round),
            edited=[("1. Các đơn vị tự chấm", "tự chấm", "tự đánh giá, chấm")],
        )
    )
    read = read_response(data)

    assert read.kind == "copy"
    assert placed(match_items(read, clauses_of(blind_round)), blind_round) == [
        (
            "proposal",
            "khoản 1 Điều 7",
            "text",
            "Đề xuất sửa đổi (nội dung sửa trực tiếp trong tệp).",
            "1. Các đơn vị tự đánh giá, chấm điểm theo bảng tiêu chí.",
        )
    ]


def test_the_filled_comment_form_gives_one_comment_per_row_with_content(blind_round) -> None:
    form = exports.comment_form_docx(blind_round.version).data
    data = fill_form(
        form,
        {
            "Khoản 2 Điều 1": ("Đề nghị bỏ.", ""),
            "Điểm a khoản 4 Điều 7": ("Nên nêu rõ thời hạn.", "a) Chậm gửi báo cáo định kỳ;"),
            "Điều 2": ("", "Tự nguyện, công khai, dân chủ, đoàn kết."),
        },
    )
    read = read_response(data)

    assert read.kind == "form"
    assert placed(match_items(read, clauses_of(blind_round)), blind_round) == [
        ("comment", "khoản 2 Điều 1", "form", "Đề nghị bỏ.", None),
        (
            "comment",
            "Điều 2",
            "form",
            "Đề xuất sửa đổi theo phiếu góp ý.",
            "Tự nguyện, công khai, dân chủ, đoàn kết.",
        ),
        (
            "comment",
            "điểm a khoản 4 Điều 7",
            "form",
            "Nên nêu rõ thời hạn.",
            "a) Chậm gửi báo cáo định kỳ;",
        ),
    ]


LETTER_ITEMS = [
    ("comment", "Điều 7", "citation", "1. Tại Điều 7: đề nghị bổ sung tiêu chí về kỷ luật.", None),
    ("comment", "khoản 4 Điều 7", "citation", "- Khoản 4 nên nêu rõ mức trừ điểm.", None),
    (
        "comment",
        "điểm đ khoản 4 Điều 7",
        "citation",
        "2. Đề nghị sửa điểm đ khoản 4 Điều 7 cho rõ hơn.\n- bỏ cụm từ “đầy đủ”.",
        None,
    ),
    (
        "comment",
        "chung",
        "general",
        "Sau khi nghiên cứu dự thảo, đơn vị thống nhất về cơ bản và có ý kiến như sau:\n"
        "Ngoài ra, đề nghị rà soát lỗi chính tả.",
        None,
    ),
]


@pytest.mark.parametrize("build", [letter_docx, letter_pdf], ids=["docx", "pdf"])
def test_a_letter_maps_citing_paragraphs_and_keeps_the_rest_as_general(blind_round, build) -> None:  # type: ignore[no-untyped-def]
    read = read_response(build(LETTER))

    assert read.kind == "letter"
    assert placed(match_items(read, clauses_of(blind_round)), blind_round) == LETTER_ITEMS


HEAD = DraftHeading(
    "VKSND TỈNH", "VĂN PHÒNG", "Quy chế", "Dự thảo lần 1", "Bắc Giang", datetime.date(2026, 12, 4)
)
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


@st.composite
def marked_drafts(draw):  # type: ignore[no-untyped-def]
    shape = draw(st.lists(st.lists(st.integers(0, 3), max_size=3), min_size=1, max_size=6))
    clauses = regulation(shape)
    count = len(clauses)
    commented = draw(st.sets(st.integers(0, count - 1), min_size=1, max_size=count))
    changed = draw(st.sets(st.integers(0, count - 1), max_size=count)) - commented
    return clauses, sorted(commented), sorted(changed)


@given(marked_drafts())
def test_every_word_comment_and_tracked_change_goes_back_to_its_clause(marked) -> None:  # type: ignore[no-untyped-def]
    clauses, commented, changed = marked
    document = Document(io.BytesIO(build_for_comment_docx(HEAD, clauses)))
    by_bookmark = {bookmark_name(c.lineage): c.lineage for c in clauses}
    paragraphs = {}
    for paragraph in document.paragraphs:
        start = paragraph._p.find(f"{{{W_NS}}}bookmarkStart")
        if start is not None:
            paragraphs[len(paragraphs)] = (paragraph, by_bookmark[start.get(f"{{{W_NS}}}name")])
    expected_comments, expected_proposals = [], []
    for index in commented:
        paragraph, lineage = paragraphs[index]
        add_word_comment(document, paragraph, f"Ý kiến số {index}.")
        expected_comments.append(("comment", lineage, f"Ý kiến số {index}.", None))
    for index in changed:
        paragraph, lineage = paragraphs[index]
        text = paragraph_text(paragraph)
        last = text.split()[-1]
        track_replace(paragraph, last, f"{last} mới")
        # The clause's first paragraph changed, its other paragraphs (an article's text) not.
        lines = clause_lines(next(c for c in clauses if c.lineage == lineage))
        expected_proposals.append(("proposal", lineage, "\n".join([text + " mới", *lines[1:]])))
    out = io.BytesIO()
    document.save(out)

    items = match_items(read_response(out.getvalue()), clauses)

    assert {i.method for i in items} <= {"bookmark"}
    assert [(i.kind, i.lineage, i.text, i.proposed_text) for i in items if i.kind == "comment"] == (
        expected_comments
    )
    assert [(i.kind, i.lineage, i.proposed_text) for i in items if i.kind == "proposal"] == (
        expected_proposals
    )


def test_the_wording_of_a_clause_splits_back_into_title_and_text() -> None:
    assert split_wording("article", "2", "Điều 2. Nguyên tắc\nTự nguyện.\nCông khai.") == (
        "Nguyên tắc",
        "Tự nguyện.\nCông khai.",
    )
    assert split_wording("article", "2", "Chỉ có nội dung mới.") == (None, "Chỉ có nội dung mới.")
    assert split_wording("clause", "1", "1. Nội dung mới") == (None, "Nội dung mới")
    assert split_wording("point", "a", "a) Chậm gửi;") == (None, "Chậm gửi;")
    assert split_wording("point", "a", "Chậm gửi;") == (None, "Chậm gửi;")


# --- round trip through LibreOffice --------------------------------------------------------------
def test_bookmarks_comments_and_changes_survive_a_libreoffice_round_trip(
    blind_round, tmp_path: Path
) -> None:
    odt = convert({"gop-y.docx": marked_up(blind_round)}, tmp_path, "odt")["gop-y.docx"]
    (tmp_path / "back").mkdir()
    back = convert({"gop-y.odt": odt.read_bytes()}, tmp_path / "back", "docx", "MS Word 2007 XML")[
        "gop-y.odt"
    ]
    read = read_response(back.read_bytes())

    assert read.kind == "markup"
    assert placed(match_items(read, clauses_of(blind_round)), blind_round) == MARKED_UP_ITEMS


# --- preview and confirmation --------------------------------------------------------------------
def test_preview_saves_nothing_and_confirm_writes_the_comments_once(org, blind_round) -> None:
    response = response_of(blind_round, org.r1)
    data = marked_up(blind_round)
    preview = imports.preview_import(response, data=data, filename="gop-y.docx", actor=org.staff1)
    db.session.commit()

    assert [i.kind for i in preview.items] == ["comment", "comment", "proposal", "proposal"]
    assert (count(Comment), count(ConsultationAttachment)) == (0, 0)

    created = imports.confirm_import(response, token=preview.token, choices={}, actor=org.staff1)
    db.session.commit()

    assert [(label, text, proposal) for label, text, proposal in comment_rows(blind_round)] == [
        (label, text, proposal) for _kind, label, _m, text, proposal in MARKED_UP_ITEMS
    ]
    attachment = db.session.scalars(select(ConsultationAttachment)).one()
    assert (attachment.response_id, attachment.size, attachment.filename) == (
        response.id,
        len(data),
        "gop-y.docx",
    )
    assert {c.attachment_id for c in created} == {attachment.id}
    assert {c.source for c in created} == {CommentSource.WRITTEN}
    assert {c.author_id for c in created} == {org.staff1.id}
    assert response_of(blind_round, org.r1).status == ResponseStatus.DRAFTING
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "comment.import")
    ).one()
    assert entry.details["comments"] == [c.id for c in created]
    assert entry.details["methods"] == {"bookmark": 4}

    # The same file again: refused before anything is read or saved.
    with pytest.raises(operations.Conflict, match="đã được nhập"):
        imports.preview_import(response, data=data, filename="lan-2.docx", actor=org.staff1)
    assert count(Comment) == 4


def test_confirm_applies_the_users_corrections(org, blind_round) -> None:
    response = response_of(blind_round, org.r1)
    preview = imports.preview_import(
        response, data=letter_docx(LETTER), filename="cv.docx", actor=org.staff1
    )
    article_2 = clause_by_label(blind_round.version, "Điều 2")
    imports.confirm_import(
        response,
        token=preview.token,
        choices={
            0: imports.Choice(article_2.id),  # Điều 7 → Điều 2
            1: imports.Choice(None, include=False),  # left out
            2: imports.Choice(None),  # → general
        },
        actor=org.staff1,
    )
    db.session.commit()

    assert comment_rows(blind_round) == [
        ("Điều 2", LETTER_ITEMS[0][3], None),
        ("chung", LETTER_ITEMS[2][3], None),
        ("chung", LETTER_ITEMS[3][3], None),
    ]


def test_a_proposal_moved_to_general_becomes_part_of_the_text(org, blind_round) -> None:
    response = response_of(blind_round, org.r1)
    preview = imports.preview_import(
        response, data=marked_up(blind_round), filename="x.docx", actor=org.staff1
    )
    imports.confirm_import(
        response,
        token=preview.token,
        choices={
            0: imports.Choice(None, include=False),
            1: imports.Choice(None, include=False),
            2: imports.Choice(None, include=False),
            3: imports.Choice(None),
        },
        actor=org.staff1,
    )
    db.session.commit()

    assert comment_rows(blind_round) == [
        (
            "chung",
            "Đề xuất sửa đổi (theo dõi thay đổi trong tệp Word).\nĐề xuất: "
            "a) Chậm gửi báo cáo định kỳ;",
            None,
        )
    ]


def test_the_drafter_imports_for_a_unit_and_the_comments_are_on_record_at_once(
    org, blind_round, monkeypatch
) -> None:
    sent = []
    monkeypatch.setattr(imports, "notify", lambda users, **kw: sent.append((users, kw)))
    response = response_of(blind_round, org.r2)
    preview = imports.preview_import(
        response, data=letter_pdf(LETTER), filename="cv.pdf", actor=org.drafter
    )
    assert preview.recorded
    created = imports.confirm_import(response, token=preview.token, choices={}, actor=org.drafter)
    db.session.commit()

    assert {c.source for c in created} == {CommentSource.LETTER}
    assert {c.unit_id for c in created} == {org.r2.id}
    # On record: the drafters see them although the unit has submitted nothing.
    assert all(c.can_view(org.drafter) for c in created)
    assert not response_of(blind_round, org.r2).is_submitted
    assert [users for users, kw in sent] == [[org.head2]]
    attachment = db.session.get(ConsultationAttachment, created[0].attachment_id)
    assert attachment.content_type == "application/pdf"
    # Like a conference opinion, the drafters keep it up to date, not the unit.
    operations.edit_comment(created[0], text="Sửa lại.", lock_version=None, actor=org.drafter)
    with pytest.raises(operations.Forbidden):
        operations.edit_comment(created[0], text="Không.", lock_version=None, actor=org.staff2)


def test_the_tracker_counts_what_the_drafter_imported_for_a_unit(
    org, blind_round, client, auth, api
) -> None:
    response = response_of(blind_round, org.r2)
    preview = imports.preview_import(
        response, data=letter_pdf(LETTER), filename="cv.pdf", actor=org.drafter
    )
    created = imports.confirm_import(response, token=preview.token, choices={}, actor=org.drafter)
    db.session.commit()
    assert created

    board = queries.tracker(blind_round)
    rows = {row.unit_id: row for row in board.rows}
    assert (rows[org.r2.id].letter, rows[org.r2.id].written) == (len(created), None)
    assert sum(row.letter for row in board.rows) == len(created)
    assert board.comment_total == len(created)

    auth.login(org.drafter)
    page = client.get(f"/comments/rounds/{blind_round.id}/tracker").get_data(as_text=True)
    assert "Ý kiến theo công văn, tệp" in page
    row = page.split(f'<tr id="unit-{org.r2.id}">', 1)[1].split("</tr>", 1)[0]
    assert re.findall(r'<td class="num">([^<]*)</td>', row) == ["—", "0", str(len(created))]
    items = api(org.drafter).get(f"/api/v1/consultations/{blind_round.id}/tracker").json
    counts = {item["unit_id"]: item["letter_count"] for item in items["items"]}
    assert counts[org.r2.id] == len(created) and counts[org.r1.id] == 0


def test_who_may_import_and_when(org, blind_round) -> None:
    response = response_of(blind_round, org.r1)
    data = letter_docx(LETTER)
    for outsider in (org.staff2, org.verifier):
        with pytest.raises(operations.Forbidden):
            imports.preview_import(response, data=data, filename="a.docx", actor=outsider)
    submit_as(org.head1, blind_round, agrees=True)
    with pytest.raises(operations.Conflict, match="đã gửi ý kiến"):
        imports.preview_import(response, data=data, filename="a.docx", actor=org.staff1)
    operations.close_round(blind_round, org.drafter)
    db.session.commit()
    for actor, unit in ((org.staff2, org.r2), (org.drafter, org.r2)):
        with pytest.raises(operations.Conflict, match="đã kết thúc"):
            imports.preview_import(
                response_of(blind_round, unit), data=data, filename="a.docx", actor=actor
            )


@pytest.mark.parametrize(
    "data",
    [b"", b"not a document at all", b"PK\x03\x04broken zip", b"%PDF-1.4 broken"],
    ids=["empty", "text", "broken-zip", "broken-pdf"],
)
def test_a_malformed_file_is_refused_with_a_plain_message(org, blind_round, data) -> None:  # type: ignore[no-untyped-def]
    response = response_of(blind_round, org.r1)
    with pytest.raises(operations.Invalid) as refused:
        imports.preview_import(response, data=data, filename="x.docx", actor=org.staff1)
    assert refused.value.message
    assert count(Comment) == 0


def test_a_refusal_reads_in_the_callers_language(org, blind_round, api) -> None:  # type: ignore[no-untyped-def]
    response = response_of(blind_round, org.r1)
    url = _api_url(blind_round, response)

    def refusal(data: bytes, **headers: str) -> str:
        answer = api(org.staff1).post(
            url,
            data={"file": (io.BytesIO(data), "gop-y.docx")},
            content_type="multipart/form-data",
            headers=headers,
        )
        assert answer.status_code == 422
        return answer.json["error"]["message"]

    assert refusal(b"") == "Tệp rỗng, không có nội dung để đọc."
    assert refusal(b"", **{"Accept-Language": "en"}) == (
        "The file is empty; there is nothing to read."
    )
    # A pure reader's refusal too, with its values kept.
    assert refusal(b"just text", **{"Accept-Language": "en"}) == (
        "The file is not a valid Word document (.docx) or Excel spreadsheet (.xlsx)."
    )
    assert count(Comment) == 0


# --- applying a proposal -------------------------------------------------------------------------
def test_a_proposal_is_applied_to_the_next_version_and_linked_to_its_comment(
    org, blind_round
) -> None:
    response = response_of(blind_round, org.r1)
    preview = imports.preview_import(
        response, data=marked_up(blind_round), filename="x.docx", actor=org.staff1
    )
    created = imports.confirm_import(response, token=preview.token, choices={}, actor=org.staff1)
    db.session.commit()
    submit_as(org.head1, blind_round)
    operations.close_round(blind_round, org.drafter)
    db.session.commit()
    article, point = created[2], created[3]

    first = consolidation.apply_proposal(point, org.drafter)
    second = consolidation.apply_proposal(article, org.drafter)
    db.session.commit()

    version = blind_round.draft.latest_version
    assert version.number == 2 and not version.is_published
    assert (first.version_id, second.version_id) == (version.id, version.id)
    assert (first.lineage, first.text) == (point.lineage, "Chậm gửi báo cáo định kỳ;")
    assert (second.title, second.text) == (
        "Nguyên tắc hoạt động",
        "Tự nguyện, công khai, dân chủ, đoàn kết.",
    )
    links = db.session.execute(select(ChangeLink.clause_id, ChangeLink.comment_id)).all()
    assert sorted(links) == sorted([(first.id, point.id), (second.id, article.id)])
    with pytest.raises(operations.Invalid, match="không có đề xuất"):
        consolidation.apply_proposal(created[0], org.drafter)
    with pytest.raises(operations.Forbidden):
        consolidation.apply_proposal(point, org.head1)


def test_a_proposal_of_an_unsent_comment_is_not_applied(org, blind_round) -> None:
    comment = operations.add_comment(
        response_of(blind_round, org.r1),
        clause=clause_by_label(blind_round.version, "Điều 2"),
        text="Bổ sung nguyên tắc.",
        proposed_text="Tự nguyện, công khai.",
        actor=org.staff1,
    )
    db.session.commit()
    with pytest.raises(operations.Invalid, match="đã gửi chính thức"):
        consolidation.apply_proposal(comment, org.drafter)
    with pytest.raises(operations.Invalid, match="không cho ý kiến chung"):
        operations.add_comment(
            response_of(blind_round, org.r1),
            clause=None,
            text="Chung.",
            proposed_text="x",
            actor=org.staff1,
        )


# --- the pages ---------------------------------------------------------------------------------
def _import_url(consultation, response) -> str:  # type: ignore[no-untyped-def]
    return f"/comments/rounds/{consultation.id}/responses/{response.id}/import"


def test_the_preview_page_lists_items_with_clause_excerpt_and_method_then_confirms(
    org, blind_round, auth, client
) -> None:
    response = response_of(blind_round, org.r1)
    auth.login(org.staff1)
    assert client.get(_import_url(blind_round, response)).status_code == 200
    page = client.post(
        _import_url(blind_round, response),
        data={"file": (io.BytesIO(marked_up(blind_round)), "gop-y.docx")},
        content_type="multipart/form-data",
    )
    html = page.get_data(as_text=True)

    assert page.status_code == 200, html
    assert count(Comment) == 0
    assert html.count('<select name="clause-') == 4
    assert "Theo bookmark của điều khoản trong tệp" in html
    assert "a) Chậm gửi báo cáo định kỳ;" in html
    assert "<ins> định kỳ</ins>" in html  # before → after, word by word
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', html)
    token = token or re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', html)
    assert token is not None
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    article_2 = clause_by_label(blind_round.version, "Điều 2")
    done = client.post(
        f"{_import_url(blind_round, response)}/confirm",
        data={
            "csrf_token": csrf.group(1) if csrf else "",
            "token": token.group(1),
            "count": "4",
            "include-0": "1",
            "clause-0": str(article_2.id),
            "include-2": "1",
            "clause-2": "",
            "include-3": "1",
            "clause-3": str(clause_by_label(blind_round.version, "điểm a khoản 4 Điều 7").id),
        },
    )
    assert done.status_code == 302, done.get_data(as_text=True)
    assert [row[0] for row in comment_rows(blind_round)] == [
        "Điều 2",
        "chung",
        "điểm a khoản 4 Điều 7",
    ]
    unit_page = client.get(f"/comments/rounds/{blind_round.id}/unit").get_data(as_text=True)
    assert "Đề xuất sửa đổi" in unit_page and "a) Chậm gửi báo cáo định kỳ;" in unit_page


def test_the_pages_refuse_with_the_right_status(org, blind_round, auth, client) -> None:
    response = response_of(blind_round, org.r1)
    auth.login(org.staff2)
    assert client.get(_import_url(blind_round, response)).status_code == 403
    auth.logout()
    auth.login(org.staff1)
    broken = client.post(
        _import_url(blind_round, response),
        data={"file": (io.BytesIO(b"PK\x03\x04 nope"), "x.docx")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 422
    assert "hỏng" in broken.get_data(as_text=True) or "hợp lệ" in broken.get_data(as_text=True)
    operations.close_round(blind_round, org.drafter)
    db.session.commit()
    closed = client.post(
        _import_url(blind_round, response),
        data={"file": (io.BytesIO(letter_docx(LETTER)), "x.docx")},
        content_type="multipart/form-data",
    )
    assert closed.status_code == 409


def test_the_consolidation_page_shows_proposals_and_applies_one(
    org, blind_round, auth, client
) -> None:
    comment = operations.add_comment(
        response_of(blind_round, org.r1),
        clause=clause_by_label(blind_round.version, "khoản 1 Điều 7"),
        text="Nên nói rõ.",
        proposed_text="1. Các đơn vị tự chấm điểm theo bảng tiêu chí được ban hành.",
        actor=org.staff1,
    )
    db.session.commit()
    submit_as(org.head1, blind_round)
    operations.close_round(blind_round, org.drafter)
    db.session.commit()
    auth.login(org.drafter)
    page = client.get(f"/consolidation/{blind_round.id}").get_data(as_text=True)
    assert "theo bảng tiêu chí được ban hành." in page
    assert f'form="apply-{comment.id}"' in page

    done = client.post(
        f"/consolidation/comments/{comment.id}/apply-proposal",
        data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)},
    )
    assert done.status_code == 302
    clause = (
        db.session.scalars(select(ChangeLink).where(ChangeLink.comment_id == comment.id))
        .one()
        .clause
    )
    assert clause.text == "Các đơn vị tự chấm điểm theo bảng tiêu chí được ban hành."


# --- the API -------------------------------------------------------------------------------------
def _api_url(consultation, response) -> str:  # type: ignore[no-untyped-def]
    return f"/api/v1/consultations/{consultation.id}/responses/{response.id}/imports"


def test_the_api_previews_confirms_and_applies(org, blind_round, api) -> None:
    response = response_of(blind_round, org.r1)
    staff = api(org.staff1)
    preview = staff.post(
        _api_url(blind_round, response),
        data={"file": (io.BytesIO(marked_up(blind_round)), "gop-y.docx")},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200, preview.json
    body = preview.json
    assert [(i["kind"], i["clause_label"], i["method"]) for i in body["items"]] == [
        (kind, label, method) for kind, label, method, _t, _p in MARKED_UP_ITEMS
    ]
    assert count(Comment) == 0

    confirmed = staff.post(
        f"{_api_url(blind_round, response)}/confirm",
        json={"token": body["token"], "items": [{"index": 1, "include": False}]},
    )
    assert confirmed.status_code == 201, confirmed.json
    items = confirmed.json["items"]
    assert [i["clause_label"] for i in items] == [
        "khoản 2 Điều 1",
        "Điều 2",
        "điểm a khoản 4 Điều 7",
    ]
    assert items[2]["proposed_text"] == "a) Chậm gửi báo cáo định kỳ;"
    assert body["items"][3]["before"] == "a) Chậm gửi báo cáo;"
    assert len({i["attachment_id"] for i in items}) == 1

    again = staff.post(
        _api_url(blind_round, response),
        data={"file": (io.BytesIO(marked_up(blind_round)), "gop-y.docx")},
        content_type="multipart/form-data",
    )
    # The file's bytes differ (a .docx records when it was saved) unless it is the same file.
    assert again.status_code in (200, 409)

    db.session.rollback()  # the API wrote the response; read it afresh
    submit_as(org.head1, blind_round)
    operations.close_round(blind_round, org.drafter)
    db.session.commit()
    refused = staff.post(f"/api/v1/comments/{items[2]['id']}/apply-proposal")
    assert refused.status_code == 403
    applied = api(org.drafter).post(f"/api/v1/comments/{items[2]['id']}/apply-proposal")
    assert applied.status_code == 200, applied.json
    assert applied.json["text"] == "Chậm gửi báo cáo định kỳ;"
    assert applied.json["comment_ids"] == [items[2]["id"]]


def test_the_api_refuses_plainly(org, blind_round, api) -> None:
    response = response_of(blind_round, org.r1)
    data = letter_docx(LETTER)
    outsider = api(org.staff2).post(
        _api_url(blind_round, response),
        data={"file": (io.BytesIO(data), "cv.docx")},
        content_type="multipart/form-data",
    )
    assert outsider.status_code == 403
    broken = api(org.staff1).post(
        _api_url(blind_round, response),
        data={"file": (io.BytesIO(b"%PDF-1.4 nothing"), "cv.pdf")},
        content_type="multipart/form-data",
    )
    assert broken.status_code == 422 and broken.json["error"]["message"]
    missing = api(org.staff1).post(
        f"{_api_url(blind_round, response)}/confirm", json={"token": "x" * 40}
    )
    assert missing.status_code == 409
    operations.close_round(blind_round, org.drafter)
    db.session.commit()
    closed = api(org.drafter).post(
        _api_url(blind_round, response),
        data={"file": (io.BytesIO(data), "cv.docx")},
        content_type="multipart/form-data",
    )
    assert closed.status_code == 409


def test_a_units_file_is_kept_for_the_unit_and_the_drafters_only(
    org, blind_round, auth, client, api
) -> None:
    response = response_of(blind_round, org.r1)
    preview = imports.preview_import(
        response, data=letter_docx(LETTER), filename="Công văn KV1.docx", actor=org.staff1
    )
    created = imports.confirm_import(response, token=preview.token, choices={}, actor=org.staff1)
    db.session.commit()
    attachment_id = created[0].attachment_id
    url = f"/comments/attachments/{attachment_id}"

    for user, status in ((org.staff1, 200), (org.drafter, 200), (org.staff2, 403)):
        auth.login(user)
        assert client.get(url).status_code == status, user.username
        auth.logout()
        answer = api(user).get(f"/api/v1/consultation-attachments/{attachment_id}")
        assert answer.status_code == status, user.username
    # Not among the request letter's attachments; listed on the unit's history page.
    assert api(org.staff2).get(f"/api/v1/consultations/{blind_round.id}").json["attachments"] == []
    auth.login(org.drafter)
    history = client.get(f"/comments/rounds/{blind_round.id}/responses/{response.id}").get_data(
        as_text=True
    )
    assert "Công văn KV1.docx" in history and url in history
    round_page = client.get(f"/comments/rounds/{blind_round.id}/tracker").get_data(as_text=True)
    assert url not in round_page
