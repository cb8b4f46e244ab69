"""HTML routes for signing in, one's own account, and the organisation's administration.

Each view loads, checks a `can_*` predicate, validates a form and calls one operation.
"""

from __future__ import annotations

from urllib.parse import urlsplit

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
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from accounts import audit, invites, operations
from accounts.clock import add_days, now
from accounts.errors import UserError, ensure
from accounts.forms import (
    AuditFilterForm,
    ChangePasswordForm,
    DocumentSignerForm,
    EligibilityForm,
    ForgotPasswordForm,
    GroupForm,
    GroupMembersForm,
    InviteForm,
    LoginForm,
    MergeUnitForm,
    PreferencesForm,
    SetPasswordForm,
    TokenForm,
    UnitForm,
    UnitImportForm,
    UserForm,
    YearForm,
)
from accounts.models import (
    ApiToken,
    AuditEntry,
    EmulationYear,
    Group,
    GroupKind,
    NotifyMode,
    Role,
    Scope,
    Unit,
    UnitKind,
    User,
)
from accounts.params import int_arg, page_arg
from app import db, limiter, login_manager, select_locale

bp = Blueprint("accounts", __name__)

AUDIT_PAGE_SIZE = 50


@login_manager.user_loader
def load_user(token: str) -> User | None:
    user = db.session.execute(_USER, {"token": token}).unique().scalar_one_or_none()
    return user if user is not None and user.active else None


# Every request starts here: one statement (unit and roles joined), built once.
_USER = (
    select(User).where(User.session_token == bindparam("token")).options(joinedload(User.role_rows))
)


def _safe_next(target: str | None) -> str:
    """Only redirect to a path on this site after login (no open redirect)."""
    if (
        target
        and not urlsplit(target).netloc
        and target.startswith("/")
        and not target.startswith("//")
    ):
        return target
    return url_for("accounts.index")


# --- signing in -------------------------------------------------------------------------
@bp.route("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    return render_template("accounts/index.html")


def _login_rate() -> str:
    return str(current_app.config["LOGIN_RATE_PER_ADDRESS"])


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate, methods=["POST"])
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("accounts.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = operations.authenticate(
                form.username.data or "", form.password.data or "", ip=request.remote_addr or ""
            )
        except UserError as exc:
            # The failed attempt must be kept: it is what the lock-out counts.
            db.session.commit()
            flash(exc.message, "danger")
            status = exc.status
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            if user.locale:
                session["lang"] = user.locale
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form), status


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(invites.reset_rate, methods=["POST"])
def forgot_password():  # type: ignore[no-untyped-def]
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        operations.request_password_reset(form.login.data or "")
        db.session.commit()
        # The same answer whether or not the account exists.
        flash(invites.forgot_answer(), "info")
        return redirect(url_for("accounts.login"))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/password_forgot.html", form=form), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):  # type: ignore[no-untyped-def]
    return _set_password_page(token, invites.RESET)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):  # type: ignore[no-untyped-def]
    return _set_password_page(token, invites.INVITE)


def _set_password_page(token: str, purpose: invites.Purpose):  # type: ignore[no-untyped-def]
    form = SetPasswordForm()
    try:
        user = invites.user_for_token(token, purpose)
    except UserError as exc:
        page = render_template(
            "accounts/password_set.html", form=None, message=exc.message, purpose=purpose
        )
        return page, exc.status
    status = 200
    if form.validate_on_submit():
        try:
            operations.set_password_by_link(token, purpose, form.new.data or "")
        except UserError as exc:
            db.session.rollback()
            form.new.errors.append(exc.message)
            status = exc.status
        else:
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(_("Đã đặt mật khẩu. Hãy đăng nhập bằng mật khẩu mới."), "success")
            return redirect(url_for("accounts.login"))
    elif form.is_submitted():
        status = 422
    return render_template(
        "accounts/password_set.html", form=form, user=user, message=None, purpose=purpose
    ), status


