"""Verb-named operations on the organisation. They change models and write the audit
row; the caller (a view, the CLI, the API) commits once."""

from __future__ import annotations

import csv
import functools
import io
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from accounts import audit, invites
from accounts.clock import now
from accounts.errors import Conflict, Invalid, NotFound
from accounts.models import (
    ApiToken,
    DocumentSigner,
    EmulationYear,
    Group,
    GroupKind,
    GroupMembership,
    GroupRole,
    LoginAttempt,
    NotifyMode,
    Role,
    Scope,
    Unit,
    UnitKind,
    UnitNameChange,
    UnitYearStatus,
    User,
    UserRole,
)
from extensions import db
from notices.models import MailStatus, OutgoingMail

MIN_PASSWORD_LENGTH = 8


# --- units ---------------------------------------------------------------------------
def _check_email(email: str | None) -> str | None:
    if not email:
        return None
    try:
        return validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid(_("Địa chỉ e-mail không hợp lệ: %(email)s", email=email)) from exc


def _unit_name_taken(name: str, short_name: str, exclude_id: int | None = None) -> str | None:
    query = select(Unit).where((Unit.name == name) | (Unit.short_name == short_name))
    if exclude_id is not None:
        query = query.where(Unit.id != exclude_id)
    clash = db.session.scalars(query).first()
    if clash is None:
        return None
    return clash.name


def create_unit(
    *, name: str, short_name: str, kind: UnitKind, email: str | None, actor: User | None
) -> Unit:
    name, short_name = name.strip(), short_name.strip()
    if not name or not short_name:
        raise Invalid(_("Tên và tên viết tắt của đơn vị là bắt buộc."))
    if clash := _unit_name_taken(name, short_name):
        raise Conflict(_("Đã có đơn vị trùng tên hoặc tên viết tắt: %(clash)s.", clash=clash))
    unit = Unit(name=name, short_name=short_name, kind=kind, email=_check_email(email))
    db.session.add(unit)
    audit.record("unit.create", unit, actor=actor, summary=name)
    return unit


def update_unit(
    unit: Unit, *, name: str, short_name: str, kind: UnitKind, email: str | None, actor: User
) -> Unit:
    """Rename keeps the old name in the history, so earlier documents stay traceable."""
    name, short_name = name.strip(), short_name.strip()
    if not name or not short_name:
        raise Invalid(_("Tên và tên viết tắt của đơn vị là bắt buộc."))
    if clash := _unit_name_taken(name, short_name, exclude_id=unit.id):
        raise Conflict(_("Đã có đơn vị trùng tên hoặc tên viết tắt: %(clash)s.", clash=clash))
    if name != unit.name or short_name != unit.short_name:
        db.session.add(
            UnitNameChange(
                unit=unit, old_name=unit.name, old_short_name=unit.short_name, new_name=name
            )
        )
        audit.record(
            "unit.rename",
            unit,
            actor=actor,
            summary=f"{unit.name} → {name}",
            details={"old": unit.name, "new": name},
        )
    unit.name, unit.short_name, unit.kind = name, short_name, kind
    unit.email = _check_email(email)
    return unit


def retire_unit(unit: Unit, *, actor: User) -> Unit:
    if not unit.active:
        raise Conflict(_("Đơn vị %(name)s đã ngừng hoạt động.", name=unit.name))
    unit.active = False
    unit.retired_at = now()
    audit.record("unit.retire", unit, actor=actor, summary=unit.name)
    return unit


def merge_units(source: Unit, target: Unit, *, actor: User) -> Unit:
    """Retire `source` into `target`; its people move, its history stays with it."""
    if source.id == target.id:
        raise Invalid(_("Không thể sáp nhập một đơn vị vào chính nó."))
    if not target.active:
        raise Conflict(_("Đơn vị nhận sáp nhập %(name)s đã ngừng hoạt động.", name=target.name))
    source.active = False
    source.retired_at = now()
    source.merged_into = target
    for user in db.session.scalars(select(User).where(User.unit_id == source.id)):
        user.unit = target
    audit.record(
        "unit.merge",
        source,
        actor=actor,
        summary=f"{source.name} → {target.name}",
        details={"into": target.id},
    )
    return target


@dataclass
class ImportReport:
    created: int
    updated: int


