// Cancelled withdrawals (static/counter/cancel-core.js) under Node's test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { cancelBody, cancelNotice, cancelRecord, expiredRecords, pendingChecks, settleAnswer, visibleRecords } from "../../wastebank/static/counter/cancel-core.js";
import { cancellable, mayHaveArrived } from "../../wastebank/static/counter/outbox-core.js";

// The Indonesian texts as the page has them (templates/base.html, messages.po).
const T = {
  cancel_checking: "dibatalkan — memeriksa server…",
  cancel_checking_other_state: "dibatalkan — belum diperiksa",
  cancel_checking_other: "Hanya {user} yang dapat menanyakan ke server apakah penarikan ini tercatat: minta {user} masuk lagi di tablet ini. Penarikan ini mungkin sudah tercatat: jangan serahkan uangnya.",
  cancel_checking_text: "Tidak akan dikirim lagi. Tablet sedang menanyakan ke server apakah penarikan ini sudah tercatat sebelum koneksi putus. Jangan serahkan uangnya.",
  cancel_not_recorded_state: "dibatalkan",
  cancel_not_recorded: "Dibatalkan: tidak tercatat di server. Jangan serahkan uang.",
  cancel_recorded_state: "tercatat di server",
  cancel_recorded: "Tercatat di server sebagai {receipt} ({total}, {member}) tetapi uang belum diserahkan: minta pengurus unit membatalkan penarikan ini.",
  cancel_recorded_pending: "Tercatat di server sebagai permintaan yang menunggu persetujuan ({total}, {member}) tetapi uang belum diserahkan: minta pengurus unit menolak permintaan ini.",
  cancel_recorded_voided: "Tercatat di server sebagai {receipt} ({total}, {member}) dan sudah dibatalkan oleh pengurus unit: uangnya sudah kembali ke tabungan. Jangan serahkan uangnya.",
};
const rupiah = (idr) => "Rp " + String(idr).replace(/\B(?=(\d{3})+(?!\d))/g, ".");

const item = (extra = {}) => Object.assign({
  key: "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", kind: "withdrawal", username: "petugas_rw05", member_no: "RW05-0001",
  member_name: "Siti Aminah", body: { member: "RW05-0001", amount_idr: 5000, method: "cash" },
  captured_at: "2026-12-06T09:00:00.000Z", state: "queued", attempts: 1,
}, extra);

test("a withdrawal that certainly never left the tablet is done with at once", () => {
  const never = item({ maybe_arrived: false });
  assert.equal(cancellable(never), true);
  assert.equal(mayHaveArrived(0, "offline"), false);
  const record = cancelRecord(never, 1000);
  assert.deepEqual([record.check, record.done, record.maybe_arrived], [null, true, false]);
  assert.deepEqual(pendingChecks([record], "petugas_rw05"), []);
  assert.deepEqual(visibleRecords([record]), []);
});

test("one that may have arrived stays 'dibatalkan — memeriksa server…' until the server answers", () => {
  assert.equal(mayHaveArrived(0, "network"), true);   // a lost reply: fetched, then aborted
  const record = cancelRecord(item({ maybe_arrived: true }), 1000);
  assert.deepEqual([record.check, record.done, record.amount_idr, record.member_name], ["checking", false, 5000, "Siti Aminah"]);
  assert.deepEqual(pendingChecks([record], "petugas_rw05"), [record]);
  assert.deepEqual(pendingChecks([record], "petugas_rw06"), []);   // asked with its own operator's token
  assert.deepEqual(visibleRecords([record]), [record]);
  const notice = cancelNotice(T, record, rupiah);
  assert.deepEqual(notice, { state: "dibatalkan — memeriksa server…", text: T.cancel_checking_text, tone: "waiting", action: null });
});

test("no answer, a server error or a refusal keeps it checking; 401/403 asks for a new token", () => {
  const record = cancelRecord(item({ maybe_arrived: true }), 1000);
  for (const [status, body, online, code] of [[0, null, true, "network"], [0, null, false, "offline"], [503, null, true, "server_busy"],
                                              [422, { error: { code: "idempotency_key_required" } }, true, "idempotency_key_required"]]) {
    const next = settleAnswer(record, status, body, online);
    assert.equal(next.outcome, "retry");
    assert.deepEqual([next.record.check, next.record.last_code, next.record.attempts], ["checking", code, 1]);
  }
  assert.equal(settleAnswer(record, 401, null).outcome, "auth");
  assert.equal(settleAnswer(record, 403, null).record.check, "checking");
  assert.equal(settleAnswer(record, 200, { unexpected: true }).outcome, "retry");
  assert.equal(record.check, "checking");   // the record itself is not changed
});

test("recorded:false → 'Dibatalkan: tidak tercatat di server. Jangan serahkan uang.', which may be closed", () => {
  const record = cancelRecord(item({ maybe_arrived: true }), 1000);
  const next = settleAnswer(record, 200, { idempotency_key: record.key, recorded: false, withdrawal: null });
  assert.equal(next.outcome, "settled");
  assert.deepEqual([next.record.check, next.record.result, next.record.done], ["not_recorded", null, false]);
  assert.deepEqual(pendingChecks([next.record]), []);
  assert.deepEqual(cancelNotice(T, next.record, rupiah),
                   { state: "dibatalkan", text: "Dibatalkan: tidak tercatat di server. Jangan serahkan uang.", tone: "calm", action: "dismiss" });
  const closed = Object.assign({}, next.record, { done: true });
  assert.deepEqual(visibleRecords([closed]), []);
});

