// The withdrawal's confirmation step (penarikan). The check is the server's (it needs the live
// balance), but "Simpan penarikan" goes through the outbox like a deposit: written to the
// tablet first, sent through the JSON API with the form's idempotency key, resent after a lost
// answer with the same key. Until it is sent the operator is told not to hand out the money.
// While today's books are closed there is no save at all (the ledger refuses it at once).
import { cancelNotice } from "./cancel-core.js";
import { addressAfterCancel, followView, newKey, opensPage, sameView } from "./withdraw-core.js";
import { formatIdr } from "./money.js";
import * as store from "./store.js";
import * as sync from "./sync.js";

const WAIT_FOR_ANSWER_MS = 12000;

/** Wire the withdrawal entry form `#withdraw-form` or the confirmation form `#confirm-form`. */
export function init(context, i18n) {
  if (document.getElementById("withdraw-form")) { initEntry(context, i18n); }
  const form = document.getElementById("confirm-form");
  if (!form || !form.dataset.member) { return; }
  const save = document.getElementById("save");
  const repeat = { value: false };
  const note = document.getElementById("withdraw-result");
  // "Ubah" posts the form back to the server, which re-checks the balance: offline that would
  // open the browser's own error page (tester), so say why it must wait instead.
  const edit = form.querySelector('button[name="action"][value="edit"]');
  if (edit) {
    edit.addEventListener("click", (event) => {
      if (navigator.onLine) { return; }
      event.preventDefault();
      note.hidden = false;
      note.className = "flash error";
      note.textContent = i18n.edit_offline;
    });
  }
  // Today's books closed (the page said so, or the outbox learnt it from a day_closed answer
  // while this check was open): the ledger refuses every withdrawal now, so there is no save and
  // the reason stands beside the button, before anyone counts out the cash. Reopened (a save was
  // recorded, or a page shown in place brought the new context): the button comes back.
  const closedNote = document.getElementById("withdraw-day-closed");
  const followDay = () => {
    if (save.dataset.sent) { return; }   // saved: its own answer says what happened to it
    const closed = !!context.dayClosed;
    if (closedNote) { closedNote.hidden = !closed; }
    save.disabled = closed;
    if (closed) { save.setAttribute("aria-describedby", "withdraw-day-closed"); } else { save.removeAttribute("aria-describedby"); }
  };
  followDay();
  sync.onChange(followDay);
  window.addEventListener("wastebank:context", followDay);
  save.addEventListener("click", async (event) => {
    event.preventDefault();
    if (save.dataset.sent || context.dayClosed) { return; }
    save.dataset.sent = "1";
    save.disabled = true;
    const field = (name) => (form.querySelector('[name="' + name + '"]') || { value: "" }).value;
    const items = [];
    for (let i = 0; form.querySelector('[name="items-' + i + '-name"]'); i++) {
      if (field("items-" + i + "-name")) {
        items.push({ name: field("items-" + i + "-name"), quantity: field("items-" + i + "-quantity"),
                     value_idr: parseInt(field("items-" + i + "-value"), 10) });
      }
    }
    const amount = parseInt(form.dataset.amount, 10);
    const item = {
      key: field("idempotency_key"), kind: "withdrawal", username: context.username,
      operator_name: context.displayName || context.username, unit: context.unit,
      member_no: form.dataset.member, member_name: form.dataset.memberName,
      body: { member: form.dataset.member, amount_idr: amount, method: field("method"),
              reference: field("reference"), beneficiary: field("beneficiary"), items: items,
              // A gold or bill payout's own fields, as the server checked them on this page.
              ...JSON.parse(form.dataset.payout || "{}") },
      estimate: null, captured_at: new Date().toISOString(), state: "queued", attempts: 0,
    };
    // The same form (its key) saved again after "Ubah": the request the operator confirmed now
    // replaces the one still waiting, under the same key — if the first reached the server
    // after all, the server refuses the changed one (409) instead of paying twice.
    const existing = await store.getItem(item.key);
    repeat.value = !!existing && existing.state === "synced";
    if (!existing) {
      await sync.enqueue(item);
    } else if (existing.state !== "synced" && JSON.stringify(existing.body) !== JSON.stringify(item.body)) {
      await store.putItem(Object.assign(existing, { body: item.body, state: existing.state === "sending" ? "sending" : "queued",
                                                   error: null }));
      sync.kick(0);
    } else {
      sync.kick(0);
    }
    // The first answer: sent -> its page opens (hand over the money there); refused or kept -> said
    // here. From then on this screen follows its own item by key whenever the queue changes in
    // any tab (withdraw-core followView), until this page is left.
    follow(item.key, await waitFor(item.key));
  });

  // What this screen said about its item so far (withdraw-core opensPage).
  const shown = [];
  // This check's withdrawal was recorded before the page was shown (below).
  const resumed = { value: false };
  let last = null;
  let rotated = false;
  const money = (idr) => (Number.isSafeInteger(idr) ? formatIdr(idr, context.locale) : "");
  let saidAt = 0;
  const inSight = () => {
    if (note.hidden || !note.scrollIntoView) { return; }
    const box = note.getBoundingClientRect();
    // Centred, with the buttons around it, when any of it is out of sight; else left alone.
    if (box.top < 0 || box.bottom > window.innerHeight) { note.scrollIntoView({ block: "center" }); }
  };
  window.addEventListener("wastebank:panel-drawn", () => { if (Date.now() - saidAt < 2000) { inSight(); } });
  const say = (className, text, link) => {
    const changed = note.hidden || note.textContent !== text;
    note.hidden = false;
    note.className = className;
    note.textContent = text;
    // Brought into sight when it says something new, and kept there while the queue above is
    // redrawn (panel.js, up to 150 ms later): on a landscape tablet the queue's new item pushed
    // "Belum terkirim … Jangan serahkan uang" below the fold (a tester).
    if (changed) { saidAt = Date.now(); inSight(); }
    if (link) {
      const a = document.createElement("a");
      a.className = "button secondary";
      a.id = "withdraw-result-receipt";
      a.href = link.href;
      a.textContent = link.text;
      note.appendChild(document.createTextNode(" "));
      note.appendChild(a);
    }
  };
  const draw = (key, view, cancelled) => {
    if (view.view === "paid" || view.view === "pending") {
      if (resumed.value) {
        // Back on this check after it was recorded: said at once, no second save, and never an
        // order to hand over cash that may already have been handed over.
        save.hidden = true;
        if (edit) { edit.hidden = true; }
        const link = { href: "/counter/withdrawal/" + view.id, text: view.view === "paid" ? i18n.receipt : i18n.open_request };
        say(view.view === "paid" ? "flash ok big" : "flash big", view.view === "paid"
          ? fill(i18n.withdrawal_saved_before, { receipt: view.receipt_no, total: money(view.amount_idr) })
          : i18n.withdrawal_saved_before_pending, link);
        return;
      }
      if (opensPage(view, shown)) {
        // Its receipt opens here, with the operator at the counter: the queue need not ask
        // later whether the cash was handed over (outbox-core handOverDue).
        // Saved again after it was already sent: its page says it was recorded once ("Sudah
        // tersimpan"), also for a request still waiting for approval.
        const mark = repeat.value ? "?again=1" : view.view === "paid" ? "?new=1" : "";
        const open = () => location.assign("/counter/withdrawal/" + view.id + mark);
        store.updateItem(key, (current) => Object.assign(current, { seen: true })).then(open, open);
        return;
      }
      // Refused here, then sent after all (another tab's "Kirim ulang" after the reopen): the
      // refusal goes, the paid result stands in its place, as the queue says it. Nothing is left
      // to change or save on this check (it is booked): only its receipt.
      save.hidden = true;
      if (edit) { edit.hidden = true; }
      const link = { href: "/counter/withdrawal/" + view.id, text: view.view === "paid" ? i18n.receipt : i18n.open_request };
      if (view.view === "paid") {
        say("flash ok big", fill(i18n.withdrawal_sent_later, { receipt: view.receipt_no, total: money(view.amount_idr),
                                                                 member: form.dataset.memberName || form.dataset.member }), link);
      } else {
        say("flash big", i18n.withdrawal_sent_later_pending, link);
      }
      return;
    }
    if (view.view === "refused") {
      say("flash error", view.reopened ? i18n.withdrawal_refused_reopened : i18n.withdrawal_refused.replace("{reason}", view.reason));
      save.hidden = true;
      return;
    }
    if (view.view === "waiting") { say("flash error", i18n.withdrawal_kept); return; }
    save.hidden = true;
    if (view.view === "removed") { say("flash", i18n.withdrawal_removed); return; }
    // Cancelled in the queue ("Batalkan penarikan"): it is never sent again, and its key is never
    // used again — "Ubah" starts a new withdrawal (withdraw-core newKey, counter/withdrawals.py).
    if (!rotated) { rotated = true; startNewOperation(form, key); }
    const notice = cancelled && cancelled.check ? cancelNotice(i18n, cancelled, money) : null;
    const text = !cancelled || !cancelled.maybe_arrived ? i18n.withdrawal_cancelled
      : cancelled.check === "checking" ? i18n.withdrawal_cancelled_maybe : notice.text;
    say(notice && notice.tone === "calm" ? "flash" : cancelled && cancelled.maybe_arrived ? "flash error" : "flash", text);
    // Beside it, what "Ubah" does now (its own line: the cancel's sentence stays as the queue has it).
    let next = document.getElementById("withdraw-new-operation");
    if (!next) {
      next = document.createElement("p");
      next.id = "withdraw-new-operation";
      next.className = "notice";
      note.parentNode.insertBefore(next, note.nextSibling);
    }
    next.textContent = cancelled && cancelled.check === "recorded" && !(cancelled.result || {}).voided
      ? i18n.edit_after_cancel_recorded : i18n.edit_after_cancel;
  };
  let following = null;
  let turn = 0;
  let followed = null;
  const follow = (key, first) => {
    if (followed === key) { return; }
    followed = key;
    const render = async (stored, mine) => {
      const cancelled = stored ? null : await store.getValue("cancelled:" + key);
      if (mine !== turn) { return; }   // a newer look at the queue started meanwhile: it draws
      const view = followView(stored, cancelled, last, !!context.dayClosed);
      if (last && sameView(view, last) && JSON.stringify(cancelled || null) === JSON.stringify(following)) { return; }
      following = cancelled || null;
      last = view;
      draw(key, view, cancelled);
      shown.push(view);
    };
    render(first, ++turn).catch((error) => console.error(error));
    const again = () => {
      const mine = ++turn;
      store.getItem(key).then((stored) => render(stored, mine)).catch((error) => console.error(error));
    };
    sync.onChange(again);
    window.addEventListener("wastebank:context", again);   // a page shown in place: a reopened day
  };

  // Shown again (the browser's Back from its receipt, or its cache) with this check's withdrawal
  // already recorded: it said "Simpan penarikan" with the old balance (a tester). Only a recorded
  // one: an unsent item may be changed after "Ubah" and saved again under the same key.
  const resume = async () => {
    const key = (form.querySelector('[name="idempotency_key"]') || { value: "" }).value;
    const stored = key ? await store.getItem(key) : null;
    if (!stored || stored.state !== "synced") { return; }
    resumed.value = true;
    save.dataset.sent = "1";
    save.disabled = true;
    if (followed === key && last) { draw(key, last, following); return; }
    follow(key, stored);
  };
  resume().catch((error) => console.error(error));
  window.addEventListener("pageshow", (event) => { if (event.persisted) { resume().catch((error) => console.error(error)); } });
}

