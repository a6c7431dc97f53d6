"""Marshmallow schemas of API v1: they validate requests (through webargs) and generate the
OpenAPI document (through apispec), so the two cannot drift apart.

Conventions: money is whole rupiah (``*_idr``, int); quantities are int thousandths of the
category's unit of measure (``quantity_milli``: grams for kg, millilitres for L, thousandths of
a piece for pcs); times are ISO 8601 with offset, stored and answered in UTC.

Validation errors carry *codes* as their messages (``ValidationError("not_a_number")``);
``errors.validation_details`` turns them into translated sentences.
"""
from __future__ import annotations

import json
from decimal import Decimal

import marshmallow as ma
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser, abort, is_json_request

from ..services.deposits import MAX_LINES, LineInput
from ..text import has_bad_characters
from ..services.idempotency import MAX_KEY_LENGTH
from ..models.money_out import BILL_KINDS, WITHDRAWAL_METHODS
from ..services.withdrawals import WithdrawalInput

# Longest texts accepted, in characters (the columns are shorter still).
MAX_MEMBER_REF = 300   # a member number, a card token or a scanned card URL
MAX_CATEGORY = 30
MAX_QUANTITY_TEXT = 32
MAX_UNIT_CODE = 20
# A JSON number for a quantity: normalised digits within 10^-6 … 10^15, else out of range.
_MIN_ADJUSTED, _MAX_ADJUSTED = -6, 15
# JSON integers longer than this are read as Decimal (Python refuses > 4300 digits as int).
_MAX_INT_DIGITS = 30


# --- JSON parsing ----------------------------------------------------------------------------


def _parse_int(text: str):
    return int(text) if len(text) <= _MAX_INT_DIGITS else Decimal(text)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs):
    """An object's members as a dict, refusing a name given twice (``{"member": A, "member":
    B}``): which one counts would depend on who reads the body."""
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_json_body(raw: bytes):
    """Parse a request body: numbers with a fraction or exponent become ``Decimal`` (never
    float), very long integers too; ``NaN``/``Infinity`` and repeated keys are refused. Raises
    ValueError (including JSONDecodeError and UnicodeDecodeError) or RecursionError."""
    return json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_int=_parse_int,
                      parse_constant=_reject_constant, object_pairs_hook=_unique_keys)


class ApiParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies with ``parse_json_body``.

    A body that is not ``application/json`` → 400 ``json_required``; malformed JSON (also
    invalid UTF-8, absurd nesting, ``NaN``) → 400 ``invalid_json``.
    """

    def _raw_load_json(self, req):
        if not is_json_request(req):
            abort(400, messages={"json": ["json_required"]})
        try:
            return parse_json_body(req.get_data(cache=True))
        except (ValueError, RecursionError) as exc:
            abort(400, exc=exc, messages={"json": ["invalid_json"]})


class ApiBlueprint(Blueprint):
    """flask-smorest Blueprint whose ``@arguments`` use ``ApiParser``."""

    ARGUMENTS_PARSER = ApiParser()


# --- fields ----------------------------------------------------------------------------------

# The text rule (wastebank.text.has_bad_characters) in the OpenAPI document: the pattern states
# the control characters (Cc); the note adds the other category-C characters JSON Schema
# regexes cannot name portably (format, surrogate, private-use, unassigned).
NO_CONTROL_PATTERN = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
NO_CONTROL_NOTE = ("No control or invisible format characters (Unicode category C: Cc, Cf, Cs, "
                   "Co, Cn, e.g. NUL, ESC, U+200B, U+202E): 422 `bad_characters`.")
# What services.idempotency.check_key accepts.
IDEMPOTENCY_KEY_PATTERN = "^[A-Za-z0-9_.:-]{8,%d}$" % MAX_KEY_LENGTH


def _clean_text(value: str, max_length: int) -> str:
    if len(value) > max_length:
        raise ma.ValidationError("too_long")
    if has_bad_characters(value):  # wastebank.text: the one rule for stored text
        raise ma.ValidationError("bad_characters")
    return value


class Text(ma.fields.String):
    """A JSON string of at most ``max_length`` characters without control characters."""

    default_error_messages = {"required": "required", "null": "null", "invalid": "not_a_string",
                              "invalid_utf8": "not_a_string", "validator_failed": "invalid"}

    def __init__(self, *, max_length: int, **kwargs):
        self.max_length = max_length
        metadata = {"maxLength": max_length, "pattern": NO_CONTROL_PATTERN, **kwargs.pop("metadata", {})}
        text = metadata.get("description", "").rstrip()
        metadata["description"] = (text + ("" if not text or text.endswith(".") else ".") + " "
                                   + NO_CONTROL_NOTE).strip()
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return _clean_text(super()._deserialize(value, attr, data, **kwargs), self.max_length)


class Quantity(ma.fields.Field):
    """A quantity as typed (``"1,5"``, ``"750 g"``) or as a JSON number (``1.5``, ``2``).

    Loads to the *text* handed to ``money.parse_quantity``, which alone decides what it means
    (docs/rules.md §quantities): a number becomes its exact decimal digits (``1.5`` → ``"1.5"``,
    ``1.50`` → ``"1.5"``, ``2`` → ``"2"``), never passing through float arithmetic. Booleans, null,
    objects and lists are refused (``not_a_number``); huge or tiny numbers ``out_of_range``.
    """

    default_error_messages = {"required": "required", "null": "not_a_number",
                              "validator_failed": "invalid"}

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if isinstance(value, bool):
            raise ma.ValidationError("not_a_number")
        if isinstance(value, str):
            return _clean_text(value, MAX_QUANTITY_TEXT)
        if isinstance(value, int):
            value = Decimal(value)
        elif isinstance(value, float):  # only when a caller bypasses parse_json_body
            value = Decimal(repr(value))
        if not isinstance(value, Decimal):
            raise ma.ValidationError("not_a_number")
        if not value.is_finite():
            raise ma.ValidationError("not_a_number")
        if value and not _MIN_ADJUSTED <= value.adjusted() <= _MAX_ADJUSTED:
            raise ma.ValidationError("out_of_range")
        return format(value.normalize(), "f")

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class Lines(ma.fields.List):
    """A list of at most ``max_items`` entries; longer lists are refused (``too_many``)
    before any entry is read, so 10 000 lines cost nothing."""

    default_error_messages = {"required": "required", "null": "null", "invalid": "not_a_list",
                              "validator_failed": "invalid"}

    def __init__(self, inner, *, max_items: int, **kwargs):
        self.max_items = max_items
        metadata = {"maxItems": max_items, **kwargs.pop("metadata", {})}
        super().__init__(inner, metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (list, tuple)) and len(value) > self.max_items:
            raise ma.ValidationError("too_many")
        return super()._deserialize(value, attr, data, **kwargs)


class LineEntry(ma.fields.Nested):
    """One entry of ``lines``: an object (anything else is ``invalid_type``)."""

    default_error_messages = {"required": "required", "null": "invalid_type", "type": "invalid_type"}


class CaptureTime(ma.fields.AwareDateTime):
    """ISO 8601 date and time with a UTC offset (a naive time is refused: ``naive_time``)."""

    default_error_messages = {"required": "required", "null": "null", "invalid": "invalid_datetime",
                              "invalid_awareness": "naive_time", "format": "invalid_datetime",
                              "validator_failed": "invalid"}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or len(value) > 64:
            raise ma.ValidationError("invalid_datetime")
        return super()._deserialize(value, attr, data, **kwargs)


class IdempotencyKey(ma.fields.String):
    """The ``Idempotency-Key`` header: 8–100 characters of ``[A-Za-z0-9_.:-]``, generated by
    the client once per business operation (a UUID is fine) and reused for every retry.

    Documented here, checked in one place: the service's idempotency envelope
    (``services.idempotency.execute`` → ``check_key``), which the counter forms and the CLI
    reach too. The field passes the header's text through as it came."""

    default_error_messages = {"required": "required", "null": "required", "invalid": "invalid",
                              "validator_failed": "invalid"}


