// The shared money vectors (tests/vectors/money.json) against the browser's money.js, the module
// the counter page imports; tests/test_money_vectors.py runs the same file against
// wastebank/money.py. Run with `make test-js` (node --test tests/js/).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as money from "../../wastebank/static/counter/money.js";
import { formatReceiptTime } from "../../wastebank/static/counter/outbox-core.js";

const V = JSON.parse(readFileSync(new URL("../vectors/money.json", import.meta.url), "utf8"));
const EN = V.messages.en;
const SECTIONS = ["parse_quantity", "line_amount", "fee_amount", "format_idr", "format_quantity", "quote"];

/** A vector's integer: beyond 2^53 it is written as a decimal string (and money.js answers a BigInt). */
const int = (value) => (typeof value === "string" ? BigInt(value) : value);

test("money.js exports exactly the rules the page uses", () => {
  assert.deepEqual(Object.keys(money).sort(), ["feeAmount", "formatIdr", "formatQuantity", "goldMilligrams", "lineAmount",
    "messageFor", "parseQuantity", "quoteLines"]);
});

test("the vectors file has every section and at least 60 cases", () => {
  for (const section of SECTIONS) { assert.ok(V[section].length > 0, section); }
  assert.ok(SECTIONS.reduce((n, section) => n + V[section].length, 0) >= 60);
});

for (const c of V.parse_quantity) {
  test(`parse_quantity ${c.id}`, () => {
    const got = money.parseQuantity(c.text, c.unit, c.max_milli);
    if (c.error === undefined) {
      assert.deepEqual(got, { ok: true, milli: c.milli });
    } else {
      assert.deepEqual(got, { ok: false, code: c.error, params: c.params });
      assert.equal(money.messageFor(got, EN), c.message);
    }
  });
}

for (const c of V.line_amount) {
  test(`line_amount ${c.id}`, () => {
    let quantity = int(c.quantity_milli);
    if (c.quantity !== undefined) {
      const parsed = money.parseQuantity(c.quantity, c.unit);
      assert.equal(parsed.ok, true);
      quantity = parsed.milli;
    }
    if (c.error === "refused") {
      assert.throws(() => money.lineAmount(quantity, int(c.unit_price_idr)), RangeError);
    } else {
      assert.equal(money.lineAmount(quantity, int(c.unit_price_idr)), int(c.amount_idr));
    }
  });
}

for (const c of V.fee_amount) {
  test(`fee_amount ${c.id}`, () => {
    if (c.error === "refused") {
      assert.throws(() => money.feeAmount(int(c.total_idr), c.fee_bp), RangeError);
    } else {
      assert.equal(money.feeAmount(int(c.total_idr), c.fee_bp), int(c.fee_idr));
    }
  });
}

for (const c of V.gold_milligrams) {
  test(`gold_milligrams ${c.id}`, () => {
    if (c.error === "refused") {
      assert.throws(() => money.goldMilligrams(int(c.amount_idr), c.price_per_gram_idr), RangeError);
    } else {
      assert.equal(money.goldMilligrams(int(c.amount_idr), c.price_per_gram_idr), int(c.milligrams));
    }
  });
}

for (const c of V.format_idr) {
  test(`format_idr ${c.id}`, () => { assert.equal(money.formatIdr(int(c.amount_idr), c.locale), c.text); });
}

for (const c of V.format_quantity) {
  test(`format_quantity ${c.id}`, () => { assert.equal(money.formatQuantity(c.milli, c.unit, c.locale), c.text); });
}

