"""Withdrawals (penarikan) and voids of deposits and withdrawals (docs/rules.md §balance, issue 4).

Money rules: the member's available savings are balance − held; after a withdrawal at least
the unit's ``min_balance_idr`` must remain; a withdrawal is at least ``min_withdrawal_idr``;
above ``approval_threshold_idr`` (when not 0) a unit manager approves first, which holds the
amount until it is paid. All rupiah are ints. Refusals for lack of funds are stored under the
idempotency key, so a replay stays refused (docs/rules.md §idempotency (I6)).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..api.bodies import withdrawal_body
from ..extensions import db
from ..models import (Account, AuditLog, Deposit, JournalEntry, Member, Unit, User, Withdrawal,
                      WITHDRAWAL_METHODS, utcnow)
from ..auth.permissions import has_permission
from ..money import InputError, Rupiah, format_idr, parse_rupiah
from . import idempotency
from .audit import audit
from .idempotency import Outcome
from .errors import (AlreadyReversed, Conflict, DomainError, Forbidden, InsufficientBalance,
                     InsufficientStock, PeriodClosed, ValidationFailed)
from .ledger import Leg, change_hold, member_savings_account, post_journal, reverse_entry, system_account
from .notifications import queue_for_void, queue_for_withdrawal
from .payout_methods import payout_details
from .numbering import next_receipt_no
from .scope import in_unit, update_in_unit

MAX_REASON = 500


@dataclass(frozen=True)
class WithdrawalInput:
    """What the operator entered: ``method`` (cash, transfer, goods, donation, gold, bill),
    ``amount`` (rupiah text or int), a transfer's (or a gold or bill provider's) ``reference``, a
    donation ``beneficiary``, and for goods ``items`` as ``[{"name": str, "quantity": str,
    "value_idr": int}]`` summing to the amount. Gold and bill payouts (services/payout_methods.py):
    ``provider``, ``account_no`` (gold account or bill customer number), ``gold_price`` (rupiah
    per gram, text or int), ``bill_kind`` (electricity, water, bpjs), ``token_no`` (electricity)."""

    method: str
    amount: str | Rupiah
    reference: str = ""
    beneficiary: str = ""
    items: tuple = field(default_factory=tuple)
    provider: str = ""
    account_no: str = ""
    gold_price: str | Rupiah = ""
    bill_kind: str = ""
    token_no: str = ""


def _goods(data: WithdrawalInput, amount: Rupiah, errors: dict) -> list[dict]:
    """The goods handed over, ``[{"name", "quantity", "value_idr"}]``, whose values must add up
    to ``amount``; bad fields are added to ``errors``."""
    items: list[dict] = []
    for i, item in enumerate(data.items or ()):
        name = str(item.get("name", "")).strip()[:100]
        try:
            value = parse_rupiah(item.get("value_idr", ""))
        except InputError as exc:
            errors[f"items.{i}.value_idr"] = (exc.code, exc.message)
            continue
        if not name:
            errors[f"items.{i}.name"] = ("required", _l("Name the item."))
        items.append({"name": name, "quantity": str(item.get("quantity", "")).strip()[:30], "value_idr": value})
    if not items and "items" not in errors:
        errors["items"] = ("required", _l("List the goods handed over."))
    elif amount and sum(i["value_idr"] for i in items) != amount:
        errors["items"] = ("sum_mismatch", _l("The goods' values must add up to the amount."))
    return items


def _validate(unit: Unit, member: Member, data: WithdrawalInput) -> tuple[Rupiah, list[dict], dict]:
    """The withdrawal's amount, goods and gold or bill columns (``payout_methods.payout_details``),
    checked against the unit's rules. Raises DomainError (another unit's or inactive member) and
    ValidationFailed naming every bad field."""
    errors: dict[str, tuple[str, object]] = {}
    if member.unit_id != unit.id:
        raise DomainError(_l("This member belongs to another unit."), field="member", code="wrong_unit")
    if not member.active:
        raise DomainError(_l("This member is deactivated; reactivate them first."),
                          field="member", code="member_inactive")
    amount = 0
    try:
        amount = parse_rupiah(data.amount)
    except InputError as exc:
        errors["amount_idr"] = (exc.code, exc.message)
    if data.method not in WITHDRAWAL_METHODS:
        errors["method"] = ("invalid",
                            _l("Choose how it is paid out: cash, transfer, goods, donation, gold or a bill."))
    if data.method == "transfer" and not data.reference.strip():
        errors["reference"] = ("required", _l("Enter the transfer reference."))
    if data.method == "donation" and not data.beneficiary.strip():
        errors["beneficiary"] = ("required", _l("Enter who receives the donation."))
    items = _goods(data, amount, errors) if data.method == "goods" else []
    details = payout_details(data, amount, errors)
    if amount and amount < unit.min_withdrawal_idr:
        errors["amount_idr"] = ("below_minimum", _l("The smallest withdrawal here is %(min)s.",
                                                    min=format_idr(unit.min_withdrawal_idr)))
    if errors:
        raise ValidationFailed(errors)
    return amount, items, details


def _refusal(exc: DomainError) -> dict:
    return {"error": exc.to_dict()}


@dataclass(frozen=True)
class Savings:
    """A member's savings as the ledger has them at this moment, rupiah (ints): ``balance``,
    ``held`` (approved, unpaid withdrawals: ``ledger.change_hold``) and ``available``, what a
    new withdrawal or an approval may still take: balance − held − the unit's
    ``min_balance_idr``, at least 0 (the rule ``change_hold`` and ``post_journal`` enforce)."""

    balance: Rupiah
    held: Rupiah
    available: Rupiah


def savings_now(unit: Unit, member: Member) -> Savings:
    """The member's savings read from the database now (one SELECT by the tenant key), not
    from an account object loaded earlier in the session: after a refused write, or under
    PostgreSQL's READ COMMITTED, it includes what another tablet committed meanwhile."""
    account = member_savings_account(member)
    balance, held = db.session.execute(select(Account.balance, Account.held).where(
        Account.id == account.id, Account.unit_id == unit.id)).one()
    return Savings(balance, held, max(balance - held - unit.min_balance_idr, 0))


