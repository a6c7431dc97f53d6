// A digital scale's serial output, read into weights (issue 12 item 5; docs/scale.md).
//
// Counter scales (platform scales with an RS-232 or USB-serial indicator) send one line per
// reading, many a second in "continuous" mode. The common formats:
//
//   ST,GS,+  1.500kg      A&D / most Chinese indicators: ST stable, US unstable, OL overload;
//   US,GS,+  1.480kg      GS gross, NT net (after the scale's own tare), TR tare
//   S S      1.500 kg     Mettler Toledo MT-SICS: "S S" stable, "S D" dynamic (unstable)
//      1.500 kg ?         Ohaus and others: "?" (or M, MOTION) marks an unstable reading
//      1.500 kg           no flag at all: stable once the same weight comes PLAIN_REPEATS times
//   1500 g                grams instead of kilograms
//
// Lines end in \r\n, \r or \n and may arrive split across any number of chunks. Weights are
// integer thousandths of a kilogram (grams), the unit of every kg quantity in money.js: no
// float is involved; a reading finer than a gram is rounded half up to the gram.
//
// A plain ES module with no browser API: the page's Web Serial code (scale-port.js) feeds it
// bytes; tests/js/scale.test.mjs feeds it recorded byte streams under Node.
import { formatQuantity } from "./money.js";

/** Same-weight flagless lines in a row that count as stable. */
export const PLAIN_REPEATS = 3;
/** A line longer than this without an end is noise (a wrong baud rate): it is dropped. */
const MAX_LINE = 200;

const UNIT_FACTOR = { kg: 1000, g: 1 };
// The weight: optional sign, digits with one optional decimal mark, optional spaces, unit.
const WEIGHT = /([+-])?\s*(\d+)(?:[.,](\d+))?\s*(kg|g)(?![a-z])/i;

/** "1" + "500" in kg → 1500; in g the fraction is rounded half up to whole grams. */
function toMilli(whole, frac, unit) {
  const factor = UNIT_FACTOR[unit];
  const decimals = factor === 1000 ? 3 : 0;
  const digits = (frac || "").padEnd(decimals + 1, "0");
  const kept = digits.slice(0, decimals);
  const roundUp = digits.charCodeAt(decimals) >= 53; // the next digit is 5 or more
  const value = Number(whole) * factor + (kept ? Number(kept) : 0) + (roundUp ? 1 : 0);
  return Number.isSafeInteger(value) ? value : null;
}

/** The stability a line declares: true (stable), false (unstable or overload), or null (no flag). */
function stabilityOf(text) {
  const upper = text.toUpperCase();
  const header = upper.match(/^\s*(ST|US|OL)\s*,/);
  if (header) { return header[1] === "ST"; }
  const sics = upper.match(/^\s*S\s+([SD])\s/);
  if (sics) { return sics[1] === "S"; }
  if (/\?|\bMOTION\b|\bUNSTABLE\b|\bUS\b|\bM\b/.test(upper.replace(WEIGHT, " "))) { return false; }
  if (/\bSTABLE\b|\bST\b/.test(upper)) { return true; }
  return null;
}

/**
 * One line of scale output as a reading, or null when it holds no weight (a header, a blank
 * line, noise). A reading is {milli, unit ("kg" or "g", as the scale sent it), stable (true,
 * false, or null for no flag), overload, net (the scale's own tare is applied), negative, text}.
 * `milli` is grams as an integer thousandths of a kilogram, never negative (see `negative`).
 */
export function parseLine(line) {
  // eslint-disable-next-line no-control-regex
  const text = String(line).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, " ").trim();
  if (!text) { return null; }
  const upper = text.toUpperCase();
  const overload = /^\s*OL\s*,/.test(upper) || /^\s*S\s+[+-]\s*$/.test(upper) || /\bOVERLOAD\b|\bOL\b/.test(upper);
  const match = text.match(WEIGHT);
  if (!match) {
    return overload ? { milli: 0, unit: "kg", stable: false, overload: true, net: false, negative: false, text } : null;
  }
  const unit = match[4].toLowerCase();
  const milli = toMilli(match[2], match[3], unit);
  if (milli === null) { return null; }
  return {
    milli, unit, stable: overload ? false : stabilityOf(text), overload,
    net: /(^|[\s,])NT([\s,]|$)|\bNET\b|\bN\b/.test(upper.replace(WEIGHT, " ")),
    negative: match[1] === "-" && milli > 0, text,
  };
}

/**
 * A stream parser: `push(chunk)` takes bytes (Uint8Array, as Web Serial delivers them) or a
 * string, and answers the readings of the lines it completed (a line split across chunks is
 * read once its end arrives). `flush()` reads a last line without an end.
 */
export function createParser() {
  const decoder = new TextDecoder("latin1");
  let buffer = "";
  const take = (text) => {
    buffer += text;
    const parts = buffer.split(/\r\n|\r|\n/);
    buffer = parts.pop();
    // "\r" then "\n" in the next chunk: the empty line between them is no reading.
    if (buffer.length > MAX_LINE) { buffer = ""; }
    return parts.map(parseLine).filter((reading) => reading !== null);
  };
  return {
    push(chunk) {
      return take(typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true }));
    },
    flush() {
      const last = buffer;
      buffer = "";
      const reading = parseLine(last);
      return reading ? [reading] : [];
    },
  };
}

/**
 * Decides when a weight may be taken: `offer(reading)` answers the reading when it is stable
 * and more than zero, else null. A flagged-stable line is taken at once; a line without flag
 * once the same weight arrived `repeats` times in a row; an unstable, overloaded, negative or
 * zero reading starts the count again.
 */
export function createStabilizer(repeats = PLAIN_REPEATS) {
  let last = null;
  let count = 0;
  return {
    offer(reading) {
      if (!reading || reading.overload || reading.negative || reading.milli <= 0 || reading.stable === false) {
        last = null;
        count = 0;
        return null;
      }
      if (reading.stable === true) { return reading; }
      count = last === reading.milli ? count + 1 : 1;
      last = reading.milli;
      return count >= repeats ? reading : null;
    },
  };
}

/**
 * The first stable weight in a recorded stream of chunks (bytes or strings), or null:
 * parser and stabilizer together, as the Timbang button uses them.
 */
export function firstStable(chunks, repeats = PLAIN_REPEATS) {
  const parser = createParser();
  const stabilizer = createStabilizer(repeats);
  for (const chunk of chunks) {
    for (const reading of parser.push(chunk)) {
      const taken = stabilizer.offer(reading);
      if (taken) { return taken; }
    }
  }
  for (const reading of parser.flush()) {
    const taken = stabilizer.offer(reading);
    if (taken) { return taken; }
  }
  return null;
}

/** A weight as the operator would type it in the quantity box: 1500 → "1,5" (id), "1.5" (en). */
export function inputText(milli, locale = "id") {
  return formatQuantity(milli, "kg", locale, false);
}
