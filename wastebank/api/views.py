"""JSON API v1 endpoints (docs/rules.md §api), mounted at ``/api/v1``.

Authentication, for every endpoint:

* ``Authorization: Bearer <token>`` (devices, the tablet's offline queue, scripts): the token
  alone decides who calls — a revoked token or a deactivated user's token is 401 at once, even
  if the browser also sends a session cookie. No CSRF token is needed: a browser never adds
  this header to a cross-site request by itself.
* Otherwise the session cookie of a logged-in browser, and then every state-changing request
  (POST, PUT, PATCH, DELETE) must carry the CSRF token in the ``X-CSRFToken`` header
  (400 ``csrf_failed`` without it).

Anonymous → 401 ``unauthorized``; a role without the permission → 403 ``forbidden``
(``auth.permissions.PERMISSIONS``). Data is scoped by ``visible_unit_ids``: another unit's
member is 404, never a leak.
"""
from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import bindparam, func, select

from ..auth.permissions import counter_unit, require, visible_unit_ids
from ..auth.loaders import bearer_token
from ..extensions import csrf, db
from ..models import Account, Deposit, Member, MemberCard, Unit, Withdrawal
from ..services.catalog import current_prices
from ..services.deposits import LineInput, record_deposit
from ..services.idempotency import Outcome, key_used
from ..services.ledger import books_locked
from ..services.errors import DomainError, NotFound, ValidationFailed
from ..services.members import find_member, member_number_candidates
from ..services.transaction import prepared, run_core, run_in_transaction
from ..services.scope import in_unit, savings_key
from ..services.withdrawals import cancel_unsent, record_withdrawal, void_deposit, void_withdrawal
from .errors import ErrorSchema
from .statement_schemas import StatementSchema
from .schemas import (
    ApiBlueprint,
    CancelledWithdrawalSchema,
    CancelWithdrawalRequestSchema,
    CounterSnapshotSchema,
    DepositRequestSchema,
    DepositSchema,
    IdempotencyHeaderSchema,
    MemberSchema,
    PriceListSchema,
    PricesQuerySchema,
    VoidRequestSchema,
    VoidSchema,
    WithdrawalRequestSchema,
    WithdrawalSchema,
)

blp = ApiBlueprint(
    "api", __name__,
    description="Deposits, members and prices for the counter tablet's offline queue and for "
                "integrations. Money is whole rupiah (int), quantities are thousandths of the "
                "category's unit (int).",
)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# OpenAPI security requirements: a bearer token, or the session cookie (+ CSRF header on writes).
READ_SECURITY = [{"bearerAuth": []}, {"sessionCookie": []}]
WRITE_SECURITY = [{"bearerAuth": []}, {"sessionCookie": [], "csrfToken": []}]
SECURITY_SCHEMES = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "A per-user token (`flask` CLI or admin screen); stops working "
                                  "when revoked or when the user is deactivated."},
    "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                  "description": "With the session cookie only: the page's CSRF token, on "
                                 "every POST."},
}
REPLAYED_HEADER = "Idempotent-Replayed"


def _errors(*statuses_and_descriptions):
    """Decorator documenting error answers with the error schema."""
    def decorator(func):
        for status, description in reversed(statuses_and_descriptions):
            func = blp.alt_response(status, schema=ErrorSchema, description=description)(func)
        return func
    return decorator


# --- authentication and CSRF ---------------------------------------------------------


@blp.before_request
def authenticate():
    """A bearer header present (``auth.loaders.bearer_token``) → the caller is that token's
    active user, read once by Flask-Login's request loader (a session cookie does not count
    then), else 401. No bearer header and a logged-in session → state-changing methods need a
    valid ``X-CSRFToken``. Refusals are answered by the app's one handler (``errors.py``)."""
    if bearer_token(request) is not None:
        if not current_user.is_authenticated:
            abort(401)
        return None
    if (request.method not in SAFE_METHODS and current_user.is_authenticated
            and current_app.config.get("WTF_CSRF_ENABLED", True)):
        csrf.protect()
    return None


# --- deposits --------------------------------------------------------------------------------


