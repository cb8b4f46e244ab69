from flask import Blueprint

bp = Blueprint("comments_api", __name__, url_prefix="/api/v1")
