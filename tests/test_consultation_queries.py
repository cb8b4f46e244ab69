"""The drafter's pages issue the same number of SQL statements for a 10-clause draft
with a few comments as for a 300-clause draft with 3,000 comments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import event, insert, select, update

from accounts.clock import now
from accounts.models import Role, Unit, User
from comments.consultation.models import (
    Comment,
    CommentSource,
    Consultation,
    ResponseStatus,
    UnitResponse,
    Visibility,
    fold_text,
)
from drafts.models import Clause
from extensions import db
from tests.fixtures.accounts import PASSWORD


def regulation(articles: int, clauses_per_article: int) -> list[dict[str, Any]]:
    return [
        {
            "kind": "article",
            "number": str(a),
            "title": f"Điều khoản thứ {a}",
            "text": "",
            "children": [
                {
                    "kind": "clause",
                    "number": str(k),
                    "title": "",
                    "text": f"Nội dung khoản {k} Điều {a} về tiêu chí thi đua.",
                    "children": [],
                }
                for k in range(1, clauses_per_article + 1)
            ],
        }
        for a in range(1, articles + 1)
    ]


def build_round(
    open_round: Callable[..., Consultation],
    create_unit: Callable[..., Unit],
    create_user: Callable[..., User],
    *,
    articles: int,
    clauses_per_article: int,
    units: int,
    comments: int,
    visibility: Visibility = Visibility.BLIND,
) -> Consultation:
    """A round whose units have all submitted, with `comments` comments bulk-inserted
    (a tenth of them conference opinions), spread over every clause."""
    invited = [create_unit() for _ in range(units)]
    heads = [create_user(Role.UNIT_HEAD, unit=u) for u in invited]
    consultation = open_round(
        units=invited, nodes=regulation(articles, clauses_per_article), visibility=visibility
    )
    db.session.execute(
        update(UnitResponse)
        .where(UnitResponse.consultation_id == consultation.id)
        .values(status=ResponseStatus.SUBMITTED, submitted_at=now())
    )
    for response, head in zip(
        sorted(consultation.responses, key=lambda r: r.unit_id), heads, strict=True
    ):
        response.submitted_by_id = head.id
    clauses = db.session.scalars(
        select(Clause).where(Clause.version_id == consultation.version_id).order_by(Clause.seq)
    ).all()
    responses = sorted(consultation.responses, key=lambda r: r.unit_id)
    rows = []
    for i in range(comments):
        response, head, clause = responses[i % units], heads[i % units], clauses[i % len(clauses)]
        text = f"Ý kiến số {i}: đề nghị sửa tiêu chí của {clause.number}."
        conference = i % 10 == 0
        rows.append(
            {
                "consultation_id": consultation.id,
                "draft_id": consultation.draft_id,
                "response_id": response.id,
                "unit_id": response.unit_id,
                "clause_id": None if i % 50 == 0 else clause.id,
                "lineage": clause.lineage,
                "author_id": head.id,
                "text": text,
                "search_text": fold_text(text),
                "source": CommentSource.CONFERENCE if conference else CommentSource.WRITTEN,
                "meeting_date": now().date() if conference else None,
                "meeting_form": "Hội nghị trực tuyến" if conference else "",
            }
        )
    db.session.execute(insert(Comment), rows)
    db.session.commit()
    return consultation


def count_statements(fetch: Callable[[], Any]) -> tuple[Any, int]:
    statements: list[str] = []

    def listener(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        result = fetch()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return result, len(statements)


def test_pages_issue_a_constant_number_of_statements(
    app, org, open_round, create_unit, create_user, api
):  # type: ignore[no-untyped-def]
    small = build_round(
        open_round,
        create_unit,
        create_user,
        articles=2,
        clauses_per_article=4,
        units=3,
        comments=12,
    )
    large = build_round(
        open_round,
        create_unit,
        create_user,
        articles=30,
        clauses_per_article=9,
        units=10,
        comments=3000,
    )
    assert (
        db.session.scalar(
            select(db.func.count(Clause.id)).where(Clause.version_id == large.version_id)
        )
        == 300
    )

    client = app.test_client()
    assert (
        client.post(
            "/login", data={"username": org.drafter.username, "password": PASSWORD}
        ).status_code
        == 302
    )
    token_client = api(org.drafter)
    pages = {
        "tracker": lambda c: client.get(f"/comments/rounds/{c.id}/tracker"),
        "consolidated": lambda c: client.get(f"/comments/rounds/{c.id}/comments"),
        "filtered": lambda c: client.get(
            f"/comments/rounds/{c.id}/comments?q=tieu+chi&status=submitted"
        ),
        "api comments": lambda c: token_client.get(f"/api/v1/consultations/{c.id}/comments"),
        "api tracker": lambda c: token_client.get(f"/api/v1/consultations/{c.id}/tracker"),
    }
    for name, fetch in pages.items():
        small_response, small_count = count_statements(lambda f=fetch: f(small))
        large_response, large_count = count_statements(lambda f=fetch: f(large))
        assert small_response.status_code == 200 and large_response.status_code == 200, name
        assert small_count == large_count, (name, small_count, large_count)
        assert large_count <= 15, (name, large_count)

    page = client.get(f"/comments/rounds/{large.id}/comments").get_data(as_text=True)
    assert "3000 ý kiến" in page
    tracker = client.get(f"/comments/rounds/{large.id}/tracker").get_data(as_text=True)
    assert "10</span> Đã gửi ý kiến" in tracker


def test_the_units_page_is_constant_too(app, org, open_round, create_unit, create_user):  # type: ignore[no-untyped-def]
    small = build_round(
        open_round,
        create_unit,
        create_user,
        articles=2,
        clauses_per_article=4,
        units=3,
        comments=12,
        visibility=Visibility.OPEN,
    )
    large = build_round(
        open_round,
        create_unit,
        create_user,
        articles=30,
        clauses_per_article=9,
        units=10,
        comments=3000,
        visibility=Visibility.OPEN,
    )
    # One staff member in a unit invited to both rounds.
    shared = create_unit()
    staff = create_user(Role.UNIT_STAFF, unit=shared)
    for consultation in (small, large):
        db.session.add(UnitResponse(consultation_id=consultation.id, unit_id=shared.id))
        consultation.closes_at = now() + timedelta(days=3)
    db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": staff.username, "password": PASSWORD})
    counts = []
    for consultation in (small, large):
        response, count = count_statements(
            lambda c=consultation: client.get(f"/comments/rounds/{c.id}/unit")
        )
        assert response.status_code == 200
        counts.append(count)
    assert counts[0] == counts[1], counts
    # In an open round the other units' 3,000 sent comments are all on the page.
    assert "Ý kiến số 2999:" in response.get_data(as_text=True)
