// Service worker: keeps the app shell and the last pages seen, so the counter opens offline.
// Money never goes through here: POSTs and the API pass straight to the network; deposits taken
// offline wait in the page's own outbox (outbox.js) until they can be replayed.
"use strict";
var CACHE = "wastebank-shell-v1";
var SHELL = ["/counter/offline", "/static/app.css", "/static/counter.js", "/static/outbox.js",
             "/static/manifest.webmanifest", "/static/icon-192.png"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.indexOf("/api/") === 0
      || url.pathname.slice(-4) === ".pdf") {
    return;  // writes, the API and documents always go to the network
  }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      return hit || fetch(request).then(function (response) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
        return response;
      });
    }));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && url.pathname.indexOf("/counter") === 0) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(request).then(function (hit) { return hit || caches.match("/counter/offline"); });
    }));
  }
});
