// Manager and member forms that survive a flaky Wi-Fi (progressive enhancement; loaded by
// base.html). A POST form marked ``data-resilient`` is sent with fetch instead of a navigation:
// - while it waits, its buttons are disabled and the tapped one says "Menyimpan…";
// - the network drops, the server answers 5xx, or no answer within TIMEOUT_MS: the page stays,
//   everything typed stays, and a sentence says it may or may not have been saved and that
//   tapping the same button again is safe. True because a form that records something carries
//   a hidden idempotency_key made when the form was shown, which stays the same here, and the
//   server replays a repeated key (services/idempotency.execute); the day close, which has none,
//   is said as done when repeated, never doubled;
// - the session ended (401, the login page, a 400 from a logged-out page): the input stays, the
//   sentence says so and offers the login in a new tab; the next tap takes a fresh form token;
// - the form's token refused while still logged in (it expired): the page's new token is taken
//   and the person taps again;
// - any other answer is shown as the page, in place: the header, the outbox panel and the
//   history entry stay; a redirected answer (a saved record) gets its own history entry
//   (pushState with the final URL), so Back returns to the form's page without "Confirm Form
//   Resubmission". Shown in place rather than location.assign(response.url) because the page
//   fetch already received carries the flash ("Penjualan tersimpan."), which a second GET
//   would no longer show.
// Without JavaScript the forms are sent as before.
import { TIMEOUT_MS, classify, failureKind, messageFor, rerunSrc } from "./resilient-core.js";

const config = document.getElementById("resilient-forms");
const texts = readTexts();
const loginPath = (config && config.dataset.login) || "/login";
const selfPath = new URL(import.meta.url).pathname;
// Scripts of base.html that live for the whole page: not run again for a page shown in place.
const LAYOUT_SCRIPTS = [selfPath, "/static/counter/app.js"];
let runs = 0;
let pushed = false;

function readTexts() {
  try { return JSON.parse((config && config.dataset.texts) || "{}"); } catch (_e) { return {}; }
}

function label(button) {
  if (!button) { return ""; }
  return (button.tagName === "INPUT" ? button.value : button.textContent).trim();
}

function submitButtons(form) {
  return Array.from(form.querySelectorAll("button:not([type]), button[type=submit], input[type=submit]"));
}

function busy(form, submitter) {
  form.dataset.resilientBusy = "1";
  form.setAttribute("aria-busy", "true");
  for (const button of submitButtons(form)) { button.disabled = true; }
  if (submitter && submitter.tagName === "BUTTON") {
    submitter.dataset.resilientLabel = submitter.textContent;
    submitter.textContent = texts.saving || "Menyimpan…";
  }
}

function idle(form) {
  delete form.dataset.resilientBusy;
  form.removeAttribute("aria-busy");
  for (const button of submitButtons(form)) {
    button.disabled = false;
    if (button.dataset.resilientLabel !== undefined) {
      button.textContent = button.dataset.resilientLabel;
      delete button.dataset.resilientLabel;
    }
  }
}

/** Say ``text`` at the top of the form (one note per form), with the login link if asked. */
function say(form, text, withLogin) {
  let note = form.querySelector(":scope > .resilient-note");
  if (!note) {
    note = document.createElement("div");
    note.className = "flash error resilient-note";
    note.setAttribute("role", "alert");
    form.insertBefore(note, form.firstChild);
  }
  note.textContent = "";
  const line = document.createElement("p");
  line.style.margin = "0";
  line.textContent = text;
  note.appendChild(line);
  if (withLogin) {
    const link = document.createElement("a");
    link.className = "button secondary resilient-login";
    link.href = loginPath;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = texts.login || "Masuk lagi";
    link.style.marginTop = ".6rem";
    note.appendChild(link);
  }
  note.scrollIntoView({ block: "center" });
}

function setToken(form, token) {
  if (!token) { return; }
  for (const input of form.querySelectorAll('input[name="csrf_token"]')) { input.value = token; }
  const meta = document.querySelector('meta[name="csrf-token"]');
  if (meta) { meta.content = token; }
}

function parse(html) {
  return new DOMParser().parseFromString(html, "text/html");
}

