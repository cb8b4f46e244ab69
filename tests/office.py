"""LibreOffice in tests: convert generated documents to PDF to prove they open and lay out,
and to the other formats users upload (.odt, .doc, .rtf)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def soffice_binary() -> str:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name) or shutil.which(name, path="/usr/bin")
        if found:
            return found
    pytest.fail(
        "LibreOffice (soffice) is not installed: cannot check that the documents convert to PDF."
    )


def convert_to_pdf(documents: dict[str, bytes], workdir: Path) -> dict[str, Path]:
    """Write each document under `workdir`, convert them all in one headless run with a
    private profile (so parallel tests do not share one), and return the PDFs by name.
    Fails the test unless every PDF exists and starts like a PDF."""
    pdfs = convert(documents, workdir, "pdf")
    for pdf in pdfs.values():
        assert pdf.read_bytes().startswith(b"%PDF")
    return pdfs


def convert(
    documents: dict[str, bytes], workdir: Path, target: str, export_filter: str = ""
) -> dict[str, Path]:
    """Convert documents to `target` ("pdf", "odt", "doc", "rtf", ...) in one headless run;
    the converted files by source name. Fails the test unless every one exists.
    `export_filter` names LibreOffice's filter ("MS Word 2007 XML" to re-save a .docx)."""
    binary = soffice_binary()
    for name, data in documents.items():
        (workdir / name).write_bytes(data)
    profile = workdir / "profile"
    out = workdir / target
    result = subprocess.run(
        [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            f"{target}:{export_filter}" if export_filter else target,
            "--outdir",
            str(out),
            *(str(workdir / name) for name in documents),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    converted = {name: out / f"{Path(name).stem}.{target}" for name in documents}
    for path in converted.values():
        assert path.exists(), result.stdout + result.stderr
    return converted
