// "Keluar" with this operator's items still unsent on the tablet asks first (tester F7). Loaded
// by templates/base.html next to the logout form, on every page of a logged-in user; it acts
// only on counter pages (#counter-context). Without JavaScript, or with nothing unsent of this
// operator (or the tablet's storage unreadable), logging out works as before: the form posts.
//
// The question (logout-guard-core.js logoutQuestion) opens in a <dialog> whose safe default is
// to stay: "Batal" has the focus, and Escape or a tap outside the buttons stays logged in.
// "Tetap keluar" sends the same form again (requestSubmit), so app.js still forgets the device
// token and the offline pages on its way out; "Batal" never lets the submit reach it.
import { logoutQuestion, unsentOf } from "./logout-guard-core.js";
import * as store from "./store.js";

const FORM = 'form[action$="/logout"]';

function readJson(id) {
  const node = document.getElementById(id);
  if (!node) { return null; }
  try { return JSON.parse(node.textContent); } catch (e) { return null; }
}

function texts() {
  const node = document.getElementById("logout-guard");
  try { return JSON.parse((node && node.dataset.texts) || "{}"); } catch (e) { return {}; }
}

function stylesheet() {
  if (document.getElementById("logout-guard-css")) { return; }
  const link = document.createElement("link");
  link.id = "logout-guard-css";
  link.rel = "stylesheet";
  link.href = new URL("./logout-guard.css", import.meta.url).pathname;
  document.head.appendChild(link);
}

/** Ask `question`; resolves to true for "Tetap keluar", false for anything else. */
function ask(T, question) {
  stylesheet();
  let dialog = document.getElementById("logout-dialog");
  if (dialog) { dialog.remove(); }
  dialog = document.createElement("dialog");
  dialog.id = "logout-dialog";
  dialog.className = "logout-dialog";
  dialog.setAttribute("aria-labelledby", "logout-dialog-title");
  dialog.setAttribute("aria-describedby", "logout-dialog-text");
  dialog.innerHTML = '<h2 id="logout-dialog-title"></h2><p id="logout-dialog-text"></p>' +
    '<div class="logout-dialog-actions">' +
    '<button type="button" class="primary" id="logout-stay" autofocus></button>' +
    '<button type="button" class="secondary danger" id="logout-leave"></button></div>';
  dialog.querySelector("h2").textContent = T.logout_title || "";
  dialog.querySelector("p").textContent = question;
  dialog.querySelector("#logout-stay").textContent = T.logout_stay || "Batal";
  dialog.querySelector("#logout-leave").textContent = T.logout_leave || "Tetap keluar";
  document.body.appendChild(dialog);
  return new Promise((resolve) => {
    let answer = false;
    dialog.querySelector("#logout-stay").addEventListener("click", () => { answer = false; dialog.close(); });
    dialog.querySelector("#logout-leave").addEventListener("click", () => { answer = true; dialog.close(); });
    // Escape closes it too (a "cancel" event): that is staying.
    dialog.addEventListener("close", () => { dialog.remove(); resolve(answer); });
    if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    dialog.querySelector("#logout-stay").focus();
  });
}

function install() {
  if (window.wastebankLogoutGuard) { return; }   // once per page, even if the script runs again
  window.wastebankLogoutGuard = true;
  // Capture phase on the document: runs before app.js's listener on the form itself.
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches(FORM)) { return; }
    if (form.dataset.logoutConfirmed === "1") { return; }      // asked (or nothing to ask): go
    const context = readJson("counter-context");
    if (!context || !context.username) { return; }             // not a counter page: no outbox here
    event.preventDefault();
    event.stopImmediatePropagation();
    const submitter = event.submitter || null;
    const go = () => {
      form.dataset.logoutConfirmed = "1";
      if (form.requestSubmit) { form.requestSubmit(submitter); } else { form.submit(); }
    };
    if (form.dataset.logoutAsking === "1") { return; }         // a second tap while it asks
    form.dataset.logoutAsking = "1";
    (async () => {
      let question = "";
      let onlyChecking = false;
      try {
        const cancelled = (await store.valuesWithPrefix("cancelled:")).map(([, value]) => value);
        const items = await store.allItems();
        question = logoutQuestion(texts(), items, context.username, context.locale, cancelled);
        // Only a cancelled withdrawal's check is left: nothing is "not sent", it is not answered yet.
        onlyChecking = !unsentOf(items, context.username).count;
      } catch (error) {
        question = "";   // the storage cannot be read: log out as before
      }
      if (!question) { go(); return; }
      const T = texts();
      const leave = await ask(onlyChecking ? Object.assign({}, T, { logout_title: T.logout_title_checking || T.logout_title }) : T, question);
      delete form.dataset.logoutAsking;
      if (leave) { go(); }
    })().catch(() => { delete form.dataset.logoutAsking; go(); });
  }, true);
}

install();
