"""drafts.tree: the pure helpers behind the clause tree (no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from drafts import tree
from drafts.diffing import diff_versions
from tests.fixtures.drafts import CRITERIA, REGULATION


def flat(nodes):  # type: ignore[no-untyped-def]
    return tree.flat_from_nodes(nodes)


def labels_by_heading(nodes) -> dict[str, str]:  # type: ignore[no-untyped-def]
    roots = tree.build_tree(flat(nodes))
    return {f"{n.heading} {n.text or n.title}".strip(): n.label for n in tree.iter_tree(roots)}


def test_build_tree_keeps_document_order_and_depth() -> None:
    roots = tree.build_tree(flat(REGULATION))
    assert [r.heading for r in roots] == ["Chương I", "Chương II"]
    article7 = roots[1].children[0]
    assert article7.heading == "Điều 7." and article7.depth == 1
    assert [c.heading for c in article7.children] == ["1.", "4."]
    assert [p.heading for p in article7.children[1].children] == ["a)", "đ)"]
    assert article7.children[1].children[1].parent is article7.children[1]


def test_build_tree_is_linear_and_tolerates_missing_parents() -> None:
    rows = [tree.FlatClause(id=i, parent_id=i - 1 or None, seq=i, kind="paragraph")
            for i in range(1, 5001)]  # fmt: skip
    rows.append(tree.FlatClause(id=9999, parent_id=4242_4242, seq=5001, kind="article", number="9"))
    roots = tree.build_tree(rows)
    assert [r.id for r in roots] == [1, 9999]
    assert sum(1 for _ in tree.iter_tree(roots)) == 5001  # deep chains need no recursion


def test_citation_labels_run_from_small_to_large() -> None:
    labels = labels_by_heading(REGULATION)
    assert labels["đ) Không thực hiện đầy đủ chế độ thông tin, báo cáo."] == (
        "điểm đ khoản 4 Điều 7"
    )
    assert labels["2. Quy chế áp dụng đối với các đơn vị trong ngành."] == "khoản 2 Điều 1"
    assert labels["Điều 2. Tự nguyện, công khai, dân chủ."] == "Điều 2"
    assert labels["Chương II CHẤM ĐIỂM, XẾP LOẠI"] == "Chương II"


def test_citations_of_sections_paragraphs_and_criteria() -> None:
    nodes = [
        {"kind": "chapter", "number": "III", "children": [
            {"kind": "section", "number": "2", "title": "CỤM THI ĐUA", "children": [
                {"kind": "article", "number": "9", "children": [
                    {"kind": "clause", "number": "1", "text": "Gồm:", "children": [
                        {"kind": "paragraph", "text": "Viện khu vực;"}]}]}]}]},
    ]  # fmt: skip
    labels = labels_by_heading(nodes)
    assert labels["Mục 2 CỤM THI ĐUA"] == "Mục 2 Chương III"
    assert labels["- Viện khu vực;"] == "khoản 1 Điều 9"
    criteria = labels_by_heading(CRITERIA)
    assert criteria["I Thực hiện các chỉ tiêu nghiệp vụ"] == "mục I"
    assert criteria["1.2 Không có trường hợp đình chỉ do bị can không phạm tội"] == (
        "tiêu chí 1.2 mục I"
    )
    assert criteria["Điểm thưởng"] == "phần Điểm thưởng"


def test_to_diff_clauses_feeds_the_diff_by_lineage() -> None:
    old = flat(REGULATION)
    for i, row in enumerate(old):
        row.lineage = f"L{i}"
    new = [tree.FlatClause(**{f: getattr(r, f) for f in r.__slots__}) for r in old]
    new[10].text = "Không thực hiện chế độ báo cáo."
    new[6].number = "3"  # Điều 7 → Điều 3
    entries = {
        e.lineage: e for e in diff_versions(tree.to_diff_clauses(old), tree.to_diff_clauses(new))
    }
    assert entries["L10"].changes == {"changed"}
    assert entries["L6"].changes == {"renumbered"}
    assert entries["L10"].new.label == "điểm đ khoản 4 Điều 3"
    assert entries["L10"].new.parent_lineage == "L8"


def test_criteria_points_and_guidance_are_part_of_the_compared_text() -> None:
    rows = flat(CRITERIA)
    diff_rows = tree.to_diff_clauses(rows)
    assert diff_rows[3].text == "Điểm chuẩn: 15\nCách chấm: Mỗi trường hợp trừ 2,5 điểm"


def test_renumber_plan_runs_articles_through_the_document() -> None:
    roots = tree.build_tree(flat(REGULATION))
    plan = {(c.old_label, c.new_label) for c in tree.renumber_plan(roots)}
    assert plan == {
        ("Điều 7", "Điều 3"),
        ("khoản 4 Điều 7", "khoản 2 Điều 3"),
        ("điểm đ khoản 4 Điều 7", "điểm b khoản 2 Điều 3"),
    }


def test_renumber_uses_the_vietnamese_alphabet_and_keeps_styles() -> None:
    points = [{"kind": "point", "number": "x"} for _ in range(7)]
    outline = [{"kind": "point", "number": "9.9"}, {"kind": "point", "number": "1.7"}]
    nodes = [{"kind": "article", "number": "5a", "children": [
        {"kind": "clause", "number": "1a", "children": points},
        {"kind": "clause", "number": "2", "children": outline},
    ]}]  # fmt: skip
    roots = tree.build_tree(flat(nodes))
    new = {c.clause_id: c.new_number for c in tree.renumber_plan(roots)}
    numbers = [new.get(n.id, n.number) for n in tree.iter_tree(roots)]
    assert numbers == ["1", "1", "a", "b", "c", "d", "đ", "e", "g", "2", "2.1", "2.2"]
    assert [tree.vietnamese_letter(i) for i in (0, 4, 5, 6, 22, 23)] == [
        "a",
        "đ",
        "e",
        "g",
        "y",
        "aa",
    ]


def test_renumber_criteria_codes_by_style() -> None:
    nodes = [
        {"kind": "criterion", "number": "II", "children": [
            {"kind": "criterion", "number": "3", "children": [
                {"kind": "criterion", "number": "3.5"}, {"kind": "criterion", "number": "3.7"}]}]},
        {"kind": "criterion", "number": "V"},
        {"kind": "bonus", "number": "", "title": "Điểm thưởng", "children": [
            {"kind": "bonus", "number": "4"}]},
    ]  # fmt: skip
    roots = tree.build_tree(flat(nodes))
    new = {c.clause_id: c.new_number for c in tree.renumber_plan(roots)}
    assert [new.get(n.id, n.number) for n in tree.iter_tree(roots)] == [
        "I",
        "1",
        "1.1",
        "1.2",
        "II",
        "",
        "1",
    ]


def test_renumber_changes_nothing_when_numbers_run_on() -> None:
    roots = tree.build_tree(
        flat([{"kind": "article", "number": "1"}, {"kind": "article", "number": "2"}])
    )
    assert tree.renumber_plan(roots) == []


def test_inherit_lineage_matches_kind_and_citation() -> None:
    previous = flat(REGULATION)
    for i, row in enumerate(previous):
        row.lineage = f"old{i}"
    revised = [{"kind": "chapter", "number": "I", "title": "QUY ĐỊNH CHUNG", "children": [
        {"kind": "article", "number": "1", "title": "Phạm vi", "children": [
            {"kind": "clause", "number": "1", "text": "Sửa lời văn."},
            {"kind": "clause", "number": "3", "text": "Khoản mới."}]}]}]  # fmt: skip
    copied = tree.inherit_lineage(revised, tree.build_tree(previous))
    article = copied[0]["children"][0]
    assert copied[0]["lineage"] == "old0"
    assert article["lineage"] == "old1"
    assert article["children"][0]["lineage"] == "old2"
    assert "lineage" not in article["children"][1]
    assert "lineage" not in revised[0]  # the input is not changed


@pytest.mark.parametrize(
    ("text", "value"),
    [("2,5", "2.5"), ("10", "10"), ("1.000", "1000"), ("0,25", "0.25"), (" 7 ", "7"), ("", None)],
)
def test_parse_points_reads_vietnamese_numbers(text: str, value: str | None) -> None:
    expected = Decimal(value) if value is not None else None
    assert tree.parse_points(text) == expected


@pytest.mark.parametrize("text", ["mười", "-1", "2,555", "1e3", "1,2,3"])
def test_parse_points_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError):
        tree.parse_points(text)


def test_format_points() -> None:
    assert [tree.format_points(Decimal(v)) for v in ("60", "2.50", "0.25")] == ["60", "2,5", "0,25"]
    assert tree.format_points(None) == ""


def test_criteria_problems_lists_every_problem() -> None:
    nodes = [
        {"kind": "criterion", "number": "I", "max_points": 60, "children": [
            {"kind": "criterion", "number": "1", "max_points": 20},
            {"kind": "criterion", "number": "2", "max_points": None}]},
        {"kind": "criterion", "number": "II", "max_points": 30.5, "children": [
            {"kind": "criterion", "number": "1", "max_points": 10}]},
        {"kind": "bonus", "title": "Điểm thưởng", "max_points": 5, "children": [
            {"kind": "bonus", "number": "1", "max_points": 3},
            {"kind": "bonus", "number": "2", "max_points": 3}]},
    ]  # fmt: skip
    problems = tree.criteria_problems(tree.build_tree(flat(nodes)))
    assert problems == [
        "Nhóm II: điểm chuẩn 30,5 khác tổng các tiêu chí con 10.",
        "Tiêu chí 2 chưa có điểm chuẩn.",
        "Tổng điểm chuẩn là 90,5; tổng điểm phải là một số nguyên dương "
        "(ví dụ 100, 200 hoặc 1.000).",
    ]
    assert tree.criteria_problems(tree.build_tree(flat(CRITERIA))) == []
