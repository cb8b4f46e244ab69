"""Conservation of text: every non-empty paragraph of a source .docx is somewhere in the parse.

Read independently of drafts.parsing's Word reader: the visible text of every w:p in the body
(tables and text boxes included, each box once; deleted revisions and hidden runs excluded),
the footnotes and the page headers and footers, line by line, compared after the same Unicode
normalisation the importer applies.
"""

from __future__ import annotations

import io
import re
import zipfile

from lxml import etree

from drafts.parsing import Node, ParseResult, normalize_text

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SKIPPED_ANCESTORS = {
    f"{W}del",
    "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback",
}
_BOX = f"{W}txbxContent"
# A leading label the importer turns into a node's kind and number (not kept in its text).
_LABEL = re.compile(
    r"^((phần|chương|tiểu mục|mục)\s+(thứ\s+\S+|[IVXLC]+|\d+[a-z]?)\s*[.:\-–—]?"
    r"|điều\s+\d+[a-zđ]?\s*[.:\-–—]?"
    r"|\d+(\.\d+)*[a-zđ]?\s*[.)]"
    r"|[IVXL]+\s*[.)]"
    r"|[a-zđ]\d{0,2}\s*[.)]"
    r"|[-–—−•●▪◦○■□➢➤►✓*+])\s*",
    re.IGNORECASE,
)


def _visible_lines(paragraph: etree._Element) -> list[str]:
    pieces: list[str] = []
    for element in paragraph.iter(f"{W}t", f"{W}tab", f"{W}br", f"{W}cr"):
        between = _ancestors_below(element, paragraph)
        if _BOX in between:
            continue  # a text box's own paragraphs are read on their own
        ancestors = {a.tag for a in element.iterancestors()}
        if ancestors & _SKIPPED_ANCESTORS:
            continue
        run = element.getparent()
        props = run.find(f"{W}rPr") if run is not None else None
        if props is not None and props.find(f"{W}vanish") is not None:
            continue
        if element.tag == f"{W}t":
            pieces.append(element.text or "")
        else:
            pieces.append(" " if element.tag == f"{W}tab" else "\n")
    return [line for line in "".join(pieces).split("\n") if line.strip()]


def _ancestors_below(element: etree._Element, top: etree._Element) -> set[str]:
    tags = set()
    parent = element.getparent()
    while parent is not None and parent is not top:
        tags.add(parent.tag)
        parent = parent.getparent()
    return tags


def source_lines(data: bytes) -> list[str]:
    """Every non-empty line of every paragraph of the body, the text boxes, the footnotes and
    the page headers and footers."""
    lines: list[str] = []
    margins = re.compile(r"^word/(footnotes|header\d*|footer\d*)\.xml$")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = ["word/document.xml"]
        names += sorted(n for n in archive.namelist() if margins.match(n))
        for name in names:
            root = etree.fromstring(archive.read(name))
            for paragraph in root.iter(f"{W}p"):
                ancestors = {a.tag for a in paragraph.iterancestors()}
                if ancestors & _SKIPPED_ANCESTORS:
                    continue
                lines.extend(_visible_lines(paragraph))
    return lines


def _flat(text: str) -> str:
    return " ".join(normalize_text(text).split())


def _node_texts(nodes: list[Node]) -> list[str]:
    texts: list[str] = []
    for node in nodes:
        texts += [node.title, node.text, *_node_texts(node.children)]
    return texts


def haystack(result: ParseResult) -> str:
    parts = [result.title, *result.preamble, *_node_texts(result.nodes)]
    parts += [item.text for item in result.left_out]
    return " \n ".join(_flat(part) for part in parts)


def missing_lines(lines: list[str], result: ParseResult) -> list[str]:
    """The source lines found nowhere in the result (labels aside): empty when conserved."""
    found = haystack(result)
    missing = []
    for line in lines:
        flat = _flat(line)
        rest = _LABEL.sub("", flat, count=1).strip()
        if rest and rest not in found and flat not in found:
            missing.append(line)
    return missing
