from flask import Blueprint

bp = Blueprint("consolidation_api", __name__, url_prefix="/api/v1")
