// The find screen offline: a member number as operators type it, a name or a scanned card is
// looked up in the tablet's copy of the unit's members (members.js), and the member's deposit
// screen opens from the service worker's shell page. Online, the server answers as before.
import { searchMembers } from "./members.js";
import { formatReceiptTime, servedMark } from "./outbox-core.js";
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
 * "Dilayani hari ini" lists what the server recorded; a deposit saved on this tablet and not
 * sent yet (offline, or the server slow) is not there (tester item 8). Add the members of this
 * operator's deposits captured today from the tablet's queue, newest first: marked "belum
 * terkirim" while unsent, "perlu diperbaiki" when the server refused one (as the queue says;
 * outbox-core servedMark), and each member once (a member the server already lists only gets
 * the mark when another of their deposits still waits or was refused).
 */
async function servedFromQueue() {
  const section = document.querySelector(".served-today");
  if (!section) { return; }
  const day = (date) => formatReceiptTime(date, ctx.timeZone, ctx.zoneName).split(" ")[0];
  const today = day(new Date());
  const items = (await store.allItems()).filter((item) => item.username === ctx.username && item.kind !== "withdrawal" &&
                                                       day(new Date(item.captured_at)) === today);
  if (!items.length) { return; }
  let list = document.getElementById("served-today");
  const listed = new Map(Array.from(section.querySelectorAll("a.result[data-member-no]"), (a) => [a.dataset.memberNo, a]));
  const added = [];
  const moved = [];
  // One mark per member from all of their deposits today: a refused one says so first.
  const marks = new Map();
  for (const item of items) { marks.set(item.member_no, (marks.get(item.member_no) || []).concat([item])); }
  marks.forEach((list, memberNo) => marks.set(memberNo, servedMark(list)));
  // Newest first, as the server's list; one entry per member.
  for (const item of items.slice().sort((a, b) => (a.captured_at < b.captured_at ? 1 : -1))) {
    const unsent = item.state !== "synced";
    const mark = marks.get(item.member_no);
    const known = listed.get(item.member_no);
    const time = formatReceiptTime(new Date(item.captured_at), ctx.timeZone, ctx.zoneName).split(" ").slice(1).join(" ");
    if (known) {
      // Served again, not sent yet: the server's entry moves to the top with this capture's time.
      if (unsent && known !== true && !known.querySelector(".unsent")) {
        const stamp = known.querySelector("time");
        if (stamp) { stamp.textContent = time; stamp.setAttribute("datetime", item.captured_at); }
        known.querySelector(".muted").insertAdjacentHTML("beforeend", unsentMark(mark));
        moved.push(known.closest("li"));
      }
      continue;
    }
    const html = '<li><a class="result" href="' + esc(depositUrl(item.member_no)) + '" data-member-no="' + esc(item.member_no) +
      '" data-from="tablet"><span class="name">' + esc(item.member_name || item.member_no) + '</span><span class="muted">' +
      esc(item.member_no) + ' · <time datetime="' + esc(item.captured_at) + '">' + esc(time) + "</time>" +
      (mark ? unsentMark(mark) : "") + "</span></a></li>";
    added.push(html);
    listed.set(item.member_no, true);
  }
  if (!added.length && !moved.length) { return; }
  if (!list) {
    list = document.createElement("ul");
    list.className = "results";
    list.id = "served-today";
    section.appendChild(list);
    const empty = document.getElementById("served-today-empty");
    if (empty) { empty.hidden = true; }
  }
  moved.reverse().forEach((li) => list.insertBefore(li, list.firstChild));
  list.insertAdjacentHTML("afterbegin", added.join(""));
}

/** " · belum terkirim", or " · perlu diperbaiki" for a refused deposit (`mark` of servedMark). */
function unsentMark(mark) {
  return ' · <span class="unsent' + (mark === "fix" ? " fix" : "") + '">' + esc(mark === "fix" ? T.state_fix : T.not_sent_yet) + "</span>";
}

/** Wire the find form: offline (or when this page is the service worker's kept copy), search here. */
export async function init(context, i18n) {
  ctx = context;
  T = i18n;
  await servedFromQueue().catch((error) => console.error(error));
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
