// The outbox's rules (static/counter/outbox-core.js) under Node's test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  AUTH_CODES, backoffMs, cancellable, classify, handOverDue, resendsItself, formatDay, formatReceiptTime, isoWithOffset, mayHaveArrived, newKey, prune, queueSummary, recover, resendable, retryMessage, sendOrder,
  pendingNote, servedMark, slipCode, staleWarning,
} from "../../wastebank/static/counter/outbox-core.js";

const err = (code, message) => ({ error: { code, message, field: null } });

test("answers that keep an item queued, sync it or ask for a correction (C15)", () => {
  assert.equal(classify(201, { receipt_no: "RW05-2026-000001" }).outcome, "synced");
  assert.equal(classify(200, {}).outcome, "synced");       // a replay of the same key
  assert.equal(classify(202, {}).outcome, "synced");       // a withdrawal waiting for approval
  for (const status of [0, 500, 502, 503, 504, 408, 429]) {
    assert.equal(classify(status, null).outcome, "retry", String(status));
  }
  // The queue says which: no answer at all, or the server answered and could not record it now.
  assert.equal(classify(0, null).code, "network");
  assert.equal(classify(500, null).code, "server_busy");
  assert.equal(classify(503, err("maintenance", "Sedang pemeliharaan")).code, "maintenance");
  assert.equal(classify(401, err("unauthorized", "Log in")).outcome, "auth");
  assert.equal(classify(403, err("forbidden", "No")).outcome, "auth");
  assert.equal(classify(400, err("csrf_failed", "CSRF")).outcome, "auth");
  const refused = classify(422, err("over_limit", "Terlalu banyak untuk satu baris: paling banyak 500 kg."));
  assert.deepEqual(refused, { outcome: "fix", reason: "Terlalu banyak untuk satu baris: paling banyak 500 kg.", code: "over_limit" });
  assert.equal(classify(409, err("quote_changed", "Harga berubah")).outcome, "fix");
  assert.equal(classify(404, err("member_not_found", "Tidak ada")).outcome, "fix");
  assert.equal(classify(409, null).reason, "HTTP 409");
});

test("a deposit refused because today is closed waits on the tablet; a withdrawal is refused", () => {
  const closed = err("day_closed", "Pembukuan hari ini sudah ditutup.");
  assert.deepEqual(classify(409, closed), { outcome: "retry", reason: "Pembukuan hari ini sudah ditutup.", code: "day_closed" });
  assert.equal(classify(409, closed, true, "deposit").outcome, "retry");
  assert.equal(classify(422, closed, true, "deposit").outcome, "retry");
  // The member waits at the counter for the cash: never paid by itself after the reopen.
  assert.deepEqual(classify(409, closed, true, "withdrawal"), { outcome: "fix", reason: "Pembukuan hari ini sudah ditutup.", code: "day_closed" });
  assert.equal(retryMessage("day_closed", true), "retrying_day_closed");
  assert.equal(retryMessage("day_closed", false), "retrying_offline");       // no connection says so first
  assert.equal(retryMessage("day_closed", true, true), "retrying_auth");     // nor does the login wait
  // Other refusals a manager lifts stay "perlu diperbaiki" with "Kirim ulang".
  assert.equal(classify(409, err("month_locked", "Bulan dikunci")).outcome, "fix");
});

test("a refusal the operator cannot edit away is resent with the same key", () => {
  assert.equal(resendable("day_closed"), true);
  assert.equal(resendable("over_limit"), false);
});

test("backoff doubles from 2 s and stops at 60 s, jitter at most 20 %", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 10].map((n) => backoffMs(n, 0)), [2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  assert.equal(backoffMs(1, 1), 2400);
});

test("items go out in capture order, only the operator's own queued ones", () => {
  const items = [
    { key: "c", seq: 3, state: "queued", username: "op", captured_at: "2025-07-01T02:00:03Z" },
    { key: "a", seq: 1, state: "queued", username: "op", captured_at: "2025-07-01T02:00:01Z" },
    { key: "b", seq: 2, state: "fix", username: "op", captured_at: "2025-07-01T02:00:02Z" },
    { key: "d", seq: 0, state: "queued", username: "other", captured_at: "2025-07-01T02:00:00Z" },
  ];
  assert.deepEqual(sendOrder(items, "op").map((i) => i.key), ["a", "c"]);
});

