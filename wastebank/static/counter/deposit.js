// The deposit screen (setoran): tap a tile, type the weight, check with the member, save.
// Line values come from money.js, the same rules as wastebank/money.py (shared test vectors).
// "Simpan setoran" writes the deposit to the outbox first, then the outbox sends it through
// the JSON API with its idempotency key: a failed network never loses a confirmed deposit and
// never shows the browser's error page. Works offline from the tablet's snapshot.
import { formatIdr, formatQuantity, messageFor, parseQuantity, quoteLines } from "./money.js";
import { isoWithOffset, newKey, pendingNote, retryMessage } from "./outbox-core.js";
import { showSlip } from "./panel.js";
import { inputText } from "./scale.js";
import * as scale from "./scale-port.js";
import * as store from "./store.js";
import * as sync from "./sync.js";
import { byId, netOf, tareText } from "./tare.js";

// Sub-unit a line's unit button switches to.
const SMALL = { kg: "g", L: "ml" };
// How long the screen waits for the server's answer before it tells the operator the deposit
// is kept on the tablet and moves on (the outbox keeps trying).
const WAIT_FOR_ANSWER_MS = 12000;

let data = null;
let T = {};
let M = {};
let ctx = {};
let form, body, template, totalCell, confirmPanel, resultPanel;
let fixing = null;   // the refused outbox item being corrected, if any
let member = null;   // {member_no, name, balance_idr}
let prices = {};     // CODE → {name, unit, buy_price_idr, max_line_milli, material_group}
let order = [];
let containers = {}; // container id (text) → {id, name, tare_g}: the unit's, for the tare (docs/tare.md)
let containerList = [];
let lastQuantity = null; // the quantity box the operator was in: where "Timbang" puts the weight

function readJson(id) {
  const node = document.getElementById(id);
  return node ? JSON.parse(node.textContent) : null;
}