# --- schemas ---------------------------------------------------------------------------------


class ApiSchema(ma.Schema):
    """Base: unknown fields are refused, error messages are codes."""

    error_messages = {"unknown": "unknown_field", "type": "invalid_type"}

    class Meta:
        unknown = ma.RAISE


class IdempotencyHeaderSchema(ma.Schema):
    """Headers of a money-moving request."""

    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = IdempotencyKey(
        required=True, data_key="Idempotency-Key",
        metadata={"description": "Unique per business operation: 8–100 characters from "
                                 "`A–Z a–z 0–9 _ . : -` (a UUID is fine; anything else, a comma "
                                 "or a space inside included, is 422 idempotency_key_required); "
                                 "a retry with the same key and body returns the first "
                                 "answer and moves nothing; with another body → 409 "
                                 "idempotency_key_reused.",
                  "minLength": 8, "maxLength": MAX_KEY_LENGTH, "pattern": IDEMPOTENCY_KEY_PATTERN,
                  "example": "3f6c2a1e-9b0d-4c57-8e1a-2d7f5b9c0a44"})


class ContainerRef(ma.fields.Field):
    """A container of the caller's unit: its id (integer) or its name (text, any case)."""

    default_error_messages = {"null": "invalid_type", "validator_failed": "invalid"}

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ma.ValidationError("invalid_type")
        return value if isinstance(value, int) else _clean_text(value, 40)

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class DepositLineRequestSchema(ApiSchema):
    """One line as weighed: category code and quantity (the net), or the gross weight on the
    scale with the container it was weighed in (docs/tare.md)."""

    category = Text(required=True, max_length=MAX_CATEGORY,
                    metadata={"description": "Category code, e.g. PET-CLEAN", "example": "PET-CLEAN"})
    container = ContainerRef(
        load_default=None,
        metadata={"oneOf": [{"type": "integer"}, {"type": "string", "maxLength": 40}], "example": "Karung",
                  "description": "Container of the unit the waste was weighed in (id or name, any case; "
                                 "kg lines only): its weight is taken off `gross`. Unknown, inactive or "
                                 "another unit's → 422 `unknown_container`; on a non-kg line → "
                                 "`tare_not_kg`; a container weighing as much as the gross or more → "
                                 "`tare_not_less` on `lines.<i>.gross`. Needs `gross`."})
    gross = Quantity(
        load_default=None, allow_none=False,  # absent is None; an explicit null is not_a_number
        metadata={"oneOf": [{"type": "string"}, {"type": "number"}], "example": "1,7",
                  "description": "The weight on the scale, written as `quantity`; the net (gross − the "
                                 "container's weight) is priced and credited. Give `quantity` or `gross`, "
                                 "not both (`quantity_and_gross`)."})
    quantity = Quantity(
        load_default=None, allow_none=False,
        metadata={"oneOf": [{"type": "string"}, {"type": "number"}], "example": "1,5",
                  "description": "In the category's unit: text with one decimal mark (',' or "
                                 "'.'), at most three decimals, no thousands separator "
                                 "(\"1,5\", \"1.5\", \"2,000\" = 2 kg), or a sub-unit "
                                 "(\"750 g\", \"250 ml\"); or a JSON number (1.5). A pcs "
                                 "category counts whole pieces: no decimal mark at all (\"3\", "
                                 "\"3 buah\"; \"2,5\" and \"2,0\" are too_precise)."})

    @ma.validates_schema
    def _weight_given(self, data: dict, **kwargs):
        """A line needs its weight: ``quantity`` (net) or ``gross`` (docs/tare.md)."""
        if data.get("quantity") is None and data.get("gross") is None:
            raise ma.ValidationError("required", "quantity")