def import_units_csv(data: str, *, actor: User | None) -> ImportReport:
    """Import units from CSV (name, short_name, kind, email). All rows or nothing.

    Every bad row is reported with its line number; nothing is written unless every
    row is good, so a half-imported organisation never exists.
    """
    reader = csv.DictReader(io.StringIO(data.lstrip("\ufeff")))
    required = {"name", "short_name", "kind"}
    if reader.fieldnames is None or not required <= {f.strip() for f in reader.fieldnames}:
        raise Invalid(
            _("Dòng 1: tệp CSV phải có các cột name, short_name, kind (và tùy chọn email).")
        )
    errors: list[str] = []
    rows: list[tuple[int, dict[str, str]]] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        clean = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        if not clean.get("name") or not clean.get("short_name"):
            errors.append(f"Dòng {line}: thiếu tên hoặc tên viết tắt.")
            continue
        if clean.get("kind") not in {k.value for k in UnitKind}:
            allowed = ", ".join(k.value for k in UnitKind)
            errors.append(
                f"Dòng {line}: loại đơn vị '{clean.get('kind')}' không hợp lệ ({allowed})."
            )
            continue
        if clean.get("email"):
            try:
                clean["email"] = validate_email(
                    clean["email"], check_deliverability=False
                ).normalized
            except EmailNotValidError:
                errors.append(f"Dòng {line}: e-mail '{clean['email']}' không hợp lệ.")
                continue
        key = clean["short_name"].lower()
        if key in seen:
            errors.append(f"Dòng {line}: tên viết tắt trùng với dòng {seen[key]}.")
            continue
        seen[key] = line
        rows.append((line, clean))
    if errors:
        raise Invalid(_("Không nhập được tệp đơn vị:") + "\n" + "\n".join(errors), details=errors)

    created = updated = 0
    for _line, row in rows:
        unit = db.session.scalars(select(Unit).where(Unit.short_name == row["short_name"])).first()
        if unit is None:
            create_unit(
                name=row["name"],
                short_name=row["short_name"],
                kind=UnitKind(row["kind"]),
                email=row.get("email") or None,
                actor=actor,
            )
            created += 1
        else:
            unit.kind = UnitKind(row["kind"])
            unit.email = row.get("email") or unit.email
            if unit.name != row["name"]:
                db.session.add(
                    UnitNameChange(
                        unit=unit,
                        old_name=unit.name,
                        old_short_name=unit.short_name,
                        new_name=row["name"],
                    )
                )
                unit.name = row["name"]
            updated += 1
        # Flush per row so a clash with an existing name surfaces now, inside the
        # transaction the caller will roll back.
        db.session.flush()
    return ImportReport(created=created, updated=updated)


# --- emulation years and groups -------------------------------------------------------------
def year_bounds(year: int) -> tuple[date, date]:
    """Year 2026 runs 01/12/2025 – 30/11/2026 by default."""
    month = current_app.config["EMULATION_YEAR_START_MONTH"]
    day = current_app.config["EMULATION_YEAR_START_DAY"]
    start_year = year - 1 if (month, day) != (1, 1) else year
    starts = date(start_year, month, day)
    ends = date(starts.year + 1, starts.month, starts.day) - timedelta(days=1)
    return starts, ends


def ensure_year(year: int, *, actor: User | None = None) -> EmulationYear:
    existing = db.session.scalars(select(EmulationYear).where(EmulationYear.year == year)).first()
    if existing is not None:
        return existing
    starts, ends = year_bounds(year)
    row = EmulationYear(year=year, starts_on=starts, ends_on=ends)
    db.session.add(row)
    audit.record("year.create", row, actor=actor, summary=str(year))
    return row


def year_for_date(day: date) -> EmulationYear | None:
    return db.session.scalars(
        select(EmulationYear).where(EmulationYear.starts_on <= day, EmulationYear.ends_on >= day)
    ).first()


def create_group(*, year: EmulationYear, kind: GroupKind, name: str, actor: User | None) -> Group:
    name = name.strip()
    if not name:
        raise Invalid(_("Tên Cụm/Khối là bắt buộc."))
    clash = db.session.scalars(
        select(Group).where(Group.year_id == year.id, Group.name == name)
    ).first()
    if clash is not None:
        raise Conflict(_("Năm %(year)s đã có %(name)s.", year=year.year, name=name))
    group = Group(year=year, kind=kind, name=name)
    db.session.add(group)
    audit.record("group.create", group, actor=actor, summary=f"{name} ({year.year})")
    return group


