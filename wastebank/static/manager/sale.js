// New sale (manager/sale_new.html): the amount of each line and the running total as the
// manager types, before the check step. Only an estimate: the server's check step
// (services/sales.quote_sale) stays the authority and shows the exact figures, the stock
// cost and the margin. Same rules as the server, from ../counter/money.js: the accepted
// quantity (the weighed one when left empty) × the price per unit, rounded half up.
import { formatIdr, lineAmount, parseQuantity } from "../counter/money.js";

const locale = document.documentElement.lang || "id";
const form = document.getElementById("sale-form");
const estimate = document.getElementById("sale-estimate");

/** Whole rupiah typed as "4500", "4.500" or "Rp 4.500"; null for anything else. */
function parsePrice(text) {
  const raw = String(text || "").trim().replace(/^rp\.?\s*/i, "");
  if (/^[0-9]{1,13}$/.test(raw)) { return Number(raw); }
  if (/^[0-9]{1,3}(\.[0-9]{3})+$/.test(raw)) { return Number(raw.replace(/\./g, "")); }
  return null;
}

/** The line's amount in rupiah, 0 for a row left empty, null when a field cannot be read. */
function lineValue(row) {
  const unit = row.dataset.unit;
  const weighedText = row.querySelector("input.weighed").value;
  if (!weighedText.trim()) { return 0; }
  const weighed = parseQuantity(weighedText, unit);
  if (!weighed.ok) { return null; }
  const acceptedText = row.querySelector("input.accepted").value;
  let accepted = weighed.milli;
  if (acceptedText.trim()) {
    const parsed = /^0+([.,]0*)?$/.test(acceptedText.trim()) ? { ok: true, milli: 0 } : parseQuantity(acceptedText, unit);
    if (!parsed.ok || parsed.milli > weighed.milli) { return null; }
    accepted = parsed.milli;
  }
  const price = parsePrice(row.querySelector("input.price").value);
  if (price === null) { return accepted === 0 ? 0 : null; }
  return lineAmount(accepted, price);
}

function update() {
  let total = 0;
  let unreadable = false;
  for (const row of form.querySelectorAll("tr.sale-line")) {
    const value = lineValue(row);
    const cell = row.querySelector("td.amount");
    const typed = row.querySelector("input.weighed").value.trim() !== "";
    if (value === null) {
      unreadable = true;
      cell.textContent = "?";
    } else {
      total += Number(value);
      cell.textContent = typed ? formatIdr(value, locale) : "–";
    }
  }
  estimate.textContent = formatIdr(total, locale) + (unreadable ? " + ?" : "");
}

if (form && estimate) {
  form.addEventListener("input", update);
  update();
}
