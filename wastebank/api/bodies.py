"""The JSON bodies of the money operations' answers, next to the schemas that describe them.

``api/schemas.py`` documents each body (``DepositSchema``, ``WithdrawalSchema``, ``SaleSchema``
…); the functions here build them from the recorded rows. The services call them inside the
operation's transaction because the idempotency envelope stores the answer with the money
(docs/rules.md §idempotency): a replay returns exactly these bytes, so a body is part of the
operation's result, not a view's rendering of it. Rupiah as ints, quantities in thousandths,
times as ISO 8601 UTC.

This module imports only models and the ledger's account lookup, so the services can use it
without an import circle.
"""
from __future__ import annotations

from ..models import Deposit, Sale, Withdrawal
from ..services.ledger import member_savings_account


def deposit_body(deposit: Deposit) -> dict:
    """The API's answer for a deposit (docs/rules.md §api): rupiah as ints, quantities in thousandths.
    ``deposit`` is a Deposit or the RecordedDeposit a deposit just wrote (the same attributes)."""
    return {
        "id": deposit.id,
        "receipt_no": deposit.receipt_no,
        "member_no": deposit.member.member_no,
        "recorded_at": deposit.recorded_at.isoformat(),
        "posted_at": deposit.posted_at.isoformat(),
        "lines": [
            {"category": line.category.code, "quantity_milli": line.quantity_milli,
             "gross_milli": line.gross_milli, "tare_milli": line.tare_milli,
             "container": line.container_name,
             "unit": line.category.unit, "unit_price_idr": line.unit_price_idr,
             "amount_idr": line.amount_idr}
            for line in deposit.lines
        ],
        "total_idr": deposit.total_idr,
        "fee_idr": deposit.fee_idr,
        "credited_idr": deposit.credited_idr,
        "balance_idr": deposit.balance_after_idr,
    }


def withdrawal_body(withdrawal: Withdrawal, *, balance_idr: int | None = None) -> dict:
    """The API's answer for a withdrawal (docs/rules.md §api plus its status and method).
    ``balance_idr``: the member's savings balance in rupiah as the operation left it (given
    by the service that just posted it); read from the savings account when None."""
    if balance_idr is None:
        balance_idr = member_savings_account(withdrawal.member).balance
    return {
        "id": withdrawal.id,
        "receipt_no": withdrawal.receipt_no,
        "member_no": withdrawal.member.member_no,
        "method": withdrawal.method,
        "status": withdrawal.status,
        "amount_idr": withdrawal.amount_idr,
        "balance_idr": balance_idr,
        **method_fields(withdrawal),
    }


def method_fields(withdrawal: Withdrawal) -> dict:
    """A payout's method fields for the API answer: the reference, and the gold and bill fields
    (empty strings and nulls for the methods that have none)."""
    return {"reference": withdrawal.reference, "provider": withdrawal.provider, "account_no": withdrawal.account_no,
            "gold_price_idr": withdrawal.gold_price_idr, "gold_mg": withdrawal.gold_mg,
            "bill_kind": withdrawal.bill_kind, "token_no": withdrawal.token_no}


def sale_body(sale: Sale) -> dict:
    """A sale as JSON-able data: rupiah as ints, quantities in thousandths."""
    return {
        "id": sale.id, "sale_no": sale.sale_no, "offtaker": sale.offtaker.name, "payment": sale.payment,
        "posted_at": sale.posted_at.isoformat(), "entry_id": sale.entry_id,
        "lines": [{"category": l.category.code, "unit": l.category.unit, "weighed_milli": l.weighed_milli,
                   "accepted_milli": l.accepted_milli, "price_idr": l.price_idr, "amount_idr": l.amount_idr,
                   "cost_idr": l.cost_idr} for l in sale.lines],
        "total_idr": sale.total_idr, "cost_idr": sale.cost_idr, "shrinkage_idr": sale.shrinkage_idr,
        "margin_idr": sale.margin_idr,
    }