test("recorded:true → a notice naming the receipt, the amount and the member, until marked as seen", () => {
  const record = cancelRecord(item({ maybe_arrived: true }), 1000);
  const withdrawal = { id: 7, receipt_no: "RW05-2026-000124", amount_idr: 5000, member_no: "RW05-0001",
                       member_name: "Siti Aminah", method: "cash", status: "paid", voided: false };
  const next = settleAnswer(record, 200, { idempotency_key: record.key, recorded: true, withdrawal: withdrawal });
  assert.deepEqual([next.outcome, next.record.check, next.record.result], ["settled", "recorded", withdrawal]);
  const notice = cancelNotice(T, next.record, rupiah);
  assert.equal(notice.text, "Tercatat di server sebagai RW05-2026-000124 (Rp 5.000, Siti Aminah) tetapi uang belum diserahkan: " +
                            "minta pengurus unit membatalkan penarikan ini.");
  assert.deepEqual([notice.state, notice.tone, notice.action], ["tercatat di server", "alarm", "seen"]);
  assert.deepEqual(visibleRecords([next.record]), [next.record]);
  // Waiting for approval (no receipt yet), or voided by a manager since.
  const pending = Object.assign({}, next.record, { result: Object.assign({}, withdrawal, { receipt_no: null, status: "pending" }) });
  assert.match(cancelNotice(T, pending, rupiah).text, /^Tercatat di server sebagai permintaan yang menunggu persetujuan \(Rp 5\.000, Siti Aminah\)/);
  const voided = Object.assign({}, next.record, { result: Object.assign({}, withdrawal, { voided: true }) });
  assert.match(cancelNotice(T, voided, rupiah).text, /RW05-2026-000124 \(Rp 5\.000, Siti Aminah\) dan sudah dibatalkan/);
});

test("closed or seen records are forgotten after 7 days; open ones never", () => {
  const day = 86400000;
  const open = Object.assign(cancelRecord(item({ maybe_arrived: true }), 0), { check: "recorded" });
  const seen = Object.assign({}, open, { key: "b", done: true });
  assert.deepEqual(expiredRecords([open, seen], 8 * day), [seen]);
  assert.deepEqual(expiredRecords([open, seen], 6 * day), []);
});

test("the cancel request names the member and the rupiah the record holds, for the audit log", () => {
  const record = cancelRecord(item({ maybe_arrived: true }), 1000);
  assert.deepEqual(cancelBody(record), { idempotency_key: "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6", member_no: "RW05-0001", amount_idr: 5000 });
  // The body the sender posts, as JSON.
  assert.equal(JSON.stringify(cancelBody(record)), '{"idempotency_key":"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6","member_no":"RW05-0001","amount_idr":5000}');
});

test("what the record does not hold, or the server would refuse (422, asked for ever), is sent as null", () => {
  const base = cancelRecord(item({ maybe_arrived: true }), 1000);
  const body = (extra) => cancelBody(Object.assign({}, base, extra));
  // A record written before the amount was kept, an item without a body.
  assert.deepEqual(cancelBody(cancelRecord(item({ maybe_arrived: true, body: undefined }), 1000)),
                   { idempotency_key: base.key, member_no: "RW05-0001", amount_idr: null });
  for (const amount of [undefined, null, 0, -5000, 5000.5, "5000", NaN, Infinity, 1e15 + 1, true]) {
    assert.equal(body({ amount_idr: amount }).amount_idr, null, String(amount));
  }
  assert.equal(body({ amount_idr: 1 }).amount_idr, 1);
  assert.equal(body({ amount_idr: 1e15 }).amount_idr, 1e15);
  for (const number of [undefined, null, "", 12, "RW05-0001\n", "RW05\u200b0001", "R".repeat(31)]) {
    assert.equal(body({ member_no: number }).member_no, null, JSON.stringify(number));
  }
  assert.equal(body({ member_no: "R".repeat(30) }).member_no, "R".repeat(30));
  assert.deepEqual(Object.keys(body({ member_no: null, amount_idr: null })), ["idempotency_key", "member_no", "amount_idr"]);
});

test("another operator's record still checked: only that operator's login asks the server (a tester)", () => {
  const record = cancelRecord(item({ maybe_arrived: true, operator_name: "Dewi Operator" }), 1000);
  assert.equal(record.operator_name, "Dewi Operator");
  // The unit manager logged in on the tablet: nothing is being asked now, and it may be recorded.
  assert.deepEqual(cancelNotice(T, record, rupiah, "pengurus_rw05"), {
    state: "dibatalkan — belum diperiksa", tone: "alarm", action: null, other: true,
    text: "Hanya Dewi Operator yang dapat menanyakan ke server apakah penarikan ini tercatat: minta Dewi Operator " +
          "masuk lagi di tablet ini. Penarikan ini mungkin sudah tercatat: jangan serahkan uangnya." });
  // The operator's own record, or no login given: the usual "memeriksa server…".
  assert.equal(cancelNotice(T, record, rupiah, "petugas_rw05").state, "dibatalkan — memeriksa server…");
  assert.equal(cancelNotice(T, record, rupiah).state, "dibatalkan — memeriksa server…");
  // A record of an older version has no operator_name: the login name.
  const older = Object.assign({}, record, { operator_name: undefined });
  assert.match(cancelNotice(T, older, rupiah, "pengurus_rw05").text, /^Hanya petugas_rw05 yang/);
});
