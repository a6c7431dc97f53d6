// forms/resilient-core.js: what an answer to a form sent with fetch means (the page keeps the
// input on a lost answer, a 5xx, an ended session or an expired form; shows any other answer).
import test from "node:test";
import assert from "node:assert/strict";

import { classify, failureKind, isLoginUrl, messageFor, rerunSrc } from "../../wastebank/static/forms/resilient-core.js";

const opts = { loginPath: "/login", origin: "http://tab.example" };
const page = (extra) => ({ status: 200, redirected: false, url: "http://tab.example/manager/sales/new",
                           loggedIn: true, csrfRefused: false, ...extra });

test("a saved record's page after the redirect, a check step and a refusal are shown", () => {
  assert.equal(classify(page({ redirected: true, url: "http://tab.example/manager/sales/RW05-2026-000550" }), opts), "show");
  assert.equal(classify(page(), opts), "show");
  assert.equal(classify(page({ status: 422 }), opts), "show");
  assert.equal(classify(page({ status: 409 }), opts), "show");
});

test("a 5xx may or may not have saved: the input stays", () => {
  for (const status of [500, 502, 503, 504]) { assert.equal(classify(page({ status }), opts), "uncertain"); }
});

test("an ended session: 401, the login page after a redirect, a 400 from a logged-out page", () => {
  assert.equal(classify(page({ status: 401 }), opts), "session");
  assert.equal(classify(page({ redirected: true, url: "http://tab.example/login?next=%2Fmembers%2Fnew", loggedIn: false }), opts),
               "session");
  assert.equal(classify(page({ status: 400, loggedIn: false, csrfRefused: true }), opts), "session");
});

test("a refused form token while logged in is an expired form once, then the server's page", () => {
  assert.equal(classify(page({ status: 400, csrfRefused: true }), opts), "expired");
  assert.equal(classify(page({ status: 400, csrfRefused: true }), { ...opts, expiredBefore: true }), "show");
  // Another 400 ("this form was altered") is the server's page at once.
  assert.equal(classify(page({ status: 400, csrfRefused: false }), opts), "show");
});

test("the login page is recognised by its path only", () => {
  assert.ok(isLoginUrl("/login", "/login"));
  assert.ok(isLoginUrl("http://tab.example/login/?next=x", "/login"));
  assert.ok(!isLoginUrl("http://tab.example/login-help", "/login"));
  assert.ok(!isLoginUrl("", "/login"));
  assert.ok(!isLoginUrl("/login", ""));
});

test("a timeout and a dropped connection are told apart", () => {
  assert.equal(failureKind(new TypeError("Failed to fetch"), false), "network");
  assert.equal(failureKind({ name: "AbortError" }, true), "timeout");
  assert.equal(failureKind({ name: "TimeoutError" }, false), "timeout");
});

const texts = {
  save: "Simpan", network: "Sambungan terputus sebelum jawaban datang.", timeout: "Server terlalu lama menjawab.",
  server: "Server sedang bermasalah.",
  retry: "Mungkin sudah tersimpan, mungkin belum. Semua isian Anda masih di sini. Ketuk “{button}” lagi: aman, tidak akan tercatat dua kali.",
  session: "Sesi Anda sudah berakhir. Ketuk “{button}” lagi.", expired: "Formulir ini sudah kedaluwarsa; ketuk “{button}” lagi.",
};

test("the sentence names the tapped button and says a retry is safe", () => {
  assert.equal(messageFor("network", texts, " Simpan penjualan "),
               "Sambungan terputus sebelum jawaban datang. Mungkin sudah tersimpan, mungkin belum. Semua isian Anda " +
               "masih di sini. Ketuk “Simpan penjualan” lagi: aman, tidak akan tercatat dua kali.");
  assert.match(messageFor("timeout", texts, "Simpan"), /^Server terlalu lama menjawab\. Mungkin/);
  assert.match(messageFor("uncertain", texts, "Simpan"), /^Server sedang bermasalah\. Mungkin/);
  assert.equal(messageFor("session", texts, "Simpan penyesuaian"), "Sesi Anda sudah berakhir. Ketuk “Simpan penyesuaian” lagi.");
  assert.equal(messageFor("expired", texts, ""), "Formulir ini sudah kedaluwarsa; ketuk “Simpan” lagi.");
});

test("with no connection at all it says nothing was saved", () => {
  const offline = Object.assign({}, texts, { offline: "Tablet ini tidak tersambung: belum ada yang tersimpan. Ketuk “{button}” lagi." });
  assert.equal(messageFor("offline", offline, "Simpan penjualan"),
               "Tablet ini tidak tersambung: belum ada yang tersimpan. Ketuk “Simpan penjualan” lagi.");
  assert.match(messageFor("offline", texts, "Simpan"), /^Sambungan terputus/);   // an older page's texts
});

test("a page script gets a URL of its own to run again", () => {
  assert.equal(rerunSrc("/static/manager/sale.js", 3, "http://tab.example"), "/static/manager/sale.js?r=3");
  assert.equal(rerunSrc("/static/manager/sale.js?r=3", 4, "http://tab.example"), "/static/manager/sale.js?r=4");
  assert.equal(rerunSrc("https://cdn.example/x.js", 1, "http://tab.example"), "https://cdn.example/x.js?r=1");
});
