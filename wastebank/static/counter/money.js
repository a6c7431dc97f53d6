// Money and quantities in the browser: the same rules as wastebank/money.py
// (docs/rules.md §money, §quantities), for the offline counter and the checks as the operator
// types. tests/vectors/money.json is the contract: tests/test_money_vectors.py runs it against
// money.py, tests/js/money.test.mjs against this file (docs/money-rules.md). Change both or
// neither.
//
// Money is whole rupiah; quantities are integer thousandths of the category's unit (grams for
// kg, millilitres for L, thousandths of a piece for pcs). No float is involved: parsing works
// on the digits, products and sums on BigInt. A result is a Number when it is a safe integer
// and a BigInt beyond 2^53 (no amount a unit types comes near that; the products can).
//
// A plain ES module with no dependencies: <script type="module"> in the page, `import` in Node.

const UNITS = ["kg", "L", "pcs"];
const MAX_LINES = 40; // services/deposits.MAX_LINES
const MAX_QUANTITY_MILLI = 10n ** 15n; // money.MAX_QUANTITY_MILLI

// Unit suffixes with the thousandths of the category's unit in one of them (money._SUB_UNITS;
// 1 ons = 100 g), and the decimals each factor allows so the result is whole thousandths.
const SUB_UNITS = {
  kg: { kg: 1000, g: 1, gr: 1, gram: 1, ons: 100 },
  L: { l: 1000, liter: 1000, litre: 1000, ml: 1 },
  pcs: { pcs: 1000, pc: 1000, buah: 1000 },
};
const DECIMALS = { 1000: 3, 100: 2, 1: 0 };

// Python's whitespace (str.strip(), and \s in a str pattern): not the same set as JavaScript's
// trim() and \s, which skip U+001C–U+001F and U+0085 and add U+FEFF.
const WS = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const STRIP = new RegExp("^[" + WS + "]+|[" + WS + "]+$", "g");
const SUFFIXED = new RegExp("^([^\\n]*?)[" + WS + "]*([a-z]+)$"); // Python's "." is anything but \n
const NUMBER = /^([0-9]+)(?:[.,]([0-9]+))?$/;

