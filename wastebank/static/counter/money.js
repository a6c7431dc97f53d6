// Money and quantities in the browser: the same rules as wastebank/money.py (SPEC §3), proven
// by one shared file of test vectors (tests/vectors/money.json) that a Python test and a Node
// test both run. Money is whole rupiah; quantities are integer thousandths of the category's
// unit. No float is ever involved in a result: parsing works on the digits, products on BigInt.

export const UNITS = ["kg", "L", "pcs"];
export const MAX_LINES = 40;

// Smaller units a weight input may carry, with the factor to thousandths of the base unit
// (money._SUB_UNITS), and how many decimals each allows so the result stays whole.
const SUB_UNITS = {
  kg: { kg: 1000, g: 1, gr: 1, gram: 1, ons: 100 },
  L: { l: 1000, liter: 1000, litre: 1000, ml: 1 },
  pcs: { pcs: 1000, pc: 1000, buah: 1000 },
};
const DECIMALS = { 1000: 3, 100: 2, 1: 0 };
const NUMBER = /^([0-9]+)(?:[.,]([0-9]+))?$/;

function refuse(code, params) { return { ok: false, code: code, params: params || {} }; }

/**
 * Parse a typed quantity into thousandths of `unit` (money.parse_quantity).
 * Returns {ok: true, milli} or {ok: false, code, params}; codes: required, not_a_number,
 * not_positive, unit (params.suffix), thousands_separator, too_precise (params.whole when only
 * whole grams or millilitres are allowed), over_limit (params.max, formatted in `locale`).
 */
export function parseQuantity(text, unit, maxMilli, locale = "id") {
  if (UNITS.indexOf(unit) < 0) { return refuse("unit", { suffix: String(unit) }); }
  if (typeof text === "boolean") { return refuse("not_a_number"); }
  if (typeof text === "number") {
    if (!Number.isInteger(text)) { return refuse("not_a_number"); }
    text = String(text);
  }
  if (typeof text !== "string") { return refuse("not_a_number"); }
  let raw = text.replace(/\u00a0/g, " ").trim().toLowerCase();
  if (!raw) { return refuse("required"); }
  if (raw[0] === "-") { return refuse("not_positive"); }
  let factor = 1000;
  const suffixed = raw.match(/^(.*?)\s*([a-z]+)$/);
  if (suffixed) {
    const number = suffixed[1].trim();
    const suffix = suffixed[2];
    if (!number) { return refuse("not_a_number"); }
    if (!Object.prototype.hasOwnProperty.call(SUB_UNITS[unit], suffix)) { return refuse("unit", { suffix: suffix }); }
    factor = SUB_UNITS[unit][suffix];
    raw = number;
  }
  if ((raw.match(/[.,]/g) || []).length > 1) { return refuse("thousands_separator"); }
  const parsed = raw.match(NUMBER);
  if (!parsed) { return refuse("not_a_number"); }
  const whole = parsed[1];
  const frac = parsed[2] || "";
  const allowed = DECIMALS[factor] !== undefined ? DECIMALS[factor] : 3;
  if (frac.length > allowed) { return refuse("too_precise", allowed === 0 ? { whole: true } : { decimals: allowed }); }
  const milli = (BigInt(whole) * 1000n + BigInt((frac + "000").slice(0, 3))) * BigInt(factor) / 1000n;
  if (milli <= 0n) { return refuse("not_positive"); }
  if (maxMilli !== undefined && maxMilli !== null && milli > BigInt(maxMilli)) {
    return refuse("over_limit", { max: formatQuantity(maxMilli, unit, locale) });
  }
  return { ok: true, milli: Number(milli) };
}

/** Integer `numerator / denominator` rounded half up (money.round_half_up_div), as BigInt. */
function halfUp(numerator, denominator) { return (2n * numerator + denominator) / (2n * denominator); }

/** Rupiah value of one line: round_half_up(quantity_milli × price / 1000) (money.line_amount). */
export function lineAmount(quantityMilli, unitPriceIdr) {
  return Number(halfUp(BigInt(quantityMilli) * BigInt(unitPriceIdr), 1000n));
}

