"""Counter screens (placeholder while building)."""
from flask import Blueprint

bp = Blueprint("counter", __name__)


@bp.route("/")
def home():
    return "wastebank"
