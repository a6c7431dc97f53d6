"""What each line of the cash book says to a manager (issue 9 item 3): "Penarikan tunai ·
RW05-0012 Siti Aminah", "Penjualan RW05-2026-000003 · CV Maju Daur", "Selisih kas tutup buku",
"Pembatalan: …" — labels and names instead of the journal memo's codes ("Penarikan cash
RW05-0012"). The memo stays in the ledger unchanged; this only reads it when nothing better
is known.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import JournalEntry, Sale, Withdrawal
from ..services.cashbook import CashBook
from ..services.withdrawals import cancel_reported_open

#: A withdrawal's method as a cash book line ("cash" → "Penarikan tunai").
WITHDRAWAL_LINES = {
    "cash": _l("Cash withdrawal"),
    "transfer": _l("Withdrawal by transfer"),
    "goods": _l("Withdrawal in goods (sembako)"),
    "donation": _l("Donation from savings"),
}


def _withdrawal_text(w: Withdrawal) -> str:
    label = WITHDRAWAL_LINES.get(w.method)
    member = f"{w.member.member_no} {w.member.name}"
    return " · ".join(p for p in (str(label) if label else w.method, w.receipt_no or "", member) if p)


def _sale_text(sale: Sale) -> str:
    return " ".join((_("Sale"), f"{sale.sale_no} · {sale.offtaker.name}"))


def movement_texts(book: CashBook) -> dict[int, str]:
    """``{entry_id: text}`` for the movements of ``book`` (entries it cannot name keep their
    memo). A reversal reads "Pembatalan: <what it reverses>"."""
    entry_ids = {m.entry_id for m in book.movements} | {m.reverses_id for m in book.movements if m.reverses_id}
    if not entry_ids:
        return {}
    ids = list(entry_ids)
    texts: dict[int, str] = {}
    for w in db.session.scalars(select(Withdrawal).where(Withdrawal.entry_id.in_(ids))):
        texts[w.entry_id] = _withdrawal_text(w)
    for sale in db.session.scalars(select(Sale).where(Sale.entry_id.in_(ids))):
        texts[sale.entry_id] = _sale_text(sale)
    entries = {e.id: e for e in db.session.scalars(select(JournalEntry).where(JournalEntry.id.in_(ids)))}
    for entry in entries.values():
        if entry.kind == "cash_count" and entry.id not in texts:
            texts[entry.id] = _("Cash count difference at the daily close")
    out = {}
    for m in book.movements:
        if m.reverses_id:
            original = texts.get(m.reverses_id) or (entries[m.reverses_id].memo if m.reverses_id in entries else "")
            out[m.entry_id] = _("Voided: %(what)s", what=original) if original else m.memo
        else:
            out[m.entry_id] = texts.get(m.entry_id, m.memo)
    return out


def cancel_marks(book: CashBook) -> dict[int, dict]:
    """``{entry_id: {"withdrawal": Withdrawal, "voided": bool, "reported_at": …, "by": …}}`` for
    the cash book's withdrawal lines the tablet reported as cancelled after they were recorded
    (``withdrawal.cancel_reported``, ``services.withdrawals.cancel_reported_open``): the cash
    book shows them as paid out, but the cash was not handed over, so the count differs by that
    amount until the withdrawal is voided (its reversal then puts it back in the book)."""
    entry_ids = [m.entry_id for m in book.movements if not m.reverses_id]
    if not entry_ids:
        return {}
    ids = list(db.session.scalars(select(Withdrawal.id).where(
        Withdrawal.unit_id == book.unit.id, Withdrawal.entry_id.in_(entry_ids))))
    return {r.withdrawal.entry_id: {"withdrawal": r.withdrawal, "voided": r.withdrawal.void_entry_id is not None,
                                    "reported_at": r.reported_at, "by": r.reported_by}
            for r in cancel_reported_open(book.unit.id, ids, include_voided=True)}
