"""Authentication (sessions and bearer tokens) and the one shared permission mechanism."""

from flask import Blueprint

# The blueprint lives here, not in views.py, so that every route module of the package
# imports it from the package and none imports another route module for it.
bp = Blueprint("auth", __name__)