function esc(text) {
  return String(text == null ? "" : text).replace(/[&<>"']/g, (c) => (
    { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

/** Start the screen: server data when online, else the tablet's snapshot (shell page). */
export async function init(context, i18n) {
  ctx = context;
  T = i18n;
  form = document.getElementById("deposit-form");
  body = document.getElementById("lines");
  template = document.getElementById("line-template");
  totalCell = document.getElementById("total");
  confirmPanel = document.getElementById("confirm-panel");
  resultPanel = document.getElementById("result-panel");
  data = readJson("deposit-data");
  M = data.messages;
  const snap = await sync.snapshot();
  const memberNo = decodeURIComponent((location.pathname.match(/\/counter\/member\/([^/]+)\/deposit/) || [])[1] || "");
  if (data.member) {
    member = data.member;
    prices = data.prices;
    order = data.order;
    containerList = data.containers || [];
  } else if (snap) {
    fromSnapshot(snap, memberNo);
  }
  if (!member) {
    showUnavailable(memberNo);
    return;
  }
  containers = byId(containerList);
  if (!data.member) { renderShell(); }
  wire();
  // A deposit of this member synced (from this tab or another): show the server's balance.
  sync.onChange(async () => {
    const mine = (await store.allItems()).filter((item) => item.state === "synced" && item.member_no === member.member_no &&
                                                            item.response && typeof item.response.balance_idr === "number");
    if (mine.length) { showBalance(mine[mine.length - 1].response.balance_idr); }
  });
  // Deposits of this member still waiting on the tablet: say so before anyone weighs again,
  // and keep saying it only while it is true (the queue sends them while the screen is open).
  sync.onChange(showPending);
  await showPending();
  if (location.hash.indexOf("#fix=") === 0) { await loadFix(location.hash.slice(5)); }
  // The panel's "Perbaiki" on this member's own screen only changes the hash.
  window.addEventListener("hashchange", () => {
    if (location.hash.indexOf("#fix=") === 0) { loadFix(location.hash.slice(5)); }
  });
  update();
  form.dataset.ready = "1";
}

// Each showPending() reads the outbox afresh; only the latest read may write the note, so a
// slow read started before a send cannot bring back a note the next read already took away.
let pendingRead = 0;
// Deposits saved from this screen since it opened: the result panel reports them (kept, sent
// or refused), so the note does not repeat them, nor flash up while a save is on its way.
const savedHere = new Set();

/**
 * The note above the tiles: "1 setoran nasabah ini (Rp 4.875) tersimpan di tablet dan belum
 * terkirim: jangan ditimbang ulang." while deposits of this member wait in the outbox (queued
 * or being sent), with their count and total; "… ditolak server dan menunggu diperbaiki: …"
 * for ones the server refused (correcting one later sends it: weighing again would pay twice);
 * both together in one sentence (outbox-core pendingNote). Hidden once none is left.
 * Deposits saved from this screen since it opened are left to the result panel, and the one
 * being corrected here (#fix=) to the correction's own note.
 * Called at start and on every outbox change (sync.onChange, any tab).
 */
async function showPending() {
  const read = ++pendingRead;
  const skip = new Set(savedHere);
  if (fixing) { skip.add(fixing.key); }
  const text = pendingNote(T, await store.allItems(), member.member_no, skip, (idr) => formatIdr(idr, ctx.locale));
  if (read !== pendingRead) { return; }
  const note = document.getElementById("deposit-pending");
  if (!note) { return; }
  note.textContent = text;
  note.hidden = !text;
}

function fromSnapshot(snap, memberNo) {
  const wanted = memberNo.toUpperCase();
  const found = snap.members.find((m) => m.member_no.toUpperCase() === wanted);
  if (found) { member = { member_no: found.member_no, name: found.name, balance_idr: found.balance_idr, rt: found.rt, rw: found.rw }; }
  data.fee_bp = snap.unit.fee_bp;
  prices = {};
  order = [];
  for (const row of snap.prices) {
    prices[row.category] = { name: ctx.locale === "en" ? row.name_en : row.name_id, unit: row.unit,
                             buy_price_idr: row.buy_price_idr, max_line_milli: row.max_line_milli,
                             material_group: row.material_group };
    order.push(row.category);
  }
  containerList = snap.containers || [];
}

function showUnavailable(memberNo) {
  form.hidden = true;
  const note = document.createElement("p");
  note.className = "error";
  note.id = "deposit-unavailable";
  note.textContent = T.member_unknown_offline.replace("{member}", memberNo);
  form.parentNode.insertBefore(note, form);
}

/** The shell page (served offline) has no member or tiles: draw them from the snapshot. */
function renderShell() {
  document.title = T.new_deposit + " · " + member.name;
  const head = document.querySelector(".member-head");
  if (head) {
    head.querySelector("h1").textContent = member.name;
    head.querySelector(".member-no").textContent = member.member_no + (member.rt ? " · RT " + member.rt + "/RW " + member.rw : "");
  }
  const tiles = form.querySelector(".tiles");
  tiles.innerHTML = order.map((code) => {
    const p = prices[code];
    return '<button type="button" class="tile group-' + esc(p.material_group) + '" data-code="' + esc(code) + '">' +
      '<span class="tname">' + esc(p.name) + '</span><span class="tprice">' + esc(formatIdr(p.buy_price_idr, ctx.locale)) +
      "/" + esc(p.unit) + "</span></button>";
  }).join("");
  const options = '<option value="">' + esc(T.choose) + "</option>" + order.map((code) =>
    '<option value="' + esc(code) + '" data-price="' + prices[code].buy_price_idr + '" data-unit="' + esc(prices[code].unit) + '">' +
    esc(prices[code].name) + "</option>").join("");
  body.querySelectorAll("select.cat").forEach((select) => { select.innerHTML = options; });
  template.innerHTML = template.innerHTML.replace(/<select([^>]*)>[\s\S]*?<\/select>/, "<select$1>" + options + "</select>");
  // The containers as the snapshot has them (the shell page may be older than the snapshot).
  const boxes = '<option value="">' + esc(T.no_container) + "</option>" + containerList.map((c) =>
    '<option value="' + esc(c.id) + '" data-tare="' + c.tare_g + '">' + esc(c.name) + " −" +
    esc(formatQuantity(c.tare_g, "kg", ctx.locale)) + "</option>").join("");
  const fill = (select) => { select.innerHTML = boxes; select.hidden = !containerList.length; };
  body.querySelectorAll("select.container").forEach(fill);
  template.innerHTML = template.innerHTML.replace(/(<select[^>]*class="container"[^>]*>)[\s\S]*?<\/select>/, (m, open) =>
    open.replace(/ hidden(="")?/, containerList.length ? "" : " hidden") + boxes + "</select>");
  const back = document.getElementById("deposit-back");
  if (back) { back.href = "/counter"; }
  showBalance(member.balance_idr);
}

function showBalance(value) {
  const cell = document.getElementById("balance");
  if (cell && typeof value === "number") { cell.textContent = formatIdr(value, ctx.locale); }
}

function rows() { return Array.prototype.slice.call(body.querySelectorAll("tr.line")); }

/** The row's category code, its typed text as the server will read it, and its unit. */
function readRow(row) {
  const code = row.querySelector("select.cat").value;
  const price = prices[code];
  const unit = price ? price.unit : "";
  const toggle = row.querySelector(".unit");
  const typed = row.querySelector("input.quantity").value.trim();
  const hasSuffix = /[a-z]\s*$/i.test(typed);
  const small = toggle.dataset.small === "1" && SMALL[unit] && !hasSuffix;
  const select = row.querySelector("select.container");
  // A container only for kg lines: its weight is grams (docs/tare.md).
  const container = select && unit === "kg" ? containers[select.value] || null : null;
  return { code: code, unit: unit, typed: typed, hasSuffix: hasSuffix, small: small, container: container,
           text: small && typed ? typed + " " + SMALL[unit] : typed };
}

/** The typed text as the net for the quote: the gross minus the container, or an error. */
function netRow(r, price) {
  const parsed = parseQuantity(r.text, r.unit, price.max_line_milli + (r.container ? r.container.tare_g : 0), ctx.locale);
  if (!parsed.ok || !r.container) { return { parsed: parsed, text: r.text, gross: parsed.ok ? parsed.milli : null }; }
  const net = netOf(parsed.milli, r.container, ctx.locale);
  if (!net.ok) { return { parsed: net, gross: parsed.milli }; }
  return { parsed: { ok: true, milli: net.milli }, text: canonical(net.milli), gross: parsed.milli };
}

function rowError(row, message) {
  let node = row.querySelector("p.live");
  if (!node) {
    node = document.createElement("p");
    node.className = "error live";
    node.setAttribute("role", "alert");
    row.querySelector(".qty").parentNode.appendChild(node);
  }
  const shown = !node.hidden && node.textContent === (message || "");
  node.textContent = message || "";
  node.hidden = !message;
  row.classList.toggle("has-error", !!message);
  // A new message under the line being typed in may run under the sticky total bar (the last
  // line, tester item 3): bring all of it above the bar (the root's scroll-padding-bottom).
  if (message && !shown && node.scrollIntoView && row.contains(document.activeElement)) {
    node.scrollIntoView({ block: "nearest" });
  }
}

/** Recompute every line as the operator types; validation messages are the server's own. */
function update() {
  let total = 0;
  for (const row of rows()) {
    const r = readRow(row);
    const price = prices[r.code];
    const toggle = row.querySelector(".unit");
    if (!SMALL[r.unit]) { toggle.dataset.small = ""; }
    toggle.textContent = r.hasSuffix ? "" : (r.small ? SMALL[r.unit] : r.unit);
    toggle.disabled = !SMALL[r.unit] || r.hasSuffix;
    row.querySelector(".price").textContent = price ? formatIdr(price.buy_price_idr, ctx.locale) + "/" + r.unit : "";
    const select = row.querySelector("select.container");
    if (select) {
      const kg = !price || r.unit === "kg";
      select.hidden = !containerList.length || !kg;
      if (!kg) { select.value = ""; }
    }
    const netNote = row.querySelector("p.net");
    if (netNote) { netNote.hidden = true; }
    const amountCell = row.querySelector(".amount");
    amountCell.textContent = "";
    if (!r.typed) { rowError(row, ""); continue; }
    if (!price) { rowError(row, M.no_category); continue; }
    const weighed = netRow(r, price);
    const parsed = weighed.parsed;
    if (!parsed.ok) {
      // A number still being typed ("1," or "") is not an error yet; everything else is.
      rowError(row, /[.,]$/.test(r.typed) ? "" : messageFor(parsed, M));
      continue;
    }
    rowError(row, "");
    if (r.container && netNote) {
      netNote.textContent = tareText(M.tare_text, weighed.gross, r.container, ctx.locale);
      netNote.hidden = false;
    }
    const quoted = quoteLines([{ category: r.code, quantity: weighed.text }], pricesForQuote(), 0, 0);
    if (quoted.lines.length) {
      amountCell.textContent = formatIdr(quoted.lines[0].amount_idr, ctx.locale);
      total += quoted.lines[0].amount_idr;
    } else {
      const err = quoted.errors["lines.0.quantity"];
      if (err) { rowError(row, messageFor(err, M)); }
    }
  }
  totalCell.textContent = formatIdr(total, ctx.locale);
}

function pricesForQuote() {
  const out = {};
  for (const code of Object.keys(prices)) {
    out[code] = { unit: prices[code].unit, buy_price_idr: prices[code].buy_price_idr, max_line_milli: prices[code].max_line_milli };
  }
  return out;
}

function addRow(code) {
  // A tile whose category already has a line focuses that line instead of adding a twin.
  const existing = rows().find((row) => row.querySelector("select.cat").value === code);
  if (existing) {
    existing.querySelector("input.quantity").focus();
    return existing;
  }
  const all = rows();
  const last = all[all.length - 1];
  let target;
  if (last && !last.querySelector("select.cat").value && !last.querySelector("input.quantity").value) {
    target = last;
  } else {
    const index = all.reduce((max, r) => Math.max(max, parseInt(r.dataset.index, 10) + 1), 0);
    const holder = document.createElement("tbody");
    holder.innerHTML = template.innerHTML.replace(/__i__/g, String(index)).trim();
    target = holder.firstElementChild;
    body.appendChild(target);
  }
  target.querySelector("select.cat").value = code;
  update();
  target.querySelector("input.quantity").focus();
  return target;
}

function clearLines() {
  rows().forEach((row, index) => {
    if (index > 0) { row.remove(); return; }
    row.querySelector("select.cat").value = "";
    row.querySelector("input.quantity").value = "";
    row.querySelector(".unit").dataset.small = "";
    const select = row.querySelector("select.container");
    if (select) { select.value = ""; }
  });
  update();
}

function wire() {
  form.querySelector(".tiles").addEventListener("click", (event) => {
    const tile = event.target.closest(".tile");
    if (tile) { addRow(tile.dataset.code); }
  });
  body.addEventListener("input", update);
  body.addEventListener("change", update);
  body.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) { return; }
    if (button.classList.contains("unit")) {
      button.dataset.small = button.dataset.small === "1" ? "" : "1";
      update();
      button.closest("tr.line").querySelector("input.quantity").focus();
    } else if (button.classList.contains("remove")) {
      const row = button.closest("tr.line");
      if (rows().length > 1) { row.remove(); } else {
        row.querySelector("select.cat").value = "";
        row.querySelector("input.quantity").value = "";
      }
      update();
    }
  });
  body.addEventListener("focusin", (event) => {
    if (event.target.matches("input.quantity")) { lastQuantity = event.target; }
  });
  wireScale();
  // The check step happens here, on the tablet: no form POST, so no error page can appear.
  form.addEventListener("submit", (event) => { event.preventDefault(); review(); });
  document.getElementById("edit").addEventListener("click", () => {
    confirmPanel.hidden = true;
    form.hidden = false;
  });
  document.getElementById("save").addEventListener("click", save);
}

/** The line "Timbang" fills: the quantity box last focused, else the last line with a category. */
function scaleTarget() {
  if (lastQuantity && body.contains(lastQuantity)) { return lastQuantity.closest("tr.line"); }
  const chosen = rows().filter((row) => row.querySelector("select.cat").value);
  return chosen.length ? chosen[chosen.length - 1] : null;
}

/** The "Timbang" button (docs/scale.md): shown only where the browser has Web Serial; a stable
 * weight goes into the line as typed text ("1,5"), so typing over it still works. */
function wireScale() {
  const bar = document.getElementById("scale-bar");
  const button = document.getElementById("scale-read");
  const status = document.getElementById("scale-status");
  if (!bar || !button || !scale.available()) { return; }
  bar.hidden = false;
  const say = (text) => { status.textContent = text; };
  const weight = (milli) => inputText(milli, ctx.locale) + " kg";
  button.addEventListener("click", async () => {
    const row = scaleTarget();
    if (!row) { say(T.scale_no_line); return; }
    const price = prices[row.querySelector("select.cat").value];
    if (price && price.unit !== "kg") { say(T.scale_not_kg.replace("{unit}", price.unit)); return; }
    button.disabled = true;
    say(T.scale_waiting);
    const answer = await scale.readStableWeight({
      onReading: (reading) => {
        if (reading.overload) { say(T.scale_overload); } else if (!reading.negative) { say(T.scale_unstable.replace("{weight}", weight(reading.milli))); }
      },
    });
    button.disabled = false;
    if (answer.error) { say(T["scale_" + answer.error] || answer.error); return; }
    const input = row.querySelector("input.quantity");
    row.querySelector(".unit").dataset.small = "";   // the text is kilograms
    input.value = inputText(answer.reading.milli, ctx.locale);
    update();
    say(T.scale_taken.replace("{weight}", weight(answer.reading.milli)));
    input.focus();
  });
}

/** The lines as the API takes them, and the quote the member is shown. */
function currentQuote() {
  const lines = [];
  const rowsUsed = [];
  for (const row of rows()) {
    const r = readRow(row);
    if (!r.code && !r.typed) { continue; }
    if (!r.code) { rowError(row, M.no_category); return { invalid: true, row: row }; }
    const price = prices[r.code];
    const weighed = price ? netRow(r, price) : { parsed: { ok: true }, text: r.text };
    if (!weighed.parsed.ok && r.container) {  // the tare: the line cannot be quoted
      rowError(row, messageFor(weighed.parsed, M));
      return { invalid: true, row: row };
    }
    // The quote prices the net; the request carries the gross and the container (docs/tare.md).
    lines.push({ category: r.code, quantity: weighed.text, container: r.container, gross_milli: r.container ? weighed.gross : null });
    rowsUsed.push(row);
  }
  const quote = quoteLines(lines.map((line) => ({ category: line.category, quantity: line.quantity })), pricesForQuote(),
                           data.fee_bp || 0, member.balance_idr || 0);
  quote.lines.forEach((line, i) => { line.container = lines[i].container; line.gross_milli = lines[i].gross_milli; });
  return { lines: lines, rows: rowsUsed, quote: quote };
}

function review() {
  const current = currentQuote();
  const general = document.getElementById("deposit-error");
  general.textContent = "";
  if (current.invalid) { current.row.querySelector("input.quantity").focus(); return; }
  const errors = current.quote.errors || {};
  const keys = Object.keys(errors);
  if (keys.length) {
    let first = null;
    for (const key of keys) {
      const match = key.match(/^lines\.(\d+)\.(\w+)$/);
      if (match) {
        const row = current.rows[parseInt(match[1], 10)];
        rowError(row, messageFor(errors[key], M));
        first = first || row;
      } else {  // "lines": no line at all, or too many
        general.textContent = messageFor(errors[key], M, "lines");
      }
    }
    if (first) {
      first.querySelector("input.quantity").focus();
      const message = first.querySelector("p.live");
      if (message && !message.hidden && message.scrollIntoView) { message.scrollIntoView({ block: "nearest" }); }
    }
    return;
  }
  const q = current.quote;
  const table = confirmPanel.querySelector("tbody");
  table.innerHTML = q.lines.map((line) => "<tr><td>" + esc(prices[line.category].name) +
    (line.container ? '<br><span class="muted tare">' + esc(tareText(M.tare_text, line.gross_milli, line.container, ctx.locale)) + "</span>" : "") +
    '<br><span class="muted qty-price">' + esc(formatQuantity(line.quantity_milli, line.unit, ctx.locale)) + " × " +
    esc(formatIdr(line.unit_price_idr, ctx.locale)) + "/" + esc(line.unit) + '</span></td><td class="num">' +
    esc(formatIdr(line.amount_idr, ctx.locale)) + "</td></tr>").join("");
  document.getElementById("confirm-total").textContent = formatIdr(q.total_idr, ctx.locale);
  const feeRow = document.getElementById("confirm-fee-row");
  feeRow.hidden = !q.fee_idr;
  document.getElementById("confirm-fee").textContent = "−" + formatIdr(q.fee_idr, ctx.locale);
  document.getElementById("confirm-credited").textContent = formatIdr(q.credited_idr, ctx.locale);
  document.getElementById("confirm-balance").textContent = formatIdr(q.balance_after_idr, ctx.locale);
  const save = document.getElementById("save");
  save.disabled = false;
  delete save.dataset.sent;
  savingStatus(false);
  form.hidden = true;
  confirmPanel.hidden = false;
  confirmPanel.dataset.lines = JSON.stringify(current.lines.map((line) => ({ category: line.category, quantity: line.quantity })));
  window.scrollTo(0, 0);
  save.focus();
}

/** Canonical quantity text for the API: "1.5" for 1 500 thousandths (no locale, no unit). */
function canonical(milli) {
  const whole = Math.floor(milli / 1000);
  const frac = milli % 1000;
  return frac ? whole + "." + String(frac).padStart(3, "0").replace(/0+$/, "") : String(whole);
}

/** One line of the API request: the net quantity, or the gross with the container's id. */
function requestLine(line) {
  if (!line.container) { return { category: line.category, quantity: canonical(line.quantity_milli) }; }
  return { category: line.category, gross: canonical(line.gross_milli), container: line.container.id };
}

async function save() {
  const button = document.getElementById("save");
  if (button.dataset.sent) { return; }   // one tap saves once
  button.dataset.sent = "1";
  button.disabled = true;
  document.getElementById("edit").disabled = true;
  savingStatus(true);
  const current = currentQuote();
  const q = current.quote;
  const now = new Date();
  const item = {
    key: newKey(), kind: "deposit", username: ctx.username, operator_name: ctx.displayName || ctx.username, unit: ctx.unit,
    member_no: member.member_no, member_name: member.name,
    body: { member: member.member_no, recorded_at: isoWithOffset(now), expected_credited_idr: q.credited_idr,
            lines: q.lines.map(requestLine) },
    estimate: { total_idr: q.total_idr, fee_idr: q.fee_idr, credited_idr: q.credited_idr,
                lines: q.lines.map((line) => ({ category: line.category, name: prices[line.category].name, unit: line.unit,
                                                quantity_text: formatQuantity(line.quantity_milli, line.unit, ctx.locale),
                                                tare_text: line.container ? tareText(M.tare_text, line.gross_milli, line.container, ctx.locale) : "",
                                                unit_price_idr: line.unit_price_idr, amount_idr: line.amount_idr })) },
    captured_at: now.toISOString(), state: "queued", attempts: 0, corrects: fixing ? fixing.key : null,
  };
  savedHere.add(item.key);
  if (fixing) { await sync.replace(fixing.key, item); } else { await sync.enqueue(item); }
  // The deposit is in the outbox now: leaving the screen no longer cancels anything.
  showBack(false);
  await awaitAnswer(item);
}

// While a save is in flight the card says so (a stalled request can take up to 12 s before
// the screen moves on): "Menyimpan…" on the button and a status line under it, which turns
// into a calmer hint when the server is slow (tester item 5).
const SLOW_SAVE_MS = 3000;
let slowTimer = null;

function savingStatus(on) {
  const button = document.getElementById("save");
  const note = document.getElementById("save-status");
  if (!button.dataset.label) { button.dataset.label = button.textContent; }
  clearTimeout(slowTimer);
  button.textContent = on ? T.saving : button.dataset.label;
  button.setAttribute("aria-busy", on ? "true" : "false");
  if (!note) { return; }
  note.hidden = !on;
  note.textContent = on ? T.saving_hint : "";
  if (!on) { return; }
  // On a landscape tablet the queue panel above can push the card's buttons low: keep the
  // status on screen.
  const show = () => { if (note.scrollIntoView) { note.scrollIntoView({ block: "nearest" }); } };
  show();
  slowTimer = setTimeout(() => { note.textContent = T.saving_slow; show(); }, SLOW_SAVE_MS);
}

/** Wait for the outbox's answer: the receipt, a refusal to correct, or "kept on the tablet". */
function awaitAnswer(item) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (stored) => {
      if (done) { return; }
      done = true;
      stop();
      clearTimeout(timer);
      showResult(stored || item);
      resolve();
    };
    const check = async () => {
      const stored = await store.getItem(item.key);
      if (!stored) { return; }
      if (stored.state === "synced" || stored.state === "fix") { finish(stored); }
      else if (!navigator.onLine || sync.status.auth || (stored.state === "queued" && (stored.last_error || sync.status.waitingUntil > Date.now()))) { finish(stored); }
    };
    const stop = sync.onChange(check);
    const timer = setTimeout(() => store.getItem(item.key).then(finish), WAIT_FOR_ANSWER_MS);
    check();
  });
}

