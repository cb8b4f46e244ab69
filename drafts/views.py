"""HTML routes for drafts, their versions and clause trees.

Each view loads, checks a predicate (403), validates a form and calls one operation
from `drafts.operations`, the same ones the JSON API calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from accounts.confirm import confirmation_page, is_confirmed
from accounts.downloads import send_download
from accounts.errors import Conflict, NotFound, UserError, about, ensure, error_response
from accounts.operations import get_or_404
from accounts.params import int_arg
from drafts import exports, operations, queries, tree
from drafts.forms import (
    AdoptForm,
    ClauseForm,
    DraftForm,
    ImportForm,
    LockForm,
    MoveForm,
    RevisionForm,
)
from drafts.lifecycle import DRAFT_MACHINE
from drafts.models import Clause, Draft, DraftKind, DraftState, Version
from extensions import db
from tasks import background
from tasks.models import BackgroundJob, JobKind, JobState

bp = Blueprint("drafts", __name__, url_prefix="/drafts")

_IMPORT_SESSION_KEY = "draft_imports"


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
    return error_response(413, "too_large", too_large_message())


@bp.app_template_filter("points")
def _points_filter(value: Any) -> str:
    return tree.format_points(value)


def too_large_message() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return _(
        "Tệp tải lên quá lớn: giới hạn là %(mb)s MB. Hãy giảm dung lượng tệp rồi thử lại.",
        mb=f"{limit / (1024 * 1024):g}",
    )


# --- loading and permissions --------------------------------------------------------------
def _load_draft(draft_id: int) -> Draft:
    draft = queries.get_draft(draft_id)
    ensure(draft.can_view(current_user))
    about(url_for("drafts.show", draft_id=draft.id), draft.title)
    return draft


def _drafter_only(draft: Draft) -> None:
    """Only this draft's drafters change it (a drafter of another draft gets 403)."""
    ensure(current_user.can_draft() and draft.is_drafter(current_user))


def _version(version_id: int) -> Version:
    version = get_or_404(Version, version_id, _("Không tìm thấy phiên bản."))
    ensure(version.can_view(current_user))
    about(_draft_url(version.draft, version), version.draft.title)
    _drafter_only(version.draft)
    return version


def _clause(clause_id: int) -> Clause:
    clause = get_or_404(Clause, clause_id, _("Không tìm thấy điều khoản."))
    ensure(clause.version.can_view(current_user))
    about(_draft_url(clause.version.draft, clause.version), clause.version.draft.title)
    _drafter_only(clause.version.draft)
    return clause


def _draft_url(draft: Draft, version: Version | None = None, anchor: str | None = None) -> str:
    number = version.number if version is not None else None
    return url_for("drafts.show", draft_id=draft.id, v=number, _anchor=anchor)


