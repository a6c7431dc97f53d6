"""The ledger's one writer: ``post_journal`` (docs/rules.md §ledger). Services flush, never commit.

All amounts are signed integer rupiah, debit positive and credit negative (see models.ledger).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterable

from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, Date, and_, bindparam, case, event, func, insert, inspect, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import ACCOUNT_KINDS, Account, JournalEntry, Posting, utcnow
from ..money import Rupiah, Thousandths
from . import hot_cache
from .errors import AlreadyReversed, InsufficientBalance, InsufficientStock, LedgerError, PeriodClosed
from .month_lock import lock_faults
from .period_balances import period_faults
from .transaction import dialect_name, insert_or_ignore, prepared, run_core


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account's identity as plain values: what never changes once the account exists
    (docs/rules.md §ledger). Enough for a leg of ``post_journal``; it carries no balance. The
    hot path's legs use it so that a deposit builds no ORM instance per account (issue 13)."""

    id: int
    unit_id: int
    key: str
    kind: str
    normal_side: str
    member_id: int | None
    category_id: int | None

    def values(self) -> dict:
        """The identity as ``{column: value}`` (the columns of ``account``)."""
        return {name: getattr(self, name) for name in _ACCOUNT_IDENTITY}


_ACCOUNT_IDENTITY = ("id", "unit_id", "key", "kind", "normal_side", "member_id", "category_id")


@dataclass(frozen=True)
class Leg:
    """One intended posting: ``amount`` signed rupiah (debit +, credit −) on ``account`` (the
    mapped row or its AccountRef), and for stock accounts the quantity moved in thousandths
    (in +, out −)."""

    account: Account | AccountRef
    amount: Rupiah
    quantity_milli: Thousandths | None = None
    # Savings that must remain on a member account after a debit (a unit's minimum balance).
    floor_idr: Rupiah = 0


@dataclass(frozen=True, slots=True)
class PostedEntry:
    """A journal entry just written by :func:`post_journal`, as the values inserted (every
    column of ``journal_entry``; times aware UTC). Its postings are the legs the caller gave."""

    id: int
    unit_id: int
    kind: str
    memo: str
    posted_at: datetime
    recorded_at: datetime
    created_by_id: int | None
    reverses_id: int | None
    reason: str


def account_for(unit_id: int, key: str, kind: str, *, member_id: int | None = None,
                category_id: int | None = None, ref: bool = False) -> Account | AccountRef:
    """Return the unit's account ``key``, creating it if missing (safe under concurrency:
    insert-or-ignore on the (unit, key) unique constraint, then select). With ``ref`` the
    answer is its AccountRef (identity only, no ORM instance); else the session's Account.

    The identity is cached per process once known (services/hot_cache.py): a known account
    costs no query. Raises LedgerError for an unknown ``kind``.
    """
    if kind not in ACCOUNT_KINDS:
        raise LedgerError(f"unknown account kind {kind!r}")
    cached = hot_cache.get(("account", unit_id, key))
    if cached is not None:  # an account's identity never changes: no query (services/hot_cache.py)
        # The session's own instance (balances as loaded), or one of the identity only whose
        # balances load when read.
        return cached if ref else hot_cache.in_session(Account, cached.values())
    found = db.session.scalar(select(Account).where(Account.unit_id == unit_id, Account.key == key))
    if found is None:
        values = dict(unit_id=unit_id, key=key, kind=kind, normal_side=ACCOUNT_KINDS[kind],
                      member_id=member_id, category_id=category_id, balance=0, held=0, quantity_milli=0)
        insert_or_ignore(Account, **values)
        found = db.session.scalars(select(Account).where(Account.unit_id == unit_id, Account.key == key)).one()
    identity = AccountRef(*(getattr(found, c) for c in _ACCOUNT_IDENTITY))
    hot_cache.put(("account", unit_id, key), identity)
    return identity if ref else found


def member_savings_account(member, *, ref: bool = False) -> Account | AccountRef:
    """The member's savings account (a liability of the unit); its AccountRef with ``ref``."""
    return account_for(member.unit_id, f"savings:{member.id}", "member_savings", member_id=member.id, ref=ref)


def stock_account(unit_id: int, category_id: int, *, ref: bool = False) -> Account | AccountRef:
    """The unit's stock-at-cost account for one waste category (an asset); its AccountRef with ``ref``."""
    return account_for(unit_id, f"stock:{category_id}", "stock", category_id=category_id, ref=ref)


