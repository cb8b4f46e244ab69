"""The plain-row read models of the consolidation and diff pages agree with the ORM read
models that the reports, the API and the permission predicates use."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from accounts.models import Role
from comments.consolidation import operations as ops
from comments.consolidation import queries
from comments.consultation.models import Comment, Consultation, Decision, Visibility
from drafts.models import Clause, Version
from drafts.tree import build_tree, citation_labels, iter_tree, load_flat_clauses
from extensions import db
from tests.fixtures.consolidation import find_node, next_version


def clause_of(version: Version, kind: str, number: str) -> Clause:
    return db.session.scalars(
        select(Clause).where(
            Clause.version_id == version.id, Clause.kind == kind, Clause.number == number
        )
    ).one()


@pytest.fixture
def rnd(org, make_round):  # type: ignore[no-untyped-def]
    """KV1 and KV2 comment (KV2 also at the conference), KV3 agrees, Phòng 1 keeps an
    unsent draft; two identical comments share an answer, one comment is unanswered, and
    "Dự thảo lần 2" rewrites Điều 2 and khoản 1 Điều 7, linked to the comments on them."""
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
            ("khoản 1 Điều 7", "Đề nghị bổ sung thời hạn <gửi> bảng tự chấm & ký."),
        ],
    )
    conference = rnd.comment(org.r2, None, "Đề nghị ban hành sớm.", conference=True)
    rnd.submit(org.r1)
    rnd.submit(org.r2)
    rnd.submit(org.r3, agrees=True)
    rnd.comment(org.dept, "Điều 1", "Ý kiến nháp của Phòng 1, chưa gửi.")
    ops.dispose([kv1[2], kv2[0]], Decision.ACCEPTED, "Đã bổ sung tại khoản 3 Điều 2.", org.drafter)
    ops.dispose([kv1[3]], Decision.PARTLY, "Bổ sung ví dụ.", org.drafter)
    ops.dispose([kv2[1]], Decision.ACCEPTED, "", org.drafter)
    ops.dispose([conference], Decision.EXPLAINED, "Dự kiến ban hành trong tháng 12.", org.drafter)
    db.session.commit()

    def revise(nodes: list[dict]) -> None:
        find_node(nodes, "article", "2")["text"] = "Khách quan, công khai."
        find_node(find_node(nodes, "article", "7")["children"], "clause", "1")["text"] = "Mới."

    version = next_version(rnd.draft, org.drafter, revise)
    ops.link_change(clause_of(version, "article", "2"), [kv1[2], kv2[0]], org.drafter)
    khoan_1 = next(
        c
        for c in version.clauses
        if c.kind == "clause" and c.number == "1" and c.parent.number == "7"
    )
    ops.link_change(khoan_1, [kv2[1]], org.drafter)
    db.session.commit()
    return rnd


def test_page_rows_agree_with_the_report_read_model(org, rnd):
    db.session.expire_all()
    consultation = db.session.get(Consultation, rnd.consultation.id)
    report = queries.load_consolidation(consultation)
    page = queries.consolidation_page(consultation)

    def shape(groups):  # type: ignore[no-untyped-def]
        return [
            (g.key, g.label, g.citation, g.answered, [c.id for c in g.comments]) for g in groups
        ]

    assert shape(page.groups) == shape(report.groups)
    assert page.counts == report.counts
    rows = [c for g in page.groups for c in g.comments]
    originals = {c.id: c for c in report.comments}
    assert len(rows) == 7  # the unsent draft of Phòng 1 is not consolidated
    for row in rows:
        comment = originals[row.id]
        assert row.citation == report.citations[row.id]
        assert row.unit_label == report.unit_label(comment)
        assert row.text == comment.text
        assert row.changes == tuple(change.text for change in report.changes.get(row.id, []))
        assert row.disposition_id == comment.disposition_id
        if comment.disposition is None:
            assert (row.decision, row.decision_label, row.shared) == (None, "", 1)
            assert row.answer_query == f"comment={row.id}"
        else:
            shared = report.shared[comment.disposition_id]
            assert row.decision == comment.disposition.decision
            assert row.explanation == comment.disposition.explanation
            assert row.shared == len(shared)
            assert row.answer_query == "&".join(f"comment={i}" for i in shared)
    assert {r.unit_label for r in rows if r.is_conference} == {
        "Viện kiểm sát nhân dân khu vực 2 (ý kiến tại Hội nghị trực tuyến 10/03/2026)"
    }
    assert page.change_texts == {"Điều 2 (Dự thảo lần 2)", "Khoản 1 Điều 7 (Dự thảo lần 2)"}
    assert page.unit_names == {org.r1.id: org.r1.name, org.r2.id: org.r2.name}


def test_consolidation_page_shows_the_rows(client, auth, org, rnd):
    auth.login(org.drafter)
    page = client.get(f"/consolidation/{rnd.consultation.id}").get_data(as_text=True)

    kv1_2, kv2_0 = (
        c.id
        for c in db.session.scalars(
            select(Comment)
            .where(Comment.text == "Đề nghị bổ sung nguyên tắc khách quan.")
            .order_by(Comment.id)
        )
    )
    assert (
        f"/consolidation/{rnd.consultation.id}/answer?comment={kv1_2}&amp;comment={kv2_0}" in page
    )
    assert "Trả lời chung cho 2 ý kiến" in page
    assert "Đã chỉnh lý tại Khoản 1 Điều 7 (Dự thảo lần 2)" in page
    assert "thời hạn &lt;gửi&gt; bảng tự chấm &amp; ký." in page
    assert "Chọn ý kiến của Viện kiểm sát nhân dân khu vực 2" in page
    assert "Ý kiến nháp của Phòng 1" not in page
    assert page.count('<span class="badge badge-warn">Chưa xử lý</span>') == 2


def test_outline_and_text_rows_match_the_clauses(rnd):
    version = rnd.version
    orm = db.session.scalars(
        select(Clause).where(Clause.version_id == version.id).order_by(Clause.seq)
    ).all()
    full = load_flat_clauses([version.id])[version.id]
    outline = load_flat_clauses([version.id], with_text=False)[version.id]

    fields = ("id", "parent_id", "seq", "number", "title", "lineage", "depth")
    assert [tuple(getattr(c, f) for f in fields) for c in full] == [
        tuple(getattr(c, f) for f in fields) for c in orm
    ]
    assert [tuple(getattr(c, f) for f in fields) for c in outline] == [
        tuple(getattr(c, f) for f in fields) for c in orm
    ]
    assert [(c.kind, c.text, c.max_points, c.guidance) for c in full] == [
        (c.kind.value, c.text, c.max_points, c.guidance) for c in orm
    ]
    assert all((c.text, c.max_points, c.guidance) == ("", None, "") for c in outline)
    assert citation_labels(outline) == {n.id: n.label for n in iter_tree(build_tree(orm))}
    assert load_flat_clauses([]) == {}


def test_citations_of_a_few_clauses_read_only_their_ancestors(rnd):
    later = rnd.draft.versions[-1]
    clauses = db.session.scalars(select(Clause).where(Clause.version_id == later.id)).all()
    every = citation_labels(clauses)
    points = [c.id for c in clauses if c.kind == "point"]

    found = queries._citation_labels_of(points[:2])

    assert {i: found[i] for i in points[:2]} == {i: every[i] for i in points[:2]}
    assert set(found) < set(every)  # the ancestors only, not the whole version


@pytest.fixture
def outsider(create_user, create_unit):  # type: ignore[no-untyped-def]
    return create_user(Role.UNIT_STAFF, unit=create_unit("Phòng 9", "P9"))


@pytest.mark.parametrize("visibility", [Visibility.BLIND, Visibility.OPEN])
@pytest.mark.parametrize("closed", [True, False])
def test_comment_viewer_is_comment_can_view(org, make_round, outsider, visibility, closed):
    rnd = make_round(visibility=visibility, closed=closed)
    rnd.comment(org.r1, "Điều 2", "Đã gửi.")
    rnd.comment(org.r2, "Điều 2", "Chưa gửi.")
    rnd.comment(org.r3, None, "Tại hội nghị.", conference=True)
    rnd.submit(org.r1)
    comments = db.session.scalars(
        select(Comment).where(Comment.consultation_id == rnd.consultation.id)
    ).all()
    users = [org.admin, org.drafter, org.staff1, org.head2, org.staff3, org.verifier, outsider]

    for user in users:
        can_view = queries.comment_viewer(user, [rnd.consultation])
        for c in comments:
            sent = c.is_conference or c.response.is_submitted
            assert can_view(c.unit_id, c.consultation_id, sent=sent) == c.can_view(user), (
                user.username,
                c.text,
            )


@pytest.mark.parametrize("who", ["drafter", "staff1", "staff3", "admin", "outsider"])
def test_diff_page_rows_agree_with_the_diff_and_the_earlier_comments(org, rnd, outsider, who):
    user = outsider if who == "outsider" else getattr(org, who)
    old, new = rnd.version, rnd.draft.versions[-1]
    third = next_version(
        rnd.draft,
        org.drafter,
        lambda nodes: find_node(nodes, "article", "7").update(title="Thi đua"),
    )
    db.session.expire_all()

    for a, b in ((old, new), (old, third), (third, old), (new, third)):
        reference = queries.version_diff(a, b)
        page = queries.diff_page(a, b, user)
        rows = page.diff.rows
        assert [(r.lineage, r.changes, r.label, str(r.text_html)) for r in rows] == [
            (r.lineage, r.changes, r.label, str(r.text_html)) for r in reference.rows
        ]
        assert page.diff.new_clause_ids == reference.new_clause_ids
        assert all(not r.links for r in rows)

        visible = queries.visible_links(reference, user)
        assert {k: [c.id for c in v] for k, v in page.linked.items()} == {
            k: [link.comment_id for link in v] for k, v in visible.items() if v
        }
        for lineage, comments in page.linked.items():
            for shown, link in zip(comments, visible[lineage], strict=True):
                assert (shown.unit_name, shown.text) == (link.comment.unit.name, link.comment.text)
                assert shown.decision_label == (
                    link.comment.disposition.decision_label if link.comment.disposition else ""
                )

        earlier = queries.earlier_comments_by_lineage(b.draft, b)
        expected = {}
        for lineage, comments in earlier.items():
            linked_here = {link.comment_id for link in visible.get(lineage, [])}
            kept = [c for c in comments if c.can_view(user) and c.id not in linked_here]
            if kept:
                expected[lineage] = [
                    (
                        c.id,
                        c.unit.name,
                        c.text,
                        c.disposition.decision_label if c.disposition else "",
                        c.disposition.explanation if c.disposition else "",
                        c.consultation.version.number,
                    )
                    for c in kept
                ]
        assert {
            k: [(c.id, c.unit_name, c.text, c.decision_label, c.explanation, c.round) for c in v]
            for k, v in page.earlier.items()
        } == expected
        assert page.rounds == {n for v in expected.values() for *_rest, n in v}


def test_the_reports_diff_keeps_its_links(rnd):
    new = rnd.draft.versions[-1]
    diff = queries.version_diff(rnd.version, new)
    linked = {
        row.label: [link.comment.text for link in row.links] for row in diff.rows if row.links
    }

    assert linked == {
        "Điều 2": ["Đề nghị bổ sung nguyên tắc khách quan."] * 2,
        "Khoản 1 Điều 7": ["Đề nghị bổ sung thời hạn <gửi> bảng tự chấm & ký."],
    }
