"""The demo round has its conference: the secretary "thuky" recorded opinions there, which
sit among the round's comments, and the minutes download."""

from __future__ import annotations

from sqlalchemy import select

from comments.conference.models import Conference
from comments.consultation.models import Comment, CommentSource
from extensions import db
from tests.test_demo_logins import printed


def test_the_demo_conference(runner, client, auth):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    conference = db.session.scalars(select(Conference)).one()
    assert [s.user.username for s in conference.secretaries] == ["thuky"]
    assert len(conference.opinions) == 3 and conference.conclusions
    assert sum(a.attended for a in conference.attendances) >= 10
    linked = {o.comment_id for o in conference.opinions}
    conference_comments = db.session.scalars(
        select(Comment.id).where(Comment.source == CommentSource.CONFERENCE)
    ).all()
    assert linked <= set(conference_comments)

    password = printed(result.output)["thuky"][0]
    assert auth.login("thuky", password).status_code == 302
    base = f"/comments/rounds/{conference.consultation_id}/meeting"
    assert client.get(f"{base}/record").status_code == 200
    assert client.get(f"{base}/presenter").status_code == 200
    assert client.get(f"{base}/minutes.docx").status_code == 200