for (const c of V.quote) {
  test(`quote ${c.id}`, () => {
    const got = money.quoteLines(c.lines, V.quote_prices, c.fee_bp, c.balance_idr);
    if (Object.keys(c.expect.errors).length) {
      const expected = {};
      const messages = {};
      for (const [field, e] of Object.entries(c.expect.errors)) {
        expected[field] = { code: e.code, params: e.params };
        messages[field] = e.message;
      }
      assert.deepEqual(got.errors, expected);
      assert.deepEqual(Object.fromEntries(Object.keys(got.errors).map((field) =>
        [field, money.messageFor(got.errors[field], EN, field)])), messages);
      // Refused as a whole, as the server refuses it: no line, no figure, the balance unchanged.
      assert.deepEqual([got.lines, got.total_idr, got.fee_idr, got.credited_idr, got.balance_after_idr],
                       [[], 0, 0, 0, c.balance_idr]);
    } else {
      assert.deepEqual(got, c.expect);
    }
  });
}

test("results are Numbers when exact and BigInts beyond 2^53", () => {
  assert.equal(typeof money.lineAmount(500000, 10 ** 12), "number");
  assert.equal(money.lineAmount(10n ** 15n, 10n ** 12n), 10n ** 24n);
  assert.equal(typeof money.parseQuantity("1000000000000", "kg").milli, "number");
});

test("over_limit formats the limit in the page's locale (the server's message is Indonesian)", () => {
  assert.deepEqual(money.parseQuantity("2", "pcs", 1500, "en"), { ok: false, code: "over_limit", params: { max: "1.5 pcs" } });
  assert.deepEqual(money.parseQuantity("2", "pcs", 1500).params, { max: "1,5 pcs" });
});

test("messageFor falls back from a specific template to the code's, and to the code", () => {
  const ons = money.parseQuantity("0,005 ons", "kg");
  assert.equal(money.messageFor(ons, { too_precise: "Paling banyak tiga angka desimal." }), "Paling banyak tiga angka desimal.");
  assert.equal(money.messageFor({ code: "lines_gone" }, {}), "lines_gone");
  assert.equal(money.messageFor({ code: "too_many", params: { n: 40 } }, { too_many: "Max %(n)s (100%%)." }), "Max 40 (100%).");
  assert.equal(money.messageFor({ code: "over_limit", params: {} }, EN), "Too much for one line: at most %(max)s.");
  assert.equal(money.messageFor(null, EN), "");
});

test("a fractional piece count is refused with the pieces sentence, not the grams one", () => {
  const half = money.parseQuantity("2,5", "pcs");
  assert.deepEqual(half, { ok: false, code: "too_precise", params: { decimals: 0, whole: true, unit: "pcs" } });
  assert.equal(money.messageFor(half, EN), "Whole pieces only.");
  assert.equal(money.messageFor(money.parseQuantity("750,5 g", "kg"), EN), "Whole grams or millilitres only.");
  assert.deepEqual(money.parseQuantity("3 buah", "pcs"), { ok: true, milli: 3000 });
});

test("quoteLines takes an integer quantity and a missing line object without throwing", () => {
  const got = money.quoteLines([null, { category: "PET-CLEAN", quantity: 2 }], V.quote_prices, 0, 0);
  assert.deepEqual(got.errors, { "lines.0.category": { code: "unknown_category", params: {} } });
});

// Clock times (docs/rules.md §time): the same cases as wastebank/timeutil.py format_local and
// format_clock. The queue's and the served list's time alone is the text after the date.
for (const c of V.clock) {
  test(`clock ${c.id}`, () => {
    const text = formatReceiptTime(new Date(c.utc), c.zone, c.zone_name, c.locale);
    assert.equal(text, c.text);
    assert.equal(text.split(" ").slice(1).join(" "), c.text.split(" ").slice(1).join(" "));
  });
}

test("clock times default to Indonesian and keep the separator without a zone", () => {
  const clock = V.clock[0];
  assert.equal(formatReceiptTime(new Date(clock.utc), clock.zone, clock.zone_name), clock.text);
  const tablet = new Date(2026, 10, 29, 5, 9);   // the tablet's own clock
  assert.equal(formatReceiptTime(tablet, "", "WIB"), "29-11-2026 05.09");
  assert.equal(formatReceiptTime(tablet, "Mars/Olympus_Mons", "MST", "en"), "29-11-2026 05:09");
});
