// The outbox's rules, without storage or network (docs/rules.md §offline). Pure functions: the page
// (sync.js) and Node's tests use them.
//
// An item is a money-moving request the operator confirmed: written to the tablet's outbox
// *before* it is sent, sent with its idempotency key until the server gives a final answer.
//   state "queued"   menunggu         — not yet answered; sent (again) when it can be
//   state "sending"  mengirim         — a request is in flight (a reload turns it back to queued)
//   state "synced"   terkirim         — the server recorded it; `response` holds its answer
//   state "fix"      perlu diperbaiki — the server refused it (409/422); the operator corrects
//                                       it (a corrected body gets a new key) or removes it
// Nothing leaves the outbox unless the operator removes it or it synced. A deposit refused only
// because today's books are closed (day_closed) is not refused for good: it stays "queued" and
// goes by itself once a manager reopens the day (classify), so nobody removes it thinking it
// was lost.

export const STATES = Object.freeze(["queued", "sending", "synced", "fix"]);

// How long one request may take before it counts as lost (then resent with the same key).
export const REQUEST_TIMEOUT_MS = 10000;

// Error codes that the operator cannot correct by editing the deposit: a manager's action or
// time fixes them, so "Kirim ulang" resends the same key. A capture from a locked month
// (month_locked, docs/month-lock.md) stays in "perlu diperbaiki" with the server's message
// naming the month, until an admin unlocks it or the manager removes it and records a
// correction in the current month.
const RESEND_CODES = new Set(["day_closed", "month_locked", "member_inactive", "card_revoked"]);

/**
 * What to do with an item after one attempt.
 * `status` is the HTTP status (0 for a network error or a timeout); `body` the parsed JSON or
 * null. Returns {outcome, reason, code} with outcome one of:
 *   "synced" — 200/201: recorded (a replay of the same key answers the same body)
 *   "retry"  — network error, timeout, 5xx, 408, 429: keep queued, try again with backoff
 *   "auth"   — 401/403: the session or device token ended; keep queued until a new login
 *   "fix"    — 400/404/409/422 and any other 4xx: the server refused this request
 * A deposit (`kind` not "withdrawal") refused with code "day_closed" is a "retry": it waits on
 * the tablet until the day is reopened, as the counter's closed-day banner says (a tester saw
 * "perlu diperbaiki" with "Hapus" under that banner: removing it loses the member's deposit).
 * A withdrawal stays "fix": the member is at the counter for the cash now, and a withdrawal
 * sent by itself after the reopen would debit savings without anyone handing over money.
 */
export function classify(status, body, online = true, kind = "deposit") {
  const error = body && body.error ? body.error : null;
  const code = error ? error.code || "" : "";
  const reason = error ? error.message || "" : "";
  if (status === 200 || status === 201 || status === 202) { return { outcome: "synced", reason: "", code: "" }; }
  if (status === 0 || status >= 500 || status === 408 || status === 429) {
    // "offline": no answer and the tablet has no connection (navigator.onLine false);
    // "network": no answer although the tablet is online; "server_busy": the server answered
    // but could not record it now.
    const none = online === false ? "offline" : "network";
    return { outcome: "retry", reason: reason, code: code || (status === 0 ? none : "server_busy") };
  }
  if (status === 401 || status === 403) { return { outcome: "auth", reason: reason, code: code || "unauthorized" }; }
  // A CSRF failure is the page's problem, never the deposit's: the outbox sends with the
  // device token, so this only happens to a request sent with the session; retry it.
  if (status === 400 && code === "csrf_failed") { return { outcome: "auth", reason: reason, code: code }; }
  if (code === "day_closed" && kind !== "withdrawal") { return { outcome: "retry", reason: reason, code: code }; }
  return { outcome: "fix", reason: reason || ("HTTP " + status), code: code || "refused" };
}

// The codes classify() gives an "auth" outcome: the session or the device token ended (401),
// the role may not (403), or the page's CSRF token expired. None is sent until a new login.
export const AUTH_CODES = Object.freeze(["unauthorized", "forbidden", "csrf_failed"]);

