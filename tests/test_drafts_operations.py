"""drafts.operations: creating, importing, editing, publishing, new versions, adoption."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import time_machine
from sqlalchemy import select

from accounts.clock import now
from accounts.errors import Conflict, Forbidden, Invalid
from accounts.models import AuditEntry, Role
from drafts import operations, tree
from drafts.models import Clause, Draft, DraftKind, DraftState, Version
from extensions import db
from tests.fixtures.drafts import criteria_xlsx, regulation_docx
from workflow.engine import NotPermitted


def clauses_of(version: Version) -> list[Clause]:
    return list(
        db.session.scalars(
            select(Clause).where(Clause.version_id == version.id).order_by(Clause.seq)
        )
    )


def by_label(version: Version) -> dict[str, Clause]:
    rows = clauses_of(version)
    labels = tree.citation_labels(rows)
    return {labels[c.id]: c for c in rows}


def outline(version: Version) -> list[tuple[str, int, str | None]]:
    """(citation, depth, parent's citation) in document order."""
    rows = clauses_of(version)
    labels = tree.citation_labels(rows)
    return [(labels[c.id], c.depth, labels.get(c.parent_id)) for c in rows]


def fields(kind: str = "clause", **values) -> operations.ClauseFields:  # type: ignore[no-untyped-def]
    return operations.ClauseFields(kind=kind, **values)


@pytest.fixture
def editing(create_draft, org):  # type: ignore[no-untyped-def]
    """An unpublished regulation version and its drafter."""
    draft = create_draft(drafter=org.drafter, published=False)
    return draft.versions[0], org.drafter


# --- create and import ------------------------------------------------------------------------
def test_create_draft_records_drafters_and_audit(org, create_user):
    colleague = create_user(Role.DRAFTER, unit=org.office)
    draft = operations.create_draft(
        title="  Quy chế thi đua  ", kind=DraftKind.REGULATION, drafting_unit=org.office,
        actor=org.drafter, drafters=[colleague],
    )  # fmt: skip
    db.session.commit()
    assert draft.title == "Quy chế thi đua"
    assert {d.user_id for d in draft.drafters} == {org.drafter.id, colleague.id}
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "draft.create"))
    with pytest.raises(Invalid, match="đồng soạn thảo"):
        operations.create_draft(
            title="X", kind=DraftKind.REGULATION, drafting_unit=org.office, actor=org.drafter,
            drafters=[org.staff1],
        )  # fmt: skip


def test_import_regulation_creates_the_tree(org, create_empty_draft):
    draft = create_empty_draft(drafter=org.drafter)
    version = operations.import_version(
        draft, actor=org.drafter, data=regulation_docx(), filename="C:\\Dự thảo\\Quy chế <1>.docx"
    )
    db.session.commit()
    assert version.number == 1 and version.source_filename == "Quy chế 1.docx"
    labels = by_label(version)
    assert labels["điểm đ khoản 4 Điều 7"].text == (
        "Không thực hiện đầy đủ chế độ thông tin, báo cáo."
    )
    assert [c.seq for c in clauses_of(version)] == list(range(16))


def test_import_criteria_keeps_decimal_points(org, create_empty_draft):
    draft = create_empty_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    rows = [
        ["STT", "Tiêu chí", "Điểm chuẩn", "Cách chấm"],
        ["I", "Nghiệp vụ", "97,5", None],
        ["1", "Tin báo", "97,5", "Thiếu 1% trừ 0,5 điểm"],
        ["II", "Quản lý", "2,5", None],
    ]
    version = operations.import_version(
        draft, actor=org.drafter, data=criteria_xlsx(rows), filename="tieu-chi.xlsx"
    )
    db.session.commit()
    points = {c.number: c.max_points for c in clauses_of(version)}
    assert points == {"I": Decimal("97.5"), "1": Decimal("97.5"), "II": Decimal("2.5")}


def test_read_upload_turns_parse_errors_into_invalid(org):
    with pytest.raises(Invalid, match="Tệp rỗng"):
        operations.read_upload(DraftKind.REGULATION, b"", "a.docx")
    with pytest.raises(Invalid, match="không phải tài liệu Word"):
        operations.read_upload(DraftKind.REGULATION, criteria_xlsx(), "a.xlsx")


