"""HTML routes of the scoring workflow (/scoring).

Each view loads, checks a `can_*` predicate, validates and calls one operation,
then commits. The sheet page re-renders with the user's own input when a save
is refused (invalid points, or a conflict with someone else's save).
"""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from accounts.clock import end_of_local_day
from accounts.confirm import confirmation_page, is_confirmed
from accounts.errors import Conflict, Invalid, NotFound, UserError, ensure
from accounts.idempotency import idempotent
from accounts.models import EmulationYear, Group, GroupMembership, Unit, active_units
from accounts.operations import get_or_404
from accounts.params import int_arg
from drafts.models import Draft
from drafts.operations import adopted_criteria_drafts
from extensions import db
from tasks import background
from tasks.models import JobKind
from workflow import exports, operations, queries, sheetflow
from workflow.forms import (
    ActionForm,
    AdjustmentForm,
    BandsForm,
    DisqualifyForm,
    EvidenceForm,
    ExtendDeadlineForm,
    OpenPeriodForm,
    ScoresForm,
    adjustment_choices,
    parse_adjustment_choice,
    score_inputs,
    stage_from,
)
from workflow.models import (
    PERIOD_MACHINE,
    STAGE_LABELS,
    STAGE_NOUNS,
    Evidence,
    ScoreAdjustment,
    ScoreSheet,
    ScoringPeriod,
    can_open_period,
)
from workflow.scoring import format_points

bp = Blueprint("workflow", __name__, url_prefix="/scoring")


@bp.app_template_filter("points")
def _points_filter(value: Any) -> str:
    return format_points(value)


@bp.app_template_global("sheet_labels")
def sheet_labels(periods: Iterable[ScoringPeriod]) -> dict[str, str]:
    """The sheet labels of these periods' steps (states, actions, step titles), each
    translated once per page: `sheet_labels([period])[sheet.state_label]`."""
    labels: dict[str, str] = {}
    for period in {period.id: period for period in periods}.values():
        labels.update(sheetflow.translated_labels(period.steps, _))
    return labels


def _period_or_404(period_id: int) -> ScoringPeriod:
    return get_or_404(ScoringPeriod, period_id, _("Không tìm thấy kỳ chấm điểm."))


def _sheet_or_404(sheet_id: int) -> ScoreSheet:
    sheet = queries.load_sheet(sheet_id)
    if sheet is None:
        raise NotFound(_("Không tìm thấy phiếu chấm điểm."))
    return sheet


def _back(sheet: ScoreSheet):  # type: ignore[no-untyped-def]
    return redirect(url_for("workflow.sheet", sheet_id=sheet.id), 303)


# --- index and periods ------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    periods = queries.periods()
    return render_template(
        "workflow/index.html",
        tasks=queries.tasks_for(current_user),
        periods=periods,
        counts=queries.state_counts([p.id for p in periods]),
        can_open=can_open_period(current_user),
    )


def _fill_period_choices(form: OpenPeriodForm) -> None:
    form.draft.choices = [(d.id, d.title) for d in adopted_criteria_drafts()]
    years = list(db.session.scalars(select(EmulationYear).order_by(EmulationYear.year.desc())))
    form.year.choices = [(y.year, y.display_label) for y in years]
    groups = db.session.scalars(
        select(Group).join(EmulationYear).order_by(EmulationYear.year.desc(), Group.name)
    )
    form.groups.choices = [(g.id, f"{g.name} ({g.year.year})") for g in groups]


def _chosen_units(form: OpenPeriodForm) -> list[Unit]:
    if form.scope.data != "groups":
        return active_units()
    rows = db.session.scalars(
        select(Unit)
        .join(GroupMembership, GroupMembership.unit_id == Unit.id)
        .join(Group, Group.id == GroupMembership.group_id)
        .join(EmulationYear, EmulationYear.id == Group.year_id)
        .where(
            Group.id.in_(form.groups.data or []), EmulationYear.year == form.year.data, Unit.active
        )
        .order_by(Unit.name)
    )
    return list(rows)


