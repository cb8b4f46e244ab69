"""Accept or reject every tracked change of a .docx, as Word's "Accept All" / "Reject All"
would, and read the body's paragraphs: the tests' independent check of a redline."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from lxml import etree

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _q(tag: str) -> str:
    return f"{{{W}}}{tag}"


REMOVED_ON_ACCEPT = {_q("del"), _q("moveFrom")}
REMOVED_ON_REJECT = {_q("ins"), _q("moveTo")}


def body_paragraphs(docx: bytes, *, accept: bool) -> list[str]:
    """The text of the body's paragraphs once every change is accepted (or rejected).

    Content inside a removed change disappears, content of a kept change stays; a paragraph
    whose mark is removed merges with the next one."""
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    removed = REMOVED_ON_ACCEPT if accept else REMOVED_ON_REJECT
    body = root.find(_q("body"))
    assert body is not None
    texts: list[str] = []
    pending = ""  # text of paragraphs whose marks were removed, waiting for the next mark
    mark_removed = False
    for paragraph in body.iter(_q("p")):
        text = pending + _text(paragraph, removed)
        mark = paragraph.find(f"{_q('pPr')}/{_q('rPr')}")
        mark_removed = mark is not None and any(child.tag in removed for child in mark)
        if mark_removed:
            pending = text
        else:
            texts.append(text)
            pending = ""
    # Word keeps the document's last paragraph mark whatever its revision marks say, so a
    # redline must never rely on removing it.
    assert not mark_removed, "the last paragraph mark is marked as removed"
    return texts


def _text(element: etree._Element, removed: set[str]) -> str:
    parts: list[str] = []
    for child in element:
        if child.tag in removed:
            continue
        if child.tag in (_q("t"), _q("delText")):
            parts.append(child.text or "")
        elif child.tag == _q("tab"):
            parts.append("\t")
        elif child.tag in (_q("pPr"), _q("rPr"), _q("p"), _q("tbl")):
            continue
        else:
            parts.append(_text(child, removed))
    return "".join(parts)


def change_tags(docx: bytes) -> dict[str, int]:
    """How many of each tracked-change element the document holds (run level and marks)."""
    with zipfile.ZipFile(io.BytesIO(docx)) as archive:
        root = etree.fromstring(archive.read("word/document.xml"))
    names = ("ins", "del", "moveFrom", "moveTo", "moveFromRangeStart", "moveToRangeStart")
    return {name: len(root.findall(f".//{_q(name)}")) for name in names}


# --- marking up a document as a unit does in Word ------------------------------------------
def paragraph_text(paragraph: Any) -> str:
    return "".join(paragraph._p.xpath(".//w:t/text()"))


def find_paragraph(document: Any, start: str) -> Any:
    """The first body paragraph whose text starts with `start`."""
    for paragraph in document.paragraphs:
        if paragraph_text(paragraph).startswith(start):
            return paragraph
    raise AssertionError(f"no paragraph starts with {start!r}")


def add_word_comment(document: Any, paragraph: Any, text: str, author: str = "Phòng 2") -> None:
    """A Word comment anchored to the paragraph's runs (commentRangeStart … End)."""
    document.add_comment(paragraph.runs, text=text, author=author, initials="P2")


def track_replace(paragraph: Any, old: str, new: str, author: str = "Phòng 2") -> None:
    """Replace `old` by `new` in the paragraph's (single-run) text as a tracked change:
    the old words in a w:del, the new ones in a w:ins, as Word writes them."""
    run = paragraph.runs[-1]._r
    t = run.find(_q("t"))
    assert t is not None and old in (t.text or ""), (old, t.text if t is not None else None)
    before, _, after = (t.text or "").partition(old)
    t.text = before
    t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    anchor = run
    pieces = []
    if old:
        deleted = etree.SubElement(etree.Element(_q("del")), _q("r"))
        dt = etree.SubElement(deleted, _q("delText"))
        dt.text = old
        dt.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        pieces.append(deleted.getparent())
    if new:
        inserted = etree.SubElement(etree.Element(_q("ins")), _q("r"))
        it = etree.SubElement(inserted, _q("t"))
        it.text = new
        it.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        pieces.append(inserted.getparent())
    tail = etree.Element(_q("r"))
    tt = etree.SubElement(tail, _q("t"))
    tt.text = after
    tt.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    pieces.append(tail)
    for number, piece in enumerate(pieces, start=1):
        if piece.tag != _q("r"):
            piece.set(_q("id"), str(900_000 + id(piece) % 100_000 + number))
            piece.set(_q("author"), author)
            piece.set(_q("date"), "2026-12-04T08:00:00Z")
        anchor.addnext(piece)
        anchor = piece