def test_pending_uploads_are_bound_to_user_and_draft_and_expire(org, create_draft, create_user):
    draft = create_draft(drafter=org.drafter)
    other = create_draft(drafter=org.drafter, title="Dự thảo khác")
    start = now()
    with time_machine.travel(start, tick=False):
        token = operations.stash_upload(b"data", filename="a.docx", user=org.drafter, draft=draft)
        assert operations.take_upload(token, user=org.drafter, draft=draft).data == b"data"
        with pytest.raises(Forbidden):
            operations.take_upload(token, user=create_user(Role.DRAFTER), draft=draft)
        with pytest.raises(Forbidden):
            operations.take_upload(token, user=org.drafter, draft=other)
        with pytest.raises(Conflict):
            operations.take_upload("../../etc/passwd", user=org.drafter, draft=draft)
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        assert operations.expire_uploads() >= 1
        with pytest.raises(Conflict, match="hết hạn"):
            operations.take_upload(token, user=org.drafter, draft=draft)


# --- editing keeps lineage ---------------------------------------------------------------------
def test_add_clause_under_a_parent_and_after_a_sibling(editing):
    version, drafter = editing
    labels = by_label(version)
    article7 = labels["Điều 7"]
    first = operations.add_clause(
        version, fields(number="2", text="Khoản mới."), actor=drafter,
        lock_version=version.lock_version, after=labels["khoản 1 Điều 7"],
    )  # fmt: skip
    last = operations.add_clause(
        version, fields(number="5", text="Khoản cuối."), actor=drafter,
        lock_version=version.lock_version, parent=article7,
    )  # fmt: skip
    db.session.commit()
    children = [c for c in clauses_of(version) if c.parent_id == article7.id]
    assert [c.number for c in children] == ["1", "2", "4", "5"]
    assert first.depth == 2 and last.seq == len(clauses_of(version)) - 1
    with pytest.raises(Invalid, match="Không thể đặt"):
        operations.add_clause(
            version, fields(kind="article", number="9", title="Sai chỗ"), actor=drafter,
            lock_version=version.lock_version, parent=labels["khoản 1 Điều 7"],
        )  # fmt: skip


def test_edit_move_delete_and_renumber_never_change_lineage(editing):
    version, drafter = editing
    before = {c.id: c.lineage for c in clauses_of(version)}
    labels = by_label(version)
    point = labels["điểm đ khoản 4 Điều 7"]

    operations.edit_clause(
        point, fields(kind="point", number="đ", text="Không báo cáo đúng hạn."), actor=drafter,
        lock_version=version.lock_version,
    )  # fmt: skip
    operations.move_clause(
        labels["khoản 4 Điều 7"], actor=drafter, lock_version=version.lock_version,
        parent=labels["Điều 1"], after=labels["khoản 1 Điều 1"],
    )  # fmt: skip
    operations.shift_clause(
        labels["Điều 2"], "up", actor=drafter, lock_version=version.lock_version
    )
    operations.renumber_version(version, actor=drafter, lock_version=version.lock_version)
    db.session.commit()

    assert {c.id: c.lineage for c in clauses_of(version)} == before
    assert outline(version) == [
        ("Chương I", 0, None),
        ("Điều 1", 1, "Chương I"),  # was Điều 2, moved up
        ("Điều 2", 1, "Chương I"),  # was Điều 1
        ("khoản 1 Điều 2", 2, "Điều 2"),
        ("khoản 2 Điều 2", 2, "Điều 2"),  # the old khoản 4 Điều 7
        ("điểm a khoản 2 Điều 2", 3, "khoản 2 Điều 2"),
        ("điểm b khoản 2 Điều 2", 3, "khoản 2 Điều 2"),
        ("khoản 3 Điều 2", 2, "Điều 2"),
        ("Chương II", 0, None),
        ("Điều 3", 1, "Chương II"),
        ("khoản 1 Điều 3", 2, "Điều 3"),
    ]
    assert db.session.get(Clause, point.id).text == "Không báo cáo đúng hạn."


