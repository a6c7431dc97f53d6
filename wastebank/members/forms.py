"""Member registry forms (Flask-WTF, CSRF on). Services validate the business rules; the
forms only bound lengths and shapes."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from ..inputs import BaseForm, DayField

try:  # WTForms ≥ 3.3 deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice as _Choice
except ImportError:  # pragma: no cover - older WTForms
    def _Choice(value, label):
        return (value, label)

KIND_CHOICES = [_Choice("person", _l("Person")), _Choice("household", _l("Household")),
                _Choice("institution", _l("Institution"))]


class MemberForm(BaseForm):
    """Create or edit a member. The phone is normalised to +62… by the service."""

    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter the member's name.")),
                                               Length(max=200)])
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES, default="person")
    phone = StringField(_l("Phone"), validators=[Length(max=30)])
    address = StringField(_l("Address"), validators=[Length(max=300)])
    rt = StringField(_l("RT"), validators=[Length(max=10)])
    rw = StringField(_l("RW"), validators=[Length(max=10)])
    # Opt-in to messages after each deposit and withdrawal (docs/notifications.md).
    notify_consent = BooleanField(_l("Agrees to messages (WhatsApp/SMS) after each deposit and withdrawal"))


class NewMemberForm(MemberForm):
    """Register a member. ``idempotency_key`` (hidden, made when the form is shown) stays the
    same when the form is sent again, so a retry after a lost answer registers one member."""

    idempotency_key = HiddenField(validators=[Length(max=100)])


class ActionForm(BaseForm):
    """A button that changes something (deactivate, revoke, reissue, print): CSRF only."""


class PinForm(BaseForm):
    """Set (4–6 digits) or, left empty, remove a member's self-service PIN."""

    pin = PasswordField(_l("New PIN (4–6 digits)"),
                        validators=[Optional(), Regexp(r"^[0-9]{4,6}$", message=_l("The PIN must be 4 to 6 digits."))])
    # "save" (Simpan PIN) or "remove" (Hapus PIN, confirmed in the browser). A tester removed a PIN
    # by tapping "Simpan PIN" with the box empty; without ``action`` (older clients) empty removes.
    action = HiddenField()


class ImportForm(BaseForm):
    """Upload a member list (CSV or .xlsx) for preview."""

    file = FileField(_l("Member list (CSV or .xlsx)"))


class ConfirmImportForm(BaseForm):
    """Confirm the previewed file, named by its SHA-256."""

    sha256 = HiddenField(validators=[DataRequired(), Regexp(r"^[0-9a-f]{64}$")])


class SettingsForm(BaseForm):
    """Unit settings for members' self-service."""

    require_pin = BooleanField(_l("Residents must enter their PIN to see their balance"))
    # The public page /u/<code> (issue 12 item 7): totals and prices only, on by default.
    public_page_enabled = BooleanField(_l("Show the unit's public page (totals and prices, no names)"))
    collection_days = StringField(_l("Collection days (e.g. Sunday 08.00–10.00)"), validators=[Length(max=200)])
    collection_place = StringField(_l("Collection place"), validators=[Length(max=300)])


class StatementForm(BaseForm):
    """Period of a member statement (GET; no CSRF)."""

    class Meta:
        csrf = False

    start = DayField(_l("From"), validators=[Optional()])
    end = DayField(_l("To"), validators=[Optional()])


class PublicPinForm(BaseForm):
    """The PIN a resident types on the self-service page."""

    pin = PasswordField(_l("PIN"))
