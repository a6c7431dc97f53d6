// The outbox panel on every counter page: what is queued (menunggu), in flight (mengirim),
// synced with its receipt (terkirim) and refused with the server's reason (perlu diperbaiki).
// The operator can always see where each confirmed deposit is; nothing disappears unseen.
import { formatIdr } from "./money.js";
import { cancellable, formatDay, handOverDue, formatReceiptTime, queueSummary, resendable, retryMessage, slipCode, staleWarning } from "./outbox-core.js";
import * as store from "./store.js";
import * as sync from "./sync.js";

let T = {};
let ctx = {};
let host = null;

/** Mount the panel at the top of <main> and keep it current. */
export function mount(i18n, context) {
  T = i18n;
  ctx = context;
  host = document.getElementById("outbox-panel");
  if (!host) {
    const main = document.querySelector("main");
    if (!main) { return; }
    host = document.createElement("section");
    host.id = "outbox-panel";
    host.setAttribute("aria-live", "polite");
    main.insertBefore(host, main.firstChild);
  }
  host.addEventListener("click", onClick);
  sync.onChange(scheduleRender);
  window.addEventListener("online", scheduleRender);
  window.addEventListener("offline", scheduleRender);
  // A page shown in place (forms/resilient.js) brought a newer context (a reopened day).
  window.addEventListener("wastebank:context", scheduleRender);
  render();
}

// A draining queue changes every few milliseconds: draw at most every 150 ms.
let pending = null;
function scheduleRender() {
  if (pending) { return; }
  pending = setTimeout(() => { pending = null; render(); }, 150);
}

function fill(template, values) {
  return String(template || "").replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
}

