"""The demo round on the demo regulation draft: realistic, and safe to load twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from accounts.clock import local_today, to_local
from accounts.models import Role, UnitKind
from comments.consultation import demo
from comments.consultation.models import (
    Comment,
    CommentSource,
    Consultation,
    ResponseStatus,
    TrackerStatus,
)
from comments.consultation.queries import tracker
from extensions import db


def _organisation(create_unit, create_user):  # type: ignore[no-untyped-def]
    units = {"VP": create_unit("Văn phòng", "VP", UnitKind.OFFICE)}
    units["P1"] = create_unit("Phòng 1", "P1", UnitKind.DEPARTMENT)
    units["TT"] = create_unit("Thanh tra", "TT", UnitKind.INSPECTION)
    for n in range(1, 11):
        units[f"KV{n}"] = create_unit(f"Viện kiểm sát nhân dân khu vực {n}", f"KV{n}")
    for n in (1, 2, 3):
        create_user(Role.UNIT_HEAD, unit=units[f"KV{n}"], username=f"kv{n}.truong")
        create_user(Role.UNIT_STAFF, unit=units[f"KV{n}"], username=f"kv{n}.canbo")
    drafter = create_user(Role.DRAFTER, unit=units["VP"], username="soanthao")
    return units, drafter


def test_demo_does_nothing_without_the_demo_draft(create_unit, create_user):
    units, _drafter = _organisation(create_unit, create_user)
    demo.load_demo(units, 2026)
    assert db.session.scalar(select(func.count(Consultation.id))) == 0


def test_demo_round_is_realistic_and_idempotent(create_unit, create_user, create_draft):
    units, drafter = _organisation(create_unit, create_user)
    create_draft(drafter=drafter, title=demo.DEMO_TITLE)
    demo.load_demo(units, 2026)
    db.session.commit()
    demo.load_demo(units, 2026)
    db.session.commit()

    consultation = db.session.scalars(select(Consultation)).one()
    assert consultation.letter_number == "125/VKS-VP"
    assert {r.unit.short_name for r in consultation.responses} == {
        *(f"KV{n}" for n in range(1, 11)),
        "P1",
        "TT",
    }
    assert to_local(consultation.closes_at).date() == local_today() + timedelta(days=5)
    states = {row.unit_short_name: row.status for row in tracker(consultation).rows}
    assert states["KV1"] == TrackerStatus.SUBMITTED
    assert states["KV2"] == TrackerStatus.DRAFTING
    assert states["KV3"] == TrackerStatus.AGREED
    assert states["KV4"] == TrackerStatus.NOT_STARTED
    comments = db.session.scalars(select(Comment)).all()
    written = [c for c in comments if c.source == CommentSource.WRITTEN]
    conference = [c for c in comments if c.source == CommentSource.CONFERENCE]
    assert len(written) == 5 and len(conference) == 3
    assert {c.meeting_form for c in conference} == {"Hội nghị trực tuyến"}
    point = next(c for c in written if "chế độ thông tin, báo cáo" in c.text)
    assert point.clause is not None and point.clause.number == "đ"
    assert consultation.response_for(units["KV2"].id).status == ResponseStatus.DRAFTING
