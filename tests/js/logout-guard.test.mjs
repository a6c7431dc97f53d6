// The question before logging out (static/counter/logout-guard-core.js) under Node's test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { checkingOf, logoutQuestion, unsentOf } from "../../wastebank/static/counter/logout-guard-core.js";

// The Indonesian texts of templates/base.html (#logout-guard data-texts) as the page gets them.
const T = {
  logout_question: "Masih ada {items} yang belum terkirim dari tablet ini. {fix} Setelah keluar, baru terkirim saat Anda masuk lagi di tablet ini. Tetap keluar?",
  logout_deposit_one: "1 setoran ({total})", logout_deposits: "{count} setoran ({total})",
  logout_withdrawal_one: "1 penarikan ({total})", logout_withdrawals: "{count} penarikan ({total})",
  logout_and: " dan ", logout_fix: "{count} di antaranya perlu diperbaiki.",
  logout_checking_one: "1 penarikan yang dibatalkan ({total}) masih diperiksa ke server.",
  logout_checking: "{count} penarikan yang dibatalkan ({total}) masih diperiksa ke server.",
  logout_question_checking: "{checking} Sebelum server menjawab, belum diketahui apakah penarikan itu tercatat. Setelah keluar, server baru ditanya lagi saat Anda masuk lagi di tablet ini. Tetap keluar?",
};
const EN = {
  logout_question: "There are still {items} on this tablet that have not been sent. {fix} After you log out they are sent only when you log in again on this tablet. Log out anyway?",
  logout_deposit_one: "1 deposit ({total})", logout_deposits: "{count} deposits ({total})",
  logout_withdrawal_one: "1 withdrawal ({total})", logout_withdrawals: "{count} withdrawals ({total})",
  logout_and: " and ", logout_fix: "{count} of them need correcting.",
};
let n = 0;
const deposit = (username, state, credited) => ({ key: "k" + (n += 1), kind: "deposit", username, state,
  estimate: { credited_idr: credited }, body: { member: "RW05-0001" } });
const withdrawal = (username, state, amount) => ({ key: "k" + (n += 1), kind: "withdrawal", username, state,
  estimate: null, body: { member: "RW05-0001", amount_idr: amount } });

test("two unsent deposits: the count and their rupiah, as the tester asked", () => {
  const items = [deposit("op_a", "queued", 4875), deposit("op_a", "sending", 2825)];
  assert.equal(logoutQuestion(T, items, "op_a"),
               "Masih ada 2 setoran (Rp 7.700) yang belum terkirim dari tablet ini. Setelah keluar, " +
               "baru terkirim saat Anda masuk lagi di tablet ini. Tetap keluar?");
  assert.deepEqual(unsentOf(items, "op_a"),
                   { deposits: { count: 2, total_idr: 7700 }, withdrawals: { count: 0, total_idr: 0 }, fix: 0, count: 2 });
});

test("only the operator's own items count; sent ones and other operators' never", () => {
  const items = [deposit("op_a", "queued", 4875), deposit("op_b", "queued", 100000),
                 deposit("op_a", "synced", 9000), withdrawal("op_b", "queued", 5000)];
  assert.equal(logoutQuestion(T, items, "op_a"),
               "Masih ada 1 setoran (Rp 4.875) yang belum terkirim dari tablet ini. Setelah keluar, " +
               "baru terkirim saat Anda masuk lagi di tablet ini. Tetap keluar?");
  assert.match(logoutQuestion(T, items, "op_b"), /^Masih ada 1 setoran \(Rp 100\.000\) dan 1 penarikan \(Rp 5\.000\) yang/);
});

test("nothing unsent of this operator: no question (logging out asks nothing)", () => {
  assert.equal(logoutQuestion(T, [], "op_a"), "");
  assert.equal(logoutQuestion(T, [deposit("op_a", "synced", 4875), deposit("op_b", "queued", 4875)], "op_a"), "");
  assert.equal(logoutQuestion(T, [deposit("op_a", "queued", 4875)], ""), "");   // no operator known
  assert.equal(logoutQuestion(T, null, "op_a"), "");
});

test("withdrawals and refused items are named too", () => {
  const items = [deposit("op_a", "fix", 4875), withdrawal("op_a", "queued", 5000), withdrawal("op_a", "queued", 20000)];
  assert.equal(logoutQuestion(T, items, "op_a"),
               "Masih ada 1 setoran (Rp 4.875) dan 2 penarikan (Rp 25.000) yang belum terkirim dari tablet ini. " +
               "1 di antaranya perlu diperbaiki. Setelah keluar, baru terkirim saat Anda masuk lagi di tablet ini. Tetap keluar?");
  assert.deepEqual(unsentOf(items, "op_a").withdrawals, { count: 2, total_idr: 25000 });
  assert.equal(unsentOf(items, "op_a").fix, 1);
});

test("English: singular and plural, rupiah grouped with commas", () => {
  assert.equal(logoutQuestion(EN, [deposit("op_a", "queued", 1234567), withdrawal("op_a", "queued", 5000)], "op_a", "en"),
               "There are still 1 deposit (Rp 1,234,567) and 1 withdrawal (Rp 5,000) on this tablet that have not " +
               "been sent. After you log out they are sent only when you log in again on this tablet. Log out anyway?");
  assert.match(logoutQuestion(EN, [deposit("op_a", "queued", 100), deposit("op_a", "queued", 200)], "op_a", "en"),
               /^There are still 2 deposits \(Rp 300\) on/);
});

test("a deposit without an estimate counts with Rp 0, never NaN", () => {
  const odd = { key: "x", kind: "deposit", username: "op_a", state: "queued", estimate: null };
  assert.match(logoutQuestion(T, [odd, deposit("op_a", "queued", 500)], "op_a"), /^Masih ada 2 setoran \(Rp 500\) yang/);
});

// A cancelled withdrawal whose reply was lost (cancel-core cancelRecord, check "checking").
const cancelled = (username, check, amount) => ({ key: "c" + (n += 1), username, check, amount_idr: amount,
  member_no: "RW05-0001", done: check !== "checking" });

test("a cancelled withdrawal still checked with the server asks too, with nothing unsent", () => {
  const records = [cancelled("op_a", "checking", 5000), cancelled("op_a", "recorded", 7000),
                   cancelled("op_b", "checking", 9000), cancelled("op_a", "not_recorded", 3000)];
  assert.equal(logoutQuestion(T, [], "op_a", "id", records),
               "1 penarikan yang dibatalkan (Rp 5.000) masih diperiksa ke server. Sebelum server menjawab, belum " +
               "diketahui apakah penarikan itu tercatat. Setelah keluar, server baru ditanya lagi saat Anda masuk " +
               "lagi di tablet ini. Tetap keluar?");
  assert.deepEqual(checkingOf(records, "op_a"), { count: 1, total_idr: 5000 });
  assert.equal(logoutQuestion(T, [], "op_b", "id", records.slice(0, 2)), "");   // op_b has none
});

test("unsent items and checked cancels in one question; a record without an amount counts Rp 0", () => {
  const records = [cancelled("op_a", "checking", 5000), cancelled("op_a", "checking", null)];
  assert.equal(logoutQuestion(T, [deposit("op_a", "queued", 4875)], "op_a", "id", records),
               "Masih ada 1 setoran (Rp 4.875) yang belum terkirim dari tablet ini. 2 penarikan yang dibatalkan " +
               "(Rp 5.000) masih diperiksa ke server. Setelah keluar, baru terkirim saat Anda masuk lagi di " +
               "tablet ini. Tetap keluar?");
});
