"""Manager forms (Flask-WTF, CSRF on). Values are validated by the services, which own the
rules (quantities, rupiah, kinds, payments); the forms only carry text and the idempotency key.
Choices are plain text fields rendered as radio buttons or selects from the lists below
(WTForms 3.2 deprecates tuple choices)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..inputs import TOO_LONG, BaseForm, IntegerTextField

DIRECTIONS = (("out", _l("Write off (shrinkage, spoiled, lost)")), ("in", _l("Add (stock found)")))
OFFTAKER_KINDS = (("pengepul", _l("Collector (pengepul)")), ("bsi", _l("Bank Sampah Induk")),
                  ("recycler", _l("Recycler")), ("other", _l("Other")))
PAYMENTS = (("cash", _l("Cash")), ("credit", _l("On credit (receivable)")))


class AdjustForm(BaseForm):
    """A stock adjustment: category code, direction (``out`` write-off / ``in`` found stock),
    quantity text (``"0,5"``) and the reason. Each empty field has its own message (the
    screen lists one per field, never WTForms' English default)."""

    category = StringField(_l("Category"), validators=[DataRequired(message=_l("Choose the category of waste.")),
                                                       Length(max=30, message=TOO_LONG)])
    direction = StringField(_l("Direction"), default="out")
    quantity = StringField(_l("Quantity"), validators=[DataRequired(message=_l("Enter the quantity to add or remove.")),
                                                       Length(max=30, message=TOO_LONG)])
    reason = StringField(_l("Reason"), validators=[DataRequired(message=_l("Say why the stock is adjusted.")),
                                                   Length(max=500, message=TOO_LONG)])
    idempotency_key = HiddenField(validators=[Length(max=100)])


class OfftakerForm(BaseForm):
    """Register an off-taker. ``idempotency_key`` (hidden, made when the form is shown) stays
    the same when the form is sent again after a lost reply."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = StringField(_l("Kind"), default="pengepul")
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    idempotency_key = HiddenField(validators=[Length(max=100)])


class SaleForm(BaseForm):
    """The sale's header. The lines travel as ``w-<CODE>`` (weighed), ``a-<CODE>`` (accepted)
    and ``p-<CODE>`` (price) fields, one row per category in stock."""

    offtaker = IntegerTextField(_l("Off-taker"), validators=[DataRequired()], minimum=1)
    payment = StringField(_l("Payment"), default="cash")
    note = TextAreaField(_l("Note"), validators=[Length(max=500)])
    idempotency_key = HiddenField(validators=[Length(max=100)])


class CloseForm(BaseForm):
    """The daily close: the day (ISO date) and the cash counted in the box (rupiah text)."""

    business_date = HiddenField(validators=[DataRequired(), Length(max=10)])
    counted = StringField(_l("Cash counted"), validators=[DataRequired(), Length(max=30)])