def _member_any_state(unit_id: int, ref: str) -> Member | None:
    """The member of ``unit_id`` named by number or by any card token, live or revoked."""
    ref = ref.strip()
    unit_code = db.session.scalar(select(Unit.code).where(Unit.id == unit_id)) or ""
    member = db.session.scalar(select(Member).where(
        Member.unit_id == unit_id,
        func.upper(Member.member_no).in_(member_number_candidates(unit_code, ref))).limit(1))
    if member is None:
        token = ref.rstrip("/").rsplit("/c/", 1)[-1]
        card = db.session.scalar(select(MemberCard).where(
            MemberCard.unit_id == unit_id, MemberCard.token == token))
        member = card.member if card is not None else None
    return member


def _deposit_member_select(dialect: str):
    """The members of ``unit_id`` whose upper-cased number is one of ``numbers``; built once per
    process. On PostgreSQL the unit's row FOR SHARE in this same statement: the posting's lock
    against the daily close (ledger.lock_books), taken here so it costs no statement of its own."""
    query = select(Member).where(Member.unit_id == bindparam("unit_id"),
                                 func.upper(Member.member_no).in_(bindparam("numbers", expanding=True)))
    if dialect == "postgresql":
        query = query.join(Unit, Unit.id == Member.unit_id).with_for_update(read=True, of=Unit)
    return query


def _member_for_deposit(unit: Unit, ref: str, key: str) -> Member:
    """``find_member``, except that a replay of a key already used at this unit still finds a
    member deactivated, or a card revoked, since the first request (docs/rules.md §idempotency (I4):
    a replay returns the first answer). ``record_deposit`` then replays or refuses the key."""
    # The hot path: a member number of the unit (already loaded), one query; anything else
    # (a card, an inactive member, none) takes find_member's full rules.
    candidates = member_number_candidates(unit.code, (ref or "").strip())
    if candidates:
        found = {m.member_no.upper(): m for m in db.session.scalars(
            prepared("api.deposit_member", _deposit_member_select), {"unit_id": unit.id, "numbers": candidates})}
        if found:
            books_locked(unit.id)
        member = next((found[c] for c in candidates if c in found), None)
        if member is not None and member.active:
            return member
    try:
        return find_member(unit.id, ref)
    except DomainError as exc:
        if exc.code not in ("member_inactive", "card_revoked"):
            raise
        member = _member_any_state(unit.id, ref) if key_used(unit.id, key) else None
        if member is None:
            raise
        return member


def _record(unit: Unit, ref: str, lines: list[LineInput], key: str, recorded_at,
            operator_id: int, expected_credited_idr: int | None = None) -> Outcome:
    member = _member_for_deposit(unit, ref, key)
    return record_deposit(unit, member, lines, operator_id=operator_id, idempotency_key=key,
                          recorded_at=recorded_at, expect_credited_idr=expected_credited_idr)


@blp.route("/deposits", methods=["POST"])
@blp.doc(security=WRITE_SECURITY)
@require("deposit.record")
@blp.arguments(IdempotencyHeaderSchema(), location="headers")
@blp.arguments(DepositRequestSchema())
@blp.response(201, DepositSchema, description="Recorded; a replay returns the same body.",
              headers={REPLAYED_HEADER: {"description": "`true` when this answer is a replay of "
                                                        "an earlier request with the same key",
                                         "schema": {"type": "string", "enum": ["true"]}}})