def test_move_refuses_a_clause_into_its_own_subtree(editing):
    version, drafter = editing
    labels = by_label(version)
    with pytest.raises(Invalid, match="chính nó"):
        operations.move_clause(
            labels["Điều 7"], actor=drafter, lock_version=version.lock_version,
            parent=labels["khoản 4 Điều 7"],
        )  # fmt: skip
    with pytest.raises(Invalid, match="đầu tiên"):
        operations.shift_clause(
            labels["Chương I"], "up", actor=drafter, lock_version=version.lock_version
        )


def test_delete_removes_the_children_and_closes_the_gap(editing):
    version, drafter = editing
    labels = by_label(version)
    deleted = operations.delete_clause(
        labels["khoản 4 Điều 7"], actor=drafter, lock_version=version.lock_version
    )
    db.session.commit()
    assert deleted == 3
    rows = clauses_of(version)
    assert len(rows) == 8 and [c.seq for c in rows] == list(range(8))


def test_stale_lock_version_is_a_conflict_and_edits_bump_it(editing):
    version, drafter = editing
    seen = version.lock_version
    point = by_label(version)["điểm a khoản 4 Điều 7"]
    operations.edit_clause(point, fields(kind="point", number="a", text="Một."), actor=drafter,
                           lock_version=seen)  # fmt: skip
    db.session.commit()
    assert version.lock_version == seen + 1
    with pytest.raises(Conflict, match="vừa được người khác sửa"):
        operations.edit_clause(point, fields(kind="point", number="a", text="Hai."),
                               actor=drafter, lock_version=seen)  # fmt: skip


def test_a_published_version_refuses_every_edit(create_draft, org):
    draft = create_draft(drafter=org.drafter)
    version = draft.versions[0]
    point = by_label(version)["điểm a khoản 4 Điều 7"]
    lock = version.lock_version
    attempts = [
        lambda: operations.add_clause(version, fields(number="9", text="x"), actor=org.drafter,
                                      lock_version=lock),
        lambda: operations.edit_clause(point, fields(kind="point", number="a", text="x"),
                                       actor=org.drafter, lock_version=lock),
        lambda: operations.move_clause(point, actor=org.drafter, lock_version=lock, parent=None),
        lambda: operations.shift_clause(point, "down", actor=org.drafter, lock_version=lock),
        lambda: operations.delete_clause(point, actor=org.drafter, lock_version=lock),
        lambda: operations.renumber_version(version, actor=org.drafter, lock_version=lock),
        lambda: operations.publish_version(version, actor=org.drafter),
        lambda: operations.discard_version(version, actor=org.drafter),
    ]  # fmt: skip
    for attempt in attempts:
        with pytest.raises(Conflict, match="phát hành"):
            attempt()
        db.session.rollback()
    assert len(clauses_of(version)) == 11


# --- versions ----------------------------------------------------------------------------------
def test_new_version_copies_the_tree_with_the_same_lineage(create_draft, org):
    draft = create_draft(drafter=org.drafter, state=DraftState.CONSOLIDATING)
    first = draft.versions[0]
    second = operations.new_version(draft, actor=org.drafter, note="Tiếp thu ý kiến")
    db.session.commit()
    assert second.number == 2 and second.based_on_id == first.id and not second.is_published
    assert outline(second) == outline(first)
    assert [c.lineage for c in clauses_of(second)] == [c.lineage for c in clauses_of(first)]
    assert draft.state == DraftState.CONSOLIDATING
    with pytest.raises(Conflict, match="chưa được phát hành"):
        operations.new_version(draft, actor=org.drafter)


def test_import_of_a_revision_inherits_lineage_by_citation(org, create_draft):
    draft = create_draft(drafter=org.drafter)
    old = by_label(draft.versions[0])
    version = operations.import_version(
        draft, actor=org.drafter, data=regulation_docx(), filename="lan-2.docx"
    )
    db.session.commit()
    new = by_label(version)
    assert version.based_on_id == draft.versions[0].id
    assert new["điểm đ khoản 4 Điều 7"].lineage == old["điểm đ khoản 4 Điều 7"].lineage
    assert new["khoản 2 Điều 7"].lineage not in {c.lineage for c in old.values()}


