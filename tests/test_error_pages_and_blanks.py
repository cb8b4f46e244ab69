"""Pages never print "None" for a missing value, and error pages lead back to their object."""

from __future__ import annotations

import re
from html import unescape

import pytest
from flask import render_template_string
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from tests.fixtures.comments import comment_as


def visible_text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@settings(max_examples=30, derandomize=True)
@given(st.one_of(st.none(), st.text(max_size=20), st.integers()))
def test_a_missing_value_prints_as_nothing(app, value: object) -> None:
    with app.test_request_context():
        shown = render_template_string("[{{ v }}][{{ d.get('x') }}]", v=value, d={})
    assert shown == f"[{'' if value is None else escape(value)}][]"


@pytest.mark.parametrize("who", ["drafter", "head1", "admin"])
def test_the_pages_of_a_round_never_say_none(client, auth, org, blind_round, who):
    comment_as(org.head1, blind_round, text="Đề nghị làm rõ.")
    auth.login(getattr(org, who))
    draft = blind_round.draft
    paths = [
        "/",
        "/drafts/",
        f"/drafts/{draft.id}",
        "/comments/",
        f"/comments/rounds/{blind_round.id}",
        f"/comments/rounds/{blind_round.id}/tracker",
        f"/comments/rounds/{blind_round.id}/comments",
        f"/comments/rounds/{blind_round.id}/unit",
        "/notifications",
        "/admin/audit",
    ]
    for path in paths:
        response = client.get(path)
        if response.status_code != 200:
            continue  # not this role's page
        assert "None" not in visible_text(response.get_data(as_text=True)), path


def test_an_error_on_a_round_page_links_back_to_the_round(app):
    from accounts.errors import back_link

    with app.test_request_context("/comments/rounds/7/tracker"):
        assert back_link(409) == ("/comments/rounds/7", "Quay lại đợt lấy ý kiến")
        assert back_link(422) == ("/comments/rounds/7", "Quay lại đợt lấy ý kiến")
        assert back_link(403) is None and back_link(404) is None
    with app.test_request_context("/drafts/"):
        assert back_link(409) is None