function tokenOf(doc) {
  const meta = doc.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

function loggedIn(doc) {
  return !!doc.querySelector("header .who");
}

/** True for the error page of a refused form token (its sentence, as base.html hands it over). */
function csrfRefused(doc) {
  const main = doc.querySelector("main");
  return !!(texts.csrf && main && !main.querySelector("form[method=post]") && main.textContent.includes(texts.csrf));
}

/** After "session ended": a fresh token from this page's URL, or false while still logged out. */
async function refreshToken(form) {
  try {
    const response = await fetch(location.href, { credentials: "same-origin", cache: "no-store" });
    const doc = parse(await response.text());
    if (!loggedIn(doc)) { return false; }
    setToken(form, tokenOf(doc));
    return true;
  } catch (_error) {
    return true;  // the network: the save itself will say so
  }
}

/** Show ``doc`` (an answer's page) in place of this one's <main>, and run its page scripts. */
function show(doc, response) {
  const main = document.querySelector("main");
  const fresh = doc.querySelector("main");
  if (!main || !fresh) {
    document.documentElement.innerHTML = doc.documentElement.innerHTML;
    return;
  }
  if (response.redirected) {
    history.pushState({ resilient: true }, "", response.url);
    pushed = true;
  }
  document.title = doc.title;
  setToken(document, tokenOf(doc));
  const panel = document.getElementById("outbox-panel");  // counter/panel.js keeps it current
  main.replaceChildren(...Array.from(fresh.childNodes).map((node) => document.importNode(node, true)));
  main.className = fresh.className;
  if (panel && !main.querySelector("#outbox-panel")) { main.insertBefore(panel, main.firstChild); }
  for (const old of doc.querySelectorAll("main ~ script[src]")) {
    const src = old.getAttribute("src");
    if (LAYOUT_SCRIPTS.includes(new URL(src, location.href).pathname)) { continue; }
    const script = document.createElement("script");
    for (const { name, value } of Array.from(old.attributes)) { script.setAttribute(name, value); }
    runs += 1;
    script.src = old.type === "module" ? rerunSrc(src, runs, location.origin) : src;
    document.body.appendChild(script);
  }
  refreshCounterContext(doc);
  window.scrollTo(0, 0);
}

/** The counter's context from the page shown in place (its ``#counter-context``): the
 * outbox panel stays from the first page, and would otherwise keep, e.g., "today is closed"
 * after the manager reopened the day here (a tester). */
function refreshCounterContext(doc) {
  const fresh = doc.getElementById("counter-context");
  const live = window.wastebankCounter && window.wastebankCounter.context;
  if (!fresh || !live) { return; }
  try { Object.assign(live, JSON.parse(fresh.textContent)); } catch (_error) { return; }
  window.dispatchEvent(new Event("wastebank:context"));
}

async function send(form, submitter) {
  const button = submitter || submitButtons(form)[0];
  const tapped = label(button);
  if (form.dataset.resilientStale === "1" && !(await refreshToken(form))) {
    say(form, messageFor("session", texts, tapped), true);
    return;
  }
  const body = new URLSearchParams(new FormData(form));
  if (submitter && submitter.name) { body.append(submitter.name, submitter.value); }
  busy(form, submitter);
  const controller = new AbortController();
  let timedOut = false;
  const wait = Number(form.dataset.resilientTimeout) || TIMEOUT_MS;
  const timer = setTimeout(() => { timedOut = true; controller.abort(); }, wait);
  let response;
  let html;
  try {
    // The attribute, not form.action: a field named "action" (the sale's) shadows the property.
    const action = new URL(form.getAttribute("action") || location.href, location.href).href;
    response = await fetch(action, { method: "POST", body: body, credentials: "same-origin",
                                          signal: controller.signal });
    html = await response.text();
  } catch (error) {
    clearTimeout(timer);
    idle(form);
    say(form, messageFor(navigator.onLine === false ? "offline" : failureKind(error, timedOut), texts, tapped), false);
    return;
  }
  clearTimeout(timer);
  const doc = parse(html);
  const kind = classify({ status: response.status, redirected: response.redirected, url: response.url,
                          loggedIn: loggedIn(doc), csrfRefused: csrfRefused(doc) },
                        { loginPath: loginPath, origin: location.origin,
                          expiredBefore: form.dataset.resilientExpired === "1" });
  idle(form);
  if (kind !== "expired") { delete form.dataset.resilientExpired; }
  if (kind === "show") {
    show(doc, response);
    return;
  }
  if (kind === "session") {
    form.dataset.resilientStale = "1";
  } else {
    delete form.dataset.resilientStale;
  }
  if (kind === "expired") {
    form.dataset.resilientExpired = "1";
    setToken(form, tokenOf(doc));
  }
  say(form, messageFor(kind, texts, tapped), kind === "session");
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (event.defaultPrevented || !(form instanceof HTMLFormElement) || !form.hasAttribute("data-resilient")) {
    return;
  }
  if ((form.getAttribute("method") || "get").toLowerCase() !== "post" || typeof fetch !== "function") { return; }
  event.preventDefault();
  if (form.dataset.resilientBusy === "1") { return; }  // a second tap while the first is on its way
  send(form, event.submitter).catch(() => { idle(form); form.submit(); });
});

// Back from a page shown in place (pushState): load that entry's page as a navigation would.
// Also an entry such a page pushed before this document was loaded again (Back, then Forward:
// a tester saw the sale's address over an empty sale form, whose post then gave a 405).
window.addEventListener("popstate", (event) => {
  if (pushed || (event.state && event.state.resilient)) { location.reload(); }
});

// A reload or a pull-to-refresh while a save waits for its answer would drop what was typed and
// the form's key (the next save would be a new record): the browser asks first (a tester).
window.addEventListener("beforeunload", (event) => {
  if (document.querySelector("form[data-resilient-busy]")) {
    event.preventDefault();
    event.returnValue = "";
  }
});