def set_group_members(group: Group, units: Iterable[Unit], *, actor: User | None) -> Group:
    wanted = {u.id: u for u in units}
    taken = db.session.execute(
        select(GroupMembership.unit_id, Group.name)
        .join(Group)
        .where(
            GroupMembership.year_id == group.year_id,
            GroupMembership.group_id != group.id,
            GroupMembership.unit_id.in_(wanted),
        )
    ).all()
    if taken:
        clashes = "; ".join(f"{wanted[uid].name} (đã thuộc {gname})" for uid, gname in taken)
        raise Conflict(
            _("Mỗi đơn vị chỉ thuộc một Cụm/Khối trong năm: %(clashes)s.", clashes=clashes)
        )
    for membership in list(group.memberships):
        if membership.unit_id not in wanted:
            group.memberships.remove(membership)
    present = {m.unit_id for m in group.memberships}
    for unit_id, unit in wanted.items():
        if unit_id not in present:
            group.memberships.append(
                GroupMembership(unit=unit, year_id=group.year_id, role=GroupRole.MEMBER)
            )
    audit.record(
        "group.members",
        group,
        actor=actor,
        summary=group.name,
        details={"units": sorted(wanted)},
    )
    return group


def previous_year_ineligibility(unit: Unit, year: EmulationYear) -> UnitYearStatus | None:
    return db.session.scalars(
        select(UnitYearStatus)
        .join(EmulationYear, EmulationYear.id == UnitYearStatus.year_id)
        .where(
            UnitYearStatus.unit_id == unit.id,
            EmulationYear.year == year.year - 1,
            UnitYearStatus.eligible.is_(False),
        )
    ).first()


def set_group_leadership(
    group: Group, *, leader: Unit | None, deputy: Unit | None, actor: User | None
) -> Group:
    """Set the leader and deputy for the year. Earlier years keep theirs (the rotation)."""
    members = {m.unit_id: m for m in group.memberships}
    for unit, title in ((leader, "Cụm/Khối trưởng"), (deputy, "Cụm/Khối phó")):
        if unit is not None and unit.id not in members:
            raise Invalid(
                _(
                    "%(name)s không thuộc %(group)s nên không thể làm %(title)s.",
                    name=unit.name,
                    group=group.name,
                    title=title,
                )
            )
    if leader is not None and deputy is not None and leader.id == deputy.id:
        raise Invalid(_("Cụm/Khối trưởng và Cụm/Khối phó phải là hai đơn vị khác nhau."))
    if leader is not None and current_app.config["RULE_INELIGIBLE_CANNOT_LEAD"]:
        status = previous_year_ineligibility(leader, group.year)
        if status is not None:
            reason = f" ({status.reason})" if status.reason else ""
            raise Invalid(
                _(
                    "%(name)s không đủ điều kiện xét thi đua năm %(value)s%(reason)s nên không "
                    "được làm Cụm/Khối trưởng năm %(year)s.",
                    name=leader.name,
                    value=group.year.year - 1,
                    reason=reason,
                    year=group.year.year,
                )
            )
    for membership in group.memberships:
        if leader is not None and membership.unit_id == leader.id:
            membership.role = GroupRole.LEADER
        elif deputy is not None and membership.unit_id == deputy.id:
            membership.role = GroupRole.DEPUTY
        else:
            membership.role = GroupRole.MEMBER
    audit.record(
        "group.leadership",
        group,
        actor=actor,
        summary=group.name,
        details={"leader": leader.id if leader else None, "deputy": deputy.id if deputy else None},
    )
    return group


def set_unit_eligibility(
    unit: Unit, year: EmulationYear, *, eligible: bool, reason: str, actor: User | None
) -> UnitYearStatus:
    status = db.session.scalars(
        select(UnitYearStatus).where(
            UnitYearStatus.unit_id == unit.id, UnitYearStatus.year_id == year.id
        )
    ).first()
    if status is None:
        status = UnitYearStatus(unit_id=unit.id, year_id=year.id)
        db.session.add(status)
    status.eligible, status.reason = eligible, reason.strip()
    audit.record(
        "unit.eligibility",
        unit,
        actor=actor,
        summary=f"{unit.name} {year.year}",
        details={"eligible": eligible, "reason": reason},
    )
    return status


