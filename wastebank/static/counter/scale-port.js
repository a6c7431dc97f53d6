// The "Timbang" button of the deposit screen: one stable weight from a USB/serial scale
// through the Web Serial API (Chromium on desktop and Android; docs/scale.md). The bytes are
// read by scale.js; this module only talks to the port and to the button.
//
// The first tap asks the browser for the port (its chooser needs the tap); later taps reuse
// the port the browser already allowed. The port is opened for one reading and closed again,
// so that an old weight waiting in the adapter's buffer is never taken for the next line.
import { createParser, createStabilizer } from "./scale.js";

/** Serial settings of most counter scales: 9600 baud, 8 data bits, no parity, 1 stop bit. */
export const DEFAULT_BAUD = 9600;
/** How long a tap waits for a stable weight. */
export const WAIT_MS = 10000;

/** True when this browser has Web Serial (and the page may use it). */
export function available() {
  return typeof navigator !== "undefined" && !!navigator.serial && typeof navigator.serial.requestPort === "function";
}

async function pickPort() {
  const allowed = await navigator.serial.getPorts();
  return allowed.length ? allowed[0] : navigator.serial.requestPort();
}

/**
 * Read until a stable weight arrives, then close the port. `onReading(reading)` is called for
 * every reading on the way (to show "unstable …"). Answers {reading} or {error}: "no_port" (the
 * operator closed the chooser), "open" (the port is busy or gone), "timeout" (nothing stable
 * within `waitMs`), "closed" (the scale went away while reading).
 */
export async function readStableWeight({ baudRate = DEFAULT_BAUD, waitMs = WAIT_MS, onReading = () => {} } = {}) {
  let port;
  try { port = await pickPort(); } catch (e) { return { error: "no_port" }; }
  try { await port.open({ baudRate: baudRate, dataBits: 8, parity: "none", stopBits: 1 }); } catch (e) {
    return { error: "open" };
  }
  const parser = createParser();
  const stabilizer = createStabilizer();
  const reader = port.readable.getReader();
  let timer = null;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve({ timeout: true }), waitMs); });
  try {
    for (;;) {
      const chunk = await Promise.race([reader.read(), timeout]);
      if (chunk.timeout) { return { error: "timeout" }; }
      if (chunk.done) { return { error: "closed" }; }
      for (const reading of parser.push(chunk.value)) {
        onReading(reading);
        const taken = stabilizer.offer(reading);
        if (taken) { return { reading: taken }; }
      }
    }
  } catch (e) {
    return { error: "closed" };
  } finally {
    clearTimeout(timer);
    try { await reader.cancel(); } catch (e) { /* already closed */ }
    reader.releaseLock();
    try { await port.close(); } catch (e) { /* already closed */ }
  }
}
