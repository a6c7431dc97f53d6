"""Counter forms (Flask-WTF, CSRF on)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FieldList, FormField, HiddenField, StringField, TextAreaField
from wtforms.validators import Length
from wtforms.widgets import HiddenInput

from ..inputs import BaseForm, BaseSubForm, IntegerTextField


class LineForm(BaseSubForm):
    """One deposit line as typed: category code and quantity text (validated by the service)."""

    # Generous limits: the service validates the values themselves, with translated messages.
    category = StringField(_l("Category"), validators=[Length(max=200)])
    quantity = StringField(_l("Quantity"), validators=[Length(max=200)])
    # The container weighed in (its id; empty = none): ``quantity`` is then the gross.
    container = StringField(_l("Container"), validators=[Length(max=40)])


class DepositForm(BaseForm):
    """Deposit entry. ``idempotency_key`` is generated when the form is first shown and travels
    through review and save, so a double tap or a resubmission records one deposit."""

    # Above the service's 40-line limit, so that too many lines are refused with a message
    # rather than cut off silently by WTForms.
    lines = FieldList(FormField(LineForm), min_entries=0, max_entries=200)
    idempotency_key = HiddenField(validators=[Length(max=100)])
    # What the confirmation step showed as credited (rupiah): saving refuses another figure.
    expected_credited = IntegerTextField(widget=HiddenInput())  # rupiah, inputs.parse_int
    action = HiddenField()


class SearchForm(BaseForm):
    """Find a member by number, name or card token (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    q = StringField(_l("Member number, name or card"), validators=[Length(max=200)])


# --- money out (counter/withdrawals.py) ------------------------------------------------------

MAX_GOODS_ITEMS = 10


class GoodsItemForm(BaseSubForm):
    """One item handed over instead of cash (sembako): name, quantity text, value in rupiah."""

    name = StringField(_l("Item"), validators=[Length(max=100)])
    quantity = StringField(_l("Quantity"), validators=[Length(max=30)])
    value = StringField(_l("Value"), validators=[Length(max=30)])


class WithdrawForm(BaseForm):
    """Withdrawal entry. ``idempotency_key`` is generated when the form is first shown and
    travels through review and save, so a double tap records one withdrawal."""

    method = HiddenField(default="cash", validators=[Length(max=10)])
    amount = StringField(_l("Amount"), validators=[Length(max=30)])
    reference = StringField(_l("Transfer reference"), validators=[Length(max=100)])
    beneficiary = StringField(_l("Beneficiary"), validators=[Length(max=200)])
    items = FieldList(FormField(GoodsItemForm), min_entries=0, max_entries=MAX_GOODS_ITEMS)
    # Gold savings and bill payments (services/payout_methods.py checks the values): each method
    # has its own boxes, so switching methods on the tablet never carries one's text into another.
    gold_price = StringField(_l("Gold price per gram (rupiah)"), validators=[Length(max=30)])
    gold_provider = StringField(_l("Provider"), validators=[Length(max=100)])
    gold_account = StringField(_l("Gold savings account number"), validators=[Length(max=60)])
    gold_reference = StringField(_l("Provider's reference"), validators=[Length(max=100)])
    bill_kind = HiddenField(default="electricity", validators=[Length(max=12)])
    bill_provider = StringField(_l("Provider"), validators=[Length(max=100)])
    bill_customer = StringField(_l("Customer number"), validators=[Length(max=60)])
    bill_reference = StringField(_l("Payment reference"), validators=[Length(max=100)])
    token_no = StringField(_l("Electricity token (20 digits)"), validators=[Length(max=60)])
    idempotency_key = HiddenField(validators=[Length(max=100)])
    action = HiddenField()


class VoidForm(BaseForm):
    """A void: the reason (required by the service) and the idempotency key."""

    reason = TextAreaField(_l("Reason"), validators=[Length(max=500)])
    idempotency_key = HiddenField(validators=[Length(max=100)])


class ActionForm(BaseForm):
    """Approve, reject or pay: nothing but the CSRF token."""
