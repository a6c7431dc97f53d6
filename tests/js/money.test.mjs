// The shared money vectors (tests/vectors/money.json) against the browser's money.js; the same
// file is run against wastebank/money.py by tests/test_money_vectors.py.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as money from "../../wastebank/static/counter/money.js";

const V = JSON.parse(readFileSync(new URL("../vectors/money.json", import.meta.url), "utf8"));

test("money.js exports exactly the rules the page uses", () => {
  assert.deepEqual(Object.keys(money).sort(), ["MAX_LINES", "UNITS", "feeAmount", "formatIdr", "formatQuantity",
    "lineAmount", "messageFor", "parseQuantity", "quoteLines"]);
});

V.parse_quantity.forEach((c, i) => test(`parse_quantity ${i}: ${c.note}`, () => {
  const got = money.parseQuantity(c.text, c.unit, c.max_milli);
  if (c.error) { assert.equal(got.ok, false); assert.equal(got.code, c.error); }
  else { assert.deepEqual(got, { ok: true, milli: c.milli }); }
}));

V.line_amount.forEach((c, i) => test(`line_amount ${i}: ${c.note}`, () => {
  assert.equal(money.lineAmount(c.quantity_milli, c.unit_price_idr), c.amount_idr);
}));

V.fee_amount.forEach((c, i) => test(`fee_amount ${i}: ${c.note}`, () => {
  assert.equal(money.feeAmount(c.total_idr, c.fee_bp), c.fee_idr);
}));

V.format_idr.forEach((c) => test(`format_idr ${c.text} (${c.locale})`, () => {
  assert.equal(money.formatIdr(c.amount_idr, c.locale), c.text);
}));

V.format_quantity.forEach((c) => test(`format_quantity ${c.text} (${c.locale})`, () => {
  assert.equal(money.formatQuantity(c.milli, c.unit, c.locale), c.text);
}));

V.quote.forEach((c, i) => test(`quote ${i}: ${c.note}`, () => {
  const got = money.quoteLines(c.lines, V.quote_prices, c.fee_bp, c.balance_idr);
  const codes = Object.fromEntries(Object.entries(got.errors).map(([k, v]) => [k, v.code]));
  assert.deepEqual(codes, c.expect.errors);
  assert.deepEqual(got.lines.map((l) => l.amount_idr), c.expect.amounts);
  if (!Object.keys(c.expect.errors).length) {
    assert.deepEqual([got.total_idr, got.fee_idr, got.credited_idr, got.balance_after_idr],
      [c.expect.total_idr, c.expect.fee_idr, c.expect.credited_idr, c.expect.balance_after_idr]);
  }
}));

test("messages are the server's templates with their values filled in", () => {
  const messages = { over_limit: "Terlalu banyak untuk satu baris: paling banyak %(max)s.",
                     too_precise: "Paling banyak tiga desimal.", too_precise_whole: "Hanya gram bulat." };
  assert.equal(money.messageFor(money.parseQuantity("600", "kg", 500000), messages),
               "Terlalu banyak untuk satu baris: paling banyak 500 kg.");
  assert.equal(money.messageFor(money.parseQuantity("1,5 g", "kg"), messages), "Hanya gram bulat.");
  assert.equal(money.messageFor(money.parseQuantity("1,2345", "kg"), messages), "Paling banyak tiga desimal.");
});
