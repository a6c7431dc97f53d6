// The tare of a deposit line (docs/tare.md): the scale shows the gross, the operator picks the
// container the waste is in, and the net (gross − the container's weight) is what is priced.
// The same rule as services/deposits._net_weight: kg lines only, the tare must be less than
// the gross. Pure functions, tested in tests/js/tare.test.mjs.
import { formatQuantity } from "./money.js";

/**
 * The net of a line weighed in a container, all thousandths (grams for kg).
 * Returns {ok: true, milli} or {ok: false, code: "tare_not_less", params: {container, tare, gross}}
 * with the params formatted as the server's message shows them (Indonesian: "0,2 kg").
 */
export function netOf(grossMilli, container, locale) {
  if (!container) { return { ok: true, milli: grossMilli }; }
  if (container.tare_g >= grossMilli) {
    return { ok: false, code: "tare_not_less",
             params: { container: container.name, tare: formatQuantity(container.tare_g, "kg", locale),
                       gross: formatQuantity(grossMilli, "kg", locale) } };
  }
  return { ok: true, milli: grossMilli - container.tare_g };
}

/** "bruto 1,7 kg − Karung 0,2 kg = 1,5 kg" from the translated template (messages.tare_text). */
export function tareText(template, grossMilli, container, locale) {
  const values = { gross: formatQuantity(grossMilli, "kg", locale), container: container.name,
                   tare: formatQuantity(container.tare_g, "kg", locale),
                   net: formatQuantity(grossMilli - container.tare_g, "kg", locale) };
  return String(template).replace(/%\((\w+)\)s/g, (match, name) => (name in values ? values[name] : match));
}

/** The unit's containers by id (as text, the select's value), from [{id, name, tare_g}]. */
export function byId(list) {
  const out = {};
  for (const c of list || []) { out[String(c.id)] = { id: c.id, name: c.name, tare_g: c.tare_g }; }
  return out;
}
