from flask import Blueprint

bp = Blueprint("drafts_api", __name__, url_prefix="/api/v1")