# --- lists and pages ---------------------------------------------------------------------
@bp.route("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    drafts = operations.visible_drafts(current_user)
    return render_template("drafts/index.html", drafts=drafts)


@bp.route("/lifecycle")
@login_required
def lifecycle():  # type: ignore[no-untyped-def]
    return render_template("drafts/lifecycle.html", rows=DRAFT_MACHINE.as_table())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def create():  # type: ignore[no-untyped-def]
    ensure(current_user.can_draft())
    form = DraftForm()
    candidates = [u for u in operations.drafter_candidates() if u.id != current_user.id]
    form.drafters.choices = [(u.id, f"{u.full_name} ({u.unit.short_name})") for u in candidates]
    status = 200
    if form.validate_on_submit():
        chosen = [u for u in candidates if u.id in (form.drafters.data or [])]
        try:
            draft = operations.create_draft(
                title=form.title.data or "",
                kind=DraftKind(form.kind.data),
                drafting_unit=current_user.unit,
                actor=current_user,
                drafters=chosen,
            )
        except UserError as exc:
            form.title.errors.append(exc.message)
            status = exc.status
        else:
            db.session.commit()
            flash(_("Đã tạo dự thảo. Hãy nhập nội dung từ tệp hoặc thêm điều khoản."), "success")
            return redirect(url_for("drafts.show", draft_id=draft.id))
    elif request.method == "POST":
        status = 422
    return render_template("drafts/new.html", form=form), status


@bp.route("/<int:draft_id>")
@login_required
def show(draft_id: int):  # type: ignore[no-untyped-def]
    draft = _load_draft(draft_id)
    versions = [v for v in draft.versions if v.can_view(current_user)]
    version = _chosen_version(versions, int_arg("v"))
    roots = tree.load_version_tree(version) if version is not None else []
    return render_template("drafts/draft.html", **_draft_page(draft, versions, version, roots))


def _chosen_version(versions: list[Version], number: int | None) -> Version | None:
    if number is not None:
        for version in versions:
            if version.number == number:
                return version
        raise NotFound(_("Không tìm thấy phiên bản."))
    return versions[-1] if versions else None


def _draft_page(
    draft: Draft, versions: list[Version], version: Version | None, roots: list[tree.TreeNode]
) -> dict[str, Any]:
    actions = DRAFT_MACHINE.actions_for(draft, current_user)
    latest = draft.latest_version
    is_drafter = current_user.can_draft() and draft.is_drafter(current_user)
    problems = (
        tree.criteria_problems(roots)
        if draft.kind == DraftKind.CRITERIA and roots and draft.state != DraftState.ADOPTED
        else []
    )
    return {
        "draft": draft,
        "versions": versions,
        "version": version,
        "roots": roots,
        "flat": list(tree.iter_tree(roots)),
        "actions": actions,
        "editable": version is not None and version.can_edit(current_user),
        "can_import": is_drafter
        and draft.state != DraftState.ADOPTED
        and (latest is None or latest.is_published),
        "can_new_version": is_drafter
        and draft.state != DraftState.ADOPTED
        and latest is not None
        and latest.is_published,
        "can_finish_revision": any(a.action == "revise" for a in actions)
        and latest is not None
        and not latest.is_published
        and latest.based_on_id is not None,
        "criteria_problems": problems,
        "total_points": tree.criteria_total(roots) if draft.kind == DraftKind.CRITERIA else None,
        "lock_form": LockForm(),
        "redline_base": _redline_base(version),
    }


def _redline_base(version: Version | None) -> Version | None:
    """The version a redline of `version` compares with, if there is one."""
    if version is None:
        return None
    try:
        return exports.redline_base(version)
    except UserError:
        return None


# --- creating versions -------------------------------------------------------------------
@bp.route("/<int:draft_id>/import", methods=["GET", "POST"])
@login_required
def import_file(draft_id: int):  # type: ignore[no-untyped-def]
    draft = _load_draft(draft_id)
    _drafter_only(draft)
    operations.ensure_can_add_version(draft)
    form = ImportForm()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        filename = upload.filename or ""
        limit = int(current_app.config["IMPORT_SYNC_MAX_BYTES"])
        if operations.import_runs_in_background(data, filename, max_bytes=limit):
            # A conversion or a large file: read by a worker, the user watches its progress.
            token = operations.stash_upload(data, filename=filename, user=current_user, draft=draft)
            _remember_pending(draft, token)
            job = background.start_job(
                JobKind.DRAFT_IMPORT, owner=current_user, subject=draft, params={"token": token}
            )
            db.session.commit()
            return redirect(url_for("tasks.job", job_id=job.id), 303)
        try:
            preview = operations.read_upload(draft.kind, data, filename)
        except UserError as exc:
            form.file.errors.append(exc.message)
            status = exc.status
        else:
            token = operations.stash_upload(data, filename=filename, user=current_user, draft=draft)
            _remember_pending(draft, token)
            return _preview_page(draft, preview, operations.display_filename(filename))
    elif request.method == "POST":
        status = 422
    return render_template("drafts/import.html", draft=draft, form=form), status


def _preview_page(draft: Draft, preview: operations.ImportPreview, filename: str) -> str:
    roots = preview.roots
    return render_template(
        "drafts/import_preview.html",
        draft=draft,
        preview=preview,
        roots=roots,
        flat=list(tree.iter_tree(roots)),
        filename=filename,
        form=LockForm(),
    )


def _remember_pending(draft: Draft, token: str) -> None:
    """The upload waiting for this draft's confirmation (one per draft and session)."""
    pending = dict(session.get(_IMPORT_SESSION_KEY, {}))
    old = pending.pop(str(draft.id), None)
    if old and old != token:
        operations.drop_upload(old)
    pending[str(draft.id)] = token
    session[_IMPORT_SESSION_KEY] = pending


@bp.route("/<int:draft_id>/import/jobs/<int:job_id>")
@login_required
def import_job_preview(draft_id: int, job_id: int):  # type: ignore[no-untyped-def]
    """The preview of a file a background job has read: the same page as a direct import."""
    draft = _load_draft(draft_id)
    _drafter_only(draft)
    job = _own_import_job(draft, job_id)
    if job is None:
        raise NotFound(_("Không tìm thấy công việc này."))
    if job.state != JobState.DONE or not job.result_data:
        return redirect(url_for("tasks.job", job_id=job.id))
    data = job.result_data
    _remember_pending(draft, data["token"])
    preview = operations.ImportPreview.from_json(data["preview"])
    return _preview_page(draft, preview, data["filename"])


def _own_import_job(draft: Draft, job_id: int) -> BackgroundJob | None:
    job = db.session.get(BackgroundJob, job_id)
    if (
        job is None
        or job.kind != JobKind.DRAFT_IMPORT
        or job.subject_id != draft.id
        or job.owner_id != current_user.id
    ):
        return None
    return job


def _pending_token(draft: Draft) -> str:
    return session.get(_IMPORT_SESSION_KEY, {}).get(str(draft.id), "")


def _forget_pending(draft: Draft) -> None:
    pending = dict(session.get(_IMPORT_SESSION_KEY, {}))
    token = pending.pop(str(draft.id), None)
    session[_IMPORT_SESSION_KEY] = pending
    if token:
        operations.drop_upload(token)


@bp.route("/<int:draft_id>/import/confirm", methods=["POST"])
@login_required
def import_confirm(draft_id: int):  # type: ignore[no-untyped-def]
    draft = _load_draft(draft_id)
    _drafter_only(draft)
    upload = operations.take_upload(_pending_token(draft), user=current_user, draft=draft)
    version = operations.import_version(
        draft,
        actor=current_user,
        data=upload.data,
        filename=upload.filename,
        preview=operations.kept_preview(current_user, draft, upload.token),
    )
    db.session.commit()
    _forget_pending(draft)
    flash(
        _("Đã tạo %(label)s từ tệp %(name)s.", label=version.display_label, name=upload.filename),
        "success",
    )
    return redirect(_draft_url(draft, version))


@bp.route("/<int:draft_id>/import/cancel", methods=["POST"])
@login_required
def import_cancel(draft_id: int):  # type: ignore[no-untyped-def]
    draft = _load_draft(draft_id)
    _drafter_only(draft)
    _forget_pending(draft)
    flash(_("Đã hủy nhập tệp; không có gì được lưu."), "info")
    return redirect(_draft_url(draft))


@bp.route("/<int:draft_id>/versions/new", methods=["POST"])
@login_required
def new_version(draft_id: int):  # type: ignore[no-untyped-def]
    draft = _load_draft(draft_id)
    _drafter_only(draft)
    version = operations.new_version(draft, actor=current_user)
    db.session.commit()
    flash(
        _(
            "Đã tạo %(label)s từ phiên bản đã phát hành gần nhất; hãy chỉnh sửa rồi hoàn thành "
            "chỉnh lý.",
            label=version.display_label,
        ),
        "success",
    )
    return redirect(_draft_url(draft, version))


def _editing_only(version: Version) -> None:
    """A confirmation page asks only about what can still be done."""
    if version.draft.state == DraftState.ADOPTED:
        raise Conflict(_("Dự thảo đã được ban hành; không thể sửa đổi."))
    if version.is_published:
        raise Conflict(_("%(label)s đã được phát hành.", label=version.display_label))


@bp.route("/versions/<int:version_id>/publish", methods=["GET", "POST"])
@login_required
def publish(version_id: int):  # type: ignore[no-untyped-def]
    version = _version(version_id)
    if request.method == "POST" and not is_confirmed():
        lock = request.form.get("lock_version", "")
        return redirect(url_for("drafts.publish", version_id=version.id, lock_version=lock), 303)
    if request.method == "GET":
        _editing_only(version)
        # The lock the user saw when pressing the button, so a change since then is caught.
        lock = int_arg("lock_version") or version.lock_version
        return confirmation_page(
            heading=_("Phát hành %(label)s?", label=version.display_label),
            lead=_(
                "Bạn sắp phát hành %(label)s của dự thảo “%(title)s”.",
                label=version.display_label,
                title=version.draft.title,
            ),
            consequences=[
                _("Nội dung được cố định: không thể sửa, thêm, chuyển hay xóa điều khoản."),
                _("Phiên bản đã phát hành không thể xóa."),
                _("Phiên bản này có thể được gửi lấy ý kiến hoặc được ban hành."),
            ],
            action=url_for("drafts.publish", version_id=version.id),
            button=_("Phát hành %(label)s", label=version.display_label),
            back=(_draft_url(version.draft, version), version.draft.title),
            fields={"lock_version": lock},
        )
    form = LockForm()
    operations.publish_version(version, actor=current_user, lock_version=_lock(form))
    db.session.commit()
    flash(
        _("Đã phát hành %(label)s; nội dung không thể sửa nữa.", label=version.display_label),
        "success",
    )
    return redirect(_draft_url(version.draft, version))


@bp.route("/versions/<int:version_id>/discard", methods=["GET", "POST"])
@login_required
def discard(version_id: int):  # type: ignore[no-untyped-def]
    version = _version(version_id)
    if request.method == "POST" and not is_confirmed():
        return redirect(url_for("drafts.discard", version_id=version.id), 303)
    if request.method == "GET":
        _editing_only(version)
        return confirmation_page(
            heading=_("Xóa %(label)s?", label=version.display_label),
            lead=_(
                "Bạn sắp xóa %(label)s của dự thảo “%(title)s”.",
                label=version.display_label,
                title=version.draft.title,
            ),
            consequences=[
                _("Toàn bộ điều khoản của phiên bản này bị xóa và không thể khôi phục."),
                _("Các phiên bản đã phát hành không bị ảnh hưởng."),
            ],
            action=url_for("drafts.discard", version_id=version.id),
            button=_("Xóa %(label)s", label=version.display_label),
            back=(_draft_url(version.draft, version), version.draft.title),
            danger=True,
        )
    draft, label = version.draft, version.display_label
    operations.discard_version(version, actor=current_user)
    db.session.commit()
    flash(_("Đã xóa %(label)s.", label=label), "success")
    return redirect(_draft_url(draft))


def _lock(form: LockForm | ClauseForm | MoveForm) -> int:
    if not form.validate_on_submit():
        raise UserError(_("Biểu mẫu thiếu phiên bản dữ liệu; hãy tải lại trang."))
    return int(form.lock_version.data)


# --- editing clauses ---------------------------------------------------------------------
def _fields(form: ClauseForm) -> operations.ClauseFields:
    return operations.ClauseFields(
        kind=form.kind.data,
        number=form.number.data or "",
        title=form.title.data or "",
        text=form.text.data or "",
        max_points=form.max_points.data,
        guidance=form.guidance.data or "",
    )


def _clause_in(version: Version, clause_id: int | None) -> Clause | None:
    if not clause_id:
        return None
    clause = db.session.get(Clause, clause_id)
    if clause is None or clause.version_id != version.id:
        raise NotFound(_("Không tìm thấy điều khoản."))
    return clause


@bp.route("/versions/<int:version_id>/clauses/new", methods=["GET", "POST"])
@login_required
def add_clause(version_id: int):  # type: ignore[no-untyped-def]
    version = _version(version_id)
    parent = _clause_in(version, int_arg("parent", minimum=0))
    after = _clause_in(version, int_arg("after", minimum=0))
    form = ClauseForm().for_draft(version.draft.kind)
    if request.method == "GET":
        operations.ensure_editable(version)
        form.lock_version.data = version.lock_version
        form.kind.data = _suggested_kind(version.draft, parent, after)

    def save() -> Clause:
        return operations.add_clause(
            version,
            _fields(form),
            actor=current_user,
            lock_version=form.lock_version.data,
            parent=parent,
            after=after,
        )

    return _clause_form(form, version, save, _("Đã thêm điều khoản."), parent=parent, after=after)


def _clause_form(
    form: ClauseForm,
    version: Version,
    save: Callable[[], Clause],
    saved: str,
    *,
    parent: Clause | None = None,
    after: Clause | None = None,
    clause: Clause | None = None,
) -> ResponseReturnValue:
    """The clause form's POST and page, for adding (`clause` None) and editing alike."""
    status = 200
    if form.validate_on_submit():
        try:
            saved_clause = save()
        except UserError as exc:
            # The drafter's text stays in the form; only the message is added.
            db.session.rollback()
            form.form_errors.append(exc.message)
            status = exc.status
        else:
            db.session.commit()
            flash(saved, "success")
            return redirect(_draft_url(version.draft, version, f"c{saved_clause.id}"))
    elif request.method == "POST":
        status = _invalid_form_status(form, version)
    return render_template(
        "drafts/clause_form.html",
        form=form,
        version=version,
        draft=version.draft,
        parent=parent,
        after=after,
        clause=clause,
    ), status


def _invalid_form_status(form: ClauseForm | MoveForm, version: Version) -> int:
    """422 for a form with errors, unless the version cannot be edited at all (409, said
    above the drafter's text, which stays in the form)."""
    try:
        operations.ensure_editable(version)
    except UserError as exc:
        form.form_errors.append(exc.message)
        return exc.status
    return 422


def _suggested_kind(draft: Draft, parent: Clause | None, after: Clause | None) -> str:
    if after is not None:
        return after.kind.value
    if draft.kind == DraftKind.CRITERIA:
        return parent.kind.value if parent is not None else "criterion"
    following = {
        "part": "chapter",
        "chapter": "article",
        "section": "article",
        "subsection": "article",
        "article": "clause",
        "clause": "point",
        "point": "paragraph",
        "paragraph": "paragraph",
    }
    return following[parent.kind.value] if parent is not None else "article"


@bp.route("/clauses/<int:clause_id>/edit", methods=["GET", "POST"])
@login_required
def edit_clause(clause_id: int):  # type: ignore[no-untyped-def]
    clause = _clause(clause_id)
    version = clause.version
    form = ClauseForm(obj=clause if request.method == "GET" else None).for_draft(version.draft.kind)
    if request.method == "GET":
        operations.ensure_editable(version)
        form.kind.data = clause.kind.value
        form.lock_version.data = version.lock_version

    def save() -> Clause:
        return operations.edit_clause(
            clause, _fields(form), actor=current_user, lock_version=form.lock_version.data
        )

    return _clause_form(form, version, save, _("Đã lưu điều khoản."), clause=clause)


@bp.route("/clauses/<int:clause_id>/<any(up, down):direction>", methods=["POST"])
@login_required
def shift_clause(clause_id: int, direction: str):  # type: ignore[no-untyped-def]
    clause = _clause(clause_id)
    version = clause.version
    operations.shift_clause(
        clause,
        direction,
        actor=current_user,
        lock_version=_lock(LockForm()),  # type: ignore[arg-type]
    )
    db.session.commit()
    return redirect(_draft_url(version.draft, version, f"c{clause.id}"))


@bp.route("/clauses/<int:clause_id>/move", methods=["GET", "POST"])
@login_required
def move_clause(clause_id: int):  # type: ignore[no-untyped-def]
    clause = _clause(clause_id)
    version = clause.version
    if request.method == "GET":
        operations.ensure_editable(version)
    roots = tree.load_version_tree(version)
    nodes = {n.id: n for n in tree.iter_tree(roots)}
    node = nodes[clause.id]
    inside = {n.id for n in tree.iter_tree([node])}
    form = MoveForm()
    form.parent.choices = [(0, _("(Cấp cao nhất của văn bản)"))] + [
        (n.id, f"{'— ' * n.depth}{n.heading} {n.title}".strip())
        for n in tree.iter_tree(roots)
        if n.id not in inside
    ]
    if request.method == "GET":
        form.lock_version.data = version.lock_version
        form.parent.data = node.parent.id if node.parent is not None else 0
    status = 200
    if form.validate_on_submit():
        try:
            operations.move_clause(
                clause,
                actor=current_user,
                lock_version=form.lock_version.data,
                parent=_clause_in(version, form.parent.data),
            )
        except UserError as exc:
            db.session.rollback()
            form.form_errors.append(exc.message)
            status = exc.status
        else:
            db.session.commit()
            flash(_("Đã chuyển điều khoản."), "success")
            return redirect(_draft_url(version.draft, version, f"c{clause.id}"))
    elif request.method == "POST":
        status = _invalid_form_status(form, version)
    return render_template(
        "drafts/clause_move.html", form=form, version=version, draft=version.draft, node=node
    ), status


@bp.route("/clauses/<int:clause_id>/delete", methods=["GET", "POST"])
@login_required
def delete_clause(clause_id: int):  # type: ignore[no-untyped-def]
    clause = _clause(clause_id)
    version = clause.version
    form = LockForm()
    if request.method == "POST":
        count = operations.delete_clause(clause, actor=current_user, lock_version=_lock(form))
        db.session.commit()
        flash(_("Đã xóa %(count)d điều khoản.", count=count), "success")
        return redirect(_draft_url(version.draft, version))
    operations.ensure_editable(version)
    roots = tree.load_version_tree(version)
    node = next(n for n in tree.iter_tree(roots) if n.id == clause.id)
    form.lock_version.data = version.lock_version
    return render_template(
        "drafts/clause_delete.html",
        form=form,
        version=version,
        draft=version.draft,
        node=node,
        count=sum(1 for _n in tree.iter_tree([node])),
    )


@bp.route("/versions/<int:version_id>/renumber", methods=["GET", "POST"])
@login_required
def renumber(version_id: int):  # type: ignore[no-untyped-def]
    version = _version(version_id)
    form = LockForm()
    if request.method == "POST":
        plan = operations.renumber_version(version, actor=current_user, lock_version=_lock(form))
        db.session.commit()
        flash(_("Đã đánh số lại %(count)d điều khoản.", count=len(plan)), "success")
        return redirect(_draft_url(version.draft, version))
    operations.ensure_editable(version)
    form.lock_version.data = version.lock_version
    return render_template(
        "drafts/renumber.html",
        form=form,
        version=version,
        draft=version.draft,
        plan=operations.renumber_preview(version),
    )


# --- lifecycle ---------------------------------------------------------------------------
@bp.route("/<int:draft_id>/finish-revision", methods=["POST"])
@login_required
def finish_revision(draft_id: int):  # type: ignore[no-untyped-def]
    draft = _load_draft(draft_id)
    _drafter_only(draft)
    form = RevisionForm()
    version = operations.finish_revision(draft, current_user, form.note.data or None)
    db.session.commit()
    flash(
        _("Đã phát hành %(label)s và hoàn thành chỉnh lý.", label=version.display_label), "success"
    )
    return redirect(_draft_url(draft, version))


_ADOPT_FIELDS = ("version", "decision_number", "decision_date", "signer_name")


def _adopt_form(draft: Draft, published: list[Version], formdata: Any = None) -> AdoptForm:
    form = AdoptForm(formdata=formdata) if formdata is not None else AdoptForm()
    form.version.choices = [(v.id, v.display_label) for v in reversed(published)]
    return form


@bp.route("/<int:draft_id>/adopt", methods=["GET", "POST"])
@login_required
def adopt(draft_id: int):  # type: ignore[no-untyped-def]
    """Adoption in two steps: this form, then a confirmation page naming what cannot be
    undone. Only a POST carrying `confirmed` (the confirmation page's button) adopts."""
    draft = _load_draft(draft_id)
    _drafter_only(draft)
    if draft.state == DraftState.ADOPTED:
        raise Conflict(_("Dự thảo đã được ban hành; không thể sửa đổi."))
    published = [v for v in draft.versions if v.is_published]
    # "Back" from the confirmation page brings the typed values with it.
    form = _adopt_form(draft, published, request.args if request.method == "GET" else None)
    status = 200
    problems: list[str] = []
    if form.validate_on_submit():
        version = next(v for v in published if v.id == form.version.data)
        confirmed = request.form.get("confirmed") == "1"
        try:
            operations.check_adoption(
                draft,
                version,
                form.decision_number.data or "",
                form.decision_date.data,
                form.signer_name.data or "",
                current_user,
                # The older-version warning is the confirmation page's to give.
                confirm_not_latest=not confirmed or request.form.get("confirm_not_latest") == "1",
            )
            if confirmed:
                operations.adopt_draft(
                    draft,
                    version,
                    form.decision_number.data or "",
                    form.decision_date.data,
                    form.signer_name.data or "",
                    current_user,
                    confirm_not_latest=request.form.get("confirm_not_latest") == "1",
                )
        except UserError as exc:
            db.session.rollback()
            problems = list(exc.details or [])
            form.form_errors.append(exc.message if not problems else _("Chưa thể ban hành:"))
            status = exc.status
        else:
            if not confirmed:
                values = {name: request.form.get(name, "") for name in _ADOPT_FIELDS}
                return redirect(url_for("drafts.adopt_confirm", draft_id=draft.id, **values), 303)
            db.session.commit()
            flash(_("Đã ban hành dự thảo."), "success")
            return redirect(_draft_url(draft))
    elif request.method == "POST":
        status = 422
    return render_template(
        "drafts/adopt.html", form=form, draft=draft, published=published, problems=problems
    ), status


@bp.route("/<int:draft_id>/adopt/confirm")
@login_required
def adopt_confirm(draft_id: int):  # type: ignore[no-untyped-def]
    """What adopting will do, with the button that does it (a POST back to the form)."""
    draft = _load_draft(draft_id)
    _drafter_only(draft)
    if draft.state == DraftState.ADOPTED:
        raise Conflict(_("Dự thảo đã được ban hành; không thể sửa đổi."))
    published = [v for v in draft.versions if v.is_published]
    form = _adopt_form(draft, published, request.args)
    form.meta.csrf = False  # a GET carries no token; the confirming POST does
    back = url_for(
        "drafts.adopt", draft_id=draft.id, **{n: request.args.get(n, "") for n in _ADOPT_FIELDS}
    )
    if not form.validate():
        return redirect(back, 303)
    version = next(v for v in published if v.id == form.version.data)
    operations.check_adoption(
        draft,
        version,
        form.decision_number.data or "",
        form.decision_date.data,
        form.signer_name.data or "",
        current_user,
        confirm_not_latest=True,
    )
    return render_template(
        "drafts/adopt_confirm.html",
        draft=draft,
        version=version,
        latest=operations.latest_published(draft),
        values={n: request.args.get(n, "") for n in _ADOPT_FIELDS},
        decision_date=form.decision_date.data,
        back=back,
    )


# --- Word documents of a version ---------------------------------------------------------
def _viewed_version(version_id: int) -> Version:
    """A version anyone who may read it may also download (no drafter check)."""
    version = get_or_404(Version, version_id, _("Không tìm thấy phiên bản."))
    ensure(version.can_view(current_user))
    about(_draft_url(version.draft, version), version.draft.title)
    return version


@bp.route("/versions/<int:version_id>/for-comment.docx")
@login_required
def for_comment_docx(version_id: int):  # type: ignore[no-untyped-def]
    return send_download(exports.for_comment_docx(_viewed_version(version_id)))


@bp.route("/versions/<int:version_id>/comment-form.docx")
@login_required
def comment_form_docx(version_id: int):  # type: ignore[no-untyped-def]
    return send_download(exports.comment_form_docx(_viewed_version(version_id)))


@bp.route("/versions/<int:version_id>/redline.docx")
@login_required
def redline_docx(version_id: int):  # type: ignore[no-untyped-def]
    """`?against=<version id>` picks the earlier version; by default the one it is based on."""
    version = _viewed_version(version_id)
    against_id = int_arg("against")
    against = _viewed_version(against_id) if against_id else None
    return send_download(exports.redline_docx(version, exports.redline_base(version, against)))