/** "← Batal" only while there is something to cancel: gone once the deposit is saved (kept on
 * the tablet, sent or refused); the result panel's "Nasabah berikutnya" is the next step. */
function showBack(show) {
  const back = document.getElementById("deposit-back");
  if (back) { back.closest(".nav-links").hidden = !show; }
}

function showResult(item) {
  savingStatus(false);
  confirmPanel.hidden = true;
  showBack(false);
  if (item.state === "synced" && item.response && item.response.receipt_no) {
    location.assign("/counter/receipt/" + encodeURIComponent(item.response.receipt_no) + "?new=1");
    return;
  }
  resultPanel.hidden = false;
  const title = resultPanel.querySelector("h2");
  const text = resultPanel.querySelector("p.what");
  resultPanel.className = "card result-panel " + item.state;
  if (item.state === "fix") {
    title.textContent = T.refused_title;
    text.textContent = (item.error && item.error.reason) || "";
    document.getElementById("result-fix").hidden = false;
    document.getElementById("result-fix").onclick = () => { loadFix(item.key).then(() => { resultPanel.hidden = true; }); };
  } else {
    title.textContent = T.kept_title;
    text.textContent = keptText(item);
    document.getElementById("result-fix").hidden = true;
    // The outbox keeps trying: when it is sent (or refused), say so here too; until then the
    // text follows the connection (offline → "once the tablet is connected again").
    const refresh = async () => {
      const stored = await store.getItem(item.key);
      if (stored && (stored.state === "synced" || stored.state === "fix")) { stop(); showSent(stored); return; }
      if (stored && !resultPanel.hidden && !resultPanel.classList.contains("synced") && !resultPanel.classList.contains("fix")) { text.textContent = keptText(stored); }
    };
    const stop0 = sync.onChange(refresh);
    window.addEventListener("online", refresh);
    window.addEventListener("offline", refresh);
    const stop = () => {
      stop0();
      window.removeEventListener("online", refresh);
      window.removeEventListener("offline", refresh);
    };
  }
  document.getElementById("result-slip").onclick = () => { store.getItem(item.key).then(showSlip); };
  document.getElementById("result-slip").hidden = item.state === "fix";
  window.scrollTo(0, 0);
  document.getElementById("result-next").focus();
}

