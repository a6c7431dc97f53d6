"""The app's one HTTP edge: the table of HTTP statuses (code and message), the API's error
shape (docs/rules.md §api), and the one error handler that answers every refusal as an HTML page or,
under ``/api/``, as JSON.

Every API refusal answers ``{"error": {"code", "message", "field", "details"}}`` with status
400/401/403/404/409/413/422 (or 500 for our own bugs):

* ``code`` is stable, machine-readable (``required``, ``not_a_number``, ``member_not_found``, …);
* ``message`` is a human sentence in the request's language (Flask-Babel);
* ``field`` names the first bad input — a body path such as ``lines.0.quantity``, a header such
  as ``Idempotency-Key``, a query parameter — or is null;
* ``details`` lists every bad input as ``{"field", "code", "message"}`` (at most
  ``MAX_DETAILS``), so that a tablet can mark every wrong line at once.

A page answers ``error.html`` with the status and the same table's (page) message.

Sources: marshmallow/webargs validation errors (whose messages are our codes, see
``schemas.py``), service ``DomainError`` subclasses (``status`` + ``to_dict()``) and werkzeug
``HTTPException`` (``abort(401)``, CSRF failures, 404, 413, …). :func:`register_error_handlers`
installs :func:`handle_error` on the app for all of them.
"""
from __future__ import annotations

from typing import Iterator, NamedTuple

import marshmallow as ma
from flask import jsonify, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, InternalServerError

from ..auth.permissions import has_permission
from ..extensions import db
from ..services.errors import DomainError, ValidationFailed

MAX_DETAILS = 50

# Validation codes raised by the API's schemas and parser → human message. A field or
# validator raises ``ValidationError("<code>")``; the handler turns the code into this text.
MESSAGES = {
    "required": _l("This field is required."),
    "null": _l("This field may not be null."),
    "not_a_string": _l("Give text (a JSON string) here."),
    "not_a_list": _l("Give a list here."),
    "invalid_type": _l("Give a JSON object here."),
    "unknown_field": _l("Unknown field."),
    "invalid_datetime": _l("Give a date and time in ISO 8601 with its UTC offset, "
                           "e.g. 2026-03-01T09:30:00+07:00."),
    "naive_time": _l("Give the time with its UTC offset."),
    "not_a_number": _l("Enter a number, e.g. 1,5."),
    "out_of_range": _l("This number is out of range."),
    "too_long": _l("This value is too long."),
    "bad_characters": _l("This value contains characters that are not allowed."),
    "too_many": _l("Too many lines in one deposit."),
    "invalid": _l("Invalid value."),
    "invalid_json": _l("The request body is not valid JSON."),
    "json_required": _l("Send the request body as JSON (Content-Type: application/json)."),
    "idempotency_key_required": _l("Send a unique request key of 8–100 printable ASCII "
                                   "characters in the Idempotency-Key header."),
}



class HttpError(NamedTuple):
    """One row of :data:`HTTP_ERRORS`: the API's stable ``code``, the ``page`` message of the
    HTML error page and the ``api`` message of the JSON answer (the page's when None)."""

    code: str
    page: object
    api: object = None

    @property
    def api_message(self):
        return self.page if self.api is None else self.api


# The one table of plain HTTP errors: status → code and messages. Pages and the API differ only
# where the reader does (a person at a browser, or a device that can send a bearer token).
HTTP_ERRORS: dict[int, HttpError] = {
    400: HttpError("bad_request", _l("The request could not be understood.")),
    401: HttpError("unauthorized", _l("Please log in."), _l("Log in, or send Authorization: Bearer <token>.")),
    403: HttpError("forbidden", _l("You may not open this page."), _l("You may not do this.")),
    404: HttpError("not_found", _l("Not found.")),
    405: HttpError("method_not_allowed", _l("This action is not allowed here.")),
    409: HttpError("conflict", _l("This conflicts with what is already recorded.")),
    413: HttpError("too_large", _l("The upload is too large."), _l("The request is too large.")),
    415: HttpError("json_required", MESSAGES["json_required"]),
    422: HttpError("unprocessable", _l("The request was refused.")),
    429: HttpError("too_many_requests", _l("Too many attempts; wait a minute and try again."),
                   _l("Too many requests; wait a moment and try again.")),
    500: HttpError("server_error", _l("Something went wrong on our side; nothing was saved.")),
}
CSRF_MESSAGES = HttpError(
    "csrf_failed", _l("The form has expired; please try again."),
    _l("The CSRF token is missing or expired: send it in the X-CSRFToken header, or use a bearer token."))


def http_error(status: int) -> HttpError:
    """The row for ``status``; an unlisted status uses 500's row (5xx) or 400's (4xx)."""
    return HTTP_ERRORS.get(status) or HTTP_ERRORS[500 if status >= 500 else 400]

# webargs nests validation messages under the location; these are shown as they are named.
_HEADER_CODES = {"Idempotency-Key": "idempotency_key_required"}


