"""HTML pages of a consultation round.

Drafters open a round, follow the units in the tracker, read the comments clause by
clause, record conference opinions, extend a unit's deadline and close the round.
Invited units comment clause by clause and their head submits the unit's position.
Each view loads, checks a `can_*` predicate, validates and calls one operation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from accounts.clock import (
    days_left,
    local_datetime_to_utc,
    local_today,
    now,
    to_local,
)
from accounts.confirm import confirmation_page, is_confirmed
from accounts.errors import Conflict, NotFound, UserError, ensure, link_back_by
from accounts.i18n import N_, label_choices
from accounts.idempotency import idempotent
from accounts.models import Group, Unit, active_units
from accounts.operations import get_or_404
from accounts.params import int_arg, parse_int
from comments.consultation import imports, operations, queries
from comments.consultation.forms import (
    AttachmentForm,
    CommentFilterForm,
    CommentForm,
    ConferenceForm,
    ExtendDeadlineForm,
    ImportConfirmForm,
    ImportFileForm,
    LockForm,
    OpenConsultationForm,
    SubmitPositionForm,
)
from comments.consultation.models import (
    TRACKER_LABELS,
    VISIBILITY_LABELS,
    Comment,
    CommentSource,
    Consultation,
    ConsultationAttachment,
    TrackerStatus,
    UnitResponse,
    Visibility,
    can_open_consultation,
)
from drafts.models import Clause, Draft, Version
from extensions import db
from workflow.engine import TransitionError

bp = Blueprint("comments", __name__, url_prefix="/comments")
# An error on a round's page offers the way back to the round.
link_back_by("consultation_id", "comments.round_home", N_("Quay lại đợt lấy ý kiến"))

SOURCE_LABELS = {
    CommentSource.WRITTEN: N_("Văn bản góp ý"),
    CommentSource.CONFERENCE: N_("Tại hội nghị"),
    CommentSource.LETTER: N_("Công văn của đơn vị (cơ quan soạn thảo nhập)"),
}


# --- template helpers --------------------------------------------------------------------
@bp.app_template_filter("deadline_phrase")
def deadline_phrase(deadline: datetime, moment: datetime | None = None) -> str:
    """ "còn N ngày" / "hạn cuối hôm nay" / "quá hạn N ngày", by local calendar day."""
    moment = moment or now()
    days = days_left(deadline, moment)
    if moment > deadline:
        overdue = max(-days, 0)
        return _("quá hạn %(n)d ngày", n=overdue) if overdue else _("đã quá hạn (hôm nay)")
    if days >= 1:
        return _("còn %(n)d ngày", n=days)
    return _("hạn cuối là hôm nay")


@bp.app_template_filter("tracker_label")
def tracker_label(status: str) -> str:
    return TRACKER_LABELS[TrackerStatus(status)]


@dataclass
class PanelRound:
    consultation: Consultation
    response: UnitResponse | None
    status_label: str


@dataclass
class DraftPanel:
    rounds: list[PanelRound]
    open_version: Version | None


# Citations stay as the legal text writes them ("khoản 2 Điều 5"); the one label of ours
# among them, for comments on no clause, is translated where pages show it:
# `t_general if citation == general_label else citation`.
bp.add_app_template_global(queries.GENERAL_LABEL, "general_label")


@bp.app_template_global("consultation_panel")
def consultation_panel(draft: Draft, version: Version | None = None) -> DraftPanel:
    """What the draft page shows about consultation: every round so far and, for a
    drafter, whether `version` can go out for comments now."""
    moment = now()
    rounds = []
    for consultation in queries.rounds_of_draft(draft):
        if not consultation.can_view(current_user):
            continue
        response = consultation.response_for(current_user.unit_id)
        status = TRACKER_LABELS[response.tracker_status(moment)] if response is not None else ""
        rounds.append(PanelRound(consultation, response, status))
    open_version = None
    if (
        version is not None
        and version.is_published
        and can_open_consultation(draft, current_user)
        and version.id not in {r.consultation.version_id for r in rounds}
    ):
        open_version = version
    return DraftPanel(rounds=rounds, open_version=open_version)


def _round_context(consultation: Consultation, **extra: Any) -> dict[str, Any]:
    if "my_response" not in extra:  # the tracker knows it without loading every response
        extra["my_response"] = consultation.response_for(current_user.unit_id)
    return {
        "c": consultation,
        "visibility_label": VISIBILITY_LABELS[consultation.visibility],
        "source_labels": SOURCE_LABELS,
        **extra,
    }


def _to_utc(value: datetime) -> datetime:
    """A naive datetime typed in the form is local (Asia/Ho_Chi_Minh) time."""
    return local_datetime_to_utc(value.date(), value.time())


def _local_input(moment: datetime) -> datetime:
    return to_local(moment).replace(tzinfo=None, second=0, microsecond=0)


def _my_response(consultation: Consultation) -> UnitResponse:
    response = consultation.response_for(current_user.unit_id)
    ensure(response is not None, _("Đơn vị của bạn không được mời góp ý trong đợt này."))
    assert response is not None
    return response


# --- list and open -------------------------------------------------------------------------
@bp.route("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    rounds = queries.rounds_for_user(current_user)
    return render_template("comments/index.html", rounds=rounds, moment=now())


def _open_form(draft: Draft) -> OpenConsultationForm:
    form = OpenConsultationForm()
    consulted = queries.consulted_version_ids(draft)
    versions = [v for v in draft.versions if v.is_published and v.id not in consulted]
    form.version.choices = [(v.id, v.display_label) for v in reversed(versions)]
    units = active_units()
    form.units.choices = [(u.id, u.name) for u in units]
    year = operations.current_year()
    groups = list(year.groups) if year is not None else []
    form.groups.choices = [
        (g.id, f"{g.name} ({', '.join(u.short_name for u in g.units)})") for g in groups
    ]
    if request.method == "GET":
        start = now()
        form.opens_at.data = _local_input(start)
        last_day = to_local(start).date() + timedelta(days=7)
        form.closes_at.data = datetime.combine(last_day, datetime.min.time()).replace(
            hour=23, minute=59
        )
    return form


@bp.route("/drafts/<int:draft_id>/open", methods=["GET", "POST"])
@login_required
def open_round(draft_id: int):  # type: ignore[no-untyped-def]
    draft = get_or_404(Draft, draft_id, _("Không tìm thấy dự thảo."))
    ensure(current_user.can_draft() and draft.is_drafter(current_user))
    form = _open_form(draft)
    error, status = None, 200
    if form.validate_on_submit():
        try:
            consultation = _open_from_form(draft, form)
        except (UserError, TransitionError) as exc:
            db.session.rollback()
            error = exc.message
            status = getattr(exc, "status", 409)
        else:
            db.session.commit()
            flash(
                _("Đã gửi đề nghị góp ý tới %(n)d đơn vị.", n=len(consultation.responses)),
                "success",
            )
            return redirect(url_for("comments.tracker", consultation_id=consultation.id))
    elif form.is_submitted():
        status = 422
    return (
        render_template(
            "comments/open.html",
            draft=draft,
            form=form,
            error=error,
            can_open=can_open_consultation(draft, current_user),
        ),
        status,
    )


def _open_from_form(draft: Draft, form: OpenConsultationForm) -> Consultation:
    version = get_or_404(Version, form.version.data, _("Không tìm thấy phiên bản."))
    picked_units = db.session.scalars(select(Unit).where(Unit.id.in_(form.units.data or []))).all()
    picked_groups = db.session.scalars(
        select(Group).where(Group.id.in_(form.groups.data or []))
    ).all()
    units = operations.invitees(picked_units, picked_groups, year=operations.current_year())
    uploads = [
        operations.AttachmentUpload(f.filename or "", f.read())
        for f in (form.attachments.data or [])
        if getattr(f, "filename", "")
    ]
    return operations.open_consultation(
        draft,
        version,
        units=units,
        opens_at=_to_utc(form.opens_at.data),
        closes_at=_to_utc(form.closes_at.data),
        visibility=Visibility(form.visibility.data),
        letter_number=form.letter_number.data or "",
        letter_text=form.letter_text.data or "",
        attachments=uploads,
        actor=current_user,
    )


# --- a round -------------------------------------------------------------------------------
@bp.route("/rounds/<int:consultation_id>")
@login_required
def round_home(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    ensure(consultation.can_view(current_user))
    if consultation.can_track(current_user):
        return redirect(url_for("comments.tracker", consultation_id=consultation.id))
    return redirect(url_for("comments.unit_view", consultation_id=consultation.id))


@bp.route("/rounds/<int:consultation_id>/tracker")
@login_required
def tracker(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id, responses=False)
    ensure(consultation.can_track(current_user))
    board = queries.tracker(consultation)
    mine = any(row.unit_id == current_user.unit_id for row in board.rows)
    return render_template(
        "comments/tracker.html",
        **_round_context(consultation, board=board, labels=TRACKER_LABELS, my_response=mine),
        attachment_form=AttachmentForm() if consultation.can_manage(current_user) else None,
    )


def _member(enum_cls: Any, value: str | None) -> Any:
    try:
        return enum_cls(value)
    except ValueError:
        return None


def _filters_from(form: CommentFilterForm) -> queries.CommentFilters:
    clause_value = form.clause.data or ""
    return queries.CommentFilters(
        unit_id=form.unit.data or None,
        clause_id=parse_int("clause", clause_value) if clause_value.isdigit() else None,
        general=clause_value == "general",
        status=_member(TrackerStatus, form.status.data),
        source=_member(CommentSource, form.source.data),
        q=(form.q.data or "").strip(),
    )


def _filter_form(consultation: Consultation, text: queries.DraftText) -> CommentFilterForm:
    int_arg("unit", minimum=0)  # bounded before the form reads it
    form = CommentFilterForm(request.args)
    form.unit.choices = [(0, _("Tất cả đơn vị"))] + [
        (r.unit_id, r.unit.name) for r in queries.sorted_responses(consultation)
    ]
    form.clause.choices = [("", _("Tất cả điều khoản")), ("general", _("Ý kiến chung"))] + [
        (str(n.id), _clause_option(n)) for n in text.nodes
    ]
    form.status.choices = [("", _("Mọi trạng thái")), *label_choices(TRACKER_LABELS)]
    form.source.choices = [("", _("Mọi nguồn")), *label_choices(SOURCE_LABELS)]
    form.validate()
    return form


def _clause_option(node: Any) -> str:
    title = node.title or node.text
    short = title if len(title) <= 60 else title[:57] + "…"
    label = node.label[:1].upper() + node.label[1:] if node.label else node.heading
    return f"{label}: {short}" if short else label


@bp.route("/rounds/<int:consultation_id>/comments")
@login_required
def consolidated(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    ensure(consultation.can_track(current_user))
    text = queries.load_draft_text(consultation.version)
    form = _filter_form(consultation, text)
    filters = _filters_from(form)
    comments = queries.list_comment_lines(consultation, current_user, filters, text)
    grouped = queries.group_by_clause(comments)
    nodes = text.nodes
    if filters.clause_id is not None:
        keep = text.subtree_ids(filters.clause_id)
        nodes = [n for n in nodes if n.id in keep]
    only_commented = form.only_commented.data == "1"
    if only_commented or filters.general:
        nodes = [n for n in nodes if n.id in grouped]
    show_general = filters.clause_id is None and (None in grouped or not only_commented)
    return render_template(
        "comments/consolidated.html",
        **_round_context(consultation),
        text=text,
        nodes=nodes,
        grouped=grouped,
        comments=comments,
        filters=filters,
        form=form,
        show_general=show_general,
    )


@bp.route("/rounds/<int:consultation_id>/unit")
@login_required
def unit_view(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    response = _my_response(consultation)
    text = queries.load_draft_text(consultation.version)
    comments = queries.list_comments(consultation, current_user, None, text)
    own = [c for c in comments if c.unit_id == response.unit_id and not c.is_conference]
    return render_template(
        "comments/unit.html",
        **_round_context(consultation),
        response=response,
        text=text,
        grouped=queries.group_by_clause(comments),
        own_count=len(own),
        status_label=TRACKER_LABELS[response.tracker_status()],
        lock_form=LockForm(),
    )


# --- comments ------------------------------------------------------------------------------
def _refusal(check: Any, *args: Any) -> str | None:
    try:
        check(*args)
    except UserError as exc:
        return exc.message
    return None


@bp.route("/rounds/<int:consultation_id>/comment", methods=["GET", "POST"])
@login_required
@idempotent
def new_comment(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    response = _my_response(consultation)
    ensure(current_user.can_work_for_unit(response.unit_id))
    clause = None
    clause_id = int_arg("clause")
    if clause_id is not None:
        clause = get_or_404(Clause, clause_id, _("Không tìm thấy điều khoản."))
        if request.method == "GET":
            operations.check_clause(consultation, clause)
    form = CommentForm()
    message, status = None, 200
    if form.validate_on_submit():
        try:
            comment = operations.add_comment(
                response,
                clause=clause,
                text=form.text.data or "",
                proposed_text=form.proposed_text.data,
                actor=current_user,
            )
        except UserError as exc:
            db.session.rollback()
            message, status = exc.message, exc.status
        else:
            db.session.commit()
            flash(
                _("Đã lưu góp ý. Góp ý chỉ được gửi đi khi Thủ trưởng đơn vị gửi ý kiến."),
                "success",
            )
            return redirect(_unit_anchor(consultation, comment.clause_id))
    elif form.is_submitted():
        status = 422
    else:
        message = _refusal(operations.ensure_can_comment, response, current_user)
    text = queries.load_draft_text(consultation.version)
    existing = [
        c
        for c in queries.list_comments(consultation, current_user, None, text)
        if c.clause_id == (clause.id if clause else None) and c.unit_id == response.unit_id
    ]
    return (
        render_template(
            "comments/comment_form.html",
            **_round_context(consultation),
            form=form,
            clause=clause,
            node=text.by_id.get(clause.id) if clause else None,
            existing=existing,
            message=message,
            comment=None,
        ),
        status,
    )


def _unit_anchor(consultation: Consultation, clause_id: int | None) -> str:
    anchor = f"clause-{clause_id}" if clause_id else "general"
    return url_for("comments.unit_view", consultation_id=consultation.id, _anchor=anchor)


def _back_url(comment: Comment, consultation: Consultation) -> str:
    if comment.is_conference and consultation.can_manage(current_user):
        return url_for("comments.conference", consultation_id=consultation.id)
    return _unit_anchor(consultation, comment.clause_id)


@bp.route("/<int:comment_id>/edit", methods=["GET", "POST"])
@login_required
def edit_comment(comment_id: int):  # type: ignore[no-untyped-def]
    comment = get_or_404(Comment, comment_id, _("Không tìm thấy ý kiến này (có thể đã bị xóa)."))
    consultation = queries.get_round(comment.consultation_id)
    ensure(comment.can_view(current_user))
    form = CommentForm()
    message, status, current_text, stale = None, 200, None, False
    if request.method == "GET":
        form.text.data = comment.text
        form.proposed_text.data = comment.proposed_text or ""
        form.lock_version.data = str(comment.lock_version)
        message = _refusal(operations.ensure_can_edit, comment, current_user)
    elif form.validate_on_submit():
        try:
            operations.edit_comment(
                comment,
                text=form.text.data or "",
                proposed_text=form.proposed_text.data,
                lock_version=_int_or_none(form.lock_version.data),
                actor=current_user,
            )
            db.session.commit()
        except StaleDataError:
            # Someone saved between our check and our write.
            db.session.rollback()
            comment = get_or_404(Comment, comment_id, _("Ý kiến này vừa bị xóa."))
            message = _(
                "Ý kiến này vừa được người khác sửa. Nội dung bạn nhập vẫn được giữ "
                "nguyên; hãy đối chiếu rồi lưu lại."
            )
            status, stale = 409, True
        except UserError as exc:
            db.session.rollback()
            message, status = exc.message, exc.status
            stale = isinstance(exc.details, dict) and "current_lock_version" in exc.details
        else:
            flash(_("Đã lưu thay đổi."), "success")
            return redirect(_back_url(comment, consultation))
        if stale:
            # Show what is saved now, and let a second save replace it knowingly.
            current_text = comment.text
            form.lock_version.data = str(comment.lock_version)
    else:
        status = 422
    text = queries.load_draft_text(consultation.version)
    return (
        render_template(
            "comments/comment_form.html",
            **_round_context(consultation),
            form=form,
            clause=comment.clause,
            node=text.by_id.get(comment.clause_id) if comment.clause_id else None,
            existing=[],
            message=message,
            comment=comment,
            current_text=current_text,
        ),
        status,
    )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@bp.route("/<int:comment_id>/delete", methods=["POST"])
@login_required
def delete_comment(comment_id: int):  # type: ignore[no-untyped-def]
    comment = get_or_404(Comment, comment_id, _("Không tìm thấy ý kiến này (có thể đã bị xóa)."))
    consultation = queries.get_round(comment.consultation_id)
    ensure(comment.can_view(current_user))
    form = LockForm()
    back = _back_url(comment, consultation)
    operations.delete_comment(
        comment, lock_version=_int_or_none(form.lock_version.data), actor=current_user
    )
    db.session.commit()
    flash(_("Đã xóa ý kiến."), "success")
    return redirect(back)


# --- the unit's position -----------------------------------------------------------------
@bp.route("/rounds/<int:consultation_id>/submit", methods=["GET", "POST"])
@login_required
def submit(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    response = _my_response(consultation)
    ensure(current_user.can_sign_for_unit(response.unit_id))
    form = SubmitPositionForm()
    agrees = (form.agrees.data if request.method == "POST" else request.args.get("agrees")) == "1"
    message, status = None, 200
    if request.method == "POST":
        try:
            submission = operations.submit_position(
                response,
                agrees=agrees,
                actor=current_user,
                fingerprint=form.fingerprint.data or None,
            )
        except UserError as exc:
            db.session.rollback()
            message, status = exc.message, exc.status
        else:
            db.session.commit()
            if submission.late:
                flash(
                    _("Đã gửi ý kiến của đơn vị (sau hạn góp ý: được ghi nhận là gửi muộn)."),
                    "warning",
                )
            else:
                flash(_("Đã gửi ý kiến của đơn vị."), "success")
            return redirect(url_for("comments.unit_view", consultation_id=consultation.id))
    comments = queries.unit_written_comments(response)
    if message is None:
        message = _refusal(operations.ensure_can_submit, response, current_user)
    problem = operations.position_problem(agrees=agrees, comments=comments)
    text = queries.load_draft_text(consultation.version)
    comments.sort(key=lambda c: (text.position(c.clause_id), c.id))
    form.agrees.data = "1" if agrees else "0"
    form.fingerprint.data = operations.position_fingerprint(comments)
    return (
        render_template(
            "comments/submit.html",
            **_round_context(consultation),
            response=response,
            comments=comments,
            text=text,
            agrees=agrees,
            form=form,
            message=message,
            problem=problem,
            late=now() > response.deadline,
        ),
        status,
    )


@bp.route("/rounds/<int:consultation_id>/reopen", methods=["POST"])
@login_required
def reopen(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    response = _my_response(consultation)
    ensure(current_user.can_sign_for_unit(response.unit_id))
    operations.reopen_position(response, actor=current_user)
    db.session.commit()
    flash(_("Đã mở lại ý kiến của đơn vị; hãy gửi lại trước hạn góp ý."), "success")
    return redirect(url_for("comments.unit_view", consultation_id=consultation.id))


def _response_of(consultation: Consultation, response_id: int) -> UnitResponse:
    for response in consultation.responses:
        if response.id == response_id:
            return response
    raise NotFound(_("Không tìm thấy đơn vị trong đợt lấy ý kiến này."))


@bp.route("/rounds/<int:consultation_id>/responses/<int:response_id>")
@login_required
def position_history(consultation_id: int, response_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    response = _response_of(consultation, response_id)
    ensure(consultation.can_track(current_user) or current_user.can_work_for_unit(response.unit_id))
    return render_template(
        "comments/position.html",
        **_round_context(consultation),
        response=response,
        status_label=TRACKER_LABELS[response.tracker_status()],
    )


@bp.route(
    "/rounds/<int:consultation_id>/responses/<int:response_id>/extend", methods=["GET", "POST"]
)
@login_required
def extend(consultation_id: int, response_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    response = _response_of(consultation, response_id)
    ensure(consultation.can_manage(current_user))
    form = ExtendDeadlineForm()
    message, status = None, 200
    if request.method == "GET":
        form.deadline.data = _local_input(response.deadline + timedelta(days=3))
    elif form.validate_on_submit():
        try:
            operations.extend_deadline(
                response, deadline=_to_utc(form.deadline.data), actor=current_user
            )
        except UserError as exc:
            db.session.rollback()
            message, status = exc.message, exc.status
        else:
            db.session.commit()
            flash(_("Đã gia hạn góp ý cho %(unit)s.", unit=response.unit.name), "success")
            return redirect(url_for("comments.tracker", consultation_id=consultation.id))
    else:
        status = 422
    return (
        render_template(
            "comments/extend.html",
            **_round_context(consultation),
            response=response,
            form=form,
            message=message,
        ),
        status,
    )


# --- the drafter's actions ---------------------------------------------------------------
def _conference_form(consultation: Consultation, text: queries.DraftText) -> ConferenceForm:
    form = ConferenceForm()
    unit_choices = [(0, _("— Chọn đơn vị —"))] + [
        (r.unit_id, r.unit.name) for r in queries.sorted_responses(consultation)
    ]
    clause_choices = [("general", _("Ý kiến chung"))] + [
        (str(n.id), _clause_option(n)) for n in text.nodes
    ]
    for row in form.rows:
        row.form.unit.choices = unit_choices
        row.form.clause.choices = clause_choices
    if request.method == "GET":
        form.meeting_date.data = _date_arg("meeting_date") or local_today()
        form.meeting_form.data = request.args.get("meeting_form") or form.meeting_form.data
    return form


def _date_arg(name: str) -> Any:
    from accounts.clock import parse_date

    try:
        return parse_date(request.args.get(name, ""))
    except ValueError:
        return None


def _opinions_from(
    consultation: Consultation, form: ConferenceForm, text: queries.DraftText
) -> list[operations.ConferenceOpinion]:
    units = {r.unit_id: r.unit for r in consultation.responses}
    opinions = []
    for index, row in enumerate(form.rows, start=1):
        body = (row.form.text.data or "").strip()
        if not body:
            continue
        unit = units.get(row.form.unit.data or 0)
        if unit is None:
            raise _RowError(_("Dòng %(n)d: hãy chọn đơn vị phát biểu ý kiến.", n=index))
        clause_value = row.form.clause.data or "general"
        clause = None
        if clause_value != "general":
            node = text.by_id.get(int(clause_value)) if clause_value.isdigit() else None
            if node is None:
                raise _RowError(_("Dòng %(n)d: điều khoản không hợp lệ.", n=index))
            # The text's nodes are read-only rows; the operation needs the clause itself.
            clause = db.session.get(Clause, node.id)
        opinions.append(operations.ConferenceOpinion(unit=unit, clause=clause, text=body))
    return opinions


class _RowError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@bp.route("/rounds/<int:consultation_id>/conference", methods=["GET", "POST"])
@login_required
@idempotent
def conference(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    ensure(consultation.can_manage(current_user))
    text = queries.load_draft_text(consultation.version)
    form = _conference_form(consultation, text)
    message, status = None, 200
    if form.validate_on_submit():
        try:
            opinions = _opinions_from(consultation, form, text)
            created = operations.record_conference_opinions(
                consultation,
                meeting_date=form.meeting_date.data,
                meeting_form=form.meeting_form.data or "",
                opinions=opinions,
                actor=current_user,
            )
        except _RowError as exc:
            message, status = exc.message, 422
        except UserError as exc:
            db.session.rollback()
            message, status = exc.message, exc.status
        else:
            db.session.commit()
            flash(_("Đã ghi nhận %(n)d ý kiến tại hội nghị.", n=len(created)), "success")
            return redirect(
                url_for(
                    "comments.conference",
                    consultation_id=consultation.id,
                    meeting_date=form.meeting_date.data.isoformat(),
                    meeting_form=form.meeting_form.data,
                )
            )
    elif form.is_submitted():
        status = 422
    recorded = queries.list_comments(
        consultation,
        current_user,
        queries.CommentFilters(source=CommentSource.CONFERENCE),
        text,
    )
    return (
        render_template(
            "comments/conference.html",
            **_round_context(consultation),
            form=form,
            message=message,
            recorded=recorded,
            text=text,
            lock_form=LockForm(),
        ),
        status,
    )


@bp.route("/rounds/<int:consultation_id>/close", methods=["GET", "POST"])
@login_required
def close(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    ensure(consultation.can_manage(current_user))
    if request.method == "POST" and not is_confirmed():
        return redirect(url_for("comments.close", consultation_id=consultation.id), 303)
    if request.method == "GET":
        if consultation.closed_at is not None:
            raise Conflict(_("Đợt lấy ý kiến đã kết thúc."))
        tracker_url = url_for("comments.tracker", consultation_id=consultation.id)
        return confirmation_page(
            heading=_("Kết thúc %(label)s?", label=consultation.display_label.lower()),
            lead=_(
                "Bạn sắp kết thúc lấy ý kiến về dự thảo “%(title)s”.",
                title=consultation.draft.title,
            ),
            consequences=[
                _("Các đơn vị không thể thêm, sửa hay gửi ý kiến nữa, kể cả khi chưa đến hạn."),
                _("Ý kiến chưa gửi của các đơn vị không được tính."),
                *(
                    [_("Đợt kín: các đơn vị được mời sẽ xem được ý kiến của nhau.")]
                    if consultation.visibility == Visibility.BLIND
                    else []
                ),
                _("Dự thảo chuyển sang “Hết hạn góp ý”; thao tác này không thể hoàn tác."),
            ],
            action=url_for("comments.close", consultation_id=consultation.id),
            button=_("Kết thúc lấy ý kiến"),
            back=(tracker_url, _("Theo dõi góp ý")),
            danger=True,
        )
    operations.close_round(consultation, actor=current_user)
    db.session.commit()
    flash(_("Đã kết thúc %(label)s.", label=consultation.display_label.lower()), "success")
    return redirect(url_for("comments.tracker", consultation_id=consultation.id))


@bp.route("/rounds/<int:consultation_id>/attachments", methods=["POST"])
@login_required
def upload_attachment(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = queries.get_round(consultation_id)
    ensure(consultation.can_manage(current_user))
    form = AttachmentForm()
    if not form.validate_on_submit():
        flash(_("Hãy chọn một tệp để đính kèm."), "danger")
    else:
        upload = form.file.data
        operations.add_attachment(
            consultation,
            operations.AttachmentUpload(upload.filename or "", upload.read()),
            actor=current_user,
        )
        db.session.commit()
        flash(_("Đã đính kèm tệp."), "success")
    return redirect(url_for("comments.tracker", consultation_id=consultation.id))


@bp.route("/attachments/<int:attachment_id>")
@login_required
def download_attachment(attachment_id: int):  # type: ignore[no-untyped-def]
    attachment = get_or_404(
        ConsultationAttachment, attachment_id, _("Không tìm thấy tệp đính kèm.")
    )
    ensure(attachment.can_download(current_user))
    return send_attachment(attachment)


def send_attachment(attachment: ConsultationAttachment):  # type: ignore[no-untyped-def]
    path = operations.attachment_path(attachment)
    if not path.is_file():
        raise NotFound(_("Tệp đính kèm không còn trên máy chủ."))
    return send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        max_age=0,
    )


# --- importing a unit's file ---------------------------------------------------------------
METHOD_LABELS = {
    "bookmark": N_("Theo bookmark của điều khoản trong tệp"),
    "text": N_("Theo nội dung đoạn văn"),
    "citation": N_("Theo điều, khoản được viện dẫn"),
    "form": N_("Theo dòng của phiếu góp ý"),
    "general": N_("Không xác định được điều khoản: ý kiến chung"),
}
FILE_KIND_LABELS = {
    "markup": N_("Dự thảo có chú thích, theo dõi thay đổi"),
    "copy": N_("Dự thảo đã sửa (không theo dõi thay đổi)"),
    "form": N_("Phiếu góp ý"),
    "letter": N_("Công văn góp ý"),
}


def _import_target(consultation_id: int, response_id: int) -> UnitResponse:
    consultation = queries.get_round(consultation_id)
    response = _response_of(consultation, response_id)
    ensure(
        current_user.can_work_for_unit(response.unit_id) or consultation.can_manage(current_user)
    )
    return response


def _import_page(
    response: UnitResponse,
    *,
    preview: imports.ImportPreview | None = None,
    message: str | None = None,
    status: int = 200,
    file_form: ImportFileForm | None = None,
):  # type: ignore[no-untyped-def]
    consultation = response.consultation
    confirm_form = ImportConfirmForm()
    if preview is not None:
        confirm_form.token.data = preview.token
        confirm_form.count.data = str(len(preview.items))
    return (
        render_template(
            "comments/import.html",
            **_round_context(consultation),
            response=response,
            file_form=file_form or ImportFileForm(),
            confirm_form=confirm_form,
            preview=preview,
            message=message,
            method_labels=METHOD_LABELS,
            kind_labels=FILE_KIND_LABELS,
        ),
        status,
    )


@bp.route(
    "/rounds/<int:consultation_id>/responses/<int:response_id>/import", methods=["GET", "POST"]
)
@login_required
def import_file(consultation_id: int, response_id: int):  # type: ignore[no-untyped-def]
    """Upload a unit's file and see, item by item, where its opinions would go."""
    response = _import_target(consultation_id, response_id)
    form = ImportFileForm()
    if request.method == "GET":
        return _import_page(
            response, message=_refusal(imports.ensure_can_import, response, current_user)
        )
    if not form.validate_on_submit():
        return _import_page(response, file_form=form, status=422)
    upload = form.file.data
    try:
        preview = imports.preview_import(
            response, data=upload.read(), filename=upload.filename or "", actor=current_user
        )
    except UserError as exc:
        db.session.rollback()
        return _import_page(response, file_form=form, message=exc.message, status=exc.status)
    return _import_page(response, preview=preview)


