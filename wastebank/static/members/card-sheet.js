// Card sheet screen (members/card_sheet.html): the PDF is fetched here, so that a download
// that fails (flaky Wi-Fi, an expired session answering with the login page) says so on the
// screen, and the confirmation "these cards are printed" is offered only once the sheet
// arrived (in this tab: sessionStorage remembers it across a reload). Without JavaScript the
// link is a plain download and the confirmation is always shown. Nothing here marks a card:
// only the confirmation's POST does (docs/rules.md §cards).
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

link.addEventListener("click", async (event) => {
  event.preventDefault();
  if (link.getAttribute("aria-busy") === "true") { return; }
  link.setAttribute("aria-busy", "true");
  say(status.dataset.loading, "muted");
  try {
    const response = await fetch(link.href, { credentials: "same-origin", cache: "no-store" });
    const type = response.headers.get("Content-Type") || "";
    if (!response.ok || !type.startsWith("application/pdf")) { throw new Error(`HTTP ${response.status}`); }
    const url = URL.createObjectURL(await response.blob());
    const save = document.createElement("a");
    save.href = url;
    save.download = link.getAttribute("download") || "cards.pdf";
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    try { sessionStorage.setItem(key, "1"); } catch { /* private mode: shown for this page only */ }
    say(status.dataset.done, "ok");
    showConfirm(true);
  } catch {
    say(status.dataset.failed, "error");
  } finally {
    link.removeAttribute("aria-busy");
  }
});
