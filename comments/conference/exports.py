"""A conference as the pages' script and the API read it, and its minutes as a download."""

from __future__ import annotations

from typing import Any

from accounts.clock import format_datetime, to_local
from accounts.downloads import DOCX_MIMETYPE, Download, slug
from comments.conference.minutes import build_minutes_docx
from comments.conference.models import Conference
from comments.conference.queries import OpinionLine, PresenterState, minutes_of


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def opinion_json(line: OpinionLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "comment_id": line.comment_id,
        "speaker_name": line.speaker,
        "unit_id": line.unit_id,
        "unit_name": line.unit_name,
        "unit_short_name": line.unit_short_name,
        "clause_id": line.clause_id,
        "clause_label": line.clause_label,
        "text": line.text,
        "recorded_at": _iso(line.recorded_at),
        "recorded_at_local": format_datetime(line.recorded_at),
    }


def presenter_json(state: PresenterState) -> dict[str, Any]:
    return {
        "focus": state.focus,
        "clause_id": state.clause_id,
        "clause_label": state.clause_label,
        "clause_lines": [
            {"heading": line.heading, "text": line.text, "depth": line.depth}
            for line in state.clause_lines
        ],
        "opinions": [opinion_json(o) for o in state.opinions],
        "total": state.total,
        "changed_at": _iso(state.changed_at),
    }


def conference_json(conference: Conference) -> dict[str, Any]:
    return {
        "id": conference.id,
        "consultation_id": conference.consultation_id,
        "starts_at": _iso(conference.starts_at),
        "starts_at_local": to_local(conference.starts_at).strftime("%d/%m/%Y %H:%M"),
        "mode": conference.mode.value,
        "meeting_form": conference.meeting_form,
        "place": conference.place,
        "chair_name": conference.chair_name,
        "chair_title": conference.chair_title,
        "conclusions": conference.conclusions,
        "current_clause_id": conference.current_clause_id,
        "current_general": conference.current_general,
        "lock_version": conference.lock_version,
        "is_closed": conference.is_closed,
        "secretaries": [
            {"user_id": s.user_id, "full_name": s.user.full_name} for s in conference.secretaries
        ],
        "attendance": [
            {
                "unit_id": a.unit_id,
                "unit_name": a.unit.name,
                "attended": a.attended,
                "representatives": a.representatives,
            }
            for a in conference.attendances
        ],
    }


def minutes_docx(conference: Conference) -> Download:
    title = slug(conference.consultation.draft.title)
    filename = f"bien-ban-hoi-nghi-{title}-lan-{conference.consultation.round_number}.docx"
    return Download(build_minutes_docx(minutes_of(conference)), filename, DOCX_MIMETYPE)