@bp.route("/logout", methods=["POST"])
def logout():  # type: ignore[no-untyped-def]
    # A copy of this session's cookie must not outlive the logout: the token it names goes.
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/lang", methods=["POST"])
def set_language():  # type: ignore[no-untyped-def]
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:
            operations.set_locale(current_user, lang)
            db.session.commit()
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():  # type: ignore[no-untyped-def]
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            operations.change_password(current_user, current=form.current.data, new=form.new.data)
        except UserError as exc:
            form.current.errors.append(exc.message)
        else:
            db.session.commit()
            # Other sessions ended with the old token; this one carries on with the new.
            login_user(current_user._get_current_object())
            flash(_("Đã đổi mật khẩu."), "success")
            return redirect(url_for("accounts.index"))
    return render_template("accounts/password.html", form=form)


@bp.route("/account/sessions/end", methods=["POST"])
@login_required
def end_my_sessions():  # type: ignore[no-untyped-def]
    operations.end_sessions(current_user, actor=current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Bạn đã đăng xuất khỏi mọi thiết bị."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/preferences", methods=["GET", "POST"])
@login_required
def preferences():  # type: ignore[no-untyped-def]
    form = PreferencesForm(
        notify_mode=current_user.notify_mode.value,
        language=current_user.locale or select_locale(),
    )
    if form.validate_on_submit():
        operations.set_notify_mode(current_user, NotifyMode(form.notify_mode.data))
        operations.set_locale(current_user, form.language.data or "vi")
        db.session.commit()
        session["lang"] = current_user.locale
        flash(_("Đã lưu lựa chọn nhận thông báo."), "success")
        return redirect(url_for("accounts.preferences"))
    return render_template("accounts/preferences.html", form=form)


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():  # type: ignore[no-untyped-def]
    form = TokenForm()
    if request.method == "GET":
        form.lifetime.data = current_app.config["API_TOKEN_DAYS"]
    new_secret, status = None, 200
    if form.validate_on_submit():
        _token, new_secret = operations.create_api_token(
            current_user,
            name=form.name.data or "",
            scopes=[Scope(s) for s in form.scopes.data or []],
            expires_at=add_days(now(), form.lifetime.data),
            actor=current_user,
        )
        db.session.commit()
    elif request.method == "POST":
        status = 422
    rows = db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == current_user.id).order_by(ApiToken.id.desc())
    ).all()
    return (
        render_template("accounts/tokens.html", form=form, tokens=rows, new_secret=new_secret),
        status,
    )


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id: int):  # type: ignore[no-untyped-def]
    token = operations.get_or_404(ApiToken, token_id)
    ensure(token.can_revoke(current_user))
    operations.revoke_api_token(token, actor=current_user)
    db.session.commit()
    flash(_("Đã thu hồi mã truy cập."), "success")
    return redirect(url_for("accounts.tokens"))


# --- units ---------------------------------------------------------------------------------
def _unit_form_call(form: UnitForm) -> dict:
    return {
        "name": form.name.data or "",
        "short_name": form.short_name.data or "",
        "kind": UnitKind(form.kind.data),
        "email": form.email.data or None,
    }


@bp.route("/admin/units", methods=["GET", "POST"])
@login_required
def units():  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    form = UnitForm()
    if form.validate_on_submit():
        try:
            operations.create_unit(**_unit_form_call(form), actor=current_user)
        except UserError as exc:
            form.name.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Đã thêm đơn vị."), "success")
            return redirect(url_for("accounts.units"))
    rows = db.session.scalars(select(Unit).order_by(Unit.active.desc(), Unit.name)).all()
    return render_template(
        "accounts/units.html", form=form, units=rows, import_form=UnitImportForm()
    )


@bp.route("/admin/units/import", methods=["POST"])
@login_required
def import_units():  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    form = UnitImportForm()
    if not form.validate_on_submit():
        flash(_("Hãy chọn một tệp CSV."), "danger")
        return redirect(url_for("accounts.units"))
    try:
        text = form.file.data.read().decode("utf-8-sig")
    except UnicodeDecodeError:
        flash(_("Tệp CSV phải được lưu với bảng mã UTF-8."), "danger")
        return redirect(url_for("accounts.units"))
    try:
        report = operations.import_units_csv(text, actor=current_user)
    except UserError as exc:
        db.session.rollback()
        for line in exc.details or [exc.message]:
            flash(line, "danger")
        return redirect(url_for("accounts.units"))
    db.session.commit()
    flash(
        _(
            "Đã nhập %(created)d đơn vị mới, cập nhật %(updated)d đơn vị.",
            created=report.created,
            updated=report.updated,
        ),
        "success",
    )
    return redirect(url_for("accounts.units"))


