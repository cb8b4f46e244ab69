"""HTML routes of the consolidation: answering comments, the report, the rounds history,
the diff between versions and the links from changed clauses to the comments they answer.

Each view loads, checks a predicate (403), validates and calls one operation.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from accounts.errors import Conflict, Invalid, UserError, ensure
from accounts.operations import get_or_404
from accounts.params import int_arg, int_list_arg
from comments.consolidation import exports, queries
from comments.consolidation import operations as ops
from comments.consolidation.forms import (
    ChangeLinkForm,
    DispositionForm,
    VersionPickerForm,
    format_expected,
    parse_expected,
)
from comments.consolidation.reports import CHANGE_NOTES
from comments.consultation.models import (
    DECISION_LABELS,
    TRACKER_LABELS,
    Comment,
    Consultation,
    UnitResponse,
)
from drafts.models import Clause, Draft, Version
from extensions import db
from tasks import background
from tasks.models import JobKind

bp = Blueprint("consolidation", __name__, url_prefix="/consolidation")


def _consultation(consultation_id: int) -> Consultation:
    return get_or_404(Consultation, consultation_id, _("Không tìm thấy lần lấy ý kiến."))


# --- one round -----------------------------------------------------------------------------
@bp.route("/<int:consultation_id>")
@login_required
def consultation(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_track(current_user))
    data = queries.consolidation_page(consultation)
    return render_template(
        "consolidation/consultation.html",
        data=data,
        consultation=consultation,
        can_consolidate=ops.can_consolidate(consultation, current_user),
        can_apply=ops.can_link_changes(consultation.draft, current_user),
        blocked=ops.why_not_consolidate(consultation),
        can_start=ops.can_start_consolidation(consultation, current_user),
        decision_labels=DECISION_LABELS,
        tracker_labels=TRACKER_LABELS,
        # A large round's report is made by a worker (a button that starts a job).
        export_job=background.export_runs_in_background(data.counts.comments_total),
    )


@bp.route("/comments/<int:comment_id>/apply-proposal", methods=["POST"])
@login_required
def apply_proposal(comment_id: int):  # type: ignore[no-untyped-def]
    comment = get_or_404(Comment, comment_id, _("Không tìm thấy ý kiến góp ý."))
    ensure(ops.can_link_changes(comment.consultation.draft, current_user))
    try:
        clause = ops.apply_proposal(comment, current_user)
    except UserError as exc:
        db.session.rollback()
        flash(exc.message, "danger")
    else:
        db.session.commit()
        flash(
            _(
                "Đã áp dụng đề xuất vào %(version)s (%(clause)s) và liên kết thay đổi với ý kiến.",
                version=clause.version.display_label,
                clause=clause.heading,
            ),
            "success",
        )
    back = url_for(".consultation", consultation_id=comment.consultation_id)
    return redirect(f"{back}#comment-{comment.id}")


@bp.route("/<int:consultation_id>/start", methods=["POST"])
@login_required
def start(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_manage(current_user))
    ops.start_consolidation(consultation, current_user)
    db.session.commit()
    flash(_("Dự thảo đã chuyển sang “Đang tổng hợp”."), "success")
    return redirect(url_for(".consultation", consultation_id=consultation.id))


@bp.route("/<int:consultation_id>/answer", methods=["GET", "POST"])
@login_required
def answer(consultation_id: int):  # type: ignore[no-untyped-def]
    """Answer the selected comments with one disposition (or change their answer)."""
    consultation = _consultation(consultation_id)
    ensure(consultation.can_manage(current_user))
    ops.ensure_can_consolidate(consultation, current_user)
    source = request.form if request.method == "POST" else request.args
    comments = queries.comments_for_answer(consultation, int_list_arg("comment", args=source))
    if not comments:
        flash(_("Hãy chọn ít nhất một ý kiến để trả lời."), "warning")
        return redirect(url_for(".consultation", consultation_id=consultation.id))
    form = DispositionForm()
    if request.method == "GET":
        _prefill(form, comments)
    status, problem = 200, None
    if form.validate_on_submit():
        try:
            ops.dispose(
                comments,
                form.decision.data,
                form.explanation.data or "",
                current_user,
                parse_expected(form.expected.data),
            )
        except (Invalid, Conflict) as exc:
            db.session.rollback()
            status = exc.status
            if isinstance(exc, Conflict):
                # Keep the user's text; show the current answers and let a second save win.
                problem = exc.message
                comments = queries.comments_for_answer(consultation, [c.id for c in comments])
                form.expected.data = format_expected(ops.expected_versions_of(comments))
            else:
                form.explanation.errors = [*form.explanation.errors, exc.message]
        else:
            db.session.commit()
            flash(
                ngettext(
                    "Đã lưu câu trả lời cho %(num)d ý kiến.",
                    "Đã lưu câu trả lời cho %(num)d ý kiến.",
                    len(comments),
                ),
                "success",
            )
            anchor = f"comment-{comments[0].id}"
            return redirect(
                url_for(".consultation", consultation_id=consultation.id, _anchor=anchor)
            )
    elif request.method == "POST":
        status = 422
    data = queries.load_consolidation(consultation)
    return render_template(
        "consolidation/answer.html",
        consultation=consultation,
        comments=comments,
        data=data,
        form=form,
        problem=problem,
    ), status


def _prefill(form: DispositionForm, comments: list[Comment]) -> None:
    form.expected.data = format_expected(ops.expected_versions_of(comments))
    answers = {c.disposition for c in comments}
    if len(answers) == 1 and None not in answers:
        (disposition,) = answers
        form.decision.data = disposition.decision.value
        form.explanation.data = disposition.explanation


@bp.route("/<int:consultation_id>/report.docx")
@login_required
def report_docx(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_track(current_user))
    symbol = _given_symbol(consultation, "report")
    return exports.send_download(exports.consolidation_docx(consultation, symbol))


@bp.route("/<int:consultation_id>/report.docx", methods=["POST"])
@login_required
def report_docx_job(consultation_id: int):  # type: ignore[no-untyped-def]
    """The same report made by a worker: the user follows its progress on the job's page."""
    consultation = _consultation(consultation_id)
    ensure(consultation.can_track(current_user))
    symbol = _given_symbol(consultation, "report", request.form)
    job = background.start_job(
        JobKind.CONSOLIDATION_DOCX,
        owner=current_user,
        subject=consultation,
        params={"symbol": symbol} if symbol else {},
    )
    db.session.commit()
    return redirect(url_for("tasks.job", job_id=job.id), 303)