@_errors(
    (400, "invalid_json, json_required, csrf_failed"),
    (401, "unauthorized: no session and no valid bearer token"),
    (403, "forbidden: the role may not record deposits"),
    (404, "member_not_found, card_revoked"),
    (409, "idempotency_key_reused: the key was used for another request; quote_changed: "
          "`expected_credited_idr` differs from the server's figure; day_closed; month_locked: "
          "`recorded_at` lies in a month whose books are closed (docs/month-lock.md)"),
    (422, "idempotency_key_required, member_inactive, validation codes with `field` "
          "(required, not_a_number, thousands_separator, too_precise, over_limit, "
          "unknown_category, too_many, in_future, too_old, …)"),
)
def create_deposit(headers: dict, body: dict):
    """Record a deposit (setoran)

    Prices each line at the caller's unit with the prices in force on the local date of
    `recorded_at`, credits the member (total − fee) and answers the receipt. Safe to retry:
    the same `Idempotency-Key` with the same body returns the first answer (and the header
    `Idempotent-Replayed: true`) and moves nothing.
    """
    unit = counter_unit(current_user)
    operator_id = current_user.id
    key = headers["idempotency_key"]
    # The deposit re-checks under the writer lock what its writes depend on (day, month, entry
    # id, balances in its write batch; the key is a unique row): services/deposits.py.
    outcome = run_in_transaction(lambda: _record(unit, body["member"], body["lines"], key,
                                                 body["recorded_at"], operator_id,
                                                 body.get("expected_credited_idr")),
                                 rechecks_under_lock=True)
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    if outcome.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


def _answer(outcome: Outcome):
    """The stored or new outcome as a response, with ``Idempotent-Replayed`` on a replay."""
    response = jsonify(outcome.body)
    response.status_code = outcome.status
    if outcome.replayed:
        response.headers[REPLAYED_HEADER] = "true"
    return response


_REPLAY_HEADERS = {REPLAYED_HEADER: {"description": "`true` when this answer is a replay of an "
                                                   "earlier request with the same key",
                                    "schema": {"type": "string", "enum": ["true"]}}}


# --- withdrawals -----------------------------------------------------------------------------


@blp.route("/withdrawals", methods=["POST"])
@blp.doc(security=WRITE_SECURITY)
@require("withdrawal.record")
@blp.arguments(IdempotencyHeaderSchema(), location="headers")
@blp.arguments(WithdrawalRequestSchema())
@blp.response(201, WithdrawalSchema, description="Paid; a replay returns the same body.",
              headers=_REPLAY_HEADERS)
@blp.alt_response(202, schema=WithdrawalSchema, description="Recorded, waiting for a unit manager's "
                  "approval (above the unit's approval limit); nothing is held or paid yet.")
@_errors(
    (400, "invalid_json, json_required, csrf_failed"),
    (401, "unauthorized: no session and no valid bearer token"),
    (403, "forbidden: the role may not record withdrawals"),
    (404, "member_not_found, card_revoked"),
    (409, "insufficient_balance (stored: a replay with the same key stays refused), "
          "idempotency_key_reused"),
    (422, "idempotency_key_required, member_inactive, validation codes with `field` "
          "(required, not_a_number, out_of_range, below_minimum, sum_mismatch, …)"),
)
def create_withdrawal(headers: dict, body: dict):
    """Withdraw savings (penarikan)

    Pays out `amount_idr` from the member's savings by cash, transfer (`reference`), goods
    (`items`) or donation (`beneficiary`). Refused with 409 `insufficient_balance` when the
    savings (less held withdrawals and the unit's minimum balance) do not cover it; concurrent
    withdrawals never overdraw. Above the unit's approval limit an operator's request is
    recorded as pending (202). Safe to retry with the same `Idempotency-Key`.
    """
    unit = counter_unit(current_user)
    user = current_user._get_current_object()
    key = headers["idempotency_key"]
    data = body["withdrawal"]  # schemas.WithdrawalRequestSchema.service_input

    def record() -> Outcome:
        member = _member_for_deposit(unit, body["member"], key)
        return record_withdrawal(unit, member, data, user=user, idempotency_key=key)

    return _answer(run_in_transaction(record))


@blp.route("/withdrawals/cancel", methods=["POST"])
@blp.doc(security=WRITE_SECURITY)
@require("withdrawal.record")
@blp.arguments(CancelWithdrawalRequestSchema())
@blp.response(200, CancelledWithdrawalSchema, description="Settled: `recorded` says whether the key had "
              "recorded a withdrawal. A repeat answers the same.", headers=_REPLAY_HEADERS)