function esc(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

/** A capture time as the printed receipt shows it: "29-11-2026 14.05 WIB" in the unit's zone (14:05 in English). */
function localTime(iso) { return formatReceiptTime(new Date(iso), ctx.timeZone, ctx.zoneName, ctx.locale); }

function amountOf(item) {
  if (item.state === "synced" && item.response) {
    const value = item.response.credited_idr != null ? item.response.credited_idr : item.response.amount_idr;
    if (value != null) { return formatIdr(value, ctx.locale); }
  }
  if (item.estimate && item.estimate.credited_idr != null) { return formatIdr(item.estimate.credited_idr, ctx.locale); }
  if (item.body && item.body.amount_idr != null) { return formatIdr(item.body.amount_idr, ctx.locale); }
  return "";
}

function today(item) { return formatDay(new Date(item.synced_at || item.captured_at)) === formatDay(new Date()); }

async function render() {
  if (!host) { return; }
  const all = (await store.allItems()).filter((item) => item.username === ctx.username);
  // Unsent items always show; synced ones only for today (the receipt stays on the server).
  // Unsent items always show; of today's sent ones only the latest three (the rest are counted),
  // so that the find box stays near the top on a busy Saturday.
  const sentToday = all.filter((item) => item.state === "synced" && today(item)).reverse();
  // A withdrawal paid while nobody watched its screen stays listed until the cash is handed over.
  const shown = sentToday.slice(0, 3);
  const due = all.filter((item) => handOverDue(item) && !shown.includes(item)).reverse();
  const items = all.filter((item) => item.state !== "synced").reverse().concat(due, shown);
  const sending = all.filter((item) => item.state === "sending").length;
  const queued = all.filter((item) => item.state === "queued").length + sending;
  const fix = all.filter((item) => item.state === "fix").length;
  const parts = [];
  // The counter's banner, on counter pages only: on the manager's own pages (Kelola → Buku kas)
  // "disimpan di tablet ini" spoke to the wrong person (a tester); the cash book says it there.
  if (ctx.dayClosed && location.pathname.indexOf("/counter") === 0) {
    parts.push('<p class="notice error" id="outbox-day-closed">' + esc(T.day_closed) + "</p>");
  }
  if (!navigator.onLine) { parts.push('<p class="notice offline" id="outbox-offline">' + esc(T.offline) + "</p>"); }
  if (sync.status.auth && queued) {
    parts.push('<p class="notice error" id="outbox-auth">' + esc(T.auth) +
               ' <a class="button secondary" href="/login?next=' + encodeURIComponent(location.pathname) + '">' +
               esc(T.login) + "</a></p>");
  }
  // Unsent items of another operator of this tablet stay theirs (the ledger records who
  // weighed it); say that they exist, so nothing waits unseen.
  // Named as people know each other: the full name the item stored (items saved before it was
  // stored have the login name only), the latest one of that operator's items.
  // Each item is listed (who, what, how much, when), so whoever is asked knows which members'
  // deposits wait on this tablet (a tester: a count alone told the manager nothing to check).
  const others = {};
  const names = {};
  (await store.allItems()).forEach((item) => {
    if (item.username !== ctx.username && item.state !== "synced") {
      (others[item.username] = others[item.username] || []).push(item);
      names[item.username] = item.operator_name || names[item.username] || item.username;
    }
  });
  Object.keys(others).forEach((username, index) => {
    parts.push('<div class="notice others-box"><p id="outbox-others' + (index ? "-" + index : "") + '">' +
               esc(fill(T.others, { count: others[username].length, user: names[username] })) + "</p>");
    parts.push('<ul class="others-items">' + others[username].map((item) =>
      '<li><span class="who">' + esc(item.member_name || item.member_no) + " · " + '<span class="nowrap">' + esc(item.member_no) +
      "</span></span> · " + esc(item.kind === "withdrawal" ? T.kind_withdrawal : T.kind_deposit) + ' · <span class="nowrap">' +
      esc(amountOf(item)) + '</span> · <span class="nowrap">' + esc(localTime(item.captured_at)) + "</span></li>").join("") + "</ul></div>");
  });
  const stale = staleWarning(all, new Date(), ctx.timeZone, ctx.zoneName, ctx.locale);   // "sejak 03-12-2026 13.14 WIB"
  if (stale) { parts.push('<p class="notice error" id="outbox-stale">' + esc(fill(T.stale, stale)) + "</p>"); }
  if (!items.length && !parts.length) { draw(""); host.className = ""; return; }
  // Amber while something waits or needs correcting; calm once everything was sent.
  host.className = items.length ? "outbox card" + (queued || fix || due.length ? " waiting" : " all-sent") : "outbox-notices";
  if (items.length) {
    parts.push("<h2>" + esc(T.title) + "</h2>");
    parts.push('<p id="outbox-summary">' + esc(queueSummary(T, { queued: queued - sending, sending: sending, fix: fix })) + "</p>");
    parts.push("<ul>");
    for (const item of items) {
      // A withdrawal request waiting for a manager's approval has no receipt yet (tester: "terkirim ·").
      const awaiting = item.state === "synced" && item.kind === "withdrawal" && (item.response || {}).status === "pending";
      const label = awaiting ? T.state_pending_approval
        : item.state === "synced" ? T.state_synced + " · " + ((item.response || {}).receipt_no || "")
        : item.state === "fix" ? T.state_fix : item.state === "sending" ? T.state_sending : T.state_queued;
      const kind = item.kind === "withdrawal" ? T.kind_withdrawal : T.kind_deposit;
      let actions = "";
      if (item.state === "synced" && item.response && (item.response.receipt_no || awaiting)) {
        const href = item.kind === "withdrawal" && item.response.id
          ? "/counter/withdrawal/" + item.response.id : "/counter/receipt/" + encodeURIComponent(item.response.receipt_no);
        actions += '<a class="button secondary receipt-link" href="' + esc(href) + '">' + esc(awaiting ? T.open_request : T.receipt) + "</a>";
      }
      if ((item.state === "queued" || item.state === "sending") && item.kind !== "withdrawal") {
        actions += '<button type="button" class="secondary slip" data-key="' + esc(item.key) + '">' + esc(T.slip) + "</button>";
      }
      if (handOverDue(item)) {
        actions += '<button type="button" class="primary handed" data-key="' + esc(item.key) + '">' + esc(T.handed) + "</button>";
      }
      if (cancellable(item) && item.username === ctx.username) {
        actions += '<button type="button" class="secondary cancel" data-key="' + esc(item.key) + '">' + esc(T.cancel_withdrawal) + "</button>";
      }
      if (item.state === "fix") {
        if (item.kind !== "withdrawal") {
          actions += '<a class="button primary fix" href="/counter/member/' + encodeURIComponent(item.member_no) +
                     "/deposit#fix=" + esc(item.key) + '">' + esc(T.fix) + "</a>";
        }
        if (resendable(item.error && item.error.code)) {
          actions += '<button type="button" class="secondary resend" data-key="' + esc(item.key) + '">' + esc(T.resend) + "</button>";
        }
        actions += '<button type="button" class="secondary dismiss" data-key="' + esc(item.key) + '">' + esc(T.remove) + "</button>";
      }
      parts.push('<li class="outbox-item ' + item.state + '" data-key="' + esc(item.key) + '">' +
        // The member number is one unit (never "RW05-" / "0005", tester): the name wraps instead.
        '<div class="what"><span class="who"><span class="who-name">' + esc(item.member_name || item.member_no) + "</span> · " +
        '<span class="who-no">' + esc(item.member_no) + "</span></span><span class=\"muted\">" + esc(kind) + " · " + esc(localTime(item.captured_at)) + ' · <span class="amount">' + esc(amountOf(item)) + "</span>" +
        (item.kind !== "withdrawal" ? ' · <span class="slip-code">' + esc(T.key) + " " + esc(slipCode(item.key)) + "</span>" : "") +
        '</span></div><strong class="state">' + esc(label) + "</strong>" +
        (item.state === "fix" && item.error ? '<p class="error reason">' + esc(
          item.kind === "withdrawal" && item.error.code === "day_closed" && ctx.dayClosed === false
            ? T.reopened_withdrawal : item.error.reason) + "</p>" : "") +
        (handOverDue(item) ? '<p class="error reason hand-over">' + esc(fill(T.hand_over, {
          member: item.member_name || item.member_no, total: amountOf(item), receipt: item.response.receipt_no || "" })) + "</p>" : "") +
        // While the session has ended every queued item waits for the login, tried or not.
        (item.state === "queued" && (item.last_error || sync.status.auth)
          ? '<p class="muted reason">' + esc(T[retryMessage(item.last_code, navigator.onLine, sync.status.auth)]) + "</p>"
          : "") +
        (actions ? '<div class="actions">' + actions + "</div>" : "") + "</li>");
    }
    parts.push("</ul>");
    if (sentToday.length > 3) {
      parts.push('<p class="muted" id="outbox-more">' + esc(fill(T.more_sent, { count: sentToday.length - 3 })) + "</p>");
    }
    // Nothing can go while the session has ended (only "Masuk lagi" helps): no "Kirim sekarang"
    // then; the next page after the login has it again while something waits.
    // Nor offline: a tap did nothing visible (a tester); the notice above says it goes by itself.
    if (queued && !sync.status.auth && navigator.onLine) {
      parts.push('<button type="button" class="primary" id="outbox-sync">' + esc(T.send_now) + "</button>");
    }
  }
  draw(parts.join(""));
}

// The list is drawn again only when it changed: drawing replaces every button, and with it the
// focus and a press in progress on one.
let drawn = null;
function draw(html) {
  if (html === drawn && host.innerHTML === html) { return; }
  host.innerHTML = html;
  drawn = host.innerHTML;
  // The page below moved (withdraw.js keeps its fresh answer in sight).
  window.dispatchEvent(new Event("wastebank:panel-drawn"));
}

async function onClick(event) {
  const target = event.target.closest("button");
  if (!target) { return; }
  if (target.id === "outbox-sync") { sync.kick(0); return; }
  const key = target.dataset.key;
  if (target.classList.contains("resend")) {
    const item = await store.getItem(key);
    if (!item) { return; }
    // A withdrawal is paid the moment it is recorded: only with the member still at the counter.
    if (item.kind === "withdrawal" &&
        !window.confirm(fill(T.confirm_resend_withdrawal, { member: item.member_name || item.member_no, total: amountOf(item) }))) {
      return;
    }
    await sync.resend(key);
    return;
  }
  if (target.classList.contains("slip")) { showSlip(await store.getItem(key)); return; }
  if (target.classList.contains("handed")) {
    await store.updateItem(key, (item) => Object.assign(item, { seen: true }));
    render();
    return;
  }
  if (target.classList.contains("cancel")) {
    const item = await store.getItem(key);
    if (!item) { return; }
    const text = item.maybe_arrived ? T.confirm_cancel_withdrawal_maybe : T.confirm_cancel_withdrawal;
    if (window.confirm(fill(text, { member: item.member_name || item.member_no, total: amountOf(item) })) &&
        !(await sync.cancel(key))) {
      // Another tab started sending it while the question was open (a tester): say so.
      window.alert(T.cancel_too_late);
    }
    return;
  }
  if (target.classList.contains("dismiss")) {
    const item = await store.getItem(key);
    if (!item) { return; }
    if (window.confirm(fill(T.confirm_remove, { member: item.member_name || item.member_no, total: amountOf(item) }))) {
      await sync.remove(key);
    }
  }
}

/**
 * The provisional slip of a queued deposit (SEMENTARA): member, lines, total and the item's
 * key; the receipt number comes after the sync. Shown in a dialog that can be printed.
 */
export function showSlip(item) {
  if (!item) { return; }
  let dialog = document.getElementById("slip-dialog");
  if (!dialog) {
    dialog = document.createElement("dialog");
    dialog.id = "slip-dialog";
    document.body.appendChild(dialog);
  }
  const est = item.estimate || { lines: [], total_idr: 0, fee_idr: 0, credited_idr: 0 };
  const rows = (est.lines || []).map((line) => "<tr><td>" + esc(line.name || line.category) + "<br><span class=\"muted\">" +
    esc(line.quantity_text) + " × " + esc(formatIdr(line.unit_price_idr, ctx.locale)) + (line.unit ? "/" + esc(line.unit) : "") + "</span></td><td class=\"num\">" +
    esc(formatIdr(line.amount_idr, ctx.locale)) + "</td></tr>").join("");
  dialog.innerHTML = '<div class="slip" id="provisional-slip"><p class="stamp">' + esc(T.provisional) + "</p>" +
    "<h2>" + esc(ctx.unitName || "") + "</h2><p>" + esc(item.member_name) + " · " + esc(item.member_no) + "<br>" +
    esc(localTime(item.captured_at)) + "</p><table>" + rows +
    "<tr><th>" + esc(T.total) + '</th><th class="num">' + esc(formatIdr(est.total_idr, ctx.locale)) + "</th></tr>" +
    (est.fee_idr ? "<tr><td>" + esc(T.fee) + '</td><td class="num">−' + esc(formatIdr(est.fee_idr, ctx.locale)) + "</td></tr>" : "") +
    "<tr><th>" + esc(T.credited) + '</th><th class="num" id="slip-credited">' + esc(formatIdr(est.credited_idr, ctx.locale)) + "</th></tr></table>" +
    '<p class="muted">' + esc(T.provisional_note) + "</p><p class=\"key\">" + esc(T.key) + ": <strong>" + esc(slipCode(item.key)) + "</strong></p></div>" +
    '<div class="row two"><button type="button" class="secondary" id="slip-close">' + esc(T.close) + "</button>" +
    '<button type="button" class="primary" id="slip-print">' + esc(T.print) + "</button></div>";
  dialog.querySelector("#slip-close").addEventListener("click", () => dialog.close());
  dialog.querySelector("#slip-print").addEventListener("click", () => window.print());
  if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
}
