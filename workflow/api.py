from flask import Blueprint

bp = Blueprint("workflow_api", __name__, url_prefix="/api/v1")
