"""The counter's one-record look-ups: always inside the logged-in user's own unit, through
``services.scope``, so another unit's member, receipt or withdrawal is a 404 like a missing one
(docs/rules.md "Scope")."""
from __future__ import annotations

from flask_login import current_user

from ..auth.permissions import counter_unit
from ..models import Deposit, Member, Unit, Withdrawal
from ..services.scope import in_unit, member_in_unit


def counter_member(member_no: str) -> tuple[Unit, Member]:
    """``(unit, member)``: the user's counter unit and its member ``member_no`` (any case).
    Raises NotFound (404); 403 for a user without a unit (``counter_unit``)."""
    unit = counter_unit(current_user)
    return unit, member_in_unit(unit.id, member_no)


def visible_deposit(receipt_no: str) -> Deposit:
    """The deposit of the user's unit with receipt number ``receipt_no``. Raises NotFound."""
    return in_unit(Deposit, counter_unit(current_user).id, receipt_no=receipt_no)


def visible_withdrawal(withdrawal_id: int) -> Withdrawal:
    """The withdrawal ``withdrawal_id`` of the user's unit. Raises NotFound."""
    return in_unit(Withdrawal, counter_unit(current_user).id, withdrawal_id)