@bp.route("/periods/new", methods=["GET", "POST"])
@login_required
def new_period():  # type: ignore[no-untyped-def]
    ensure(can_open_period(current_user))
    form = OpenPeriodForm()
    _fill_period_choices(form)
    status = 200
    if form.validate_on_submit():
        draft = db.session.get(Draft, form.draft.data)
        dates = {
            "self": form.due_self.data,
            "cluster": form.due_cluster.data,
            "office": form.due_office.data,
            "council": form.due_council.data,
        }
        steps = form.step_keys()
        deadlines = {k: end_of_local_day(dates[k]) for k in steps if dates.get(k) is not None}
        try:
            if draft is None:
                raise NotFound(_("Không tìm thấy bảng tiêu chí."))
            period = operations.open_period(
                draft,
                form.name.data or "",
                _chosen_units(form),
                steps,
                deadlines,
                None,
                form.parsed_disqualifiers(),
                form.parsed_bonus_cap(),
                current_user,
                year=form.year.data,
            )
        except UserError as exc:
            db.session.rollback()
            form.name.errors.append(exc.message)
            status = exc.status
        else:
            db.session.commit()
            flash(_("Đã mở kỳ chấm điểm “%(name)s”.", name=period.name), "success")
            return redirect(url_for("workflow.period", period_id=period.id))
    elif request.method == "POST":
        status = 422
    return render_template("workflow/period_new.html", form=form), status


@bp.route("/periods/<int:period_id>")
@login_required
def period(period_id: int):  # type: ignore[no-untyped-def]
    period = _period_or_404(period_id)
    sheets = [s for s in queries.period_sheets(period) if s.can_view(current_user)]
    ensure(bool(sheets) or period.can_see_results(current_user))
    groups = {s.group.id: s.group for s in sheets if s.group is not None}
    return render_template(
        "workflow/period.html",
        period=period,
        sheets=sheets,
        last=queries.last_transitions([s.id for s in sheets]),
        groups=[g for g in groups.values() if period.can_view_group(current_user, g)],
        actions=PERIOD_MACHINE.actions_for(period, current_user),
        machine=PERIOD_MACHINE,
        history=queries.period_history(period),
    )


@bp.route("/periods/<int:period_id>/groups/<int:group_id>")
@login_required
def group_view(period_id: int, group_id: int):  # type: ignore[no-untyped-def]
    period = _period_or_404(period_id)
    group = db.session.scalars(
        select(Group).where(Group.id == group_id).options(selectinload(Group.memberships))
    ).first()
    if group is None:
        raise NotFound(_("Không tìm thấy Cụm, Khối."))
    ensure(period.can_view_group(current_user, group))
    table = queries.load_criteria(period.criteria_version_id)
    sheets = queries.period_sheets(period, group_id=group.id)
    data = queries.load_sheet_data([s.id for s in sheets])
    columns = {
        s.id: queries.sheet_columns(table, data[s.id], period, s.reached_stages) for s in sheets
    }
    return render_template(
        "workflow/group.html",
        period=period,
        group=group,
        table=table,
        sheets=sheets,
        columns=columns,
        stages=[st for st in period.stages if st.value in ("self", "cluster")],
        labels=STAGE_LABELS,
        last=queries.last_transitions([s.id for s in sheets]),
    )


@bp.route("/periods/<int:period_id>/verification")
@login_required
def verification_queue(period_id: int):  # type: ignore[no-untyped-def]
    period = _period_or_404(period_id)
    ensure(period.can_see_queue(current_user))
    sheets = [
        s
        for s in queries.period_sheets(period)
        if s.current_step is not None and s.current_step.key != sheetflow.SELF_STEP_KEY
    ]
    sheets.sort(key=lambda s: (s.due_at is None, s.due_at, s.unit.name))
    return render_template(
        "workflow/queue.html",
        period=period,
        sheets=sheets,
        last=queries.last_transitions([s.id for s in sheets]),
    )


