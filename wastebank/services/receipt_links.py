"""The verification URLs printed as QR codes on receipts, for code outside the counter views.

Same rule as ``counter.views.verify_url`` and ``counter.withdrawals.withdrawal_verify_url``
(tests/test_notifications.py checks that they agree): ``PUBLIC_BASE_URL`` + ``/r/<receipt>/<code>``
for a deposit, ``/r/w/<receipt>/<code>`` for a withdrawal, where ``code`` is the first 16 hex
characters of HMAC-SHA256(SECRET_KEY, receipt number).
"""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app


def receipt_code(receipt_no: str) -> str:
    """The 16-hex-character HMAC of ``receipt_no`` that proves a receipt is ours."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, receipt_no.encode(), hashlib.sha256).hexdigest()[:16]


def receipt_verify_url(kind: str, receipt_no: str) -> str:
    """The public verification URL of a ``deposit`` or ``withdrawal`` receipt."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    prefix = "/r/w/" if kind == "withdrawal" else "/r/"
    return f"{base}{prefix}{receipt_no}/{receipt_code(receipt_no)}"