test("an item left 'sending' by a reload is queued again with the same key", () => {
  const [item] = recover([{ key: "k1", state: "sending" }, { key: "k2", state: "synced" }]);
  assert.deepEqual(item, { key: "k1", state: "queued", maybe_arrived: true });   // it may have arrived
});

test("keys are 32 hex characters and differ", () => {
  const a = newKey(), b = newKey();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, b);
  const fallback = newKey({ getRandomValues: (bytes) => bytes.fill(171) });
  assert.equal(fallback, "ab".repeat(16));
});

test("capture time keeps the tablet's offset (C16: 2025-07-01T09:00+07:00)", () => {
  process.env.TZ = "Asia/Jakarta";
  const d = new Date("2025-07-01T02:00:00Z");
  assert.equal(isoWithOffset(d), "2025-07-01T09:00:00+07:00");
  assert.equal(formatDay(d), "01/07/2025");
});

test("queue times read as on the printed receipt: DD-MM-YYYY HH.MM WIB in the unit's zone", () => {
  // The same moments through wastebank/timeutil.py format_local (the receipt page and PDF).
  const vectors = [["2026-11-29T07:05:00Z", "29-11-2026 14.05 WIB"],
                   ["2025-12-31T17:30:00Z", "01-01-2026 00.30 WIB"],   // past midnight in Jakarta: next day, 00 not 24
                   ["2025-07-01T02:00:00Z", "01-07-2025 09.00 WIB"]];
  for (const tz of ["Asia/Jakarta", "UTC", "America/Lima"]) {   // whatever zone the tablet is set to
    process.env.TZ = tz;
    for (const [iso, text] of vectors) { assert.equal(formatReceiptTime(new Date(iso), "Asia/Jakarta", "WIB"), text, tz); }
  }
  process.env.TZ = "Asia/Makassar";
  assert.equal(formatReceiptTime(new Date("2026-11-29T07:05:00Z"), "Asia/Makassar", "WITA"), "29-11-2026 15.05 WITA");
  // No zone, or one this browser does not know: the tablet's clock, without a zone name.
  process.env.TZ = "Asia/Jakarta";
  assert.equal(formatReceiptTime(new Date("2026-11-29T07:05:00Z"), "", "WIB"), "29-11-2026 14.05");
  assert.equal(formatReceiptTime(new Date("2026-11-29T07:05:00Z"), "Mars/Olympus_Mons", "MST"), "29-11-2026 14.05");
  // Indonesian writes hours and minutes with a period (PUEBI), English with a colon (the page's ctx.locale).
  assert.equal(formatReceiptTime(new Date("2026-11-29T07:05:00Z"), "Asia/Jakarta", "WIB", "id"), "29-11-2026 14.05 WIB");
  assert.equal(formatReceiptTime(new Date("2026-11-29T07:05:00Z"), "Asia/Jakarta", "WIB", "en"), "29-11-2026 14:05 WIB");
  assert.equal(formatReceiptTime(new Date("2026-11-29T07:05:00Z"), "", "WIB", "en"), "29-11-2026 14:05");
});

test("unsent items from an earlier day raise the warning; synced ones do not (C16)", () => {
  process.env.TZ = "Asia/Jakarta";
  const now = new Date("2025-07-09T03:00:00Z");
  const items = [{ state: "queued", captured_at: "2025-07-01T02:00:00Z" },
                 { state: "synced", captured_at: "2025-06-01T02:00:00Z" }];
  assert.deepEqual(staleWarning(items, now, "Asia/Jakarta", "WIB"), { count: 1, since: "01-07-2025 09.00 WIB" });
  assert.equal(staleWarning([{ state: "queued", captured_at: "2025-07-09T01:00:00Z" }], now, "Asia/Jakarta", "WIB"), null);
  assert.equal(staleWarning([], now, "Asia/Jakarta", "WIB"), null);
});