def stock_legs(unit_id: int, moves: Iterable[tuple[int, Rupiah, Thousandths]]) -> list[Leg]:
    """One leg per waste category on the unit's stock accounts (as AccountRefs): ``moves`` are
    ``(category_id, rupiah, thousandths)`` (signed: into stock +, out −), summed per category
    in the order the categories first appear (several lines of one category post once)."""
    totals: dict[int, list[int]] = {}
    for category_id, amount, quantity in moves:
        total = totals.setdefault(category_id, [0, 0])
        total[0] += amount
        total[1] += quantity
    return [Leg(stock_account(unit_id, category_id, ref=True), amount, quantity)
            for category_id, (amount, quantity) in totals.items()]


def system_account(unit_id: int, kind: str, *, ref: bool = False) -> Account | AccountRef:
    """One of the unit's single accounts: ``cash``, ``fee_income``, ``trading_margin``, …
    (its AccountRef with ``ref``)."""
    return account_for(unit_id, kind, kind, ref=ref)


def _account_identity_key(account_id: int):
    """The identity-map key of the Account with primary key ``account_id``."""
    return inspect(Account).identity_key_from_primary_key([account_id])


def change_hold(account: Account, delta_idr: Rupiah, floor_idr: Rupiah = 0) -> None:
    """Hold (``delta_idr`` > 0) or release (< 0) rupiah on a member's savings for an approved,
    unpaid withdrawal (docs/rules.md §balance (I2) counts holds). A hold succeeds only if the
    available savings (balance − held − ``floor_idr``) cover it. Raises InsufficientBalance."""
    stmt = (update(Account).where(Account.id == account.id, Account.unit_id == account.unit_id)
            .values(held=Account.held + delta_idr).returning(Account.held)
            .execution_options(synchronize_session=False))
    if delta_idr > 0:
        stmt = stmt.where(Account.balance - Account.held - floor_idr >= delta_idr)
    else:
        stmt = stmt.where(Account.held >= -delta_idr)
    held = db.session.execute(stmt).scalar()
    if held is None:
        raise InsufficientBalance(_l("Not enough savings: the balance cannot go below zero."),
                                  field="amount_idr")
    # The new hold as the statement returned it: the account is not expired, so nothing
    # (its balance, its identity) is read back afterwards by id alone.
    set_committed_value(account, "held", held)


def lock_books(unit_id: int, *, close: bool = False) -> None:
    """Serialise postings with the unit's daily close (docs/rules.md §daily-close (I12)) on PostgreSQL.

    Every posting holds the unit's row ``FOR SHARE`` (many postings at once) from its
    closed-day check until commit; ``close_day``/``reopen_day`` hold it ``FOR NO KEY UPDATE``,
    which waits for every posting in flight and makes new ones wait. So the close counts every
    posting committed before it and no posting slips into the day after it (the race of issue
    10 item 1 under READ COMMITTED). ``NO KEY`` leaves inserts that merely reference the unit
    (foreign keys) unblocked. On SQLite SQLAlchemy renders no lock clause: writers are one
    at a time (writer lock), and a posting or close whose snapshot went stale before its first
    write is refused and re-run (docs/rules.md §concurrency).
    """
    from ..models import Unit

    stmt = select(Unit.id).where(Unit.id == unit_id)
    stmt = stmt.with_for_update(key_share=True) if close else stmt.with_for_update(read=True)
    db.session.execute(stmt)
    books_locked(unit_id)


_BOOKS_LOCKED = "wastebank_books_locked"


def books_locked(unit_id: int) -> None:
    """Note that this transaction already holds ``unit_id``'s row ``FOR SHARE`` (or stronger),
    taken by :func:`lock_books` or by a query of the caller that locked it (the deposit API's
    member lookup, to spare a statement), so :func:`post_journal` does not lock it again."""
    db.session.info.setdefault(_BOOKS_LOCKED, set()).add(unit_id)


