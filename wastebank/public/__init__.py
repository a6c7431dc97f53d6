"""Resident self-service at /c/<token>: no login, the card's token is the key (issue 3)."""

from flask import Blueprint

# The blueprint lives here, not in views.py, so that every route module of the package
# imports it from the package and none imports another route module for it.
bp = Blueprint("public", __name__)