class DepositRequestSchema(ApiSchema):
    """Body of ``POST /api/v1/deposits``."""

    member = Text(required=True, max_length=MAX_MEMBER_REF,
                  metadata={"description": "Member number (RW05-0001), card token or scanned card URL",
                            "example": "RW05-0001"})
    lines = Lines(LineEntry(DepositLineRequestSchema), required=True, max_items=MAX_LINES,
                  metadata={"description": f"1–{MAX_LINES} lines"})
    recorded_at = CaptureTime(
        load_default=None, allow_none=True,
        metadata={"description": "When the deposit was captured, for entries queued offline; "
                                 "ISO 8601 with offset, at most 5 minutes ahead of the server's "
                                 "clock (else 422 `in_future`) and at most 31 days behind it "
                                 "(else 422 `too_old`). Default: now."})
    expected_credited_idr = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=ma.validate.Range(min=0, max=10**12),
        metadata={"description": "What the tablet showed the member would be credited (rupiah). "
                                 "When given and the server's figure differs (prices changed), the "
                                 "deposit is refused with 409 `quote_changed` and nothing is written."})

    @ma.post_load
    def service_input(self, data: dict, **kwargs) -> dict:
        """The body as ``services.deposits.record_deposit`` takes it: ``lines`` become
        ``LineInput(category, quantity text)``; ``member``, ``recorded_at`` and
        ``expected_credited_idr`` stay."""
        return {**data, "lines": [LineInput(line["category"], line["quantity"], container=line["container"],
                                            gross=line["gross"]) for line in data["lines"]]}


def _out(field_cls, description: str | None = None, **metadata):
    """A response field (always present); ``description`` goes into the OpenAPI document."""
    if description:
        metadata["description"] = description
    return field_cls(required=True, metadata=metadata)


class DepositLineSchema(ma.Schema):
    """A recorded line with the price copied onto it."""

    category = _out(ma.fields.String, "Category code")
    quantity_milli = _out(ma.fields.Integer, "Net, thousandths of `unit` (1500 = 1.5 kg): priced and credited")
    gross_milli = _out(ma.fields.Integer, "What the scale showed, thousandths (= quantity_milli without a container)")
    tare_milli = _out(ma.fields.Integer, "The container's weight taken off, thousandths (0 without one)")
    container = ma.fields.String(required=True, allow_none=True,
                                 metadata={"description": "The container's name as it was then, or null"})
    unit = _out(ma.fields.String, enum=["kg", "L", "pcs"])
    unit_price_idr = _out(ma.fields.Integer, "Buy price, whole rupiah per unit")
    amount_idr = _out(ma.fields.Integer, "round_half_up(quantity_milli × price / 1000), rupiah")


class DepositSchema(ma.Schema):
    """The receipt of a recorded deposit; a replay returns the same body."""

    id = _out(ma.fields.Integer)
    receipt_no = _out(ma.fields.String, example="RW05-2026-000123")
    member_no = _out(ma.fields.String, example="RW05-0001")
    recorded_at = _out(ma.fields.String, "Capture time, UTC", format="date-time")
    posted_at = _out(ma.fields.String, "Server posting time, UTC", format="date-time")
    lines = ma.fields.List(ma.fields.Nested(DepositLineSchema), required=True)
    total_idr = _out(ma.fields.Integer, "Sum of line amounts, rupiah")
    fee_idr = _out(ma.fields.Integer, "Fee withheld by the unit, rupiah")
    credited_idr = _out(ma.fields.Integer, "total − fee, credited to savings, rupiah")
    balance_idr = _out(ma.fields.Integer, "Member's savings after this deposit, rupiah")