def shortfall(unit: Unit, member: Member, *, checked: bool = True) -> InsufficientBalance:
    """The refusal of a withdrawal (or an approval, a pay-out) the available savings do not
    cover, saying what the savings are now (``savings_now``): how much is already held for
    other withdrawals, and what can still be withdrawn. ``checked``: the amount was checked
    against the balance before (the review step, the request) — a shortfall then means the
    balance has changed since, which the refusal says with the balance as it is now."""
    now = savings_now(unit, member)
    locale = get_locale()  # the figures as the person reading the refusal writes numbers
    figures = {"balance": format_idr(now.balance, locale), "held": format_idr(now.held, locale),
               "available": format_idr(now.available, locale)}
    if now.held:
        message = _l("Not enough savings: the balance is %(balance)s, and %(held)s is already held for other "
                     "withdrawals; %(available)s can be withdrawn.", **figures)
    elif checked:
        message = _l("The balance has changed (now %(balance)s) because of another withdrawal or a void: not "
                     "enough savings for this one; %(available)s can be withdrawn.", **figures)
    else:
        message = _l("Not enough savings: %(available)s can be withdrawn.", **figures)
    return InsufficientBalance(message, field="amount_idr")


def open_withdrawals(unit: Unit, member: Member, *, exclude_id: int | None = None) -> list[Withdrawal]:
    """The member's open withdrawals, oldest first: pending (waiting for approval, nothing
    held yet) and approved (held until paid); ``exclude_id`` leaves one out (the one shown)."""
    query = select(Withdrawal).where(Withdrawal.unit_id == unit.id, Withdrawal.member_id == member.id,
                                     Withdrawal.status.in_(("pending", "approved")))
    if exclude_id is not None:
        query = query.where(Withdrawal.id != exclude_id)
    return list(db.session.scalars(query.order_by(Withdrawal.requested_at, Withdrawal.id)))