@_errors(
    (400, "invalid_json, json_required, csrf_failed"),
    (401, "unauthorized: no session and no valid bearer token"),
    (403, "forbidden: the role may not record withdrawals"),
    (422, "idempotency_key_required, unknown_field"),
)
def cancel_withdrawal(body: dict):
    """Settle a withdrawal the tablet cancelled

    For a withdrawal the operator cancelled on the tablet after a request whose answer never
    came (docs/counter-offline.md): the server tells whether its key recorded anything at the
    caller's unit, and makes sure nothing is recorded later. `recorded: true` — the withdrawal
    (receipt, amount, member, status) is answered and nothing changes: a unit manager voids or
    rejects it. `recorded: false` — the key is stored as refused for withdrawals, so the
    original request arriving late (a stalled connection) is refused with 409
    `idempotency_key_reused` and books nothing. A race with that late original is decided by
    the key's unique row: whichever commits first wins and the other sees it. Another unit's
    key is unknown here. Safe to repeat. The audit log gets one row per key: "cancelled on the
    tablet, not recorded" (with `member_no` and `amount_idr` when sent) or "cancelled on the
    tablet after it was recorded: cash not handed over".
    """
    unit = counter_unit(current_user)
    user = current_user._get_current_object()
    key = body["idempotency_key"]
    return _answer(run_in_transaction(lambda: cancel_unsent(unit, key, user=user, member_no=body["member_no"],
                                                            amount_idr=body["amount_idr"])))


# --- voids -----------------------------------------------------------------------------------


def _void(model, record, service, key: str, reason: str):
    user = current_user._get_current_object()
    return _answer(run_in_transaction(lambda: service(
        db.session.get(model, record.id), user=user, reason=reason, idempotency_key=key)))


_VOID_ERRORS = (
    (400, "invalid_json, json_required, csrf_failed"),
    (401, "unauthorized"),
    (403, "forbidden: only a unit manager may void"),
    (404, "not_found: no such record at the caller's unit"),
    (409, "insufficient_balance (the member has spent the money), already_voided, not_paid, "
          "day_closed, insufficient_stock, idempotency_key_reused"),
    (422, "idempotency_key_required, reason required"),
)


@blp.route("/deposits/<int:deposit_id>/void", methods=["POST"])
@blp.doc(security=WRITE_SECURITY)
@require("deposit.void")
@blp.arguments(IdempotencyHeaderSchema(), location="headers")
@blp.arguments(VoidRequestSchema())
@blp.response(200, VoidSchema, description="Voided: the reversing entry. A replay returns the same body.",
              headers=_REPLAY_HEADERS)
@_errors(*_VOID_ERRORS)
def void_deposit_endpoint(headers: dict, body: dict, deposit_id: int):
    """Void a deposit

    A unit manager voids a deposit of their unit with a reason: a reversing entry naming the
    original (savings, stock and fee back); the receipt keeps its number and reprints as
    BATAL. Refused with 409 `insufficient_balance` when the member has already spent the
    money, and 409 `already_voided` the second time.
    """
    unit = counter_unit(current_user)
    found = in_unit(Deposit, unit.id, deposit_id)  # another unit's deposit: 404 not_found
    return _void(Deposit, found, void_deposit, headers["idempotency_key"], body["reason"])


@blp.route("/withdrawals/<int:withdrawal_id>/void", methods=["POST"])
@blp.doc(security=WRITE_SECURITY)
@require("withdrawal.void")
@blp.arguments(IdempotencyHeaderSchema(), location="headers")
@blp.arguments(VoidRequestSchema())
@blp.response(200, VoidSchema, description="Voided: the reversing entry. A replay returns the same body.",
              headers=_REPLAY_HEADERS)
@_errors(*_VOID_ERRORS)
def void_withdrawal_endpoint(headers: dict, body: dict, withdrawal_id: int):
    """Void a paid withdrawal

    A unit manager voids a paid withdrawal of their unit with a reason: a reversing entry
    puts the money back on the member's savings.
    """
    unit = counter_unit(current_user)
    found = in_unit(Withdrawal, unit.id, withdrawal_id)  # another unit's withdrawal: 404 not_found
    return _void(Withdrawal, found, void_withdrawal, headers["idempotency_key"], body["reason"])


# --- members ---------------------------------------------------------------------------------


