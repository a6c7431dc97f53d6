// Sending the outbox (docs/rules.md §offline): items go out in capture order,
// one at a time per tablet (a Web Lock shared by every tab), through the JSON API with their
// idempotency key and this tablet's device token — never a form's CSRF token, which expires.
// A lost answer is resolved by resending with the same key: the server returns its stored
// answer. Network errors, timeouts, 5xx, 408/429 and an ended session leave the item queued;
// 409/422 move it to "perlu diperbaiki".
import { backoffMs, cancellable, classify, mayHaveArrived, prune, recover, REQUEST_TIMEOUT_MS, resendsItself, sendOrder } from "./outbox-core.js";
import { cancelBody, cancelRecord, expiredRecords, pendingChecks, settleAnswer } from "./cancel-core.js";
import { DAY_CHECK_MS, dayClosedFromPage } from "./withdraw-core.js";
import * as store from "./store.js";

const LOCK = "wastebank-outbox-sender";
const ENDPOINTS = { deposit: "/api/v1/deposits", withdrawal: "/api/v1/withdrawals" };
// Settles the key of a withdrawal cancelled after an attempt that may have arrived (cancel-core.js).
const CANCEL_ENDPOINT = "/api/v1/withdrawals/cancel";
const channel = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("wastebank-outbox") : null;

let context = { username: "", unit: "" };
let timer = null;
let failures = 0;
let running = false;
const listeners = new Set();

/** The sender's visible status: {auth: bool, waitingUntil: ms epoch or 0, lastError: text}. */
export const status = { auth: false, waitingUntil: 0, lastError: "" };

/** Start the sender for the logged-in `username` of unit `unit`. */
export async function start(ctx) {
  context = ctx;
  for (const item of recover(await store.allItems())) { await store.putItem(item); }
  const all = await store.allItems();
  const keep = new Set(prune(all, new Date()).map((item) => item.key));
  for (const item of all) { if (!keep.has(item.key)) { await store.deleteItem(item.key); } }
  for (const record of expiredRecords(await cancelledRecords(), Date.now())) { await store.deleteValue("cancelled:" + record.key); }
  if (channel) {
    channel.onmessage = (event) => {
      // Another tab learnt that today is open (a send recorded, or its own check): so does this one.
      if (event.data && event.data.type === "day" && event.data.closed === false) { context.dayClosed = false; watchDay(); }
      emit(false);
    };
  }
  // Hold a device token before the connection goes: the outbox never needs the session later.
  if (navigator.onLine && !(await store.getValue("token:" + context.username))) { await obtainToken(); }
  window.addEventListener("online", () => { kick(0); checkDaySoon(); });
  document.addEventListener("visibilitychange", () => { if (!document.hidden) { kick(0); checkDaySoon(); } });
  kick(0);
  watchDay();
}

/**
 * Today's books closed or open, as this tab learnt it (a send's answer, a check). That today is
 * open is told to every tab of the tablet (the banner and the withdrawal screens follow
 * `context.dayClosed`): a tab that learnt the close from its own refused save said "closed"
 * after another tab's send was recorded (a tester). A close is learnt by each tab from its own
 * answers and pages, as before.
 */
function setDayClosed(closed) {
  context.dayClosed = closed;
  if (!closed && channel) { channel.postMessage({ type: "day", closed: false }); }
  watchDay();
}

/**
 * While the tablet believes today is closed (and is online, and this tab is seen), it asks the
 * server every DAY_CHECK_MS whether a unit manager reopened the day: without it the banner and
 * the withdrawal screens said "closed" until a reload or a send from the same tab. The answer is
 * the counter context of a counter page (GET /counter/offline, the smallest one: no API route
 * tells today's state).
 */
let dayTimer = null;
function watchDay() {
  if (!context.dayClosed) { if (dayTimer) { clearTimeout(dayTimer); dayTimer = null; } return; }
  if (dayTimer) { return; }
  dayTimer = setTimeout(() => { dayTimer = null; checkDay().finally(watchDay); }, DAY_CHECK_MS);
}

let lastDayCheck = 0;
const DAY_CHECK_MIN_MS = 15000;
function checkDaySoon() {
  if (context.dayClosed && Date.now() - lastDayCheck >= DAY_CHECK_MS) { checkDay(); }
}

