"""Unit manager screens: stock, stock adjustments, off-takers, sales, cash book and daily
close, audit log (issue 4 items 3–6)."""

from flask import Blueprint

# The blueprint lives here, not in views.py, so that every route module of the package
# imports it from the package and none imports another route module for it.
bp = Blueprint("manager", __name__, url_prefix="/manager")
