// The cancelled withdrawals under the outbox panel, on every counter page (cancel-core.js):
// "dibatalkan — memeriksa server…" while the server is asked, then what it said. A withdrawal
// the server had recorded stays, naming its receipt, amount and member, until tapped as seen:
// a unit manager must void it (the member's savings went down for cash never handed over).
import { formatIdr } from "./money.js";
import { cancelNotice, visibleRecords } from "./cancel-core.js";
import * as sync from "./sync.js";

let T = {};
let ctx = {};
let host = null;

function esc(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

/** Mount the list right after the outbox panel (panel.js) and keep it current. */
export function mount(i18n, context) {
  T = i18n;
  ctx = context;
  const main = document.querySelector("main");
  if (!main) { return; }
  host = document.createElement("section");
  host.id = "outbox-cancelled";
  host.setAttribute("aria-live", "polite");
  // Right after the panel wherever the page puts it: the offline page holds it inside a card, and
  // main.insertBefore(host, panel.nextSibling) threw there, which stopped app.js before the sender
  // started (the C16 test's reload while offline lands on that page about half the time).
  const panel = document.getElementById("outbox-panel");
  if (panel) { panel.after(host); } else { main.insertBefore(host, main.firstChild); }
  host.addEventListener("click", onClick);
  sync.onChange(scheduleRender);
  window.addEventListener("online", scheduleRender);
  window.addEventListener("offline", scheduleRender);
  render();
}

let pending = null;
function scheduleRender() {
  if (pending) { return; }
  pending = setTimeout(() => { pending = null; render(); }, 150);
}

async function render() {
  if (!host) { return; }
  const records = visibleRecords(await sync.cancelledRecords());
  if (!records.length) { host.innerHTML = ""; host.className = ""; return; }
  // A record without a whole amount (an older version's) shows none: formatIdr throws on it, and one
  // such record must not blank the others' notices.
  const money = (idr) => (Number.isSafeInteger(idr) ? formatIdr(idr, ctx.locale) : "");
  const alarm = records.some((r) => r.check === "recorded");
  host.className = "outbox card cancelled-withdrawals" + (alarm ? " alarm" : records.some((r) => r.check === "checking") ? " waiting" : "");
  const parts = ["<h2>" + esc(T.cancel_title) + "</h2>", "<ul>"];
  for (const record of records) {
    const notice = cancelNotice(T, record, money, ctx.username);
    let actions = "";
    if (record.check === "recorded" && record.result && record.result.id) {
      actions += '<a class="button secondary receipt-link" href="/counter/withdrawal/' + esc(record.result.id) + '">' +
        esc(T.receipt) + "</a>";
    }
    if (notice.action === "seen") {
      actions += '<button type="button" class="primary seen" data-key="' + esc(record.key) + '">' + esc(T.cancel_seen) + "</button>";
    } else if (notice.action === "dismiss") {
      actions += '<button type="button" class="secondary dismiss" data-key="' + esc(record.key) + '">' + esc(T.close) + "</button>";
    }
    const retry = notice.other ? "" : record.check === "checking" && record.last_code
      ? '<p class="muted reason">' + esc(navigator.onLine && record.last_code !== "offline" ? T.retrying : T.retrying_offline) + "</p>"
      : record.check === "checking" && !navigator.onLine ? '<p class="muted reason">' + esc(T.retrying_offline) + "</p>" : "";
    parts.push('<li class="cancelled-item ' + esc(record.check) + '" data-key="' + esc(record.key) + '">' +
      '<div class="what"><span class="who"><span class="who-name">' + esc(record.member_name || record.member_no) + "</span> · " +
      '<span class="who-no">' + esc(record.member_no) + '</span></span><span class="muted">' + esc(T.kind_withdrawal) + " · " +
      '<span class="amount">' + esc(money(record.amount_idr)) + "</span></span></div>" +
      '<strong class="state">' + esc(notice.state) + "</strong>" +
      '<p class="' + (notice.tone === "alarm" ? "error reason cancel-notice" : "reason cancel-notice") + '">' + esc(notice.text) + "</p>" +
      retry + (actions ? '<div class="actions">' + actions + "</div>" : "") + "</li>");
  }
  parts.push("</ul>");
  host.innerHTML = parts.join("");
}

async function onClick(event) {
  const target = event.target.closest("button");
  if (!target || !target.dataset.key) { return; }
  if (target.classList.contains("seen") || target.classList.contains("dismiss")) {
    await sync.closeCancelled(target.dataset.key);
    render();
  }
}
