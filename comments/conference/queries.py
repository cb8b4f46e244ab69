"""Read models of a conference: the opinions as pages list them, what the room's screen
shows, and the minutes' content. A fixed number of queries whatever the size."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from accounts.clock import to_local
from accounts.errors import NotFound, ensure
from accounts.letterhead import agency_name, agency_place
from accounts.models import User
from comments.conference.minutes import AttendeeLine, Minutes, MinutesOpinion
from comments.conference.models import Attendance, Conference, ConferenceSecretary, Opinion
from comments.conference.references import resolve
from comments.consultation import queries as round_queries
from comments.consultation.models import Comment, Consultation
from drafts.tree import iter_tree
from extensions import db


@dataclass(frozen=True, slots=True)
class Access:
    """Who may use a page or route of the conference; `without` answers for a round that
    has no conference yet, so that a caller who may not act gets 403, never a 404 saying
    whether there is a conference."""

    allowed: Callable[[Conference, User], bool]
    without: Callable[[Consultation, User], bool]


VIEW = Access(Conference.can_view, Consultation.can_view)
RECORD = Access(Conference.can_record, Consultation.can_manage)
MANAGE = Access(Conference.can_manage, Consultation.can_manage)
MINUTES = Access(Conference.can_download_minutes, Consultation.can_track)


def conference_of(
    consultation_id: int, user: User, access: Access
) -> tuple[Consultation, Conference]:
    """The round and its conference with what every page of it reads: 404 without the
    round, then 403 unless `access` allows `user`, then 404 without a conference."""
    consultation = round_queries.get_round(consultation_id)
    conference = db.session.scalars(
        select(Conference)
        .where(Conference.consultation_id == consultation.id)
        .options(
            selectinload(Conference.secretaries).joinedload(ConferenceSecretary.user),
            selectinload(Conference.attendances).joinedload(Attendance.unit),
        )
    ).first()
    if conference is None:
        ensure(access.without(consultation, user))
        raise NotFound(
            _("%(label)s chưa có hội nghị lấy ý kiến.", label=consultation.display_label)
        )
    ensure(access.allowed(conference, user))
    return consultation, conference


def find_conference(consultation: Consultation) -> Conference | None:
    return db.session.scalars(
        select(Conference).where(Conference.consultation_id == consultation.id)
    ).first()


@dataclass(frozen=True, slots=True)
class OpinionLine:
    id: int
    comment_id: int
    speaker: str
    unit_id: int
    unit_name: str
    unit_short_name: str
    clause_id: int | None
    clause_label: str  # GENERAL_LABEL for a general opinion
    text: str
    recorded_at: datetime


def opinion_lines(
    conference: Conference, text: round_queries.DraftText, user: User
) -> list[OpinionLine]:
    """The conference's opinions `user` may see, in the order they were voiced."""
    opinions = db.session.scalars(
        select(Opinion)
        .where(Opinion.conference_id == conference.id)
        .options(joinedload(Opinion.comment).joinedload(Comment.unit))
        .order_by(Opinion.id)
    ).all()
    return [
        OpinionLine(
            id=o.id,
            comment_id=o.comment_id,
            speaker=o.speaker_name,
            unit_id=o.comment.unit_id,
            unit_name=o.comment.unit.name,
            unit_short_name=o.comment.unit.short_name,
            clause_id=o.comment.clause_id,
            clause_label=text.label(o.comment.clause_id),
            text=o.comment.text,
            recorded_at=o.recorded_at,
        )
        for o in opinions
        if conference.can_see_opinion(user, o.comment)
    ]


def clause_labels(text: round_queries.DraftText) -> dict[int, str]:
    return {node.id: node.label for node in text.nodes if node.label}


def resolve_clause(text: round_queries.DraftText, typed: str) -> int | str | None:
    """What the secretary typed ("5.2", "Điều 5 khoản 2", a label from the list): a clause
    id, `references.GENERAL`, or None when it names no clause of the version."""
    return resolve(typed, clause_labels(text))