@bp.route("/admin/units/<int:unit_id>", methods=["GET", "POST"])
@login_required
def unit_edit(unit_id: int):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    unit = operations.get_or_404(Unit, unit_id)
    form = UnitForm(obj=unit) if request.method == "GET" else UnitForm()
    if request.method == "GET":
        form.kind.data = unit.kind.value
    merge_form = MergeUnitForm()
    merge_form.target.choices = [
        (u.id, u.name)
        for u in db.session.scalars(
            select(Unit).where(Unit.active, Unit.id != unit.id).order_by(Unit.name)
        )
    ]
    if form.validate_on_submit():
        try:
            operations.update_unit(unit, **_unit_form_call(form), actor=current_user)
        except UserError as exc:
            form.name.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Đã lưu đơn vị."), "success")
            return redirect(url_for("accounts.units"))
    return render_template("accounts/unit_edit.html", unit=unit, form=form, merge_form=merge_form)


@bp.route("/admin/units/<int:unit_id>/retire", methods=["POST"])
@login_required
def unit_retire(unit_id: int):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    unit = operations.get_or_404(Unit, unit_id)
    operations.retire_unit(unit, actor=current_user)
    db.session.commit()
    flash(_("Đơn vị đã ngừng hoạt động; lịch sử được giữ nguyên."), "success")
    return redirect(url_for("accounts.units"))


@bp.route("/admin/units/<int:unit_id>/merge", methods=["POST"])
@login_required
def unit_merge(unit_id: int):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    unit = operations.get_or_404(Unit, unit_id)
    form = MergeUnitForm()
    form.target.choices = [(u.id, u.name) for u in db.session.scalars(select(Unit))]
    if not form.validate_on_submit():
        flash(_("Hãy chọn đơn vị nhận sáp nhập."), "danger")
        return redirect(url_for("accounts.unit_edit", unit_id=unit.id))
    target = operations.get_or_404(Unit, form.target.data)
    operations.merge_units(unit, target, actor=current_user)
    db.session.commit()
    flash(_("Đã sáp nhập %(a)s vào %(b)s.", a=unit.name, b=target.name), "success")
    return redirect(url_for("accounts.units"))


# --- who signs the agency's documents ----------------------------------------------------
@bp.route("/admin/signer", methods=["GET", "POST"])
@login_required
def document_signer():  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    row = operations.document_signer()
    if request.method == "GET":
        form = DocumentSignerForm(obj=row)
        form.lock_version.data = row.lock_version if row else ""
    else:
        form = DocumentSignerForm()
    if form.validate_on_submit():
        expected = form.lock_version.data
        try:
            operations.set_document_signer(
                authority=form.authority.data or "",
                title=form.title.data or "",
                name=form.name.data or "",
                expected_version=int(expected) if str(expected or "").isdigit() else None,
                actor=current_user,
            )
        except UserError as exc:
            db.session.rollback()
            # The page shows the message beside the form and keeps what was typed.
            form.name.errors.append(exc.message)
            return render_template(
                "accounts/signer.html", form=form, config=current_app.config
            ), exc.status
        db.session.commit()
        flash(_("Đã lưu người ký văn bản."), "success")
        return redirect(url_for("accounts.document_signer"))
    return render_template("accounts/signer.html", form=form, config=current_app.config)


# --- years and groups -------------------------------------------------------------------
@bp.route("/admin/years", methods=["GET", "POST"])
@login_required
def years():  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    form = YearForm()
    if form.validate_on_submit():
        year = operations.ensure_year(form.year.data, actor=current_user)
        db.session.commit()
        return redirect(url_for("accounts.year_groups", year=year.year))
    rows = db.session.scalars(select(EmulationYear).order_by(EmulationYear.year.desc())).all()
    return render_template("accounts/years.html", form=form, years=rows)


def _year_or_404(year: int) -> EmulationYear:
    row = db.session.scalars(select(EmulationYear).where(EmulationYear.year == year)).first()
    if row is None:
        from accounts.errors import NotFound

        raise NotFound(_("Chưa có năm thi đua %(year)d.", year=year))
    return row


