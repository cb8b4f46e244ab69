"""`flask demo` prints a login for every role and for two units in each of two clusters;
each printed password works, and loading twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from accounts.models import AuditEntry, Role, User
from extensions import db

EXPECTED = {
    "quantri": Role.ADMIN,
    "soanthao": Role.DRAFTER,
    "thamdinh": Role.OFFICE_VERIFIER,
    "hoidong": Role.COUNCIL_MEMBER,
    "thuky": Role.CONFERENCE_SECRETARY,
    **{f"kv{n}.truong": Role.UNIT_HEAD for n in (1, 2, 6, 7)},
    **{f"kv{n}.canbo": Role.UNIT_STAFF for n in (1, 2, 6, 7)},
}


def printed(output: str) -> dict[str, tuple[str, str]]:
    """username -> (password, note) from the lines under the heading."""
    lines = output.split("Tài khoản demo (tên đăng nhập / mật khẩu):", 1)[1].splitlines()
    rows = {}
    for line in lines:
        if line.strip():
            username, password, note = line.split(maxsplit=2)
            rows[username] = (password, note)
    return rows


def test_demo_prints_working_logins_for_two_units_in_two_clusters(runner, client, auth):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    users, audit_rows = (
        db.session.scalar(select(func.count()).select_from(User)),
        db.session.scalar(select(func.count()).select_from(AuditEntry)),
    )
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, again.output
    assert db.session.scalar(select(func.count()).select_from(User)) == users
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audit_rows

    logins = printed(runner.invoke(args=["demo", "--logins"]).output)
    assert set(logins) == set(EXPECTED)
    assert logins == printed(first.output)
    assert "thư ký hội nghị" in logins["soanthao"][1]
    assert logins["thuky"][1].startswith("thư ký hội nghị")
    assert "Cụm 1" in logins["kv2.truong"][1] and "Cụm 2" in logins["kv7.canbo"][1]
    groups = set()
    for username, role in EXPECTED.items():
        user = db.session.scalar(select(User).where(User.username == username))
        assert user is not None and user.has_role(role), username
        if role in (Role.UNIT_HEAD, Role.UNIT_STAFF):
            groups.add(user.unit.short_name)
        response = auth.login(username, logins[username][0])
        assert response.status_code == 302, username
        auth.logout()
    assert groups == {"KV1", "KV2", "KV6", "KV7"}
