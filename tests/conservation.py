"""Conservation of text: every non-empty paragraph of a source .docx is somewhere in the parse.

Read independently of drafts.parsing's Word reader: the visible text of every w:p in the body
(tables included; deleted revisions, hidden runs and text boxes excluded) and of the
footnotes, line by line, compared after the same Unicode normalisation the importer applies.
"""

from __future__ import annotations

import io
import re
import zipfile

from lxml import etree

from drafts.parsing import Node, ParseResult, normalize_text

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SKIPPED_ANCESTORS = {f"{W}txbxContent", f"{W}del", f"{W}pict"}
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
        ancestors = {a.tag for a in element.iterancestors()}
        if ancestors & _SKIPPED_ANCESTORS or "AlternateContent" in str(ancestors):
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


def source_lines(data: bytes) -> list[str]:
    """Every non-empty line of every paragraph of the body and the footnotes."""
    lines: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = ["word/document.xml"]
        names += [n for n in archive.namelist() if n == "word/footnotes.xml"]
        for name in names:
            root = etree.fromstring(archive.read(name))
            for paragraph in root.iter(f"{W}p"):
                ancestors = {a.tag for a in paragraph.iterancestors()}
                if ancestors & _SKIPPED_ANCESTORS or "AlternateContent" in str(ancestors):
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