# --- users --------------------------------------------------------------------------------
def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            _(
                "Mật khẩu phải có ít nhất %(limit)s ký tự.",
                limit=MIN_PASSWORD_LENGTH,
            )
        )


def create_user(
    *,
    username: str,
    full_name: str,
    email: str,
    unit: Unit,
    roles: Iterable[Role],
    password: str,
    actor: User | None,
) -> User:
    username = username.strip().lower()
    if not username or not full_name.strip():
        raise Invalid(_("Tên đăng nhập và họ tên là bắt buộc."))
    if db.session.scalars(select(User).where(User.username == username)).first():
        raise Conflict(_("Tên đăng nhập %(username)s đã được dùng.", username=username))
    _check_password_strength(password)
    user = User(
        username=username,
        full_name=full_name.strip(),
        email=_check_email(email) or "",
        unit=unit,
        notify_mode=NotifyMode.IMMEDIATE,
    )
    user.set_password(password)
    user.role_rows = [UserRole(role=r) for r in sorted(set(roles))]
    db.session.add(user)
    audit.record(
        "user.create",
        user,
        actor=actor,
        summary=username,
        details={"roles": sorted(r.value for r in set(roles))},
    )
    return user


def update_user(
    user: User,
    *,
    full_name: str,
    email: str,
    unit: Unit,
    roles: Iterable[Role],
    active: bool,
    actor: User,
) -> User:
    roles = set(roles)
    if user.id == actor.id and Role.ADMIN not in roles:
        raise Invalid(_("Bạn không thể tự bỏ quyền quản trị của chính mình."))
    user.full_name = full_name.strip()
    user.email = _check_email(email) or ""
    user.unit = unit
    if user.active and not active:
        user.end_sessions()
    user.active = active
    current = {row.role: row for row in user.role_rows}
    for role, row in current.items():
        if role not in roles:
            user.role_rows.remove(row)
    for role in roles - set(current):
        user.role_rows.append(UserRole(role=role))
    audit.record(
        "user.update",
        user,
        actor=actor,
        summary=user.username,
        details={"roles": sorted(r.value for r in roles), "active": active},
    )
    return user


# --- invitations and password reset by e-mail -------------------------------------------------
def invite_user(
    *,
    username: str,
    full_name: str,
    email: str,
    unit: Unit,
    roles: Iterable[Role],
    actor: User,
) -> User:
    """Create a user of `unit` without a password and e-mail them a link to set one
    (sent after the commit). The account cannot be signed in to until then."""
    if not _check_email(email):
        raise Invalid(_("Cần địa chỉ e-mail để gửi lời mời."))
    # A password nobody knows: only the link in the mail sets a usable one.
    user = create_user(
        username=username,
        full_name=full_name,
        email=email,
        unit=unit,
        roles=roles,
        password=secrets.token_urlsafe(32),
        actor=actor,
    )
    audit.record("user.invite", user, actor=actor, summary=f"{user.username} ({unit.short_name})")
    _queue_account_mail(user, invites.INVITE)
    return user


def resend_invitation(user: User, *, actor: User) -> None:
    if not user.active or not user.email:
        raise Invalid(_("Chỉ gửi lại lời mời cho tài khoản đang hoạt động và có e-mail."))
    audit.record("user.invite", user, actor=actor, summary=f"{user.username} (gửi lại)")
    _queue_account_mail(user, invites.INVITE)


def request_password_reset(login: str) -> None:
    """E-mail a reset link to the active account named by user name or e-mail, if there
    is one with an address. Says nothing either way (the page must not tell whether an
    account exists), and sends one mail per account per PASSWORD_RESET_INTERVAL_MINUTES."""
    login = login.strip().lower()
    if not login:
        return
    user = db.session.scalars(
        select(User).where(
            User.active.is_(True),
            (User.username == login) | (func.lower(User.email) == login),
        )
    ).first()
    if user is None or not user.email:
        return
    interval = timedelta(minutes=current_app.config["PASSWORD_RESET_INTERVAL_MINUTES"])
    recent = db.session.scalar(
        select(func.count(OutgoingMail.id)).where(
            OutgoingMail.user_id == user.id,
            OutgoingMail.kind == invites.RESET,
            OutgoingMail.created_at > now() - interval,
        )
    )
    if recent:
        return
    audit.record("user.password_reset_request", user, actor=None, summary=user.username)
    _queue_account_mail(user, invites.RESET)