@bp.route("/<int:consultation_id>/report.xlsx", methods=["POST"])
@login_required
def report_xlsx_job(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_track(current_user))
    job = background.start_job(JobKind.CONSOLIDATION_XLSX, owner=current_user, subject=consultation)
    db.session.commit()
    return redirect(url_for("tasks.job", job_id=job.id), 303)


def _given_symbol(
    consultation: Consultation | None, document: str, values: Any = None
) -> str | None:
    """The symbol of an export (?symbol=, or the form's): validated and remembered for the
    round; the drafter's."""
    given = (values if values is not None else request.args).get("symbol", "").strip()
    if not given:
        return None
    if consultation is None:
        return ops.checked_symbol(given)
    ensure(consultation.can_manage(current_user))
    symbol = ops.remember_symbol(consultation, document, given, current_user)
    db.session.commit()
    return symbol


@bp.route("/<int:consultation_id>/report.xlsx")
@login_required
def report_xlsx(consultation_id: int):  # type: ignore[no-untyped-def]
    consultation = _consultation(consultation_id)
    ensure(consultation.can_track(current_user))
    return exports.send_download(exports.consolidation_xlsx(consultation))


@bp.route("/responses/<int:response_id>/letter.docx")
@login_required
def comment_letter(response_id: int):  # type: ignore[no-untyped-def]
    response = get_or_404(UnitResponse, response_id, _("Không tìm thấy ý kiến của đơn vị."))
    ensure(ops.can_download_letter(response, current_user))
    return exports.send_download(exports.comment_letter_docx(response))


# --- a draft's rounds and versions ---------------------------------------------------------
@bp.route("/drafts/<int:draft_id>/rounds")
@login_required
def rounds(draft_id: int):  # type: ignore[no-untyped-def]
    draft = get_or_404(Draft, draft_id, _("Không tìm thấy dự thảo."))
    ensure(ops.can_view_rounds(draft, current_user))
    return render_template(
        "consolidation/rounds.html", draft=draft, rounds=queries.rounds_history(draft)
    )


def _version_picker() -> VersionPickerForm:
    # The form falls back to the last two versions for an unknown id; a number no
    # database id can be is refused first.
    int_arg("old")
    int_arg("new")
    return VersionPickerForm(request.args)


def _picked_versions(draft: Draft, form: VersionPickerForm) -> tuple[Version, Version] | None:
    """The two versions the GET form names; by default the last two."""
    versions = queries.comparable_versions(draft, current_user)
    if len(versions) < 2:
        return None
    choices = [(v.id, v.display_label) for v in versions]
    form.old.choices, form.new.choices = choices, choices
    by_id = {v.id: v for v in versions}
    if form.old.data not in by_id or form.new.data not in by_id:
        form.old.data, form.new.data = versions[-2].id, versions[-1].id
    return by_id[form.old.data], by_id[form.new.data]