@event.listens_for(Session, "after_transaction_end")
def _forget_books_locks(session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction: its row locks are gone
        session.info.pop(_BOOKS_LOCKED, None)


def _refuse_closed(posted_at: datetime, closed) -> None:
    """Raise PeriodClosed when the local day of ``posted_at`` (the posting moment, i.e. now) is
    on or before ``closed`` (the unit's last closed day, a date, or None): docs/rules.md
    §daily-close (I12). Only the posting day counts; an offline capture whose ``recorded_at``
    lies in a day closed since (C17) is posted today and keeps its capture time."""
    from ..timeutil import local_today, to_local

    day = to_local(posted_at).date()
    if closed is None or day > closed:
        return
    if day == local_today():
        raise PeriodClosed(_l("Today (%(day)s) is already closed: the cash was counted and nothing more can "
                              "be recorded. A unit manager can reopen the day (Manage → Cash book); "
                              "nothing was saved.", day=day.strftime("%d-%m-%Y")))
    raise PeriodClosed(_l("The day %(day)s is closed for this unit; record it today instead.",
                          day=day.strftime("%d-%m-%Y")))


def _check_legs(unit_id: int, legs: list[Leg]) -> None:
    """Raise LedgerError unless ``legs`` are at least two non-zero int amounts on accounts of
    ``unit_id`` summing to zero (docs/rules.md §ledger (I1, I9, I10))."""
    if len(legs) < 2:
        raise LedgerError("a journal entry needs at least two postings")
    for leg in legs:
        if type(leg.amount) is not int or leg.amount == 0:
            raise LedgerError(f"posting amount must be a non-zero int, got {leg.amount!r}")
        if leg.account.unit_id != unit_id:
            raise LedgerError("every account of an entry must belong to the entry's unit")
    if sum(leg.amount for leg in legs) != 0:
        raise LedgerError("postings of a journal entry must sum to zero")


def _guard(leg: Leg, allow_negative_stock: bool) -> tuple[str | None, tuple[int, ...]]:
    """The condition ``leg``'s account row must meet for its move, as ``(kind, values)``
    (kind None: no condition): ``savings`` — a member's savings not below ``held`` +
    ``floor_idr`` (I2): balance − held ≥ values[0]; ``stock`` — a stock account not below zero
    in quantity: quantity ≥ values[0]; ``stock_value`` — nor in value when value goes out
    (unless ``allow_negative_stock``): also balance ≥ values[1]. The statement's shape depends
    on the kinds only (:func:`_legs_update`); the values are bound."""
    account = leg.account
    delta = leg.amount if account.normal_side == "D" else -leg.amount
    quantity = leg.quantity_milli or 0
    if account.kind == "member_savings" and delta < 0:
        return "savings", (leg.floor_idr - delta,)
    if account.kind == "stock" and quantity < 0 and not allow_negative_stock:
        # Nor below zero in value: a deposit's void takes its stock out at the deposit's
        # cost, which after a sale at the average cost can exceed what is left (issue 10
        # item 14: 0 kg worth −Rp 4.000 after a price rise, a sale and a void).
        return ("stock_value", (-quantity, -delta)) if delta < 0 else ("stock", (-quantity,))
    return None, ()


def _legs_update(guards: tuple[str | None, ...]):
    """Build the statement of :func:`_legs_update_for` for ``len(guards)`` accounts in ascending id
    order, account *i* guarded by ``guards[i]`` (params ``b_unit_id``, ``id_i``, ``d_i`` balance
    move, ``q_i`` quantity move, ``g_i``/``h_i`` guard values)."""
    def build(dialect: str):
        table = Account.__table__  # Core, not the ORM's bulk update: nothing in the session to synchronise
        c, n = table.c, len(guards)
        ids = [bindparam(f"id_{i}") for i in range(n)]
        conditions = []
        for i, kind in enumerate(guards):
            if kind == "savings":
                conditions.append(or_(c.id != ids[i], c.balance - c.held >= bindparam(f"g_{i}")))
            elif kind == "stock":
                conditions.append(or_(c.id != ids[i], c.quantity_milli >= bindparam(f"g_{i}")))
            elif kind == "stock_value":
                conditions.append(or_(c.id != ids[i], and_(c.quantity_milli >= bindparam(f"g_{i}"),
                                                           c.balance >= bindparam(f"h_{i}"))))

        def moved(column, name):
            return column + case(*((c.id == ids[i], bindparam(f"{name}_{i}", type_=BigInteger)) for i in range(n)),
                                 else_=0)

        stmt = (update(table)
                .values(balance=moved(table.c.balance, "d"), quantity_milli=moved(table.c.quantity_milli, "q"))
                .where(table.c.unit_id == bindparam("b_unit_id"), *conditions)
                .returning(table.c.id, table.c.balance))
        if dialect == "postgresql":
            locked = (select(table.c.id).where(table.c.unit_id == bindparam("b_unit_id"), table.c.id.in_(ids))
                      .order_by(table.c.id).with_for_update().cte("locked"))
            return stmt.add_cte(locked).where(table.c.id == locked.c.id)
        return stmt.where(table.c.id.in_(ids))
    return build


@dataclass(frozen=True, slots=True)
class _LegsUpdate:
    """The one ``UPDATE … RETURNING`` of a journal entry's legs, laid out before any write:
    the prepared statement, its params, the account ids in ascending order and the (summed)
    leg of each id, for the refusal of a row a guard kept from moving."""

    stmt: object
    params: dict
    ids: tuple[int, ...]
    by_id: dict

    def run(self) -> dict[int, Rupiah]:
        """Execute it; returns ``{account id: balance after}``. Raises InsufficientBalance or
        InsufficientStock when a guard refused its row (the caller rolls back: the other rows
        may have moved)."""
        return self.check(self.send())

    def send(self):
        """Execute it; returns its answer unread (read it with :meth:`check`)."""
        return run_core(self.stmt, self.params)

    def check(self, answer) -> dict[int, Rupiah]:
        """``{account id: balance after}`` from the answer of :meth:`send`; raises as :meth:`run`."""
        after = {row[0]: row[1] for row in answer}
        for account_id in self.ids:
            if account_id not in after:
                _refuse(self.by_id[account_id])
        return after


def _legs_update_for(legs: list[Leg], allow_negative_stock: bool) -> _LegsUpdate:
    """Lay out the move of every leg onto its account's cached balance and quantity as ONE
    conditional ``UPDATE … RETURNING`` (a CASE per account; each guard of :func:`_guard`
    applies to its own row only). On PostgreSQL the rows are first locked ``FOR UPDATE`` in
    ascending id order in a CTE of the same statement (I13); SQLite writes one at a time
    anyway. The statement is built once per shape (:func:`~.transaction.prepared`). Pure
    Python, no statement: :meth:`_LegsUpdate.run` executes it."""
    grouped: dict[int, list[Leg]] = {}
    for leg in legs:
        grouped.setdefault(leg.account.id, []).append(leg)
    ids = sorted(grouped)
    # Every leg is in one unit (checked by post_journal, I10): the tenant key makes the update a
    # single-shard statement under Citus (docs/scaling.md §tenant-keys).
    params: dict[str, int] = {"b_unit_id": legs[0].account.unit_id}
    kinds = []
    by_id: dict[int, Leg] = {}
    for i, account_id in enumerate(ids):
        group = grouped[account_id]
        # Several legs on one account move (and are guarded) as their sum.
        leg = by_id[account_id] = group[0] if len(group) == 1 else Leg(
            group[0].account, sum(g.amount for g in group), sum(g.quantity_milli or 0 for g in group) or None,
            max(g.floor_idr for g in group))
        kind, values = _guard(leg, allow_negative_stock)
        kinds.append(kind)
        params[f"id_{i}"] = account_id
        params[f"d_{i}"] = leg.amount if leg.account.normal_side == "D" else -leg.amount
        params[f"q_{i}"] = leg.quantity_milli or 0
        for name, value in zip(("g", "h"), values, strict=False):
            params[f"{name}_{i}"] = value
    shape = tuple(kinds)
    return _LegsUpdate(prepared(f"ledger.apply_legs:{shape}", _legs_update(shape)), params, tuple(ids), by_id)


def _refuse(leg: Leg) -> None:
    """Raise the refusal of a leg whose guard kept its row from moving."""
    account = leg.account
    if account.kind == "stock":
        quantity = leg.quantity_milli or 0
        on_hand = db.session.scalar(select(Account.quantity_milli).where(Account.id == account.id,
                                                                      Account.unit_id == account.unit_id))
        if on_hand >= -quantity:
            raise InsufficientStock(_l("The stock left is worth less at cost than this takes out: it was "
                                       "sold or written off since. Nothing was saved."), field="quantity")
        raise InsufficientStock(_l("Not enough in stock for this."), field="quantity")
    raise InsufficientBalance(_l("Not enough savings: the balance cannot go below zero."), field="amount_idr")


def _open_books_select(dialect: str):
    """The statement of :func:`_open_books` (params ``unit_id``, ``month_a``, ``month_b``: the
    months of the capture and of the posting, the same one twice when they agree; two plain
    parameters rather than an expanding list, so the statement's SQL never changes)."""
    from ..models import DayClose, MonthLock, Unit

    unit_id = bindparam("unit_id")
    closed = select(func.max(DayClose.business_date)).where(DayClose.unit_id == unit_id).scalar_subquery()
    locked = select(func.count()).select_from(MonthLock).where(
        MonthLock.unit_id == unit_id,
        MonthLock.month.in_([bindparam("month_a", type_=Date), bindparam("month_b", type_=Date)]),
        MonthLock.unlocked_at.is_(None)).scalar_subquery()
    next_id = (func.nextval("journal_entry_id_seq") if dialect == "postgresql"
               else select(func.coalesce(func.max(JournalEntry.id), 0) + 1).scalar_subquery())
    return select(closed, locked, next_id).where(Unit.id == unit_id)


def _open_books(unit_id: int, now: datetime, recorded_at: datetime) -> int:
    """One statement for what a posting must know before it writes (docs/rules.md §daily-close
    (I12), docs/month-lock.md): on PostgreSQL the unit's row is held ``FOR SHARE`` until commit
    (see :func:`lock_books`; taken in a statement before this one unless the caller already
    holds it, :func:`books_locked`), reads the last closed day and any active month lock of the
    months of ``recorded_at`` and ``now``, and takes the entry's id (``nextval`` on PostgreSQL;
    on SQLite max + 1, safe because a transaction that read an old snapshot cannot write).
    Raises PeriodClosed or MonthLocked. Returns the new entry id."""
    return _check_open_books(unit_id, now, recorded_at, _send_open_books(unit_id, now, recorded_at))


def _send_open_books(unit_id: int, now: datetime, recorded_at: datetime):
    """Run :func:`_open_books`'s statement (after the unit's lock on PostgreSQL); its answer
    unread, for :func:`_check_open_books`."""
    from .month_lock import month_of

    if dialect_name() == "postgresql" and unit_id not in db.session.info.get(_BOOKS_LOCKED, ()):
        # The lock in a statement of its own: under READ COMMITTED a statement that waits for
        # a row lock still evaluates its subqueries on the snapshot taken before the wait, so a
        # "FOR SHARE" here beside the closed-day read would miss a close that committed while
        # it waited (tests/test_close_race.py). The next statement takes a fresh snapshot.
        lock_books(unit_id)
    params = {"unit_id": unit_id, "month_a": month_of(recorded_at), "month_b": month_of(now)}
    return run_core(prepared("ledger.open_books", _open_books_select), params)


def _check_open_books(unit_id: int, now: datetime, recorded_at: datetime, answer) -> int:
    """The entry id from the answer of :func:`_send_open_books`; raises PeriodClosed or
    MonthLocked as :func:`_open_books`."""
    from .month_lock import check_month_open

    closed_day, n_locked, entry_id = answer.one()
    _refuse_closed(now, closed_day)
    if n_locked:
        check_month_open(unit_id, recorded_at, now)  # raises MonthLocked with the month's name
    return entry_id


def post_journal(unit_id: int, kind: str, legs: list[Leg], *, created_by_id: int | None,
                 memo: str = "", recorded_at: datetime | None = None,
                 reverses_id: int | None = None, reason: str = "",
                 allow_negative_stock: bool = False,
                 balances: dict[int, Rupiah] | None = None) -> PostedEntry:
    """Write one balanced journal entry with its postings and update the cached balances.

    ``legs`` must number at least two, be non-zero integers summing to zero, and all belong to
    ``unit_id`` (I1, I9, I10); accounts are locked in ascending id order (I13). A debit to a
    member's savings is a conditional update that refuses to go below ``held`` (I2).

    A stock account's quantity and value may not go below zero unless ``allow_negative_stock``
    (an explicit, audited adjustment). Nothing is posted into a closed day (I12) nor dated into
    a locked month.

    Set-based: one statement checks the day and month and takes the entry id, one updates
    every account, one inserts every posting, one the entry (its trigger then checks the
    postings). ``balances``, when given, is filled with ``{account id: balance after}``, so a
    caller never re-reads what was just written. The legs' persistent accounts get that balance
    as loaded (a moved quantity is expired): nothing is re-read by ``id`` alone afterwards. A
    caller that rolls back a savepoint after this returned must expire them itself (a
    savepoint's rollback expires only what the ORM changed).

    Returns the entry as a PostedEntry (the values inserted, not re-read). Raises LedgerError for a malformed
    entry, InsufficientBalance when a member's savings would go negative, InsufficientStock and
    PeriodClosed, MonthLocked; in every case the caller must roll back (cached balances may
    already have moved in this transaction).
    """
    return plan_journal(unit_id, kind, legs, created_by_id=created_by_id, recorded_at=recorded_at,
                        reverses_id=reverses_id, reason=reason,
                        allow_negative_stock=allow_negative_stock).post(memo, balances=balances)


def plan_journal(unit_id: int, kind: str, legs: list[Leg], *, created_by_id: int | None,
                 recorded_at: datetime | None = None, reverses_id: int | None = None, reason: str = "",
                 allow_negative_stock: bool = False) -> JournalPlan:
    """The first half of :func:`post_journal`: check the legs (LedgerError, as there) and lay
    out every statement's values, in Python and without a statement. ``JournalPlan.post(memo)``
    writes it. For a caller whose memo names a number taken by a write (a deposit's receipt
    number): what does not depend on a write is then built before the first one, and on
    SQLite the writer lock is held for the writes and little else (issue 13 item 2)."""
    _check_legs(unit_id, legs)
    return JournalPlan(
        unit_id=unit_id, kind=kind, legs=legs, recorded_at=recorded_at,
        created_by_id=created_by_id, reverses_id=reverses_id, reason=reason,
        legs_update=_legs_update_for(legs, allow_negative_stock),
        postings=[dict(unit_id=unit_id, account_id=leg.account.id, amount=leg.amount,
                       quantity_milli=leg.quantity_milli) for leg in legs])


@dataclass(frozen=True, slots=True)
class JournalPlan:
    """A journal entry checked and laid out by :func:`plan_journal`, not yet written:
    ``recorded_at`` (aware UTC; None: the posting moment), the legs' one UPDATE, and the
    posting rows without their entry id. The posting moment itself is taken by :meth:`post`,
    as it writes: a plan laid out before a wait for the writer lock (or a row lock) is posted
    at the time it is written, so a deposit that waited behind a day's close at midnight is
    posted in the new day, not refused, and entries are posted in the order they are written."""

    unit_id: int
    kind: str
    legs: list[Leg]
    recorded_at: datetime | None
    created_by_id: int | None
    reverses_id: int | None
    reason: str
    legs_update: _LegsUpdate
    postings: list[dict]

    def post(self, memo: str | Callable[[], str] = "", *,
             balances: dict[int, Rupiah] | None = None) -> PostedEntry:
        """Write the entry as :func:`post_journal` documents (four statements: the day, month
        and entry id; the accounts; the postings; the entry). ``memo`` may be a function, called
        once the first two answered (a deposit's memo names its receipt number, whose statement
        was sent with them: transaction.send_together). ``balances`` is filled with
        ``{account id: balance after}``. Returns the PostedEntry; raises what post_journal
        raises (InsufficientBalance, InsufficientStock, PeriodClosed, MonthLocked)."""
        now = utcnow()
        recorded_at = self.recorded_at or now
        # The posting day only is checked for closing; recorded_at may be in a closed day.
        # Both statements are sent before either answer is read: sent together, one wait for
        # both. A refusal of the first then comes after the second ran; the caller rolls back.
        books = _send_open_books(self.unit_id, now, recorded_at)
        moved = self.legs_update.send()
        entry_id = _check_open_books(self.unit_id, now, recorded_at, books)
        after = self.legs_update.check(moved)
        if callable(memo):
            memo = memo()
        if balances is not None:
            balances.update(after)
        for row in self.postings:
            row["entry_id"] = entry_id
        # RETURNING makes the executemany one multi-row INSERT on both databases ("insertmanyvalues").
        run_core(prepared("ledger.postings", lambda _: insert(Posting.__table__).returning(Posting.__table__.c.id)),
                 self.postings)
        values = dict(id=entry_id, unit_id=self.unit_id, kind=self.kind, memo=memo[:300], posted_at=now,
                      recorded_at=recorded_at, created_by_id=self.created_by_id,
                      reverses_id=self.reverses_id, reason=self.reason)
        run_core(prepared("ledger.entry", lambda _: insert(JournalEntry.__table__)), values)
        _sync_loaded_accounts(self.legs, after)
        # The entry as just inserted, without an ORM instance or a read back.
        return PostedEntry(**values)


def _sync_loaded_accounts(legs: list[Leg], after: dict[int, Rupiah]) -> None:
    """Give the session's loaded Account of each leg its balance as the UPDATE returned it."""
    identity_map = db.session.identity_map
    for leg in legs:
        # The session's instance of the account, if it has one (the leg's own Account, or the
        # Account of an AccountRef the transaction loaded, e.g. to price a sale at cost).
        account = (leg.account if isinstance(leg.account, Account)
                   else identity_map.get(_account_identity_key(leg.account.id)))
        if account is not None and inspect(account).persistent:
            # The balance as the UPDATE returned it; a moved quantity is expired (read, by the
            # tenant key, only if asked for). The account's identity stays loaded: nothing is
            # re-read by ``id`` alone (docs/scaling.md §tenant-keys).
            set_committed_value(account, "balance", after[leg.account.id])
            if leg.quantity_milli:
                db.session.expire(account, ["quantity_milli"])


def reverse_entry(entry: JournalEntry | PostedEntry, *, created_by_id: int | None, reason: str,
                  kind: str = "reversal", balances: dict[int, Rupiah] | None = None,
                  legs_out: list[Leg] | None = None) -> PostedEntry:
    """Post the mirror of ``entry`` (every amount and quantity negated) naming it in
    ``reverses_id``, with ``reason`` and the person (docs/rules.md §ledger: corrections are
    reversing entries). Refuses a second reversal (I8) and, through ``post_journal``, a reversal
    that would overdraw a member or take stock below zero.

    The original's postings and their accounts are read in one query by the entry's unit.
    ``balances`` is filled as by ``post_journal`` (``{account id: balance after}``) and
    ``legs_out``, when given, with the legs posted, in posting order: what the reversal wrote,
    so a caller never reads it back.

    Raises AlreadyReversed, InsufficientBalance, InsufficientStock, PeriodClosed, LedgerError.
    """
    if db.session.scalar(select(JournalEntry.id).where(JournalEntry.reverses_id == entry.id,
                                                      JournalEntry.unit_id == entry.unit_id)) is not None:
        raise AlreadyReversed(_l("This was already voided."))
    if entry.reverses_id is not None:
        raise LedgerError("a reversal is not reversed; post a new entry instead")
    rows = db.session.execute(
        select(Posting.amount, Posting.quantity_milli, Account)
        .join(Account, (Account.id == Posting.account_id) & (Account.unit_id == Posting.unit_id))
        .where(Posting.entry_id == entry.id, Posting.unit_id == entry.unit_id).order_by(Posting.id))
    legs = [Leg(account, -amount, -quantity if quantity else None) for amount, quantity, account in rows]
    if legs_out is not None:
        legs_out[:] = legs
    return post_journal(entry.unit_id, kind, legs, created_by_id=created_by_id,
                        memo=f"Pembatalan jurnal {entry.id}: {entry.memo}"[:300],
                        reverses_id=entry.id, reason=reason, balances=balances)


def _deposit_faults(unit_id: int | None) -> list[str]:
    """Deposits whose receipt figures disagree with their journal entry: the total must equal
    the stock debits and the credited amount the member's savings credit (receipts and
    statements read the deposit rows, so they must not drift from the ledger)."""
    from ..models import Deposit

    stock = (select(func.coalesce(func.sum(Posting.amount), 0))
             .join(Account, Account.id == Posting.account_id)
             .where(Posting.entry_id == Deposit.entry_id, Account.kind == "stock").scalar_subquery())
    savings = (select(func.coalesce(-func.sum(Posting.amount), 0))
               .join(Account, Account.id == Posting.account_id)
               .where(Posting.entry_id == Deposit.entry_id, Account.kind == "member_savings").scalar_subquery())
    query = select(Deposit.receipt_no, Deposit.total_idr, stock, Deposit.credited_idr, savings).where(
        (Deposit.total_idr != stock) | (Deposit.credited_idr != savings))
    if unit_id is not None:
        query = query.where(Deposit.unit_id == unit_id)
    return [f"deposit {no}: receipt says total {total} / credited {credited}, "
            f"ledger says {ledger_total} / {ledger_credited}"
            for no, total, ledger_total, credited, ledger_credited in db.session.execute(query)]


@dataclass
class VerifyReport:
    """What ``verify_ledger`` found: counts checked and a list of human-readable faults."""

    entries: int
    accounts: int
    faults: list[str]

    @property
    def ok(self) -> bool:
        return not self.faults


def _closed_day_faults(unit_id: int | None) -> list[str]:
    """Every closed day's expected cash equals the cash postings dated up to its end, less the
    close's own difference entry: a posting that slipped into a closed day shows here."""
    from ..models import DayClose
    from ..timeutil import local_day_bounds

    faults = []
    closes = select(DayClose).order_by(DayClose.unit_id, DayClose.business_date)
    if unit_id is not None:
        closes = closes.where(DayClose.unit_id == unit_id)
    for close in db.session.scalars(closes):
        cash = db.session.scalar(select(Account.id).where(Account.unit_id == close.unit_id, Account.key == "cash"))
        end = local_day_bounds(close.business_date)[1]
        booked = db.session.scalar(
            select(func.coalesce(func.sum(Posting.amount), 0))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.account_id == cash, JournalEntry.posted_at < end,
                   JournalEntry.id != (close.entry_id or 0))) or 0
        if int(booked) != close.expected_cash_idr:
            faults.append(f"unit {close.unit_id}: day {close.business_date.isoformat()} closed with expected cash "
                          f"{close.expected_cash_idr} but its cash postings give {int(booked)}")
    return faults


