"""Statement and report screens (issue 5)."""

from flask import Blueprint

# The blueprint lives here, not in views.py, so that every route module of the package
# imports it from the package and none imports another route module for it.
bp = Blueprint("statements", __name__)