def set_password_by_link(token: str, purpose: invites.Purpose, new: str) -> User:
    """Set the password through a reset or invitation link; the link then stops working
    (the password hash it was signed with changes), and so does every session."""
    user = invites.user_for_token(token, purpose)
    _check_password_strength(new)
    user.set_password(new)
    user.password_changed_at = now()
    user.end_sessions()
    action = "user.password_reset" if purpose == invites.RESET else "user.invitation_accept"
    audit.record(action, user, actor=user, summary=user.username)
    return user


def _queue_account_mail(user: User, purpose: invites.Purpose) -> None:
    """A mail row in this transaction, handed to the mail task after the commit; the link
    is made when it is sent (see accounts.invites)."""
    from notices.notify import SEND_MAIL, after_commit, new_message_id

    moment = now()
    mail = OutgoingMail(
        user=user,
        to_address=user.email,
        kind=purpose,
        subject="",
        message_id=new_message_id(),
        status=MailStatus.QUEUED,
        attempts=0,
        next_attempt_at=moment,
        created_at=moment,
    )
    db.session.add(mail)
    db.session.flush()
    after_commit(SEND_MAIL, mail.id)


def document_signer() -> DocumentSigner | None:
    return db.session.scalars(select(DocumentSigner).order_by(DocumentSigner.id).limit(1)).first()


def set_document_signer(
    *, authority: str, title: str, name: str, expected_version: int | None, actor: User
) -> DocumentSigner:
    """Who signs the agency's documents. Capitals as printed; an empty name hands signing back
    to the configuration (SIGNER_*) or the drafting unit's head."""
    authority, title, name = authority.strip().upper(), title.strip().upper(), name.strip()
    if name and not title:
        raise Invalid(_("Hãy ghi chức vụ của người ký, ví dụ “PHÓ VIỆN TRƯỞNG”."))
    if authority and not name:
        raise Invalid(_("Hãy ghi họ và tên người ký."))
    for value, limit in ((authority, 80), (title, 120), (name, 120)):
        if len(value) > limit:
            raise Invalid(_("Mỗi dòng của khối chữ ký dài tối đa %(limit)s ký tự.", limit=limit))
    row = document_signer()
    if row is None:
        row = DocumentSigner()
        db.session.add(row)
    elif expected_version is not None and expected_version != row.lock_version:
        raise Conflict(
            _(
                "Người khác vừa sửa người ký văn bản. Hãy tải lại trang, nội dung bạn nhập vẫn "
                "được giữ trong biểu mẫu."
            )
        )
    row.authority, row.title, row.name = authority, title, name
    row.updated_at = now()
    row.updated_by_id = actor.id
    audit.record(
        "document_signer.update",
        row,
        actor=actor,
        summary=" / ".join(part for part in (authority, title, name) if part),
    )
    return row


def change_password(user: User, *, current: str, new: str) -> None:
    if not user.check_password(current):
        raise Invalid(_("Mật khẩu hiện tại không đúng."))
    _check_password_strength(new)
    user.set_password(new)
    user.password_changed_at = now()
    user.end_sessions()
    audit.record("user.password", user, actor=user, summary=user.username)


def end_sessions(user: User, *, actor: User) -> None:
    """Sign the user out on every device: each session cookie issued so far stops working."""
    user.end_sessions()
    audit.record("user.end_sessions", user, actor=actor, summary=user.username)


def set_notify_mode(user: User, mode: NotifyMode) -> None:
    user.notify_mode = mode
    audit.record("user.notify_mode", user, actor=user, summary=mode.value)


def set_locale(user: User, locale: str) -> None:
    """The user's language: pages after login, and the e-mails sent to them."""
    if user.locale != locale:
        user.locale = locale
        audit.record("user.locale", user, actor=user, summary=locale)