def _entry_faults(unit_id: int | None) -> list[str]:
    """Entries whose postings do not balance or number fewer than two, postings without an
    entry, and entries with a posting of another unit (I1, I9, I10)."""
    faults: list[str] = []
    entry_filter = [] if unit_id is None else [JournalEntry.unit_id == unit_id]

    sums = (
        select(Posting.entry_id, func.sum(Posting.amount), func.count(Posting.id))
        .group_by(Posting.entry_id)
        .having((func.sum(Posting.amount) != 0) | (func.count(Posting.id) < 2))
    )
    if unit_id is not None:
        sums = sums.where(Posting.unit_id == unit_id)
    for entry_id, total, count in db.session.execute(sums):
        faults.append(f"entry {entry_id}: {count} postings summing to {total}, not 0")
    # NOT EXISTS, an anti-join: PostgreSQL runs ``NOT IN (subquery)`` as a scan of the subquery
    # per posting once the entry ids no longer fit in work_mem (minutes at a million postings).
    orphans = select(func.count(Posting.id)).where(
        ~select(JournalEntry.id).where(JournalEntry.id == Posting.entry_id).exists())
    if unit_id is not None:
        orphans = orphans.where(Posting.unit_id == unit_id)
    if n := db.session.scalar(orphans):
        faults.append(f"{n} postings without a journal entry")
    cross = select(Posting.entry_id).join(JournalEntry, JournalEntry.id == Posting.entry_id).where(
        Posting.unit_id != JournalEntry.unit_id, *entry_filter)
    for (entry_id,) in db.session.execute(cross):
        faults.append(f"entry {entry_id}: a posting belongs to another unit")
    return faults


