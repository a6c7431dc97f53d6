// The withdrawal's confirmation step (penarikan). The check is the server's (it needs the live
// balance), but "Simpan penarikan" goes through the outbox like a deposit: written to the
// tablet first, sent through the JSON API with the form's idempotency key, resent after a lost
// answer with the same key. Until it is sent the operator is told not to hand out the money.
// While today's books are closed there is no save at all (the ledger refuses it at once).
import { cancelNotice } from "./cancel-core.js";
import { formatIdr } from "./money.js";
import * as store from "./store.js";
import * as sync from "./sync.js";

const WAIT_FOR_ANSWER_MS = 12000;

/** Wire the confirmation form `#confirm-form` of a withdrawal. */
export function init(context, i18n) {
  const form = document.getElementById("confirm-form");
  if (!form || !form.dataset.member) { return; }
  const save = document.getElementById("save");
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
    const repeat = !!existing && existing.state === "synced";
    if (!existing) {
      await sync.enqueue(item);
    } else if (existing.state !== "synced" && JSON.stringify(existing.body) !== JSON.stringify(item.body)) {
      await store.putItem(Object.assign(existing, { body: item.body, state: existing.state === "sending" ? "sending" : "queued",
                                                   error: null }));
      sync.kick(0);
    } else {
      sync.kick(0);
    }
    const show = (stored) => {
      if (stored.state === "synced" && stored.response && stored.response.id) {
        // Its receipt opens here, with the operator at the counter: the queue need not ask
        // later whether the cash was handed over (outbox-core handOverDue).
        // Saved again after it was already sent: its page says it was recorded once ("Sudah
        // tersimpan"), also for a request still waiting for approval.
        const mark = repeat ? "?again=1" : stored.response.status === "paid" ? "?new=1" : "";
        const open = () => location.assign("/counter/withdrawal/" + stored.response.id + mark);
        store.updateItem(stored.key, (current) => Object.assign(current, { seen: true })).then(open, open);
        return true;
      }
      note.hidden = false;
      note.className = "flash error";
      note.textContent = stored.state === "fix"
        ? i18n.withdrawal_refused.replace("{reason}", (stored.error && stored.error.reason) || "")
        : i18n.withdrawal_kept;
      if (stored.state === "fix") { save.hidden = true; }
      return false;
    };
    if (!show(await waitFor(item.key))) {
      // Still waiting: when the outbox sends it, open the withdrawal (hand over the money then).
      const stop = sync.onChange(async () => {
        const stored = await store.getItem(item.key);
        if (stored && (stored.state === "synced" || stored.state === "fix")) { stop(); show(stored); }
        if (!stored) {   // cancelled in the queue ("Batalkan"): it will not be sent
          const cancelled = await store.getValue("cancelled:" + item.key);
          // May have arrived: this screen follows the server's answer (cancel-core.js) until it comes.
          if (!cancelled || !cancelled.check || cancelled.check !== "checking") { stop(); }
          const notice = cancelled && cancelled.check ? cancelNotice(i18n, cancelled, (idr) => formatIdr(idr, context.locale)) : null;
          note.className = notice && notice.tone === "calm" ? "flash" : cancelled && cancelled.maybe_arrived ? "flash error" : "flash";
          note.textContent = !cancelled || !cancelled.maybe_arrived ? i18n.withdrawal_cancelled
            : cancelled.check === "checking" ? i18n.withdrawal_cancelled_maybe : notice.text;
          save.hidden = true;
        }
      });
    }
  });
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
