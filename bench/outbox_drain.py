"""How long the tablet's outbox takes to drain after the connection returns (issue 8).

Usage (from the repo root, after `make install`; needs Debian's Chromium at /usr/bin/chromium):

    .venv/bin/python bench/outbox_drain.py                        # SQLite file in /tmp
    .venv/bin/python bench/outbox_drain.py --database postgresql  # local PostgreSQL, db wastebank_bench_drain
    .venv/bin/python bench/outbox_drain.py --items 50

It migrates a fresh database, creates unit RW99 with the default catalogue, 40 members and
operator ``bench_op``, and starts gunicorn (2 sync workers, production config) on a free
loopback port. Headless Chromium logs in, opens ``/counter`` and waits until the counter's
code has booted and holds its device token. Then the browser goes offline, ``--items``
queued two-line deposits (PET-CLEAN 1.5 kg, CARDBOARD 2.25 kg; members round-robin) are
written straight into the IndexedDB outbox, the browser comes back online, and the clock runs
from then until the last item is ``synced`` (the page's own sender: one request at a time, in
capture order, with the item's idempotency key and the device token).

Reference, in the same run against the same server: the same bodies sent one at a time from
Python ``requests`` with the operator's bearer token and fresh keys. Then it checks that the
browser run made exactly ``--items`` deposits, each with the total the database's prices give
(``wastebank.money.line_amount``), and that ``verify_ledger`` (``flask ledger verify``) passes.

Prints the figures and writes them to ``bench/results/outbox-drain-<database>.json``. Exit
status 1 if a check fails or the drain does not finish within ``--timeout`` seconds. Only
loopback traffic; bounded in count and time; gunicorn is stopped at the end.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from deposits import _free_port, _percentile, _setup  # noqa: E402

PG_DB = "wastebank_bench_drain"
PG_URL = f"postgresql+psycopg://postgres@127.0.0.1/{PG_DB}"
SQLITE_PATH = Path("/tmp/wastebank-bench-drain.sqlite")
CHROMIUM = "/usr/bin/chromium"
# As tests/test_browser.py CHROMIUM_ARGS.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
USERNAME, PASSWORD, UNIT = "bench_op", "bench-password", "RW99"
LINES = [{"category": "PET-CLEAN", "quantity": "1.5"}, {"category": "CARDBOARD", "quantity": "2.25"}]


def _fresh_database(kind: str) -> str:
    """A new empty database of ``kind`` (its own file / db name, so no other bench collides)."""
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)
        return f"sqlite:///{SQLITE_PATH}"
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DB}"))
        conn.execute(text(f"CREATE DATABASE {PG_DB}"))
    admin.dispose()
    return PG_URL


def _start_server(url: str) -> tuple[subprocess.Popen, str]:
    """gunicorn with 2 sync workers on a free loopback port, as bench/deposits.py's _api_run."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-only", WASTEBANK_CONFIG="production",
               WASTEBANK_PUBLIC_BASE_URL=base)
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         "wastebank:create_app()"], cwd=ROOT, env=env)
    for _ in range(200):
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with status {server.returncode}")
        try:
            requests.get(f"{base}/api/v1/openapi.json", timeout=5)
            return server, base
        except requests.RequestException:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("gunicorn did not answer within 20 s")


def _bodies(numbers: list[str], count: int, recorded_at: str) -> list[dict]:
    return [{"member": numbers[i % len(numbers)], "lines": [dict(line) for line in LINES],
             "recorded_at": recorded_at} for i in range(count)]