/** Fee withheld: round_half_up(total × fee_bp / 10 000), fee_bp 0–3000 (money.fee_amount). */
export function feeAmount(totalIdr, feeBp) {
  if (!(feeBp >= 0 && feeBp <= 3000)) { throw new RangeError("fee must be between 0 and 30 %"); }
  return Number(halfUp(BigInt(totalIdr) * BigInt(feeBp), 10000n));
}

function group(digits, mark) { return digits.replace(/\B(?=(\d{3})+(?!\d))/g, mark); }

/** 4875 → "Rp 4.875" (id) / "Rp 4,875" (en); negative "-Rp 4.875" (money.format_idr). */
export function formatIdr(amount, locale = "id") {
  const sign = amount < 0 ? "-" : "";
  const digits = String(amount < 0 ? -amount : amount);
  return sign + "Rp " + group(digits, String(locale || "id").startsWith("en") ? "," : ".");
}

/** 1500, "kg" → "1,5 kg" (id) / "1.5 kg" (en); up to three decimals (money.format_quantity). */
export function formatQuantity(milli, unit, locale = "id", withUnit = true) {
  const abs = Math.abs(milli);
  const whole = Math.floor(abs / 1000);
  const frac = abs % 1000;
  const mark = String(locale || "id").startsWith("id") ? "," : ".";
  let text = String(whole) + (frac ? mark + String(frac).padStart(3, "0").replace(/0+$/, "") : "");
  if (milli < 0) { text = "-" + text; }
  return withUnit ? text + " " + unit : text;
}

/**
 * Price `lines` ([{category, quantity}]) with `prices` ({CODE: {unit, buy_price_idr,
 * max_line_milli}}) as services/deposits.quote_deposit does, without the database.
 * Returns {lines: [{category, quantity_milli, unit, unit_price_idr, amount_idr}], total_idr,
 * fee_idr, credited_idr, balance_after_idr, errors}; with any error, `lines` is empty and the
 * figures are 0, as the server refuses the whole deposit. Error keys: "lines",
 * "lines.<i>.category", "lines.<i>.quantity"; values {code, params}.
 */
export function quoteLines(lines, prices, feeBp, balanceIdr) {
  const empty = (errors) => ({ lines: [], total_idr: 0, fee_idr: 0, credited_idr: 0,
                               balance_after_idr: balanceIdr || 0, errors: errors });
  if (!lines || !lines.length) { return empty({ lines: { code: "required", params: {} } }); }
  if (lines.length > MAX_LINES) { return empty({ lines: { code: "too_many", params: { n: MAX_LINES } } }); }
  const errors = {};
  const quoted = [];
  lines.forEach((line, i) => {
    const code = String(line.category || "").trim().toUpperCase();
    const row = Object.prototype.hasOwnProperty.call(prices, code) ? prices[code] : null;
    if (!row) { errors["lines." + i + ".category"] = { code: "unknown_category", params: {} }; return; }
    const parsed = parseQuantity(line.quantity, row.unit, row.max_line_milli);
    if (!parsed.ok) { errors["lines." + i + ".quantity"] = { code: parsed.code, params: parsed.params }; return; }
    const amount = lineAmount(parsed.milli, row.buy_price_idr);
    if (amount <= 0) { errors["lines." + i + ".quantity"] = { code: "too_small", params: {} }; return; }
    quoted.push({ category: code, quantity_milli: parsed.milli, unit: row.unit, unit_price_idr: row.buy_price_idr,
                  amount_idr: amount });
  });
  if (Object.keys(errors).length) { return empty(errors); }
  const total = quoted.reduce((sum, line) => sum + line.amount_idr, 0);
  const fee = feeAmount(total, feeBp || 0);
  return { lines: quoted, total_idr: total, fee_idr: fee, credited_idr: total - fee,
           balance_after_idr: (balanceIdr || 0) + total - fee, errors: {} };
}

/**
 * The translated sentence for an error {code, params}: `messages` maps codes (and
 * "too_precise_whole") to the server's own templates with %(name)s placeholders.
 */
export function messageFor(error, messages) {
  if (!error) { return ""; }
  let key = error.code;
  if (key === "too_precise" && error.params && error.params.whole) { key = "too_precise_whole"; }
  const template = messages[key] || messages[error.code] || error.code;
  return template.replace(/%\((\w+)\)s/g, (m, name) => (error.params && name in error.params ? String(error.params[name]) : m));
}
