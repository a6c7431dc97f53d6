"""Python time and SQL statements per API deposit, in process (issue 13 items 1 and 3).

Usage (from the repo root):

    .venv/bin/python bench/deposit_hotpath.py                  # SQLite file in /tmp
    .venv/bin/python bench/deposit_hotpath.py --database postgresql://...  # e.g. wastebank_hotpath
    .venv/bin/python bench/deposit_hotpath.py --deposits 300

Migrates a fresh database, creates one unit with the default catalogue, a member and an
operator token, then sends ``--deposits`` 3-line deposits (each with a new Idempotency-Key)
through the Flask test client, one at a time, and prints the median and mean CPU time of the
process per deposit (``time.process_time``: Python plus the SQLite library, not the PostgreSQL
server) and the statements per deposit (transaction control left out). The first 20 warm the
caches and are not counted. Only the local database is touched.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, event, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
_NOT_COUNTED = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


def _fresh(url: str) -> str:
    if url == "sqlite":
        path = Path("/tmp/wastebank-hotpath-bench.sqlite")
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{path}"
    base, name = url.rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="sqlite")
    parser.add_argument("--deposits", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="print the cProfile top 30 (own time)")
    parser.add_argument("--calls", action="store_true",
                        help="also count Python function calls per deposit and per request of bench/floor_app.py "
                             "(cProfile's count: deterministic, for A/B comparisons on a noisy machine)")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of the last deposit")
    parser.add_argument("--config", default="development",
                        help="app config; 'production' adds HTTPS redirect, HSTS and the proxy fix as under gunicorn")
    args = parser.parse_args()
    url = _fresh(args.database)

    from flask_migrate import upgrade

    from wastebank import create_app
    from wastebank.auth.tokens import create_token
    from wastebank.extensions import db
    from wastebank.services.catalog import default_catalogue_text, load_catalogue, set_price
    from wastebank.services.members import create_member
    from wastebank.services.org import create_aggregator, create_unit, create_user

    overrides = {"SQLALCHEMY_DATABASE_URI": url}
    extra_headers = {}
    if args.config == "production":
        # As bench/http_ab.py serves it: behind one TLS proxy, so requests say https.
        overrides |= {"SECRET_KEY": "bench-only", "PROXY_COUNT": 1, "PUBLIC_BASE_URL": "https://bank.example"}
        extra_headers = {"X-Forwarded-Proto": "https"}
    app = create_app(args.config, overrides)
    with app.app_context():
        upgrade()
        unit = create_unit("RW99", "Bank Sampah Bench", aggregator=create_aggregator("BENCH", "Bench"), rw="99")
        for cat, buy, sell in load_catalogue(default_catalogue_text()):
            set_price(unit.id, cat, buy, sell)
        token = create_token(create_user("bench_op", "operator", "bench-password", unit=unit))
        member_no = create_member(unit, "Anggota Bench").member_no
        db.session.commit()
        statements: list[str] = []
        engine = db.engine
        event.listen(engine, "before_cursor_execute",
                     lambda c, cur, s, *a: statements.append(s) if not s.lstrip().upper().startswith(_NOT_COUNTED)
                     else None)
        db.session.remove()
    # The requests run outside any app context, as under gunicorn: each gets its own context and
    # session (inside one, the test client would share one session across requests and reload
    # the previous request's expired objects, which production never does).
    body = json.dumps({"member": member_no, "lines": [{"category": "PET-CLEAN", "quantity": "1,5"},
                                                      {"category": "CARDBOARD", "quantity": "2"},
                                                      {"category": "HDPE-RIGID", "quantity": "0,75"}]})
    client = app.test_client()
    times, walls, counts = [], [], []
    profiler = None
    for i in range(args.deposits + 20):
        if i == 20 and args.profile:
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
        statements.clear()
        start, wall_start = time.process_time(), time.perf_counter()
        response = client.post("/api/v1/deposits", data=body, content_type="application/json",
                               headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4()),
                                        **extra_headers})
        elapsed, wall = time.process_time() - start, time.perf_counter() - wall_start
        assert response.status_code == 201, response.get_data(as_text=True)
        if i >= 20:
            times.append(elapsed * 1000)
            walls.append(wall * 1000)
            counts.append(len(statements))
    if args.show_sql:
        _show_sql(statements)
    calls = _count_calls(client, body, token, extra_headers, url) if args.calls else None
    engine.dispose()
    if profiler is not None:
        import pstats
        profiler.disable()
        if os.environ.get("PROFILE_DUMP"):
            profiler.dump_stats(os.environ["PROFILE_DUMP"])
        stats = pstats.Stats(profiler).sort_stats(os.environ.get("PROFILE_SORT", "tottime"))
        stats.print_stats(os.environ.get("PROFILE_FILTER", ""), 40)
    print(f"{url.split(':')[0]}: {args.deposits} deposits, CPU ms per deposit median "
          f"{statistics.median(times):.2f} mean {statistics.mean(times):.2f}, wall ms median "
          f"{statistics.median(walls):.2f}; statements per deposit "
          f"{statistics.median(counts):.0f}")
    if calls:
        print(f"Python function calls per request (cProfile, 100 requests): deposit {calls[0]:.0f}, "
              f"one-statement endpoint (bench/floor_app.py) {calls[1]:.0f}, ratio {calls[1] / calls[0]:.3f}")


def _show_sql(statements: list[str]) -> None:
    """Print the statements of the last deposit, one line each."""
    for number, sql in enumerate(statements, 1):
        print(f"{number:2d}. {' '.join(sql.split())}")


def _count_calls(client, body: str, token: str, extra_headers: dict, url: str) -> tuple[float, float]:
    """Python function calls per deposit and per ``POST /floor`` of bench/floor_app.py on the
    same database, each through its own Flask test client (cProfile's ``total_calls``: the same
    on every run of the same code, unlike CPU time on a shared machine)."""
    import cProfile
    import pstats

    sys.path.insert(0, str(ROOT / "bench"))
    os.environ["DATABASE_URL"] = url
    from floor_app import create_app as create_floor

    floor = create_floor().test_client()
    headers = {"Authorization": f"Bearer {token}", **extra_headers}

    def deposit():
        client.post("/api/v1/deposits", data=body, content_type="application/json",
                    headers={**headers, "Idempotency-Key": str(uuid.uuid4())})

    counted = []
    for request in (deposit, lambda: floor.post("/floor")):
        request()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(100):
            request()
        profiler.disable()
        counted.append(pstats.Stats(profiler).total_calls / 100)
    return counted[0], counted[1]


if __name__ == "__main__":
    main()
