// Service worker: keeps the counter's shell so the queue keeps moving offline
// (docs/rules.md §offline). Money never goes through here: POSTs and the API pass straight to the
// network (a withdrawal page's post answers the offline page when the tablet is offline); confirmed
// deposits wait in the page's own outbox (static/counter/sync.js, IndexedDB).
//
// The server writes VERSION (a hash of the static files) and STATIC (their URLs) into this
// file, so every deploy changes its bytes: the browser installs the new worker, which takes
// over at once and keeps its own cache; a page it takes over offers a reload (CASES C18).
"use strict";
var VERSION = "__VERSION__";
var STATIC = ["__STATIC__"];
var CACHE = "wastebank-" + VERSION;
// Pages kept for offline use: the find screen and the memberless deposit screen.
var PAGES = ["/counter", "/counter/shell/deposit"];
var OFFLINE = "/counter/offline";
// A navigation that takes longer than this is served from the cache (a stalled Wi-Fi).
var NAVIGATION_TIMEOUT_MS = 8000;

function warmPages(cache) {
  return Promise.all(PAGES.map(function (path) {
    return fetch(path, { credentials: "same-origin", cache: "no-store" }).then(function (response) {
      if (response.ok && !response.redirected) { return cache.put(path, response); }
      return null;
    }).catch(function () { return null; });
  }));
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(STATIC.concat([OFFLINE])).then(function () { return warmPages(cache); });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// A page asks for the offline pages to be (re)fetched while the operator is logged in.
// A page asks a waiting new version to take over (on load, or the "Versi baru" tap).
self.addEventListener("message", function (event) {
  if (event.data === "warm") { event.waitUntil(caches.open(CACHE).then(warmPages)); }
  if (event.data === "skip-waiting") { self.skipWaiting(); }
  // Logged out: no counter page may open offline for whoever picks the tablet up next.
  if (event.data === "forget-pages") {
    event.waitUntil(caches.open(CACHE).then(function (cache) {
      return Promise.all(PAGES.map(function (path) { return cache.delete(path); }));
    }));
  }
});

function withTimeout(promise, ms) {
  return new Promise(function (resolve, reject) {
    var timer = setTimeout(function () { reject(new Error("timeout")); }, ms);
    promise.then(function (value) { clearTimeout(timer); resolve(value); },
                 function (error) { clearTimeout(timer); reject(error); });
  });
}

function offlineCopy(url, orElse) {
  return caches.open(CACHE).then(function (cache) {
    if (/^\/counter\/member\/[^/]+\/deposit$/.test(url.pathname)) {
      return cache.match("/counter/shell/deposit");
    }
    if (url.pathname === "/counter") { return cache.match("/counter", { ignoreSearch: true }); }
    return cache.match(url.pathname + url.search);
  }).then(function (hit) {
    if (hit) { return hit; }
    return orElse || caches.open(CACHE).then(function (cache) { return cache.match(OFFLINE); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  // The withdrawal check sent as a page (its entry form, "Ubah", the check reloaded) while the
  // tablet has no network: the counter's offline page with the queue, not the browser's error
  // page (a tester). Nothing is sent, so nothing can be recorded. With a network the post goes
  // to the browser as before, untouched: a post answered through a worker is not kept for
  // Back, which then showed "Tidak ada koneksi" or a resubmission page (a tester).
  if (request.method === "POST" && request.mode === "navigate" && url.origin === self.location.origin
      && /^\/counter\/member\/[^/]+\/withdraw$/.test(url.pathname)) {
    if (self.navigator.onLine === false) {
      event.respondWith(caches.open(CACHE).then(function (cache) { return cache.match(OFFLINE); }).then(function (hit) {
        return hit || Response.error();
      }));
    }
    return;
  }
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0
      || url.pathname.slice(-4) === ".pdf" || url.pathname === "/sw.js") {
    return;  // writes, the API and documents always go to the network
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(CACHE).then(function (cache) {
      return cache.match(request, { ignoreSearch: true }).then(function (hit) {
        return hit || fetch(request).then(function (response) {
          if (response.ok) { cache.put(request, response.clone()); }
          return response;
        });
      });
    }));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(withTimeout(fetch(request), NAVIGATION_TIMEOUT_MS).then(function (response) {
      if (response.status >= 500) {
        return offlineCopy(url, response);  // a server error: the kept copy, else the error page
      }
      if (response.ok && !response.redirected && !url.search && PAGES.indexOf(url.pathname) >= 0) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }).catch(function () { return offlineCopy(url); }));
  }
});
