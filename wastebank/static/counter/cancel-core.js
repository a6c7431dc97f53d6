// Cancelled withdrawals (docs/counter-offline.md §cancelled withdrawals), without storage or
// network: sync.js, cancelled.js, withdraw.js and Node's tests use these pure functions.
//
// "Batalkan penarikan" takes an unsent withdrawal out of the outbox (outbox-core cancellable)
// and leaves a record under `cancelled:<key>` in the tablet's key-value store. When an earlier
// attempt may have reached the server (outbox-core mayHaveArrived: a lost reply, a timeout, a
// stalled request), the cancel is not the end: the sender asks the server
// (POST /api/v1/withdrawals/cancel) until it answers, and the record stays on screen:
//   check "checking"     dibatalkan — memeriksa server…   (sent when online, retried)
//   check "not_recorded" the server holds nothing and never will (a late original is refused):
//                        "Dibatalkan: tidak tercatat di server. Jangan serahkan uang." — may be closed
//   check "recorded"     the server had booked it: a notice naming the receipt, the amount and the
//                        member stays until tapped as seen (a unit manager must void it)
//   check null           it certainly never left the tablet: deleted at once, nothing to ask
// A record the operator closed or marked as seen has `done` set; it is forgotten after 7 days.

/** The `cancelled:<key>` record for outbox `item` cancelled at `now` (ms epoch). */
export function cancelRecord(item, now) {
  const maybe = !!(item && item.maybe_arrived);
  return {
    key: item.key, maybe_arrived: maybe, at: now, check: maybe ? "checking" : null, done: !maybe,
    username: item.username, operator_name: item.operator_name || item.username,
    member_no: item.member_no, member_name: item.member_name || item.member_no,
    amount_idr: item.body ? item.body.amount_idr : null, captured_at: item.captured_at,
    attempts: 0, last_code: "", result: null,
  };
}

// What the cancel operation accepts for its optional fields (api/schemas.py
// CancelWithdrawalRequestSchema: Text max 30 without category-C characters, Rupiah 1..10^15).
const MEMBER_NO_MAX = 30;
const MAX_AMOUNT_IDR = 1e15;

/**
 * The JSON body the sender posts to POST /api/v1/withdrawals/cancel for `record` (cancelRecord):
 * `{idempotency_key, member_no, amount_idr}`. The member number and whole rupiah are the
 * cancelled withdrawal's as the tablet holds them, so that the audit log names the member and
 * the amount (docs/audit-log.md, `withdrawal.cancel_unsent`); each is null when the record does
 * not hold a value the server takes (a record without it, an empty text, a fraction, zero) — a
 * value the server refuses (422) would keep the cancel "checking" for ever.
 */
export function cancelBody(record) {
  const number = record.member_no;
  const amount = record.amount_idr;
  const memberOk = typeof number === "string" && number !== "" && number.length <= MEMBER_NO_MAX && !/\p{C}/u.test(number);
  const amountOk = Number.isSafeInteger(amount) && amount > 0 && amount <= MAX_AMOUNT_IDR;
  return { idempotency_key: record.key, member_no: memberOk ? number : null, amount_idr: amountOk ? amount : null };
}

/** Records still waiting for the server's answer, of `username` (its token asks), oldest first. */
export function pendingChecks(records, username) {
  return records.filter((r) => r && r.check === "checking" && (!username || r.username === username))
    .sort((a, b) => a.at - b.at);
}

/**
 * The record after one answer of the cancel operation: `status` the HTTP status (0: no
 * answer), `body` the parsed JSON. Returns {record, outcome}: outcome "settled" (200 with
 * `recorded`), "auth" (401/403: a new token is needed), or "retry" (anything else: the truth is
 * still unknown, so it is asked again with backoff; never given up).
 */
export function settleAnswer(record, status, body, online = true) {
  const next = Object.assign({}, record, { attempts: (record.attempts || 0) + 1 });
  if (status === 200 && body && typeof body.recorded === "boolean") {
    next.check = body.recorded ? "recorded" : "not_recorded";
    next.result = body.recorded ? body.withdrawal : null;
    next.last_code = "";
    return { record: next, outcome: "settled" };
  }
  if (status === 401 || status === 403) {
    next.last_code = "unauthorized";
    return { record: next, outcome: "auth" };
  }
  next.last_code = status === 0 ? (online === false ? "offline" : "network") : (body && body.error && body.error.code) || "server_busy";
  return { record: next, outcome: "retry" };
}

/** The records the counter shows: not closed or seen, oldest first. */
export function visibleRecords(records) {
  return records.filter((r) => r && r.check && !r.done).sort((a, b) => a.at - b.at);
}

/** Closed or seen records older than `days` days: forgotten. */
export function expiredRecords(records, now, days = 7) {
  return records.filter((r) => r && r.done && now - (r.at || 0) > days * 86400000);
}

function fill(template, values) {
  return String(template || "").replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
}

/**
 * What the counter says about a cancelled record, from the message table `T` and `money(idr)`:
 * {state, text, tone ("waiting" | "calm" | "alarm"), action ("dismiss" | "seen" | null)}.
 * `state` is the short label ("dibatalkan — memeriksa server…"); `text` the sentence.
 * `username`: who is logged in; another operator's record still "checking" says that only that
 * operator's next login here asks the server (`other: true`, no "dicoba lagi").
 */
export function cancelNotice(T, record, money = String, username = null) {
  if (record.check === "checking" && username && record.username && record.username !== username) {
    // Another operator's: only that operator's device token asks the server (pendingChecks), so
    // nothing is being asked now (a tester: the unit manager read "dicoba lagi otomatis").
    const who = record.operator_name || record.username;
    return { state: T.cancel_checking_other_state, text: fill(T.cancel_checking_other, { user: who }), tone: "alarm",
             action: null, other: true };
  }
  if (record.check === "checking") {
    return { state: T.cancel_checking, text: T.cancel_checking_text, tone: "waiting", action: null };
  }
  if (record.check === "not_recorded") {
    return { state: T.cancel_not_recorded_state, text: T.cancel_not_recorded, tone: "calm", action: "dismiss" };
  }
  if (record.check === "recorded") {
    const w = record.result || {};
    const values = { receipt: w.receipt_no || "", total: money(w.amount_idr != null ? w.amount_idr : record.amount_idr),
                     member: w.member_name || record.member_name || record.member_no };
    const template = w.voided ? T.cancel_recorded_voided : w.receipt_no ? T.cancel_recorded : T.cancel_recorded_pending;
    return { state: T.cancel_recorded_state, text: fill(template, values), tone: "alarm", action: "seen" };
  }
  return { state: "", text: "", tone: "calm", action: null };
}
