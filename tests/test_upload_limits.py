"""Uploads are read in a child process with memory, time, row and column limits.

A million-row sheet is refused at the row limit while it is read; a parser that eats
memory or never ends is stopped and reported; nothing is stored; and the web worker's
own memory does not grow with the upload.
"""

from __future__ import annotations

import io
import os
import resource
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from app import db
from drafts import operations, sandbox
from drafts.criteria_parsing import SheetTooLarge, parse_criteria
from drafts.models import DraftKind, Version
from drafts.parsing import ParseError, parse_regulation
from tests.fixtures.drafts import regulation_docx

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def _cell(text: str) -> str:
    return f'<c t="inlineStr"><is><t>{text}</t></is></c>'


def sheet_xlsx(
    rows: int, *, columns: int = 3, dimension: bool = False, titles: bool = True
) -> bytes:
    """A criteria sheet written straight as XML (openpyxl would take a minute for a million
    rows): a header, then `rows` numbered criteria of 1 point with `columns` cells each
    (without `titles`, only the numbers: a million rows then stay under the package's
    50 MB inflated limit). Without `dimension` it leaves out <dimension>, as a hostile
    file may."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _RELS)
        package.writestr("xl/workbook.xml", _WORKBOOK)
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            if dimension:
                sheet.write(f'<dimension ref="A1:C{rows + 1}"/>'.encode())
            header = _cell("STT") + _cell("Tiêu chí") + _cell("Điểm chuẩn")
            header += _cell("Ghi chú") * (columns - 3)
            sheet.write(f"<sheetData><row>{header}</row>".encode())
            notes = _cell("Không") * (columns - 3)
            chunk: list[str] = []
            for number in range(1, rows + 1):
                rest = _cell(f"Tiêu chí số {number}") + "<c><v>1</v></c>" if titles else ""
                chunk.append(f"<row><c><v>{number}</v></c>{rest}{notes}</row>")
                if len(chunk) == 10_000:
                    sheet.write("".join(chunk).encode())
                    chunk.clear()
            sheet.write("".join(chunk).encode() + b"</sheetData></worksheet>")
    return out.getvalue()


@pytest.fixture(scope="module")
def million_rows() -> bytes:
    return sheet_xlsx(1_000_000, titles=False)


def _upload(client, draft, data: bytes, name: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/drafts/{draft.id}/imports",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _stashed(app) -> list[Path]:  # type: ignore[no-untyped-def]
    folder = Path(app.config["UPLOAD_DIR"]) / "tmp"
    return sorted(folder.glob("*")) if folder.exists() else []


# --- the row and column limits, while reading ------------------------------------------------
def test_a_million_row_sheet_is_refused_at_the_row_limit(
    app, org, api, create_empty_draft, million_rows, monkeypatch
):
    # Reading the whole sheet took 15-30 s here; refusing it at row 5,001 takes well
    # under a second, so a 10 s limit must never be what stops it.
    monkeypatch.setitem(app.config, "PARSE_TIMEOUT_SECONDS", 10)
    draft = create_empty_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    before = _stashed(app)

    response = _upload(api(org.drafter), draft, million_rows, "bang-tieu-chi.xlsx")

    assert response.status_code == 413, response.json
    assert response.json["error"]["message"] == (
        "Bảng tính có quá nhiều dòng: chỉ đọc được bảng tiêu chí tối đa 5000 dòng."
    )
    assert _stashed(app) == before
    assert db.session.scalar(select(func.count()).select_from(Version)) == 0


def test_the_row_limit_is_configuration(app, org, api, create_empty_draft, monkeypatch):
    monkeypatch.setitem(app.config, "CRITERIA_MAX_ROWS", 20)
    draft = create_empty_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    client = api(org.drafter)

    # The limit counts the sheet's rows: the header and 19 criteria fit in 20.
    assert _upload(client, draft, sheet_xlsx(19), "t.xlsx").status_code == 200
    refused = _upload(client, draft, sheet_xlsx(20), "t.xlsx")

    assert refused.status_code == 413
    assert "tối đa 20 dòng" in refused.json["error"]["message"]


def test_content_past_the_column_limit_is_refused(app, org, api, create_empty_draft, monkeypatch):
    monkeypatch.setitem(app.config, "CRITERIA_MAX_COLUMNS", 5)
    draft = create_empty_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    client = api(org.drafter)

    assert _upload(client, draft, sheet_xlsx(3, columns=5), "t.xlsx").status_code == 200
    refused = _upload(client, draft, sheet_xlsx(3, columns=6), "t.xlsx")

    assert refused.status_code == 413
    assert refused.json["error"]["message"] == (
        "Bảng tính có quá nhiều cột: chỉ đọc được bảng tiêu chí tối đa 5 cột."
    )


def test_reading_stops_at_the_row_limit(million_rows, monkeypatch):
    """Streaming: the reader never parses a row past the limit (the whole sheet, before)."""
    from openpyxl.worksheet._reader import WorkSheetParser

    parsed = 0
    original = WorkSheetParser.parse_row

    def counting(self, element):  # type: ignore[no-untyped-def]
        nonlocal parsed
        parsed += 1
        return original(self, element)

    monkeypatch.setattr(WorkSheetParser, "parse_row", counting)
    for data in (million_rows, sheet_xlsx(100_000, dimension=True, titles=False)):
        parsed = 0
        with pytest.raises(SheetTooLarge):
            parse_criteria(data, max_rows=5000)
        assert parsed <= 5002


@settings(max_examples=25, deadline=None, derandomize=True)
@given(rows=st.integers(1, 40), limit=st.integers(1, 40), blank_tail=st.integers(0, 5))
def test_a_sheet_is_refused_exactly_when_its_criteria_pass_the_limit(rows, limit, blank_tail):
    # The header is a row too; blank rows after the table never count.
    data = sheet_xlsx(rows)
    if blank_tail:
        data = _with_blank_rows(data, blank_tail)
    if rows + 1 > limit:
        with pytest.raises(SheetTooLarge, match=f"tối đa {limit} dòng"):
            parse_criteria(data, max_rows=limit)
    else:
        assert len(parse_criteria(data, max_rows=limit).criteria) == rows


def _with_blank_rows(data: bytes, count: int) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for member in source.infolist():
            content = source.read(member)
            if member.filename.endswith("sheet1.xml"):
                content = content.replace(b"</sheetData>", b"<row/>" * count + b"</sheetData>")
            package.writestr(member.filename, content)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_it_is_inflated(org, api, create_empty_draft, app):
    draft = create_empty_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * 200_000_000)
    before = _stashed(app)

    response = _upload(api(org.drafter), draft, bomb.getvalue(), "bomb.xlsx")

    assert response.status_code == 422
    assert "nghi là tệp nén độc hại" in response.json["error"]["message"]
    assert _stashed(app) == before


# --- the sandbox: a parser that misbehaves is stopped -----------------------------------------
def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return True
    return status in ("Z", "X")


def test_a_parser_that_eats_memory_is_stopped(tmp_path):
    pid_file = tmp_path / "pid"

    with pytest.raises(sandbox.LimitExceeded) as stopped:
        sandbox.run_parser(
            "tests.sandbox_targets:eat_memory",
            b"x",
            limits=sandbox.Limits(memory_mb=300, seconds=60),
            options={"pid_file": str(pid_file)},
        )

    assert stopped.value.kind == "memory"
    assert "300 MB" in stopped.value.message
    assert _gone(int(pid_file.read_text()))


def test_a_parser_that_never_ends_is_killed(tmp_path):
    pid_file = tmp_path / "pid"

    with pytest.raises(sandbox.LimitExceeded) as stopped:
        sandbox.run_parser(
            "tests.sandbox_targets:spin",
            b"x",
            limits=sandbox.Limits(seconds=1.5),
            options={"pid_file": str(pid_file)},
        )

    assert stopped.value.kind == "time"
    assert "1.5 giây" in stopped.value.message
    assert _gone(int(pid_file.read_text()))


def test_a_conversion_running_at_the_time_limit_is_stopped_with_the_parser(tmp_path):
    # LibreOffice runs in a session of its own, so killing the child's group misses it: the
    # child stops itself at the limit and its clean-up stops the conversion.
    pid_file = tmp_path / "office.pid"
    office = tmp_path / "soffice"
    office.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 600\n")
    office.chmod(0o755)

    with pytest.raises(sandbox.LimitExceeded) as stopped:
        sandbox.run_parser(
            "tests.sandbox_targets:convert_with_stuck_office",
            b"x",
            limits=sandbox.Limits(seconds=2),
            options={"office": str(office)},
        )

    assert stopped.value.kind == "time"
    assert _gone(int(pid_file.read_text()))


def test_a_child_that_ignores_its_alarm_is_killed_by_the_parent():
    with pytest.raises(sandbox.LimitExceeded) as stopped:
        sandbox.run_parser(
            "tests.sandbox_targets:ignore_the_alarm", b"x", limits=sandbox.Limits(seconds=0.5)
        )
    assert stopped.value.kind == "time"


def test_converted_formats_are_read_in_the_child_not_the_worker(
    app, org, api, create_empty_draft, monkeypatch, tmp_path
):
    from drafts import formats
    from tests.office import convert

    odt = convert({"quy-che.docx": regulation_docx()}, tmp_path, "odt")["quy-che.docx"]

    def not_here(data: bytes, source: str) -> bytes:
        raise AssertionError("converted in the web worker")

    monkeypatch.setattr(formats, "convert_to_docx", not_here)
    monkeypatch.setattr(formats, "pdf_blocks", not_here)
    monkeypatch.setitem(app.config, "PARSE_TIMEOUT_SECONDS", 120.0)
    draft = create_empty_draft(drafter=org.drafter)

    response = _upload(api(org.drafter), draft, odt.read_bytes(), "quy-che.odt")

    assert response.status_code == 200, response.json
    assert response.json["count"] > 0


def test_a_parser_that_dies_is_reported():
    with pytest.raises(sandbox.LimitExceeded) as stopped:
        sandbox.run_parser("tests.sandbox_targets:crash", b"x", limits=sandbox.Limits())
    assert stopped.value.kind == "crashed"


def test_the_child_returns_the_result_or_the_parsers_error():
    answer = sandbox.run_parser(
        "tests.sandbox_targets:echo", b"abc", "a.docx", limits=sandbox.Limits()
    )
    assert answer["size"] == 3 and answer["filename"] == "a.docx"
    assert answer["pid"] != os.getpid()
    with pytest.raises(ParseError, match="thử nghiệm"):
        sandbox.run_parser("tests.sandbox_targets:refuse", b"", limits=sandbox.Limits())
    # A real parse gives the same tree as in this process.
    data = regulation_docx()
    remote = sandbox.run_parser("drafts.parsing:parse_regulation", data, limits=sandbox.Limits())
    assert remote.as_dict() == parse_regulation(data).as_dict()


@pytest.mark.parametrize(
    ("target", "status", "message"),
    [
        ("eat_memory", 413, "PARSE_MEMORY_MB"),
        ("spin", 422, "PARSE_TIMEOUT_SECONDS"),
    ],
)
def test_an_upload_whose_parser_misbehaves_is_refused_and_nothing_is_stored(
    app, org, api, client, auth, create_empty_draft, monkeypatch, target, status, message
):
    monkeypatch.setitem(operations.PARSERS, DraftKind.REGULATION, f"tests.sandbox_targets:{target}")
    monkeypatch.setitem(app.config, "PARSE_MEMORY_MB", 300)
    monkeypatch.setitem(app.config, "PARSE_TIMEOUT_SECONDS", 1.5)
    draft = create_empty_draft(drafter=org.drafter)
    before = _stashed(app)

    response = _upload(api(org.drafter), draft, regulation_docx(), "quy-che.docx")

    assert response.status_code == status
    assert message in response.json["error"]["message"]
    auth.login(org.drafter)
    page = client.post(
        f"/drafts/{draft.id}/import",
        data={"file": (io.BytesIO(regulation_docx()), "quy-che.docx")},
        content_type="multipart/form-data",
    )
    assert page.status_code == status
    assert message in page.get_data(as_text=True)
    assert _stashed(app) == before
    assert db.session.scalar(select(func.count()).select_from(Version)) == 0


def test_the_cli_parses_in_the_sandbox_too(runner, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "CRITERIA_MAX_ROWS", 10)
    path = tmp_path / "t.xlsx"
    path.write_bytes(sheet_xlsx(30))

    result = runner.invoke(args=["criteria", "parse", str(path)])

    assert result.exit_code == 2
    assert "tối đa 10 dòng" in result.output


# --- the worker's memory --------------------------------------------------------------------
def test_a_big_upload_does_not_grow_the_workers_memory(
    app, org, api, create_empty_draft, million_rows
):
    draft = create_empty_draft(kind=DraftKind.CRITERIA, drafter=org.drafter)
    client = api(org.drafter)
    _upload(client, draft, b"warm-up", "t.xlsx")
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux

    response = _upload(client, draft, million_rows, "bang-tieu-chi.xlsx")

    assert response.status_code == 413
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    # Read in this process the sheet took about 500 MB; the upload itself is 3 MB.
    assert grown_mb < 60, f"the worker grew by {grown_mb:.0f} MB"
