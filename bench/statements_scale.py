"""Statements at Jakarta size on PostgreSQL (issue 13 items 4 and 5), set-based generation.

Generates, with a few ``INSERT … SELECT … generate_series`` statements (no ORM, the ledger's
triggers switched off for this session with ``session_replication_role = replica``, the cached
balances and ``account_period`` then computed from the postings exactly as migration 0016's
backfill does, and ``verify_ledger`` for one unit run as a check):

* ``--units`` units (default 2,300) in aggregators ``A068`` (the first 68 units), ``A500`` (the
  next 500) and ``AREST`` (the rest); a third take a 5 % fee;
* 20–60 members per unit (by unit id), of whom ``--active`` (default 0.5) are active and make
  exactly 4 deposits a month (1–3 lines) over ``--years`` years ending with October 2026;
* 0.5 % of deposits voided an hour later; every tenth active member withdraws Rp 500 on the
  28th of each month;
* a collaborator sponsoring 20 units of ``A068``.

Then times the statement of October 2026 for ``A068`` and ``A500`` and the impact statement
November 2025–October 2026, each beside bare SQL for the same figures (best of 3, ``--repeat``;
each run of the product followed by one of the bare SQL, so load on a shared machine falls on
both alike), and runs ``EXPLAIN (ANALYZE)`` on every query the statement issues, failing
(exit 1) on a sequential scan of ``posting`` or ``deposit_line``. Usage::

    nice -n 19 .venv/bin/python bench/statements_scale.py \
        --db postgresql+psycopg://postgres@127.0.0.1/wastebank_periods_bench --units 68 --years 1
    make bench-jakarta
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CATEGORIES = ["PET-CLEAN", "PET-DIRTY", "PP-CUP", "CARDBOARD", "ALU-CAN", "HVS", "DUPLEX", "FILM"]
PRICES = [3250, 1500, 2000, 1800, 9000, 2500, 1000, 600]   # rupiah per kg, bench only
LAST = (2026, 10)

GENERATE = [
    # units, their system accounts and stock accounts
    """INSERT INTO unit (code, name, rw, kelurahan, kecamatan, kota, address, receipt_width_mm, fee_bp, created_at,
                         aggregator_id)
       SELECT 'J' || lpad(g::text, 4, '0'), 'Bank Sampah Jakarta ' || g, '', '', '', 'Jakarta', '', 58,
              CASE WHEN g % 3 = 0 THEN 500 ELSE 0 END, :created,
              CASE WHEN g <= 68 THEN :a068 WHEN g <= 568 THEN :a500 ELSE :arest END
         FROM generate_series(1, :units) g""",
    """INSERT INTO account (unit_id, key, kind, normal_side, balance, held, quantity_milli)
       SELECT u.id, k.kind, k.kind, k.side, 0, 0, 0 FROM unit u CROSS JOIN (VALUES ('cash', 'D'),
              ('fee_income', 'C'), ('trading_margin', 'C'), ('stock_writeoff', 'D'), ('opening_equity', 'C'),
              ('bank', 'D')) AS k(kind, side)""",
    """INSERT INTO account (unit_id, key, kind, normal_side, category_id, balance, held, quantity_milli)
       SELECT u.id, 'stock:' || c.id, 'stock', 'D', c.id, 0, 0, 0 FROM unit u CROSS JOIN waste_category c
        WHERE c.code = ANY(:codes)""",
    # members, 20–60 per unit, and their savings accounts
    """INSERT INTO member (unit_id, member_no, name, kind, phone, address, rt, rw, active, created_at,
                           pin_failed_count, notify_consent)
       SELECT u.id, u.code || '-' || lpad(g::text, 3, '0'), 'Warga ' || g, 'person', '', '', '', '', true, :created,
              0, false
         FROM unit u, generate_series(1, 20 + (u.id * 7919) % 41) g""",
    """INSERT INTO account (unit_id, key, kind, normal_side, member_id, balance, held, quantity_milli)
       SELECT unit_id, 'savings:' || id, 'member_savings', 'C', id, 0, 0, 0 FROM member""",
    "SELECT setseed(0.2025)",
    """CREATE TEMP TABLE mem AS
       SELECT m.id, m.unit_id, a.id AS acc, u.fee_bp, fa.id AS fee_acc, ca.id AS cash_acc
         FROM member m JOIN account a ON a.member_id = m.id JOIN unit u ON u.id = m.unit_id
         JOIN account fa ON fa.unit_id = u.id AND fa.key = 'fee_income'
         JOIN account ca ON ca.unit_id = u.id AND ca.key = 'cash'
        WHERE random() < :active""",
    # four deposits a month per active member, inside the local month
    """CREATE TEMP TABLE dep AS
       SELECT (row_number() OVER ())::int AS id, x.* FROM (
         SELECT mem.id AS member_id, mem.unit_id, mem.acc, mem.fee_bp, mem.fee_acc,
                ((CAST(:first AS timestamp) + mo * interval '1 month') AT TIME ZONE 'Asia/Jakarta')
                  + (floor(random() * 27) || ' days')::interval + interval '7 hours'
                  + (floor(random() * 720) || ' minutes')::interval AS at,
                1 + floor(random() * 3)::int AS nlines, random() < 0.005 AS voided
           FROM mem, generate_series(0, :months - 1) mo, generate_series(1, 4) k ORDER BY 6) x""",
    """CREATE TEMP TABLE lin AS
       SELECT d.id AS dep_id, d.unit_id, (d.id + j * 3) % 8 AS cat, 500 + floor(random() * 7500)::bigint AS qty
         FROM dep d, generate_series(1, 3) j WHERE j <= d.nlines""",
    """ALTER TABLE lin ADD COLUMN price bigint, ADD COLUMN amount bigint""",
    """UPDATE lin SET price = (CAST(:prices AS bigint[]))[cat + 1]""",
    """UPDATE lin SET amount = (qty * price + 500) / 1000""",
    """CREATE TEMP TABLE tot AS
       SELECT d.id, d.unit_id, d.member_id, d.acc, d.fee_acc, d.at, d.voided, s.total,
              (s.total * d.fee_bp + 5000) / 10000 AS fee
         FROM dep d JOIN (SELECT dep_id, sum(amount)::bigint AS total FROM lin GROUP BY dep_id) s ON s.dep_id = d.id""",
    "CREATE TEMP TABLE voids AS SELECT id AS dep_id, :n_dep + (row_number() OVER (ORDER BY id))::int AS id FROM tot "
    "WHERE voided",
    """CREATE TEMP TABLE wd AS
       SELECT :n_dep + :n_void + (row_number() OVER ())::int AS id, mem.id AS member_id, mem.unit_id, mem.acc,
              mem.cash_acc, ((CAST(:first AS timestamp) + mo * interval '1 month' + interval '27 days 10 hours')
                             AT TIME ZONE 'Asia/Jakarta') AS at
         FROM mem, generate_series(0, :months - 1) mo WHERE (mem.id + mo) % 10 = 0""",
    # the ledger: postings, then entries (triggers are off; the checks below stand in)
    """INSERT INTO posting (entry_id, unit_id, account_id, amount, quantity_milli)
       SELECT l.dep_id, l.unit_id, sa.id, l.amount, l.qty FROM lin l
         JOIN waste_category c ON c.code = (CAST(:codes AS text[]))[l.cat + 1]
         JOIN account sa ON sa.unit_id = l.unit_id AND sa.key = 'stock:' || c.id
       UNION ALL SELECT id, unit_id, acc, -(total - fee), NULL FROM tot
       UNION ALL SELECT id, unit_id, fee_acc, -fee, NULL FROM tot WHERE fee > 0
       UNION ALL SELECT id, unit_id, acc, 500, NULL FROM wd
       UNION ALL SELECT id, unit_id, cash_acc, -500, NULL FROM wd""",
    """INSERT INTO posting (entry_id, unit_id, account_id, amount, quantity_milli)
       SELECT v.id, p.unit_id, p.account_id, -p.amount, -p.quantity_milli FROM voids v
         JOIN posting p ON p.entry_id = v.dep_id""",
    """INSERT INTO journal_entry (id, unit_id, kind, memo, posted_at, recorded_at, reverses_id, reason)
       SELECT id, unit_id, 'deposit', 'bench', at, at, NULL, '' FROM tot
       UNION ALL SELECT v.id, t.unit_id, 'void', 'bench void', t.at + interval '1 hour', t.at + interval '1 hour',
                        t.id, 'salah timbang' FROM voids v JOIN tot t ON t.id = v.dep_id
       UNION ALL SELECT id, unit_id, 'withdrawal', 'bench', at, at, NULL, '' FROM wd""",
    """INSERT INTO deposit (id, unit_id, member_id, receipt_no, entry_id, total_idr, fee_idr, credited_idr,
                            balance_after_idr, posted_at, recorded_at, void_entry_id)
       SELECT t.id, t.unit_id, t.member_id, 'D' || t.id, t.id, t.total, t.fee, t.total - t.fee, t.total - t.fee,
              t.at, t.at, v.id FROM tot t LEFT JOIN voids v ON v.dep_id = t.id""",
    # each line carries its deposit's capture time (migration 0018; its guard trigger is off here)
    """INSERT INTO deposit_line (deposit_id, unit_id, category_id, quantity_milli, gross_milli, tare_milli,
                                 unit_price_idr, amount_idr, recorded_at)
       SELECT l.dep_id, l.unit_id, c.id, l.qty, l.qty, 0, l.price, l.amount, t.at FROM lin l
         JOIN tot t ON t.id = l.dep_id
         JOIN waste_category c ON c.code = (CAST(:codes AS text[]))[l.cat + 1]""",
    """INSERT INTO withdrawal (unit_id, member_id, method, amount_idr, reference, beneficiary, items, status,
                               receipt_no, requested_at, paid_at, entry_id)
       SELECT unit_id, member_id, 'cash', 500, '', '', '', 'paid', 'W' || id, at, at, id FROM wd""",
    # cached balances (I3) and the period rows, as migration 0016's backfill
    """UPDATE account a SET balance = s.amount * CASE WHEN a.normal_side = 'D' THEN 1 ELSE -1 END,
              quantity_milli = s.qty
         FROM (SELECT account_id, sum(amount) AS amount, coalesce(sum(quantity_milli), 0) AS qty FROM posting
               GROUP BY account_id) s WHERE s.account_id = a.id""",
    """INSERT INTO account_period (account_id, period, unit_id, amount, quantity_milli)
       SELECT p.account_id, to_char(je.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM'), p.unit_id, sum(p.amount),
              coalesce(sum(p.quantity_milli), 0)
         FROM posting p JOIN journal_entry je ON je.id = p.entry_id
        GROUP BY p.account_id, to_char(je.recorded_at AT TIME ZONE 'UTC', 'YYYY-MM'), p.unit_id""",
]


def reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _first_month(years: int) -> str:
    months = 12 * years
    index = LAST[0] * 12 + LAST[1] - 1 - (months - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}-01"


def generate(units: int, years: int, active: float) -> dict:
    """Load the data set with set-based SQL; returns row counts and seconds per step."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from wastebank.extensions import db
    from wastebank.models import Collaborator, Sponsorship, Unit, clock_at
    from wastebank.services.catalog import default_catalogue_text, load_catalogue
    from wastebank.services.org import create_aggregator

    upgrade()
    created = datetime(2020, 1, 1, tzinfo=timezone.utc)
    with clock_at(created):
        load_catalogue(default_catalogue_text())
        aggs = {code: create_aggregator(code, f"Bench {code}") for code in ("A068", "A500", "AREST")}
        db.session.commit()
    conn = db.session.connection()
    conn.execute(text("SET session_replication_role = replica"))
    params = dict(created=created, a068=aggs["A068"].id, a500=aggs["A500"].id, arest=aggs["AREST"].id,
                  units=units, codes=CATEGORIES, prices=PRICES, active=active, months=12 * years,
                  first=_first_month(years))
    steps = {}
    for sql in GENERATE:
        if ":n_dep" in sql and "n_dep" not in params:
            params["n_dep"] = conn.execute(text("SELECT max(id) FROM tot")).scalar()
        if ":n_void" in sql and "n_void" not in params:
            params["n_void"] = conn.execute(text("SELECT count(*) FROM voids")).scalar()
        t0 = time.perf_counter()
        stmt = text(sql)
        conn.execute(stmt, {k: v for k, v in params.items() if f":{k}" in sql})
        steps[sql.split("(")[0].split(" AS")[0].strip()[:60]] = round(time.perf_counter() - t0, 1)
    conn.execute(text("SET session_replication_role = DEFAULT"))
    # What migration 0018's guard would have refused: a line whose unit or capture time is not its deposit's.
    wrong = conn.execute(text("SELECT count(*) FROM deposit_line l JOIN deposit d ON d.id = l.deposit_id "
                              "WHERE l.recorded_at <> d.recorded_at OR l.unit_id <> d.unit_id")).scalar()
    if wrong:
        raise SystemExit(f"{wrong} deposit lines do not carry their deposit's unit and capture time")
    for table in ("posting", "deposit", "deposit_line", "withdrawal", "member", "account", "unit"):
        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"))
    conn.execute(text("SELECT setval('journal_entry_id_seq', (SELECT MAX(id) FROM journal_entry))"))
    collab = Collaborator(name="CSR Bench", created_at=created)
    db.session.add(collab)
    db.session.flush()
    for unit_id in db.session.scalars(db.select(Unit.id).where(Unit.aggregator_id == aggs["A068"].id)
                                      .order_by(Unit.id).limit(20)):
        db.session.add(Sponsorship(collaborator_id=collab.id, unit_id=unit_id, start_date=date(2020, 1, 1)))
    db.session.commit()
    conn = db.session.connection()
    conn.execute(text("ANALYZE"))
    db.session.commit()
    counts = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}"))
              for t in ("unit", "member", "deposit", "deposit_line", "posting", "journal_entry", "account_period")}
    return dict(counts=counts, steps=steps)


