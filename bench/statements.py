"""Benchmark of the monthly aggregator statement and the collaborator impact statement (issue 5).

Generates KSBB's first wave — 68 units, 20,000 members, 12 months of 2025 with deposits (a
sixth of the members active, ≥ 4 a month), voids (some crossing a month end) and withdrawals —
with bulk executemany inserts that follow the ledger's protocol (postings first, then the
journal entry with a pre-allocated id; the database triggers check every entry balances).
Then times, on the chosen database:

* the bare SQL aggregates the statement rests on (deposits by unit in October; savings and
  stock balances at the end of October);
* ``aggregator_statement`` for October 2025, and its PDF and CSV;
* ``impact_statement`` for a collaborator sponsoring 20 units, January–December, and its PDF;

and checks that the October statement's totals equal the units' ledger movements in October
exactly. Usage::

    .venv/bin/python bench/statements.py --db sqlite:////tmp/bench_statements.sqlite
    .venv/bin/python bench/statements.py --db postgresql+psycopg://postgres@127.0.0.1/wb_h9_bench
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WIB = timezone(timedelta(hours=7))
CATEGORIES = ["PET-CLEAN", "PET-DIRTY", "PP-CUP", "CARDBOARD", "ALU-CAN", "HVS", "DUPLEX", "FILM"]


def reset(url: str) -> None:
    from sqlalchemy import create_engine, text
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


def generate(app, units_n: int, members_n: int, seed: int) -> dict:  # noqa: C901  one bulk loader, read top to bottom; issue 13 rewrites it for Jakarta size
    """Bulk-load the data set; returns counts."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select, text

    from wastebank.extensions import db
    from wastebank.models import (Account, Collaborator, Deposit, DepositLine, JournalEntry, Member, Posting,
                                  Sponsorship, Withdrawal, clock_at)
    from wastebank.money import fee_amount, line_amount
    from wastebank.services.catalog import default_catalogue_text, load_catalogue, set_price
    from wastebank.services.org import create_aggregator, create_unit

    rng = random.Random(seed)
    upgrade()
    with clock_at(datetime(2024, 11, 1, tzinfo=timezone.utc)):
        agg = create_aggregator("KSBB", "KSBB Jakarta — gelombang pertama")
        cats = {c.code: (c, buy) for c, buy, _sell in load_catalogue(default_catalogue_text())}
        units = []
        for i in range(units_n):
            unit = create_unit(f"B{i:03d}", f"Bank Sampah RW {i:02d} Kelurahan Čempaka", aggregator=agg,
                               fee_bp=500 if i % 3 == 0 else 0)
            for code in CATEGORIES:
                set_price(unit.id, cats[code][0], cats[code][1], cats[code][1] + 500, date(2024, 1, 1))
            units.append(unit)
        collab = Collaborator(name="CSR Bench")
        db.session.add(collab)
        db.session.flush()
        for unit in units[:20]:
            db.session.add(Sponsorship(collaborator_id=collab.id, unit_id=unit.id, start_date=date(2025, 1, 1)))
        db.session.commit()
    unit_ids = [u.id for u in units]
    fee_bp = {u.id: u.fee_bp for u in units}
    cat_ids = {code: cats[code][0].id for code in CATEGORIES}
    price = {code: cats[code][1] for code in CATEGORIES}

    conn = db.session.connection()
    created = datetime(2024, 12, 1, tzinfo=timezone.utc)
    member_rows, account_rows = [], []
    members = []  # (member id, unit id, savings account id, activity level)
    account_id = (db.session.scalar(select(db.func.max(Account.id))) or 0) + 1
    member_id = 1
    for n in range(members_n):
        unit_id = unit_ids[n % units_n]
        member_rows.append(dict(id=member_id, unit_id=unit_id, member_no=f"M{member_id:06d}", name=f"Warga {member_id}",
                                kind="person", phone="", address="", rt="", rw="", active=True, created_at=created,
                                pin_failed_count=0))
        account_rows.append(dict(id=account_id, unit_id=unit_id, key=f"savings:{member_id}", kind="member_savings",
                                 normal_side="C", member_id=member_id, category_id=None, balance=0, held=0,
                                 quantity_milli=0))
        members.append((member_id, unit_id, account_id, 1 if rng.random() < 0.17 else 0))
        member_id += 1
        account_id += 1
    stock_acc, sys_acc = {}, {}
    existing = {(a.unit_id, a.key): a.id for a in db.session.scalars(select(Account))}
    for unit_id in unit_ids:
        for code in CATEGORIES:
            if (unit_id, f"stock:{cat_ids[code]}") in existing:
                stock_acc[(unit_id, code)] = existing[(unit_id, f"stock:{cat_ids[code]}")]
                continue
            stock_acc[(unit_id, code)] = account_id
            account_rows.append(dict(id=account_id, unit_id=unit_id, key=f"stock:{cat_ids[code]}", kind="stock",
                                     normal_side="D", member_id=None, category_id=cat_ids[code], balance=0, held=0,
                                     quantity_milli=0))
            account_id += 1
    for acc in db.session.scalars(select(Account).where(Account.kind.in_(("cash", "fee_income", "bank")))):
        sys_acc[(acc.unit_id, acc.kind)] = acc.id
    for unit_id in unit_ids:
        if (unit_id, "bank") not in sys_acc:
            sys_acc[(unit_id, "bank")] = account_id
            account_rows.append(dict(id=account_id, unit_id=unit_id, key="bank", kind="bank", normal_side="D",
                                     member_id=None, category_id=None, balance=0, held=0, quantity_milli=0))
            account_id += 1
    conn.execute(insert(Member), member_rows)
    conn.execute(insert(Account), account_rows)
    db.session.commit()
    conn = db.session.connection()

    entry_id = (db.session.scalar(select(db.func.max(JournalEntry.id))) or 0) + 1
    posting_id = deposit_id = line_id = withdrawal_id = 1
    balance = {m[0]: 0 for m in members}
    receipt_seq: dict[int, int] = {}
    counts = dict(deposits=0, lines=0, postings=0, voids=0, withdrawals=0)

    def receipt(unit_id: int) -> str:
        receipt_seq[unit_id] = receipt_seq.get(unit_id, 0) + 1
        return f"B{unit_id:03d}-2025-{receipt_seq[unit_id]:06d}"

    for month in range(1, 13):
        start = datetime(2025, month, 1, tzinfo=WIB)
        days = ((datetime(2025 + month // 12, month % 12 + 1, 1, tzinfo=WIB)) - start).days
        events = []
        for mid, unit_id, acc, level in members:
            k = rng.randint(4, 6) if level else rng.choice((0, 0, 1, 1, 2))
            for _ in range(k):
                moment = start + timedelta(days=rng.randrange(days), hours=7 + rng.randrange(12),
                                           minutes=rng.randrange(60))
                events.append((moment, "d", mid, unit_id, acc))
            if rng.random() < 0.05:
                events.append((start + timedelta(days=days - 3, hours=10), "w", mid, unit_id, acc))
        events.sort(key=lambda e: e[0])
        postings, entries, deposits, lines, withdrawals = [], [], [], [], []
        for moment, kind, mid, unit_id, acc in events:
            moment_utc = moment.astimezone(timezone.utc)
            if kind == "w":
                amount = balance[mid] // 2
                if amount <= 0:
                    continue
                method = "transfer" if mid % 4 == 0 else "cash"
                cash = sys_acc[(unit_id, "bank" if method == "transfer" else "cash")]
                postings += [dict(id=posting_id, entry_id=entry_id, unit_id=unit_id, account_id=acc, amount=amount,
                                  quantity_milli=None),
                             dict(id=posting_id + 1, entry_id=entry_id, unit_id=unit_id, account_id=cash,
                                  amount=-amount, quantity_milli=None)]
                posting_id += 2
                entries.append(dict(id=entry_id, unit_id=unit_id, kind="withdrawal", memo="bench", posted_at=moment_utc,
                                    recorded_at=moment_utc, created_by_id=None, reverses_id=None, reason=""))
                withdrawals.append(dict(id=withdrawal_id, unit_id=unit_id, member_id=mid, method=method,
                                        amount_idr=amount, reference="", beneficiary="", items="", status="paid",
                                        receipt_no=receipt(unit_id), requested_at=moment_utc, paid_at=moment_utc,
                                        entry_id=entry_id))
                balance[mid] -= amount
                withdrawal_id += 1
                entry_id += 1
                counts["withdrawals"] += 1
                continue
            chosen = rng.sample(CATEGORIES, rng.choice((1, 1, 1, 2, 2, 3)))
            dep_lines, legs = [], []
            for code in chosen:
                qty = rng.randrange(200, 8000)
                amount = line_amount(qty, price[code])
                if amount == 0:
                    continue
                dep_lines.append((code, qty, amount))
            if not dep_lines:
                continue
            total = sum(a for _c, _q, a in dep_lines)
            fee = fee_amount(total, fee_bp[unit_id])
            credited = total - fee
            legs = [(stock_acc[(unit_id, c)], a, q) for c, q, a in dep_lines] + [(acc, -credited, None)]
            if fee:
                legs.append((sys_acc[(unit_id, "fee_income")], -fee, None))
            if credited == 0:
                legs = [leg for leg in legs if leg[1] != 0]
            voided = rng.random() < 0.005
            for account, amount, qty in legs:
                postings.append(dict(id=posting_id, entry_id=entry_id, unit_id=unit_id, account_id=account,
                                     amount=amount, quantity_milli=qty))
                posting_id += 1
            entries.append(dict(id=entry_id, unit_id=unit_id, kind="deposit", memo="bench", posted_at=moment_utc,
                                recorded_at=moment_utc, created_by_id=None, reverses_id=None, reason=""))
            balance[mid] += credited
            dep = dict(id=deposit_id, unit_id=unit_id, member_id=mid, receipt_no=receipt(unit_id), entry_id=entry_id,
                       operator_id=None, total_idr=total, fee_idr=fee, credited_idr=credited,
                       balance_after_idr=balance[mid], posted_at=moment_utc, recorded_at=moment_utc,
                       void_entry_id=None)
            for c, q, a in dep_lines:
                lines.append(dict(id=line_id, deposit_id=deposit_id, unit_id=unit_id, category_id=cat_ids[c],
                                  quantity_milli=q, unit_price_idr=price[c], amount_idr=a))
                line_id += 1
            original_entry = entry_id
            entry_id += 1
            if voided and balance[mid] >= credited:
                # A void some hours later (a late-evening deposit's void falls in the next day, or month).
                when = moment_utc + timedelta(hours=rng.choice((1, 20)))
                for account, amount, qty in legs:
                    postings.append(dict(id=posting_id, entry_id=entry_id, unit_id=unit_id, account_id=account,
                                         amount=-amount, quantity_milli=-qty if qty else None))
                    posting_id += 1
                entries.append(dict(id=entry_id, unit_id=unit_id, kind="void", memo="bench void", posted_at=when,
                                    recorded_at=when, created_by_id=None, reverses_id=original_entry,
                                    reason="salah timbang"))
                dep["void_entry_id"] = entry_id
                balance[mid] -= credited
                entry_id += 1
                counts["voids"] += 1
            deposits.append(dep)
            deposit_id += 1
        # Ledger protocol: postings first, then their entries (the insert trigger checks balance).
        for i in range(0, len(postings), 50_000):
            conn.execute(insert(Posting), postings[i:i + 50_000])
        for i in range(0, len(entries), 50_000):
            conn.execute(insert(JournalEntry), entries[i:i + 50_000])
        for i in range(0, len(deposits), 50_000):
            conn.execute(insert(Deposit), deposits[i:i + 50_000])
        for i in range(0, len(lines), 50_000):
            conn.execute(insert(DepositLine), lines[i:i + 50_000])
        if withdrawals:
            conn.execute(insert(Withdrawal), withdrawals)
        db.session.commit()
        conn = db.session.connection()
        counts["deposits"] += len(deposits)
        counts["lines"] += len(lines)
        counts["postings"] += len(postings)
        print(f"  month {month:2d}: {len(deposits)} deposits, {len(postings)} postings", flush=True)
    # Cached balances (I3) from the postings, so that `flask ledger verify` holds.
    conn.execute(text("""UPDATE account SET
        balance = COALESCE((SELECT SUM(p.amount) FROM posting p WHERE p.account_id = account.id), 0)
                  * (CASE WHEN normal_side = 'D' THEN 1 ELSE -1 END),
        quantity_milli = COALESCE((SELECT SUM(p.quantity_milli) FROM posting p WHERE p.account_id = account.id), 0)"""))
    if db.engine.dialect.name == "postgresql":
        for table in ("posting", "deposit", "deposit_line", "withdrawal", "member", "account"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
        conn.execute(text("SELECT setval('journal_entry_id_seq', (SELECT MAX(id) FROM journal_entry))"))
        db.session.commit()
        conn = db.session.connection()
        conn.execute(text("ANALYZE"))
    else:
        conn.execute(text("ANALYZE"))
    db.session.commit()
    return counts


def timed(fn, repeat: int = 3):
    best, result = None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def measure(app) -> dict:
    from sqlalchemy import bindparam, text

    from wastebank.extensions import db
    from wastebank.models import Collaborator, UTCDateTime
    from wastebank.reports.impact import impact_pdf, impact_statement
    from wastebank.reports.statements import aggregator_statement, find_aggregator, statement_csv, statement_pdf
    from wastebank.timeutil import local_month_bounds

    s, e = local_month_bounds(2025, 10)
    agg = find_aggregator("KSBB")
    collab = db.session.scalar(db.select(Collaborator))

    def bare(sql, names=("s", "e")):
        stmt = text(sql).bindparams(*[bindparam(n, type_=UTCDateTime()) for n in names])
        values = {"s": s, "e": e}
        return lambda: db.session.execute(stmt, {n: values[n] for n in names}).all()

    bare_deposits = bare("SELECT unit_id, COUNT(*), SUM(total_idr), SUM(fee_idr) FROM deposit "
                         "WHERE recorded_at >= :s AND recorded_at < :e GROUP BY unit_id")
    bare_balances = bare("""SELECT p.unit_id, a.kind, SUM(p.amount) FROM posting p JOIN account a ON a.id = p.account_id
                            JOIN journal_entry je ON je.id = p.entry_id
                            WHERE a.kind IN ('member_savings', 'stock') AND je.recorded_at < :e
                            GROUP BY p.unit_id, a.kind""", names=("e",))
    out = {}
    out["bare_deposits_s"], _ = timed(bare_deposits)
    out["bare_balances_s"], _ = timed(bare_balances)
    out["statement_s"], st = timed(lambda: aggregator_statement(agg, 2025, 10))
    out["statement_pdf_s"], pdf = timed(lambda: statement_pdf(st, "id"), repeat=1)
    out["statement_csv_s"], _ = timed(lambda: statement_csv(st), repeat=1)
    out["impact_s"], impact = timed(lambda: impact_statement(collab, (2025, 1), (2025, 12)), repeat=1)
    out["impact_pdf_s"], ipdf = timed(lambda: impact_pdf(impact, "id"), repeat=1)
    out["pdf_bytes"], out["impact_pdf_bytes"] = len(pdf), len(ipdf)

    # Reconciliation: October's totals against the ledger's movements in October.
    def movement(kinds, before=False):
        cond = "je.recorded_at < :e" if before else "je.recorded_at >= :s AND je.recorded_at < :e"
        sql = text(f"""SELECT COALESCE(SUM(p.amount), 0) FROM posting p JOIN account a ON a.id = p.account_id
                       JOIN journal_entry je ON je.id = p.entry_id WHERE a.kind IN ({kinds}) AND {cond}""")
        sql = sql.bindparams(*[bindparam(k, type_=UTCDateTime()) for k in (("e",) if before else ("s", "e"))])
        return int(db.session.scalar(sql, {"s": s, "e": e} if not before else {"e": e}))
    prev = aggregator_statement(agg, 2025, 9)
    t = st.total
    checks = {
        "deposit value = stock movement": (t.deposit_value_idr, movement("'stock'")),
        "fees = fee income movement": (t.fee_idr, -movement("'fee_income'")),
        "credited − withdrawals = savings movement": (t.credited_idr - t.withdrawals_total_idr,
                                                     -movement("'member_savings'")),
        "withdrawals = cash and bank out": (t.withdrawals_total_idr, -movement("'cash', 'bank'")),
        "savings owed at end = ledger": (t.savings_owed_idr, -movement("'member_savings'", before=True)),
        "savings owed: Sep end + Oct movement": (t.savings_owed_idr,
                                                 prev.total.savings_owed_idr - movement("'member_savings'")),
        "stock at end = ledger": (t.stock_idr, movement("'stock'", before=True)),
        "Σ units = total": (sum(u.deposit_value_idr for u in st.units), t.deposit_value_idr),
    }
    out["checks"] = {name: a == b for name, (a, b) in checks.items()}
    out["october"] = dict(units=len(st.units), deposits=t.deposits, voided=t.voided_deposits,
                          value=t.deposit_value_idr, active=t.active_members, savings_owed=t.savings_owed_idr)
    out["impact"] = dict(households=impact.households, co2e_kg=(impact.co2e_g or 0) / 1000)
    for name, (a, b) in checks.items():
        print(f"  {'OK ' if a == b else 'BAD'} {name}: {a} vs {b}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--units", type=int, default=68)
    parser.add_argument("--members", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--reuse", action="store_true", help="measure an already generated database")
    args = parser.parse_args()
    from wastebank import create_app
    from wastebank.extensions import db
    if not args.reuse:
        reset(args.db)
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": args.db})
    with app.app_context():
        if not args.reuse:
            t0 = time.perf_counter()
            counts = generate(app, args.units, args.members, args.seed)
            print(f"generated in {time.perf_counter() - t0:.1f} s: {counts}", flush=True)
        result = measure(app)
        db.session.remove()
    print(result)
    if not all(result["checks"].values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