def _pay(withdrawal: Withdrawal, unit: Unit, user_id: int | None, *,
         release_hold: bool = False) -> tuple[dict, Rupiah]:
    """Post the withdrawal and take its receipt number; ``release_hold`` first releases the
    hold an approval put on the savings (after the number: see the lock order below).

    Returns ``(columns, balance)``: the columns that make the withdrawal paid (``receipt_no``,
    ``entry_id``, ``status``, ``paid_by_id``, ``paid_at``), for the caller to write, and the
    member's savings balance after it in rupiah, as ``post_journal`` returned it."""
    savings = member_savings_account(withdrawal.member)
    cash = system_account(unit.id, "bank" if withdrawal.method == "transfer" else "cash")
    # The receipt counter before the accounts, as deposits and sales take it: one lock order
    # for every money operation, so a deposit and a withdrawal of one member at once never
    # deadlock (PostgreSQL: each waited for the other's row until deadlock_timeout).
    receipt_no = next_receipt_no(unit, utcnow())
    if release_hold:
        change_hold(savings, -withdrawal.amount_idr)
    balances: dict[int, Rupiah] = {}
    entry = post_journal(unit.id, "withdrawal",
                         [Leg(savings, withdrawal.amount_idr, floor_idr=unit.min_balance_idr),
                          Leg(cash, -withdrawal.amount_idr)],
                         created_by_id=user_id,
                         memo=f"Penarikan {withdrawal.method} {withdrawal.member.member_no}",
                         balances=balances)
    columns = {"receipt_no": receipt_no, "entry_id": entry.id, "status": "paid", "paid_by_id": user_id,
               "paid_at": entry.posted_at}
    return columns, balances[savings.id]


def record_withdrawal(unit: Unit, member: Member, data: WithdrawalInput, *, user: User,
                      idempotency_key: str) -> Outcome:
    """Withdraw savings: paid at once (201) or, above the unit's approval threshold when the
    user is not a unit manager, recorded as pending approval (202). Idempotent on the key; a
    refusal for insufficient savings is answered 409 and stored, so a replay stays refused.

    Flushes, never commits. Raises ValidationFailed, DomainError, IdempotencyConflict.
    """
    # The input is validated inside the envelope, after the key is checked (a bad key is named
    # first); the work then uses what validation returned.
    validated: list = []

    def canonical() -> dict:
        amount, items, details = _validate(unit, member, data)
        validated[:] = [amount, items, details]
        request = {"member": member.id, "method": data.method, "amount": amount,
                   "reference": data.reference.strip(), "beneficiary": data.beneficiary.strip(), "items": items}
        if data.method in ("gold", "bill"):  # other methods' requests hash as they always did
            request["details"] = details
        return request

    return idempotency.execute(unit, idempotency_key, "withdrawal", canonical,
                               lambda: _withdraw(unit, member, data, *validated, user=user), user_id=user.id)


def _withdraw(unit: Unit, member: Member, data: WithdrawalInput, amount: Rupiah, items: list[dict],
              details: dict, *, user: User) -> tuple[int, dict]:
    """The withdrawal's work inside the idempotency envelope: pay now (201), record as pending
    approval (202), or answer a refusal for insufficient savings (409, remembered and replayed
    as it is: docs/rules.md §idempotency (I6)). Returns ``(status, body)``."""
    withdrawal = Withdrawal(unit_id=unit.id, member_id=member.id, method=data.method, amount_idr=amount,
                            reference=data.reference.strip()[:100], beneficiary=data.beneficiary.strip()[:200],
                            items=json.dumps(items) if items else "", status="pending",
                            requested_by_id=user.id, member=member, **details)
    needs_approval = bool(unit.approval_threshold_idr) and amount > unit.approval_threshold_idr
    savepoint = db.session.begin_nested()
    try:
        if needs_approval and not has_permission(user, "withdrawal.approve"):
            db.session.add(withdrawal)
            db.session.flush()
            # Refuse now what could never be paid, but hold nothing until a manager approves.
            now = savings_now(unit, member)
            if now.available < amount:
                raise shortfall(unit, member)
            balance = now.balance
            status = 202
        else:
            if needs_approval:
                withdrawal.approved_by_id, withdrawal.approved_at = user.id, utcnow()
            # Paid at once: posted first, then the row written once, already paid (one INSERT,
            # no UPDATE by id afterwards).
            columns, balance = _pay(withdrawal, unit, user.id)
            for column, value in columns.items():
                setattr(withdrawal, column, value)
            db.session.add(withdrawal)
            db.session.flush()
            queue_for_withdrawal(withdrawal, balance_idr=balance)  # the member's message, in this transaction
            status = 201
        savepoint.commit()
    except InsufficientBalance:
        savepoint.rollback()
        # What the savings are now (another tablet's withdrawal, a hold), not the ledger's
        # bare "cannot go below zero": the operator checked the balance before saving.
        return 409, _refusal(shortfall(unit, member))
    _audit_withdrawal("withdrawal.pay" if status == 201 else "withdrawal.request", withdrawal, user)
    return status, withdrawal_body(withdrawal, balance_idr=balance)