/**
 * The result panel's "kept on this tablet" text. Offline (no connection now, or the last
 * attempt failed offline) it is sent once the tablet is connected again; after an ended session
 * once the operator logged in again; otherwise (no answer, or the server could not record it)
 * once the server takes it. The same test as the queue item's reason (outbox-core
 * retryMessage), so the panel and the queue never disagree.
 */
function keptText(item) {
  const reason = retryMessage(item.last_code, navigator.onLine, sync.status.auth);
  const text = reason === "retrying_offline" ? T.kept_text_offline : reason === "retrying_auth" ? T.kept_text_auth
    : reason === "retrying_day_closed" ? T.kept_text_day_closed : T.kept_text;
  return text.replace("{total}", formatIdr(item.estimate.credited_idr, ctx.locale));
}

/** The result panel once a kept deposit was sent later: its receipt, or the refusal. */
function showSent(item) {
  if (item.state === "fix") { showResult(item); return; }
  resultPanel.className = "card result-panel synced";
  resultPanel.querySelector("h2").textContent = T.sent_title.replace("{receipt}", item.response.receipt_no);
  resultPanel.querySelector("p.what").textContent = T.sent_text.replace(
    "{total}", formatIdr(item.response.credited_idr, ctx.locale));
  document.getElementById("result-slip").hidden = true;
  const link = document.getElementById("result-receipt");
  link.href = "/counter/receipt/" + encodeURIComponent(item.response.receipt_no);
  link.hidden = false;
}

