// The counter's outbox (LEDGER.md "Offline replays"): a deposit saved while the tablet is
// offline is stored here with its idempotency key and capture time, and replayed through
// POST /api/v1/deposits with this device's bearer token when the connection is back.
// A 4xx answer is final and shown; nothing is dropped without the operator seeing it.
(function () {
  "use strict";
  var STORE = "wastebank.outbox";
  var DEVICE = "wastebank.device";
  var i18n = document.getElementById("outbox-i18n");
  if (!i18n) { return; }
  var T = i18n.dataset;
  var username = T.username;

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(function () { /* the app works without it */ });
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }
  function save(items) { localStorage.setItem(STORE, JSON.stringify(items)); render(); }
  function csrf() { var m = document.querySelector('meta[name="csrf-token"]'); return m ? m.content : ""; }
  function newKey() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID().replace(/-/g, ""); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function device() {
    try {
      var d = JSON.parse(localStorage.getItem(DEVICE) || "null");
      return d && d.username === username ? d : null;
    } catch (e) { return null; }
  }
  function ensureToken() {
    if (device()) { return Promise.resolve(device().token); }
    if (!navigator.onLine) { return Promise.resolve(null); }
    return fetch("/counter/device-token", { method: "POST", credentials: "same-origin",
                                            headers: { "X-CSRFToken": csrf() } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return null; }
        localStorage.setItem(DEVICE, JSON.stringify({ username: data.username, token: data.token }));
        return data.token;
      }).catch(function () { return null; });
  }

  // Logging out revokes the token on the server; forget it here too.
  document.querySelectorAll('form[action$="/logout"]').forEach(function (f) {
    f.addEventListener("submit", function () { localStorage.removeItem(DEVICE); });
  });

  var syncing = false;
  function sync() {
    var pending = load().filter(function (i) { return i.state === "queued" && i.username === username; });
    if (syncing || !pending.length || !navigator.onLine) { return Promise.resolve(); }
    syncing = true;
    return ensureToken().then(function (token) {
      if (!token) { return; }
      return pending.reduce(function (chain, item) {
        return chain.then(function (stop) {
          if (stop) { return true; }
          return fetch("/api/v1/deposits", {
            method: "POST",
            headers: { "Content-Type": "application/json", "Authorization": "Bearer " + token,
                       "Idempotency-Key": item.key },
            body: JSON.stringify({ member: item.member, lines: item.lines, recorded_at: item.recorded_at })
          }).then(function (response) {
            return response.json().catch(function () { return {}; }).then(function (body) {
              var items = load();
              var stored = items.filter(function (i) { return i.key === item.key; })[0];
              if (!stored) { return false; }
              if (response.status === 201 || response.status === 200) {
                stored.state = "synced"; stored.receipt_no = body.receipt_no; stored.total = body.total_idr;
              } else if (response.status === 401) {
                localStorage.removeItem(DEVICE);  // revoked: ask for a new one next time
                save(items);
                return true;
              } else if (response.status >= 400 && response.status < 500) {
                stored.state = "failed";
                stored.error = (body.error && body.error.message) || ("HTTP " + response.status);
              } else {
                return true;  // server trouble: keep it queued, try later
              }
              save(items);
              return false;
            });
          }).catch(function () { return true; });  // network gone again: keep the rest queued
        });
      }, Promise.resolve(false));
    }).then(function () { syncing = false; render(); }, function () { syncing = false; });
  }

  function formatIdr(n) {
    var s = String(Math.abs(n)).replace(/\B(?=(\d{3})+(?!\d))/g, T.locale === "en" ? "," : ".");
    return "Rp " + s;
  }

  function render() {
    var items = load().filter(function (i) { return i.username === username; });
    var host = document.getElementById("outbox-panel");
    if (!host) {
      host = document.createElement("section");
      host.id = "outbox-panel";
      var main = document.querySelector("main");
      if (!main) { return; }
      main.insertBefore(host, main.firstChild);
    }
    if (!items.length) { host.innerHTML = ""; host.className = ""; return; }
    var queued = items.filter(function (i) { return i.state === "queued"; }).length;
    host.className = "outbox card";
    var html = "<h2>" + T.title + "</h2><p>" + T.summary.replace("{queued}", queued) + "</p><ul>";
    items.forEach(function (i) {
      var state = i.state === "synced" ? T.synced + " " + (i.receipt_no || "") :
                  i.state === "failed" ? T.failed + ": " + i.error : T.queued;
      html += '<li class="outbox-item ' + i.state + '" data-key="' + i.key + '"><span>' +
              escapeHtml(i.member_name || i.member) + " · " + escapeHtml(i.captured) + " · " +
              escapeHtml(i.estimate || "") + "</span><strong>" + escapeHtml(state) + "</strong>" +
              (i.state !== "queued" ? '<button type="button" class="secondary dismiss">' + T.dismiss + "</button>" : "") +
              "</li>";
    });
    html += "</ul>";
    if (queued) { html += '<button type="button" class="primary" id="outbox-sync">' + T.send + "</button>"; }
    host.innerHTML = html;
    var button = document.getElementById("outbox-sync");
    if (button) { button.addEventListener("click", sync); }
    host.querySelectorAll(".dismiss").forEach(function (b) {
      b.addEventListener("click", function () {
        var key = b.closest("li").dataset.key;
        save(load().filter(function (i) { return i.key !== key; }));
      });
    });
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  // The deposit form: offline, "check" queues the deposit on the tablet instead of sending it.
  var form = document.getElementById("deposit-form");
  if (form) {
    form.addEventListener("submit", function (event) {
      if (navigator.onLine) { return; }
      event.preventDefault();
      var lines = [];
      form.querySelectorAll("tr.line").forEach(function (row) {
        var category = row.querySelector("select.cat").value;
        var quantity = row.querySelector("input.quantity").value.trim();
        if (category && quantity) { lines.push({ category: category, quantity: quantity }); }
      });
      if (!lines.length) { return; }
      var estimate = (document.getElementById("total") || {}).textContent || "";
      if (!window.confirm(T.confirm.replace("{total}", estimate))) { return; }
      var keyField = form.querySelector('input[name="idempotency_key"]');
      var now = new Date();
      var items = load();
      items.push({ key: keyField.value, username: username, member: form.dataset.member,
                   member_name: form.dataset.memberName, lines: lines, recorded_at: now.toISOString(),
                   captured: now.toLocaleString(T.locale === "en" ? "en-GB" : "id-ID"),
                   estimate: estimate, state: "queued" });
      save(items);
      keyField.value = newKey();  // the next deposit on this screen is another request
      form.querySelectorAll("tr.line").forEach(function (row, index) {
        if (index > 0) { row.remove(); } else {
          row.querySelector("select.cat").value = ""; row.querySelector("input.quantity").value = "";
        }
      });
      var body = document.getElementById("lines");
      if (body) { body.dispatchEvent(new Event("input", { bubbles: true })); }
      window.scrollTo(0, 0);
    });
  }

  window.addEventListener("online", sync);
  render();
  if (navigator.onLine) { ensureToken().then(sync); }
})();