@bp.route("/drafts/<int:draft_id>/diff")
@login_required
def diff(draft_id: int):  # type: ignore[no-untyped-def]
    draft = get_or_404(Draft, draft_id, _("Không tìm thấy dự thảo."))
    ensure(draft.can_view(current_user))
    form = _version_picker()
    picked = _picked_versions(draft, form)
    if picked is None:
        return render_template("consolidation/diff.html", draft=draft, form=form, diff=None)
    page = queries.diff_page(*picked, current_user)
    result = page.diff
    return render_template(
        "consolidation/diff.html",
        draft=draft,
        form=form,
        diff=result,
        rows=result.changed_rows if form.changed.data else result.rows,
        export_job=background.export_runs_in_background(len(result.rows)),
        links=page.linked,
        earlier=page.earlier,
        rounds=page.rounds,
        can_link=ops.can_link_changes(draft, current_user) and result.new.number > 1,
        change_labels=CHANGE_NOTES,
        decision_labels=DECISION_LABELS,
    )


@bp.route("/drafts/<int:draft_id>/comparison.docx")
@login_required
def comparison_docx(draft_id: int):  # type: ignore[no-untyped-def]
    draft = get_or_404(Draft, draft_id, _("Không tìm thấy dự thảo."))
    ensure(draft.can_view(current_user))
    picked = _picked_versions(draft, _version_picker())
    if picked is None:
        raise Conflict(_("Dự thảo mới có một phiên bản, chưa có gì để so sánh."))
    symbol = _given_symbol(queries.round_of_version(picked[0]), "comparison")
    return exports.send_download(exports.comparison_docx(*picked, symbol))


@bp.route("/drafts/<int:draft_id>/comparison.docx", methods=["POST"])
@login_required
def comparison_docx_job(draft_id: int):  # type: ignore[no-untyped-def]
    draft = get_or_404(Draft, draft_id, _("Không tìm thấy dự thảo."))
    ensure(draft.can_view(current_user))
    picked = _picked_versions(draft, VersionPickerForm(request.form))
    if picked is None:
        raise Conflict(_("Dự thảo mới có một phiên bản, chưa có gì để so sánh."))
    old, new = picked
    symbol = _given_symbol(queries.round_of_version(old), "comparison", request.form)
    params: dict[str, Any] = {"old_id": old.id, "new_id": new.id}
    if symbol:
        params["symbol"] = symbol
    job = background.start_job(
        JobKind.COMPARISON_DOCX, owner=current_user, subject=draft, params=params
    )
    db.session.commit()
    return redirect(url_for("tasks.job", job_id=job.id), 303)


@bp.route("/clauses/<int:clause_id>/links", methods=["GET", "POST"])
@login_required
def change_links(clause_id: int):  # type: ignore[no-untyped-def]
    """Tick the earlier comments that this changed clause answers."""
    clause = get_or_404(Clause, clause_id, _("Không tìm thấy điều khoản."))
    draft = clause.version.draft
    ensure(ops.can_link_changes(draft, current_user))
    show_all = request.args.get("all") == "1"
    choices = queries.link_candidates(clause, related_only=not show_all)
    form = ChangeLinkForm()
    form.comments.choices = [(c.comment.id, c.comment.text) for c in choices.candidates]
    if request.method == "GET":
        form.comments.data = [c.comment.id for c in choices.candidates if c.linked]
    if form.validate_on_submit():
        # Every linked comment is among the candidates, so unticking one removes its link.
        by_id = {c.comment.id: c.comment for c in choices.candidates}
        try:
            ops.set_change_links(clause, [by_id[i] for i in form.comments.data or []], current_user)
        except UserError as exc:
            db.session.rollback()
            form.comments.errors = [*form.comments.errors, exc.message]
        else:
            db.session.commit()
            flash(_("Đã lưu liên kết giữa thay đổi và ý kiến góp ý."), "success")
            return redirect(
                url_for(
                    ".diff",
                    draft_id=draft.id,
                    new=clause.version_id,
                    old=_previous_version_id(draft, clause.version),
                    _anchor=f"clause-{clause.lineage}",
                )
            )
    return render_template(
        "consolidation/links.html",
        clause=clause,
        draft=draft,
        choices=choices,
        form=form,
        show_all=show_all,
    )


def _previous_version_id(draft: Draft, version: Version) -> int | None:
    earlier = [v for v in draft.versions if v.number < version.number]
    return earlier[-1].id if earlier else None
