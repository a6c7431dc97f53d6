// The scale parser (static/counter/scale.js) against recorded byte streams of the common
// continuous output formats (docs/scale.md). Run with `make test-js` (node --test tests/js/).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { PLAIN_REPEATS, createParser, createStabilizer, firstStable, inputText, parseLine } from "../../wastebank/static/counter/scale.js";

// Byte streams: tests/vectors/scale_streams.json holds each as the chunks a USB-serial adapter
// delivers (latin1 text, escapes for \r, \n, STX/ETX), cut at awkward places; written by hand
// from the formats' documentation (no particular scale was recorded).
const STREAMS = JSON.parse(readFileSync(new URL("../vectors/scale_streams.json", import.meta.url), "utf8")).streams;
const bytes = (text) => Uint8Array.from(Buffer.from(text, "latin1"));

test("the module exports the parser, the stabilizer and the input text", async () => {
  const module = await import("../../wastebank/static/counter/scale.js");
  assert.deepEqual(Object.keys(module).sort(),
    ["PLAIN_REPEATS", "createParser", "createStabilizer", "firstStable", "inputText", "parseLine"]);
  assert.equal(PLAIN_REPEATS, 3);
});

test("one line of each format", () => {
  const cases = [
    ["ST,GS,+  1.500kg", { milli: 1500, unit: "kg", stable: true, net: false }],
    ["US,GS,+  1.480kg", { milli: 1480, unit: "kg", stable: false, net: false }],
    ["ST,NT,+001.250kg", { milli: 1250, unit: "kg", stable: true, net: true }],
    ["   1.500 kg", { milli: 1500, unit: "kg", stable: null, net: false }],
    ["S S      1.500 kg", { milli: 1500, unit: "kg", stable: true, net: false }],
    ["S D      1.498 kg", { milli: 1498, unit: "kg", stable: false, net: false }],
    ["    1.502 kg ?", { milli: 1502, unit: "kg", stable: false, net: false }],
    ["  1500 g", { milli: 1500, unit: "g", stable: null, net: false }],
    ["ST,GS,+   1500g", { milli: 1500, unit: "g", stable: true, net: false }],
    ["ST,GS,+  12.345KG", { milli: 12345, unit: "kg", stable: true, net: false }],
    ["   1,500 kg", { milli: 1500, unit: "kg", stable: null, net: false }],
    ["\u0002ST,GS,+  0.750kg\u0003", { milli: 750, unit: "kg", stable: true, net: false }],
  ];
  for (const [line, want] of cases) {
    const got = parseLine(line);
    assert.ok(got, line);
    assert.deepEqual({ milli: got.milli, unit: got.unit, stable: got.stable, net: got.net }, want, line);
    assert.equal(got.overload, false, line);
  }
});

test("finer than a gram is rounded half up to the gram; more than three kg decimals too", () => {
  assert.equal(parseLine("  12.5 g").milli, 13);
  assert.equal(parseLine("  12.4 g").milli, 12);
  assert.equal(parseLine("  1.2345 kg").milli, 1235);
  assert.equal(parseLine("  1.2344 kg").milli, 1234);
  assert.equal(parseLine("  2 kg").milli, 2000);
});

test("no weight, overload and negative readings", () => {
  for (const line of ["", "   ", "\u0002\u0003", "HELLO", "1.500", "1.500 lb", "ST,GS,+  1.500kgx"]) {
    assert.equal(parseLine(line), null, JSON.stringify(line));
  }
  assert.deepEqual(
    (({ overload, stable }) => ({ overload, stable }))(parseLine("OL,GS,+  9.999kg")), { overload: true, stable: false });
  assert.equal(parseLine("OL,GS,+   -.---kg").overload, true);
  const negative = parseLine("ST,GS,-  0.120kg");
  assert.equal(negative.negative, true);
  assert.equal(negative.milli, 120);
});

test("a line split across chunks, in bytes, is read once when its end arrives", () => {
  const parser = createParser();
  assert.deepEqual(parser.push(bytes("ST,GS,+ ")), []);
  assert.deepEqual(parser.push(bytes(" 1.5")), []);
  const done = parser.push(bytes("00kg\r"));
  assert.equal(done.length, 1);
  assert.equal(done[0].milli, 1500);
  // The "\n" of that "\r\n" comes in the next chunk: no second reading, no empty one.
  assert.deepEqual(parser.push(bytes("\nUS,GS,+  0.0")), []);
  assert.equal(parser.push("10kg\n")[0].milli, 10);
  assert.equal(parser.flush().length, 0);
  parser.push("   2.000 kg");
  assert.equal(parser.flush()[0].milli, 2000);
});

test("noise without a line end is dropped, not kept forever", () => {
  const parser = createParser();
  parser.push("x".repeat(500));
  assert.equal(parser.push("ST,GS,+  1.000kg\r\n")[0].milli, 1000);
});

test("the stabilizer takes a flagged-stable weight at once, a flagless one after three alike", () => {
  const s = createStabilizer();
  assert.equal(s.offer(parseLine("US,GS,+  1.480kg")), null);
  assert.equal(s.offer(parseLine("ST,GS,+  0.000kg")), null, "zero is never taken");
  assert.equal(s.offer(parseLine("ST,GS,-  0.100kg")), null, "negative is never taken");
  assert.equal(s.offer(parseLine("ST,GS,+  1.500kg")).milli, 1500);
  const plain = createStabilizer();
  assert.equal(plain.offer(parseLine(" 1.500 kg")), null);
  assert.equal(plain.offer(parseLine(" 1.500 kg")), null);
  assert.equal(plain.offer(parseLine(" 1.505 kg")), null, "a different weight starts again");
  assert.equal(plain.offer(parseLine(" 1.505 kg")), null);
  assert.equal(plain.offer(parseLine(" 1.505 kg ?")), null, "unstable starts again");
  assert.equal(plain.offer(parseLine(" 1.505 kg")), null);
  assert.equal(plain.offer(parseLine(" 1.505 kg")), null);
  assert.equal(plain.offer(parseLine(" 1.505 kg")).milli, 1505);
});

for (const stream of STREAMS) {
  test(`recorded stream: ${stream.name}`, () => {
    const got = firstStable(stream.chunks.map(bytes));
    if (stream.stable_milli === null) {
      assert.equal(got, null);
    } else {
      assert.ok(got, "no stable reading");
      assert.equal(got.milli, stream.stable_milli);
      assert.equal(inputText(got.milli), stream.input_id);
      assert.equal(inputText(got.milli, "en"), stream.input_en);
    }
  });
}

test("the input text is the counter's quantity format", () => {
  assert.equal(inputText(1500), "1,5");
  assert.equal(inputText(1500, "en"), "1.5");
  assert.equal(inputText(12345), "12,345");
  assert.equal(inputText(2000), "2");
  assert.equal(inputText(1234567), "1.234,567");
});