def _get_member_select(_dialect: str):
    """One joined query, built once: the member of one of ``units`` with the upper-cased
    ``number``, its unit's code and its savings balance (no account yet: NULL)."""
    return (select(Member.member_no, Member.name, Unit.code, Account.balance, Member.active)
            .join(Unit, Unit.id == Member.unit_id)
            .outerjoin(Account, (Account.unit_id == Member.unit_id) & (Account.key == savings_key(Member.id)))
            .where(Member.unit_id.in_(bindparam("units", expanding=True)),
                   func.upper(Member.member_no) == bindparam("number"))
            .order_by(Member.id).limit(1))


@blp.route("/members/<raw:member_no>")
@blp.doc(security=READ_SECURITY)
@require("member.view")
@blp.response(200, MemberSchema)
@_errors(
    (401, "unauthorized"),
    (403, "forbidden: the role may not view members"),
    (404, "member_not_found, also for a member of a unit the caller may not see"),
)
def get_member(member_no: str):
    """A member's balance

    By member number (case-insensitive), among the units the caller may see. A deactivated
    member is answered with `active: false`.
    """
    ref = member_no.strip()
    units = visible_unit_ids(current_user)
    row = None
    if units and ref and len(ref) <= 64 and ref.isprintable():
        row = run_core(prepared("api.get_member", _get_member_select),
                       {"units": units, "number": ref.upper()}).first()
    if row is None:
        raise NotFound(_l("No member with this number or card at this unit."), field="member_no",
                       code="member_not_found")
    member_no, name, unit_code, balance, active = row
    return {"member_no": member_no, "name": name, "unit": unit_code, "balance_idr": balance or 0,
            "active": active}


# --- prices ----------------------------------------------------------------------------------


def _price_unit(code: str | None) -> Unit:
    """The unit whose prices the caller asked for: ``code`` if given and visible, else the
    caller's own unit; users without a unit (admin, aggregator staff) must name one."""
    if code:
        unit = db.session.scalar(select(Unit).where(func.upper(Unit.code) == code.strip().upper()))
        if unit is None or unit.id not in visible_unit_ids(current_user):
            raise NotFound(_l("No such unit, or not one of yours."), field="unit", code="unit_not_found")
        return unit
    if current_user.unit_id is None:
        raise ValidationFailed({"unit": ("unit_required", _l("Name the unit: ?unit=CODE."))})
    return db.session.get(Unit, current_user.unit_id)


@blp.route("/prices")
@blp.doc(security=READ_SECURITY)
@require("price.view")
@blp.arguments(PricesQuerySchema(), location="query")
@blp.response(200, PriceListSchema)
@_errors(
    (401, "unauthorized"),
    (403, "forbidden: the role may not view prices"),
    (404, "unit_not_found: unknown unit or not visible to the caller"),
    (422, "unit_required: admins and aggregator staff must pass ?unit=CODE"),
)
def get_prices(query: dict):
    """The current price list

    Today's prices (local date) at the caller's unit — or, with `?unit=CODE`, at another unit
    the caller may see (required for admins and aggregator staff, who have no unit). Only
    categories with a price are listed; rupiah per unit of measure.
    """
    unit = _price_unit(query.get("unit"))
    rows = current_prices(unit.id).values()
    return {
        "unit": unit.code,
        "prices": [
            {"category": row.category.code, "name_id": row.category.name_id,
             "name_en": row.category.name_en, "unit": row.category.unit,
             "buy_price_idr": row.buy_price_idr, "sell_price_idr": row.sell_price_idr,
             "effective_from": row.effective_from, "max_line_milli": row.category.max_line_milli}
            for row in rows
        ],
    }


# --- counter snapshot (issue 8) --------------------------------------------------------------

UPCOMING_PRICE_DAYS = 7


def _snapshot_price(category, buy_price_idr: int, effective_from) -> dict:
    return {"category": category.code, "name_id": category.name_id, "name_en": category.name_en,
            "unit": category.unit, "material_group": category.material_group or "",
            "buy_price_idr": buy_price_idr, "max_line_milli": category.max_line_milli,
            "effective_from": effective_from}


