// The counter's offline member lookup (static/counter/members.js) against the vectors shared
// with the Python test (tests/vectors/member_ref.json). Run: node --test tests/js/
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import {
  cardHash, cardToken, foldText, normaliseMemberRef, searchMembers,
} from "../../wastebank/static/counter/members.js";

const vectors = JSON.parse(readFileSync(new URL("../vectors/member_ref.json", import.meta.url), "utf8"));
// What the snapshot answers: no tokens, only hashes.
const snapshot = vectors.members.map(({ member_no, name, rt, rw, card_hashes, active }) =>
  ({ member_no, name, rt, rw, card_hashes, active }));

test("at least 20 shared cases", () => {
  assert.ok(vectors.cases.length >= 20);
});

for (const c of vectors.cases) {
  test(`candidates ${JSON.stringify(c.input)} at ${c.unit_code}`, () => {
    assert.deepEqual(normaliseMemberRef(c.input, c.unit_code), c.candidates);
  });
  if ("exact" in c || "results" in c) {
    test(`search ${JSON.stringify(c.input)} at ${c.unit_code}`, async () => {
      const options = c.limit ? { limit: c.limit } : {};
      const found = await searchMembers(snapshot, c.input, c.unit_code, options);
      if ("exact" in c) assert.equal(found.exact ? found.exact.member_no : null, c.exact);
      if ("results" in c) assert.deepEqual(found.results.map((m) => m.member_no), c.results);
    });
  }
}

test("cardHash is the SHA-256 hex of the token, as the server's card_token_hash", async () => {
  for (const m of vectors.members) {
    for (const [i, token] of m.card_tokens.entries()) {
      const hash = await cardHash(token);
      assert.equal(hash, createHash("sha256").update(token, "utf8").digest("hex"));
      assert.equal(hash, m.card_hashes[i]);
    }
  }
  assert.equal(await cardHash(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

test("cardToken reads a card URL or a bare token, nothing else", () => {
  const token = "Vx3kQ9mZ2pLr8sT1uW4yA6bC0dE5fG7h";
  assert.equal(cardToken(`https://bank.example/c/${token}`), token);
  assert.equal(cardToken(` https://bank.example/c/${token}/ `), token);
  assert.equal(cardToken(token), token);
  assert.equal(cardToken("RW05-0012"), null);
  assert.equal(cardToken("short"), null);
  assert.equal(cardToken(null), null);
});

test("foldText removes case and accents", () => {
  assert.equal(foldText("  Ñoño   Đặng Łukasz "), "nono dang lukasz");
  assert.equal(foldText("SITI Ämínah"), "siti aminah");
});

test("inactive members are never returned, and the default limit is 20", async () => {
  const many = Array.from({ length: 30 }, (_, i) => ({
    member_no: `RW05-${String(i + 1).padStart(4, "0")}`, name: `Warga ${String(30 - i).padStart(2, "0")}`,
    rt: "", rw: "05", card_hashes: [], active: i !== 0,
  }));
  const found = await searchMembers(many, "warga", "RW05");
  assert.equal(found.exact, null);
  assert.equal(found.results.length, 20);
  assert.equal(found.results[0].name, "Warga 01");
  assert.ok(!found.results.some((m) => m.member_no === "RW05-0001"));
  assert.equal((await searchMembers(many, "1", "RW05")).exact, null);
  assert.equal((await searchMembers(many, "2", "RW05")).exact.member_no, "RW05-0002");
  assert.deepEqual(await searchMembers([], "", "RW05"), { exact: null, results: [] });
});