class MemberSchema(ma.Schema):
    """A member's account summary."""

    member_no = _out(ma.fields.String, example="RW05-0001")
    name = _out(ma.fields.String)
    unit = _out(ma.fields.String, "Unit code", example="RW05")
    balance_idr = _out(ma.fields.Integer, "Savings balance, whole rupiah")
    active = _out(ma.fields.Boolean, "False once deactivated (no new business)")


class PricesQuerySchema(ma.Schema):
    """Query of ``GET /api/v1/prices``."""

    class Meta:
        unknown = ma.EXCLUDE

    unit = Text(max_length=MAX_UNIT_CODE,
                metadata={"description": "Unit code; required for users without a unit "
                                         "(admin, aggregator staff), optional otherwise",
                          "example": "RW05"})


class PriceSchema(ma.Schema):
    """A category with the price in force."""

    category = _out(ma.fields.String, example="PET-CLEAN")
    name_id = _out(ma.fields.String, "Name in Indonesian")
    name_en = _out(ma.fields.String, "Name in English")
    unit = _out(ma.fields.String, enum=["kg", "L", "pcs"])
    buy_price_idr = _out(ma.fields.Integer, "Paid to members, rupiah per unit")
    sell_price_idr = _out(ma.fields.Integer, "Expected from off-takers, rupiah per unit")
    effective_from = _out(ma.fields.Date, "Local date the price applies from")
    max_line_milli = _out(ma.fields.Integer, "Most one line may carry, thousandths of unit")


class PriceListSchema(ma.Schema):
    """A unit's current price list."""

    unit = _out(ma.fields.String, example="RW05")
    prices = ma.fields.List(ma.fields.Nested(PriceSchema), required=True)


# --- withdrawals and voids (issue 4) ---------------------------------------------------------

MAX_REFERENCE = 100
MAX_BENEFICIARY = 200
MAX_REASON = 500
MAX_GOODS_ITEMS = 20
# The largest amount a request may name (10^15 rupiah); anything bigger is out_of_range.
MAX_AMOUNT_IDR = 10**15


class Rupiah(ma.fields.Field):
    """Whole rupiah as a JSON integer (``8000``). Booleans, strings, fractions, null and
    objects are refused (``not_a_number``); zero or less, or above 10^15, ``out_of_range``."""

    default_error_messages = {"required": "required", "null": "not_a_number",
                              "validator_failed": "invalid"}

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, bool):
            raise ma.ValidationError("not_a_number")
        if isinstance(value, Decimal):  # a fraction, an exponent or a very long integer
            if not value.is_finite() or value != value.to_integral_value():
                raise ma.ValidationError("not_a_number")
            if abs(value) > MAX_AMOUNT_IDR:
                raise ma.ValidationError("out_of_range")
            value = int(value)
        if not isinstance(value, int):
            raise ma.ValidationError("not_a_number")
        if not 0 < value <= MAX_AMOUNT_IDR:
            raise ma.ValidationError("out_of_range")
        return value

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class GoodsItemRequestSchema(ApiSchema):
    """One item handed over instead of cash (sembako)."""

    name = Text(required=True, max_length=100, metadata={"example": "Beras 5 kg"})
    quantity = Text(load_default="", max_length=30, metadata={"example": "1"})
    value_idr = Rupiah(required=True, metadata={"type": "integer", "minimum": 1, "example": 15000})