test("'not sent since' reads like the queue's times, in the unit's zone whatever the tablet's clock", () => {
  // Tester leftover 4: it was "03/12/2026" from the tablet's clock; the queue items say "03-12-2026 13.14 WIB".
  const items = [{ state: "fix", captured_at: "2026-12-03T06:14:00Z" },
                 { state: "queued", captured_at: "2026-12-04T01:00:00Z" }];
  const now = new Date("2026-12-05T03:00:00Z");
  for (const tz of ["Asia/Jakarta", "UTC", "America/Lima"]) {
    process.env.TZ = tz;
    assert.deepEqual(staleWarning(items, now, "Asia/Jakarta", "WIB"), { count: 2, since: "03-12-2026 13.14 WIB" }, tz);
  }
  // "An earlier day" is a Jakarta day: captured at 00:30 WIB on the 5th (12:30 on the 4th in Lima)
  // and seen at 13:00 WIB on the 5th (01:00 on the 5th in Lima) is today's, even on a Lima tablet.
  process.env.TZ = "America/Lima";
  const lima = [{ state: "queued", captured_at: "2026-12-04T17:30:00Z" }];
  assert.equal(staleWarning(lima, new Date("2026-12-05T06:00:00Z"), "Asia/Jakarta", "WIB"), null);
  assert.equal(staleWarning(lima, new Date("2026-12-06T06:00:00Z"), "Asia/Jakarta", "WIB").since, "05-12-2026 00.30 WIB");
  // The other zones of Indonesia name themselves.
  assert.equal(staleWarning(items, now, "Asia/Makassar", "WITA").since, "03-12-2026 14.14 WITA");
  // Without a zone: the tablet's clock, without a name (as formatReceiptTime).
  process.env.TZ = "Asia/Jakarta";
  assert.equal(staleWarning(items, now).since, "03-12-2026 13.14");
  // In English the colon, as the rest of the English page.
  assert.equal(staleWarning(items, now, "Asia/Jakarta", "WIB", "en").since, "03-12-2026 13:14 WIB");
  assert.equal(staleWarning(items, now, "Asia/Jakarta", "WIB", "id").since, "03-12-2026 13.14 WIB");
});

test("pruning drops only old synced items, never unsent ones", () => {
  const now = new Date("2025-07-09T03:00:00Z");
  const items = [{ key: "old-synced", state: "synced", synced_at: "2025-06-01T00:00:00Z" },
                 { key: "old-queued", state: "queued", captured_at: "2025-06-01T00:00:00Z" },
                 { key: "old-fix", state: "fix", captured_at: "2025-06-01T00:00:00Z" },
                 { key: "new-synced", state: "synced", synced_at: "2025-07-08T00:00:00Z" }];
  assert.deepEqual(prune(items, now).map((i) => i.key), ["old-queued", "old-fix", "new-synced"]);
});

test("a capture from a locked month stays in perlu diperbaiki with the month named, resent like a closed day", () => {
  const message = "Bulan November 2026 sudah ditutup buku: laporannya sudah terbit dan tidak ada lagi yang dapat dicatat di bulan itu.";
  const verdict = classify(409, err("month_locked", message));
  assert.deepEqual(verdict, { outcome: "fix", reason: message, code: "month_locked" });
  assert.equal(resendable("month_locked"), true);
  // It is not pruned: an unsent item stays until the operator removes it.
  const items = [{ key: "k1", seq: 1, state: "fix", username: "op", captured_at: "2026-11-30T13:00:00Z",
                   error: { code: "month_locked", reason: message } }];
  assert.deepEqual(prune(items, new Date("2027-01-15T00:00:00Z")).map((i) => i.key), ["k1"]);
});

test("a failed send while the tablet is offline says so, not that the server did not answer (tester item 4)", () => {
  assert.equal(classify(0, null, false).code, "offline");
  assert.equal(classify(0, null, false).outcome, "retry");
  assert.equal(classify(0, null, true).code, "network");
  assert.equal(classify(500, null, false).code, "server_busy");   // an answer came: the server's problem
  assert.equal(retryMessage("offline"), "retrying_offline");
  assert.equal(retryMessage("network", false), "retrying_offline");   // the connection went after the attempt
  assert.equal(retryMessage("server_busy", false), "retrying_offline");
  assert.equal(retryMessage("network", true), "retrying");
  assert.equal(retryMessage("", true), "retrying");
  assert.equal(retryMessage("server_busy", true), "retrying_server");
  assert.equal(retryMessage("maintenance", true), "retrying_server");
});