def _audit_withdrawal(action: str, withdrawal: Withdrawal, user: User) -> None:
    audit(action, unit_id=withdrawal.unit_id, user_id=user.id, object_type="withdrawal", object_id=withdrawal.id,
          details={"member_no": withdrawal.member.member_no, "method": withdrawal.method,
                   "amount_idr": withdrawal.amount_idr, "status": withdrawal.status,
                   "receipt_no": withdrawal.receipt_no, "entry_id": withdrawal.entry_id})


def _manager_of(unit: Unit, user: User, permission: str) -> None:
    """Raise Forbidden unless ``user`` is staff of ``unit`` holding ``permission`` (one a unit
    manager holds: approving, rejecting, voiding)."""
    if user.unit_id != unit.id or not has_permission(user, permission):
        raise Forbidden(_l("Only a unit manager of this unit may do this."))


def approve_withdrawal(withdrawal: Withdrawal, *, user: User) -> Withdrawal:
    """A unit manager approves a pending withdrawal: its amount is held on the member's
    savings until paid. Approving an approved one changes nothing.
    Raises Forbidden, Conflict (not pending), InsufficientBalance."""
    unit = withdrawal.unit
    _manager_of(unit, user, "withdrawal.approve")
    if withdrawal.status == "approved":
        return withdrawal
    if withdrawal.status != "pending":
        raise Conflict(_l("Only a pending withdrawal can be approved."), code="not_pending")
    try:
        change_hold(member_savings_account(withdrawal.member), withdrawal.amount_idr, unit.min_balance_idr)
    except InsufficientBalance:
        raise shortfall(unit, withdrawal.member) from None
    update_in_unit(withdrawal, status="approved", approved_by_id=user.id, approved_at=utcnow())
    _audit_withdrawal("withdrawal.approve", withdrawal, user)
    return withdrawal


def pay_withdrawal(withdrawal: Withdrawal, *, user: User) -> Withdrawal:
    """Pay an approved withdrawal: release its hold and post it, in one transaction.
    Paying a paid one changes nothing. Raises Conflict (not approved), InsufficientBalance."""
    if withdrawal.status == "paid":
        return withdrawal
    if withdrawal.status != "approved":
        raise Conflict(_l("Only an approved withdrawal can be paid."), code="not_approved")
    if user.unit_id != withdrawal.unit_id or not has_permission(user, "withdrawal.pay"):
        raise Forbidden(_l("Only staff of this unit may pay out."))
    try:
        columns, balance = _pay(withdrawal, withdrawal.unit, user.id, release_hold=True)
    except InsufficientBalance:
        raise shortfall(withdrawal.unit, withdrawal.member) from None  # its own hold released: others'
    update_in_unit(withdrawal, **columns)
    queue_for_withdrawal(withdrawal, balance_idr=balance)  # the member's message, in this transaction
    _audit_withdrawal("withdrawal.pay", withdrawal, user)
    return withdrawal


def reject_withdrawal(withdrawal: Withdrawal, *, user: User) -> Withdrawal:
    """A unit manager rejects a pending or approved withdrawal (releasing any hold)."""
    _manager_of(withdrawal.unit, user, "withdrawal.approve")
    if withdrawal.status == "approved":
        change_hold(member_savings_account(withdrawal.member), -withdrawal.amount_idr)
    elif withdrawal.status != "pending":
        raise Conflict(_l("Only a pending or approved withdrawal can be rejected."), code="not_pending")
    update_in_unit(withdrawal, status="rejected")
    _audit_withdrawal("withdrawal.reject", withdrawal, user)
    return withdrawal


