"""The redline: version n+1 against version n with real tracked changes. Accepting every change
gives version n+1 clause by clause, rejecting every change gives version n, for any pair of
versions (edits, insertions, deletions, moves, renumbering); LibreOffice keeps the changes."""

from __future__ import annotations

import datetime
import io
import zipfile
from collections import defaultdict
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from drafts.diffing import DiffClause, diff_versions
from drafts.documents import bookmark_name, clause_lines
from drafts.redline import RedlineHeading, build_redline_docx
from drafts.tree import FlatClause, to_diff_clauses
from tests.office import convert
from tests.tracked import W, body_paragraphs, change_tags

HEAD = RedlineHeading(
    draft_title="Quy chế thi đua",
    old_label="Dự thảo lần 1",
    new_label="Dự thảo lần 2",
    author="Văn phòng",
    moment=datetime.datetime(2026, 3, 5, 1, 2, 3, tzinfo=datetime.UTC),
)
TITLE_LINES = ["QUY CHẾ THI ĐUA", "(Dự thảo lần 2 so với Dự thảo lần 1)", ""]
WORDS = ["đơn vị", "Cụm", "thi đua", "báo cáo", "điểm", "chấm", "năm", "các", "và", "theo", "quy"]


# --------------------------------------------------------------------------- trees


def node(lineage: str, kind: str, number: str, title: str = "", text: str = "", children=()):  # type: ignore[no-untyped-def]
    return {
        "lineage": lineage,
        "kind": kind,
        "number": number,
        "title": title,
        "text": text,
        "children": list(children),
    }


def flatten(roots: list[dict[str, Any]]) -> list[DiffClause]:
    rows: list[FlatClause] = []

    def walk(items: list[dict[str, Any]], parent: int | None) -> None:
        for item in items:
            row = FlatClause(
                id=len(rows) + 1,
                parent_id=parent,
                seq=len(rows),
                kind=item["kind"],
                number=item["number"],
                title=item["title"],
                text=item["text"],
                lineage=item["lineage"],
            )
            rows.append(row)
            walk(item["children"], row.id)

    walk(roots, None)
    return to_diff_clauses(rows)


def lines_of(clauses: list[DiffClause]) -> list[str]:
    return [line for clause in clauses for line in clause_lines(clause)]