@bp.route("/periods/<int:period_id>/results")
@login_required
def results(period_id: int):  # type: ignore[no-untyped-def]
    period = queries.period_for_results(period_id)
    if period is None:
        raise NotFound(_("Không tìm thấy kỳ chấm điểm."))
    ensure(period.can_see_results(current_user))
    outcome = queries.period_results(period).visible_to(current_user)
    every_unit = period.can_see_all_results(current_user)
    # A unit sees the per-criterion breakdown of its own sheet beside its result.
    breakdown = None
    if not every_unit and len(outcome.rows) == 1:
        row = outcome.rows[0]
        items = outcome.data[row.sheet.id].items
        breakdown = queries.sheet_rows(outcome.table, items, row.columns)
    return render_template(
        "workflow/results.html",
        period=period,
        results=outcome,
        every_unit=every_unit,
        breakdown=breakdown,
        actions=PERIOD_MACHINE.actions_for(period, current_user),
        labels=STAGE_LABELS,
        nouns=STAGE_NOUNS,
        # Many units × criteria: the files are made by a worker (buttons that start a job).
        export_job=background.export_runs_in_background(
            len(outcome.rows) * len(outcome.table.leaves)
        ),
    )


def _download(data: bytes, name: str, mimetype: str):  # type: ignore[no-untyped-def]
    return send_file(BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name)


def _results_group(period: ScoringPeriod) -> Group | None:
    """The Cụm/Khối of ``?group=ID`` (None: the whole period)."""
    group_id = int_arg("group")
    if group_id is None:
        return None
    group = db.session.get(Group, group_id)
    if group is None or group.year_id != period.year_id:
        raise NotFound(_("Không tìm thấy Cụm, Khối."))
    return group


@bp.route("/periods/<int:period_id>/results.xlsx")
@login_required
def results_xlsx(period_id: int):  # type: ignore[no-untyped-def]
    period = _period_or_404(period_id)
    ensure(period.can_export_results(current_user))
    group = _results_group(period)
    data = exports.results_xlsx(queries.period_results(period), group)
    return _download(data, exports.results_filename(period, group), exports.XLSX)


@bp.route("/periods/<int:period_id>/results.pdf")
@login_required
def results_pdf(period_id: int):  # type: ignore[no-untyped-def]
    period = _period_or_404(period_id)
    ensure(period.can_export_results(current_user))
    group = _results_group(period)
    data = exports.results_pdf(queries.period_results(period), group)
    return _download(data, exports.results_filename(period, group, "pdf"), exports.PDF)


@bp.route("/periods/<int:period_id>/actions/<action>", methods=["POST"])
@login_required
def period_action(period_id: int, action: str):  # type: ignore[no-untyped-def]
    period = _period_or_404(period_id)
    if any(row.action == action for row in PERIOD_MACHINE.transitions_from(period.state)):
        ensure(period.can_apply(current_user, action))
    # Otherwise the engine explains that the action is not possible in this state.
    form = ActionForm()
    label = _(PERIOD_MACHINE.action_label(action))
    operations.apply_period_action(period, action, current_user, form.note.data)
    db.session.commit()
    flash(_("Đã thực hiện: %(label)s.", label=label), "success")
    return redirect(url_for("workflow.results", period_id=period.id), 303)


@bp.route("/periods/<int:period_id>/bands", methods=["GET", "POST"])
@login_required
def bands(period_id: int):  # type: ignore[no-untyped-def]
    period = _period_or_404(period_id)
    ensure(period.can_see_all_results(current_user))
    editable = period.can_edit_bands(current_user)
    table = queries.load_criteria(period.criteria_version_id)
    total_max = table.total_max
    form = BandsForm()
    status = 200
    if request.method == "GET" or not editable:
        ensure(request.method == "GET")
        form.load(period.bands_for(total_max))
    elif "add" in request.form or "remove" in request.form:
        # Rows change without saving; the page shows the table again.
        rows = form.rows()
        if "add" in request.form:
            rows.append({"key": "", "name": "", "min_points": ""})
        else:
            index = request.form.get("remove", "")
            if index.isdigit() and int(index) < len(rows):
                rows.pop(int(index))
        form = BandsForm(formdata=None, data={"bands": rows})
    elif form.validate_on_submit() and (parsed := form.parsed(total_max)) is not None:
        operations.set_bands(period, parsed, current_user)
        db.session.commit()
        flash(_("Đã lưu mức xếp loại."), "success")
        return redirect(url_for("workflow.bands", period_id=period.id), 303)
    else:
        status = 422
    return render_template(
        "workflow/bands.html",
        period=period,
        form=form,
        editable=editable,
        total_max=total_max,
    ), status


