// Card sheet screen (members/card_sheet.html): the PDF is fetched here, so that a download
// that fails (flaky Wi-Fi, an expired session answering with the login page) says so on the
// screen, and the confirmation "these cards are printed" is offered only once the sheet
// arrived (in this tab: sessionStorage remembers it across a reload). The sheet then opens in
// the browser's PDF viewer in a new tab, to print from there (a tester's tablet saved it to
// Downloads instead, leftover 3); only when that tab cannot be opened (pop-ups blocked) is it
// saved as a file. Without JavaScript the link opens the PDF (served inline) in a new tab and
// the confirmation is always shown. Nothing here marks a card: only the confirmation's POST
// does (docs/rules.md §cards).
const root = document.getElementById("card-sheet");
const link = document.getElementById("sheet-download");
const status = document.getElementById("sheet-status");
const confirmBox = document.getElementById("sheet-confirm");
const wait = document.getElementById("sheet-confirm-wait");
const key = `card-sheet-opened:${root.dataset.sheet}`;

function opened() {
  try { return sessionStorage.getItem(key) === "1"; } catch { return false; }
}

function showConfirm(show) {
  if (!confirmBox) { return; }
  confirmBox.hidden = !show;
  if (wait) { wait.hidden = show; }
}

function say(text, kind) {
  status.textContent = text;
  status.className = kind;
}

showConfirm(opened());

/** Save the fetched sheet as a file: the fallback when no viewer tab could be opened. */
function saveAs(url) {
  const save = document.createElement("a");
  save.href = url;
  save.download = link.dataset.filename || "cards.pdf";
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

link.addEventListener("click", async (event) => {
  event.preventDefault();
  if (link.getAttribute("aria-busy") === "true") { return; }
  link.setAttribute("aria-busy", "true");
  say(status.dataset.loading, "muted");
  // The viewer's tab is opened now, while the tap still counts: one opened after the download
  // (a 500-card sheet takes seconds) would be blocked as a pop-up. It shows the sheet once it
  // arrived, or closes again when it did not.
  const viewer = window.open("", "_blank");
  if (viewer) {
    viewer.opener = null;   // the sheet's tab has no business with this page
    try { viewer.document.title = link.dataset.filename || ""; viewer.document.body.textContent = status.dataset.loading; }
    catch { /* a browser that gives no access to the new tab: it still gets the sheet below */ }
  }
  try {
    const response = await fetch(link.href, { credentials: "same-origin", cache: "no-store" });
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !type.startsWith("application/pdf")) { throw new Error(`HTTP ${response.status}`); }
    const url = URL.createObjectURL(await response.blob());
    // The object URL lives as long as this page: the viewer tab keeps the sheet to print again.
    if (viewer && !viewer.closed) {
      viewer.location.href = url;
      say(status.dataset.done, "ok");
    } else {
      saveAs(url);
      say(status.dataset.downloaded, "ok");
    }
    try { sessionStorage.setItem(key, "1"); } catch { /* private mode: shown for this page only */ }
    showConfirm(true);
  } catch {
    if (viewer && !viewer.closed) { viewer.close(); }
    say(status.dataset.failed, "error");
  } finally {
    link.removeAttribute("aria-busy");
  }
});