def redline(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> bytes:
    return build_redline_docx(HEAD, diff_versions(flatten(old), flatten(new)))


def bookmarked_texts(docx: bytes) -> dict[str, list[str]]:
    """After accepting every change: the paragraphs inside each bookmark, by name."""
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    accepted = body_paragraphs(docx, accept=True)
    # Paragraph i of the accepted text ends at the i-th kept paragraph mark; walk the source
    # paragraphs, noting which bookmarks are open in each, and fold merged ones forward.
    found: dict[str, list[str]] = defaultdict(list)
    names: dict[str, str] = {}
    open_now: set[str] = set()
    pending: set[str] = set()
    kept = 0
    for paragraph in root.iter(f"{{{W}}}p"):
        here = set(open_now)
        for child in paragraph:
            local = etree.QName(child).localname
            if local == "bookmarkStart":
                names[child.get(f"{{{W}}}id")] = child.get(f"{{{W}}}name")
                open_now.add(child.get(f"{{{W}}}id"))
                here.add(child.get(f"{{{W}}}id"))
            elif local == "bookmarkEnd":
                open_now.discard(child.get(f"{{{W}}}id"))
        mark = paragraph.find(f"{{{W}}}pPr/{{{W}}}rPr")
        removed = mark is not None and any(
            etree.QName(c).localname in ("del", "moveFrom") for c in mark
        )
        pending |= here
        if removed:
            continue
        for ident in pending:
            found[names[ident]].append(accepted[kept])
        pending = set()
        kept += 1
    return dict(found)


# --------------------------------------------------------------------------- examples

OLD = [
    node("ch1", "chapter", "I", "QUY ĐỊNH CHUNG"),
    node(
        "a1",
        "article",
        "1",
        "Phạm vi",
        children=[
            node("k1", "clause", "1", text="Quy chế này quy định về Cụm thi đua."),
            node("k2", "clause", "2", text="Áp dụng cho các đơn vị."),
        ],
    ),
    node("a2", "article", "2", "Nguyên tắc", "Tự nguyện, công khai."),
    node("a3", "article", "3", "Khen thưởng", "Hằng năm.\nTheo quy định."),
    node("a4", "article", "4", "Điều khoản thi hành", "Có hiệu lực từ ngày ký."),
]


def test_renumbered_clause_shows_only_its_number_changing():
    new = [OLD[0], node("a0", "article", "1", "Giải thích từ ngữ", "Cụm là nhóm đơn vị.")]
    new += [dict(a, number=str(int(a["number"]) + 1)) for a in OLD[1:]]
    data = redline(OLD, new)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    deleted = root.xpath("//w:del//w:delText/text()", namespaces={"w": W})
    inserted_runs = root.xpath("//w:ins//w:t/text()", namespaces={"w": W})
    # Điều 1..4 become 2..5: only the digits change; the new article is inserted whole.
    assert deleted == ["1", "2", "3", "4"]
    assert inserted_runs == ["Điều 1. Giải thích từ ngữ", "Cụm là nhóm đơn vị.", "2", "3", "4", "5"]
    assert change_tags(data)["moveFrom"] == 0
    assert body_paragraphs(data, accept=True) == TITLE_LINES + lines_of(flatten(new))
    assert body_paragraphs(data, accept=False) == TITLE_LINES + lines_of(flatten(OLD))


def test_moved_article_is_a_named_move_not_a_delete_and_insert_of_what_follows():
    # Điều 2 moves to the end; Điều 3 and 4 become 2 and 3.
    moved = dict(OLD[2], number="4")
    new = [OLD[0], OLD[1], dict(OLD[3], number="2"), dict(OLD[4], number="3"), moved]
    data = redline(OLD, new)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    starts = {side: root.findall(f".//{{{W}}}{side}RangeStart") for side in ("moveFrom", "moveTo")}
    assert len(starts["moveFrom"]) == len(starts["moveTo"]) == 1
    assert starts["moveFrom"][0].get(f"{{{W}}}name") == starts["moveTo"][0].get(f"{{{W}}}name")
    moved_from = "".join(root.xpath("//w:moveFrom//w:t/text()", namespaces={"w": W}))
    moved_to = "".join(root.xpath("//w:moveTo//w:t/text()", namespaces={"w": W}))
    assert moved_from == "Điều 2. Nguyên tắcTự nguyện, công khai."
    assert moved_to == "Điều 4. Nguyên tắcTự nguyện, công khai."
    # Articles 3 and 4 stay in place: only their numbers are tracked.
    assert root.xpath("//w:delText/text()", namespaces={"w": W}) == ["3", "4"]
    assert body_paragraphs(data, accept=True) == TITLE_LINES + lines_of(flatten(new))
    assert body_paragraphs(data, accept=False) == TITLE_LINES + lines_of(flatten(OLD))


def test_changes_carry_the_author_and_a_utc_date_and_unique_ids():
    new = [OLD[0], OLD[1], dict(OLD[2], text="Tự nguyện, dân chủ."), OLD[4]]
    data = redline(OLD, new)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    changes = root.xpath("//w:ins | //w:del", namespaces={"w": W})
    assert changes and {c.get(f"{{{W}}}author") for c in changes} == {"Văn phòng"}
    assert {c.get(f"{{{W}}}date") for c in changes} == {"2026-03-05T01:02:03Z"}
    # Whole deleted paragraphs (Điều 3) carry a deleted paragraph mark.
    marks = root.xpath("//w:pPr/w:rPr/w:del", namespaces={"w": W})
    assert len(marks) == 3  # "Điều 3. Khen thưởng", "Hằng năm.", "Theo quy định."
    ids = [int(e.get(f"{{{W}}}id")) for e in root.iter() if e.get(f"{{{W}}}id") is not None]
    bookmarks = root.findall(f".//{{{W}}}bookmarkEnd")
    assert len(ids) == len(set(ids)) + len(bookmarks)  # each start shares its id with its end


def test_deleted_clauses_at_the_end_leave_no_empty_paragraph():
    data = redline(OLD, OLD[:3])
    assert body_paragraphs(data, accept=True) == TITLE_LINES + lines_of(flatten(OLD[:3]))
    assert body_paragraphs(data, accept=False) == TITLE_LINES + lines_of(flatten(OLD))
    data = redline(OLD[:3], OLD)
    assert body_paragraphs(data, accept=True) == TITLE_LINES + lines_of(flatten(OLD))
    assert body_paragraphs(data, accept=False) == TITLE_LINES + lines_of(flatten(OLD[:3]))


# --------------------------------------------------------------------------- properties

texts = st.lists(st.sampled_from(WORDS), min_size=0, max_size=6).map(" ".join)
multiline = st.lists(texts, min_size=1, max_size=3).map("\n".join)


@st.composite
def trees(draw: st.DrawFn) -> list[dict[str, Any]]:
    counter = iter(range(10**6))

    def lineage(prefix: str) -> str:
        return f"{prefix}{next(counter)}"

    articles = []
    for a in range(draw(st.integers(1, 5))):
        clauses = []
        for c in range(draw(st.integers(0, 3))):
            points = [
                node(lineage("p"), "point", "abc"[p], text=draw(texts))
                for p in range(draw(st.integers(0, 2)))
            ]
            clauses.append(
                node(lineage("k"), "clause", str(c + 1), text=draw(texts), children=points)
            )
        articles.append(
            node(lineage("a"), "article", str(a + 1), draw(texts), draw(multiline), clauses)
        )
    return [node("ch", "chapter", "I", "QUY ĐỊNH CHUNG", children=articles)]


def _copy(tree: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [dict(n, children=_copy(n["children"])) for n in tree]


def _parents(tree: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Nodes whose children are of `kind`."""
    child_of = {"article": "chapter", "clause": "article", "point": "clause"}
    found = []
    stack = list(tree)
    while stack:
        n = stack.pop()
        if n["kind"] == child_of[kind]:
            found.append(n)
        stack.extend(n["children"])
    return found


@st.composite
def revisions(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A version and its next one after random edits, insertions, deletions and moves,
    renumbered or not."""
    old = draw(trees())
    new = _copy(old)
    fresh = iter(range(10**6))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["article", "clause", "point"]))
        parents = _parents(new, kind)
        holders = [p for p in parents if p["children"]]
        action = draw(st.sampled_from(["edit", "insert", "delete", "move", "move"]))
        if action == "insert" or not holders:
            parent = draw(st.sampled_from(parents)) if parents else None
            if parent is None:
                continue
            index = draw(st.integers(0, len(parent["children"])))
            added = node(f"n{next(fresh)}", kind, "9", draw(texts), draw(multiline))
            parent["children"].insert(index, added)
            continue
        holder = draw(st.sampled_from(holders))
        index = draw(st.integers(0, len(holder["children"]) - 1))
        if action == "edit":
            target = holder["children"][index]
            target["text"] = draw(multiline)
            if draw(st.booleans()):
                target["title"] = draw(texts)
        elif action == "delete":
            del holder["children"][index]
        else:
            moving = holder["children"].pop(index)
            target = draw(st.sampled_from(parents))
            target["children"].insert(draw(st.integers(0, len(target["children"]))), moving)
    if draw(st.booleans()):
        _renumber(new)
    return old, new


def _renumber(tree: list[dict[str, Any]]) -> None:
    articles = 0
    for chapter in tree:
        for article in chapter["children"]:
            articles += 1
            article["number"] = str(articles)
            for c, clause in enumerate(article["children"], start=1):
                clause["number"] = str(c)
                for p, point in enumerate(clause["children"]):
                    point["number"] = "abcdđeghik"[p % 10]


@settings(derandomize=True, max_examples=150, deadline=None)
@given(revisions())
def test_accept_all_gives_the_new_version_and_reject_all_the_old(pair):
    old, new = pair
    data = redline(old, new)
    old_clauses, new_clauses = flatten(old), flatten(new)
    assert body_paragraphs(data, accept=True) == TITLE_LINES + lines_of(new_clauses)
    assert body_paragraphs(data, accept=False) == TITLE_LINES + lines_of(old_clauses)
    # Clause by clause: each clause of the new version is its bookmark's accepted text.
    texts_by_name = bookmarked_texts(data)
    assert texts_by_name == {bookmark_name(c.lineage): clause_lines(c) for c in new_clauses}


# --------------------------------------------------------------------------- LibreOffice


def test_libreoffice_keeps_the_tracked_changes(tmp_path):
    """Re-saved by LibreOffice as .docx, and through .odt back to .docx, the redline still
    holds its changes, and accepting them all still gives the new version."""
    moved = dict(OLD[2], number="4")
    new = [
        OLD[0],
        dict(OLD[1], children=[dict(OLD[1]["children"][0], text="Quy chế này quy định về Khối.")]),
        dict(OLD[3], number="2"),
        dict(OLD[4], number="3"),
        moved,
        node("a5", "article", "5", "Hiệu lực", "Từ ngày ký."),
    ]
    data = redline(OLD, new)
    expected_new = TITLE_LINES + lines_of(flatten(new))
    expected_old = TITLE_LINES + lines_of(flatten(OLD))
    # One working directory: the three runs share LibreOffice's profile, made once.
    docx = convert({"redline.docx": data}, tmp_path, "docx", "MS Word 2007 XML")
    resaved = docx["redline.docx"].read_bytes()
    odt = convert({"redline.docx": data}, tmp_path, "odt")["redline.docx"].read_bytes()
    assert b"text:tracked-changes" in zipfile.ZipFile(io.BytesIO(odt)).read("content.xml")
    back = convert({"redline.odt": odt}, tmp_path, "docx", "MS Word 2007 XML")
    from_odt = back["redline.odt"].read_bytes()
    # Re-saved as .docx the move survives as a move; .odt (in LibreOffice 7.4) keeps it as a
    # deletion and an insertion, which accept and reject just the same.
    assert change_tags(resaved)["moveFrom"] and change_tags(resaved)["moveTo"]
    for saved in (resaved, from_odt):
        tags = change_tags(saved)
        assert tags["ins"] > 0 and tags["del"] > 0
        assert body_paragraphs(saved, accept=True) == expected_new
        assert body_paragraphs(saved, accept=False) == expected_old
