// "Dilayani hari ini" on the find page (static/counter/served-core.js) under Node's test runner.
import assert from "node:assert/strict";
import { test } from "node:test";

import { markOf, servedList } from "../../wastebank/static/counter/served-core.js";

const deposit = (member_no, captured_at, state, receipt_no) => ({
  key: member_no + captured_at, kind: "deposit", member_no, member_name: "Nasabah " + member_no, captured_at, state,
  response: state === "synced" ? { receipt_no, credited_idr: 4875 } : null,
});
const server = [
  { member_no: "RW05-0002", name: "Budi", at: "2026-12-07T02:30:00+00:00" },
  { member_no: "RW05-0001", name: "Siti", at: "2026-12-07T01:00:00+00:00" },
];
const shown = (list) => list.map((e) => [e.member_no, e.mark, e.receipt_no]);

test("a deposit kept on the tablet is listed on top as not sent, then as sent with its receipt", () => {
  const kept = deposit("RW05-0003", "2026-12-07T03:00:00.000Z", "queued");
  assert.deepEqual(shown(servedList(server, [kept])),
                   [["RW05-0003", "unsent", ""], ["RW05-0002", "", ""], ["RW05-0001", "", ""]]);
  assert.equal(servedList(server, [kept])[0].server, null);   // not on the server's list: drawn from the item
  assert.equal(servedList(server, [kept])[0].name, "Nasabah RW05-0003");
  assert.equal(servedList(server, [Object.assign({}, kept, { state: "sending" })])[0].mark, "unsent");
  // Sent while the page is open: the same place, now "terkirim" with its receipt (the tester's bug).
  const sent = Object.assign({}, kept, { state: "synced", response: { receipt_no: "RW05-2026-000007" } });
  assert.deepEqual(shown(servedList(server, [sent])),
                   [["RW05-0003", "sent", "RW05-2026-000007"], ["RW05-0002", "", ""], ["RW05-0001", "", ""]]);
  // Refused: "perlu diperbaiki", in the same place.
  const refused = Object.assign({}, kept, { state: "fix" });
  assert.deepEqual(shown(servedList(server, [refused]))[0], ["RW05-0003", "fix", ""]);
});

test("a member the server lists moves up with a later capture and stays there once it is sent", () => {
  const later = deposit("RW05-0001", "2026-12-07T04:00:00.000Z", "queued");
  let list = servedList(server, [later]);
  assert.deepEqual(shown(list), [["RW05-0001", "unsent", ""], ["RW05-0002", "", ""]]);
  assert.equal(list[0].at, "2026-12-07T04:00:00.000Z");   // the capture's time, not the server's
  assert.equal(list[0].name, "Siti");                      // the server's name
  assert.equal(list[0].server, server[1]);                 // its link stays the server's
  list = servedList(server, [Object.assign({}, later, { state: "synced", response: { receipt_no: "RW05-2026-000009" } })]);
  assert.deepEqual(shown(list), [["RW05-0001", "sent", "RW05-2026-000009"], ["RW05-0002", "", ""]]);
  // After a reload the server has it at the capture's time: its own entry, marked sent, once.
  const reloaded = [{ member_no: "RW05-0001", name: "Siti", at: "2026-12-07T04:00:00+00:00" }].concat(server.slice(0, 1));
  list = servedList(reloaded, [Object.assign({}, later, { state: "synced", response: { receipt_no: "RW05-2026-000009" } })]);
  assert.deepEqual(shown(list), [["RW05-0001", "sent", "RW05-2026-000009"], ["RW05-0002", "", ""]]);
  assert.equal(list[0].at, reloaded[0].at);
});

test("one entry per member, newest capture first; a refusal outweighs the rest", () => {
  const items = [
    deposit("RW05-0004", "2026-12-07T03:00:00.000Z", "synced", "RW05-2026-000010"),
    deposit("RW05-0005", "2026-12-07T03:30:00.000Z", "queued"),
    deposit("RW05-0004", "2026-12-07T03:10:00.000Z", "fix"),
    deposit("RW05-0004", "2026-12-07T03:20:00.000Z", "queued"),
  ];
  const list = servedList(server, items);
  assert.deepEqual(shown(list), [["RW05-0005", "unsent", ""], ["RW05-0004", "fix", ""],
                                 ["RW05-0002", "", ""], ["RW05-0001", "", ""]]);
  assert.equal(list[1].at, "2026-12-07T03:20:00.000Z");
  assert.equal(new Set(list.map((e) => e.member_no)).size, list.length);
  assert.deepEqual(servedList([], []), []);
});

test("the receipt of a member's latest sent deposit; none while one still waits", () => {
  assert.deepEqual(markOf([]), { mark: "", receipt_no: "" });
  assert.deepEqual(markOf([deposit("A", "2026-12-07T01:00:00Z", "synced", "R-1"), deposit("A", "2026-12-07T02:00:00Z", "synced", "R-2")]),
                   { mark: "sent", receipt_no: "R-2" });
  assert.deepEqual(markOf([deposit("A", "2026-12-07T01:00:00Z", "synced", "R-1"), deposit("A", "2026-12-07T02:00:00Z", "queued")]),
                   { mark: "unsent", receipt_no: "" });
  // A server answer without a receipt number still reads "terkirim".
  assert.deepEqual(markOf([Object.assign(deposit("A", "2026-12-07T01:00:00Z", "synced"), { response: {} })]),
                   { mark: "sent", receipt_no: "" });
});
