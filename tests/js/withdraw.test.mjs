// The withdrawal screens' rules (static/counter/withdraw-core.js) under Node's test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { addressAfterCancel, DAY_CHECK_MS, dayClosedFromPage, followView, newKey, opensPage, sameView } from "../../wastebank/static/counter/withdraw-core.js";

const item = (state, extra = {}) => Object.assign({ key: "k1", kind: "withdrawal", state: state, body: { amount_idr: 5000 } }, extra);
const paid = { id: 7, receipt_no: "RW05-2026-000547", amount_idr: 5000, status: "paid" };

test("followView: sent and paid, with the receipt number and the rupiah the server answered", () => {
  assert.deepEqual(followView(item("synced", { response: paid }), null, null),
                   { view: "paid", id: 7, receipt_no: "RW05-2026-000547", amount_idr: 5000 });
  // No amount in the answer: the one the tablet sent.
  assert.equal(followView(item("synced", { response: { id: 7, receipt_no: "RW05-2026-000547" } }), null, null).amount_idr, 5000);
});

test("followView: a request waiting for approval has no receipt", () => {
  assert.deepEqual(followView(item("synced", { response: { id: 8, status: "pending", amount_idr: 900000 } }), null, null),
                   { view: "pending", id: 8, amount_idr: 900000 });
});

test("followView: refused with the server's reason; queued or sending is waiting", () => {
  assert.deepEqual(followView(item("fix", { error: { code: "day_closed", reason: "Hari ini sudah ditutup" } }), null, null),
                   { view: "refused", reason: "Hari ini sudah ditutup", code: "day_closed" });
  assert.deepEqual(followView(item("fix"), null, null), { view: "refused", reason: "", code: "" });
  assert.deepEqual(followView(item("queued"), null, null), { view: "waiting" });
  assert.deepEqual(followView(item("sending"), null, null), { view: "waiting" });
  // Synced without an answer body (should not happen): not paid, still waiting.
  assert.deepEqual(followView(item("synced", { response: null }), null, null), { view: "waiting" });
});

test("followView: gone from the queue is removed, or cancelled when its record is there", () => {
  assert.deepEqual(followView(null, null, { view: "refused", reason: "x" }), { view: "removed" });
  assert.deepEqual(followView(undefined, null, null), { view: "removed" });
  assert.deepEqual(followView(null, { key: "k1", check: "checking", maybe_arrived: true }, { view: "waiting" }),
                   { view: "cancelled", check: "checking", maybe: true });
  assert.deepEqual(followView(null, { key: "k1", check: null, maybe_arrived: false }, null),
                   { view: "cancelled", check: null, maybe: false });
});

test("followView: a paid item that leaves the queue stays paid (it is recorded)", () => {
  const shown = followView(item("synced", { response: paid }), null, null);
  assert.deepEqual(followView(null, null, shown), shown);
});

test("opensPage: the first answer opens the page; after a refusal, removal or cancel never", () => {
  const view = { view: "paid", id: 7 };
  assert.equal(opensPage(view, []), true);
  assert.equal(opensPage(view, [{ view: "waiting" }]), true);   // kept, then sent: as before
  assert.equal(opensPage(view, [{ view: "refused" }, { view: "waiting" }]), false);
  assert.equal(opensPage(view, [{ view: "removed" }]), false);
  assert.equal(opensPage(view, [{ view: "cancelled" }]), false);
  assert.equal(opensPage({ view: "refused" }, []), false);
});

test("sameView compares by value", () => {
  assert.equal(sameView({ view: "waiting" }, { view: "waiting" }), true);
  assert.equal(sameView({ view: "refused", reason: "a" }, { view: "refused", reason: "b" }), false);
  assert.equal(sameView(null, undefined), true);
});

test("newKey: 32 hex digits from 16 bytes, like the server's uuid4().hex", () => {
  const key = newKey((n) => Uint8Array.from({ length: n }, (_, i) => i * 17));
  assert.equal(key, "00112233445566778899aabbccddeeff");
  assert.match(newKey((n) => crypto.getRandomValues(new Uint8Array(n))), /^[0-9a-f]{32}$/);
  assert.notEqual(newKey((n) => crypto.getRandomValues(new Uint8Array(n))), newKey((n) => crypto.getRandomValues(new Uint8Array(n))));
});

test("addressAfterCancel names the cancelled key, keeping other parameters", () => {
  assert.equal(addressAfterCancel("/counter/member/RW05-0001/withdraw", "", "abc"), "/counter/member/RW05-0001/withdraw?after=abc");
  assert.equal(addressAfterCancel("/w", "?x=1&after=old", "new"), "/w?x=1&after=new");
});

const page = (ctx) => '<html><head></head><body><main></main><script type="application/json" id="counter-context">' +
  JSON.stringify(ctx) + '</script><script type="module" src="/static/counter/app.js"></script></body></html>';

test("dayClosedFromPage reads today's state from a counter page's context", () => {
  assert.equal(dayClosedFromPage(page({ username: "op_a", unit: "RW05", dayClosed: false }), "op_a", "RW05"), false);
  assert.equal(dayClosedFromPage(page({ username: "op_a", unit: "RW05", dayClosed: true }), "op_a", "RW05"), true);
});

test("dayClosedFromPage: no context (logged out), another login or unit, or nonsense is null", () => {
  assert.equal(dayClosedFromPage("<html><body>Masuk</body></html>", "op_a", "RW05"), null);
  assert.equal(dayClosedFromPage(page({ username: "op_b", unit: "RW05", dayClosed: false }), "op_a", "RW05"), null);
  assert.equal(dayClosedFromPage(page({ username: "op_a", unit: "RW07", dayClosed: false }), "op_a", "RW05"), null);
  assert.equal(dayClosedFromPage(page({ username: "op_a", unit: "RW05" }), "op_a", "RW05"), null);
  assert.equal(dayClosedFromPage('<script type="application/json" id="counter-context">{oops</script>', "op_a", "RW05"), null);
  assert.equal(dayClosedFromPage(null, "op_a", "RW05"), null);
});

test("the reopen is asked no more often than every 15 s", () => {
  assert.ok(DAY_CHECK_MS >= 15000);
});

test("followView: refused on a closed day, the tablet now knowing the day reopened (a tester)", () => {
  const refused = item("fix", { error: { code: "day_closed", reason: "Hari ini sudah ditutup" } });
  assert.deepEqual(followView(refused, null, null, false),
                   { view: "refused", reason: "Hari ini sudah ditutup", code: "day_closed", reopened: true });
  assert.equal(followView(refused, null, null, true).reopened, undefined);   // still closed
  // Another refusal is not about the day: no "reopened" whatever the day's state.
  const other = item("fix", { error: { code: "insufficient_balance", reason: "Saldo tidak cukup" } });
  assert.equal(followView(other, null, null, false).reopened, undefined);
  // The view changes when the day does, so the screen draws again.
  assert.equal(sameView(followView(refused, null, null, true), followView(refused, null, null, false)), false);
});