def _choices_from(form: ImportConfirmForm) -> dict[int, imports.Choice]:
    count = parse_int("count", form.count.data or "0", minimum=0, maximum=imports.MAX_ITEMS)
    choices = {}
    for index in range(count):
        raw = request.form.get(f"clause-{index}", "")
        clause_id = parse_int("clause", raw) if raw else None
        choices[index] = imports.Choice(
            clause_id=clause_id, include=request.form.get(f"include-{index}") == "1"
        )
    return choices


@bp.route(
    "/rounds/<int:consultation_id>/responses/<int:response_id>/import/confirm", methods=["POST"]
)
@login_required
def confirm_import(consultation_id: int, response_id: int):  # type: ignore[no-untyped-def]
    response = _import_target(consultation_id, response_id)
    form = ImportConfirmForm()
    if not form.validate_on_submit():
        return _import_page(response, status=422)
    token = form.token.data or ""
    try:
        created = imports.confirm_import(
            response, token=token, choices=_choices_from(form), actor=current_user
        )
    except UserError as exc:
        db.session.rollback()
        try:
            preview = imports.load_preview(response, token=token, actor=current_user)
        except UserError:
            preview = None
        return _import_page(response, preview=preview, message=exc.message, status=exc.status)
    db.session.commit()
    consultation = response.consultation
    flash(
        ngettext("Đã nhập %(num)d ý kiến từ tệp.", "Đã nhập %(num)d ý kiến từ tệp.", len(created)),
        "success",
    )
    if current_user.can_work_for_unit(response.unit_id):
        return redirect(url_for("comments.unit_view", consultation_id=consultation.id))
    return redirect(url_for("comments.tracker", consultation_id=consultation.id))