_VOID_PERMISSIONS = {"void_deposit": "deposit.void", "void_withdrawal": "withdrawal.void"}


def _void(unit: Unit, record, operation: str, *, user: User, reason: str, idempotency_key: str) -> Outcome:
    _manager_of(unit, user, _VOID_PERMISSIONS[operation])
    clean: list[str] = []  # the reason as normalised after the key is checked, for the work

    def canonical() -> dict:
        clean[:] = [" ".join((reason or "").split())[:MAX_REASON]]
        if len(clean[0]) < 3:
            raise ValidationFailed({"reason": ("required", _l("Say why it is voided."))})
        return {"id": record.id, "reason": clean[0]}

    return idempotency.execute(unit, idempotency_key, operation, canonical,
                               lambda: _reverse(unit, record, operation, user=user, reason=clean[0]),
                               user_id=user.id)


def _reverse(unit: Unit, record, operation: str, *, user: User, reason: str) -> tuple[int, dict]:
    """The void's work inside the idempotency envelope: post the reversing entry (200), or
    answer 409 when the member has spent the money (remembered and replayed as it is)."""
    if record.entry_id is None:
        raise Conflict(_l("Only a paid withdrawal can be voided."), code="not_paid")
    savepoint = db.session.begin_nested()
    balances: dict[int, Rupiah] = {}
    legs: list[Leg] = []
    try:
        reversal = reverse_entry(in_unit(JournalEntry, unit.id, record.entry_id), created_by_id=user.id,
                                 reason=reason, kind="void", balances=balances, legs_out=legs)
        update_in_unit(record, void_entry_id=reversal.id)
        savepoint.commit()
    except InsufficientBalance:
        savepoint.rollback()
        return 409, _refusal(InsufficientBalance(
            _l("Cannot void: the member has already spent this money, and the savings would go below zero."),
            field="id"))
    except (AlreadyReversed, InsufficientStock, PeriodClosed):
        savepoint.rollback()
        raise
    # The answer from what was just posted (the legs, the balances the update returned), not
    # read back. The postings were written in the legs' order, so ids ascend in it.
    savings = member_savings_account(record.member)
    balance = balances[savings.id] if savings.id in balances else in_unit(Account, unit.id, savings.id).balance
    body = {"id": record.id, "receipt_no": record.receipt_no, "void_entry_id": reversal.id,
            "reverses_entry_id": record.entry_id, "reason": reason, "voided_by": user.username,
            "posted_at": reversal.posted_at.isoformat(),
            "postings": [{"account": leg.account.key, "amount_idr": leg.amount, "quantity_milli": leg.quantity_milli}
                         for leg in legs],
            "balance_idr": balance}
    audit(operation.replace("_", "."), unit_id=unit.id, user_id=user.id,
          object_type=operation.split("_", 1)[1], object_id=record.receipt_no or record.id,
          details={"reason": reason, "void_entry_id": reversal.id, "reverses_entry_id": record.entry_id})
    queue_for_void(record, balance_idr=balance)  # the member's message, in this same transaction
    return 200, body


def void_deposit(deposit: Deposit, *, user: User, reason: str, idempotency_key: str) -> Outcome:
    """A unit manager voids a deposit: a reversing entry naming the original (stock out at the
    same cost, savings and fee back), refused with 409 when the member has spent the money.
    The receipt keeps its number and reprints as BATAL. Raises Forbidden, ValidationFailed,
    AlreadyReversed, InsufficientStock, PeriodClosed, IdempotencyConflict."""
    return _void(deposit.unit, deposit, "void_deposit", user=user, reason=reason, idempotency_key=idempotency_key)


def void_withdrawal(withdrawal: Withdrawal, *, user: User, reason: str, idempotency_key: str) -> Outcome:
    """A unit manager voids a paid withdrawal: a reversing entry puts the money back on the
    member's savings. Same errors as ``void_deposit``."""
    return _void(withdrawal.unit, withdrawal, "void_withdrawal", user=user, reason=reason,
                 idempotency_key=idempotency_key)