/**
 * Which message a queued item that failed its last attempt shows (a key of the counter's
 * message table): "retrying_offline" while the tablet has no connection (`online` false, or
 * the attempt failed offline), "retrying_auth" when the session ended (`sessionEnded`, the
 * sender's status, or the last answer was an auth one: the operator must log in again before
 * it can go), "retrying_day_closed" when today's books were closed (it goes once the day is
 * reopened), "retrying_server" when the server answered that it could not record it now, else
 * "retrying" (no answer from the server).
 */
export function retryMessage(lastCode, online = true, sessionEnded = false) {
  if (online === false) { return "retrying_offline"; }
  if (sessionEnded === true || AUTH_CODES.includes(lastCode)) { return "retrying_auth"; }
  if (lastCode === "offline") { return "retrying_offline"; }
  if (lastCode === "day_closed") { return "retrying_day_closed"; }
  if (lastCode && lastCode !== "network") { return "retrying_server"; }
  return "retrying";
}

/**
 * The queue's summary line from the counter's message table `T`, naming only counts that are
 * not zero: "1 sedang dikirim…" while a request is in flight (as the item's "mengirim"),
 * "2 menunggu dikirim." for the ones still waiting, "1 perlu diperbaiki."; together
 * "1 sedang dikirim, 2 menunggu dikirim, 1 perlu diperbaiki."; else "everything was sent".
 */
export function queueSummary(T, counts) {
  const fill = (template, values) => String(template || "").replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
  const queued = counts.queued || 0;
  const sending = counts.sending || 0;
  const fix = counts.fix || 0;
  let rest = "";
  if (queued && fix) { rest = fill(T.summary, { queued: queued, fix: fix }); }
  else if (queued) { rest = fill(T.summary_queued, { queued: queued }); }
  else if (fix) { rest = fill(T.summary_fix, { fix: fix }); }
  if (sending) { return rest ? fill(T.summary_sending_and, { sending: sending, rest: rest }) : fill(T.summary_sending, { sending: sending }); }
  return rest || T.all_sent;
}

/**
 * The deposit screen's note about this member's deposits already on the tablet (tester: a
 * refused one hid the note, the member was weighed again and later paid twice once someone
 * tapped "Perbaiki"). From the outbox `items`: the deposits of `memberNo` (any operator) that
 * wait to be sent (queued or sending) and those the server refused ("fix"), leaving out the
 * keys in `skip` (saved from this screen, or the one being corrected here). `T` is the counter's
 * message table (member_pending, member_refused, member_pending_refused), `money(idr)` formats
 * an amount. Returns the note's text, or "" when there is none.
 */
export function pendingNote(T, items, memberNo, skip = new Set(), money = String) {
  const mine = items.filter((item) => item.member_no === memberNo && item.kind !== "withdrawal" && !skip.has(item.key));
  const total = (list) => money(list.reduce((sum, item) => sum + ((item.estimate || {}).credited_idr || 0), 0));
  const waiting = mine.filter((item) => item.state === "queued" || item.state === "sending");
  const refused = mine.filter((item) => item.state === "fix");
  const fill = (template, values) => String(template || "").replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
  if (waiting.length && refused.length) {
    return fill(T.member_pending_refused, { count: waiting.length, total: total(waiting),
                                            fix: refused.length, fix_total: total(refused) });
  }
  if (refused.length) { return fill(T.member_refused, { count: refused.length, total: total(refused) }); }
  if (waiting.length) { return fill(T.member_pending, { count: waiting.length, total: total(waiting) }); }
  return "";
}

/**
 * The mark of a member in the find page's "Dilayani hari ini" from their deposits in the outbox
 * `items`: "fix" when one of them was refused by the server (as the queue's "perlu
 * diperbaiki"), else "unsent" when one waits to be sent, else "" (all sent).
 */
export function servedMark(items) {
  if (items.some((item) => item.state === "fix")) { return "fix"; }
  if (items.some((item) => item.state !== "synced")) { return "unsent"; }
  return "";
}

