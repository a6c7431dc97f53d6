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
 */
export function logoutQuestion(T, items, username, locale = "id") {
  const fill = (template, values) => String(template || "").replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
  const unsent = unsentOf(items, username);
  if (!unsent.count) { return ""; }
  const parts = [];
  const part = (bucket, one, many) => {
    if (!bucket.count) { return; }
    parts.push(fill(bucket.count === 1 ? T[one] : T[many], { count: bucket.count, total: formatIdr(bucket.total_idr, locale) }));
  };
  part(unsent.deposits, "logout_deposit_one", "logout_deposits");
  part(unsent.withdrawals, "logout_withdrawal_one", "logout_withdrawals");
  const fix = unsent.fix ? fill(T.logout_fix, { count: unsent.fix }) : "";
  return fill(T.logout_question, { items: parts.join(T.logout_and || " + "), fix: fix }).replace(/\s+/g, " ").trim();
}