def test_finish_revision_publishes_and_applies_revise(create_draft, org, create_user):
    draft = create_draft(drafter=org.drafter, state=DraftState.CONSOLIDATING)
    with pytest.raises(Conflict, match="Chưa có phiên bản chỉnh lý"):
        operations.finish_revision(draft, org.drafter)
    version = operations.new_version(draft, actor=org.drafter)
    db.session.commit()
    with pytest.raises(NotPermitted):
        operations.finish_revision(draft, create_user(Role.DRAFTER))
    db.session.rollback()
    assert not db.session.get(Version, version.id).is_published
    operations.finish_revision(draft, org.drafter, "Đã tiếp thu")
    db.session.commit()
    assert version.is_published and draft.state == DraftState.REVISED


# --- adoption ----------------------------------------------------------------------------------
def adopt(draft: Draft, drafter, version: Version | None = None) -> Draft:  # type: ignore[no-untyped-def]
    return operations.adopt_draft(
        draft, version or draft.versions[-1], "125/QĐ-VKS", date(2026, 12, 15), "Nguyễn Văn Viện",
        drafter,
    )  # fmt: skip


def test_adopt_refuses_sum_problems_listing_all(create_draft, org):
    nodes = [
        {"kind": "criterion", "number": "I", "max_points": 60, "children": [
            {"kind": "criterion", "number": "1", "max_points": 25}]},
        {"kind": "criterion", "number": "II", "max_points": 40.5, "children": [
            {"kind": "criterion", "number": "1", "max_points": 10}]},
    ]  # fmt: skip
    draft = create_draft(nodes=nodes, kind=DraftKind.CRITERIA, drafter=org.drafter)
    with pytest.raises(Invalid) as refused:
        adopt(draft, org.drafter)
    assert refused.value.details == [
        "Nhóm I: điểm chuẩn 60 khác tổng các tiêu chí con 25.",
        "Nhóm II: điểm chuẩn 40,5 khác tổng các tiêu chí con 10.",
        "Tổng điểm chuẩn là 100,5; tổng điểm phải là một số nguyên dương "
        "(ví dụ 100, 200 hoặc 1.000).",
    ]
    assert "Nhóm I" in refused.value.message and "Nhóm II" in refused.value.message
    db.session.rollback()
    assert db.session.get(Draft, draft.id).state == DraftState.DRAFT


def test_adopt_only_a_published_version(create_draft, org):
    draft = create_draft(kind=DraftKind.CRITERIA, drafter=org.drafter, published=False)
    with pytest.raises(Conflict, match="chưa được phát hành"):
        adopt(draft, org.drafter)


def test_adopted_draft_is_read_only_everywhere(create_draft, org):
    draft = create_draft(kind=DraftKind.CRITERIA, drafter=org.drafter, state=DraftState.REVISED)
    adopt(draft, org.drafter)
    db.session.commit()
    assert draft.state == DraftState.ADOPTED
    assert draft.adopted_version == draft.versions[0]
    assert draft.decision_number == "125/QĐ-VKS" and draft.adopted_at is not None
    assert not draft.can_edit(org.drafter)
    assert operations.adopted_criteria_drafts() == [draft]
    clause = clauses_of(draft.versions[0])[0]
    for attempt in (
        lambda: operations.new_version(draft, actor=org.drafter),
        lambda: operations.create_version(draft, actor=org.drafter),
        lambda: operations.edit_clause(clause, fields(kind="criterion", number="I", title="x"),
                                       actor=org.drafter, lock_version=None),
        lambda: adopt(draft, org.drafter),
    ):  # fmt: skip
        with pytest.raises((Conflict, Invalid)):
            attempt()
        db.session.rollback()


def test_only_a_drafter_of_the_draft_may_adopt(create_draft, org, create_user):
    draft = create_draft(drafter=org.drafter)
    with pytest.raises(NotPermitted):
        adopt(draft, create_user(Role.DRAFTER))


