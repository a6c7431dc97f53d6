// The "Tidak ada koneksi" page (counter/offline.html; the service worker shows it for a page it
// does not hold) says so when the connection is back, with a link that opens the page the
// operator wanted (by GET: the address in the bar, never a form sent again). Before, it kept
// saying "Tidak ada koneksi" under a queue that had gone out (a tester).
(function () {
  "use strict";
  var note = document.getElementById("offline-back-online");
  var link = document.getElementById("offline-reload");
  if (!note || !link) { return; }
  // The worker answered for the address in the bar; the page's own path is /counter/offline.
  link.setAttribute("href", window.location.pathname + window.location.search);
  // Only when the connection comes back while this page is open: shown on a connection that
  // only seems up (the worker gave up on a stalled page), it would say the opposite of the heading.
  window.addEventListener("online", function () { note.hidden = false; });
  window.addEventListener("offline", function () { note.hidden = true; });
})();