# --- login throttling -------------------------------------------------------------------
def lockout_until(username: str, ip: str) -> datetime | None:
    """When the login for this user name from this address opens again, or None if it is
    open now.

    Failures count since the last success, within the lock-out window. The lock holds one
    (name, address) pair only: a stranger's wrong guesses must not lock the user out of
    their own office; guessing across many names is slowed per address (the limiter).
    """
    cfg = current_app.config
    window = timedelta(minutes=cfg["LOGIN_LOCKOUT_MINUTES"])
    since = now() - window
    last_success = db.session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.username == username,
            LoginAttempt.ip == ip,
            LoginAttempt.success.is_(True),
        )
    )
    if last_success is not None and last_success > since:
        since = last_success
    failures = db.session.scalars(
        select(LoginAttempt.at)
        .where(
            LoginAttempt.username == username,
            LoginAttempt.ip == ip,
            LoginAttempt.success.is_(False),
            LoginAttempt.at > since,
        )
        .order_by(LoginAttempt.at.desc())
    ).all()
    if len(failures) < cfg["LOGIN_MAX_FAILURES"]:
        return None
    return failures[0] + window


@functools.cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def authenticate(username: str, password: str, *, ip: str) -> User:
    """Check credentials, recording the attempt. Raises Forbidden when locked or wrong."""
    from accounts.clock import format_datetime

    username = username.strip().lower()
    ip = ip[:64]
    locked = lockout_until(username, ip)
    if locked is not None:
        raise LoginLocked(
            _(
                "Bạn đã nhập sai mật khẩu quá nhiều lần. Đăng nhập bị khóa đến %(when)s. Vui "
                "lòng thử lại sau.",
                when=format_datetime(locked),
            )
        )
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is not None and user.active:
        ok = user.check_password(password)
    else:
        # The same hashing work as for a real account: the answer time must not tell
        # which user names exist.
        check_password_hash(_dummy_hash(), password)
        ok = False
    db.session.add(LoginAttempt(username=username, ip=ip, success=ok))
    if not ok:
        raise LoginFailed(_("Tên đăng nhập hoặc mật khẩu không đúng."))
    assert user is not None
    audit.record("user.login", user, actor=user, summary=username)
    return user


class LoginFailed(Invalid):
    status = 401
    code = "unauthorized"


class LoginLocked(Invalid):
    status = 429
    code = "locked"


# --- API tokens ----------------------------------------------------------------------------
def create_api_token(
    user: User,
    *,
    name: str = "",
    scopes: Iterable[Scope],
    expires_at: datetime | None,
    actor: User | None,
) -> tuple[ApiToken, str]:
    """Return the token row and the token itself, which is never stored or shown again.

    The token serves only `scopes` and stops working at `expires_at` (None: no end date).
    """
    granted = ApiToken.scope_text(scopes)
    if not granted:
        raise Invalid(_("Hãy chọn ít nhất một phạm vi cho mã truy cập."))
    if expires_at is not None and expires_at <= now():
        raise Invalid(_("Ngày hết hạn của mã truy cập phải ở tương lai."))
    secret = "dft_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name.strip(),
        token_hash=ApiToken.hash(secret),
        prefix=secret[:10],
        scopes=granted,
        expires_at=expires_at,
    )
    db.session.add(token)
    until = f" đến {expires_at.isoformat()}" if expires_at else ""
    audit.record(
        "token.create",
        token,
        actor=actor,
        summary=f"{user.username} {token.prefix} [{granted}]{until}",
    )
    return token, secret


def revoke_api_token(token: ApiToken, *, actor: User | None) -> ApiToken:
    if token.revoked_at is not None:
        raise Conflict(_("Mã truy cập này đã bị thu hồi."))
    token.revoked_at = now()
    audit.record("token.revoke", token, actor=actor, summary=token.prefix)
    return token


def get_or_404(model: type, ident: int, message: str | None = None):  # type: ignore[no-untyped-def]
    # An id beyond 32 bits cannot exist; asking the database would overflow its integer.
    obj = db.session.get(model, ident) if 0 < ident < 2**31 else None
    if obj is None:
        raise NotFound(message or _("Không tìm thấy đối tượng yêu cầu."))
    return obj