/** Ask the server once whether today is still closed; learn a reopen (kept deposits then go). */
export async function checkDay() {
  if (!context.dayClosed || !navigator.onLine || document.hidden) { return context.dayClosed; }
  if (Date.now() - lastDayCheck < DAY_CHECK_MIN_MS) { return context.dayClosed; }   // never hammering
  lastDayCheck = Date.now();
  try {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    const response = await fetch("/counter/offline", {
      credentials: "same-origin", cache: "no-store", signal: controller.signal, headers: { "Accept": "text/html" } });
    clearTimeout(timeout);
    if (!response.ok || response.redirected) { return context.dayClosed; }
    const closed = dayClosedFromPage(await response.text(), context.username, context.unit);
    if (closed === false && context.dayClosed) {
      setDayClosed(false);
      failures = 0;
      emit(false);
      kick(0);   // deposits kept for the reopen go now
    }
  } catch (e) { /* no answer: asked again later */ }
  return context.dayClosed;
}

/** Call `listener()` whenever an item or the sender's status changes (in any tab). */
export function onChange(listener) { listeners.add(listener); return () => listeners.delete(listener); }

function emit(broadcast = true) {
  listeners.forEach((listener) => { try { listener(); } catch (e) { console.error(e); } });
  if (broadcast && channel) { channel.postMessage("changed"); }
}

/** Write a confirmed request to the outbox, then try to send it at once. */
export async function enqueue(item) {
  item.seq = await store.nextSeq();
  await store.putItem(item);
  status.waitingUntil = 0;  // trying now; a failure sets it again
  emit();
  kick(0);
  return item;
}

/** Replace a refused item by its correction (new key), then send. */
export async function replace(oldKey, item) {
  item.seq = (await store.getItem(oldKey) || {}).seq || await store.nextSeq();
  await store.replaceItem(oldKey, item);
  emit();
  kick(0);
  return item;
}

/** Put a refused item back in the queue with the same key (e.g. after a reopened day). */
export async function resend(key) {
  // The last attempt's failure is history now: the queue said "dikirim otomatis begitu koneksi
  // kembali" under a resent item while online (a tester), from an attempt before the refusal.
  await store.updateItem(key, (item) => item.state === "fix"
    ? Object.assign(item, { state: "queued", error: null, last_error: null, last_code: null }) : null);
  emit();
  kick(0);
}

/** Remove an item the operator chose to drop (only refused or synced items may go). */
export async function remove(key) {
  const item = await store.getItem(key);
  if (item && (item.state === "fix" || item.state === "synced")) { await store.deleteItem(key); }
  emit();
}

/**
 * Cancel an unsent withdrawal (outbox-core cancellable); false when it is being sent or gone.
 * It leaves the outbox (never sent again) and leaves `cancelled:<key>` (cancel-core cancelRecord):
 * one that certainly never left the tablet is done with; one that may have arrived stays
 * "dibatalkan — memeriksa server…" until the server says whether it recorded it (settleCancels).
 */
export async function cancel(key) {
  const item = await store.getItem(key);
  const gone = await store.deleteItemIf(key, cancellable);
  // What the withdrawal's screen and the counter say after it (withdraw.js, cancelled.js).
  if (gone && item) { await store.setValue("cancelled:" + key, cancelRecord(item, Date.now())); }
  emit();
  if (gone && item && item.maybe_arrived) { kick(0); }
  return gone;
}

/** Every `cancelled:<key>` record on this tablet (cancel-core.js). */
export async function cancelledRecords() {
  return (await store.valuesWithPrefix("cancelled:")).map(([, value]) => value).filter((r) => r && r.key);
}

/** The operator closed a "not recorded" record, or marked a "recorded" one as seen. */
export async function closeCancelled(key) {
  const record = await store.getValue("cancelled:" + key);
  if (record && (record.check === "not_recorded" || record.check === "recorded")) {
    await store.setValue("cancelled:" + key, Object.assign(record, { done: true, done_at: Date.now() }));
  }
  emit();
}

/**
 * Ask the server about this user's cancelled withdrawals still "checking". Returns
 * {unsettled, auth}: how many still wait (no answer: asked again with backoff) and whether the
 * device token was refused.
 */
async function settleCancels(token) {
  let unsettled = 0;
  for (const record of pendingChecks(await cancelledRecords(), context.username)) {
    if (!navigator.onLine) { unsettled += 1; continue; }
    // With the member and rupiah the record holds, for the audit log (cancel-core cancelBody).
    const answer = await post(CANCEL_ENDPOINT, token, null, cancelBody(record));
    const current = await store.getValue("cancelled:" + record.key);
    if (!current || current.check !== "checking") { continue; }   // another tab settled it
    const next = settleAnswer(current, answer.status, answer.body, navigator.onLine);
    await store.setValue("cancelled:" + record.key, next.record);
    emit();
    if (next.outcome === "auth") { return { unsettled: unsettled + 1, auth: true }; }
    if (next.outcome !== "settled") { unsettled += 1; }
  }
  return { unsettled: unsettled, auth: false };
}

