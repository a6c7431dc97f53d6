"""The deposit screen's page: the form, the prices in force, the balance, and the data its
script needs (``static/counter/deposit.js``). Shared by the deposit view and the memberless
shell page the service worker keeps (``offline.deposit_shell``)."""
from __future__ import annotations

import uuid

from flask import render_template
from flask_babel import get_locale
from flask_babel import gettext as _

from ..models import Member, Unit
from ..money import message_templates
from ..services.catalog import current_prices
from ..services.containers import snapshot_containers
from ..services.ledger import member_savings_account
from .forms import DepositForm


def render_deposit_page(unit: Unit, member: Member | None, *, form: DepositForm | None = None,
                        prices: dict | None = None, general: list[str] | None = None, status: int = 200):
    """The deposit screen for ``member``, or the memberless shell page (``member=None``) that
    the service worker serves offline for any member (``offline.deposit_shell``)."""
    if form is None:
        form = DepositForm()
        form.idempotency_key.data = uuid.uuid4().hex
    prices = current_prices(unit.id) if prices is None else prices
    balance = member_savings_account(member).balance if member is not None else None
    containers = snapshot_containers(unit.id)
    return render_template("counter/deposit.html", unit=unit, member=member, form=form, prices=prices,
                           balance=balance, general_errors=general or [], containers=containers,
                           client_data=deposit_page_data(unit, member, prices, balance)), status


def quantity_messages() -> dict[str, str]:
    """The deposit form's validation messages by error code, translated, for the browser's
    check as the operator types: the server's own sentences (``money.message_templates``) and
    the one check only the form makes (a weight typed with no category chosen)."""
    return {**message_templates(), "no_category": _("Choose a category for this weight."),
            # The tare (docs/tare.md): the service's own refusal, and the gross − tare = net line.
            "tare_not_less": _("The %(container)s weighs %(tare)s, as much as or more than the gross %(gross)s: "
                               "weigh again or choose another container."),
            "tare_text": _("gross %(gross)s − %(container)s %(tare)s = %(net)s")}


def deposit_page_data(unit, member, prices, balance: int | None) -> dict:
    """What the deposit screen's script needs: the member (or None on the shell page), the
    unit's fee (basis points), the prices in force by code and in tile order, and messages."""
    locale = str(get_locale() or "id")
    return {
        "member": None if member is None else {
            "member_no": member.member_no, "name": member.name, "balance_idr": balance,
            "rt": member.rt, "rw": member.rw},
        "fee_bp": unit.fee_bp,
        "prices": {row.category.code: {
            "name": row.category.name(locale), "unit": row.category.unit,
            "buy_price_idr": row.buy_price_idr, "max_line_milli": row.category.max_line_milli,
            "material_group": row.category.material_group} for row in prices.values()},
        "order": [row.category.code for row in prices.values()],
        # The unit's containers, for the tare of a kg line (docs/tare.md): {id, name, tare_g}.
        "containers": snapshot_containers(unit.id),
        "messages": quantity_messages(),
    }
