// The withdrawal screens' rules (withdraw.js, sync.js), without storage, network or page: Node's
// tests (tests/js/withdraw.test.mjs) use these pure functions.
//
// A withdrawal check screen follows ITS OWN outbox item (by its idempotency key) whenever the
// queue changes in any tab: a refusal shown there is replaced by the paid result once the item
// is sent after all ("Kirim ulang" in another tab after the day was reopened), and it says so
// when the item leaves the queue (removed, or cancelled). A cancelled key is never used again:
// the form starts a new operation with a new key (newKey).

/**
 * What the screen shows for its item: `stored` the outbox item (or null when it is not in the
 * queue), `cancelled` its `cancelled:<key>` record (or null), `previous` the last view shown.
 * Returns {view, ...}:
 *   "paid"      sent, recorded as paid: {id, receipt_no, amount_idr}
 *   "pending"   sent, a request waiting for a unit manager's approval: {id, amount_idr}
 *   "refused"   the server refused it: {reason, code}; with `reopened: true` when it was refused
 *               because today was closed and `dayClosed` (what the tablet knows now) is false
 *   "waiting"   queued or being sent
 *   "cancelled" cancelled in the queue: {check} (cancel-core: null, "checking", "recorded", "not_recorded")
 *   "removed"   gone from the queue (a refused item removed; never recorded)
 * A sent item that later leaves the queue stays as it was shown: it is recorded.
 */
export function followView(stored, cancelled, previous, dayClosed = true) {
  if (stored) {
    if (stored.state === "synced" && stored.response && stored.response.id) {
      const answer = stored.response;
      const amount = answer.amount_idr != null ? answer.amount_idr : (stored.body || {}).amount_idr;
      if (answer.receipt_no) { return { view: "paid", id: answer.id, receipt_no: answer.receipt_no, amount_idr: amount }; }
      return { view: "pending", id: answer.id, amount_idr: amount };
    }
    if (stored.state === "fix") {
      const code = (stored.error && stored.error.code) || "";
      const view = { view: "refused", reason: (stored.error && stored.error.reason) || "", code: code };
      if (code === "day_closed" && dayClosed === false) { view.reopened = true; }
      return view;
    }
    return { view: "waiting" };
  }
  if (previous && (previous.view === "paid" || previous.view === "pending")) { return previous; }
  if (cancelled) { return { view: "cancelled", check: cancelled.check || null, maybe: !!cancelled.maybe_arrived }; }
  return { view: "removed" };
}

/** Same view (nothing to draw again). */
export function sameView(a, b) { return JSON.stringify(a || null) === JSON.stringify(b || null); }

/**
 * The first answer of a save opens the withdrawal's page (the normal success path); a screen
 * that has already told the operator it was refused, removed or cancelled never moves by
 * itself: the paid result is shown in place (the cash is handed over from the queue's notice).
 */
export function opensPage(view, shown) {
  return (view.view === "paid" || view.view === "pending") &&
    !shown.some((v) => v.view === "refused" || v.view === "removed" || v.view === "cancelled");
}

/** A new idempotency key: 32 hex digits (as the server's uuid4().hex), from `random(n)` bytes. */
export function newKey(random) {
  return Array.from(random(16), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The form's address after a cancel: the same page with `after=<cancelled key>`, so that the
 * server starts a new operation and says the earlier one is recorded (counter/withdrawals.py).
 */
export function addressAfterCancel(pathname, search, key) {
  const params = new URLSearchParams(search || "");
  params.set("after", key);
  return pathname + "?" + params.toString();
}

/**
 * Whether today's books are closed, as a counter page's `#counter-context` says it
 * (`{"dayClosed": bool, "username", "unit"}`): true / false, or null when the page has none,
 * or it is another user's or unit's (logged out, another login in between).
 */
export function dayClosedFromPage(html, username, unit) {
  const found = /<script[^>]*id="counter-context"[^>]*>([\s\S]*?)<\/script>/.exec(String(html || ""));
  if (!found) { return null; }
  let data = null;
  try { data = JSON.parse(found[1]); } catch (e) { return null; }
  if (!data || data.username !== username || data.unit !== unit || typeof data.dayClosed !== "boolean") { return null; }
  return data.dayClosed;
}

// While the tablet believes today is closed it asks this often whether it was reopened.
export const DAY_CHECK_MS = 20000;
