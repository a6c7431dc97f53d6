"""How long an API deposit holds SQLite's writer lock, and what it does while holding it.

Usage (from the repo root):

    .venv/bin/python bench/lock_hold.py                # 300 deposits, production config
    .venv/bin/python bench/lock_hold.py --deposits 600

On SQLite one writer at a time holds the lock (``wastebank.db_setup``: from a transaction's
first write to the end of its COMMIT), so with gunicorn's workers the deposits per second
cannot exceed 1 / (the lock's hold time): this is the SQLite ceiling of ``bench/http_ab.py``.
The script runs ``bench/deposit_hotpath.py`` (same data, same requests, one at a time) with
timers on the lock and on every statement, and prints, for the deposits' transactions only
(those whose first write is the receipt counter), the median of each step in order: ``py``
the Python between two statements (ours and SQLAlchemy's), ``db`` the statement in the
SQLite library (triggers included), ``COMMIT`` the commit with its ``fdatasync``
(``synchronous=FULL``). Timers are ``time.perf_counter``; figures are milliseconds.
"""
from __future__ import annotations

import argparse
import collections
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deposits", type=int, default=300)
    args = parser.parse_args()

    import sqlalchemy.engine.default as default
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    import deposit_hotpath
    import wastebank.db_setup as db_setup

    current: dict = {}
    steps: dict[tuple[int, str], list[float]] = collections.defaultdict(list)
    acquire, release = db_setup._WriterLock.acquire, db_setup._WriterLock.release

    def mark(label: str) -> None:
        if "start" in current:
            now = time.perf_counter()
            current["steps"].append((label, (now - current["last"]) * 1000))
            current["last"] = now

    def timed_acquire(lock) -> None:
        held = lock.held
        acquire(lock)
        if not held and lock.held:
            current.clear()
            current.update(start=time.perf_counter(), steps=[])
            current["last"] = current["start"]

    def timed_release(lock) -> None:
        held, now = lock.held, time.perf_counter()
        release(lock)
        if held and not lock.held and "start" in current:
            mark("py after COMMIT")
            if current["steps"] and "receipt_counter" in current["steps"][0][0]:
                for i, (label, ms) in enumerate(current["steps"]):
                    steps[(i, label)].append(ms)
                steps[(10_000, "TOTAL: the lock held")].append((now - current["start"]) * 1000)
            current.clear()

    def timed_commit(dialect, connection) -> None:
        mark("py before COMMIT")
        commit(dialect, connection)
        mark("  COMMIT")

    db_setup._WriterLock.acquire, db_setup._WriterLock.release = timed_acquire, timed_release
    commit = default.DefaultDialect.do_commit
    default.DefaultDialect.do_commit = timed_commit
    event.listen(Engine, "before_cursor_execute",
                 lambda c, cur, sql, *a: mark("py before " + " ".join(sql.split()[:3])[:40]))
    event.listen(Engine, "after_cursor_execute", lambda *a: mark("  db"))

    sys.argv = [sys.argv[0], "--config", "production", "--deposits", str(args.deposits)]
    deposit_hotpath.main()
    _report(steps)

def _report(steps: dict[tuple[int, str], list[float]]) -> None:
    """Print each step's median in order, the total, and the Python's share."""
    counted = steps[(10_000, "TOTAL: the lock held")]
    print(f"deposits timed: {len(counted)}")
    for (_, label), values in sorted(steps.items()):
        print(f"{label:45s} median {statistics.median(values):.3f} ms")
    python = sum(statistics.median(v) for (_, label), v in steps.items() if label.startswith("py"))
    print(f"Python inside the lock (sum of medians): {python:.3f} ms")



if __name__ == "__main__":
    main()
