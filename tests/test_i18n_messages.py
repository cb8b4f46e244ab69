"""Messages built in Python reach each reader in their language: the 403 page, a flash
raised by an operation, a notification written for someone who reads English, and the
login prompt in Vietnamese."""

from __future__ import annotations

import io
import pickle

from flask_babel import force_locale
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from accounts.i18n import N_, Deferred
from accounts.models import Role
from drafts import operations as draft_operations
from drafts.models import DraftKind, Version
from drafts.officefile import Note, note_from_json, note_json
from extensions import db
from notices.models import Notification
from tests.fixtures.drafts import regulation_docx
from tests.fixtures.workflow import place, put_scores, sheet_of
from workflow.models import ScoreStage


def english(client) -> None:  # type: ignore[no-untyped-def]
    client.post("/lang", data={"lang": "en"})


def test_the_403_page_speaks_english_to_an_english_reader(client, auth, org):
    auth.login(org.staff1)
    english(client)
    page = client.get("/admin/users")
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "You are not allowed to do this." in text
    assert "Bạn không có quyền" not in text


def test_a_refusal_from_an_operation_is_flashed_in_english(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter)  # version 1 is already published
    version = draft.versions[0]
    auth.login(org.drafter)
    english(client)
    back = f"/drafts/{draft.id}"
    sent = client.post(
        f"/drafts/versions/{version.id}/publish",
        data={"confirmed": "1", "lock_version": version.lock_version},
        headers={"Referer": back},
    )
    assert sent.status_code == 303
    page = client.get(back).get_data(as_text=True)
    assert "Draft 1 has already been released." in page
    assert "đã được phát hành." not in page


def test_each_recipient_reads_a_notification_in_their_own_language(app, org, create_user):
    reader_en = create_user(Role.DRAFTER, unit=org.office, username="reader_en")
    reader_en.locale = "en"
    reader_vi = create_user(Role.DRAFTER, unit=org.office, username="reader_vi")
    db.session.commit()
    # The actor works in Vietnamese; each co-drafter is told in their own language.
    with app.test_request_context():
        draft_operations.create_draft(
            title="Quy chế thi đua",
            kind=DraftKind.REGULATION,
            drafting_unit=org.office,
            actor=org.drafter,
            drafters=[reader_en, reader_vi],
        )
        db.session.commit()
    titles = {
        n.user_id: (n.title, n.body)
        for n in db.session.query(Notification).filter_by(kind="draft.co_drafter")
    }
    assert titles[reader_en.id] == (
        "You have been made a co-drafter of: Quy chế thi đua",
        f"{org.drafter.full_name} created the draft and made you a co-drafter.",
    )
    assert titles[reader_vi.id] == (
        "Bạn được phân công cùng soạn thảo: Quy chế thi đua",
        f"{org.drafter.full_name} đã tạo dự thảo và phân công bạn cùng soạn thảo.",
    )


def test_the_vietnamese_login_prompt_is_vietnamese(client):
    page = client.get("/drafts/", follow_redirects=True).get_data(as_text=True)
    assert "Vui lòng đăng nhập để tiếp tục." in page
    assert "Please log in" not in page
    english(client)
    page = client.get("/drafts/", follow_redirects=True).get_data(as_text=True)
    assert "Please log in to continue." in page


@settings(max_examples=60, derandomize=True, deadline=None)
@given(title=st.text(min_size=1, max_size=40), n=st.integers(min_value=1, max_value=99))
def test_a_deferred_message_keeps_its_values_whole_in_either_language(app, title, n):
    """Whatever a title holds (% signs, braces, Vietnamese), both renderings carry it
    unchanged, and a nested label is translated with its message."""
    message = Deferred(
        N_("Công văn số %(letter)s đề nghị đơn vị góp ý %(version)s. Hạn góp ý: %(due)s."),
        letter=title,
        version=Deferred(N_("Dự thảo lần %(n)d"), n=n),
        due="15/12/2026 17:00",
    )
    with app.test_request_context():
        with force_locale("en"):
            shown_en = message.render()
        with force_locale("vi"):
            shown_vi = message.render()
    assert shown_en == f"Letter no. {title} asks your unit to comment on Draft {n}. " + (
        "Deadline: 15/12/2026 17:00."
    )
    assert shown_vi == f"Công văn số {title} đề nghị đơn vị góp ý Dự thảo lần {n}. " + (
        "Hạn góp ý: 15/12/2026 17:00."
    )