def saved_with_key(unit: Unit, key: str | None) -> int | None:
    """The id of the withdrawal a form's idempotency ``key`` already saved at ``unit`` (paid:
    201, or waiting for approval: 202), or None (the key is new, or stored a refusal)."""
    body = idempotency.saved_answer(unit.id, key, "withdrawal")
    return body.get("id") if body else None


# The request a tablet's cancel stores under a withdrawal's key (idempotency.refuse_unless_used):
# no real withdrawal hashes so, so the original arriving late is refused as another request.
CANCELLED_ON_TABLET = {"cancelled_on_tablet": True}


def cancel_unsent(unit: Unit, key: str | None, *, user: User, member_no: str | None = None,
                  amount_idr: int | None = None) -> Outcome:
    """Settle the idempotency ``key`` of a withdrawal the tablet cancelled before it knew
    whether it arrived (docs/counter-offline.md §cancelled withdrawals). Always 200:

    * the key recorded a withdrawal at ``unit`` (paid, or waiting for approval): its answer with
      ``recorded: true`` and the withdrawal as it is now (receipt, amount, member, status,
      voided); nothing changes — a unit manager voids or rejects it;
    * the key is free (or stored a refusal, or another operation): ``recorded: false``; a free
      key is stored as refused for operation ``withdrawal`` so the original arriving later
      (a stalled request) is refused 409 ``idempotency_key_reused`` and books nothing.

    The trace for the audit log (docs/audit-log.md), in the same transaction, once per key:
    storing the refusal writes ``withdrawal.cancel_unsent`` (object the key; the member number
    and rupiah the tablet reports, ``member_no``/``amount_idr``, when it sends them); a
    recorded withdrawal writes ``withdrawal.cancel_reported`` (object the withdrawal: the tablet
    reports its cash as not handed over) at the first cancel only. A repeat writes nothing.

    Another unit's key is simply unknown at ``unit``. Idempotent: a repeat answers the same
    (``replayed`` True). Flushes, never commits. Raises DomainError ``idempotency_key_required``."""
    key = idempotency.check_key(key)
    refusal = _refusal(Conflict(_l("This withdrawal was cancelled on the tablet before it was recorded; it is "
                                   "not recorded and must be entered again if the member still wants it."),
                                code="withdrawal_cancelled"))
    stored = idempotency.refuse_unless_used(unit.id, key, "withdrawal", CANCELLED_ON_TABLET, 409, refusal,
                                            user_id=user.id)
    answer = {"idempotency_key": key, "recorded": False, "withdrawal": None}
    if stored is None:
        # The key's refusal row was inserted just now: a twin cancel fails on its unique row
        # (and its retry replays), so this is written once.
        audit("withdrawal.cancel_unsent", unit_id=unit.id, user_id=user.id, object_type="withdrawal_key",
              object_id=key, details={"idempotency_key": key, **({"member_no": member_no} if member_no else {}),
                                      **({"amount_idr": amount_idr} if amount_idr is not None else {})})
        return Outcome(200, answer, False)
    saved = json.loads(stored.response_body)
    if stored.operation == "withdrawal" and 200 <= stored.status_code < 300:
        withdrawal = get_withdrawal(unit.id, saved["id"])
        if withdrawal is not None:
            answer.update(recorded=True, withdrawal={
                "id": withdrawal.id, "receipt_no": withdrawal.receipt_no, "amount_idr": withdrawal.amount_idr,
                "member_no": withdrawal.member.member_no, "member_name": withdrawal.member.name,
                "method": withdrawal.method, "status": withdrawal.status,
                "voided": withdrawal.void_entry_id is not None})
            _trace_cancel_reported(withdrawal, key, user)
            return Outcome(200, answer, False)
    cancelled = idempotency.request_hash("withdrawal", CANCELLED_ON_TABLET) == stored.request_hash
    return Outcome(200, answer, cancelled)


