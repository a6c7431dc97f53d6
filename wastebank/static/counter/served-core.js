// "Dilayani hari ini" on the find page, without storage or DOM: which members it lists, in which
// order, and what each one's mark says, from the server's list and the tablet's queue. Pure
// functions: find.js draws the list with them every time the outbox changes, and Node's tests
// (tests/js/served.test.mjs) use them.
import { servedMark } from "./outbox-core.js";

function ms(iso) {
  const value = Date.parse(iso || "");
  return Number.isNaN(value) ? -Infinity : value;
}

/**
 * The entries of "Dilayani hari ini".
 *
 * `server`: the members the server listed when the page was drawn, newest first, as
 * `[{member_no, name, at}]` (`at`: ISO time of their latest visit today). `items`: this
 * operator's deposits captured today in the outbox (any state). Returns the list to show,
 * `[{member_no, name, at, mark, receipt_no, server}]`:
 *
 * - `mark` from the member's deposits in `items` (outbox-core servedMark): "fix" when one was
 *   refused (perlu diperbaiki), else "unsent" while one waits or is being sent (belum terkirim),
 *   else "sent" (terkirim, with `receipt_no` of the latest one sent) when all of them were sent;
 *   "" for a member with nothing in `items`. A deposit sent while the page is open so turns from
 *   "belum terkirim" to "terkirim · <receipt>" where it is, without a reload (a tester).
 * - Members the server did not list, and listed ones with a capture on the tablet later than
 *   the server's time, come first, newest capture first, with that capture's time (`at`);
 *   then the rest of the server's list in its order. Each member once. `server` is the
 *   server's entry of that member, or null.
 */
export function servedList(server, items) {
  const byMember = new Map();
  for (const item of items) {
    if (!byMember.has(item.member_no)) { byMember.set(item.member_no, []); }
    byMember.get(item.member_no).push(item);
  }
  const listed = new Map(server.map((entry) => [entry.member_no, entry]));
  const top = [];
  const lifted = new Set();
  byMember.forEach((mine, memberNo) => {
    const latest = mine.reduce((a, b) => (ms(b.captured_at) > ms(a.captured_at) ? b : a));
    const known = listed.get(memberNo) || null;
    if (known && ms(latest.captured_at) <= ms(known.at)) { return; }
    lifted.add(memberNo);
    top.push({ member_no: memberNo, name: (known && known.name) || latest.member_name || memberNo,
               at: latest.captured_at, server: known });
  });
  top.sort((a, b) => ms(b.at) - ms(a.at));
  const rest = server.filter((entry) => !lifted.has(entry.member_no))
    .map((entry) => ({ member_no: entry.member_no, name: entry.name, at: entry.at, server: entry }));
  return top.concat(rest).map((entry) => Object.assign(entry, markOf(byMember.get(entry.member_no) || [])));
}

/** `{mark, receipt_no}` of a member's deposits in the outbox (see servedList). */
export function markOf(items) {
  if (!items.length) { return { mark: "", receipt_no: "" }; }
  const mark = servedMark(items);
  if (mark) { return { mark: mark, receipt_no: "" }; }
  const sent = items.filter((item) => item.state === "synced")
    .sort((a, b) => ms(b.captured_at) - ms(a.captured_at))[0];
  return { mark: "sent", receipt_no: (sent && sent.response && sent.response.receipt_no) || "" };
}