/**
 * The entry form: while today is closed "Periksa sebelum simpan" is disabled with the reason
 * beside it (the server drew it so; the tablet may learn the close while the form is open), and
 * enabled again as soon as the tablet learns the reopen (sync.js checks while it believes today
 * closed), without a reload.
 */
function initEntry(context, i18n) {
  const review = document.getElementById("review");
  if (!review) { return; }
  // The check needs the server (it checks the balance): offline the form stays, with the amount.
  const entry = document.getElementById("withdraw-form");
  entry.addEventListener("submit", (event) => {
    if (navigator.onLine) { return; }
    event.preventDefault();
    let note = document.getElementById("withdraw-check-offline");
    if (!note) {
      note = document.createElement("p");
      note.id = "withdraw-check-offline";
      note.className = "notice error";
      note.setAttribute("role", "alert");
      review.parentNode.insertBefore(note, review);
    }
    note.textContent = i18n.check_offline;
    note.hidden = false;
  });
  window.addEventListener("online", () => {
    const note = document.getElementById("withdraw-check-offline");
    if (note) { note.hidden = true; }
  });
  const followDay = () => {
    const closed = !!context.dayClosed;
    let reason = document.getElementById("withdraw-day-closed");
    if (closed && !reason && review.dataset.dayClosedText) {
      reason = document.createElement("p");
      reason.className = "notice error day-closed-reason";
      reason.id = "withdraw-day-closed";
      reason.setAttribute("role", "alert");
      reason.textContent = review.dataset.dayClosedText;
      review.parentNode.insertBefore(reason, review);
    }
    if (reason) { reason.hidden = !closed; }
    review.disabled = closed;
    if (closed) { review.setAttribute("aria-describedby", "withdraw-day-closed"); } else { review.removeAttribute("aria-describedby"); }
  };
  followDay();
  sync.onChange(followDay);
  window.addEventListener("wastebank:context", followDay);
}

