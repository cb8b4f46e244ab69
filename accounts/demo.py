"""Demo data: the seed case's organisation, and one login for every role.

Running it twice changes nothing. Passwords are generated on the first run and
kept in instance/demo-logins.json (readable only by its owner), so they can be
printed again without ever being a literal in the code.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from accounts import operations
from accounts.models import GroupKind, Role, Unit, UnitKind, User
from extensions import db

DEPARTMENTS = [
    ("Văn phòng", "VP", UnitKind.OFFICE),
    ("Thanh tra", "TT", UnitKind.INSPECTION),
    ("Phòng Thực hành quyền công tố và kiểm sát điều tra án hình sự", "P1", UnitKind.DEPARTMENT),
    ("Phòng Thực hành quyền công tố và kiểm sát xét xử án hình sự", "P2", UnitKind.DEPARTMENT),
    ("Phòng Kiểm sát giải quyết các vụ, việc dân sự, hành chính", "P9", UnitKind.DEPARTMENT),
]
REGIONAL = [(f"Viện kiểm sát nhân dân khu vực {n}", f"KV{n}") for n in range(1, 11)]


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    unit: str
    roles: tuple[Role, ...]
    note: str = ""


def _unit_logins(n: int, cluster: int, title: str) -> list[DemoLogin]:
    """The head and a staff member of "khu vực n", a member of Cụm thi đua số `cluster`."""
    return [
        DemoLogin(
            f"kv{n}.truong",
            "Lê Văn Trưởng" if n == 1 else f"Viện trưởng khu vực {n}",
            f"KV{n}",
            (Role.UNIT_HEAD,),
            f"Viện trưởng VKSND khu vực {n}, {title} Cụm {cluster}",
        ),
        DemoLogin(
            f"kv{n}.canbo",
            "Phạm Thị Cán" if n == 1 else f"Cán bộ khu vực {n}",
            f"KV{n}",
            (Role.UNIT_STAFF,),
            f"cán bộ VKSND khu vực {n}, Cụm {cluster}",
        ),
    ]


# The logins printed: every role, and two units in each of two clusters, so that a round
# can be tried from both sides (and a cluster's own scoring) without resetting passwords.
PRINTED = [
    DemoLogin("quantri", "Nguyễn Văn Quản", "VP", (Role.ADMIN,), "quản trị hệ thống"),
    DemoLogin(
        "soanthao",
        "Trần Thị Soạn",
        "VP",
        (Role.DRAFTER,),
        "cán bộ soạn thảo, Văn phòng; tổ chức hội nghị, phân công thư ký hội nghị",
    ),
    DemoLogin(
        "thuky",
        "Đỗ Thị Thư",
        "VP",
        (Role.CONFERENCE_SECRETARY,),
        "thư ký hội nghị: ghi ý kiến phát biểu, đơn vị dự họp, kết luận",
    ),
    DemoLogin(
        "thamdinh",
        "Hoàng Văn Thẩm",
        "VP",
        (Role.OFFICE_VERIFIER,),
        "Văn phòng: Thường trực Hội đồng, thẩm định",
    ),
    DemoLogin(
        "hoidong",
        "Vũ Thị Hội",
        "VP",
        (Role.COUNCIL_MEMBER,),
        "thành viên Hội đồng Thi đua - Khen thưởng",
    ),
    *_unit_logins(1, 1, "Cụm trưởng"),
    *_unit_logins(2, 1, "Cụm phó"),
    *_unit_logins(6, 2, "Cụm trưởng"),
    *_unit_logins(7, 2, "Cụm phó"),
]


def _other_logins() -> list[DemoLogin]:
    printed = {login.username for login in PRINTED}
    extra: list[DemoLogin] = []
    for _name, short, _kind in DEPARTMENTS[1:]:
        extra.append(
            DemoLogin(f"{short.lower()}.truong", f"Trưởng {short}", short, (Role.UNIT_HEAD,))
        )
        extra.append(
            DemoLogin(f"{short.lower()}.canbo", f"Cán bộ {short}", short, (Role.UNIT_STAFF,))
        )
    extra.append(DemoLogin("vp.truong", "Chánh Văn phòng", "VP", (Role.UNIT_HEAD,)))
    for _name, short in REGIONAL[1:]:
        n = short[2:]
        extra.append(
            DemoLogin(f"kv{n}.truong", f"Viện trưởng khu vực {n}", short, (Role.UNIT_HEAD,))
        )
        extra.append(DemoLogin(f"kv{n}.canbo", f"Cán bộ khu vực {n}", short, (Role.UNIT_STAFF,)))
    return [login for login in extra if login.username not in printed]


def _password_file() -> Path:
    return Path(current_app.instance_path) / "demo-logins.json"


def _passwords() -> dict[str, str]:
    path = _password_file()
    if path.exists():
        return json.loads(path.read_text())
    return {}


def _save_passwords(passwords: dict[str, str]) -> None:
    path = _password_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(passwords, fh, ensure_ascii=False, indent=1)


def is_empty() -> bool:
    return db.session.scalar(select(Unit.id).limit(1)) is None


def load_organisation(year: int) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for name, short, kind in DEPARTMENTS + [(n, s, UnitKind.REGIONAL) for n, s in REGIONAL]:
        unit = db.session.scalars(select(Unit).where(Unit.short_name == short)).first()
        if unit is None:
            unit = operations.create_unit(
                name=name,
                short_name=short,
                kind=kind,
                email=f"{short.lower()}@vks-demo.local",
                actor=None,
            )
        units[short] = unit
    db.session.flush()

    emulation_year = operations.ensure_year(year)
    db.session.flush()
    existing = {g.name for g in emulation_year.groups}
    plan = [
        ("Cụm thi đua số 1", GroupKind.CLUSTER, [f"KV{n}" for n in range(1, 6)], "KV1", "KV2"),
        ("Cụm thi đua số 2", GroupKind.CLUSTER, [f"KV{n}" for n in range(6, 11)], "KV6", "KV7"),
        ("Khối các phòng nghiệp vụ", GroupKind.BLOCK, ["P1", "P2", "P9", "TT", "VP"], "P1", "P2"),
    ]
    for name, kind, members, leader, deputy in plan:
        if name in existing:
            continue
        group = operations.create_group(year=emulation_year, kind=kind, name=name, actor=None)
        db.session.flush()
        operations.set_group_members(group, [units[s] for s in members], actor=None)
        db.session.flush()
        operations.set_group_leadership(
            group, leader=units[leader], deputy=units[deputy], actor=None
        )

    passwords = _passwords()
    for login in PRINTED + _other_logins():
        if db.session.scalars(select(User).where(User.username == login.username)).first():
            continue
        password = passwords.get(login.username) or secrets.token_urlsafe(9)
        passwords[login.username] = password
        operations.create_user(
            username=login.username,
            full_name=login.full_name,
            email=f"{login.username}@vks-demo.local",
            unit=units[login.unit],
            roles=login.roles,
            password=password,
            actor=None,
        )
    _save_passwords(passwords)
    db.session.flush()
    return units


def printed_logins() -> list[tuple[DemoLogin, str]]:
    passwords = _passwords()
    return [(login, passwords.get(login.username, "?")) for login in PRINTED]