# --- schemas: documentation of the error body ----------------------------------------------


class ErrorDetailSchema(ma.Schema):
    """One bad input."""

    field = ma.fields.String(allow_none=True, metadata={"description": "Input path, e.g. lines.0.quantity"})
    code = ma.fields.String(required=True, metadata={"description": "Stable machine-readable code"})
    message = ma.fields.String(required=True, metadata={"description": "Human sentence, translated"})


class ErrorBodySchema(ErrorDetailSchema):
    """The refusal: first bad input's code, message and field, and every bad input."""

    details = ma.fields.List(ma.fields.Nested(ErrorDetailSchema),
                             metadata={"description": "Every bad input (validation errors only)"})


class ErrorSchema(ma.Schema):
    """``{"error": {...}}``, the body of every 4xx answer (docs/rules.md §api)."""

    error = ma.fields.Nested(ErrorBodySchema, required=True)


# --- building error responses --------------------------------------------------------------


def error_response(status: int, code: str, message, field: str | None = None,
                   details: list[dict] | None = None, headers: dict | None = None):
    """A Flask response ``(json, status, headers)`` in the error shape."""
    body = {"code": code, "message": str(message), "field": field}
    if details:
        body["details"] = details[:MAX_DETAILS]
    return jsonify(error=body), status, headers or {}