@bp.route("/periods/<int:period_id>/results.xlsx", methods=["POST"])
@login_required
def results_xlsx_job(period_id: int):  # type: ignore[no-untyped-def]
    return _results_job(period_id, JobKind.RESULTS_XLSX)


@bp.route("/periods/<int:period_id>/results.pdf", methods=["POST"])
@login_required
def results_pdf_job(period_id: int):  # type: ignore[no-untyped-def]
    return _results_job(period_id, JobKind.RESULTS_PDF)


def _results_job(period_id: int, kind: JobKind):  # type: ignore[no-untyped-def]
    period = _period_or_404(period_id)
    ensure(period.can_export_results(current_user))
    job = background.start_job(kind, owner=current_user, subject=period)
    db.session.commit()
    return redirect(url_for("tasks.job", job_id=job.id), 303)


# --- one sheet --------------------------------------------------------------------------------


def _sheet_page(
    sheet: ScoreSheet,
    *,
    entered: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    conflicts: list[str] | None = None,
    status: int = 200,
):  # type: ignore[no-untyped-def]
    period = sheet.period
    table = queries.load_criteria(period.criteria_version_id)
    data = queries.load_sheet_data([sheet.id])[sheet.id]
    columns = queries.sheet_columns(table, data, period, sheet.reached_stages)
    stage = sheet.editable_stage
    last = queries.last_transitions([sheet.id]).get(sheet.id)
    machine = period.machine()
    evidence_form = EvidenceForm()
    evidence_form.lineage.choices = (
        [("", _("Cả phiếu"))]
        + [(row.key, row.label) for row in table.leaves]
        + [(item.key, item.label) for item in data.items]
    )
    disqualify_form = DisqualifyForm()
    disqualify_form.condition.choices = [(c, c) for c in period.disqualifiers]
    adjustment_form = AdjustmentForm()
    adjustment_form.row.choices = adjustment_choices(table.adjustment_rows)
    evidence: dict[str | None, list[Evidence]] = {}
    for item in sheet.evidence:
        evidence.setdefault(item.lineage, []).append(item)
    previous = operations.previous_stage(sheet, stage) if stage else None
    return render_template(
        "workflow/sheet.html",
        sheet=sheet,
        period=period,
        table=table,
        data=data,
        columns=columns,
        rows=queries.sheet_rows(table, data.items, columns),
        adjustments={item.key: item for item in data.adjustments},
        stage=stage,
        can_edit=stage is not None and sheet.can_edit_stage(current_user, stage),
        missing=table.codes(columns[stage].totals.missing) if stage is not None else [],
        returned=queries.is_returned(last),
        last=last,
        actions=machine.actions_for(sheet, current_user),
        labels=STAGE_LABELS,
        nouns=STAGE_NOUNS,
        evidence=evidence,
        scores_form=ScoresForm(),
        action_form=ActionForm(),
        adjustment_form=adjustment_form,
        evidence_form=evidence_form,
        extend_form=ExtendDeadlineForm(),
        disqualify_form=disqualify_form,
        entered=entered or {},
        errors=errors or {},
        conflicts=conflicts or [],
        previous_stage=previous,
        carried=columns[previous].held if previous else {},
    ), status


@bp.route("/sheets/<int:sheet_id>")
@login_required
def sheet(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_view(current_user))
    return _sheet_page(sheet)


@bp.route("/sheets/<int:sheet_id>/scores", methods=["POST"])
@login_required
@idempotent
def save_scores(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_view(current_user))
    stage = stage_from(request.form.get("stage", ""))
    if stage is None or stage != sheet.editable_stage:
        raise Conflict(_("Phiếu đã chuyển sang bước khác; hãy tải lại trang."))
    ensure(sheet.can_edit_stage(current_user, stage))
    table = queries.load_criteria(sheet.period.criteria_version_id)
    keys = [row.key for row in table.leaves] + [item.key for item in sheet.adjustments]
    entries = score_inputs(request.form, keys)
    try:
        operations.save_scores(sheet, stage, entries, current_user)
    except (Invalid, Conflict) as exc:
        db.session.rollback()
        sheet = _sheet_or_404(sheet_id)
        entered = {k: request.form.get(f"score-{k}", "") for k in keys}
        entered.update({f"note-{k}": request.form.get(f"note-{k}", "") for k in keys})
        details = exc.details or {}
        flash(exc.message, "danger")
        return _sheet_page(
            sheet,
            entered=entered,
            errors=details.get("errors"),
            conflicts=details.get("conflicts"),
            status=exc.status,
        )
    db.session.commit()
    flash(
        _("Đã lưu %(n)d điểm.", n=len(entries)) if entries else _("Không có thay đổi."), "success"
    )
    return _back(sheet)


