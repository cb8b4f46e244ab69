"""Login throttling: per address across user names, per (name, address) for wrong
passwords, and the same work for names that do not exist."""

from __future__ import annotations

import pytest

from accounts import operations
from accounts.models import Role
from tests.fixtures.accounts import PASSWORD


def _login(client, username: str, password: str, ip: str = "198.51.100.7"):  # type: ignore[no-untyped-def]
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": ip},
    )


def test_many_user_names_from_one_address_are_throttled(app, client):
    app.config["LOGIN_RATE_PER_ADDRESS"] = "10 per minute"
    try:
        answers = [_login(client, f"ten{n}", "doan-bua").status_code for n in range(30)]
        limited = _login(client, "ten-khac", "doan-bua")
        # Another address is not slowed by the first one's guesses.
        elsewhere = _login(client, "ten-khac", "doan-bua", ip="203.0.113.9")
    finally:
        app.config["LOGIN_RATE_PER_ADDRESS"] = "20 per minute; 100 per hour"
    assert answers[:10] == [401] * 10
    assert set(answers[10:]) == {429}
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Quá nhiều yêu cầu" in limited.get_data(as_text=True)
    assert elsewhere.status_code == 401


def test_the_default_limit_stops_a_password_spray(app, client, create_user):
    users = [create_user(Role.UNIT_STAFF) for _ in range(25)]
    answers = [_login(client, u.username, "Mat-khau-pho-bien-1").status_code for u in users]
    assert answers.count(401) == 20 and answers.count(429) == 5


def test_failures_from_one_address_do_not_lock_out_the_admin_elsewhere(client, create_user):
    admin = create_user(Role.ADMIN)
    for _ in range(5):
        assert _login(client, admin.username, "sai-mat-khau").status_code == 401
    assert _login(client, admin.username, PASSWORD).status_code == 429  # that pair is locked
    assert _login(client, admin.username, PASSWORD, ip="192.0.2.44").status_code == 302


@pytest.mark.parametrize("exists", [True, False])
def test_unknown_and_known_user_names_cost_the_same_hashing(monkeypatch, create_user, exists: bool):
    user = create_user(Role.UNIT_STAFF)
    calls: list[str] = []
    real = operations.check_password_hash

    def counting(hashed: str, password: str) -> bool:
        calls.append(hashed.split("$", 1)[0])
        return real(hashed, password)

    monkeypatch.setattr(operations, "check_password_hash", counting)
    import accounts.models

    monkeypatch.setattr(accounts.models, "check_password_hash", counting)
    name = user.username if exists else "khong-ton-tai"
    with pytest.raises(operations.LoginFailed):
        operations.authenticate(name, "sai-mat-khau", ip="198.51.100.7")
    assert len(calls) == 1
    if not exists:
        # The dummy hash uses the method real passwords are stored with.
        from werkzeug.security import generate_password_hash

        assert calls[0] == generate_password_hash("x").split("$", 1)[0]