def _leaves(messages, path: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Depth-first ``(path, message)`` pairs of a marshmallow/webargs messages tree."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _leaves(value, path + (key,))
    elif isinstance(messages, (list, tuple)):
        for item in messages:
            yield from _leaves(item, path)
    else:
        yield path, str(messages)


def validation_details(messages) -> list[dict]:
    """Flatten webargs ``messages`` (``{"json": {"lines": {0: {"quantity": ["not_a_number"]}}}}``)
    into ``[{"field": "lines.0.quantity", "code": "not_a_number", "message": "…"}]``.

    The first level (the location: json, headers, query, view_args) is dropped, as is
    marshmallow's ``_schema`` (an error about the whole body, reported with field null).
    """
    if not isinstance(messages, dict):
        messages = {"json": messages}
    details = []
    for path, raw in _leaves(messages):
        location, parts = (path[0], path[1:]) if path else ("json", ())
        parts = tuple(str(p) for p in parts if p != "_schema")
        field = ".".join(parts) or None
        code = raw if raw in MESSAGES else "invalid"
        if location == "headers" and field in _HEADER_CODES:
            code = _HEADER_CODES[field]
        message = MESSAGES[code] if raw in MESSAGES or code != "invalid" else raw
        details.append({"field": field, "code": code, "message": str(message)})
        if len(details) >= MAX_DETAILS:
            break
    return details


def http_error_response(error: HTTPException):
    """The error shape for a werkzeug ``HTTPException``: webargs validation errors (with
    ``error.data["messages"]``), CSRF failures, and plain ``abort(status)``."""
    from flask_wtf.csrf import CSRFError

    status = error.code or 500
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="wastebank"'
    if getattr(error, "valid_methods", None):  # 405: the methods the URL does take
        headers["Allow"] = ", ".join(error.valid_methods)
    data = getattr(error, "data", None) or {}
    if data.get("headers"):
        headers.update(data["headers"])
    if isinstance(error, CSRFError):
        return error_response(400, CSRF_MESSAGES.code, CSRF_MESSAGES.api_message, headers=headers)
    if "messages" in data:
        details = validation_details(data["messages"])
        if details:
            first = details[0]
            return error_response(status, first["code"], first["message"], first["field"],
                                  details, headers)
    row = http_error(status)
    return error_response(status, row.code, row.api_message, headers=headers)


def domain_error_response(error: DomainError):
    """The error shape for a service refusal: ``error.status`` and ``error.to_dict()``; a
    ValidationFailed also lists every bad field in ``details``."""
    details = None
    if isinstance(error, ValidationFailed):
        details = [{"field": field, "code": code, "message": str(message)}
                   for field, (code, message) in error.errors.items()]
    body = error.to_dict()
    return error_response(error.status, body["code"], body["message"], body["field"], details)


def wants_json() -> bool:
    """True when the request is the API's (``/api/``): it is answered in the JSON error shape."""
    return request.path.startswith("/api/")


# Public pages (no login): a resident's card ``/c/<token>``, a receipt's QR check ``/r/…``,
# a unit's page ``/u/<code>``. Their error page says what happened and what the resident can
# do, and links to nothing that leads to the operator login.
PUBLIC_PREFIXES = (("/c/", "card"), ("/r/", "receipt"), ("/u/", "unit"))
# (kind, status) → heading and message on a public page; other statuses keep the table's message.
PUBLIC_ERRORS = {
    ("card", 404): (_l("Card link not valid"),
                    _l("This card link is no longer valid. Ask for a new card at your waste bank unit.")),
    ("receipt", 404): (_l("Receipt not recognised"),
                       _l("This receipt is not recognised. Check the code on the receipt again; if it "
                          "still does not match, the receipt may not be from our waste bank — ask the staff.")),
    ("unit", 404): (_l("Unit page not found"),
                    _l("There is no public page at this address, or the unit does not show it now. "
                       "Check the address, or ask your waste bank unit.")),
}


def public_kind(path: str | None = None) -> str | None:
    """``"card"``, ``"receipt"`` or ``"unit"`` when ``path`` (default: the request's) is a
    public page's, else None."""
    path = request.path if path is None else path
    return next((kind for prefix, kind in PUBLIC_PREFIXES if path.startswith(prefix)), None)


def home_link(public: bool) -> tuple[str, str] | None:
    """``(label, url)`` of the error page's way back, fitting the reader: an operator's counter,
    a unit manager's menu, anyone else's welcome page (admin, aggregator staff, collaborator);
    for nobody logged in, the login page, except on a public page (None: a resident has no
    business at the operator login)."""
    if not getattr(current_user, "is_authenticated", False):
        return None if public else (gettext("Log in"), url_for("auth.login"))
    if has_permission(current_user, "day.close"):      # a unit manager: their menu
        return gettext("Back to the home page"), url_for("manager.home")
    if has_permission(current_user, "deposit.record"):  # an operator: the counter
        return gettext("Back to the counter"), url_for("counter.find")
    return gettext("Back to the home page"), url_for("counter.home")


def render_error_page(status: int, message) -> str:
    """The HTML error page (``error.html``) for ``status`` and ``message`` (translated text).
    On a public page (:func:`public_kind`): the public layout, the :data:`PUBLIC_ERRORS`
    heading and message where listed, the status as a small code, and a link back to the card
    page for a card's other refusals (429, an expired form); everywhere :func:`home_link`."""
    kind = public_kind()
    heading = None
    if kind is not None:
        heading, message = PUBLIC_ERRORS.get((kind, status), (gettext("This page cannot be shown"), message))
    links = [link for link in [home_link(kind is not None)] if link]
    token = (request.view_args or {}).get("token")
    if kind == "card" and status not in (404, 410) and isinstance(token, str):
        links.insert(0, (gettext("Back to your card page"), url_for("public.card_page", token=token)))
    return render_template("error.html", status=status, message=str(message), public=kind is not None,
                           heading=str(heading) if heading else None, links=links)


def _page(status: int, message, headers: dict | None = None):
    return render_error_page(status, message), status, headers or {}


def handle_error(error: Exception):
    """The one error handler: a werkzeug ``HTTPException`` (``abort``, CSRF, webargs, 404, 405,
    413, 429, 500 …) or a service ``DomainError`` that reached the view → the JSON error shape
    under ``/api/`` (:func:`http_error_response`, :func:`domain_error_response`), else the
    error page with the status and the table's message (a 405 also says ``Allow``).

    Rolls the session back first: a failed flush leaves it unusable (PendingRollbackError)
    and the page reads the user through it; an error answer saves nothing anyway.
    """
    from flask_wtf.csrf import CSRFError

    db.session.rollback()
    if isinstance(error, DomainError):
        if wants_json():
            return domain_error_response(error)
        return _page(error.status, error.message)
    if not isinstance(error, HTTPException):  # a bug that Flask did not wrap (defensive)
        error = InternalServerError(original_exception=error)
    if wants_json():
        return http_error_response(error)
    status = error.code or 500
    # A 405 says which methods the URL does take (RFC 9110 §15.5.6).
    allow = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else {}
    row = CSRF_MESSAGES if isinstance(error, CSRFError) else http_error(status)
    return _page(status, row.page, allow)


def register_error_handlers(app) -> None:
    """Install :func:`handle_error` on ``app`` for every HTTP error status, for any other
    ``HTTPException`` and for ``DomainError``. By status as well as by class, because Flask
    looks a handler up by status code first."""
    from werkzeug.exceptions import default_exceptions

    for status in default_exceptions:
        app.register_error_handler(status, handle_error)
    app.register_error_handler(HTTPException, handle_error)
    app.register_error_handler(DomainError, handle_error)


class WastebankApi(Api):
    """flask-smorest's Api with our error body, documented as ``ErrorSchema`` (the default
    error response of every operation). The errors themselves are answered by the app's one
    handler (:func:`register_error_handlers`), so flask-smorest installs none of its own;
    :meth:`handle_http_exception` stays for callers of the Api (the same JSON under ``/api/``,
    flask-smorest's own shape elsewhere)."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """None: :func:`register_error_handlers` answers every error of the app."""

    def handle_http_exception(self, error):
        """Answer an HTTPException under ``/api/`` in the docs/rules.md §api error shape."""
        if wants_json():
            return http_error_response(error)
        return super().handle_http_exception(error)