/** Reopen a refused outbox item in the form to correct it; saving gives it a new key. */
async function loadFix(key) {
  const item = await store.getItem(key);
  if (!item || item.state !== "fix" || item.member_no !== member.member_no) { return; }
  fixing = item;
  showPending();   // the note leaves out the deposit being corrected here
  clearLines();
  let first = true;
  for (const line of item.body.lines) {
    const row = first ? rows()[0] : null;
    let target = row;
    if (first) { row.querySelector("select.cat").value = line.category; } else { target = addRow(line.category); }
    const weight = line.gross !== undefined ? line.gross : line.quantity;
    target.querySelector("input.quantity").value = String(weight).replace(".", ctx.locale === "en" ? "." : ",");
    const select = target.querySelector("select.container");
    if (select) { select.value = line.container !== undefined && line.container !== null ? String(line.container) : ""; }
    first = false;
  }
  const note = document.getElementById("deposit-error");
  note.textContent = T.fixing.replace("{reason}", (item.error && item.error.reason) || "");
  form.hidden = false;
  showBack(true);
  confirmPanel.hidden = true;
  update();
  const field = item.error && item.error.field ? item.error.field.match(/^lines\.(\d+)\./) : null;
  const row = field ? rows()[parseInt(field[1], 10)] : rows()[0];
  if (row) { row.querySelector("input.quantity").focus(); }
}