test("an ended session tells the operator to log in again, not that the server is busy", () => {
  // classify's auth outcome: a 401, a 403 and an expired CSRF token
  for (const [status, body] of [[401, null], [401, err("unauthorized", "Please log in.")], [403, err("forbidden", "")],
                                [400, err("csrf_failed", "")]]) {
    const verdict = classify(status, body);
    assert.equal(verdict.outcome, "auth", String(status));
    assert.ok(AUTH_CODES.includes(verdict.code), verdict.code);
    assert.equal(retryMessage(verdict.code, true), "retrying_auth", verdict.code);
  }
  // The sender's status says the session ended (no token could be had): whatever the last attempt was.
  assert.equal(retryMessage("", true, true), "retrying_auth");
  assert.equal(retryMessage("network", true, true), "retrying_auth");
  assert.equal(retryMessage("server_busy", true, true), "retrying_auth");
  assert.equal(retryMessage("offline", true, true), "retrying_auth");
  assert.equal(retryMessage("unauthorized", false, true), "retrying_offline");   // no connection first
  assert.equal(retryMessage("server_busy", true, false), "retrying_server");
});

test("a provisional slip shows a short code, not the 32-character key (tester item 12)", () => {
  assert.equal(slipCode("7be2d5b2c0ffee00112233445566778"), "7BE2-D5B2");
  assert.equal(slipCode("ab12"), "AB12");
  assert.equal(slipCode(""), "");
  assert.equal(slipCode("7be2-d5b2-xx"), "7BE2-D5B2");
  const key = newKey();
  assert.match(slipCode(key), /^[0-9A-F]{4}-[0-9A-F]{4}$/);
  assert.equal(slipCode(key), key.slice(0, 4).toUpperCase() + "-" + key.slice(4, 8).toUpperCase());
});

test("the queue summary says a deposit is being sent while it is (not that it waits)", () => {
  const T = {
    summary: "{queued} menunggu dikirim, {fix} perlu diperbaiki.", summary_queued: "{queued} menunggu dikirim.",
    summary_fix: "{fix} perlu diperbaiki.", summary_sending: "{sending} sedang dikirim…",
    summary_sending_and: "{sending} sedang dikirim, {rest}", all_sent: "Semua yang disimpan di tablet ini sudah terkirim.",
  };
  assert.equal(queueSummary(T, { queued: 0, sending: 1, fix: 0 }), "1 sedang dikirim…");
  assert.equal(queueSummary(T, { queued: 1, sending: 0, fix: 0 }), "1 menunggu dikirim.");
  assert.equal(queueSummary(T, { queued: 2, sending: 1, fix: 0 }), "1 sedang dikirim, 2 menunggu dikirim.");
  assert.equal(queueSummary(T, { queued: 0, sending: 1, fix: 1 }), "1 sedang dikirim, 1 perlu diperbaiki.");
  assert.equal(queueSummary(T, { queued: 2, sending: 1, fix: 1 }), "1 sedang dikirim, 2 menunggu dikirim, 1 perlu diperbaiki.");
  assert.equal(queueSummary(T, { queued: 0, sending: 0, fix: 1 }), "1 perlu diperbaiki.");
  assert.equal(queueSummary(T, { queued: 0, sending: 0, fix: 0 }), T.all_sent);
  assert.equal(queueSummary(T, {}), T.all_sent);
});

test("the deposit screen's note counts this member's refused deposits too (tester: paid twice)", () => {
  const T = {
    member_pending: "{count} setoran nasabah ini ({total}) tersimpan di tablet dan belum terkirim: jangan ditimbang ulang.",
    member_refused: "{count} setoran nasabah ini ({total}) ditolak server dan menunggu diperbaiki: perbaiki atau hapus di antrean sebelum menimbang ulang.",
    member_pending_refused: "{count} setoran nasabah ini ({total}) tersimpan di tablet dan belum terkirim, dan {fix} ({fix_total}) ditolak server dan menunggu diperbaiki: jangan ditimbang ulang; perbaiki atau hapus yang ditolak di antrean.",
  };
  const money = (idr) => "Rp " + idr;
  const dep = (key, state, idr, member = "RW05-0001", kind = "deposit") => ({ key, state, kind, member_no: member, estimate: { credited_idr: idr } });
  const fix = dep("a", "fix", 4875);
  assert.equal(pendingNote(T, [fix], "RW05-0001", new Set(), money),
               "1 setoran nasabah ini (Rp 4875) ditolak server dan menunggu diperbaiki: perbaiki atau hapus di antrean sebelum menimbang ulang.");
  assert.equal(pendingNote(T, [dep("b", "queued", 1000), dep("c", "sending", 2000)], "RW05-0001", new Set(), money),
               "2 setoran nasabah ini (Rp 3000) tersimpan di tablet dan belum terkirim: jangan ditimbang ulang.");
  assert.equal(pendingNote(T, [fix, dep("b", "queued", 1000), dep("d", "fix", 125)], "RW05-0001", new Set(), money),
               "1 setoran nasabah ini (Rp 1000) tersimpan di tablet dan belum terkirim, dan 2 (Rp 5000) ditolak server dan menunggu " +
               "diperbaiki: jangan ditimbang ulang; perbaiki atau hapus yang ditolak di antrean.");
  // Sent ones, other members, withdrawals and the skipped keys (saved here, being corrected) do not count.
  assert.equal(pendingNote(T, [dep("s", "synced", 9), dep("o", "fix", 9, "RW05-0002"), dep("w", "fix", 9, "RW05-0001", "withdrawal"),
                               fix], "RW05-0001", new Set(["a"]), money), "");
  assert.equal(pendingNote(T, [], "RW05-0001"), "");
});