/** True when a refused item is best resent unchanged (the operator cannot fix it by editing). */
export function resendable(code) { return RESEND_CODES.has(code); }

/**
 * True when the sender itself may put a refused item back in the queue (every minute): a
 * deposit refused for a reason a manager lifts (resendable). Never a withdrawal: it is resent
 * only by the operator's "Kirim ulang", with the member at the counter for the cash (a tester
 * saw a withdrawal refused on a closed day paid by itself after the reopen).
 */
export function resendsItself(item) {
  return !!item && item.state === "fix" && item.kind !== "withdrawal" && resendable(item.error && item.error.code);
}

/**
 * Milliseconds to wait before the next attempt after `attempts` failed ones: 2 s, 4 s, 8 s …
 * capped at 60 s, with up to 20 % jitter from `random` (0..1) so tablets do not stampede.
 */
export function backoffMs(attempts, random = 0) {
  const base = Math.min(60000, 2000 * Math.pow(2, Math.max(0, attempts - 1)));
  return Math.round(base * (1 + 0.2 * random));
}

/** Items to send, oldest capture first (capture order; `seq` breaks ties). */
export function sendOrder(items, username) {
  return items
    .filter((item) => item.state === "queued" && (!username || item.username === username))
    .sort((a, b) => (a.seq - b.seq) || (a.captured_at < b.captured_at ? -1 : a.captured_at > b.captured_at ? 1 : 0));
}

/** Items a reload found "sending": their request may or may not have arrived; resend them. */
export function recover(items) {
  return items.filter((item) => item.state === "sending")
    .map((item) => Object.assign({}, item, { state: "queued", maybe_arrived: true }));
}

/**
 * True when an attempt that ended without an answer may still have reached the server and been
 * recorded: no answer although the tablet was online (`status` 0, code "network": a lost reply
 * or a timeout), or a gateway's 502/504 (the app behind it may have committed). An attempt that
 * failed offline never left the tablet; the app's own 5xx means it rolled back.
 */
export function mayHaveArrived(status, code) {
  return status === 0 ? code === "network" : status === 502 || status === 504;
}

/**
 * True when a withdrawal was recorded as paid while nobody watched its screen: it went out by
 * itself later (the connection came back on another page) and nobody has said the cash was
 * handed over (`seen`, set by the withdrawal screen that opened its receipt, or by the queue's
 * "Uang sudah diserahkan"). The queue then says to hand the money over now or have it voided
 * (tester: "the only sign is 'terkirim' on /counter").
 */
export function handOverDue(item) {
  return !!item && item.kind === "withdrawal" && item.state === "synced" && !item.seen &&
    !!item.response && item.response.status === "paid";
}

/**
 * True when the operator may cancel the item on the tablet: an unsent withdrawal ("queued", not
 * "sending"). The member waits at the counter for the cash; when they leave without it, the
 * withdrawal must not be sent later by itself and debit their savings (tester). Deposits are
 * never cancelled so: the waste is already weighed and taken.
 */
export function cancellable(item) {
  return !!item && item.kind === "withdrawal" && item.state === "queued";
}

/**
 * The slip's short code: the first 8 characters of the item's idempotency key, upper case, in
 * two groups ("7BE2-D5B2"). The provisional slip and the tablet's queue show it, so that a slip
 * is matched to its receipt number in the queue once the deposit is sent (tester item 12: a raw
 * 32-character key is unreadable). Not unique forever; with the member and the capture time it is.
 */
export function slipCode(key) {
  const head = String(key || "").replace(/[^A-Za-z0-9]/g, "").slice(0, 8).toUpperCase();
  return head.length > 4 ? head.slice(0, 4) + "-" + head.slice(4) : head;
}

