"""The deposit endpoint beside a one-statement endpoint, over HTTP, in the same run (issue 13).

Usage (from the repo root; ``make bench-http`` does both databases)::

    .venv/bin/python bench/http_ab.py --database sqlite
    .venv/bin/python bench/http_ab.py --database postgresql --seconds 10 --pairs 3

Migrates a fresh database (``bench/deposits.py``'s setup: one unit, the default catalogue, 40
members, an operator token) and starts two gunicorn servers with 2 sync workers each: the
product (``wastebank:create_app()``) and ``bench/floor_app.py`` (one conditional UPDATE per
request, same database, same engine settings). Then, with wrk:

1. ``--pairs`` rounds of A (3-line ``POST /api/v1/deposits``, a new Idempotency-Key per
   request, ``bench/deposit.lua``) and B (``POST /floor``), A B A B …, 16 connections,
   ``--seconds`` each: requests per second and the ratio A/B of each pair;
2. the deposit at 2 connections: p50 and p99 latency;
3. 200 deposits recorded one by one, then the same 200 (same keys, same bodies) sent at once
   from 200 threads: p99 of the replays, each answered 201 with ``Idempotent-Replayed``, and
   the database still holding each of the 200 deposits once.

A round with a non-2xx answer or a socket error is reported as invalid. Prints one JSON line
per measurement and a Markdown table at the end. Loopback only.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import requests
from sqlalchemy import bindparam, create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from deposits import _free_port, _fresh_database, _percentile, _setup  # noqa: E402

PROXY = {"X-Forwarded-Proto": "https"}
LINES = [{"category": "PET-CLEAN", "quantity": "1,5"}, {"category": "CARDBOARD", "quantity": "2"},
         {"category": "HDPE-RIGID", "quantity": "0,75"}]


def _serve(app: str, url: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-only", WASTEBANK_CONFIG="production",
               WASTEBANK_PUBLIC_BASE_URL="https://bank.example", PYTHONPATH=str(ROOT),
               # As behind the TLS proxy of a deployment: production redirects plain HTTP.
               WASTEBANK_PROXY_COUNT="1")
    server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
                               "--log-level", "warning", "--backlog", "2048", app], cwd=ROOT, env=env)
    return server, f"http://127.0.0.1:{port}"


def _wait(url: str) -> None:
    for _ in range(200):
        try:
            requests.get(url, timeout=5, headers=PROXY)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def _wrk(base: str, path: str, connections: int, seconds: int, env: dict | None = None,
         script: str | None = None) -> dict:
    """One wrk run; returns requests/s, p50/p99 ms and the error counts wrk printed."""
    threads = min(2, connections)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "10s"]
    if script:
        cmd += ["-s", script]
    else:
        cmd += ["-s", str(ROOT / "bench" / "floor.lua")]
    out = subprocess.run(cmd + [base + path], capture_output=True, text=True, env=dict(os.environ, **(env or {})),
                         check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)

    def pct(label: str) -> float:
        value, unit = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)", out).groups()
        return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 2)

    return {"rps": rps, "p50_ms": pct("50"), "p99_ms": pct("99"),
            "non_2xx": int(non2xx.group(1)) if non2xx else 0,
            "socket_errors": sum(map(int, errors.groups())) if errors else 0}


def _replay(base: str, token: str, numbers: list[str], url: str, count: int = 200) -> dict:
    """Record ``count`` deposits, then replay all of them at once; check each is stored once."""
    headers = {"Authorization": f"Bearer {token}", **PROXY}
    sent = []
    with requests.Session() as session:
        for i in range(count):
            key, body = f"replay-{uuid.uuid4().hex}", {"member": numbers[i % len(numbers)], "lines": LINES}
            answer = session.post(f"{base}/api/v1/deposits", json=body, headers={**headers, "Idempotency-Key": key},
                                  timeout=60)
            assert answer.status_code == 201, answer.text[:300]
            sent.append((key, body, answer.json()["receipt_no"]))
    engine = create_engine(url)
    with engine.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM deposit")).scalar()
    latencies, bad = [], []
    lock, barrier = threading.Lock(), threading.Barrier(count)

    def one(key: str, body: dict, receipt_no: str) -> None:
        barrier.wait()
        start = time.perf_counter()
        answer = requests.post(f"{base}/api/v1/deposits", json=body, timeout=60,
                               headers={**headers, "Idempotency-Key": key})
        elapsed = time.perf_counter() - start
        with lock:
            latencies.append(elapsed)
            if (answer.status_code != 201 or answer.headers.get("Idempotent-Replayed") != "true"
                    or answer.json().get("receipt_no") != receipt_no):
                bad.append(f"{answer.status_code} {answer.text[:200]}")

    workers = [threading.Thread(target=one, args=item) for item in sent]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=120)
    with engine.connect() as conn:
        after = conn.execute(text("SELECT count(*) FROM deposit")).scalar()
        receipts = [r for (_, _, r) in sent]
        stored = conn.execute(text("SELECT count(*) FROM deposit WHERE receipt_no IN :r").bindparams(
            bindparam("r", expanding=True)), {"r": receipts}).scalar()
    engine.dispose()
    return {"replays": len(latencies), "wrong_answers": len(bad), "first_wrong": bad[:1],
            "p50_ms": round(_percentile(latencies, 50) * 1000, 1),
            "p99_ms": round(_percentile(latencies, 99) * 1000, 1),
            "deposits_added_by_replay": after - before, "each_stored_once": stored == count}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk (make bench-http does it)")
    url = _fresh_database(args.database)
    token, numbers = _setup(url, members=40)
    product, base = _serve("wastebank:create_app()", url)
    floor, floor_base = _serve("bench.floor_app:create_app()", url)
    env = {"WB_TOKEN": token, "WB_MEMBERS": ",".join(numbers)}
    script = str(ROOT / "bench" / "deposit.lua")
    results: dict = {"database": args.database, "pairs": []}
    try:
        _wait(f"{base}/api/v1/openapi.json")
        _wait(f"{floor_base}/")
        _wrk(base, "/api/v1/deposits", 2, 2, dict(env, WB_RUN=f"warm-{uuid.uuid4().hex[:8]}"), script)
        _wrk(floor_base, "/floor", 2, 2)
        for i in range(args.pairs):
            a = _wrk(base, "/api/v1/deposits", 16, args.seconds, dict(env, WB_RUN=f"a{i}-{uuid.uuid4().hex[:8]}"),
                     script)
            b = _wrk(floor_base, "/floor", 16, args.seconds)
            pair = {"deposit": a, "floor": b, "ratio": round(a["rps"] / b["rps"], 3)}
            results["pairs"].append(pair)
            print(json.dumps(pair), flush=True)
        results["latency_2_connections"] = _wrk(base, "/api/v1/deposits", 2, args.seconds,
                                                dict(env, WB_RUN=f"lat-{uuid.uuid4().hex[:8]}"), script)
        results["floor_latency_2_connections"] = _wrk(floor_base, "/floor", 2, args.seconds)
        print(json.dumps({"latency_2_connections": results["latency_2_connections"]}), flush=True)
        results["replay_200"] = _replay(base, token, numbers, url)
        print(json.dumps({"replay_200": results["replay_200"]}), flush=True)
    finally:
        for server in (product, floor):
            server.terminate()
            server.wait(timeout=30)
    _table(results)


def _table(results: dict) -> None:
    ratios = [p["ratio"] for p in results["pairs"]]
    invalid = any(p["deposit"]["non_2xx"] or p["deposit"]["socket_errors"] or p["floor"]["non_2xx"]
                  for p in results["pairs"])
    print(f"\n### {results['database']}" + ("  (INVALID: errors in a round)" if invalid else ""))
    print("| pair | deposit req/s | one-statement req/s | ratio |\n|---|---|---|---|")
    for i, p in enumerate(results["pairs"], 1):
        print(f"| {i} | {p['deposit']['rps']:.0f} | {p['floor']['rps']:.0f} | {p['ratio']:.3f} |")
    print(f"| median | | | **{statistics.median(ratios):.3f}** |")
    lat, rep = results["latency_2_connections"], results["replay_200"]
    print(f"\n2 connections: deposit p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms "
          f"(one-statement p99 {results['floor_latency_2_connections']['p99_ms']} ms)")
    print(f"200 replays at once: p50 {rep['p50_ms']} ms, p99 {rep['p99_ms']} ms, wrong answers "
          f"{rep['wrong_answers']}, deposits added by the replay {rep['deposits_added_by_replay']}, "
          f"each stored once: {rep['each_stored_once']}")


if __name__ == "__main__":
    main()
