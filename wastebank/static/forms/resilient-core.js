// The pure part of forms/resilient.js (no DOM): what an answer to a form sent with fetch means
// for the person at the tablet, and the words said. Tested with Node (tests/js/resilient.test.mjs).

/** How long a save may take before the page says the answer did not come (ms). */
export const TIMEOUT_MS = 20000;

/**
 * What to do with an answer to a form's POST.
 *
 * ``answer``: ``{status, redirected, url, loggedIn, csrfRefused}`` — the HTTP status, whether
 * fetch followed a redirect, the final URL, whether the returned page shows someone logged in
 * (base.html's ``.who``), and whether it is the error page of a refused form token (it says
 * "The form has expired; please try again." in the page's language, api/errors.CSRF_MESSAGES).
 * ``options``: ``{loginPath, origin, expiredBefore}`` — the login page's path, the page's
 * origin, and whether the form was just refused as expired once already.
 *
 * Returns one of:
 * - ``"session"``: the session ended (401; a 400 or a redirect to the login page while nobody
 *   is logged in any more): keep the input, say so, offer the login in a new tab;
 * - ``"expired"``: a refused form token while still logged in — the token expired: take
 *   the new token from the returned page, keep the input, ask to tap again (once: a second one
 *   in a row is shown as the server's page);
 * - ``"uncertain"``: a 5xx: the save may or may not have gone through; keep the input;
 * - ``"show"``: any other answer (a saved record's page after the redirect, a check step, a
 *   refusal with the form's messages): the returned page is shown.
 */
export function classify(answer, options = {}) {
  const { status, redirected, url, loggedIn, csrfRefused } = answer;
  if (status >= 500) { return "uncertain"; }
  if (status === 401) { return "session"; }
  if (redirected && isLoginUrl(url, options.loginPath, options.origin)) { return "session"; }
  if (status === 400 && !loggedIn) { return "session"; }
  if (status === 400 && csrfRefused && !options.expiredBefore) { return "expired"; }
  return "show";
}

/** True when ``url`` (absolute or a path) is the login page ``loginPath`` ("/login"). */
export function isLoginUrl(url, loginPath, origin = "http://localhost") {
  if (!url || !loginPath) { return false; }
  try {
    return new URL(url, origin).pathname.replace(/\/+$/, "") === loginPath.replace(/\/+$/, "");
  } catch (_error) {
    return false;
  }
}

/** ``"timeout"`` when the page gave up waiting (the AbortController fired), else ``"network"``. */
export function failureKind(error, timedOut) {
  if (timedOut || (error && error.name === "TimeoutError")) { return "timeout"; }
  return "network";
}

/**
 * The sentence shown for ``kind`` (``network``, ``timeout``, ``uncertain``, ``offline``,
 * ``session``, ``expired``), from ``texts`` (the translated strings base.html hands over), with the tapped
 * button's label in place of ``{button}``. Unknown kinds fall back to the network sentence.
 */
export function messageFor(kind, texts, button) {
  const label = String(button || "").trim() || texts.save || "Simpan";
  const fill = (text) => String(text || "").split("{button}").join(label);
  if (kind === "session") { return fill(texts.session); }
  if (kind === "expired") { return fill(texts.expired); }
  // No connection at all: the request never left the tablet, so nothing was saved (a tester:
  // "mungkin sudah tersimpan" read oddly while the tablet was plainly offline).
  if (kind === "offline" && texts.offline) { return fill(texts.offline); }
  const lead = { timeout: texts.timeout, uncertain: texts.server }[kind] || texts.network;
  return fill(lead) + " " + fill(texts.retry);
}

/**
 * ``src`` with a query parameter ``r`` set to ``n``: the same page script, run again for a page
 * shown in place (the browser runs a module URL once per page; a new URL runs it again).
 */
export function rerunSrc(src, n, origin = "http://localhost") {
  const url = new URL(src, origin);
  url.searchParams.set("r", String(n));
  return url.origin === origin ? url.pathname + url.search + url.hash : url.href;
}
