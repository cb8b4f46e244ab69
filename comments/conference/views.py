"""HTML pages of a round's conference.

The drafter sets the conference up (details, secretaries); the secretary records
attendance and, during the meeting, one opinion at a time on a keyboard-first form that
comes back focused after each save with the clause kept; the room's screen shows the
clause under discussion and its opinions (polling a small JSON endpoint, or refreshing
itself without JavaScript); the minutes download as an official .docx.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from accounts.clock import local_datetime_to_utc, now, to_local
from accounts.downloads import send_download
from accounts.errors import Conflict, Invalid, UserError, ensure
from accounts.idempotency import idempotent
from accounts.models import Role, User, UserRole
from accounts.operations import get_or_404
from accounts.params import parse_int
from comments.conference import exports, operations, queries
from comments.conference.forms import (
    ConclusionsForm,
    CurrentClauseForm,
    MeetingForm,
    OpinionForm,
    SecretariesForm,
)
from comments.conference.models import Conference, MeetingMode, Opinion
from comments.conference.references import GENERAL
from comments.consultation import queries as round_queries
from comments.consultation.models import Consultation
from drafts.models import Clause
from extensions import db

bp = Blueprint("conference", __name__, url_prefix="/comments")

# Seconds between two refreshes of the room's screen (JavaScript polls; without it, the
# page reloads itself).
PRESENTER_REFRESH_SECONDS = 3


def _manager_round(consultation_id: int) -> Consultation:
    consultation = round_queries.get_round(consultation_id)
    ensure(consultation.can_manage(current_user))
    return consultation


def _recording(consultation_id: int) -> tuple[Consultation, Conference]:
    return queries.conference_of(consultation_id, current_user, queries.RECORD)


def secretary_candidates() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(User.active, UserRole.role == Role.CONFERENCE_SECRETARY)
            .order_by(User.full_name)
        )
    )


def _clause_from(text: round_queries.DraftText, typed: str) -> tuple[Clause | None, bool]:
    """(clause, general) from what was typed; a reference to no clause is a 422."""
    found = queries.resolve_clause(text, typed)
    if found is None:
        raise Invalid(
            _(
                "Không tìm thấy điều khoản “%(typed)s” trong dự thảo; hãy gõ như 5.2, "
                "Điều 5 khoản 2, hoặc chọn trong danh sách.",
                typed=typed,
            )
        )
    if found == GENERAL:
        return None, True
    return db.session.get(Clause, found), False


# --- the conferences a user records -------------------------------------------------------
@bp.route("/conferences")
@login_required
def index():  # type: ignore[no-untyped-def]
    ensure(current_user.can_take_minutes() or current_user.can_draft())
    return render_template(
        "conference/index.html", conferences=queries.conferences_for(current_user)
    )


# --- setting it up ------------------------------------------------------------------------
def _meeting_page(
    consultation: Consultation,
    conference: Conference | None,
    *,
    form: MeetingForm | None = None,
    conclusions_form: ConclusionsForm | None = None,
    message: str | None = None,
    status: int = 200,
) -> Any:
    """The page; a form passed in is the one just submitted (shown as sent), the others
    show what is stored."""
    if form is None:
        form = MeetingForm(formdata=None)
        if conference is not None:
            form.starts_at.data = to_local(conference.starts_at).replace(tzinfo=None)
            form.mode.data = conference.mode.value
            form.place.data = conference.place
            form.chair_name.data = conference.chair_name
            form.chair_title.data = conference.chair_title
            form.lock_version.data = str(conference.lock_version)
        else:
            form.starts_at.data = to_local(now()).replace(tzinfo=None, second=0, microsecond=0)
    if conclusions_form is None:
        conclusions_form = ConclusionsForm(formdata=None)
        if conference is not None:
            conclusions_form.conclusions.data = conference.conclusions
            conclusions_form.lock_version.data = str(conference.lock_version)
    secretaries = SecretariesForm(formdata=None)
    secretaries.secretaries.choices = [
        (u.id, f"{u.full_name} ({u.unit.short_name})") for u in secretary_candidates()
    ]
    if conference is not None:
        secretaries.secretaries.data = [s.user_id for s in conference.secretaries]
    return (
        render_template(
            "conference/meeting.html",
            c=consultation,
            conference=conference,
            form=form,
            secretaries_form=secretaries,
            attendance=_attendance_rows(consultation, conference),
            conclusions_form=conclusions_form,
            message=message,
        ),
        status,
    )


def _attendance_rows(consultation: Consultation, conference: Conference | None) -> list[Any]:
    rows = []
    for response in round_queries.sorted_responses(consultation):
        row = conference.attendance_for(response.unit_id) if conference else None
        rows.append((response.unit, row))
    return rows


def _details(form: MeetingForm) -> operations.MeetingDetails:
    local = form.starts_at.data
    return operations.MeetingDetails(
        starts_at=local_datetime_to_utc(local.date(), local.time()),
        mode=MeetingMode(form.mode.data),
        place=form.place.data or "",
        chair_name=form.chair_name.data or "",
        chair_title=form.chair_title.data or "",
    )


@bp.route("/rounds/<int:consultation_id>/meeting", methods=["GET", "POST"])
@login_required
def meeting(consultation_id: int):  # type: ignore[no-untyped-def]
    """The conference's page: its details (the drafter), and for whoever records it the
    attendance, the conclusions and the links to the recording page, the screen and the
    minutes."""
    consultation = round_queries.get_round(consultation_id)
    conference = queries.find_conference(consultation)
    if conference is None or not conference.can_record(current_user):
        ensure(consultation.can_manage(current_user))
    if request.method == "GET":
        return _meeting_page(consultation, conference)
    ensure(consultation.can_manage(current_user))
    form = MeetingForm()
    if not form.validate_on_submit():
        return _meeting_page(consultation, conference, form=form, status=422)
    try:
        if conference is None:
            conference = operations.create_conference(
                consultation, details=_details(form), actor=current_user
            )
        else:
            operations.update_conference(
                conference,
                details=_details(form),
                actor=current_user,
                lock_version=parse_int("lock_version", form.lock_version.data or "", minimum=1)
                if form.lock_version.data
                else None,
            )
        db.session.commit()
    except (UserError, StaleDataError) as exc:
        db.session.rollback()
        message, status = _failure(exc)
        return _meeting_page(
            consultation,
            queries.find_conference(consultation),
            form=form,
            message=message,
            status=status,
        )
    flash(_("Đã lưu thông tin hội nghị."), "success")
    return redirect(url_for("conference.meeting", consultation_id=consultation.id))


def _failure(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, UserError):
        return exc.message, exc.status
    conflict = Conflict(
        "Thông tin hội nghị vừa được người khác sửa; nội dung bạn nhập vẫn được giữ nguyên, "
        "hãy lưu lại."
    )
    return conflict.message, conflict.status


@bp.route("/rounds/<int:consultation_id>/meeting/secretaries", methods=["POST"])
@login_required
def secretaries(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation, conference = queries.conference_of(consultation_id, current_user, queries.MANAGE)
    candidates = {u.id: u for u in secretary_candidates()}
    chosen = []
    for raw in request.form.getlist("secretaries"):
        user_id = parse_int("secretaries", raw, minimum=1)
        if user_id not in candidates:
            raise Invalid(_("Người được chọn không có vai trò thư ký hội nghị."))
        chosen.append(candidates[user_id])
    operations.set_secretaries(conference, chosen, actor=current_user)
    db.session.commit()
    flash(_("Đã phân công thư ký hội nghị."), "success")
    return redirect(url_for("conference.meeting", consultation_id=consultation.id))


@bp.route("/rounds/<int:consultation_id>/meeting/attendance", methods=["POST"])
@login_required
def attendance(consultation_id: int):  # type: ignore[no-untyped-def]
    """Each invited unit's row: "1" attended, "0" absent, "" not recorded."""
    consultation, conference = _recording(consultation_id)
    entries = []
    for response in round_queries.sorted_responses(consultation):
        status = request.form.get(f"status-{response.unit_id}", "")
        if status not in ("0", "1"):
            continue
        entries.append(
            operations.AttendanceEntry(
                unit=response.unit,
                attended=status == "1",
                representatives=request.form.get(f"representatives-{response.unit_id}", ""),
            )
        )
    operations.set_attendance(conference, entries, actor=current_user)
    db.session.commit()
    flash(_("Đã lưu danh sách đơn vị dự họp."), "success")
    return redirect(url_for("conference.meeting", consultation_id=consultation.id))