def _deposit_state(url: str) -> tuple[int, int]:
    """(number of deposit rows, highest deposit id or 0)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        count, top = conn.execute(text("SELECT count(*), coalesce(max(id), 0) FROM deposit")).one()
    engine.dispose()
    return int(count), int(top)


def _stats_ms(values: list[float]) -> dict:
    if not values:
        return {}
    return {"mean_ms": round(statistics.fmean(values) * 1000, 1),
            "p50_ms": round(_percentile(values, 50) * 1000, 1),
            "p99_ms": round(_percentile(values, 99) * 1000, 1),
            "max_ms": round(max(values) * 1000, 1)}


def _parse_iso(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


BOOTED = """async () => {
    const c = window.wastebankCounter;
    if (!c || document.documentElement.dataset.counterReady !== '1') return false;
    return !!(await c.store.getValue('token:' + c.context.username));
}"""

# Write the queued items straight into the outbox (as sync.enqueue would, without its kick).
WRITE_ITEMS = """async ({bodies, names}) => {
    const {store, context} = window.wastebankCounter;
    const base = await store.nextSeq();
    const now = new Date().toISOString();
    for (let i = 0; i < bodies.length; i++) {
        const bytes = crypto.getRandomValues(new Uint8Array(16));
        const key = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
        await store.putItem({key: key, seq: base + i, kind: 'deposit', username: context.username,
                             unit: context.unit, member_no: bodies[i].member,
                             member_name: names[bodies[i].member], body: bodies[i], estimate: null,
                             captured_at: now, state: 'queued', attempts: 0});
    }
    const items = await store.allItems();
    return items.filter((item) => item.state === 'queued').length;
}"""

PROGRESS = """async () => {
    const items = await window.wastebankCounter.store.allItems();
    const by = {};
    for (const item of items) { by[item.state] = (by[item.state] || 0) + 1; }
    return by;
}"""


def _browser_run(base: str, numbers: list[str], count: int, timeout: float) -> tuple[dict, list[dict]]:
    """Drain ``count`` queued deposits from the page's outbox; returns (figures, items)."""
    from playwright.sync_api import sync_playwright

    names = {number: f"Anggota {i}" for i, number in enumerate(numbers)}
    requests_seen: list = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=base, locale="id-ID", timezone_id="Asia/Jakarta",
                                          service_workers="block", viewport={"width": 800, "height": 1280})
            context.set_default_timeout(30_000)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("requestfinished", lambda request: requests_seen.append(request)
                    if request.method == "POST" and request.url.endswith("/api/v1/deposits") else None)
            page.goto("/login")
            page.fill("#username", USERNAME)
            page.fill("#password", PASSWORD)
            page.click("main button[type=submit]")
            page.wait_for_load_state()
            page.goto("/counter")
            deadline = time.monotonic() + 60
            while not page.evaluate(BOOTED):
                if time.monotonic() > deadline:
                    state = page.evaluate("""() => ({url: location.href,
                        ready: document.documentElement.dataset.counterReady || null,
                        counter: !!window.wastebankCounter})""")
                    raise RuntimeError(f"the counter page did not boot with a device token in 60 s: {state}; "
                                       f"page errors: {errors[:5]}")
                time.sleep(0.2)

            context.set_offline(True)
            recorded_at = page.evaluate("""() => {
                const d = new Date(), pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, '0');
                const off = -d.getTimezoneOffset();
                return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
                    pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) +
                    (off >= 0 ? '+' : '-') + pad(off / 60) + ':' + pad(off % 60);
            }""")
            bodies = _bodies(numbers, count, recorded_at)
            queued = page.evaluate(WRITE_ITEMS, {"bodies": bodies, "names": names})
            if queued != count:
                raise RuntimeError(f"{queued} items queued in the outbox, expected {count}")

            # The clock starts as the connection returns (its "online" event kicks the sender too).
            started_epoch = time.time()
            started = time.perf_counter()
            context.set_offline(False)
            page.evaluate("() => window.wastebankCounter.sync.kick(0)")
            limit = started + timeout
            progress: dict = {}
            while True:
                progress = page.evaluate(PROGRESS)
                if progress.get("synced", 0) >= count:
                    break
                if progress.get("fix"):
                    bad = [i for i in page.evaluate("() => window.wastebankCounter.store.allItems()")
                           if i["state"] == "fix"][:1]
                    raise RuntimeError(f"an item was refused: {bad}")
                if time.perf_counter() > limit:
                    raise TimeoutError(f"outbox not drained after {timeout:.0f} s: {progress}")
                time.sleep(0.25)
            polled = time.perf_counter() - started
            items = page.evaluate("() => window.wastebankCounter.store.allItems()")
            page.wait_for_timeout(200)  # let the last requestfinished events arrive
            timings = [r.timing for r in requests_seen]
            context.close()
        finally:
            browser.close()

    synced_at = sorted(_parse_iso(item["synced_at"]) for item in items if item.get("synced_at"))
    drain = synced_at[-1] - started_epoch
    # Per item on the tablet: from marking it "sending" to storing the answer (request + IndexedDB).
    per_item = [_parse_iso(i["synced_at"]) - _parse_iso(i["last_try"]) for i in items if i.get("last_try")]
    cycle = [b - a for a, b in itertools.pairwise(synced_at)]
    quarter = len(cycle) // 4
    network = [t["responseEnd"] / 1000 for t in timings if t and t.get("responseEnd", -1) >= 0]
    figures = {
        "deposits": count,
        "seconds": round(drain, 3),
        "seconds_polled": round(polled, 2),
        "per_second": round(count / drain, 1),
        "first_synced_after_ms": round((synced_at[0] - started_epoch) * 1000, 1),
        "attempts": sum(int(i.get("attempts") or 0) for i in items),
        "api_requests_seen": len(timings),
        "request_latency": _stats_ms(network),  # Playwright request timing: request start → response end
        "item_latency": _stats_ms(per_item),  # item marked sending → answer stored in IndexedDB
        "cycle": _stats_ms(cycle),  # between consecutive items reaching "synced"
        # The sender and the outbox panel read the whole outbox on every step: does it grow?
        "cycle_first_quarter_mean_ms": round(statistics.fmean(cycle[:quarter]) * 1000, 1) if quarter else None,
        "cycle_last_quarter_mean_ms": round(statistics.fmean(cycle[-quarter:]) * 1000, 1) if quarter else None,
    }
    return figures, items