def test_a_refused_transition_is_flashed_in_english(client, auth, org, open_period):
    sheet = sheet_of(open_period(), org.r2)
    put_scores(sheet, ScoreStage.SELF)
    place(sheet, "submitted")
    auth.login(org.head1)  # the Cụm leader may return it, with a reason
    english(client)
    back = f"/scoring/sheets/{sheet.id}"
    sent = client.post(f"{back}/actions/return", data={"note": ""}, headers={"Referer": back})
    assert sent.status_code in (303, 422)
    page = (client.get(back) if sent.status_code == 303 else sent).get_data(as_text=True)
    assert "Give a reason (note) to" in page
    assert "Cần nhập lý do" not in page


@settings(max_examples=40, derandomize=True, deadline=None)
@given(name=st.text(min_size=1, max_size=30), limit=st.integers(min_value=1, max_value=10**6))
def test_a_readers_refusal_keeps_its_values_in_either_language(app, name, limit):
    """A pure reader's error carries its message and values: the Vietnamese line stays what
    it was, and pages give it in their reader's language with the same values."""
    from accounts.i18n import refusal
    from drafts.criteria_parsing import MSG_TOO_MANY_ROWS, SheetTooLarge
    from drafts.formats import MSG_CONVERT_FAILED
    from drafts.officefile import ParseError

    rows = SheetTooLarge(MSG_TOO_MANY_ROWS, limit=limit)
    converted = ParseError(MSG_CONVERT_FAILED, name=name)
    assert rows.message == (
        f"Bảng tính có quá nhiều dòng: chỉ đọc được bảng tiêu chí tối đa {limit} dòng."
    )
    assert str(converted) == converted.message and name in converted.message
    with app.test_request_context(), force_locale("en"):
        assert refusal(rows) == (
            f"The spreadsheet has too many rows: a criteria table can have at most {limit} rows."
        )
        assert refusal(converted).startswith(f"The {name} file could not be converted")
    # The sandbox sends the error back pickled: it arrives whole.
    import pickle

    again = pickle.loads(pickle.dumps(rows))
    assert type(again) is SheetTooLarge and again.values == {"limit": limit}


NUMBERING_VI = "Số thứ tự không liên tục: Điều 7 đứng ngay sau Điều 2."
NUMBERING_EN = "Numbering skips: Điều 7 comes right after Điều 2."


def test_an_import_warning_reads_in_each_readers_language_before_and_after_saving(
    client, auth, org, create_empty_draft, api
):
    draft = create_empty_draft(drafter=org.drafter)
    auth.login(org.drafter)
    english(client)
    upload = {"file": (io.BytesIO(regulation_docx()), "du-thao.docx")}
    preview = client.post(f"/drafts/{draft.id}/import", data=upload).get_data(as_text=True)
    assert NUMBERING_EN in preview and NUMBERING_VI not in preview
    assert client.post(f"/drafts/{draft.id}/import/confirm").status_code == 302
    version = db.session.scalar(select(Version).where(Version.draft_id == draft.id))
    assert NUMBERING_EN in client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    client.post("/lang", data={"lang": "vi"})
    assert NUMBERING_VI in client.get(f"/drafts/{draft.id}").get_data(as_text=True)

    reader = api(org.drafter)
    url = f"/api/v1/versions/{version.id}"
    assert reader.get(url).json["version"]["warnings"] == [NUMBERING_VI]
    answer = reader.get(url, headers={"Accept-Language": "en"}).json["version"]
    assert answer["warnings"] == [NUMBERING_EN]
    assert answer["left_out"][0]["reason"] == "Issuing agency, number, reference, place and date"

    # A version imported before warnings kept their template shows its text as it was.
    version.import_warnings = ["Cảnh báo cũ, chỉ có tiếng Việt."]
    db.session.commit()
    answer = reader.get(url, headers={"Accept-Language": "en"}).json["version"]
    assert answer["warnings"] == ["Cảnh báo cũ, chỉ có tiếng Việt."]


_value = st.one_of(st.integers(-(10**6), 10**6), st.text(max_size=20))


@given(
    words=st.lists(st.text(alphabet="abc đĐ%()", max_size=8), min_size=1, max_size=4),
    values=st.lists(_value, max_size=4),
)
@settings(max_examples=50)
def test_a_note_keeps_its_text_template_and_values_through_pickle_and_json(words, values):
    names = [f"v{i}" for i in range(len(values))]
    # Literal % in the words is escaped, as it must be in a catalogue template.
    template = " ".join(w.replace("%", "%%") for w in words) + "".join(
        f" %({name})s" for name in names
    )
    note = Note(template, **dict(zip(names, values, strict=True)))
    expected = template % dict(zip(names, values, strict=True)) if values else template
    assert note == expected
    for copy in (pickle.loads(pickle.dumps(note)), note_from_json(note_json(note))):
        assert isinstance(copy, Note) and copy == note
        assert (copy.template, copy.values) == (note.template, note.values)
    assert note_from_json(note_json("văn bản thường")) == "văn bản thường"
