from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("workflow", __name__, url_prefix="/scoring")


@bp.route("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    return render_template("workflow/index.html")