class WithdrawalRequestSchema(ApiSchema):
    """Body of ``POST /api/v1/withdrawals``."""

    member = Text(required=True, max_length=MAX_MEMBER_REF,
                  metadata={"description": "Member number (RW05-0001), card token or scanned card URL",
                            "example": "RW05-0001"})
    amount_idr = Rupiah(required=True, metadata={"type": "integer", "minimum": 1, "example": 8000,
                                                 "description": "Whole rupiah"})
    method = Text(required=True, max_length=10,
                  validate=ma.validate.OneOf(WITHDRAWAL_METHODS, error="invalid"),
                  metadata={"enum": list(WITHDRAWAL_METHODS), "example": "cash"})
    reference = Text(load_default="", max_length=MAX_REFERENCE,
                     metadata={"description": "Transfer reference (required for `transfer`); the "
                                              "provider's reference for `gold` (optional) and `bill` "
                                              "(required)"})
    beneficiary = Text(load_default="", max_length=MAX_BENEFICIARY,
                       metadata={"description": "Who receives a donation: required (not blank) "
                                                "for `donation`, else 422 on `beneficiary`"})
    items = Lines(LineEntry(GoodsItemRequestSchema), load_default=list, max_items=MAX_GOODS_ITEMS,
                  metadata={"description": "Goods handed over (required for `goods`); their "
                                           "values add up to `amount_idr`"})
    # Gold savings and bill payments (docs/payouts.md; services/payout_methods.py checks them).
    gold_price_idr = Rupiah(load_default=None, metadata={
        "type": "integer", "minimum": 1, "example": 1950000,
        "description": "`gold`: the provider's price per gram, whole rupiah (required); the grams "
                       "credited are amount × 1000 / price milligrams, rounded down"})
    provider = Text(load_default="", max_length=100, metadata={
        "description": "`gold` or `bill`: the provider (Pegadaian, PLN, PDAM, BPJS Kesehatan)", "example": "Pegadaian"})
    account_no = Text(load_default="", max_length=60, metadata={
        "description": "`gold`: the member's gold savings account; `bill`: the customer number "
                       "(4–30 letters or digits; spaces, dots and dashes are dropped)"})
    bill_kind = Text(load_default="", max_length=12, metadata={
        "enum": ["", *BILL_KINDS], "description": "`bill`: electricity (token), water or bpjs"})
    token_no = Text(load_default="", max_length=60, metadata={
        "description": "`bill` electricity: the 20-digit token printed on the slip (spaces allowed)",
        "example": "1234 5678 9012 3456 7890"})

    @ma.post_load
    def service_input(self, data: dict, **kwargs) -> dict:
        """The body as ``services.withdrawals.record_withdrawal`` takes it: ``{"member": ref,
        "withdrawal": WithdrawalInput(method, amount_idr, reference, beneficiary, items, and the
        gold and bill fields)}``."""
        price = data["gold_price_idr"]
        return {"member": data["member"],
                "withdrawal": WithdrawalInput(method=data["method"], amount=data["amount_idr"],
                                              reference=data["reference"], beneficiary=data["beneficiary"],
                                              items=tuple(data["items"]), provider=data["provider"],
                                              account_no=data["account_no"],
                                              gold_price="" if price is None else price,
                                              bill_kind=data["bill_kind"], token_no=data["token_no"])}


class WithdrawalSchema(ma.Schema):
    """A recorded withdrawal; a replay returns the same body."""

    id = _out(ma.fields.Integer)
    receipt_no = ma.fields.String(required=True, allow_none=True,
                                  metadata={"description": "Null while waiting for approval",
                                            "example": "RW05-2026-000124"})
    member_no = _out(ma.fields.String, example="RW05-0001")
    method = _out(ma.fields.String, enum=list(WITHDRAWAL_METHODS))
    status = _out(ma.fields.String, "`paid` (201) or `pending` approval (202)",
                  enum=["pending", "approved", "paid", "rejected"])
    amount_idr = _out(ma.fields.Integer, "Rupiah withdrawn")
    balance_idr = _out(ma.fields.Integer, "Member's savings after this request, rupiah")
    # The method's details (docs/payouts.md): "" or null where the method has none.
    reference = _out(ma.fields.String, "Transfer reference, or a gold or bill provider's reference")
    provider = _out(ma.fields.String, "`gold`, `bill`: the provider", example="Pegadaian")
    account_no = _out(ma.fields.String, "`gold`: gold savings account; `bill`: customer number")
    gold_price_idr = ma.fields.Integer(required=True, allow_none=True,
                                       metadata={"description": "`gold`: rupiah per gram; else null"})
    gold_mg = ma.fields.Integer(required=True, allow_none=True, metadata={
        "description": "`gold`: whole milligrams credited, rounded down; else null", "example": 512})
    bill_kind = _out(ma.fields.String, "`bill`: what was paid; else \"\"", enum=["", *BILL_KINDS])
    token_no = _out(ma.fields.String, "`bill` electricity: the 20-digit token; else \"\"")


