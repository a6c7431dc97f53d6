"""The one place the HTML screens read what a browser sends: form fields and query arguments.

* **Text** — every field of every form obeys the API's text rule (``wastebank.text``: no
  control, format, surrogate, private-use or unassigned characters): the forms derive from
  ``BaseForm`` / ``BaseSubForm``, whose ``Meta`` adds ``text_filter`` to each text field, so
  a field holding NUL, an ANSI escape, a zero-width character or an RTL override fails
  validation with a translated message. A multi-line box (``TextAreaField``) may also carry
  line breaks (CR LF from the browser is stored as LF). Query arguments a view reads itself go
  through ``text_arg``.
* **Whole numbers** — ``parse_int`` (ASCII digits only, within the database's BIGINT range);
  ``int_arg`` for a query argument, ``IntegerTextField`` for a form field.
* **Days** — ``DayField`` and ``day_arg``, both through ``timeutil.parse_day``
  (``YYYY-MM-DD`` between ``timeutil.MIN_DAY`` and ``MAX_DAY``).

A bad query argument answers 400 with the error page and its message (``refuse``); a bad form
field is an error on the form, which the view shows with a 4xx. Nothing is written either way.
Rules: docs/input-rules.md.
"""
from __future__ import annotations

import re
from datetime import date

from flask import abort, make_response, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter, UnicodeConverter, ValidationError
from wtforms import BooleanField, Form, StringField, TextAreaField
from wtforms.fields.choices import SelectFieldBase
from wtforms.meta import DefaultMeta
from wtforms.validators import StopValidation

from .money import InputError
from .text import has_bad_characters
from .timeutil import MAX_DAY, MIN_DAY, parse_day

#: The database's integer columns are BIGINT (PostgreSQL) / 64-bit INTEGER (SQLite).
BIGINT_MAX = 2**63 - 1
BIGINT_MIN = -(2**63)

BAD_CHARACTERS = _l("This value contains characters that are not allowed.")
TOO_LONG = _l("This value is too long.")
NOT_A_WHOLE_NUMBER = _l("Enter a whole number using the digits 0–9.")
OUT_OF_RANGE = _l("This number is out of range.")


def bad_day_message():
    """The translated sentence for a day that cannot be used (shape or range)."""
    return _l("Enter a date as YYYY-MM-DD between %(first)s and %(last)s.",
              first=MIN_DAY.isoformat(), last=MAX_DAY.isoformat())


# --- text -------------------------------------------------------------------------------------

_LINE_BREAKS = re.compile(r"\r\n?")
#: No field of any form takes more (the longest, a reopen reason, takes 2,000); the fields'
#: own ``Length`` validators give the exact limit.
MAX_FIELD_LENGTH = 10_000


def text_problem(value: str, *, multiline: bool = False):
    """The translated reason ``value`` breaks the text rule (``wastebank.text``), or None.
    ``multiline`` allows LF line breaks (a multi-line box)."""
    if multiline:
        value = value.replace("\n", "")
    return BAD_CHARACTERS if has_bad_characters(value) else None


def text_filter(value, *, multiline: bool = False):
    """WTForms filter: ``value`` unchanged (CR LF/CR → LF when ``multiline``), or ValueError
    with the translated message when it breaks the text rule or is longer than
    ``MAX_FIELD_LENGTH``. Non-text data (None, dates) passes."""
    if not isinstance(value, str):
        return value
    if len(value) > MAX_FIELD_LENGTH:  # before the per-character scan: a megabyte costs a second
        raise ValueError(str(TOO_LONG))
    if multiline:
        value = _LINE_BREAKS.sub("\n", value)
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise ValueError(str(problem))
    return value


def _multiline_filter(value):
    return text_filter(value, multiline=True)


def raw_text_rule(form, field):
    """WTForms validator: every posted value of a non-text field (a checkbox, a select) obeys
    the text rule too, so that ``"\\x00"`` is not read as "checked"."""
    for value in field.raw_data or ():
        if isinstance(value, str) and len(value) > MAX_CHOICE_LENGTH:
            raise StopValidation(str(TOO_LONG))
        if isinstance(value, str) and text_problem(value):
            raise StopValidation(str(BAD_CHARACTERS))


_CHOICE_FIELDS = (BooleanField, SelectFieldBase)
MAX_CHOICE_LENGTH = 200  # a checkbox's or an option's value is a short code


class _TextRuleMeta(DefaultMeta):
    """Adds the text rule to every field the form binds: a filter on text fields
    (``StringField`` and its kinds: hidden, password, text area, search…), a validator of the
    posted values on the others (checkboxes, selects)."""

    def bind_field(self, form, unbound_field, options):
        if issubclass(unbound_field.field_class, StringField):
            rule = _multiline_filter if issubclass(unbound_field.field_class, TextAreaField) else text_filter
            options = dict(options, filters=(*unbound_field.kwargs.get("filters", ()), rule))
        elif issubclass(unbound_field.field_class, _CHOICE_FIELDS) and len(unbound_field.args) < 2:
            # (the app passes validators by keyword only)
            validators = unbound_field.kwargs.get("validators") or ()
            options = dict(options, validators=[raw_text_rule, *validators])
        return super().bind_field(form, unbound_field, options)


class BaseForm(FlaskForm):
    """Every screen's form: Flask-WTF (CSRF) plus the text rule on each text field."""

    class Meta(_TextRuleMeta):
        pass

    def error_messages(self) -> list[str]:
        """Every field's errors (sub-forms and lists flattened), CSRF excluded, as text."""
        return _flatten(self)


