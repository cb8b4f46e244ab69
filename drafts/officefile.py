"""What every reader of an uploaded office file shares: the error it raises, the safety
checks on the zip container, and the Unicode clean-up of the text.

Pure module (no Flask, no database). drafts.parsing, drafts.criteria_parsing and
drafts.formats build on it; it imports none of them.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from typing import Any


def N_(message: str) -> str:
    """Mark a message for the translation catalogue (this module imports nothing of ours)."""
    return message


class Note(str):
    """A warning for the reader: its Vietnamese text, which is what it equals and prints
    as, plus the ``template`` (marked N_) and ``values`` that show it in the reader's
    language (accounts.i18n.note_text). It pickles whole, so it crosses the upload sandbox;
    ``note_json`` keeps it in a JSON column."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Note:
        note = super().__new__(cls, template % values if values else template)
        note.template, note.values = template, values
        return note

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, Any]]:
        return (self.template,), dict(self.values)


def note_json(note: str) -> str | dict[str, Any]:
    """A warning as JSON: a Note as its template and values, any other text as it is."""
    if isinstance(note, Note):
        return {"template": note.template, "values": dict(note.values)}
    return str(note)


def note_from_json(data: str | dict[str, Any]) -> str:
    """The inverse of note_json (a stored plain text, from before notes, stays text)."""
    if isinstance(data, dict):
        return Note(data["template"], **data.get("values", {}))
    return data


class ParseError(ValueError):
    """The file cannot be read. ``message`` is one Vietnamese line for the user; pages show
    ``template`` % ``values`` in their reader's language (accounts.i18n.refusal)."""

    def __init__(self, template: str, **values: Any) -> None:
        self.template, self.values = template, values
        self.message = template % values if values else template
        super().__init__(self.message)


MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# Below this size a member cannot hurt, and ratios of tiny members are noise.
RATIO_CHECK_MIN_BYTES = 64 * 1024
MAX_MEMBERS = 10_000
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")

MSG_EMPTY = N_("Tệp rỗng, không có nội dung để đọc.")
MSG_OLE = N_(
    "Tệp được đặt mật khẩu hoặc ở định dạng Office cũ (.doc, .xls); "
    "hãy gỡ mật khẩu và lưu lại dưới dạng .docx hoặc .xlsx."
)
MSG_NOT_OFFICE = N_("Tệp không phải là tài liệu Word (.docx) hoặc bảng tính Excel (.xlsx) hợp lệ.")
MSG_CORRUPT = N_("Tệp bị hỏng hoặc tải lên không đầy đủ; hãy lưu lại tệp và tải lên lần nữa.")
MSG_BOMB = N_(
    "Tệp có dung lượng giải nén bất thường (nghi là tệp nén độc hại) nên không được xử lý."
)


def checked_zip(data: bytes) -> zipfile.ZipFile:
    if not data:
        raise ParseError(MSG_EMPTY)
    if data[:8] == OLE_MAGIC:
        raise ParseError(MSG_OLE)
    if data[:2] != b"PK":
        raise ParseError(MSG_NOT_OFFICE)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # zipfile raises several types for truncated or odd archives
        raise ParseError(MSG_CORRUPT) from exc
    members = archive.infolist()
    # Declared sizes can be trusted: zipfile never inflates a member past its declared size.
    if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNCOMPRESSED_BYTES:
        raise ParseError(MSG_BOMB)
    for member in members:
        ratio_limit = member.compress_size * MAX_COMPRESSION_RATIO
        if member.file_size > RATIO_CHECK_MIN_BYTES and member.file_size > ratio_limit:
            raise ParseError(MSG_BOMB)
    try:
        broken = archive.testzip()
    except Exception as exc:  # bad CRC, unsupported compression, encrypted member
        raise ParseError(MSG_CORRUPT) from exc
    if broken is not None:
        raise ParseError(MSG_CORRUPT)
    return archive


# Invisible characters that split words for the eye-less reader (soft hyphen, joiners, BOM).
_INVISIBLE = re.compile(r"[\u00ad\u200c\u200d\u2060\ufeff]")
# Letters that look like Vietnamese ones but are not: "Ðiều" typed with the Icelandic Ð
# (U+00D0) is common in Vietnamese files and would hide every article.
_LOOKALIKES = str.maketrans({"Ð": "Đ", "ð": "đ", "Ɖ": "Đ", "ɖ": "đ"})
# Cyrillic letters inside an otherwise Latin word (pasted text); Cyrillic words stay as written.
_CYRILLIC_TO_LATIN = str.maketrans("АВЕКМНОРСТХаеорсухіІ", "ABEKMHOPCTXaeopcyxiI")
_MIXED_WORD = re.compile(r"\w*[\u0400-\u04ff]\w*")


def _unconfuse(word: re.Match[str]) -> str:
    text = word.group(0)
    if re.search(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]", text):
        return text.translate(_CYRILLIC_TO_LATIN)
    return text


def normalize_text(text: str) -> str:
    """NFC, lookalike letters mapped, invisible characters dropped (spaces left as they are)."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text)).translate(_LOOKALIKES)
    if re.search(r"[\u0400-\u04ff]", text):
        text = _MIXED_WORD.sub(_unconfuse, text)
    return text