class CancelWithdrawalRequestSchema(ApiSchema):
    """Body of ``POST /api/v1/withdrawals/cancel``."""

    idempotency_key = IdempotencyKey(required=True, metadata={
        "description": "The `Idempotency-Key` the tablet sent (or would have sent) the withdrawal "
                       "with: 8–100 characters from `A–Z a–z 0–9 _ . : -` (else 422 "
                       "idempotency_key_required)",
        "minLength": 8, "maxLength": MAX_KEY_LENGTH, "pattern": IDEMPOTENCY_KEY_PATTERN,
        "example": "3f6c2a1e9b0d4c578e1a2d7f5b9c0a44"})
    member_no = Text(load_default=None, max_length=30, metadata={
        "description": "Optional: the member number of the cancelled withdrawal as the tablet has it; "
                       "written to the audit log when nothing was recorded under the key",
        "example": "RW05-0001"})
    amount_idr = Rupiah(load_default=None, metadata={
        "type": "integer", "minimum": 1, "example": 5000,
        "description": "Optional: the cancelled withdrawal's whole rupiah as the tablet has it; written to "
                       "the audit log when nothing was recorded under the key"})


class CancelledWithdrawalRecordSchema(ma.Schema):
    """The withdrawal a cancelled key had recorded, as it is now."""

    id = _out(ma.fields.Integer)
    receipt_no = ma.fields.String(required=True, allow_none=True,
                                  metadata={"description": "Null while waiting for approval",
                                            "example": "RW05-2026-000124"})
    amount_idr = _out(ma.fields.Integer, "Rupiah withdrawn")
    member_no = _out(ma.fields.String, example="RW05-0001")
    member_name = _out(ma.fields.String, example="Siti Aminah")
    method = _out(ma.fields.String, enum=list(WITHDRAWAL_METHODS))
    status = _out(ma.fields.String, enum=["pending", "approved", "paid", "rejected"])
    voided = _out(ma.fields.Boolean, "True once a unit manager has voided it")


class CancelledWithdrawalSchema(ma.Schema):
    """What the server holds under a withdrawal's key the tablet cancelled."""

    idempotency_key = _out(ma.fields.String)
    recorded = _out(ma.fields.Boolean, "True: the key had recorded a withdrawal (`withdrawal`), "
                                       "nothing was changed; false: nothing is recorded under it "
                                       "and nothing will be (a late original is refused)")
    withdrawal = ma.fields.Nested(CancelledWithdrawalRecordSchema, required=True, allow_none=True,
                                  metadata={"description": "With `recorded: true`; else null"})


class VoidRequestSchema(ApiSchema):
    """Body of ``POST /api/v1/deposits/<id>/void``."""

    reason = Text(required=True, max_length=MAX_REASON,
                  metadata={"description": "Why it is voided: at least 3 characters once runs of "
                                           "spaces are one (else 422 `required`)",
                            "minLength": 3,
                            "example": "salah timbang"})


class VoidPostingSchema(ma.Schema):
    """One posting of the reversing entry."""

    account = _out(ma.fields.String, "Account key, e.g. savings:12, cash, stock:3")
    amount_idr = _out(ma.fields.Integer, "Signed rupiah, debit +, credit −")
    quantity_milli = ma.fields.Integer(required=True, allow_none=True,
                                       metadata={"description": "Stock thousandths, on stock postings"})