class BaseSubForm(Form):
    """A row inside a ``FieldList(FormField(...))`` of a ``BaseForm``: the same text rule."""

    class Meta(_TextRuleMeta):
        pass


def _flatten(form) -> list[str]:
    out = []
    for field in form:
        if field.name.endswith("csrf_token"):
            continue
        errors = field.errors
        stack = [errors]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, (list, tuple)):
                stack.extend(reversed(item))
            elif item:
                out.append(str(item))
    return list(dict.fromkeys(out))


# --- whole numbers ----------------------------------------------------------------------------

_ASCII_INT = re.compile(r"-?[0-9]+")


def parse_int(text, *, minimum: int = 0, maximum: int = BIGINT_MAX) -> int:
    """``"42"`` → 42. ASCII digits only (``"²"``, ``"١٢"``, ``"1e3"``, ``"1.0"``, ``"NaN"``
    refused), an optional ``-``, surrounding spaces ignored; the value within
    ``minimum``..``maximum`` (default 0..2^63−1, a BIGINT). Raises ``money.InputError``
    (``not_a_number`` or ``out_of_range``, translated message)."""
    text = text.strip() if isinstance(text, str) else ""
    if not _ASCII_INT.fullmatch(text):
        raise InputError(NOT_A_WHOLE_NUMBER, "not_a_number")
    digits = text.lstrip("-").lstrip("0")
    if len(digits) > 19:  # beyond any BIGINT; never hand a long digit string to int()
        raise InputError(OUT_OF_RANGE, "out_of_range")
    value = int(text)
    if not minimum <= value <= maximum:
        raise InputError(OUT_OF_RANGE, "out_of_range")
    return value


class IntegerTextField(StringField):
    """A whole number typed or posted as text (``parse_int``); ``data`` is the int, or None
    when empty. A bad value is a field error with ``parse_int``'s message."""

    def __init__(self, label=None, validators=None, *, minimum: int = 0, maximum: int = BIGINT_MAX, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        self.data = None
        if text is None or not str(text).strip():
            return
        try:
            self.data = parse_int(text, minimum=self.minimum, maximum=self.maximum)
        except InputError as exc:
            raise ValueError(str(exc.message)) from exc

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)


# --- days -------------------------------------------------------------------------------------


class DayField(StringField):
    """A local day typed as ``YYYY-MM-DD`` (``timeutil.parse_day``: 1970-01-01..9000-12-31);
    ``data`` is the ``date``, or None when empty. Anything else is a field error."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "") or ""
        self.data = None
        if not text.strip():
            return
        day = parse_day(text)
        if day is None:
            raise ValueError(str(bad_day_message()))
        self.data = day

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.data.isoformat() if isinstance(self.data, date) else ""


# --- query arguments --------------------------------------------------------------------------


def refuse(message, status: int = 400):
    """Stop the request with the error page showing ``message`` (translated), ``status`` 400."""
    from .api.errors import render_error_page

    abort(make_response(render_error_page(status, message), status))


def text_arg(name: str, default: str = "", *, max_length: int = 100, source=None) -> str:
    """The query argument ``name`` (or of ``source``, e.g. ``request.form``), stripped;
    ``default`` when absent. 400 when longer than ``max_length`` or breaking the text rule."""
    values = request.args if source is None else source
    value = values.get(name)
    if value is None:
        return default
    value = value.strip()
    if len(value) > max_length:
        refuse(TOO_LONG)
    if text_problem(value):
        refuse(BAD_CHARACTERS)
    return value


def int_arg(name: str, default: int | None = None, *, minimum: int = 0, maximum: int = BIGINT_MAX,
            source=None) -> int | None:
    """The query argument ``name`` as a whole number (``parse_int``); ``default`` when absent
    or empty; 400 with the message otherwise."""
    values = request.args if source is None else source
    text = values.get(name)
    if text is None or not text.strip():
        return default
    try:
        return parse_int(text, minimum=minimum, maximum=maximum)
    except InputError as exc:
        refuse(exc.message)


def day_arg(name: str, default: date | None = None, *, source=None) -> date | None:
    """The query argument ``name`` as a day (``timeutil.parse_day``); ``default`` when absent
    or empty; 400 with the message for any other text."""
    values = request.args if source is None else source
    text = values.get(name)
    if text is None or not text.strip():
        return default
    day = parse_day(text)
    if day is None:
        refuse(bad_day_message())
    return day


# --- path segments ----------------------------------------------------------------------------


class BigIntConverter(IntegerConverter):
    """The URL map's ``<int:…>``: Werkzeug's, bounded to a BIGINT, so that an id past 2^63−1
    is a 404 (no such record) instead of an overflow in the database driver."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", BIGINT_MAX)
        super().__init__(map, *args, **kwargs)


class TextSegmentConverter(UnicodeConverter):
    """The URL map's default ``<arg>``: Werkzeug's, refusing a segment that breaks the text rule
    (NUL, zero-width, RTL override…), so that the route does not match (404) and such a value
    never reaches a query (PostgreSQL refuses NUL in text)."""

    def to_python(self, value: str) -> str:
        if has_bad_characters(value):
            raise ValidationError()
        return value


class RawSegmentConverter(UnicodeConverter):
    """``<raw:…>``: any segment, for a view that checks the text itself and answers its own
    error (the API's ``member_not_found`` in its JSON shape, not the router's generic 404)."""
