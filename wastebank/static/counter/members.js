// Finding a member offline, from the counter snapshot (GET /api/v1/counter/snapshot).
//
// A pure ES module (no build step, no DOM): the counter page and Node's test runner import the
// same file. normaliseMemberRef mirrors wastebank/services/members.py:
// member_number_candidates; both run the vectors in tests/vectors/member_ref.json.

// Separators operators type inside a member number: "rw05-12", "RW05 12", "rw05/12", "rw05.12".
const NUMBER_SEPARATORS = /[\s\-_./]+/g;
const MAX_TYPED_DIGITS = 9;
// A scanned card URL ends in /c/<token>; a bare token is 22-64 URL-safe characters.
const CARD_URL = /\/c\/([A-Za-z0-9_-]{22,64})\/?$/;
const BARE_TOKEN = /^[A-Za-z0-9_-]{22,64}$/;
// Letters that Unicode does not decompose into a base letter and a mark.
const EXTRA_FOLDS = { "đ": "d", "ł": "l", "ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "ı": "i", "ħ": "h", "þ": "th" };

function collapse(text) {
  return String(text ?? "").trim().split(/\s+/).filter(Boolean).join(" ");
}

/**
 * The member numbers `text` may mean at the unit `unitCode`, most exact first, upper case.
 *
 * First the text itself (trimmed, inner whitespace collapsed, upper-cased): an imported
 * number of any shape matches exactly. Then, for a counter ("12", "0012") or the unit's code
 * followed by a counter with or without separators ("rw05-12", "RW05 12", "RW05-0012"), the
 * unit's standard number "<UNIT CODE>-<at least 4 digits>" ("RW05-0012"). Another unit's number
 * gives only itself. Empty text gives []. Never throws.
 *
 * @param {string} text what the operator typed or scanned
 * @param {string} unitCode the counter's unit, e.g. "RW05"
 * @returns {string[]}
 */
export function normaliseMemberRef(text, unitCode) {
  const typed = collapse(text).toUpperCase();
  if (!typed) return [];
  const candidates = [typed];
  const code = String(unitCode ?? "").trim().toUpperCase();
  const compact = typed.replace(NUMBER_SEPARATORS, "");
  const compactCode = code.replace(NUMBER_SEPARATORS, "");
  let counter = null;
  if (/^[0-9]+$/.test(compact)) {
    counter = compact;
  } else if (compactCode && compact.startsWith(compactCode) && /^[0-9]+$/.test(compact.slice(compactCode.length))) {
    counter = compact.slice(compactCode.length);
  }
  if (code && counter !== null && counter.length <= MAX_TYPED_DIGITS && Number(counter) > 0) {
    const standard = `${code}-${String(Number(counter)).padStart(4, "0")}`;
    if (!candidates.includes(standard)) candidates.push(standard);
  }
  return candidates;
}

/**
 * The card token in a scanned card URL (".../c/<token>") or a bare token, else null.
 * @param {string} text
 * @returns {string|null}
 */
export function cardToken(text) {
  const value = String(text ?? "").trim();
  const match = CARD_URL.exec(value);
  if (match) return match[1];
  return BARE_TOKEN.test(value) ? value : null;
}

/**
 * SHA-256 of a card token (UTF-8) as 64 lower-case hex digits, as in the snapshot's
 * `card_hashes` (members.py: card_token_hash). Uses crypto.subtle (browsers, Node 20).
 * @param {string} token
 * @returns {Promise<string>}
 */
export async function cardHash(token) {
  const digest = await globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(String(token)));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Text folded for searching: lower case, accents removed ("Ñoño Đặng" → "nono dang"),
 * whitespace collapsed.
 * @param {string} text
 * @returns {string}
 */
export function foldText(text) {
  return collapse(text)
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[đłøßæœıħþ]/g, (ch) => EXTRA_FOLDS[ch]);
}

function byName(a, b) {
  const x = foldText(a.name);
  const y = foldText(b.name);
  if (x !== y) return x < y ? -1 : 1;
  return a.member_no < b.member_no ? -1 : a.member_no > b.member_no ? 1 : 0;
}

/**
 * Find members in the snapshot's list, as the counter's find screen does on the server.
 *
 * `exact`: the first active member whose number (case-insensitive) equals one of
 * normaliseMemberRef(text, unitCode), in that order; else the active member whose
 * `card_hashes` holds cardHash of the card token in `text` (a card URL or a bare token);
 * else null. `results`: active members whose name or number contains the folded text
 * (case- and accent-insensitive), sorted by name then number, at most `limit`.
 * Inactive members (active === false) are never returned.
 *
 * @param {{member_no: string, name: string, rt?: string, rw?: string, card_hashes?: string[], active?: boolean}[]} members
 * @param {string} text
 * @param {string} unitCode
 * @param {{limit?: number}} [options] limit defaults to 20
 * @returns {Promise<{exact: object|null, results: object[]}>}
 */
export async function searchMembers(members, text, unitCode, { limit = 20 } = {}) {
  const active = (members || []).filter((m) => m && m.active !== false);
  const candidates = normaliseMemberRef(text, unitCode);
  if (!candidates.length) return { exact: null, results: [] };
  const byNumber = new Map();
  for (const m of active) {
    const key = String(m.member_no).toUpperCase();
    if (!byNumber.has(key)) byNumber.set(key, m);
  }
  let exact = null;
  for (const candidate of candidates) {
    if (byNumber.has(candidate)) { exact = byNumber.get(candidate); break; }
  }
  if (exact === null) {
    const token = cardToken(text);
    if (token !== null) {
      const hash = await cardHash(token);
      exact = active.find((m) => (m.card_hashes || []).includes(hash)) || null;
    }
  }
  const needle = foldText(text);
  const results = active
    .filter((m) => foldText(m.name).includes(needle) || foldText(m.member_no).includes(needle))
    .sort(byName)
    .slice(0, Math.max(0, limit));
  return { exact, results };
}
