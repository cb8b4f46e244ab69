from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("drafts", __name__, url_prefix="/drafts")


@bp.route("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    return render_template("drafts/index.html")
