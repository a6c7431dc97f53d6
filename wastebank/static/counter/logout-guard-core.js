// The question before logging out with this operator's items still on the tablet (tester F7:
// "Keluar" said only "Anda sudah keluar." while two deposits were unsent). Pure: the page
// (logout-guard.js) and Node's tests use it. Only the operator who saved an item can send it
// (outbox-core sendOrder, sync.js); it goes out when they log in again on this tablet.
import { formatIdr } from "./money.js";

// Items not (yet) recorded on the server: waiting, being sent, or refused (outbox-core STATES).
const UNSENT = new Set(["queued", "sending", "fix"]);

/** Rupiah the item moves as the queue shows it: a deposit's estimated credit, a withdrawal's amount. */
function amountOf(item) {
  if (item.kind === "withdrawal") { return Number((item.body || {}).amount_idr) || 0; }
  return Number((item.estimate || {}).credited_idr) || 0;
}

/**
 * The unsent items of `username` among the outbox `items`:
 * {deposits: {count, total_idr}, withdrawals: {count, total_idr}, fix: n (refused, "perlu
 * diperbaiki"), count: all of them}. Other operators' items and synced ones are left out.
 */
export function unsentOf(items, username) {
  const result = { deposits: { count: 0, total_idr: 0 }, withdrawals: { count: 0, total_idr: 0 }, fix: 0, count: 0 };
  for (const item of items || []) {
    if (!item || !username || item.username !== username || !UNSENT.has(item.state)) { continue; }
    const bucket = item.kind === "withdrawal" ? result.withdrawals : result.deposits;
    bucket.count += 1;
    bucket.total_idr += amountOf(item);
    if (item.state === "fix") { result.fix += 1; }
    result.count += 1;
  }
  return result;
}

/**
 * The question from the message table `T` (logout_* texts of templates/base.html), or "" when
 * `username` has nothing unsent (then logging out asks nothing):
 * "Masih ada 2 setoran (Rp 7.700) yang belum terkirim dari tablet ini. Setelah keluar, baru
 * terkirim saat Anda masuk lagi di tablet ini. Tetap keluar?"; with withdrawals
 * "… 2 setoran (Rp 7.700) dan 1 penarikan (Rp 5.000) …"; refused ones add
 * "1 di antaranya perlu diperbaiki." after the first sentence. Amounts by formatIdr in `locale`.
 * `cancelled`: the tablet's cancelled-withdrawal records (cancel-core cancelRecord); those still
 * checked with the server add "1 penarikan yang dibatalkan (Rp 5.000) masih diperiksa ke
 * server."; with nothing unsent, only they ask (logout_question_checking).
 */
export function logoutQuestion(T, items, username, locale = "id", cancelled = []) {
  const fill = (template, values) => String(template || "").replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
  const unsent = unsentOf(items, username);
  const checking = checkingOf(cancelled, username);
  const asking = checking.count ? fill(checking.count === 1 ? T.logout_checking_one : T.logout_checking,
                                       { count: checking.count, total: formatIdr(checking.total_idr, locale) }) : "";
  if (!unsent.count && !asking) { return ""; }
  if (!unsent.count) { return fill(T.logout_question_checking, { checking: asking }).replace(/\s+/g, " ").trim(); }
  const parts = [];
  const part = (bucket, one, many) => {
    if (!bucket.count) { return; }
    parts.push(fill(bucket.count === 1 ? T[one] : T[many], { count: bucket.count, total: formatIdr(bucket.total_idr, locale) }));
  };
  part(unsent.deposits, "logout_deposit_one", "logout_deposits");
  part(unsent.withdrawals, "logout_withdrawal_one", "logout_withdrawals");
  const fix = (unsent.fix ? fill(T.logout_fix, { count: unsent.fix }) : "") + (asking ? " " + asking : "");
  return fill(T.logout_question, { items: parts.join(T.logout_and || " + "), fix: fix }).replace(/\s+/g, " ").trim();
}

/**
 * The cancelled withdrawals of `username` the tablet still asks the server about (cancel-core
 * pendingChecks: "dibatalkan — memeriksa server…", a lost reply before the cancel): {count,
 * total_idr}. Logging out stops that question until the operator logs in again here (the device
 * token ends with the session), and until then nobody knows whether the member's savings went
 * down for cash never handed over (a tester: the logout asked nothing about them).
 */
export function checkingOf(records, username) {
  const result = { count: 0, total_idr: 0 };
  for (const record of records || []) {
    if (!record || !username || record.username !== username || record.check !== "checking") { continue; }
    result.count += 1;
    result.total_idr += Number.isSafeInteger(record.amount_idr) ? record.amount_idr : 0;
  }
  return result;
}
