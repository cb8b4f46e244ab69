"""File formats real users send besides .docx: told apart by content, converted or refused.

Pure module (no Flask, no database). ``.doc``, ``.odt`` and ``.rtf`` go through LibreOffice
headless into .docx; a ``.pdf`` is read through pdfminer.six into lines of text. Word files
typed in the legacy Vietnamese encodings (TCVN3/ABC, VNI) are refused with a message naming
the encoding: their letters would be read as other letters.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import signal
import subprocess
import tempfile
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from docx.oxml.ns import qn

from drafts.officefile import N_, OLE_MAGIC, ParseError, checked_zip, normalize_text

Source = Literal["docx", "doc", "odt", "rtf", "pdf"]
CONVERTED: frozenset[Source] = frozenset({"doc", "odt", "rtf"})
CONVERT_TIMEOUT_SECONDS = 60

_ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
_FORMAT_NAMES = {"doc": "Word 97-2003 (.doc)", "odt": "OpenDocument (.odt)", "rtf": "RTF (.rtf)"}

MSG_NO_CONVERTER = N_(
    "Tệp định dạng %(name)s cần LibreOffice để chuyển sang .docx nhưng máy chủ chưa cài "
    "LibreOffice; hãy mở tệp và lưu lại dưới dạng .docx rồi tải lên lần nữa."
)
MSG_CONVERT_FAILED = N_(
    "Không chuyển được tệp định dạng %(name)s sang .docx: tệp có thể được đặt mật khẩu hoặc bị "
    "hỏng. Hãy gỡ mật khẩu, lưu lại dưới dạng .docx rồi tải lên lần nữa."
)
MSG_CONVERT_TIMEOUT = N_(
    "Chuyển tệp định dạng %(name)s sang .docx mất quá nhiều thời gian nên đã dừng; hãy lưu lại "
    "dưới dạng .docx rồi tải lên lần nữa."
)
MSG_PDF_UNREADABLE = N_("Không đọc được tệp PDF; tệp có thể bị hỏng hoặc được đặt mật khẩu.")
MSG_PDF_SCANNED = N_(
    "Tệp PDF không có lớp chữ (bản quét, chỉ có hình ảnh) nên không đọc được nội dung. Hãy tải "
    "lên bản Word (.docx) của văn bản, hoặc nhận dạng chữ (OCR) trước."
)
MSG_LEGACY_ENCODING = N_(
    "Văn bản được gõ bằng bảng mã cũ %(encoding)s (phông %(fonts)s), không phải Unicode, nên chữ "
    "tiếng Việt không đọc đúng được. Hãy chuyển mã văn bản sang Unicode (ví dụ bằng chức năng "
    "chuyển mã của Unikey), đổi phông sang Times New Roman rồi tải lên lần nữa."
)


def identify(data: bytes, filename: str = "") -> Source:
    """The format of an upload by its first bytes; .docx (and anything unknown, which the
    .docx reader then refuses with its own message) by default."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.lstrip()[:5] == b"{\\rtf":
        return "rtf"
    if data[:8] == OLE_MAGIC:
        return "doc"
    if data[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                member = archive.getinfo("mimetype")
                # Only a tiny member is read: a zip bomb must not be inflated here.
                if member.file_size < 100 and archive.read(member).strip() == _ODT_MIMETYPE:
                    return "odt"
        except Exception:  # not an ODF package (or a broken zip the .docx checks will name)
            pass
    return "docx"


def soffice_binary() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name) or shutil.which(name, path="/usr/bin:/usr/local/bin")
        if found:
            return found
    return None


def convert_to_docx(data: bytes, source: Source) -> bytes:
    """Convert with LibreOffice headless, in a private temporary directory and profile (so
    parallel conversions never share one), within CONVERT_TIMEOUT_SECONDS."""
    name = _FORMAT_NAMES.get(source, source)
    if source == "odt":
        checked_zip(data).close()  # the same limits as a .docx before LibreOffice inflates it
    binary = soffice_binary()
    if binary is None:
        raise ParseError(MSG_NO_CONVERTER, name=name)
    with tempfile.TemporaryDirectory(prefix="draftflow-convert-") as tmp:
        workdir = Path(tmp)
        source_path = workdir / f"upload.{source}"
        source_path.write_bytes(data)
        out = workdir / "out"
        command = [
            binary,
            f"-env:UserInstallation={(workdir / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out),
            str(source_path),
        ]
        try:
            # Its own session, so a conversion that runs too long is stopped with every
            # process LibreOffice started (the soffice script starts soffice.bin).
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as exc:
            raise ParseError(MSG_NO_CONVERTER, name=name) from exc
        try:
            process.wait(timeout=CONVERT_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            raise ParseError(MSG_CONVERT_TIMEOUT, name=name) from exc
        finally:
            # Also when this process is stopped meanwhile (the upload sandbox's time limit):
            # LibreOffice runs in its own session, so nobody else would stop it.
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        converted = out / "upload.docx"
        if not converted.exists() or converted.stat().st_size == 0:
            raise ParseError(MSG_CONVERT_FAILED, name=name)
        return converted.read_bytes()


def pdf_blocks(data: bytes) -> list[list[str]]:
    """The text layer of a PDF as blocks of lines in reading order (a block is what the
    layout analysis groups together: usually one paragraph); ParseError when it has none."""
    from pdfminer.high_level import extract_text
    from pdfminer.layout import LAParams

    try:
        text = extract_text(io.BytesIO(data), laparams=LAParams())
    except Exception as exc:  # pdfminer raises many types for broken or encrypted files
        raise ParseError(MSG_PDF_UNREADABLE) from exc
    blocks: list[list[str]] = [[]]
    for line in text.replace("\f", "\n\n").splitlines():
        if line.strip():
            blocks[-1].append(normalize_text(line))
        elif blocks[-1]:
            blocks.append([])
    blocks = [block for block in blocks if block]
    if sum(ch.isalpha() for block in blocks for line in block for ch in line) < 20:
        raise ParseError(MSG_PDF_SCANNED)
    return blocks


# ---------------------------------------------------------------------------------------------
# Legacy Vietnamese encodings
# ---------------------------------------------------------------------------------------------

_TCVN3_FONT = re.compile(r"^\.vn", re.IGNORECASE)
_VNI_FONT = re.compile(r"^vni[-_ ]", re.IGNORECASE)
# Letters only Unicode Vietnamese has: ă â đ ê ô ơ ư and the precomposed toned vowels.
_UNICODE_VIETNAMESE = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9]")
# TCVN3 puts toned vowels on Latin-1 punctuation-like code points ("Qu¶n lý" for "Quản lý");
# VNI writes a vowel followed by a Latin-1 letter for the tone ("Vieät Nam").
_TCVN3_MARKS = re.compile(r"[¸µ¶·¹¨©ª«¬®¦§¥¡¢£¤¼½¾ÆÇÊËÌÎÏÑÒÓÔÕÖ×ØÜÝÞßåæçèéêëìíîïðñòóôõö÷øùúûüýþ]")
_VNI_MARKS = re.compile(r"[aeiouyAEIOUY][øùûõïäëöüåáàâãèéêìíòóôõùúýÿ]")


def refuse_legacy_encoding(document: Any) -> None:
    """ParseError when the text is in TCVN3 (ABC) or VNI: named fonts, and almost none of the
    letters only Unicode Vietnamese has."""
    body = document.element.body
    text = "".join(t.text or "" for t in body.iter(qn("w:t")))
    letters = sum(ch.isalpha() for ch in text)
    if letters < 50:
        return
    unicode_share = len(_UNICODE_VIETNAMESE.findall(text)) / letters
    if unicode_share >= 0.02:
        return  # real Vietnamese in Unicode has one such letter in every few words
    fonts = _legacy_fonts(document)
    tcvn3 = [f for f in fonts if _TCVN3_FONT.match(f)]
    vni = [f for f in fonts if _VNI_FONT.match(f)]
    tcvn3_marks = len(_TCVN3_MARKS.findall(text)) / letters
    vni_marks = len(_VNI_MARKS.findall(text)) / letters
    if tcvn3 or (not vni and tcvn3_marks >= 0.03 and tcvn3_marks >= vni_marks):
        raise ParseError(
            MSG_LEGACY_ENCODING, encoding="TCVN3 (ABC)", fonts=", ".join(tcvn3) or ".Vn…"
        )
    if vni or vni_marks >= 0.03:
        raise ParseError(MSG_LEGACY_ENCODING, encoding="VNI", fonts=", ".join(vni) or "VNI-…")


def _legacy_fonts(document: Any) -> list[str]:
    """Legacy-encoding font names set on runs or styles, most used first."""
    counts: Counter[str] = Counter()
    elements = [document.element.body]
    styles = getattr(document.styles, "element", None)
    if styles is not None:
        elements.append(styles)
    for element in elements:
        for fonts in element.iter(qn("w:rFonts")):
            for attr in ("w:ascii", "w:hAnsi", "w:cs"):
                name = fonts.get(qn(attr)) or ""
                if _TCVN3_FONT.match(name) or _VNI_FONT.match(name):
                    counts[name] += 1
    return [name for name, _ in counts.most_common(3)]