function fill(template, values) {
  return String(template || "").replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
}

/**
 * After a cancel the form is a new operation: a new idempotency key in place of the cancelled
 * one, and the address names the cancelled key (`?after=`), so that "Ubah" reopens the form with
 * the new key and the server says there that the earlier withdrawal is recorded (when it is).
 */
function startNewOperation(form, oldKey) {
  const input = form.querySelector('[name="idempotency_key"]');
  if (input && input.value === oldKey) {
    input.value = newKey((n) => crypto.getRandomValues(new Uint8Array(n)));
  }
  const params = new URLSearchParams(location.search);
  if (params.get("after") !== oldKey) {
    const address = addressAfterCancel(location.pathname, location.search, oldKey);
    form.setAttribute("action", address);
    history.replaceState(history.state, "", address);
  }
}

function waitFor(key) {
  return new Promise((resolve) => {
    let done = false;
    const finish = (stored) => { if (!done) { done = true; stop(); clearTimeout(timer); resolve(stored); } };
    const check = async () => {
      const stored = await store.getItem(key);
      if (!stored) { return; }
      if (stored.state === "synced" || stored.state === "fix" || !navigator.onLine || sync.status.auth ||
          (stored.state === "queued" && (stored.last_error || sync.status.waitingUntil > Date.now()))) { finish(stored); }
    };
    const stop = sync.onChange(check);
    const timer = setTimeout(() => store.getItem(key).then(finish), WAIT_FOR_ANSWER_MS);
    check();
  });
}
