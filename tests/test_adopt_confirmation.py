"""Adoption cannot be undone: the form leads to a confirmation page naming the
consequences, only its button adopts, and an older version than the latest published
one is adopted only on an explicit, warned choice (web and API)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from drafts import operations
from drafts.models import Draft, DraftState
from extensions import db

FORM = {"decision_number": "125/QĐ-VKS", "decision_date": "15/12/2026",
        "signer_name": "Nguyễn Văn Viện"}  # fmt: skip


@pytest.fixture
def two_versions(org, create_draft) -> Draft:  # type: ignore[no-untyped-def]
    """A draft whose "Dự thảo lần 2" is published after "lần 1"."""
    draft = create_draft(drafter=org.drafter, state=DraftState.CONSOLIDATING)
    second = operations.new_version(draft, actor=org.drafter)
    db.session.flush()
    operations.publish_version(second, actor=org.drafter)
    db.session.commit()
    return draft


def state_of(draft: Draft) -> DraftState:
    db.session.expire_all()
    return db.session.get(Draft, draft.id).state


def test_the_form_leads_to_a_confirmation_page_and_only_its_button_adopts(
    client, auth, org, two_versions
):
    draft = two_versions
    latest = draft.versions[-1]
    auth.login(org.drafter)
    sent = client.post(f"/drafts/{draft.id}/adopt", data={"version": latest.id, **FORM})
    assert sent.status_code == 303
    assert state_of(draft) == DraftState.CONSOLIDATING
    target = urlsplit(sent.headers["Location"])
    assert target.path == f"/drafts/{draft.id}/adopt/confirm"
    assert parse_qs(target.query)["decision_number"] == ["125/QĐ-VKS"]

    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Xác nhận ban hành" in page
    assert "Dự thảo lần 2" in page and "125/QĐ-VKS" in page and "15/12/2026" in page
    assert "không thể hoàn tác" in page and "không thể sửa đổi" in page
    assert 'name="confirmed" value="1"' in page
    assert "confirm_not_latest" not in page  # the latest version needs no second warning
    assert state_of(draft) == DraftState.CONSOLIDATING

    done = client.post(
        f"/drafts/{draft.id}/adopt", data={"version": latest.id, **FORM, "confirmed": "1"}
    )
    assert done.status_code == 302
    db.session.expire_all()
    adopted = db.session.get(Draft, draft.id)
    assert adopted.state == DraftState.ADOPTED and adopted.adopted_version_id == latest.id


def test_an_older_version_needs_the_warned_choice(client, auth, org, two_versions):
    draft = two_versions
    older = draft.versions[0]
    auth.login(org.drafter)
    sent = client.post(f"/drafts/{draft.id}/adopt", data={"version": older.id, **FORM})
    assert sent.status_code == 303
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Dự thảo lần 1 không phải bản mới nhất." in page
    assert 'name="confirm_not_latest"' in page and "Dự thảo lần 2" in page

    # The confirm button without the box ticked: refused, nothing adopted.
    refused = client.post(
        f"/drafts/{draft.id}/adopt", data={"version": older.id, **FORM, "confirmed": "1"}
    )
    assert refused.status_code == 409
    assert "không phải bản mới nhất đã phát hành" in refused.get_data(as_text=True)
    assert state_of(draft) == DraftState.CONSOLIDATING

    done = client.post(
        f"/drafts/{draft.id}/adopt",
        data={"version": older.id, **FORM, "confirmed": "1", "confirm_not_latest": "1"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Draft, draft.id).adopted_version_id == older.id


def test_the_confirmation_page_checks_before_it_asks(client, auth, org, create_draft):
    nodes = [{"kind": "criterion", "number": "I", "max_points": 100, "children": [
        {"kind": "criterion", "number": "1", "max_points": 30}]}]  # fmt: skip
    from drafts.models import DraftKind

    draft = create_draft(nodes=nodes, kind=DraftKind.CRITERIA, drafter=org.drafter)
    auth.login(org.drafter)
    sent = client.post(f"/drafts/{draft.id}/adopt", data={"version": draft.versions[0].id, **FORM})
    assert sent.status_code == 422
    assert "Nhóm I: điểm chuẩn 100 khác tổng các tiêu chí con 30." in sent.get_data(as_text=True)
    # A hand-made confirmation address with a missing field goes back to the form.
    back = client.get(f"/drafts/{draft.id}/adopt/confirm?version={draft.versions[0].id}")
    assert back.status_code == 303 and "/adopt?" in back.headers["Location"]
    assert state_of(draft) == DraftState.DRAFT


def test_the_confirmation_page_is_the_drafters_own(client, auth, org, two_versions):
    draft = two_versions
    query = {"version": draft.versions[-1].id, **FORM}
    auth.login(org.head1)
    assert client.get(f"/drafts/{draft.id}/adopt/confirm", query_string=query).status_code == 403


def test_api_refuses_an_older_version_without_the_flag(org, api, two_versions):
    draft = two_versions
    client = api(org.drafter)
    body = {"version_id": draft.versions[0].id, "decision_number": "125/QĐ-VKS",
            "decision_date": "2026-12-15", "signer_name": "Nguyễn Văn Viện"}  # fmt: skip
    refused = client.post(f"/api/v1/drafts/{draft.id}/adopt", json=body)
    assert refused.status_code == 409
    assert refused.json["error"]["code"] == "conflict"
    assert "Dự thảo lần 2" in refused.json["error"]["message"]
    assert state_of(draft) == DraftState.CONSOLIDATING
    done = client.post(
        f"/api/v1/drafts/{draft.id}/adopt", json={**body, "confirm_not_latest": True}
    )
    assert done.status_code == 200 and done.json["adopted_version_id"] == draft.versions[0].id


def test_adopt_is_not_offered_before_anything_is_published(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter, published=False)
    auth.login(org.drafter)
    page = client.get(f"/drafts/{draft.id}").get_data(as_text=True)
    assert "Thông qua, ban hành" not in page
    assert not draft.has_published_version
    with pytest.raises(Exception, match="chưa được phát hành"):
        operations.adopt_draft(draft, draft.versions[0], "1/QĐ", None, "A", org.drafter)  # type: ignore[arg-type]
    published = create_draft(drafter=org.drafter)
    assert "Thông qua, ban hành" in client.get(f"/drafts/{published.id}").get_data(as_text=True)


def test_publishing_and_deleting_a_version_ask_first(client, auth, org, create_draft):
    draft = create_draft(drafter=org.drafter, published=False)
    version = draft.versions[0]
    auth.login(org.drafter)
    for route, words in (("publish", "không thể sửa"), ("discard", "không thể khôi phục")):
        asked = client.post(
            f"/drafts/versions/{version.id}/{route}", data={"lock_version": version.lock_version}
        )
        assert asked.status_code == 303
        page = client.get(asked.headers["Location"]).get_data(as_text=True)
        assert words in page and 'name="confirmed" value="1"' in page
        db.session.expire_all()
        assert db.session.get(type(version), version.id).is_published is False
    done = client.post(
        f"/drafts/versions/{version.id}/publish",
        data={"lock_version": version.lock_version, "confirmed": "1"},
    )
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(type(version), version.id).is_published
    # Nothing left to ask about: the published version can be neither published nor deleted.
    for route in ("publish", "discard"):
        assert client.get(f"/drafts/versions/{version.id}/{route}").status_code == 409