#: Runs per timing (best of); ``--repeat``.
REPEAT = 3


def timed(fn, repeat: int | None = None):
    best, result = None, None
    for _ in range(repeat or REPEAT):
        t0 = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - t0
        best = elapsed if best is None else min(best, elapsed)
    return best, result


def timed_pair(fn, reference):
    """``(best of fn, best of reference, fn's last result)``, the two run in turn (``REPEAT``
    times each), so that other load on a shared machine falls on both alike and their ratio
    stays fair."""
    best_fn = best_ref = None
    result = None
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        result = fn()
        t1 = time.perf_counter()
        reference()
        t2 = time.perf_counter()
        best_fn = t1 - t0 if best_fn is None else min(best_fn, t1 - t0)
        best_ref = t2 - t1 if best_ref is None else min(best_ref, t2 - t1)
    return best_fn, best_ref, result


BARE_STATEMENT = [
    # members, new members
    """SELECT unit_id, count(*), sum(CASE WHEN created_at >= :s THEN 1 ELSE 0 END) FROM member
        WHERE unit_id = ANY(:ids) AND created_at < :e GROUP BY unit_id""",
    # deposits and their voids in the month, by unit; active members; categories
    """SELECT unit_id, count(*), sum(total_idr), sum(fee_idr), sum(credited_idr) FROM deposit
        WHERE unit_id = ANY(:ids) AND recorded_at >= :s AND recorded_at < :e GROUP BY unit_id""",
    """SELECT d.unit_id, count(*), sum(d.total_idr) FROM deposit d JOIN journal_entry v ON v.id = d.void_entry_id
        WHERE v.unit_id = ANY(:ids) AND v.recorded_at >= :s AND v.recorded_at < :e GROUP BY d.unit_id""",
    """SELECT unit_id, count(*) FROM (SELECT unit_id, member_id FROM deposit
        WHERE unit_id = ANY(:ids) AND recorded_at >= :s AND recorded_at < :e GROUP BY unit_id, member_id
        HAVING count(*) >= 4) a GROUP BY unit_id""",
    """SELECT unit_id, count(*) FROM (SELECT DISTINCT unit_id, member_id FROM deposit
        WHERE unit_id = ANY(:ids) AND recorded_at >= :s AND recorded_at < :e) a GROUP BY unit_id""",
    # categories: the month's lines by their copy of the capture time (migration 0018), less the voided ones
    """SELECT unit_id, category_id, sum(q), sum(a) FROM (
         SELECT unit_id, category_id, quantity_milli AS q, amount_idr AS a FROM deposit_line
          WHERE unit_id = ANY(:ids) AND recorded_at >= :s AND recorded_at < :e
         UNION ALL SELECT l.unit_id, l.category_id, -l.quantity_milli, -l.amount_idr FROM journal_entry v
           JOIN deposit d ON d.void_entry_id = v.id JOIN deposit_line l ON l.deposit_id = d.id
          WHERE v.unit_id = ANY(:ids) AND v.recorded_at >= :s AND v.recorded_at < :e) c GROUP BY 1, 2""",
    # withdrawals by method
    """SELECT w.unit_id, w.method, count(*), sum(w.amount_idr) FROM withdrawal w JOIN journal_entry je
         ON je.id = w.entry_id WHERE je.unit_id = ANY(:ids) AND je.recorded_at >= :s AND je.recorded_at < :e
        GROUP BY 1, 2""",
    # balances at the end: cached totals less the later UTC months less the hours after the end
    """SELECT unit_id, kind, sum(amount) FROM (
         SELECT unit_id, kind, CASE WHEN normal_side = 'D' THEN balance ELSE -balance END AS amount FROM account
          WHERE unit_id = ANY(:ids) AND kind IN ('member_savings', 'stock')
         UNION ALL SELECT ap.unit_id, a.kind, -ap.amount FROM account_period ap JOIN account a ON a.id = ap.account_id
          WHERE ap.unit_id = ANY(:ids) AND ap.period > :period AND a.kind IN ('member_savings', 'stock')
         UNION ALL SELECT p.unit_id, a.kind, -p.amount FROM journal_entry je JOIN posting p ON p.entry_id = je.id
           JOIN account a ON a.id = p.account_id
          WHERE je.unit_id = ANY(:ids) AND je.recorded_at >= :e AND je.recorded_at < :next
            AND a.kind IN ('member_savings', 'stock')) b GROUP BY 1, 2""",
]

