"""The diff between versions through the database, comments following their clause,
links from changes to comments, and the comparison table."""

from __future__ import annotations

import io

import pytest
from docx import Document
from sqlalchemy import event, select

from accounts.errors import Forbidden, Invalid
from accounts.models import Role
from comments.consolidation import operations as ops
from comments.consolidation import queries
from comments.consultation.models import ChangeLink, Comment, Decision
from drafts.models import Clause, Version
from extensions import db
from tests.fixtures.consolidation import find_node, next_version


def article(text: str, number: str, title: str, *clauses: str) -> dict:
    return {
        "kind": "article",
        "number": number,
        "title": title,
        "text": text,
        "children": [
            {"kind": "clause", "number": str(i), "title": "", "text": t, "children": []}
            for i, t in enumerate(clauses, start=1)
        ],
    }


def chapter(number: str, title: str, *articles: dict) -> dict:
    return {
        "kind": "chapter",
        "number": number,
        "title": title,
        "text": "",
        "children": list(articles),
    }


REGULATION = [
    chapter(
        "I",
        "QUY ĐỊNH CHUNG",
        article("", "4", "Đối tượng áp dụng", "Các đơn vị thuộc Viện kiểm sát tỉnh."),
        article(
            "",
            "5",
            "Nhiệm vụ của Cụm trưởng",
            "Cụm trưởng tổ chức giao ban Cụm.",
            "Cụm trưởng tổng hợp kết quả chấm điểm.",
        ),
        article("Cụm phó giúp Cụm trưởng.", "6", "Cụm phó"),
    ),
    chapter("II", "KHEN THƯỞNG", article("Theo quy định của ngành.", "7", "Khen thưởng")),
]


def clause_of(version: Version, kind: str, number: str, parent_number: str | None = None) -> Clause:
    rows = db.session.scalars(
        select(Clause).where(Clause.version_id == version.id, Clause.kind == kind)
    ).all()
    return next(
        c
        for c in rows
        if c.number == number and (parent_number is None or c.parent.number == parent_number)
    )


def comment_saying(text: str) -> Comment:
    return db.session.scalars(select(Comment).where(Comment.text == text)).one()


@pytest.fixture
def first_round(org, create_draft, make_round):  # type: ignore[no-untyped-def]
    draft = create_draft(REGULATION, drafter=org.drafter)
    rnd = make_round(draft)
    rnd.comments(
        org.r1,
        [
            ("Điều 5", "Đề nghị quy định giao ban hằng quý."),
            ("khoản 1 Điều 5", "Đề nghị nêu rõ thời hạn giao ban."),
            ("Điều 6", "Đề nghị chuyển Điều 6 lên trước Điều 5."),
        ],
    )
    rnd.submit(org.r1)
    return rnd


def insert_article_5(nodes: list[dict]) -> None:
    """Insert a new "Điều 5" and push the old 5 and 6 down; edit the old Điều 5."""
    first = nodes[0]["children"]
    old_5, old_6, old_7 = (find_node(nodes, "article", n) for n in ("5", "6", "7"))
    old_5["number"], old_6["number"], old_7["number"] = "6", "7", "8"
    old_5["children"][0]["text"] = "Cụm trưởng tổ chức giao ban Cụm hằng quý."
    first.insert(1, article("Các đơn vị trong Cụm bình đẳng.", "5", "Nguyên tắc của Cụm"))


def test_inserted_article_renumbers_the_next_one_instead_of_replacing_it(org, first_round):
    old = first_round.version
    new = next_version(first_round.draft, org.drafter, insert_article_5)

    diff = queries.version_diff(old, new)
    by_label = {row.label: row for row in diff.rows}

    assert by_label["Điều 5"].changes == ["added"]
    renumbered = by_label["Điều 6"]
    assert "renumbered" in renumbered.changes
    assert "added" not in renumbered.changes and "removed" not in renumbered.changes
    assert renumbered.old_label == "Điều 5"
    assert diff.summary["removed"] == 0
    changed = by_label["Khoản 1 Điều 6"]
    assert changed.changes == ["changed"]
    assert str(changed.text_html) == "Cụm trưởng tổ chức giao ban Cụm<ins> hằng quý</ins>."