@bp.route("/rounds/<int:consultation_id>/meeting/conclusions", methods=["POST"])
@login_required
def conclusions(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation, conference = _recording(consultation_id)
    form = ConclusionsForm()
    if not form.validate_on_submit():
        return _meeting_page(
            consultation,
            conference,
            conclusions_form=form,
            message=_("Kết luận quá dài."),
            status=422,
        )
    try:
        operations.set_conclusions(
            conference,
            text=form.conclusions.data or "",
            actor=current_user,
            lock_version=parse_int("lock_version", form.lock_version.data, minimum=1)
            if form.lock_version.data
            else None,
        )
        db.session.commit()
    except (UserError, StaleDataError) as exc:
        db.session.rollback()
        message, status = _failure(exc)
        return _meeting_page(
            consultation, conference, conclusions_form=form, message=message, status=status
        )
    flash(_("Đã lưu kết luận hội nghị."), "success")
    return redirect(url_for("conference.meeting", consultation_id=consultation.id))


# --- during the meeting -------------------------------------------------------------------
def _record_page(
    consultation: Consultation,
    conference: Conference,
    form: OpinionForm,
    *,
    message: str | None = None,
    status: int = 200,
) -> Any:
    text = round_queries.load_draft_text(consultation.version)
    current = CurrentClauseForm()
    if conference.current_clause_id is not None:
        current.on_screen.data = text.label(conference.current_clause_id)
    elif conference.current_general:
        current.on_screen.data = _("chung")
    opinions = queries.opinion_lines(conference, text, current_user)
    return (
        render_template(
            "conference/record.html",
            c=consultation,
            conference=conference,
            form=form,
            current_form=current,
            labels=[n.label for n in text.nodes if n.label],
            opinions=list(reversed(opinions)),
            message=message,
        ),
        status,
    )


def _opinion_form(consultation: Consultation) -> OpinionForm:
    form = OpinionForm()
    form.unit.choices = [(0, _("— Chọn đơn vị —"))] + [
        (r.unit_id, f"{r.unit.short_name} – {r.unit.name}")
        for r in round_queries.sorted_responses(consultation)
    ]
    return form


@bp.route("/rounds/<int:consultation_id>/meeting/record", methods=["GET", "POST"])
@login_required
@idempotent
def record(consultation_id: int):  # type: ignore[no-untyped-def]
    """One opinion per save; after it the page comes back with the clause kept and the
    cursor in the first box (post/redirect/get)."""
    consultation, conference = _recording(consultation_id)
    form = _opinion_form(consultation)
    if request.method == "GET":
        form.clause.data = request.args.get("clause", "")
        form.unit.data = parse_int("unit", request.args.get("unit") or "0", minimum=0)
        return _record_page(consultation, conference, form)
    if not form.validate_on_submit():
        return _record_page(consultation, conference, form, status=422)
    text = round_queries.load_draft_text(consultation.version)
    units = {r.unit_id: r.unit for r in consultation.responses}
    try:
        unit = units.get(form.unit.data or 0)
        if unit is None:
            raise Invalid(_("Hãy chọn đơn vị của người phát biểu."))
        clause, _general = _clause_from(text, form.clause.data or "")
        operations.record_opinion(
            conference,
            unit=unit,
            clause=clause,
            speaker_name=form.speaker.data or "",
            text=form.text.data or "",
            actor=current_user,
        )
        db.session.commit()
    except UserError as exc:
        db.session.rollback()
        return _record_page(consultation, conference, form, message=exc.message, status=exc.status)
    flash(_("Đã ghi ý kiến của %(speaker)s.", speaker=form.speaker.data), "success")
    return redirect(
        url_for(
            "conference.record",
            consultation_id=consultation.id,
            clause=form.clause.data or None,
        )
    )


@bp.route(
    "/rounds/<int:consultation_id>/meeting/opinions/<int:opinion_id>/delete", methods=["POST"]
)
@login_required
def delete_opinion(consultation_id: int, opinion_id: int):  # type: ignore[no-untyped-def]
    consultation, conference = _recording(consultation_id)
    opinion = get_or_404(Opinion, opinion_id, _("Không tìm thấy ý kiến này trong hội nghị."))
    speaker = opinion.speaker_name
    operations.delete_opinion(conference, opinion, actor=current_user)
    db.session.commit()
    flash(_("Đã xóa ý kiến của %(speaker)s.", speaker=speaker), "success")
    return redirect(
        url_for(
            "conference.record",
            consultation_id=consultation.id,
            clause=request.form.get("clause") or None,
        )
    )


@bp.route("/rounds/<int:consultation_id>/meeting/current", methods=["POST"])
@login_required
def current_clause(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation, conference = _recording(consultation_id)
    form = CurrentClauseForm()
    typed = (form.on_screen.data or "").strip()
    text = round_queries.load_draft_text(consultation.version)
    if typed:
        clause, general = _clause_from(text, typed)
    else:
        clause, general = None, False
    operations.set_current_clause(conference, clause=clause, general=general, actor=current_user)
    db.session.commit()
    label = text.label(clause.id) if clause else (_("Ý kiến chung") if general else _("mọi ý kiến"))
    flash(_("Màn hình hội nghị đang trình chiếu: %(label)s.", label=label), "success")
    return redirect(
        url_for("conference.record", consultation_id=consultation.id, clause=typed or None)
    )


# --- the room's screen --------------------------------------------------------------------
def _viewing(consultation_id: int) -> tuple[Consultation, Conference]:
    return queries.conference_of(consultation_id, current_user, queries.VIEW)


@bp.route("/rounds/<int:consultation_id>/meeting/presenter")
@login_required
def presenter(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation, conference = _viewing(consultation_id)
    text = round_queries.load_draft_text(consultation.version)
    state = queries.presenter_state(conference, text, current_user)
    return render_template(
        "conference/presenter.html",
        c=consultation,
        conference=conference,
        state=state,
        refresh=PRESENTER_REFRESH_SECONDS,
    )


@bp.route("/rounds/<int:consultation_id>/meeting/presenter.json")
@login_required
def presenter_json(consultation_id: int):  # type: ignore[no-untyped-def]
    """What the screen's script polls (the session's twin of the API's presenter state)."""
    consultation, conference = _viewing(consultation_id)
    text = round_queries.load_draft_text(consultation.version)
    state = queries.presenter_state(conference, text, current_user)
    response = jsonify(exports.presenter_json(state))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/rounds/<int:consultation_id>/meeting/minutes.docx")
@login_required
def minutes(consultation_id: int):  # type: ignore[no-untyped-def]
    _consultation, conference = queries.conference_of(
        consultation_id, current_user, queries.MINUTES
    )
    return send_download(exports.minutes_docx(conference))
