"""Every numeric query parameter is bounded: huge, negative or non-numeric values answer a
plain 422 (pages are clamped), never a 500 from a number the database cannot hold.

The crawl first asks each GET route (pages and API) without parameters and records which
query parameters it reads, then sends each of them the values that used to break it.
"""

from __future__ import annotations

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.utils import cached_property

from accounts import operations
from accounts.errors import Invalid
from accounts.models import Scope
from accounts.params import MAX_ID, MAX_PAGE, parse_int
from app import db
from tests.fixtures.accounts import ApiClient

BAD_VALUES = ["9" * 40, str(2**63), "-7", "0", "abc", "1e3", "٣"]
SKIPPED = {"/static/<path:filename>"}


class RecordingArgs(MultiDict):  # type: ignore[type-arg]
    """request.args that remembers which names the view asked for."""

    seen: set[str] = set()

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        self.seen.add(key)
        return super().__getitem__(key)

    def get(self, key, default=None, type=None):  # type: ignore[no-untyped-def]
        self.seen.add(key)
        return super().get(key, default, type)

    def getlist(self, key, type=None):  # type: ignore[no-untyped-def]
        self.seen.add(key)
        return super().getlist(key, type)

    def __contains__(self, key):  # type: ignore[no-untyped-def]
        self.seen.add(key)
        return super().__contains__(key)


@pytest.fixture
def recording(app: Flask, monkeypatch):  # type: ignore[no-untyped-def]
    base = app.request_class

    class Recording(base):  # type: ignore[misc,valid-type]
        @cached_property
        def args(self):  # type: ignore[no-untyped-def]
            return RecordingArgs(super().args)

    monkeypatch.setattr(app, "request_class", Recording)
    return RecordingArgs.seen


def get_rules(app: Flask) -> list[str]:
    return sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and rule.rule not in SKIPPED
    )


def _crawl(app, world, recording, call):  # type: ignore[no-untyped-def]
    failures = []
    for rule in get_rules(app):
        if rule.startswith("/api/") != call.api:
            continue
        url = world.url(rule)
        recording.clear()
        call(url)
        for name in sorted(recording):
            for value in BAD_VALUES:
                response = call(url, {name: value})
                if response.status_code >= 500:
                    failures.append(f"{rule}?{name}={value}: {response.status_code}")
                elif call.api and response.status_code >= 400:
                    assert response.json["error"]["message"], rule
    return failures


class WebCall:
    api = False

    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self.client = client

    def __call__(self, url, params=None):  # type: ignore[no-untyped-def]
        return self.client.get(url, query_string=params or {})


class ApiCall(WebCall):
    api = True


def test_no_page_breaks_on_a_bad_number(app, client, auth, world, recording):
    auth.login(world.everyone)
    failures = _crawl(app, world, recording, WebCall(client))
    assert failures == []


def test_no_api_route_breaks_on_a_bad_number(app, world, recording):
    _token, secret = operations.create_api_token(
        world.everyone, name="crawl", scopes=list(Scope), expires_at=None, actor=None
    )
    db.session.commit()
    failures = _crawl(app, world, recording, ApiCall(ApiClient(app.test_client(), secret)))
    assert failures == []


def test_the_audit_log_clamps_its_page(client, auth, world):
    auth.login(world.org.admin)
    assert client.get("/admin/audit", query_string={"page": "9" * 40}).status_code == 200
    assert client.get("/admin/audit", query_string={"page": "-3"}).status_code == 200
    refused = client.get("/admin/audit", query_string={"page": "abc"})
    assert refused.status_code == 422
    assert "Tham số page phải là một số nguyên." in refused.get_data(as_text=True)


def test_an_api_id_filter_out_of_range_is_422_naming_it(app, world, api):
    response = api(world.everyone).get(
        f"/api/v1/consultations/{world.ids['consultation_id']}/comments",
        query_string={"unit_id": str(2**40)},
    )
    assert response.status_code == 422
    assert response.json["error"]["message"] == f"Tham số unit_id phải không quá {MAX_ID}."


# --- the helper, for every input ----------------------------------------------------------
@settings(max_examples=300, derandomize=True)
@given(
    raw=st.one_of(st.integers().map(str), st.text(max_size=30)),
    low=st.integers(-5, 5),
    span=st.integers(0, 10**12),
)
def test_parse_int_gives_a_number_in_range_or_a_plain_error(app, raw, low, span):
    high = low + span
    with app.test_request_context():
        number = raw.strip()[1:] if raw.strip()[:1] in "+-" else raw.strip()
        is_number = number.isascii() and number.isdigit()
        try:
            value = parse_int("x", raw, minimum=low, maximum=high)
        except Invalid as exc:
            assert "x" in exc.message  # not a number, or out of range
            assert not is_number or not low <= int(raw) <= high
        else:
            assert low <= value <= high and value == int(raw)
        try:
            clamped = parse_int("x", raw, minimum=low, maximum=high, clamp=True)
        except Invalid:
            assert not is_number  # only a value that is no number at all is refused
        else:
            assert low <= clamped <= high


def test_pages_are_clamped_to_a_small_offset(app):
    with app.test_request_context():
        assert parse_int("page", "9" * 5000, minimum=1, maximum=MAX_PAGE, clamp=True) == MAX_PAGE