test("'Dilayani hari ini' marks a member with a refused deposit 'perlu diperbaiki', as the queue", () => {
  assert.equal(servedMark([{ state: "synced" }]), "");
  assert.equal(servedMark([{ state: "synced" }, { state: "queued" }]), "unsent");
  assert.equal(servedMark([{ state: "sending" }]), "unsent");
  assert.equal(servedMark([{ state: "queued" }, { state: "fix" }, { state: "synced" }]), "fix");
});

test("an unsent withdrawal may be cancelled on the tablet; a deposit or one in flight may not", () => {
  assert.equal(cancellable({ kind: "withdrawal", state: "queued" }), true);
  assert.equal(cancellable({ kind: "withdrawal", state: "sending" }), false);   // its request is out
  assert.equal(cancellable({ kind: "withdrawal", state: "synced" }), false);
  assert.equal(cancellable({ kind: "withdrawal", state: "fix" }), false);       // "Hapus" is for those
  assert.equal(cancellable({ kind: "deposit", state: "queued" }), false);
  assert.equal(cancellable(null), false);
});

test("an attempt without an answer may have been recorded unless it failed offline", () => {
  assert.equal(mayHaveArrived(0, "network"), true);      // a lost reply or a timeout
  assert.equal(mayHaveArrived(0, "offline"), false);     // never left the tablet
  assert.equal(mayHaveArrived(504, "server_busy"), true);
  assert.equal(mayHaveArrived(502, "server_busy"), true);
  assert.equal(mayHaveArrived(500, "server_busy"), false);   // the app answered: rolled back
  assert.equal(mayHaveArrived(503, "maintenance"), false);
  // A reload that found a request in flight cannot know either.
  assert.deepEqual(recover([{ key: "a", state: "sending" }, { key: "b", state: "queued" }]),
                   [{ key: "a", state: "queued", maybe_arrived: true }]);
});

test("a withdrawal paid while its screen was closed asks for the hand-over until it is confirmed", () => {
  const paid = { kind: "withdrawal", state: "synced", response: { status: "paid", receipt_no: "RW05-2026-000559" } };
  assert.equal(handOverDue(paid), true);
  assert.equal(handOverDue(Object.assign({}, paid, { seen: true })), false);   // its screen opened the receipt
  assert.equal(handOverDue(Object.assign({}, paid, { response: { status: "pending_approval" } })), false);
  assert.equal(handOverDue(Object.assign({}, paid, { state: "queued" })), false);
  assert.equal(handOverDue(Object.assign({}, paid, { kind: "deposit" })), false);
});

test("the sender resends a refused deposit a manager can lift by itself, never a withdrawal", () => {
  const refused = (kind, code) => ({ kind: kind, state: "fix", error: { code: code } });
  assert.equal(resendsItself(refused("deposit", "month_locked")), true);
  assert.equal(resendsItself(refused("deposit", "day_closed")), true);     // kept by older versions as "fix"
  assert.equal(resendsItself(refused("withdrawal", "day_closed")), false); // only "Kirim ulang", member present
  assert.equal(resendsItself(refused("withdrawal", "member_inactive")), false);
  assert.equal(resendsItself(refused("deposit", "over_limit")), false);
  assert.equal(resendsItself({ kind: "deposit", state: "queued" }), false);
});