@bp.route("/sheets/<int:sheet_id>/confirm", methods=["POST"])
@login_required
@idempotent
def confirm_scores(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_edit_scores(current_user))
    filled = operations.confirm_previous_scores(sheet, current_user)
    db.session.commit()
    flash(_("Đã điền %(n)d điểm theo cột trước.", n=filled), "success")
    return _back(sheet)


@bp.route("/sheets/<int:sheet_id>/actions/<action>", methods=["GET", "POST"])
@login_required
def apply_action(sheet_id: int, action: str):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_view(current_user))
    machine = sheet.period.machine()
    row = next((r for r in machine.transitions_from(sheet.state) if r.action == action), None)
    if row is not None:
        ensure(sheet.can_apply(current_user, action))
    # Otherwise the engine explains that the action is not possible in this state.
    form = ActionForm()
    labels = sheet_labels([sheet.period])
    label = labels.get(machine.action_label(action), machine.action_label(action))
    # The step that ends the sheet's way (the council's recognition) cannot be taken back:
    # it is asked for on a page of its own first.
    final = row is not None and not machine.transitions_from(row.target)
    if request.method == "GET":
        if not final:
            return _back(sheet)
        return confirmation_page(
            heading=_("%(action)s: %(unit)s?", action=label, unit=sheet.unit.name),
            lead=_(
                "Bạn sắp thực hiện “%(action)s” cho phiếu chấm điểm của %(unit)s, %(period)s.",
                action=label,
                unit=sheet.unit.name,
                period=sheet.period.name,
            ),
            consequences=[
                _(
                    "Đây là bước cuối: phiếu chuyển sang “%(state)s” và không còn bước nào sau đó.",
                    state=labels.get(
                        machine.state_label(row.target), machine.state_label(row.target)
                    ),
                ),
                _("Điểm, điểm thưởng, điểm trừ và minh chứng của phiếu không thể sửa nữa."),
                _("Kết quả, xếp hạng tính theo phiếu này."),
            ],
            action=url_for("workflow.apply_action", sheet_id=sheet.id, action=action),
            button=label,
            back=(url_for("workflow.sheet", sheet_id=sheet.id), sheet.unit.name),
            fields={"note": request.args.get("note", "")},
        )
    if final and not is_confirmed():
        return redirect(
            url_for(
                "workflow.apply_action",
                sheet_id=sheet.id,
                action=action,
                note=form.note.data or "",
            ),
            303,
        )
    operations.apply_sheet_action(sheet, action, current_user, form.note.data)
    db.session.commit()
    flash(_("Đã thực hiện: %(label)s.", label=label), "success")
    return _back(sheet)


@bp.route("/sheets/<int:sheet_id>/adjustments", methods=["POST"])
@login_required
@idempotent
def add_adjustment(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_adjust(current_user))
    table = queries.load_criteria(sheet.period.criteria_version_id)
    form = AdjustmentForm()
    form.row.choices = adjustment_choices(table.adjustment_rows)
    if not form.validate_on_submit():
        raise Invalid(_("Cần chọn loại, nhập số điểm và lý do."))
    kind, row = parse_adjustment_choice(form.row.data or "")
    operations.add_adjustment(
        sheet, kind, form.points.data or "", form.reason.data or "", current_user, row=row
    )
    db.session.commit()
    flash(_("Đã thêm khoản điểm."), "success")
    return _back(sheet)


