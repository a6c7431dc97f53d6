// The find screen offline: a member number as operators type it, a name or a scanned card is
// looked up in the tablet's copy of the unit's members (members.js), and the member's deposit
// screen opens from the service worker's shell page. Online, the server answers as before.
import { searchMembers } from "./members.js";
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

/** Wire the find form: offline (or when this page is the service worker's kept copy), search here. */
export async function init(context, i18n) {
  ctx = context;
  T = i18n;
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
