// The find screen offline: a member number as operators type it, a name or a scanned card is
// looked up in the tablet's copy of the unit's members (members.js), and the member's deposit
// screen opens from the service worker's shell page. Online, the server answers as before.
import { searchMembers } from "./members.js";
import { formatReceiptTime } from "./outbox-core.js";
import { servedList } from "./served-core.js";
import * as store from "./store.js";
import * as sync from "./sync.js";

let T = {};
let ctx = {};

function esc(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function depositUrl(memberNo) { return "/counter/member/" + encodeURIComponent(memberNo) + "/deposit"; }

/** Look `text` up locally; open the member or list the matches. Returns true if handled. */
async function findLocally(text) {
  const snap = await sync.snapshot();
  const note = document.getElementById("find-offline");
  const list = document.getElementById("local-results");
  if (!snap) { return false; }
  note.hidden = false;
  note.textContent = T.searching_offline;
  const found = await searchMembers(snap.members, text, snap.unit.code, { limit: 20 });
  if (found.exact) {
    location.assign(depositUrl(found.exact.member_no));
    return true;
  }
  list.hidden = false;
  list.innerHTML = found.results.length ? found.results.map((m) =>
    '<li><a class="result" href="' + esc(depositUrl(m.member_no)) + '"><span class="name">' + esc(m.name) +
    '</span><span class="muted">' + esc(m.member_no) + (m.rt ? " · RT " + esc(m.rt) : "") + "</span></a></li>").join("")
    : '<li class="error">' + esc(T.no_results.replace("{q}", text)) + "</li>";
  return true;
}

/**
 * "Dilayani hari ini" lists what the server recorded when the page was drawn; a deposit saved on
 * this tablet and not sent yet (offline, or the server slow) is not there (tester item 8). The
 * list is drawn again from the server's entries and this operator's deposits captured today in
 * the tablet's queue whenever the queue changes (served-core servedList): "belum terkirim"
 * while unsent, "perlu diperbaiki" when the server refused one (as the queue says), and
 * "terkirim · <receipt>" once the server has it — at once, without a reload (a tester saw
 * "belum terkirim" stay after the deposit was sent). Each member once.
 */
let serverServed = null;

/** The server's entries as the page came: [{member_no, name, at, time, href}], newest first. */
function readServerServed(section) {
  return Array.from(section.querySelectorAll("a.result[data-member-no]"), (a) => {
    const stamp = a.querySelector("time");
    return { member_no: a.dataset.memberNo, name: (a.querySelector(".name") || a).textContent,
             at: stamp ? stamp.getAttribute("datetime") : "", time: stamp ? stamp.textContent : "",
             href: a.getAttribute("href") };
  });
}

let drawing = 0;
async function drawServed() {
  const section = document.querySelector(".served-today");
  if (!section) { return; }
  if (!serverServed) { serverServed = readServerServed(section); }
  const turn = ++drawing;
  const day = (date) => formatReceiptTime(date, ctx.timeZone, ctx.zoneName).split(" ")[0];
  const clock = (iso) => formatReceiptTime(new Date(iso), ctx.timeZone, ctx.zoneName, ctx.locale).split(" ").slice(1).join(" ");
  const today = day(new Date());
  const items = (await store.allItems()).filter((item) => item.username === ctx.username && item.kind !== "withdrawal" &&
                                                       day(new Date(item.captured_at)) === today);
  if (turn !== drawing) { return; }   // a newer drawing started meanwhile: it shows the newer state
  if (!items.length && !section.querySelector("[data-from], .served-mark")) { return; }   // as the server drew it
  const entries = servedList(serverServed, items);
  let list = document.getElementById("served-today");
  if (!list) {
    list = document.createElement("ul");
    list.className = "results";
    list.id = "served-today";
    section.appendChild(list);
  }
  list.innerHTML = entries.map((entry) => {
    const server = entry.server;
    const time = server && server.at === entry.at ? server.time : clock(entry.at);
    return '<li><a class="result" href="' + esc(server ? server.href : depositUrl(entry.member_no)) + '" data-member-no="' +
      esc(entry.member_no) + '"' + (server ? "" : ' data-from="tablet"') + '><span class="name">' + esc(entry.name) +
      '</span><span class="muted">' + esc(entry.member_no) + ' · <time datetime="' + esc(entry.at) + '">' + esc(time) +
      "</time>" + servedMarkHtml(entry) + "</span></a></li>";
  }).join("");
  list.hidden = !entries.length;
  const empty = document.getElementById("served-today-empty");
  if (empty) { empty.hidden = entries.length > 0; }
}

// The queue changes every few milliseconds while it drains: draw at most every 150 ms.
let pendingDraw = null;
function scheduleDraw() {
  if (pendingDraw) { return; }
  pendingDraw = setTimeout(() => { pendingDraw = null; drawServed().catch((error) => console.error(error)); }, 150);
}

/** " · belum terkirim", " · perlu diperbaiki" or " · terkirim · RW05-2026-000123" (served-core markOf). */
function servedMarkHtml(entry) {
  if (entry.mark === "sent") {
    return ' · <span class="served-mark sent">' + esc(T.state_synced + (entry.receipt_no ? " · " + entry.receipt_no : "")) + "</span>";
  }
  if (!entry.mark) { return ""; }
  return ' · <span class="served-mark unsent' + (entry.mark === "fix" ? " fix" : "") + '">' +
    esc(entry.mark === "fix" ? T.state_fix : T.not_sent_yet) + "</span>";
}

/** Wire the find form: offline (or when this page is the service worker's kept copy), search here. */
export async function init(context, i18n) {
  ctx = context;
  T = i18n;
  await drawServed().catch((error) => console.error(error));
  sync.onChange(scheduleDraw);
  const form = document.getElementById("find-form");
  const input = form.querySelector('input[name="q"]');
  form.addEventListener("submit", async (event) => {
    const text = input.value.trim();
    if (!text || navigator.onLine) { return; }
    event.preventDefault();
    await findLocally(text);
  });
  // Served from the cache for /counter?q=…: the server never saw the query, so answer it here.
  const asked = new URLSearchParams(location.search).get("q") || "";
  if (asked && asked !== form.dataset.q) {
    input.value = asked;
    await findLocally(asked);
  }
}