def test_a_clause_moved_to_another_chapter_is_shown_as_moved(org, first_round):
    def move(nodes: list[dict]) -> None:
        moved = find_node(nodes, "article", "6")
        nodes[0]["children"].remove(moved)
        nodes[1]["children"].append(moved)

    new = next_version(first_round.draft, org.drafter, move)

    rows = {row.label: row for row in queries.version_diff(first_round.version, new).rows}
    assert rows["Điều 6"].changes == ["moved"]
    assert rows["Điều 7"].changes == []


def test_reordering_siblings_is_a_move_too(org, first_round):
    def swap(nodes: list[dict]) -> None:
        first = nodes[0]["children"]
        first[1], first[2] = first[2], first[1]

    new = next_version(first_round.draft, org.drafter, swap)

    changes = {r.label: r.changes for r in queries.version_diff(first_round.version, new).rows}
    # One of the two swapped articles moved; the other, like Điều 4, stayed put.
    assert sorted([changes["Điều 5"], changes["Điều 6"]]) == [[], ["moved"]]
    assert changes["Điều 4"] == []


def test_comments_follow_their_clause_into_the_next_version(org, first_round):
    new = next_version(first_round.draft, org.drafter, insert_article_5)
    renumbered = clause_of(new, "article", "6")

    earlier = queries.earlier_comments_by_lineage(first_round.draft, new)

    assert [c.text for c in earlier[renumbered.lineage]] == ["Đề nghị quy định giao ban hằng quý."]
    assert queries.earlier_label(earlier[renumbered.lineage][0]) == "Ý kiến ở dự thảo lần 1"
    # Nothing earlier than the first version.
    assert queries.earlier_comments_by_lineage(first_round.draft, first_round.version) == {}


def test_drafter_links_a_change_and_sees_it_on_the_diff_page(client, auth, org, first_round):
    new = next_version(first_round.draft, org.drafter, insert_article_5)
    changed = clause_of(new, "clause", "1", parent_number="6")
    comment = comment_saying("Đề nghị nêu rõ thời hạn giao ban.")
    auth.login(org.drafter)

    page = client.get(f"/consolidation/clauses/{changed.id}/links").get_data(as_text=True)
    assert "Khoản 1 Điều 6" in page
    assert "Đề nghị nêu rõ thời hạn giao ban." in page
    # Only comments about this provision (its article, itself) are offered by default.
    assert "Đề nghị chuyển Điều 6 lên trước Điều 5." not in page
    response = client.post(
        f"/consolidation/clauses/{changed.id}/links", data={"comments": [comment.id]}
    )
    assert response.status_code == 302
    assert db.session.scalars(select(ChangeLink.comment_id)).all() == [comment.id]

    diff_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<ins> hằng quý</ins>" in diff_page
    linked = diff_page[diff_page.index(f'id="clause-{changed.lineage}"') :]
    linked = linked[: linked.index("</tr>")]
    assert "Thay đổi này tiếp thu:" in linked
    assert linked.count("Đề nghị nêu rõ thời hạn giao ban.") == 1
    # Comments not linked yet still follow their clause: the old Điều 5 is now Điều 6.
    article = diff_page[diff_page.index(f'id="clause-{changed.parent.lineage}"') :]
    article = article[: article.index("</tr>")]
    assert (
        "Ý kiến ở dự thảo lần 1</span> <strong>Viện kiểm sát nhân dân khu vực 1</strong>: "
        "Đề nghị quy định giao ban hằng quý." in article
    )


