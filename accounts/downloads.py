"""A generated file served as an attachment: the exports of `drafts` and `comments` alike."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from flask import Response, send_file
from unidecode import unidecode

DOCX_MIMETYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True, slots=True)
class Download:
    data: bytes
    filename: str
    mimetype: str


def send_download(download: Download) -> Response:
    return send_file(
        io.BytesIO(download.data),
        mimetype=download.mimetype,
        as_attachment=True,
        download_name=download.filename,
    )


def slug(text: str, limit: int = 60) -> str:
    """ "Quy chế thi đua" → "quy-che-thi-dua", for file names."""
    return re.sub(r"[^a-z0-9]+", "-", unidecode(text).lower()).strip("-")[:limit].rstrip("-")