const hasOwn = (object, key) => object != null && Object.prototype.hasOwnProperty.call(object, key);
const pyStrip = (text) => text.replace(STRIP, "");
const refuse = (code, params) => ({ ok: false, code: code, params: params || {} });
/** A BigInt as a Number when that is exact, else the BigInt itself. */
const exact = (big) => (big >= -BigInt(Number.MAX_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big);

/** A whole number (Number or BigInt) as a BigInt; RangeError for anything else. */
function whole(value, name) {
  if (typeof value === "bigint") { return value; }
  if (typeof value === "number" && Number.isInteger(value)) { return BigInt(value); }
  throw new RangeError(name + " must be a whole number");
}

/**
 * Parse a typed quantity into thousandths of `unit` ("kg", "L" or "pcs"), as
 * money.parse_quantity does: one decimal mark, "," or "."; no thousands separator; a suffix
 * with or without a space, any case (kg: kg, ons, g, gr, gram; L: l, liter, litre, ml; pcs:
 * pcs, pc, buah); three decimals in kg or L, two in ons, none in g or ml, and no decimal mark
 * at all for pieces ("2,5" and "2,0" pcs are refused: a piece count is whole). A Number or
 * BigInt is whole units. `maxMilli` (optional) is the category's line limit.
 *
 * Returns {ok: true, milli} (a Number) or {ok: false, code, params}, with code and params as
 * the Python InputError: required, not_a_number, not_positive, unit ({suffix} for a suffix
 * that does not fit; {} when `unit` itself is unknown), thousands_separator, too_precise
 * ({decimals: 3|2|0, whole}; whole is true for g, ml and pieces, which add unit: "pcs"), over_limit ({max: "500 kg"}, the
 * limit formatted in `locale`, default "id" as the server's message).
 */
export function parseQuantity(text, unit, maxMilli, locale = "id") {
  if (!UNITS.includes(unit)) { return refuse("unit"); }
  if (typeof text === "boolean") { return refuse("not_a_number"); }
  const limit = maxMilli === undefined || maxMilli === null ? MAX_QUANTITY_MILLI
    : (whole(maxMilli, "maxMilli") < MAX_QUANTITY_MILLI ? whole(maxMilli, "maxMilli") : MAX_QUANTITY_MILLI);
  const overLimit = () => refuse("over_limit", { max: formatQuantity(limit, unit, locale) });
  if (typeof text === "number" || typeof text === "bigint") {
    if (typeof text === "number" && !Number.isInteger(text)) { return refuse("not_a_number"); }
    if (text <= 0) { return refuse("not_positive"); }
    if (text >= 1e16) { return overLimit(); }
    text = String(text);
  }
  if (typeof text !== "string") { return refuse("not_a_number"); }
  let raw = pyStrip(text).toLowerCase().replace(/\u00a0/g, " ");
  if (!raw) { return refuse("required"); }
  if (raw[0] === "-") { return refuse("not_positive"); }
  let factor = 1000;
  const suffixed = raw.match(SUFFIXED);
  if (suffixed) {
    const number = pyStrip(suffixed[1]);
    const suffix = suffixed[2];
    if (!number) { return refuse("not_a_number"); }
    if (!hasOwn(SUB_UNITS[unit], suffix)) { return refuse("unit", { suffix: suffix }); }
    factor = SUB_UNITS[unit][suffix];
    raw = number;
  }
  if ((raw.match(/[.,]/g) || []).length > 1) { return refuse("thousands_separator"); }
  const parsed = raw.match(NUMBER);
  if (!parsed) { return refuse("not_a_number"); }
  const units = parsed[1];
  const frac = parsed[2] || "";
  if (unit === "pcs" && frac) { return refuse("too_precise", { decimals: 0, whole: true, unit: "pcs" }); } // pieces are whole
  const allowed = DECIMALS[factor];
  if (frac.length > allowed) { return refuse("too_precise", { decimals: allowed, whole: allowed === 0 }); }
  if (units.replace(/^0+/, "").length > 16) { return overLimit(); }
  const milli = (BigInt(units) * 1000n + BigInt((frac + "000").slice(0, 3))) * BigInt(factor) / 1000n;
  if (milli <= 0n) { return refuse("not_positive"); }
  if (milli > limit) { return overLimit(); }
  return { ok: true, milli: Number(milli) };
}

/** Integer numerator / denominator rounded half up (money.round_half_up_div), on BigInt. */
function halfUp(numerator, denominator) {
  if (numerator < 0n || denominator <= 0n) {
    throw new RangeError("round half up takes a non-negative numerator and a positive denominator");
  }
  return (2n * numerator + denominator) / (2n * denominator);
}

/**
 * Rupiah value of one deposit line: round_half_up(quantity_milli × price / 1000), exactly
 * (money.line_amount). Whole-number arguments (Number or BigInt); RangeError for a negative
 * product or a non-integer.
 */
export function lineAmount(quantityMilli, unitPriceIdr) {
  return exact(halfUp(whole(quantityMilli, "quantityMilli") * whole(unitPriceIdr, "unitPriceIdr"), 1000n));
}

/**
 * Fee withheld from a deposit: round_half_up(total × fee_bp / 10 000) rupiah
 * (money.fee_amount). `feeBp` is basis points, 0–3000 (0–30 %); RangeError outside.
 */
export function feeAmount(totalIdr, feeBp) {
  if (!(Number.isInteger(feeBp) && feeBp >= 0 && feeBp <= 3000)) { throw new RangeError("fee must be between 0 and 30 %"); }
  return exact(halfUp(whole(totalIdr, "totalIdr") * BigInt(feeBp), 10000n));
}

/**
 * The gold `amountIdr` rupiah buy at `pricePerGramIdr` rupiah per gram, in whole milligrams,
 * rounded DOWN (money.gold_milligrams): 1000000 at 1950000 → 512 (0,512 g). RangeError for a
 * price of 0 or less or a negative amount.
 */
export function goldMilligrams(amountIdr, pricePerGramIdr) {
  const amount = whole(amountIdr, "amountIdr");
  const price = whole(pricePerGramIdr, "pricePerGramIdr");
  if (price <= 0n || amount < 0n) { throw new RangeError("goldMilligrams takes a positive price and a non-negative amount"); }
  return exact(amount * 1000n / price);
}

const isEnglish = (locale) => String(locale || "id").startsWith("en");

/**
 * Rupiah for people (money.format_idr): 4875 → "Rp 4.875" (id) or "Rp 4,875" (en); negative
 * "-Rp 4.875". Only the app's languages, id and en, are known: others group as id.
 */
export function formatIdr(amount, locale = "id") {
  const big = whole(amount, "amount");
  const digits = (big < 0n ? -big : big).toString();
  return (big < 0n ? "-" : "") + "Rp " + digits.replace(/\B(?=(\d{3})+(?!\d))/g, isEnglish(locale) ? "," : ".");
}

/**
 * Thousandths for people (money.format_quantity): 1500, "kg" → "1,5 kg" (id) / "1.5 kg" (any
 * other locale); up to three decimals without trailing zeros, whole units grouped by thousands
 * (1234567 g → "1.234,567 kg" id, "1,234.567 kg" en). `withUnit` false leaves the unit off.
 */
export function formatQuantity(milli, unit, locale = "id", withUnit = true) {
  const big = whole(milli, "milli");
  const abs = big < 0n ? -big : big;
  const frac = abs % 1000n;
  const indonesian = String(locale || "id").startsWith("id");
  const mark = indonesian ? "," : ".";
  const digits = (abs / 1000n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, indonesian ? "." : ",");
  let text = digits + (frac ? mark + frac.toString().padStart(3, "0").replace(/0+$/, "") : "");
  if (big < 0n) { text = "-" + text; }
  return withUnit ? text + " " + unit : text;
}

/**
 * Price a deposit as services/deposits.quote_deposit does, without the database.
 * `lines` is [{category, quantity}] as typed; `prices` {CODE: {unit, buy_price_idr,
 * max_line_milli}} (the prices in force); `feeBp` the unit's fee; `balanceIdr` the member's
 * balance before. Category codes are trimmed and upper-cased.
 *
 * Returns {lines: [{category, quantity_milli, unit, unit_price_idr, amount_idr}], total_idr,
 * fee_idr, credited_idr, balance_after_idr, errors}. `errors` is {} or, as the server refuses
 * the whole deposit, holds every bad field — "lines" ({code: "required"} or {code:
 * "too_many", params: {n: 40}}), "lines.<i>.category" ({code: "unknown_category"}),
 * "lines.<i>.quantity" (a parseQuantity refusal, or too_small when the line is worth less
 * than half a rupiah) — and then `lines` is empty and the figures are 0 (balance unchanged).
 */
export function quoteLines(lines, prices, feeBp, balanceIdr) {
  const balance = whole(balanceIdr || 0, "balanceIdr");
  const refused = (errors) => ({ lines: [], total_idr: 0, fee_idr: 0, credited_idr: 0, balance_after_idr: exact(balance),
                                 errors: errors });
  if (!lines || !lines.length) { return refused({ lines: { code: "required", params: {} } }); }
  if (lines.length > MAX_LINES) { return refused({ lines: { code: "too_many", params: { n: MAX_LINES } } }); }
  const errors = {};
  const quoted = [];
  lines.forEach((line, i) => {
    const code = String((line && line.category) || "").trim().toUpperCase();
    const row = hasOwn(prices, code) ? prices[code] : null;
    if (!row) { errors["lines." + i + ".category"] = { code: "unknown_category", params: {} }; return; }
    const parsed = parseQuantity(line.quantity, row.unit, row.max_line_milli);
    if (!parsed.ok) { errors["lines." + i + ".quantity"] = { code: parsed.code, params: parsed.params }; return; }
    const amount = lineAmount(parsed.milli, row.buy_price_idr);
    if (amount <= 0) { errors["lines." + i + ".quantity"] = { code: "too_small", params: {} }; return; }
    quoted.push({ category: code, quantity_milli: parsed.milli, unit: row.unit, unit_price_idr: row.buy_price_idr,
                  amount_idr: amount });
  });
  if (Object.keys(errors).length) { return refused(errors); }
  const total = quoted.reduce((sum, line) => sum + BigInt(line.amount_idr), 0n);
  const fee = whole(feeAmount(total, feeBp || 0), "fee");
  return { lines: quoted, total_idr: exact(total), fee_idr: exact(fee), credited_idr: exact(total - fee),
           balance_after_idr: exact(balance + total - fee), errors: {} };
}

/**
 * The sentence for a refusal {code, params}: the template from `messages` (the server's own,
 * translated: money.message_templates()) with its %(name)s placeholders filled from params.
 * The most specific key present wins: "lines_<code>" when `field` is "lines";
 * "too_precise_pcs" (params.unit "pcs"), "too_precise_whole" (params.whole) or "too_precise_ons"
 * (params.decimals 2); "unit_measure"
 * for a unit refusal without a suffix; then the code itself. No template: the code.
 */
export function messageFor(error, messages, field) {
  if (!error) { return ""; }
  const params = error.params || {};
  const keys = [];
  if (field === "lines") { keys.push("lines_" + error.code); }
  if (error.code === "too_precise" && params.unit === "pcs") { keys.push("too_precise_pcs"); }
  if (error.code === "too_precise" && params.whole) { keys.push("too_precise_whole"); }
  if (error.code === "too_precise" && params.decimals === 2) { keys.push("too_precise_ons"); }
  if (error.code === "unit" && !hasOwn(params, "suffix")) { keys.push("unit_measure"); }
  keys.push(error.code);
  const key = keys.find((k) => hasOwn(messages, k) && typeof messages[k] === "string");
  if (key === undefined) { return String(error.code); }
  return messages[key].replace(/%(?:\((\w+)\)s|%)/g, (match, name) =>
    (name === undefined ? "%" : hasOwn(params, name) ? String(params[name]) : match));
}