@bp.route("/admin/years/<int:year>", methods=["GET", "POST"])
@login_required
def year_groups(year: int):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    emulation_year = _year_or_404(year)
    form = GroupForm()
    if form.validate_on_submit():
        try:
            group = operations.create_group(
                year=emulation_year,
                kind=GroupKind(form.kind.data),
                name=form.name.data or "",
                actor=current_user,
            )
        except UserError as exc:
            form.name.errors.append(exc.message)
        else:
            db.session.commit()
            return redirect(url_for("accounts.group_edit", group_id=group.id))
    eligibility = EligibilityForm(prefix="elig")
    eligibility.unit.choices = [
        (u.id, u.name) for u in db.session.scalars(select(Unit).order_by(Unit.name))
    ]
    return render_template(
        "accounts/year_groups.html", year=emulation_year, form=form, eligibility=eligibility
    )


@bp.route("/admin/years/<int:year>/eligibility", methods=["POST"])
@login_required
def year_eligibility(year: int):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    emulation_year = _year_or_404(year)
    form = EligibilityForm(prefix="elig")
    form.unit.choices = [(u.id, u.name) for u in db.session.scalars(select(Unit))]
    if form.validate_on_submit():
        unit = operations.get_or_404(Unit, form.unit.data)
        operations.set_unit_eligibility(
            unit,
            emulation_year,
            eligible=form.eligible.data,
            reason=form.reason.data or "",
            actor=current_user,
        )
        db.session.commit()
        flash(_("Đã ghi nhận điều kiện xét thi đua."), "success")
    return redirect(url_for("accounts.year_groups", year=year))


@bp.route("/admin/groups/<int:group_id>", methods=["GET", "POST"])
@login_required
def group_edit(group_id: int):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    group = operations.get_or_404(Group, group_id)
    form = GroupMembersForm()
    all_units = db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name)).all()
    form.units.choices = [(u.id, u.name) for u in all_units]
    none_choice = [(0, _("— Chưa chọn —"))]
    form.leader.choices = none_choice + [(u.id, u.name) for u in all_units]
    form.deputy.choices = none_choice + [(u.id, u.name) for u in all_units]
    if request.method == "GET":
        form.units.data = [u.id for u in group.units]
        form.leader.data = group.leader.id if group.leader else 0
        form.deputy.data = group.deputy.id if group.deputy else 0
    if form.validate_on_submit():
        chosen = [u for u in all_units if u.id in set(form.units.data or [])]
        by_id = {u.id: u for u in all_units}
        try:
            operations.set_group_members(group, chosen, actor=current_user)
            db.session.flush()
            operations.set_group_leadership(
                group,
                leader=by_id.get(form.leader.data),
                deputy=by_id.get(form.deputy.data),
                actor=current_user,
            )
        except UserError as exc:
            db.session.rollback()
            form.units.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Đã lưu %(name)s.", name=group.name), "success")
            return redirect(url_for("accounts.year_groups", year=group.year.year))
    return render_template("accounts/group_edit.html", group=group, form=form)


# --- users ---------------------------------------------------------------------------------
def _user_form(user: User | None = None) -> UserForm:
    form = UserForm(obj=user) if user is not None and request.method == "GET" else UserForm()
    form.unit.choices = [
        (u.id, u.name)
        for u in db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name))
    ]
    if user is not None and request.method == "GET":
        form.unit.data = user.unit_id
        form.roles.data = [r.value for r in user.roles]
    return form


@bp.route("/admin/users")
@login_required
def users():  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("accounts/users.html", users=rows)


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def user_new():  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    form = _user_form()
    if form.validate_on_submit():
        if not form.password.data:
            form.password.errors.append(_("Hãy đặt mật khẩu ban đầu."))
        else:
            try:
                operations.create_user(
                    username=form.username.data or "",
                    full_name=form.full_name.data or "",
                    email=form.email.data or "",
                    unit=operations.get_or_404(Unit, form.unit.data),
                    roles=[Role(r) for r in form.roles.data or []],
                    password=form.password.data,
                    actor=current_user,
                )
            except UserError as exc:
                form.username.errors.append(exc.message)
            else:
                db.session.commit()
                flash(_("Đã tạo người dùng."), "success")
                return redirect(url_for("accounts.users"))
    return render_template("accounts/user_edit.html", form=form, user=None)


