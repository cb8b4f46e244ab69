"""`flask --app app drafts parse PATH` and `flask --app app criteria parse PATH`.

The JSON printed here is a stable contract: other tools read it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup

from accounts.errors import UserError
from drafts import operations
from drafts.models import DraftKind

drafts_cli = AppGroup("drafts", help="Dự thảo văn bản.")
criteria_cli = AppGroup("criteria", help="Bảng tiêu chí chấm điểm.")


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        _die(f"Không tìm thấy tệp {path}.")
    except IsADirectoryError:
        _die(f"{path} là thư mục, không phải tệp.")
    except OSError:
        _die(f"Không đọc được tệp {path} (kiểm tra quyền truy cập).")
    raise AssertionError  # unreachable


def _die(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(2)


def _parse(kind: DraftKind, path: str) -> Any:
    """The same parse as an upload: in the sandbox, within the configured limits."""
    try:
        return operations.parse_upload(kind, _read(path), Path(path).name)
    except UserError as exc:
        _die(exc.message)


@drafts_cli.command("parse")
@click.argument("path")
def parse_draft(path: str) -> None:
    """In tên, phần mở đầu, cây điều khoản, cảnh báo và các đoạn không nhập của một văn bản
    (.docx, .doc, .odt, .rtf hoặc .pdf có lớp chữ) dưới dạng JSON; cảnh báo in cả ra stderr.
    Đọc như một tệp tải lên: trong tiến trình con, trong giới hạn bộ nhớ và thời gian."""
    result = _parse(DraftKind.REGULATION, path)
    for warning in result.warnings:
        click.echo(f"Cảnh báo: {warning}", err=True)
    if result.left_out:
        click.echo(f"Không nhập {len(result.left_out)} đoạn (xem left_out).", err=True)
    click.echo(result.to_json())


@criteria_cli.command("parse")
@click.argument("path")
def parse_criteria_cmd(path: str) -> None:
    """In bảng tiêu chí của một tệp .xlsx hoặc .docx dưới dạng JSON."""
    data = _parse(DraftKind.CRITERIA, path).as_dict()
    click.echo(
        json.dumps(
            {"criteria": data["criteria"], "total_max_points": data["total_max_points"]},
            ensure_ascii=False,
            indent=1,
        )
    )


def register(app: Flask) -> None:
    app.cli.add_command(drafts_cli)
    app.cli.add_command(criteria_cli)