def test_links_are_checked(org, first_round, create_user):
    new = next_version(first_round.draft, org.drafter, insert_article_5)
    clause = clause_of(new, "article", "6")
    comment = comment_saying("Đề nghị quy định giao ban hằng quý.")

    with pytest.raises(Forbidden):
        ops.link_change(clause, [comment], create_user(Role.DRAFTER, unit=org.office))
    old_clause = clause_of(first_round.version, "article", "5")
    with pytest.raises(Invalid, match="dự thảo trước đó"):
        ops.link_change(old_clause, [comment], org.drafter)

    created = ops.link_change(clause, [comment], org.drafter)
    again = ops.link_change(clause, [comment], org.drafter)
    db.session.commit()
    assert len(created) == 1 and again == []
    assert ops.unlink_change(clause, [comment], org.drafter) == 1
    db.session.commit()
    assert db.session.scalar(select(ChangeLink.id)) is None


def test_comparison_table_goes_article_by_article(client, auth, org, first_round):
    new = next_version(first_round.draft, org.drafter, insert_article_5)
    comment = comment_saying("Đề nghị quy định giao ban hằng quý.")
    ops.dispose([comment], Decision.ACCEPTED, "", org.drafter)
    ops.link_change(clause_of(new, "article", "6"), [comment], org.drafter)
    db.session.commit()
    auth.login(org.drafter)

    response = client.get(
        f"/consolidation/drafts/{first_round.draft.id}/comparison.docx",
        query_string={"old": first_round.version.id, "new": new.id},
    )

    table = Document(io.BytesIO(response.data)).tables[1]
    rows = [[c.text for c in row.cells] for row in table.rows[1:]]
    assert [r[3] for r in rows] == [
        "Bổ sung mới",
        "Sửa đổi; Đánh số lại",
        "Đánh số lại",
        "Đánh số lại",
    ]
    added, renumbered = rows[0], rows[1]
    assert added[:2] == ["", "Điều 5. Nguyên tắc của Cụm\nCác đơn vị trong Cụm bình đẳng."]
    assert renumbered[0] == (
        "Điều 5. Nhiệm vụ của Cụm trưởng\n1. Cụm trưởng tổ chức giao ban Cụm.\n"
        "2. Cụm trưởng tổng hợp kết quả chấm điểm."
    )
    assert renumbered[1].startswith("Điều 6. Nhiệm vụ của Cụm trưởng\n1. Cụm trưởng tổ chức")
    assert renumbered[2] == "- Viện kiểm sát nhân dân khu vực 1: " + comment.text


def test_the_drafter_links_each_changed_clause_to_the_comments_behind_it(
    client, auth, org, first_round
):
    new = next_version(first_round.draft, org.drafter, insert_article_5)
    auth.login(org.drafter)
    page = client.get(
        f"/consolidation/drafts/{first_round.draft.id}/diff",
        query_string={"old": first_round.version.id, "new": new.id, "changed": "y"},
    ).get_data(as_text=True)
    changed = db.session.scalars(
        select(Clause).where(Clause.version_id == new.id, Clause.number == "5")
    ).first()
    assert changed is not None
    assert f'href="/consolidation/clauses/{changed.id}/links"' in page


def test_version_picker_and_json_diff(client, auth, api, org, first_round):
    new = next_version(first_round.draft, org.drafter, insert_article_5)
    auth.login(org.verifier)  # may read the draft, was not asked for comments

    page = client.get(
        f"/consolidation/drafts/{first_round.draft.id}/diff",
        query_string={"old": first_round.version.id, "new": new.id, "changed": "y"},
    ).get_data(as_text=True)
    assert f'<option selected value="{first_round.version.id}">Dự thảo lần 1</option>' in page
    assert "Điều 4" not in page.split("<tbody>")[1]  # unchanged rows hidden
    # Units' comments are shown only to those who may read them.
    assert "Ý kiến ở dự thảo lần 1" not in page

    body = (
        api(org.drafter)
        .get(
            f"/api/v1/drafts/{first_round.draft.id}/diff",
            query_string={"old": first_round.version.id, "new": new.id},
        )
        .json
    )
    entry = next(e for e in body["entries"] if e["new"] and e["new"]["label"] == "Điều 6")
    assert "renumbered" in entry["changes"] and entry["old"]["label"] == "Điều 5"
    assert body["summary"]["added"] == 1