def _trace_cancel_reported(withdrawal: Withdrawal, key: str, user: User) -> None:
    """Write ``withdrawal.cancel_reported`` for ``withdrawal`` (recorded under ``key``) unless
    an earlier cancel of it wrote one. The withdrawal's row is locked first (PostgreSQL: a twin
    cancel waits here and then finds this row; SQLite: a twin's write makes this attempt's
    snapshot stale, and its retry under the writer lock finds it)."""
    db.session.execute(select(Withdrawal.id).where(Withdrawal.unit_id == withdrawal.unit_id,
                                                Withdrawal.id == withdrawal.id).with_for_update())
    written = db.session.scalar(select(AuditLog.id).where(
        AuditLog.unit_id == withdrawal.unit_id, AuditLog.action == "withdrawal.cancel_reported",
        AuditLog.object_type == "withdrawal", AuditLog.object_id == str(withdrawal.id)).limit(1))
    if written is not None:
        return
    audit("withdrawal.cancel_reported", unit_id=withdrawal.unit_id, user_id=user.id, object_type="withdrawal",
          object_id=withdrawal.id,
          details={"idempotency_key": key, "member_no": withdrawal.member.member_no, "method": withdrawal.method,
                   "amount_idr": withdrawal.amount_idr, "status": withdrawal.status,
                   "receipt_no": withdrawal.receipt_no})


@dataclass(frozen=True)
class VoidDetails:
    """Who voided a record (display name), when (``posted_at``, aware UTC) and why."""

    by: str
    at: datetime
    reason: str


def void_details(record) -> VoidDetails | None:
    """The void of a deposit or withdrawal as its reversing entry has it, or None if not voided."""
    if record.void_entry_id is None:
        return None
    entry = in_unit(JournalEntry, record.unit_id, record.void_entry_id)
    user = db.session.get(User, entry.created_by_id) if entry.created_by_id else None
    return VoidDetails(by=user.display_name if user else "-", at=entry.posted_at, reason=entry.reason)


def get_withdrawal(unit_id: int, withdrawal_id: int) -> Withdrawal | None:
    """The withdrawal ``withdrawal_id`` of ``unit_id``, or None."""
    return db.session.scalar(select(Withdrawal).where(Withdrawal.unit_id == unit_id, Withdrawal.id == withdrawal_id))


@dataclass(frozen=True)
class CancelReported:
    """A withdrawal the tablet reported as cancelled after the server had recorded it
    (``withdrawal.cancel_reported``): its cash was not handed over but the savings were
    debited. ``reported_at`` is the audit row's time (aware UTC), ``reported_by`` the user who
    cancelled on the tablet (None if unknown)."""

    withdrawal: Withdrawal
    reported_at: datetime
    reported_by: User | None


def cancel_reported_open(unit_id: int, withdrawal_ids: list[int] | None = None, *,
                         include_voided: bool = False) -> list[CancelReported]:
    """The withdrawals of ``unit_id`` with a ``withdrawal.cancel_reported`` audit row that are
    not voided yet (also the voided ones with ``include_voided``), oldest report first (one per
    withdrawal); only those in ``withdrawal_ids`` when given. Read-only; another unit's
    withdrawals never match (both the audit row and the withdrawal must be of ``unit_id``).
    Used by the manager's home alert, withdrawal page and cash book (tester F3)."""
    from sqlalchemy import String  # here: the end of this file is this function's only place
    from sqlalchemy import cast as sa_cast

    stmt = (select(Withdrawal, AuditLog)
            .join(AuditLog, (AuditLog.object_id == sa_cast(Withdrawal.id, String))
                  & (AuditLog.object_type == "withdrawal") & (AuditLog.action == "withdrawal.cancel_reported")
                  & (AuditLog.unit_id == Withdrawal.unit_id))
            .where(Withdrawal.unit_id == unit_id)
            .order_by(AuditLog.created_at, AuditLog.id))
    if not include_voided:
        stmt = stmt.where(Withdrawal.void_entry_id.is_(None))
    if withdrawal_ids is not None:
        if not withdrawal_ids:
            return []
        stmt = stmt.where(Withdrawal.id.in_(withdrawal_ids))
    out: dict[int, CancelReported] = {}
    for withdrawal, row in db.session.execute(stmt):
        out.setdefault(withdrawal.id, CancelReported(withdrawal, row.created_at, row.user))
    return list(out.values())
