"""Read-only queries about one member's savings: recent movements and the statement
(*buku tabungan*). Amounts are integer rupiah, positive for money in (a credit to the member's
savings account, which is credit-normal), negative for money out.

A movement belongs to the day and month of its capture time, the entry's ``recorded_at``
(docs/rules.md §periods): a deposit captured offline on 31 July and posted on 1 August (C17) is in
the July passbook, not August's. Movements are bucketed and ordered by ``recorded_at`` (then by
entry id); ``posted_at`` is carried beside it so screens and the PDF can show it where it
differs.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from types import SimpleNamespace
from datetime import datetime

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased

from ..extensions import db
from ..models import Deposit, DepositLine, JournalEntry, Member, Posting, WasteCategory, Withdrawal
from ..services.ledger import member_savings_account
from ..services.month_lock import active_lock, month_label, month_of
from ..services.payout_methods import summary
from .period import capture_note, captured_before, captured_in, posted_later

KIND_LABELS = {
    "deposit": _l("Deposit"),
    "withdrawal": _l("Withdrawal"),
    "opening_balance": _l("Opening balance"),
    "reversal": _l("Correction"),
}


@dataclass(frozen=True)
class Movement:
    """One change to a member's savings.

    ``recorded_at`` (capture time, which places it in a day and month) and ``posted_at``
    (when the server posted it) aware UTC; ``amount_idr`` rupiah, + in / − out; ``reference``
    the receipt number if any; ``description`` a translatable label; ``balance_idr`` the
    running balance after this movement (statements only, else None). What the reference opens
    on screen: ``deposit_receipt_no`` for a deposit or its void (the deposit's receipt page),
    ``withdrawal_id`` for a withdrawal or its void (the withdrawal's page), else both None.
    ``voided``: this deposit or withdrawal was voided later (its row is marked "BATAL", as on the
    counter's member page; the void is a row of its own).
    """

    entry_id: int
    posted_at: datetime
    kind: str
    description: str
    reference: str
    amount_idr: int
    balance_idr: int | None = None
    recorded_at: datetime | None = None
    lines: tuple["MovementLine", ...] = ()
    deposit_receipt_no: str | None = None
    withdrawal_id: int | None = None
    voided: bool = False

    @property
    def posted_later(self) -> bool:
        """True when the posting came a minute or more after the capture (an offline capture
        synced later): then the posting time is shown beside the capture time."""
        return posted_later(self.recorded_at, self.posted_at)

    @property
    def capture_note(self) -> str:
        """``"dicatat 30/11 23.40, dibukukan 02/12"`` when posted later, else ``""``
        (``period.capture_note``)."""
        return capture_note(self.recorded_at, self.posted_at)


# A gold or bill withdrawal's own columns, for its line (services/payout_methods.summary).
_PAYOUT_COLUMNS = tuple(getattr(Withdrawal, name).label(f"withdrawal_{name}") for name in (
    "method", "reference", "provider", "account_no", "bill_kind", "token_no", "gold_price_idr", "gold_mg"))


def _payout_summary(row) -> str:
    """`` · Tabungan emas · 0,512 g @ Rp 1.950.000/g · Pegadaian 1234…`` for a gold or bill
    withdrawal's row (docs/payouts.md), else ``""``."""
    if row.withdrawal_method not in ("gold", "bill"):
        return ""
    shown = SimpleNamespace(**{name: getattr(row, f"withdrawal_{name}") for name in (
        "method", "reference", "provider", "account_no", "bill_kind", "token_no", "gold_price_idr", "gold_mg")})
    return " · " + summary(shown, get_locale())


def movement_query(account_id: int, unit_id: int):
    """The one join behind every list of a savings account's movements (the counter's member
    page, the passbook, the statement): each posting on ``account_id`` (of unit ``unit_id``,
    the tenant key in every condition and join: docs/scaling.md §tenant-keys) with its journal entry,
    the deposit or withdrawal that entry posted, and the deposit or withdrawal it voids.
    Unordered and unlimited: callers add their order and limit.

    Row attributes: ``entry_id``, ``posted_at``, ``recorded_at``, ``kind``, ``amount`` (the
    posting, rupiah, debit +), ``deposit_receipt_no``, ``deposit_void_entry_id``,
    ``withdrawal_id``, ``withdrawal_receipt_no``, ``withdrawal_void_entry_id``,
    ``voids_deposit_receipt_no``, ``voids_withdrawal_id``, ``voids_withdrawal_receipt_no``, and
    for the month-lock note the voided record's ``voids_deposit_unit_id``/``_recorded_at`` and
    ``voids_withdrawal_unit_id``/``_paid_at``; for the withdrawal's own line its ``withdrawal_method``,
    ``withdrawal_reference`` and gold/bill columns (``withdrawal_provider``, ``_account_no``,
    ``_bill_kind``, ``_token_no``, ``_gold_price_idr``, ``_gold_mg``).
    """
    voided_deposit = aliased(Deposit)
    voided_withdrawal = aliased(Withdrawal)
    return (
        select(JournalEntry.id.label("entry_id"), JournalEntry.posted_at, JournalEntry.recorded_at,
               JournalEntry.kind, Posting.amount,
               Deposit.receipt_no.label("deposit_receipt_no"),
               Deposit.void_entry_id.label("deposit_void_entry_id"),
               Withdrawal.id.label("withdrawal_id"), Withdrawal.receipt_no.label("withdrawal_receipt_no"),
               Withdrawal.void_entry_id.label("withdrawal_void_entry_id"),
               voided_deposit.receipt_no.label("voids_deposit_receipt_no"),
               voided_withdrawal.id.label("voids_withdrawal_id"),
               voided_withdrawal.receipt_no.label("voids_withdrawal_receipt_no"),
               voided_deposit.unit_id.label("voids_deposit_unit_id"),
               voided_deposit.recorded_at.label("voids_deposit_recorded_at"),
               voided_withdrawal.unit_id.label("voids_withdrawal_unit_id"),
               voided_withdrawal.paid_at.label("voids_withdrawal_paid_at"),
               *_PAYOUT_COLUMNS)
        .join(Posting, (Posting.entry_id == JournalEntry.id) & (Posting.unit_id == JournalEntry.unit_id))
        .outerjoin(Deposit, (Deposit.entry_id == JournalEntry.id) & (Deposit.unit_id == JournalEntry.unit_id))
        .outerjoin(Withdrawal, (Withdrawal.entry_id == JournalEntry.id) & (Withdrawal.unit_id == JournalEntry.unit_id))
        .outerjoin(voided_deposit, (voided_deposit.void_entry_id == JournalEntry.id)
                   & (voided_deposit.unit_id == JournalEntry.unit_id))
        .outerjoin(voided_withdrawal, (voided_withdrawal.void_entry_id == JournalEntry.id)
                   & (voided_withdrawal.unit_id == JournalEntry.unit_id))
        .where(Posting.account_id == account_id, Posting.unit_id == unit_id, JournalEntry.unit_id == unit_id)
    )


def _locked_month_note(row, voided_reference: str | None) -> str:
    """`` — koreksi atas R-… (November 2026, tutup buku)`` when the movement voids a record of a
    month that is locked (docs/month-lock.md: the correction is posted in the open month), else
    ``""``. One look-up per void row; voids are rare."""
    unit_id = row.voids_deposit_unit_id or row.voids_withdrawal_unit_id
    dated = row.voids_deposit_recorded_at or row.voids_withdrawal_paid_at
    if not voided_reference or unit_id is None or dated is None:
        return ""
    month = month_of(dated)
    if month == month_of(row.recorded_at or row.posted_at) or active_lock(unit_id, month) is None:
        return ""
    return " — " + str(_l("correction of %(ref)s (%(month)s, books closed)", ref=voided_reference,
                          month=month_label(month)))


def _movement(row, balance: int | None = None) -> Movement:
    void_dep_no, void_wd_no = row.voids_deposit_receipt_no, row.voids_withdrawal_receipt_no
    reference = row.deposit_receipt_no or row.withdrawal_receipt_no or void_dep_no or void_wd_no or ""
    # The void's one wording, as on the counter's member page (counter/member.html) and like the
    # journal's "Pembatalan jurnal …": "Pembatalan setoran R-…" / "Pembatalan penarikan R-…".
    if void_dep_no:
        description = _l("Void of deposit")
    elif void_wd_no:
        description = _l("Void of withdrawal")
    else:
        description = str(KIND_LABELS.get(row.kind, row.kind)) + _payout_summary(row)
    description = str(description) + _locked_month_note(row, void_dep_no or void_wd_no)
    return Movement(entry_id=row.entry_id, posted_at=row.posted_at, kind=row.kind, description=str(description),
                    reference=reference, amount_idr=-int(row.amount), balance_idr=balance,
                    recorded_at=row.recorded_at, deposit_receipt_no=row.deposit_receipt_no or void_dep_no,
                    withdrawal_id=row.withdrawal_id or row.voids_withdrawal_id,
                    voided=(row.deposit_void_entry_id or row.withdrawal_void_entry_id) is not None)


def member_movements(member: Member, limit: int = 20, *, with_lines: bool = False) -> list[Movement]:
    """The member's latest ``limit`` savings movements, newest capture time first; with
    ``with_lines`` each deposit (and each deposit's void, negated) carries what was brought
    (:func:`deposit_lines`). Two queries whatever the count."""
    account = member_savings_account(member)
    rows = db.session.execute(
        movement_query(account.id, account.unit_id)
        .order_by(JournalEntry.recorded_at.desc(), JournalEntry.id.desc()).limit(limit))
    movements = [_movement(row) for row in rows]
    if not with_lines:
        return movements
    lines = deposit_lines([m.entry_id for m in movements])
    return [replace(m, lines=lines.get(m.entry_id, ())) for m in movements]


@dataclass(frozen=True)
class MovementLine:
    """One category of a deposit: ``quantity_milli`` thousandths of ``unit`` (kg, L, pcs);
    negative on the entry that voids the deposit."""

    code: str
    name_id: str
    name_en: str
    unit: str
    quantity_milli: int

    def name(self, locale) -> str:
        return self.name_en if str(locale).startswith("en") else self.name_id


def deposit_lines(entry_ids: list[int]) -> dict[int, tuple[MovementLine, ...]]:
    """entry id → the categories and quantities of the deposit it posted (or, negated, of the
    deposit it voided), in line order. Entries that are not deposits are absent."""
    if not entry_ids:
        return {}
    out: dict[int, list[MovementLine]] = {}
    for entry_id, void_id, code, name_id, name_en, unit, qty in db.session.execute(
            select(Deposit.entry_id, Deposit.void_entry_id, WasteCategory.code, WasteCategory.name_id,
                   WasteCategory.name_en, WasteCategory.unit, DepositLine.quantity_milli)
            .join(DepositLine, DepositLine.deposit_id == Deposit.id)
            .join(WasteCategory, WasteCategory.id == DepositLine.category_id)
            .where(or_(Deposit.entry_id.in_(entry_ids), Deposit.void_entry_id.in_(entry_ids)))
            .order_by(DepositLine.id)):
        if entry_id in entry_ids:
            out.setdefault(entry_id, []).append(MovementLine(code, name_id, name_en, unit, int(qty)))
        if void_id is not None and void_id in entry_ids:
            out.setdefault(void_id, []).append(MovementLine(code, name_id, name_en, unit, -int(qty)))
    return {k: tuple(v) for k, v in out.items()}


def member_diverted(member: Member) -> dict[str, int]:
    """What the member has brought in all, net of voided deposits: unit of measure (``kg``,
    ``L``, ``pcs``) → thousandths; every unit present, 0 when none (the resident page's
    "total diselamatkan")."""
    out = {"kg": 0, "L": 0, "pcs": 0}
    for unit, qty in db.session.execute(
            select(WasteCategory.unit, func.coalesce(func.sum(DepositLine.quantity_milli), 0))
            .join(DepositLine, DepositLine.category_id == WasteCategory.id)
            .join(Deposit, Deposit.id == DepositLine.deposit_id)
            .where(Deposit.member_id == member.id, Deposit.void_entry_id.is_(None))
            .group_by(WasteCategory.unit)):
        out[unit] = out.get(unit, 0) + int(qty)
    return out


@dataclass(frozen=True)
class Statement:
    """A member's statement for [``start``, ``end``) (aware UTC instants): the balance before
    ``start``, every movement inside with its running balance, and the balance at ``end``;
    rupiah. ``closing_idr`` = ``opening_idr`` + the sum of the movements."""

    start: datetime
    end: datetime
    opening_idr: int
    movements: list[Movement]
    closing_idr: int


def member_statement(member: Member, start: datetime, end: datetime) -> Statement:
    """Build the member's statement for [``start``, ``end``) from the postings (not from the
    cached balance, so it holds for any past period): the movements whose capture time
    (``recorded_at``) falls inside, in capture order; the opening balance sums every movement
    captured before ``start``. Raises ValueError if ``end`` < ``start``.
    """
    if end < start:
        raise ValueError("statement end before start")
    account = member_savings_account(member)
    before = db.session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(JournalEntry, (JournalEntry.id == Posting.entry_id) & (JournalEntry.unit_id == Posting.unit_id))
        .where(Posting.account_id == account.id, Posting.unit_id == account.unit_id,
               captured_before(JournalEntry.recorded_at, start)))
    balance = -int(before or 0)
    opening = balance
    movements = []
    rows = db.session.execute(
        movement_query(account.id, account.unit_id)
        .where(captured_in(JournalEntry.recorded_at, start, end))
        .order_by(JournalEntry.recorded_at, JournalEntry.id))
    for row in rows:
        balance += -int(row.amount)
        movements.append(_movement(row, balance))
    return Statement(start=start, end=end, opening_idr=opening, movements=movements, closing_idr=balance)