class VoidSchema(ma.Schema):
    """The reversing entry of a void; a replay returns the same body."""

    id = _out(ma.fields.Integer, "The voided deposit's (or withdrawal's) id")
    receipt_no = _out(ma.fields.String, "Its receipt number, kept", example="RW05-2026-000123")
    void_entry_id = _out(ma.fields.Integer, "The reversing journal entry")
    reverses_entry_id = _out(ma.fields.Integer, "The journal entry it reverses")
    reason = _out(ma.fields.String)
    voided_by = _out(ma.fields.String, "Username of the unit manager")
    posted_at = _out(ma.fields.String, "Server posting time, UTC", format="date-time")
    postings = ma.fields.List(ma.fields.Nested(VoidPostingSchema), required=True)
    balance_idr = _out(ma.fields.Integer, "Member's savings after the void, rupiah")


# --- counter snapshot (issue 8) --------------------------------------------------------------


class SnapshotUnitSchema(ma.Schema):
    """The caller's unit, as the counter needs it for offline receipts and fees."""

    code = _out(ma.fields.String, example="RW05")
    name = _out(ma.fields.String, example="Bank Sampah Melati RW 05")
    fee_bp = _out(ma.fields.Integer, "Fee withheld on deposits, basis points (250 = 2.5 %)")
    receipt_width_mm = _out(ma.fields.Integer, "Receipt printer width, mm", enum=[58, 80])


class SnapshotMemberSchema(ma.Schema):
    """An active member for the offline lookup. Card tokens are never sent, only hashes."""

    member_no = _out(ma.fields.String, example="RW05-0012")
    name = _out(ma.fields.String)
    rt = _out(ma.fields.String, "RT (neighbourhood), may be empty")
    rw = _out(ma.fields.String, "RW, may be empty")
    balance_idr = _out(ma.fields.Integer, "Savings balance, whole rupiah")
    card_hashes = ma.fields.List(
        ma.fields.String(), required=True,
        metadata={"description": "SHA-256 (lower-case hex of the UTF-8 token) of each live, "
                                 "unrevoked card; compare the hash of a scanned `/c/<token>`"})


class SnapshotPriceSchema(ma.Schema):
    """A category with a price at the unit."""

    category = _out(ma.fields.String, example="PET-CLEAN")
    name_id = _out(ma.fields.String, "Name in Indonesian")
    name_en = _out(ma.fields.String, "Name in English")
    unit = _out(ma.fields.String, enum=["kg", "L", "pcs"])
    material_group = _out(ma.fields.String, "Material group, may be empty")
    buy_price_idr = _out(ma.fields.Integer, "Paid to members, rupiah per unit")
    max_line_milli = _out(ma.fields.Integer, "Most one line may carry, thousandths of unit")
    effective_from = _out(ma.fields.Date, "Local date the price applies from")


class SnapshotContainerSchema(ma.Schema):
    """A container of the unit with its weight (docs/tare.md)."""

    id = _out(ma.fields.Integer)
    name = _out(ma.fields.String, example="Karung")
    tare_g = _out(ma.fields.Integer, "Empty weight, grams")


class CounterSnapshotSchema(ma.Schema):
    """What the counter tablet keeps locally to find members and price lines offline."""

    unit = ma.fields.Nested(SnapshotUnitSchema, required=True)
    generated_at = _out(ma.fields.String, "When this snapshot was made, UTC", format="date-time")
    members = ma.fields.List(ma.fields.Nested(SnapshotMemberSchema), required=True,
                             metadata={"description": "Active members of the unit, by number"})
    prices = ma.fields.List(ma.fields.Nested(SnapshotPriceSchema), required=True,
                            metadata={"description": "Prices in force today (local date)"})
    upcoming_prices = ma.fields.List(
        ma.fields.Nested(SnapshotPriceSchema), required=True,
        metadata={"description": "Prices taking effect in the next 7 local days, by date"})
    containers = ma.fields.List(ma.fields.Nested(SnapshotContainerSchema), required=True,
                                metadata={"description": "The unit's active containers, by name"})
