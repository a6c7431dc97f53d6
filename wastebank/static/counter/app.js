// Entry point of the counter's browser code, loaded on every page of unit staff.
// Starts the outbox sender and its panel, keeps the unit's snapshot (members, prices) fresh
// while online, installs the service worker and tells the operator when a new version is
// ready (CASES C18). Page modules (deposit, find) are loaded only where their page is.
import * as cancelled from "./cancelled.js";
import * as panel from "./panel.js";
import * as store from "./store.js";
import * as sync from "./sync.js";

const SNAPSHOT_EVERY_MS = 5 * 60 * 1000;

function readJson(id) {
  const node = document.getElementById(id);
  if (!node) { return null; }
  try { return JSON.parse(node.textContent); } catch (e) { return null; }
}

function banner(i18n, onTap) {
  if (document.getElementById("update-banner")) { return; }
  const node = document.createElement("div");
  node.id = "update-banner";
  node.className = "update-banner";
  node.setAttribute("role", "status");
  node.innerHTML = "<span></span><button type=\"button\" class=\"primary\"></button>";
  node.querySelector("span").textContent = i18n.update;
  node.querySelector("button").textContent = i18n.reload;
  node.querySelector("button").addEventListener("click", onTap);
  document.body.insertBefore(node, document.body.firstChild);
}

function serviceWorker(i18n) {
  if (!("serviceWorker" in navigator)) { return; }
  const hadController = !!navigator.serviceWorker.controller;
  // A new version that finished installing takes over at once: the outbox lives in IndexedDB,
  // which both versions share, so nothing queued is lost (CASES C18).
  const takeOver = (worker) => { if (worker) { worker.postMessage("skip-waiting"); } };
  navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" }).then((registration) => {
    const watch = (worker) => {
      if (!worker) { return; }
      if (worker.state === "installed") {
        if (navigator.serviceWorker.controller) { banner(i18n, () => { takeOver(worker); location.reload(); }); }
        takeOver(worker);
      }
      worker.addEventListener("statechange", () => {
        if (worker.state !== "installed") { return; }
        if (navigator.serviceWorker.controller) { banner(i18n, () => { takeOver(worker); location.reload(); }); }
        takeOver(worker);
      });
    };
    watch(registration.waiting);
    watch(registration.installing);
    registration.addEventListener("updatefound", () => watch(registration.installing));
    registration.update().catch(() => {});
    // Keep the offline pages current while the operator is logged in and online.
    navigator.serviceWorker.ready.then((ready) => {
      if (ready.active && navigator.onLine) { ready.active.postMessage("warm"); }
    });
  }).catch(() => { /* the counter works without it, only not offline */ });
  // The new version controls this page now: one tap reloads it with the new code.
  navigator.serviceWorker.addEventListener("controllerchange", () => {
    if (hadController) { banner(i18n, () => location.reload()); }
  });
}

async function main() {
  const context = readJson("counter-context");
  // The cancelled withdrawals' texts (cancel-core.js) come in their own table (templates/base.html).
  const i18n = Object.assign(readJson("counter-i18n") || {}, readJson("counter-i18n-cancel") || {});
  if (!context || !context.username) { return; }
  window.wastebankCounter = { context: context, i18n: i18n, sync: sync, store: store };
  serviceWorker(i18n);
  // Logging out revokes the device token on the server; forget it here too, and the offline
  // pages (the queue stays, and goes out when its operator logs in again).
  document.querySelectorAll('form[action$="/logout"]').forEach((form) => {
    form.addEventListener("submit", () => {
      sync.forgetToken();
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage("forget-pages");
      }
    });
  });
  await store.importLegacy();
  store.persist();
  // The sender starts whatever drawing a panel does: one mount that threw here once kept every
  // queued deposit on the tablet until the next page, with nothing on screen saying so.
  for (const part of [panel, cancelled]) {
    try { part.mount(i18n, context); } catch (error) { console.error(error); }
  }
  await sync.start(context);
  const refresh = () => { if (navigator.onLine) { sync.refreshSnapshot(); } };
  refresh();
  setInterval(refresh, SNAPSHOT_EVERY_MS);
  window.addEventListener("online", refresh);
  if (document.getElementById("deposit-form")) {
    (await import("./deposit.js")).init(context, i18n);
  }
  // The withdrawal entry and its check follow today's state (closed/reopened) and the check its item.
  if (document.querySelector("#confirm-form[data-member]") || document.getElementById("withdraw-form")) {
    (await import("./withdraw.js")).init(context, i18n);
  }
  if (document.getElementById("find-form")) {
    (await import("./find.js")).init(context, i18n);
  }
  document.documentElement.dataset.counterReady = "1";
}

main().catch((error) => { console.error(error); });