def verify_ledger(unit_id: int | None = None) -> VerifyReport:
    """Prove the book (I1, I3, I12): every entry has ≥ 2 postings summing to zero, inside one
    unit; no posting lacks an entry; every cached balance and stock quantity equals the sum of
    its postings; no member's savings are negative; every closed day's expected cash equals the
    cash postings dated in it and before. Read-only. ``unit_id`` limits it to one unit.
    """
    faults = _entry_faults(unit_id)
    entry_filter = [] if unit_id is None else [JournalEntry.unit_id == unit_id]
    account_filter = [] if unit_id is None else [Account.unit_id == unit_id]

    totals = (
        select(Posting.account_id, func.coalesce(func.sum(Posting.amount), 0),
               func.coalesce(func.sum(Posting.quantity_milli), 0))
        .group_by(Posting.account_id)
    )
    if unit_id is not None:
        totals = totals.where(Posting.unit_id == unit_id)
    by_account = {row[0]: (int(row[1]), int(row[2])) for row in db.session.execute(totals)}
    n_accounts = 0
    for account in db.session.scalars(select(Account).where(*account_filter).order_by(Account.id)):
        n_accounts += 1
        raw, quantity = by_account.get(account.id, (0, 0))
        expected = raw if account.normal_side == "D" else -raw
        if account.balance != expected:
            faults.append(f"account {account.id} ({account.key}, unit {account.unit_id}): cached "
                          f"balance {account.balance} but postings give {expected}")
        if account.quantity_milli != quantity:
            faults.append(f"account {account.id} ({account.key}): cached quantity "
                          f"{account.quantity_milli} but postings give {quantity}")
        if account.kind == "member_savings" and account.balance < 0:
            faults.append(f"account {account.id} ({account.key}): negative savings {account.balance}")
    faults += _deposit_faults(unit_id)
    faults += _closed_day_faults(unit_id)
    faults += lock_faults(unit_id)  # nothing posted into a locked month after its lock
    faults += period_faults(unit_id)  # account_period = postings per account and UTC month (0016)
    n_entries = db.session.scalar(select(func.count(JournalEntry.id)).where(*entry_filter)) or 0
    return VerifyReport(entries=n_entries, accounts=n_accounts, faults=faults)