def _reference_run(base: str, token: str, bodies: list[dict]) -> dict:
    """The same bodies, one at a time, from Python with fresh keys (one sender, like the tablet)."""
    session = requests.Session()
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    failures: list[str] = []
    started = time.perf_counter()
    deadline = started + 600
    for body in bodies:
        begin = time.perf_counter()
        response = session.post(f"{base}/api/v1/deposits", json=body, timeout=60,
                                headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
        latencies.append(time.perf_counter() - begin)
        if response.status_code != 201:
            failures.append(f"{response.status_code} {response.text[:200]}")
        if time.perf_counter() > deadline:
            failures.append("reference run stopped after 600 s")
            break
    wall = time.perf_counter() - started
    return {"deposits": len(latencies), "failures": len(failures), "first_failure": failures[:1],
            "seconds": round(wall, 3), "per_second": round(len(latencies) / wall, 1),
            "request_latency": _stats_ms(latencies)}


def _check(url: str, count: int, before: tuple[int, int], after: tuple[int, int], items: list[dict]) -> dict:
    """Exactly ``count`` new deposits from the browser run, each priced from the database's
    prices, every item's answer matching, and the ledger verifying."""
    from sqlalchemy import select

    from wastebank import create_app
    from wastebank.extensions import db
    from wastebank.models import Deposit, Unit
    from wastebank.money import line_amount, parse_quantity
    from wastebank.services.catalog import current_prices
    from wastebank.services.ledger import verify_ledger

    faults: list[str] = []
    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        unit = db.session.scalars(select(Unit).where(Unit.code == UNIT)).one()
        prices = {row.category.code: row for row in current_prices(unit.id).values()}
        expected_lines = {}
        for line in LINES:
            row = prices[line["category"]]
            milli = parse_quantity(line["quantity"], row.category.unit)
            expected_lines[line["category"]] = (milli, row.buy_price_idr, line_amount(milli, row.buy_price_idr))
        expected_total = sum(amount for _, _, amount in expected_lines.values())
        if after[0] - before[0] != count:
            faults.append(f"{after[0] - before[0]} deposits made by the browser run, expected {count}")
        deposits = db.session.scalars(select(Deposit).where(Deposit.id > before[1], Deposit.id <= after[1])
                                      .order_by(Deposit.id)).all()
        for deposit in deposits:
            lines = {line.category.code: (line.quantity_milli, line.unit_price_idr, line.amount_idr)
                     for line in deposit.lines}
            if deposit.total_idr != expected_total or lines != expected_lines:
                faults.append(f"deposit {deposit.receipt_no}: total {deposit.total_idr}, lines {lines}; "
                              f"expected {expected_total}, {expected_lines}")
        receipts = {d.receipt_no for d in deposits}
        answered = [item.get("response") or {} for item in items]
        if {a.get("receipt_no") for a in answered} != receipts:
            faults.append("the items' receipt numbers are not the browser run's deposits")
        if any(a.get("total_idr") != expected_total for a in answered):
            faults.append("an item's answer has another total")
        report = verify_ledger()
        faults.extend(f"ledger: {fault}" for fault in report.faults)
        db.session.remove()
        db.engine.dispose()
    return {"ok": not faults, "faults": faults[:10], "expected_total_idr": expected_total,
            "expected_lines": {code: {"quantity_milli": q, "price_idr": p, "amount_idr": a}
                               for code, (q, p, a) in expected_lines.items()},
            "browser_deposits": len(deposits), "distinct_receipts": len(receipts),
            "ledger_entries_checked": report.entries, "ledger_accounts_checked": report.accounts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--items", type=int, default=200, help="queued deposits in the outbox")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before the drain counts as failed")
    args = parser.parse_args()

    url = _fresh_database(args.database)
    token, numbers = _setup(url, members=40)
    server, base = _start_server(url)
    try:
        before = _deposit_state(url)
        drain, items = _browser_run(base, numbers, args.items, args.timeout)
        after = _deposit_state(url)
        bodies = [item["body"] for item in sorted(items, key=lambda item: item["seq"])]
        reference = _reference_run(base, token, bodies)
        final = _deposit_state(url)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    checks = _check(url, args.items, before, after, items)
    if final[0] - after[0] != reference["deposits"] - reference["failures"]:
        checks["ok"] = False
        checks["faults"].append(f"reference run made {final[0] - after[0]} deposits")
    result = {"database": args.database, "date": time.strftime("%Y-%m-%d"), "items": args.items,
              "drain": drain, "reference": reference,
              "ratio_drain_to_reference": round(drain["seconds"] / reference["seconds"], 2),
              "checks": checks}
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"outbox-drain-{args.database}.json").write_text(json.dumps(result, indent=2))
    return 0 if checks["ok"] and not reference["failures"] else 1


if __name__ == "__main__":
    sys.exit(main())
