"""The counter: find a member, record a deposit, print the receipt."""

from flask import Blueprint

# The blueprint lives here, not in views.py, so that every route module of the package
# imports it from the package and none imports another route module for it.
bp = Blueprint("counter", __name__)