@blp.route("/counter/snapshot")
@blp.doc(security=READ_SECURITY)
@require("deposit.record")
@blp.response(200, CounterSnapshotSchema)
@_errors(
    (401, "unauthorized"),
    (403, "forbidden: the role may not record deposits, or the caller has no unit"),
)
def get_counter_snapshot():
    """The counter's local copy

    What the counter tablet keeps to go on serving residents offline, for the caller's unit
    only: the unit's fee and receipt width, its active members (number, name, RT/RW, balance,
    and the SHA-256 of each live card token — never the token), the prices in force today
    (local date) and those taking effect in the next 7 days. A fixed number of queries
    whatever the number of members.
    """
    from datetime import timedelta

    from ..models import Price, WasteCategory, utcnow
    from ..services.containers import snapshot_containers
    from ..services.members import snapshot_members
    from ..timeutil import local_today

    unit = counter_unit(current_user)
    today = local_today()
    upcoming = db.session.execute(
        select(Price, WasteCategory).join(WasteCategory, WasteCategory.id == Price.category_id)
        .where(Price.unit_id == unit.id, Price.effective_from > today,
               Price.effective_from <= today + timedelta(days=UPCOMING_PRICE_DAYS))
        .order_by(Price.effective_from, WasteCategory.sort_order, WasteCategory.code))
    return {
        "unit": {"code": unit.code, "name": unit.name, "fee_bp": unit.fee_bp,
                 "receipt_width_mm": unit.receipt_width_mm},
        "generated_at": utcnow().isoformat(timespec="seconds").replace("+00:00", "Z"),
        "members": snapshot_members(unit.id),
        "prices": [_snapshot_price(row.category, row.buy_price_idr, row.effective_from)
                   for row in current_prices(unit.id, today).values()],
        "upcoming_prices": [_snapshot_price(category, price.buy_price_idr, price.effective_from)
                            for price, category in upcoming],
        "containers": snapshot_containers(unit.id),
    }


# --- statements (issue 5) --------------------------------------------------------------------


def _statement_scope(code: str):
    """The aggregator named ``code`` if the caller may read its statement, and the unit ids the
    caller may see in it (aggregator staff: their own aggregator only; admins: any). Anything
    else is 404 ``aggregator_not_found``, so codes of other aggregators do not leak."""
    from ..reports.statements import readable_aggregator

    aggregator = readable_aggregator(current_user, code)
    if aggregator is None:
        raise NotFound(_l("No such aggregator, or not yours."), field="code", code="aggregator_not_found")
    return aggregator, visible_unit_ids(current_user)


@blp.route("/statements/aggregator/<code>/<month>", parameters=[
    {"in": "path", "name": "month", "required": True,
     "description": "Local month, `YYYY-MM`, years 2000–2999 (reports.statements.parse_month); "
                    "else 422 `invalid_month`",
     "schema": {"type": "string", "pattern": "^2[0-9]{3}-(0[1-9]|1[0-2])$", "example": "2026-11"}},
    {"in": "path", "name": "code", "required": True, "description": "Aggregator code",
     "schema": {"type": "string", "example": "JKT"}}])
@blp.doc(security=READ_SECURITY)
@require("statement.aggregator")
@blp.response(200, StatementSchema)
@_errors(
    (401, "unauthorized"),
    (403, "forbidden: only aggregator staff and admins read aggregator statements"),
    (404, "aggregator_not_found: unknown code, or another aggregator's"),
    (422, "invalid_month: the month is not YYYY-MM"),
)
def get_aggregator_statement(code: str, month: str):
    """The monthly aggregator statement

    Per unit and in total for the local month `YYYY-MM` (local midnight on the 1st to the 1st
    of the next month): members, new and active members, deposits (net of voids), quantity
    and value by category, fees, withdrawals by method, savings owed and stock at cost at the
    month end, sales and margin. The same figures as the statement's PDF and CSV.
    """
    from ..reports.statements import aggregator_statement, parse_month, statement_json

    try:
        year, month_no = parse_month(month)
    except ValueError:
        raise ValidationFailed({"month": ("invalid_month", _l("Give the month as YYYY-MM, e.g. 2025-01."))}) from None
    aggregator, unit_ids = _statement_scope(code)
    return statement_json(aggregator_statement(aggregator, year, month_no, unit_ids))