OLD_BALANCES = """SELECT p.unit_id, a.kind, sum(p.amount) FROM posting p JOIN account a ON a.id = p.account_id
    JOIN journal_entry je ON je.id = p.entry_id WHERE p.unit_id = ANY(:ids) AND a.kind IN ('member_savings', 'stock')
    AND je.recorded_at < :e GROUP BY 1, 2"""


def _bare(sqls, params):
    from sqlalchemy import text

    from wastebank.extensions import db

    return lambda: [db.session.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql}).all()
                    for sql in sqls]


def _captured(fn):
    """Run ``fn`` and return the SELECTs it sent with their parameters."""
    from sqlalchemy import event

    from wastebank.extensions import db

    seen = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))
    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    return seen


def seq_scans(fn) -> tuple[list[str], int]:
    """``EXPLAIN (ANALYZE)`` of every SELECT ``fn`` sends: the plan lines with a sequential scan of
    ``posting`` or ``deposit_line``, and how many queries were explained."""
    from wastebank.extensions import db

    bad, n = [], 0
    raw = db.session.connection().connection.dbapi_connection
    for statement, parameters in _captured(fn):
        with raw.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, FORMAT TEXT) " + statement, parameters)
            plan = [row[0] for row in cur.fetchall()]
        n += 1
        bad += [line.strip() for line in plan
                if "Seq Scan on posting" in line or "Seq Scan on deposit_line" in line]
    return bad, n


