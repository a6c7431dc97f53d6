"""Member registry screens: members, cards, import from paper books, statements (issue 3)."""

from flask import Blueprint

# The blueprint lives here, not in views.py, so that every route module of the package
# imports it from the package and none imports another route module for it.
bp = Blueprint("members", __name__, url_prefix="/members")
