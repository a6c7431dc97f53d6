// "Back" links (a[data-history-back]) go back in the tablet's history, as the browser's own
// back button would; without history they follow their href (the find screen). A file, not a
// javascript: URL: the Content-Security-Policy runs scripts from this origin's files only.
(function () {
  "use strict";
  document.querySelectorAll("a[data-history-back]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      if (window.history.length > 1) {
        event.preventDefault();
        window.history.back();
      }
    });
  });
})();