def _statements(client, url) -> int:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def listener(*args) -> None:  # type: ignore[no-untyped-def]
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(seen)


def test_diff_page_statement_count_does_not_grow(client, auth, org, create_draft, make_round):
    def big(articles: int) -> list[dict]:
        return [
            chapter(
                "I",
                "QUY ĐỊNH",
                *[
                    article(
                        f"Nội dung điều {n}.", str(n), f"Điều số {n}", "Khoản một.", "Khoản hai."
                    )
                    for n in range(1, articles + 1)
                ],
            )
        ]

    def edit_all(nodes: list[dict]) -> None:
        for node in nodes[0]["children"]:
            node["text"] += " Đã sửa."

    urls = []
    for size in (3, 60):
        draft = create_draft(big(size), drafter=org.drafter)
        rnd = make_round(draft)
        made = rnd.comments(org.r1, [(f"Điều {n}", f"Góp ý điều {n}.") for n in range(1, size + 1)])
        rnd.submit(org.r1)
        new = next_version(draft, org.drafter, edit_all)
        for comment in made:
            ops.link_change(
                clause_of(new, "article", comment.text.split()[-1].rstrip(".")),
                [comment],
                org.drafter,
            )
        db.session.commit()
        urls.append(f"/consolidation/drafts/{draft.id}/diff")
    auth.login(org.drafter)

    assert _statements(client, urls[0]) == _statements(client, urls[1])


def test_earlier_comments_come_in_one_statement_with_what_pages_show(org, first_round):
    new = next_version(first_round.draft, org.drafter, insert_article_5)
    db.session.expire_all()
    draft = first_round.draft
    assert (draft.id, new.number) == (first_round.draft.id, 2)  # loaded before counting
    seen: list[str] = []

    def listener(*args) -> None:  # type: ignore[no-untyped-def]
        seen.append(args[2])

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        found = queries.earlier_comments_by_lineage(draft, new)
        shown = [
            (
                c.unit.name,
                queries.earlier_label(c),
                c.disposition,
                c.response.is_submitted,
            )
            for comments in found.values()
            for c in comments
        ]
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)

    assert len(shown) == 3
    assert len(seen) == 1, "\n".join(s[:120] for s in seen)


def test_the_comparison_symbol_is_remembered_for_the_round_on_the_old_version(
    client, auth, api, org, first_round
):
    new = next_version(first_round.draft, org.drafter, insert_article_5)
    db.session.commit()
    auth.login(org.drafter)
    url = f"/consolidation/drafts/{first_round.draft.id}/comparison.docx"
    versions = {"old": first_round.version.id, "new": new.id}

    def number(data: bytes) -> list[str]:
        left = Document(io.BytesIO(data)).tables[0].rows[0].cells[0]
        return [p.text for p in left.paragraphs if p.text.startswith("Số:")]

    assert client.get(url, query_string={**versions, "symbol": "bad symbol"}).status_code == 422
    assert number(client.get(url, query_string={**versions, "symbol": "16/BSS-VP"}).data) == [
        "Số: 16/BSS-VP"
    ]
    assert number(client.get(url, query_string=versions).data) == ["Số: 16/BSS-VP"]
    db.session.refresh(first_round.consultation)
    assert first_round.consultation.comparison_symbol == "16/BSS-VP"
    api_url = f"/api/v1/drafts/{first_round.draft.id}/comparison.docx"
    response = api(org.drafter).get(api_url, query_string={**versions, "symbol": "17/BSS-VP"})
    assert response.status_code == 200 and number(response.data) == ["Số: 17/BSS-VP"]