/** A new idempotency key: 32 hex characters (the API accepts 16–64 of [A-Za-z0-9_-]). */
export function newKey(cryptoObject = globalThis.crypto) {
  if (cryptoObject && cryptoObject.randomUUID) { return cryptoObject.randomUUID().replace(/-/g, ""); }
  const bytes = new Uint8Array(16);
  cryptoObject.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * ISO 8601 with the tablet's own UTC offset, to the second: "2025-07-01T09:00:00+07:00".
 * The server keeps it as the capture time (`recorded_at`, docs/rules.md §time (I11)).
 */
export function isoWithOffset(date) {
  const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + "T" +
    pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) +
    sign + pad(offset / 60) + ":" + pad(offset % 60);
}

/** "01/07/2025" for a Date in the tablet's time zone. */
export function formatDay(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return pad(date.getDate()) + "/" + pad(date.getMonth() + 1) + "/" + date.getFullYear();
}

// One formatter per zone (building an Intl.DateTimeFormat costs more than using it).
const receiptFormats = new Map();

/**
 * A moment as the printed receipt shows it (wastebank/timeutil.py format_local, "%d-%m-%Y %H:%M"
 * and the zone's abbreviation): "29-11-2026 14.05 WIB" in Indonesian, hours and minutes separated
 * by a period (PUEBI, as timeutil.clock_pattern), "29-11-2026 14:05 WIB" when `locale` is English
 * ("en…"; default "id", the page's `ctx.locale`). In the deployment's zone `timeZone`
 * (Asia/Jakarta, from the page's counter context) whatever the tablet's own zone is; `zoneName`
 * is the server's abbreviation of that zone ("WIB"; Indonesia's zones keep one all year).
 * Without a zone, or one this browser does not know, the tablet's own clock, without a name.
 * Checked with the server's against the same cases: tests/vectors/money.json `clock`.
 */
export function formatReceiptTime(date, timeZone, zoneName, locale = "id") {
  const pad = (n) => String(n).padStart(2, "0");
  const sep = String(locale || "id").startsWith("en") ? ":" : ".";
  let parts = null;
  if (timeZone) {
    try {
      if (!receiptFormats.has(timeZone)) {
        receiptFormats.set(timeZone, new Intl.DateTimeFormat("en-GB", {
          timeZone: timeZone, year: "numeric", month: "2-digit", day: "2-digit",
          hour: "2-digit", minute: "2-digit", hourCycle: "h23",
        }));
      }
      parts = {};
      for (const part of receiptFormats.get(timeZone).formatToParts(date)) { parts[part.type] = part.value; }
    } catch (error) {
      parts = null;   // RangeError: a zone this browser's Intl does not have
    }
  }
  if (!parts) {
    return pad(date.getDate()) + "-" + pad(date.getMonth() + 1) + "-" + date.getFullYear() + " " +
      pad(date.getHours()) + sep + pad(date.getMinutes());
  }
  return parts.day + "-" + parts.month + "-" + parts.year + " " + parts.hour + sep + parts.minute +
    (zoneName ? " " + zoneName : "");
}

/**
 * The warning for items still unsent from an earlier day (CASES C16), or null:
 * {count, since: "01-07-2025 09.00 WIB"} where `since` is the oldest unsent capture, written as
 * the queue's own times (formatReceiptTime in the unit's zone `timeZone`, named `zoneName`, in `locale`);
 * "an earlier day" is a day of that zone too. Without a zone, the tablet's clock.
 */
export function staleWarning(items, now, timeZone, zoneName, locale = "id") {
  const unsent = items.filter((item) => item.state === "queued" || item.state === "sending" || item.state === "fix");
  if (!unsent.length) { return null; }
  const oldest = unsent.map((item) => new Date(item.captured_at)).sort((a, b) => a - b)[0];
  const since = formatReceiptTime(oldest, timeZone, zoneName, locale);
  const day = (text) => text.split(" ")[0];
  if (day(since) === day(formatReceiptTime(now, timeZone, zoneName))) { return null; }
  return { count: unsent.length, since: since };
}

/** Synced items older than `days` days are dropped from the list; unsent items never are. */
export function prune(items, now, days = 7) {
  const limit = now.getTime() - days * 86400000;
  return items.filter((item) => item.state !== "synced" || new Date(item.synced_at || item.captured_at).getTime() >= limit);
}
