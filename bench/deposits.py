"""Deposits per second and latency through the API, next to the same rows in bare SQL.

Usage (from the repo root, after `make install`):

    .venv/bin/python bench/deposits.py                       # SQLite file in /tmp
    .venv/bin/python bench/deposits.py --database postgresql # local PostgreSQL, db wastebank_bench
    .venv/bin/python bench/deposits.py --clients 8 --requests 50

It migrates a fresh database, creates one unit with the default catalogue, 40 members and an
operator token, starts gunicorn (2 sync workers) on a free loopback port, and sends
``clients × requests`` two-line deposits with distinct idempotency keys from concurrent
threads. Then it writes the same rows (account updates, receipt counter, postings, journal
entry, deposit, lines, idempotency record) with bare SQL, one transaction per deposit, in one
connection, and prints both. Only loopback traffic; bounded in count and time.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = "postgresql+psycopg://postgres@127.0.0.1/wastebank_bench"


def _fresh_database(kind: str) -> str:
    if kind == "sqlite":
        path = Path("/tmp/wastebank-bench.sqlite")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS wastebank_bench"))
        conn.execute(text("CREATE DATABASE wastebank_bench"))
    admin.dispose()
    return PG_URL


def _setup(url: str, members: int) -> tuple[str, list[str]]:
    from flask_migrate import upgrade

    from wastebank import create_app
    from wastebank.auth.tokens import create_token
    from wastebank.extensions import db
    from wastebank.services.catalog import default_catalogue_text, load_catalogue, set_price
    from wastebank.services.members import create_member
    from wastebank.services.org import create_aggregator, create_unit, create_user

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        agg = create_aggregator("BENCH", "Bench aggregator")
        unit = create_unit("RW99", "Bank Sampah Bench", aggregator=agg, rw="99")
        for cat, buy, sell in load_catalogue(default_catalogue_text()):
            set_price(unit.id, cat, buy, sell)
        user = create_user("bench_op", "operator", "bench-password", unit=unit)
        numbers = [create_member(unit, f"Anggota {i}").member_no for i in range(members)]
        token = create_token(user)
        db.session.commit()
        db.engine.dispose()
    return token, numbers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _api_run(url: str, token: str, numbers: list[str], clients: int, per_client: int) -> dict:
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-only", WASTEBANK_CONFIG="production",
               WASTEBANK_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}")
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "wastebank:create_app()"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/api/v1/openapi.json", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        headers = {"Authorization": f"Bearer {token}"}
        latencies: list[float] = []
        failures: list[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(clients)

        def client(c: int) -> None:
            session = requests.Session()
            barrier.wait()
            for j in range(per_client):
                body = {"member": numbers[(c * per_client + j) % len(numbers)],
                        "lines": [{"category": "PET-CLEAN", "quantity": "1,5"},
                                  {"category": "CARDBOARD", "quantity": "2,25"}]}
                start = time.perf_counter()
                response = session.post(f"{base}/api/v1/deposits", json=body, timeout=60,
                                        headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if response.status_code != 201:
                        failures.append(f"{response.status_code} {response.text[:200]}")

        threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"deposits": len(latencies), "failures": len(failures), "first_failure": failures[:1],
            "seconds": round(wall, 3), "per_second": round(len(latencies) / wall, 1),
            "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
            "p99_ms": round(_percentile(latencies, 99) * 1000, 1)}


def _bare_sql_run(url: str, count: int) -> dict:
    """The same rows per deposit as the service writes, as hand-written SQL statements."""
    engine = create_engine(url)
    is_pg = url.startswith("postgresql")
    with engine.connect() as conn:
        unit_id = conn.execute(text("SELECT id FROM unit WHERE code = 'RW99'")).scalar_one()
        accounts = dict(conn.execute(text("SELECT key, id FROM account WHERE unit_id = :u"), {"u": unit_id}).all())
        cats = dict(conn.execute(text("SELECT code, id FROM waste_category")).all())
        members = conn.execute(text("SELECT id FROM member WHERE unit_id = :u"), {"u": unit_id}).scalars().all()
        conn.commit()
        started = time.perf_counter()
        for i in range(count):
            member_id = members[i % len(members)]
            begin = conn.begin()  # SQLite: BEGIN IMMEDIATE via wastebank.db_setup, as in the app
            for key, delta, qty in ((f"stock:{cats['PET-CLEAN']}", 5250, 1500),
                                    (f"stock:{cats['CARDBOARD']}", 3375, 2250),
                                    (f"savings:{member_id}", 8625, 0)):
                conn.execute(text("UPDATE account SET balance = balance + :d, quantity_milli = quantity_milli + :q "
                                  "WHERE id = :id RETURNING balance"), {"d": delta, "q": qty, "id": accounts[key]})
            number = conn.execute(text("UPDATE receipt_counter SET last_no = last_no + 1 WHERE unit_id = :u "
                                       "AND year = (SELECT max(year) FROM receipt_counter WHERE unit_id = :u) "
                                       "RETURNING last_no"), {"u": unit_id}).scalar()
            entry_id = (conn.execute(text("SELECT nextval('journal_entry_id_seq')")).scalar() if is_pg else
                        conn.execute(text("SELECT coalesce(max(id), 0) + 1 FROM journal_entry")).scalar())
            for key, amount, qty in ((f"stock:{cats['PET-CLEAN']}", 5250, 1500),
                                     (f"stock:{cats['CARDBOARD']}", 3375, 2250),
                                     (f"savings:{member_id}", -8625, None)):
                conn.execute(text("INSERT INTO posting (entry_id, unit_id, account_id, amount, quantity_milli) "
                                  "VALUES (:e, :u, :a, :m, :q)"),
                             {"e": entry_id, "u": unit_id, "a": accounts[key], "m": amount, "q": qty})
            conn.execute(text("INSERT INTO journal_entry (id, unit_id, kind, memo, posted_at, recorded_at, reason) "
                              "VALUES (:e, :u, 'deposit', 'bench', :t, :t, '')"),
                         {"e": entry_id, "u": unit_id, "t": time.strftime("%Y-%m-%d %H:%M:%S")})
            deposit_id = conn.execute(text(
                "INSERT INTO deposit (unit_id, member_id, receipt_no, entry_id, total_idr, fee_idr, credited_idr, "
                "balance_after_idr, posted_at, recorded_at) VALUES (:u, :m, :r, :e, 8625, 0, 8625, 0, :t, :t) "
                "RETURNING id"),
                {"u": unit_id, "m": member_id, "r": f"SQL-{number}-{i}", "e": entry_id,
                 "t": time.strftime("%Y-%m-%d %H:%M:%S")}).scalar()
            for code, qty, price, amount in (("PET-CLEAN", 1500, 3500, 5250), ("CARDBOARD", 2250, 1500, 3375)):
                conn.execute(text("INSERT INTO deposit_line (deposit_id, unit_id, category_id, quantity_milli, "
                                  "unit_price_idr, amount_idr) VALUES (:d, :u, :c, :q, :p, :a)"),
                             {"d": deposit_id, "u": unit_id, "c": cats[code], "q": qty, "p": price, "a": amount})
            conn.execute(text("INSERT INTO idempotency_record (unit_id, key, operation, request_hash, status_code, "
                              "response_body, created_at) VALUES (:u, :k, 'deposit', 'x', 201, '{}', :t)"),
                         {"u": unit_id, "k": uuid.uuid4().hex, "t": time.strftime("%Y-%m-%d %H:%M:%S")})
            begin.commit()
        wall = time.perf_counter() - started
    engine.dispose()
    return {"deposits": count, "seconds": round(wall, 3), "per_second": round(count / wall, 1),
            "mean_ms": round(wall / count * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=50, help="deposits per client")
    args = parser.parse_args()
    from wastebank import db_setup  # noqa: F401  (SQLite BEGIN IMMEDIATE for the bare-SQL run too)

    url = _fresh_database(args.database)
    token, numbers = _setup(url, members=40)
    api = _api_run(url, token, numbers, args.clients, args.requests)
    bare = _bare_sql_run(url, args.clients * args.requests)
    result = {"database": args.database, "clients": args.clients, "api": api, "bare_sql": bare}
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"deposits-{args.database}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