@bp.route("/adjustments/<int:adjustment_id>/delete", methods=["POST"])
@login_required
def delete_adjustment(adjustment_id: int):  # type: ignore[no-untyped-def]
    item = get_or_404(ScoreAdjustment, adjustment_id, _("Không tìm thấy khoản điểm."))
    sheet = item.sheet
    ensure(item.can_remove(current_user))
    operations.remove_adjustment(item, current_user)
    db.session.commit()
    flash(_("Đã bỏ khoản điểm."), "success")
    return _back(sheet)


@bp.route("/sheets/<int:sheet_id>/evidence", methods=["POST"])
@login_required
@idempotent
def upload_evidence(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_upload_evidence(current_user))
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise Invalid(_("Hãy chọn tệp minh chứng."))
    operations.upload_evidence(
        sheet, request.form.get("lineage") or None, upload.filename, upload.read(), current_user
    )
    db.session.commit()
    flash(_("Đã tải lên minh chứng."), "success")
    return _back(sheet)


@bp.route("/evidence/<int:evidence_id>")
@login_required
def download_evidence(evidence_id: int):  # type: ignore[no-untyped-def]
    evidence = get_or_404(Evidence, evidence_id, _("Không tìm thấy minh chứng."))
    ensure(evidence.can_download(current_user))
    return exports.evidence_response(evidence)


@bp.route("/evidence/<int:evidence_id>/delete", methods=["POST"])
@login_required
def delete_evidence(evidence_id: int):  # type: ignore[no-untyped-def]
    evidence = get_or_404(Evidence, evidence_id, _("Không tìm thấy minh chứng."))
    ensure(evidence.can_delete(current_user))
    sheet = evidence.sheet
    operations.delete_evidence(evidence, current_user)
    db.session.commit()
    flash(_("Đã xoá minh chứng."), "success")
    return _back(sheet)


@bp.route("/sheets/<int:sheet_id>/deadline", methods=["POST"])
@login_required
def extend_deadline(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_extend_deadline(current_user))
    form = ExtendDeadlineForm()
    if not form.validate_on_submit():
        raise Invalid(_("Cần nhập hạn mới và lý do gia hạn."))
    operations.extend_deadline(
        sheet, end_of_local_day(form.due_date.data), form.reason.data or "", current_user
    )
    db.session.commit()
    flash(_("Đã gia hạn."), "success")
    return _back(sheet)


@bp.route("/sheets/<int:sheet_id>/disqualify", methods=["POST"])
@login_required
def disqualify(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_disqualify(current_user))
    form = DisqualifyForm()
    operations.disqualify(sheet, form.condition.data or "", form.note.data or "", current_user)
    db.session.commit()
    flash(_("Đã ghi nhận điều kiện loại trừ."), "success")
    return _back(sheet)


@bp.route("/sheets/<int:sheet_id>/requalify", methods=["POST"])
@login_required
def requalify(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_disqualify(current_user))
    operations.clear_disqualification(sheet, request.form.get("note", ""), current_user)
    db.session.commit()
    flash(_("Đã bỏ điều kiện loại trừ."), "success")
    return _back(sheet)


@bp.route("/sheets/<int:sheet_id>/history")
@login_required
def history(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_view_history(current_user))
    transitions, changes = queries.sheet_history(sheet)
    table = queries.load_criteria(sheet.period.criteria_version_id)
    return render_template(
        "workflow/history.html",
        sheet=sheet,
        period=sheet.period,
        transitions=transitions,
        changes=changes,
        rows=table.by_key,
        machine=sheet.period.machine(),
        labels=STAGE_LABELS,
    )


@bp.route("/sheets/<int:sheet_id>/export.xlsx")
@login_required
def sheet_xlsx(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_view(current_user))
    return _download(exports.sheet_xlsx(sheet), exports.sheet_filename(sheet, "xlsx"), exports.XLSX)


@bp.route("/sheets/<int:sheet_id>/export.pdf")
@login_required
def sheet_pdf(sheet_id: int):  # type: ignore[no-untyped-def]
    sheet = _sheet_or_404(sheet_id)
    ensure(sheet.can_view(current_user))
    return _download(exports.sheet_pdf(sheet), exports.sheet_filename(sheet, "pdf"), exports.PDF)