def test_visible_drafts_follow_can_view(create_draft, org, create_user):
    mine = create_draft(drafter=org.drafter, title="Nháp của tôi")
    consulting = create_draft(state=DraftState.CONSULTING, title="Đang lấy ý kiến")
    assert operations.visible_drafts(org.staff1) == [consulting]
    assert set(operations.visible_drafts(org.drafter)) == {mine, consulting}
    assert set(operations.visible_drafts(org.admin)) == {mine, consulting}


# --- demo --------------------------------------------------------------------------------------
def test_demo_is_realistic_idempotent_and_ready_for_scoring(create_unit, create_user):
    from accounts.models import UnitKind
    from drafts import demo

    units = {"VP": create_unit("Văn phòng", "VP", UnitKind.OFFICE)}
    create_user(Role.DRAFTER, unit=units["VP"], username="soanthao")
    demo.load_demo(units, 2026)
    db.session.commit()
    demo.load_demo(units, 2026)
    db.session.commit()

    drafts = {d.title: d for d in db.session.scalars(select(Draft))}
    assert len(drafts) == 2
    regulation = drafts["Quy chế tổ chức và hoạt động của Cụm, Khối thi đua"]
    assert regulation.state == DraftState.DRAFT and regulation.versions[0].is_published
    assert regulation.drafting_unit.short_name == "VP"
    labels = by_label(regulation.versions[0])
    assert sum(1 for c in labels.values() if c.kind == "article") == 11
    for label in ("điểm đ khoản 4 Điều 7", "khoản 2 Điều 4", "khoản 1 Điều 6", "khoản 2 Điều 8"):
        assert label in labels
    criteria = drafts["Bảng tiêu chí chấm điểm, xếp loại thi đua năm 2026"]
    assert criteria.state == DraftState.ADOPTED and criteria.decision_number == "125/QĐ-VKS"
    assert operations.adopted_criteria_drafts() == [criteria]
    roots = tree.load_version_tree(criteria.adopted_version)
    assert tree.criteria_total(roots) == 100
    assert [r.number for r in roots if r.kind == "criterion"] == ["I", "II", "III", "IV"]
    assert [r.max_points for r in roots if r.kind == "bonus"] == [Decimal(5)]
    assert any(r.kind == "deduction" for r in roots)


def test_demo_does_nothing_without_its_drafter(create_unit):
    from drafts import demo

    demo.load_demo({"VP": create_unit("Văn phòng", "VP")}, 2026)
    assert db.session.scalar(select(Draft)) is None


def test_display_filename_keeps_vietnamese_and_the_extension():
    assert operations.display_filename("../../tmp/Bảng tiêu chí: 2026?.xlsx") == (
        "Bảng tiêu chí 2026.xlsx"
    )
    long_name = operations.display_filename("Quy chế " * 60 + ".docx")
    assert len(long_name) <= 255 and long_name.endswith(".docx")
    assert operations.display_filename(" .. ") == "tep-tai-len"


def test_co_drafters_hear_about_the_draft_and_its_adoption(org, create_user, create_draft):
    from notices.models import Notification

    colleague = create_user(Role.DRAFTER, unit=org.office)
    draft = operations.create_draft(
        title="Bảng tiêu chí năm 2026", kind=DraftKind.CRITERIA, drafting_unit=org.office,
        actor=org.drafter, drafters=[colleague],
    )  # fmt: skip
    db.session.rollback()  # a rolled-back transaction tells no one
    assert db.session.scalar(select(Notification)) is None

    draft = create_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    operations.create_draft(
        title="Quy chế mới", kind=DraftKind.REGULATION, drafting_unit=org.office,
        actor=org.drafter, drafters=[colleague],
    )  # fmt: skip
    draft.drafters.append(type(draft.drafters[0])(user=colleague))
    db.session.flush()
    adopt(draft, org.drafter)
    db.session.commit()
    notices = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    assert [(n.user_id, n.kind) for n in notices] == [
        (colleague.id, "draft.co_drafter"),
        (colleague.id, "draft.adopted"),
    ]
    assert notices[1].url == f"/drafts/{draft.id}"
    assert "Quyết định số 125/QĐ-VKS ngày 15/12/2026" in notices[1].body