/** Try to send now (`delay` ms from now); a later call replaces an earlier timer. */
export function kick(delay) {
  if (timer) { clearTimeout(timer); }
  timer = setTimeout(() => { timer = null; drain(); }, delay || 0);
}

/** Send every queued item of this user, oldest first, under the tablet-wide lock. */
export async function drain() {
  if (running) { return; }
  running = true;
  try {
    if (navigator.locks && navigator.locks.request) {
      await navigator.locks.request(LOCK, { ifAvailable: true }, async (lock) => {
        if (!lock) { kick(3000); return; }  // another tab is sending; look again soon
        await drainHeld();
      });
    } else {
      await drainHeld();
    }
  } catch (e) {
    console.error(e);
    kick(backoffMs(++failures, Math.random()));
  } finally {
    running = false;
  }
}

// A deposit's refusal that a manager's action lifts (a locked month unlocked) is tried again by
// itself this often, besides the operator's "Kirim ulang" (outbox-core resendsItself).
const RESEND_EVERY_MS = 60000;

async function drainHeld() {
  let freshToken = false;
  const now = Date.now();
  for (const item of await store.allItems()) {
    if (item.username === context.username && resendsItself(item) &&
        now - Date.parse(item.last_try || item.captured_at) >= RESEND_EVERY_MS) {
      await store.updateItem(item.key, (current) => current.state === "fix"
        ? Object.assign(current, { state: "queued", last_error: null, last_code: null }) : null);
    }
  }
  // Cancelled withdrawals that may have arrived: ask the server first what it holds.
  let cancels = { unsettled: 0, auth: false };
  if (pendingChecks(await cancelledRecords(), context.username).length) {
    let token = await store.getValue("token:" + context.username);
    let ended = false;
    if (!token && navigator.onLine) { ({ token, ended } = await obtainToken()); freshToken = true; }
    cancels = token ? await settleCancels(token) : { unsettled: 1, auth: ended };
    if (cancels.auth && token) { await store.deleteValue("token:" + context.username); }
  }
  // Deposits this round found held by a closed day: they wait, but the items after them still
  // go (a withdrawal behind one must be refused now, with the member at the counter, not sent
  // by itself after the reopen — a tester).
  const held = new Set();
  for (;;) {
    const next = sendOrder(await store.allItems(), context.username).filter((item) => !held.has(item.key))[0];
    if (!next && held.size) { retryLater(); return; }
    if (!next && cancels.unsettled) {   // a cancelled withdrawal still unanswered: ask again soon
      retryLater(cancels.auth ? 30000 : null);
      return;
    }
    if (!next) {
      failures = 0;
      status.waitingUntil = 0;
      emit(false);
      const waiting = (await store.allItems()).some((item) => item.username === context.username && resendsItself(item));
      if (waiting) { kick(RESEND_EVERY_MS); }
      return;
    }
    let token = await store.getValue("token:" + context.username);
    if (!token) {
      const issued = await obtainToken();
      token = issued.token;
      freshToken = true;
      if (!token && issued.ended) { status.auth = true; emit(false); kick(30000); return; }
      if (!token) {   // no answer (offline, a timeout, a 5xx): as for any lost send, and the item says so
        // (it showed "menunggu" with no reason while the token request kept failing: a tester).
        // Nothing of the item was sent, so nothing about it may have arrived.
        await store.updateItem(next.key, (current) => current.state === "queued"
          ? Object.assign(current, { last_error: "network", last_code: navigator.onLine ? "network" : "offline" }) : null);
        retryLater();
        return;
      }
    }
    status.auth = false;
    const item = await store.updateItem(next.key, (current) => current.state === "queued"
      ? Object.assign(current, { state: "sending", attempts: (current.attempts || 0) + 1,
                                 last_try: new Date().toISOString() }) : null);
    if (!item || item.state !== "sending") { continue; }
    emit();
    const answer = await send(item, token);
    const verdict = classify(answer.status, answer.body, navigator.onLine, item.kind);
    if (verdict.outcome === "synced") {
      failures = 0;
      setDayClosed(false);   // the server posted it: today is open (the banner goes, in every tab)
      await store.updateItem(item.key, (current) => Object.assign(current, {
        state: "synced", response: answer.body, synced_at: new Date().toISOString(), error: null }));
      await rememberBalance(item, answer.body);
      status.lastError = "";
      emit();
      continue;
    }
    if (verdict.outcome === "fix") {
      if (verdict.code === "day_closed") { setDayClosed(true); }
      await store.updateItem(item.key, (current) => Object.assign(current, {
        state: "fix", last_error: null, last_code: null, error: { code: verdict.code, reason: verdict.reason,
                               field: answer.body && answer.body.error ? answer.body.error.field : null } }));
      emit();
      continue;  // a refusal concerns this item only: the next one may go
    }
    const lost = mayHaveArrived(answer.status, verdict.code);
    await store.updateItem(item.key, (current) => Object.assign(current, {
      state: "queued", last_error: verdict.reason || verdict.code, last_code: verdict.code,
      maybe_arrived: !!current.maybe_arrived || lost }));
    if (verdict.code === "day_closed") {   // the server answered: this one waits, the next may go
      setDayClosed(true);
      held.add(item.key);
      emit();
      continue;
    }
    if (verdict.outcome === "auth") {
      await store.deleteValue("token:" + context.username);
      if (!freshToken) { freshToken = true; continue; }  // try once more with a new token
      status.auth = true;
      emit();
      kick(30000);
      return;
    }
    status.lastError = verdict.reason || verdict.code;
    retryLater();
    return;  // keep capture order: nothing after it goes out first
  }
}