# --- the room's screen --------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScreenLine:
    heading: str
    text: str
    depth: int


@dataclass(frozen=True, slots=True)
class PresenterState:
    focus: str  # "clause", "general" or "all"
    clause_id: int | None
    clause_label: str
    clause_lines: list[ScreenLine]
    opinions: list[OpinionLine]
    total: int  # every opinion the viewer may see, whatever the focus
    changed_at: datetime


def presenter_state(
    conference: Conference, text: round_queries.DraftText, user: User
) -> PresenterState:
    lines = opinion_lines(conference, text, user)
    clause_id = conference.current_clause_id
    node = text.by_id.get(clause_id) if clause_id is not None else None
    if node is not None:
        subtree = {n.id for n in iter_tree([node])}
        shown = [o for o in lines if o.clause_id in subtree]
        screen = [
            ScreenLine(
                heading=n.heading,
                text=" ".join(p for p in (n.title, n.text) if p),
                depth=n.depth - node.depth,
            )
            for n in iter_tree([node])
        ]
        focus, label = "clause", node.label
    elif conference.current_general:
        shown = [o for o in lines if o.clause_id is None]
        screen, focus, label, clause_id = [], "general", round_queries.GENERAL_LABEL, None
    else:
        shown, screen, focus, label, clause_id = lines, [], "all", "", None
    latest = max([conference.updated_at, *(o.recorded_at for o in lines)])
    return PresenterState(
        focus=focus,
        clause_id=clause_id,
        clause_label=label,
        clause_lines=screen,
        opinions=shown,
        total=len(lines),
        changed_at=latest,
    )


# --- the minutes --------------------------------------------------------------------------
def minutes_of(conference: Conference) -> Minutes:
    """Everything the minutes print: every opinion (the minutes are the record)."""
    consultation = conference.consultation
    text = round_queries.load_draft_text(consultation.version)
    opinions = db.session.scalars(
        select(Opinion)
        .where(Opinion.conference_id == conference.id)
        .options(joinedload(Opinion.comment).joinedload(Comment.unit))
        .order_by(Opinion.id)
    ).all()
    attended = [a for a in conference.attendances if a.attended]
    present_ids = {a.unit_id for a in attended}
    responses = round_queries.sorted_responses(consultation)
    order = {r.unit_id: i for i, r in enumerate(responses)}
    attended.sort(key=lambda a: order.get(a.unit_id, len(order)))
    draft = consultation.draft
    return Minutes(
        agency_name=agency_name(),
        drafting_unit=draft.drafting_unit.name.upper(),
        place_name=agency_place(),
        draft_title=draft.title,
        version_label=consultation.version.label,
        starts_at=to_local(conference.starts_at),
        meeting_form=conference.meeting_form,
        venue=conference.place,
        chair_name=conference.chair_name,
        chair_title=conference.chair_title,
        secretaries=[s.user.full_name for s in conference.secretaries]
        or list(dict.fromkeys(o.recorded_by.full_name for o in opinions)),
        attendees=[AttendeeLine(a.unit.name, a.representatives) for a in attended],
        absent=[r.unit.name for r in responses if r.unit_id not in present_ids],
        opinions=[
            MinutesOpinion(
                speaker=o.speaker_name,
                unit=o.comment.unit.name,
                clause_label=text.label(o.comment.clause_id) if o.comment.clause_id else "",
                text=o.comment.text,
            )
            for o in opinions
        ],
        clause_order=[n.label for n in text.nodes],
        conclusions=conference.conclusions,
    )


def conferences_for(user: User) -> list[Conference]:
    """The conferences `user` records: assigned as secretary, or of a draft they draft."""
    candidates = db.session.scalars(
        select(Conference)
        .join(Conference.consultation)
        .options(joinedload(Conference.consultation).joinedload(Consultation.draft))
        .order_by(Conference.starts_at.desc())
        .limit(200)
    ).all()
    return [c for c in candidates if c.can_record(user)]
