// The gold savings fields of the withdrawal form: as the operator types the amount and the
// price per gram, "Nasabah mendapat 0,512 g" shows the grams the rupiah buy, rounded down as the
// server rounds them (money.js goldMilligrams = money.gold_milligrams, tests/vectors/money.json).
// A preview only: the confirmation step shows the server's figure.
import { formatQuantity, goldMilligrams } from "./money.js";

/** Whole rupiah typed as at the counter ("1.950.000", "Rp 1950000"), or null. */
export function typedRupiah(text) {
  const raw = String(text || "").trim().toLowerCase().replace(/^rp\s*/, "").replace(/[,.]00?$/, "");
  if (/^[0-9]{1,3}(\.[0-9]{3})+$/.test(raw)) { return Number(raw.replace(/\./g, "")); }
  if (/^[0-9]+$/.test(raw)) { return Number(raw); }
  return null;
}

const form = document.getElementById("withdraw-form");
const out = document.getElementById("gold-grams");
if (form && out) {
  const update = () => {
    const amount = typedRupiah(form.querySelector("[name=amount]").value);
    const price = typedRupiah(form.querySelector("[name=gold_price]").value);
    if (!amount || !price || !Number.isSafeInteger(amount) || !Number.isSafeInteger(price)) {
      out.textContent = out.dataset.none;
      return;
    }
    out.textContent = out.dataset.label + " " + formatQuantity(goldMilligrams(amount, price), "g",
                                                                document.documentElement.lang || "id");
  };
  form.addEventListener("input", update);
  update();
}
