"""`flask --app app users …` and `flask --app app units …`."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from accounts import operations
from accounts.clock import add_days, end_of_local_day, now, parse_date
from accounts.errors import UserError
from accounts.models import Role, Scope, Unit, User
from app import db

users_cli = AppGroup("users", help="Người dùng và mã truy cập API.")
units_cli = AppGroup("units", help="Đơn vị.")


def _fail(message: str) -> None:
    db.session.rollback()
    raise click.ClickException(message)


@users_cli.command("create")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Họ và tên.")
@click.option("--email", required=True)
@click.option("--unit", "unit_short", required=True, help="Tên viết tắt của đơn vị.")
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice([r.value for r in Role])
)
@click.password_option(help="Mật khẩu (ít nhất 8 ký tự).")
def create_user(
    username: str,
    full_name: str,
    email: str,
    unit_short: str,
    roles: tuple[str, ...],
    password: str,
) -> None:
    """Tạo người dùng."""
    unit = db.session.scalars(select(Unit).where(Unit.short_name == unit_short)).first()
    if unit is None:
        _fail(f"Không có đơn vị '{unit_short}'.")
    try:
        operations.create_user(
            username=username,
            full_name=full_name,
            email=email,
            unit=unit,
            roles=[Role(r) for r in roles],
            password=password,
            actor=None,
        )
    except UserError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(f"Đã tạo người dùng {username.lower()}.")


@users_cli.command("token")
@click.argument("username")
@click.option("--name", default="cli", help="Tên gợi nhớ của mã.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    default=[Scope.READ.value],
    show_default=True,
    type=click.Choice([s.value for s in Scope]),
    help="Phạm vi của mã; lặp lại để cấp nhiều phạm vi.",
)
@click.option(
    "--expires",
    default=None,
    help="Ngày hết hạn (dd/mm/yyyy hoặc yyyy-mm-dd; mã dùng được hết ngày đó), hoặc "
    "“never”. Mặc định: sau API_TOKEN_DAYS ngày.",
)
def create_token(username: str, name: str, scopes: tuple[str, ...], expires: str | None) -> None:
    """Tạo mã truy cập API; mã chỉ được in ra một lần."""
    user = db.session.scalars(select(User).where(User.username == username.lower())).first()
    if user is None:
        _fail(f"Không có người dùng '{username}'.")
    try:
        _token, secret = operations.create_api_token(
            user,
            name=name,
            scopes=[Scope(s) for s in scopes],
            expires_at=_expiry(expires),
            actor=None,
        )
    except UserError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(secret)


def _expiry(text: str | None) -> datetime | None:
    if text is None:
        return add_days(now(), current_app.config["API_TOKEN_DAYS"])
    if text.strip().lower() == "never":
        return None
    try:
        return end_of_local_day(parse_date(text))
    except ValueError:
        _fail(f"Ngày hết hạn '{text}' không hợp lệ (dd/mm/yyyy, yyyy-mm-dd hoặc never).")
    raise AssertionError  # unreachable


@users_cli.command("revoke-token")
@click.argument("prefix")
def revoke_token(prefix: str) -> None:
    """Thu hồi mã truy cập theo phần đầu (10 ký tự) của mã."""
    from accounts.models import ApiToken

    token = db.session.scalars(select(ApiToken).where(ApiToken.prefix == prefix[:10])).first()
    if token is None:
        _fail("Không tìm thấy mã truy cập.")
    try:
        operations.revoke_api_token(token, actor=None)
    except UserError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo("Đã thu hồi.")


@units_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_units(path: Path) -> None:
    """Nhập đơn vị từ CSV (name, short_name, kind, email). Lỗi ở bất kỳ dòng nào: không nhập gì."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        _fail("Tệp CSV phải được lưu với bảng mã UTF-8.")
    try:
        report = operations.import_units_csv(text, actor=None)
    except UserError as exc:
        _fail(exc.message)
    db.session.commit()
    click.echo(f"Đã nhập {report.created} đơn vị mới, cập nhật {report.updated} đơn vị.")


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(units_cli)