@bp.route("/admin/users/invite", methods=["GET", "POST"])
@login_required
def user_invite():  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    form = InviteForm()
    form.unit.choices = [
        (u.id, u.name)
        for u in db.session.scalars(select(Unit).where(Unit.active).order_by(Unit.name))
    ]
    if request.method == "GET":
        form.unit.data = int_arg("unit")
    status = 200
    if form.validate_on_submit():
        try:
            user = operations.invite_user(
                username=form.username.data or "",
                full_name=form.full_name.data or "",
                email=form.email.data or "",
                unit=operations.get_or_404(Unit, form.unit.data),
                roles=[Role(r) for r in form.roles.data or []],
                actor=current_user,
            )
        except UserError as exc:
            db.session.rollback()
            form.username.errors.append(exc.message)
            status = exc.status
        else:
            db.session.commit()
            flash(_("Đã gửi lời mời tới %(email)s.", email=user.email), "success")
            return redirect(url_for("accounts.user_invite", unit=user.unit_id))
    elif form.is_submitted():
        status = 422
    unit_users = []
    if form.unit.data:
        unit_users = db.session.scalars(
            select(User).where(User.unit_id == form.unit.data).order_by(User.username)
        ).all()
    return render_template("accounts/user_invite.html", form=form, unit_users=unit_users), status


@bp.route("/admin/users/<int:user_id>/invite", methods=["POST"])
@login_required
def user_reinvite(user_id: int):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    user = operations.get_or_404(User, user_id)
    operations.resend_invitation(user, actor=current_user)
    db.session.commit()
    flash(_("Đã gửi lại lời mời tới %(email)s.", email=user.email), "success")
    return redirect(url_for("accounts.user_edit", user_id=user.id))


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def user_edit(user_id: int):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    user = operations.get_or_404(User, user_id)
    form = _user_form(user)
    if form.validate_on_submit():
        try:
            operations.update_user(
                user,
                full_name=form.full_name.data or "",
                email=form.email.data or "",
                unit=operations.get_or_404(Unit, form.unit.data),
                roles=[Role(r) for r in form.roles.data or []],
                active=form.active.data,
                actor=current_user,
            )
            if form.password.data:
                user.set_password(form.password.data)
                user.end_sessions()
        except UserError as exc:
            form.roles.errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("Đã lưu người dùng."), "success")
            return redirect(url_for("accounts.users"))
    return render_template("accounts/user_edit.html", form=form, user=user)


@bp.route("/admin/users/<int:user_id>/sessions/end", methods=["POST"])
@login_required
def user_end_sessions(user_id: int):  # type: ignore[no-untyped-def]
    ensure(current_user.can_administer())
    user = operations.get_or_404(User, user_id)
    operations.end_sessions(user, actor=current_user)
    db.session.commit()
    if user.id == current_user.id:
        logout_user()
        session.clear()
        return redirect(url_for("accounts.login"))
    flash(_("Đã đăng xuất %(name)s khỏi mọi thiết bị.", name=user.username), "success")
    return redirect(url_for("accounts.user_edit", user_id=user.id))


# --- audit log -----------------------------------------------------------------------------
@bp.route("/admin/audit")
@login_required
def audit_log():  # type: ignore[no-untyped-def]
    ensure(current_user.can_view_audit())
    form = AuditFilterForm(request.args)
    page = page_arg()
    query = select(AuditEntry).where(audit.readable_by(current_user)).order_by(AuditEntry.id.desc())
    if form.action.data:
        query = query.where(AuditEntry.action.contains(form.action.data.strip()))
    if form.object_type.data:
        query = query.where(AuditEntry.object_type == form.object_type.data.strip())
    if form.user.data:
        query = query.join(User, User.id == AuditEntry.actor_id).where(
            User.username == form.user.data.strip().lower()
        )
    rows = db.session.scalars(
        query.limit(AUDIT_PAGE_SIZE + 1).offset((page - 1) * AUDIT_PAGE_SIZE)
    ).all()
    return render_template(
        "accounts/audit.html",
        form=form,
        audit_action_label=audit.action_label,
        entries=rows[:AUDIT_PAGE_SIZE],
        page=page,
        has_next=len(rows) > AUDIT_PAGE_SIZE,
    )