def measure() -> dict:
    from wastebank.extensions import db
    from wastebank.models import Collaborator, Unit
    from wastebank.reports.impact import impact_statement
    from wastebank.reports.statements import aggregator_statement, find_aggregator
    from wastebank.services.ledger import verify_ledger
    from wastebank.services.period_balances import utc_month
    from wastebank.timeutil import local_month_bounds

    s, e = local_month_bounds(*LAST)
    period, _, following = utc_month(e)
    out = {}
    for code in ("A068", "A500"):
        agg = find_aggregator(code)
        if agg is None:
            continue
        ids = list(db.session.scalars(db.select(Unit.id).where(Unit.aggregator_id == agg.id)))
        if not ids:
            continue
        params = dict(ids=ids, s=s, e=e, period=period, next=following)
        t_st, t_bare, st = timed_pair(lambda agg=agg: aggregator_statement(agg, *LAST), _bare(BARE_STATEMENT, params))
        t_old, _ = timed(_bare([OLD_BALANCES], params), repeat=1)
        bad, n = seq_scans(lambda agg=agg: aggregator_statement(agg, *LAST))
        out[code] = dict(units=len(ids), statement_s=round(t_st, 3), bare_s=round(t_bare, 3),
                         ratio=round(t_st / t_bare, 2), old_balance_scan_s=round(t_old, 3),
                         deposits=st.total.deposits, savings_owed=st.total.savings_owed_idr,
                         queries_explained=n, seq_scans=bad)
        print(code, out[code], flush=True)
    collab = db.session.scalar(db.select(Collaborator))
    first = (LAST[0] - 1, LAST[1] + 1) if LAST[1] < 12 else (LAST[0], 1)
    sponsored = [u for (u,) in db.session.execute(db.text("SELECT unit_id FROM sponsorship"))]
    months = []
    for k in range(12):
        idx = first[0] * 12 + first[1] - 1 + k
        months.append(local_month_bounds(idx // 12, idx % 12 + 1))
    bare_impact = [sql for sql in BARE_STATEMENT[1:6]]

    def bare_all():
        for ms, me in months:
            _bare(bare_impact, dict(ids=sponsored, s=ms, e=me))()
    t_imp, t_bimp, imp = timed_pair(lambda: impact_statement(collab, first, LAST), bare_all)
    bad, n = seq_scans(lambda: impact_statement(collab, first, LAST))
    out["impact"] = dict(units=len(sponsored), statement_s=round(t_imp, 3), bare_s=round(t_bimp, 3),
                         ratio=round(t_imp / t_bimp, 2), households=imp.households, queries_explained=n,
                         seq_scans=bad)
    print("impact", out["impact"], flush=True)
    unit_id = db.session.scalar(db.select(Unit.id).order_by(Unit.id))
    # verify_ledger's orphan check (posting.entry_id NOT IN all entries) is a hashed subplan only when
    # the entry ids fit in work_mem; at the default 4 MB and 1 M postings it runs for many minutes.
    db.session.execute(db.text("SET LOCAL work_mem = '256MB'"))
    report = verify_ledger(unit_id)
    out["verify_first_unit"] = report.ok
    if not report.ok:
        print(report.faults[:5])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--units", type=int, default=2300)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--active", type=float, default=0.5)
    parser.add_argument("--reuse", action="store_true", help="measure an already generated database")
    parser.add_argument("--out", default="")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing, best of (default 3)")
    args = parser.parse_args()
    global REPEAT
    REPEAT = args.repeat
    from wastebank import create_app
    from wastebank.extensions import db

    if not args.reuse:
        reset(args.db)
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": args.db})
    result = dict(units=args.units, years=args.years, active=args.active)
    with app.app_context():
        if not args.reuse:
            t0 = time.perf_counter()
            result["generated"] = generate(args.units, args.years, args.active)
            result["generate_s"] = round(time.perf_counter() - t0, 1)
            print("generated", result["generate_s"], "s", result["generated"], flush=True)
        result.update(measure())
        db.session.remove()
    print(json.dumps(result, default=str))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=1, default=str))
    if any(v.get("seq_scans") for v in result.values() if isinstance(v, dict)) or not result["verify_first_unit"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