/** One more failed round: try again after the backoff (or `wait` ms), saying until when. */
function retryLater(wait = null) {
  failures += 1;
  const delay = wait == null ? backoffMs(failures, Math.random()) : wait;
  status.waitingUntil = Date.now() + delay;
  emit();
  kick(delay);
}

async function send(item, token) {
  return post(ENDPOINTS[item.kind] || ENDPOINTS.deposit, token, item.key, item.body);
}

/** POST `payload` as JSON to `url` with the device token (and `key` as Idempotency-Key when given). */
async function post(url, token, key, payload) {
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  const headers = { "Content-Type": "application/json", "Authorization": "Bearer " + token,
                    "Accept-Language": document.documentElement.lang || "id" };
  if (key) { headers["Idempotency-Key"] = key; }
  try {
    const response = await fetch(url, {
      method: "POST", credentials: "omit", signal: controller.signal, cache: "no-store",
      headers: headers, body: JSON.stringify(payload),
    });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    return { status: response.status, body: body };
  } catch (e) {
    return { status: 0, body: null };  // network error or timeout: the answer may be lost
  } finally {
    clearTimeout(timeout);
  }
}

/**
 * A device token for this tablet from the logged-in session. Resolves to `{token, ended}`:
 * `{token: "wb_…", ended: false}` when issued (and stored); `{token: null, ended: true}` when
 * the server says there is no session of this user (the operator must log in again: "Sesi sudah
 * berakhir"); `{token: null, ended: false}` when there was no answer — offline, a timeout, a
 * 5xx — which is not an ended session (a tablet offline without a stored token said "Sesi sudah
 * berakhir. Masuk lagi" and waited 30 s after the connection came back). The request carries a
 * custom header, which a cross-site page cannot send, instead of the page's expiring CSRF token.
 */
export async function obtainToken() {
  const controller = new AbortController();
  const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
  try {
    const response = await fetch("/counter/device-token", {
      method: "POST", credentials: "same-origin", cache: "no-store", signal: controller.signal,
      headers: { "X-Requested-With": "wastebank-counter", "Accept": "application/json" },
    });
    if (response.redirected || response.status === 401 || response.status === 403) { return { token: null, ended: true }; }
    if (!response.ok) { return { token: null, ended: false }; }
    const data = await response.json();
    if (!data || data.username !== context.username || !data.token) { return { token: null, ended: true }; }
    await store.setValue("token:" + context.username, data.token);
    return { token: data.token, ended: false };
  } catch (e) {
    return { token: null, ended: false };
  } finally {
    clearTimeout(timeout);
  }
}

async function rememberBalance(item, body) {
  if (!body || typeof body.balance_idr !== "number") { return; }
  const snapshot = await store.getValue("snapshot:" + context.unit);
  if (!snapshot) { return; }
  const member = snapshot.members.find((m) => m.member_no === (body.member_no || item.member_no));
  if (member) {
    member.balance_idr = body.balance_idr;
    await store.setValue("snapshot:" + context.unit, snapshot);
  }
}

/** Fetch the unit's members and prices for offline use; keeps the old copy on failure. */
export async function refreshSnapshot() {
  try {
    const controller = new AbortController();
    const timeout = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    const response = await fetch("/api/v1/counter/snapshot", {
      credentials: "same-origin", cache: "no-store", signal: controller.signal,
      headers: { "Accept": "application/json" } });
    clearTimeout(timeout);
    if (!response.ok || response.redirected) { return null; }
    const data = await response.json();
    data.fetched_at = new Date().toISOString();
    await store.setValue("snapshot:" + context.unit, data);
    emit(false);
    return data;
  } catch (e) {
    return null;
  }
}

/** The stored snapshot of this unit, or null. */
export async function snapshot() { return store.getValue("snapshot:" + context.unit); }

/** Forget this user's device token (logout revokes it on the server too). */
export async function forgetToken() { await store.deleteValue("token:" + context.username); }
