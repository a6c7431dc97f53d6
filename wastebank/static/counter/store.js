// The tablet's durable storage (docs/rules.md §offline): the outbox and the unit's snapshot
// (members, prices) in IndexedDB through the vendored `idb` wrapper. Items never expire; the
// browser is asked to keep the storage persistent so that it is not evicted under storage pressure.
import { openDB } from "../vendor/idb/idb.js";

const DB_NAME = "wastebank";
const DB_VERSION = 1;
// The outbox of the first offline version (localStorage); read once and moved here (C18).
const LEGACY_OUTBOX = "wastebank.outbox";

let dbPromise = null;

/** The opened database (created on first use). */
export function db() {
  if (!dbPromise) {
    dbPromise = openDB(DB_NAME, DB_VERSION, {
      upgrade(database) {
        const outbox = database.createObjectStore("outbox", { keyPath: "key" });
        outbox.createIndex("seq", "seq");
        database.createObjectStore("kv", { keyPath: "name" });
      },
    });
  }
  return dbPromise;
}

/** Ask the browser not to evict our data; resolves to true when granted (or already). */
export async function persist() {
  try {
    if (navigator.storage && navigator.storage.persist) {
      if (await navigator.storage.persisted()) { return true; }
      return await navigator.storage.persist();
    }
  } catch (e) { /* not available: the data still lives, only without the guarantee */ }
  return false;
}

/** Every outbox item, in capture order. */
export async function allItems() {
  return (await db()).getAllFromIndex("outbox", "seq");
}

export async function getItem(key) { return (await db()).get("outbox", key); }

export async function putItem(item) { await (await db()).put("outbox", item); return item; }

export async function deleteItem(key) { await (await db()).delete("outbox", key); }

/** Delete one item only if `test(item)` holds, inside one transaction (the sender's switch to
 * "sending" cannot come between the test and the delete). Returns true when it was deleted. */
export async function deleteItemIf(key, test) {
  const tx = (await db()).transaction("outbox", "readwrite");
  const current = await tx.store.get(key);
  const gone = !!current && test(current);
  if (gone) { await tx.store.delete(key); }
  await tx.done;
  return gone;
}

/** Replace item `oldKey` by `item` in one transaction (a corrected deposit gets a new key). */
export async function replaceItem(oldKey, item) {
  const tx = (await db()).transaction("outbox", "readwrite");
  await tx.store.delete(oldKey);
  await tx.store.put(item);
  await tx.done;
  return item;
}

/**
 * Update one item inside a transaction: `change(item)` returns the new item, or null to leave
 * it. Returns the stored item (or null if it is gone). Two tabs never interleave inside it.
 */
export async function updateItem(key, change) {
  const tx = (await db()).transaction("outbox", "readwrite");
  const current = await tx.store.get(key);
  let next = null;
  if (current) {
    next = change(current);
    if (next) { await tx.store.put(next); }
  }
  await tx.done;
  return next || current || null;
}

export async function getValue(name) {
  const row = await (await db()).get("kv", name);
  return row ? row.value : null;
}

export async function setValue(name, value) { await (await db()).put("kv", { name: name, value: value }); }

/** Every stored value whose name starts with `prefix` ("cancelled:"), as [name, value] pairs. */
export async function valuesWithPrefix(prefix) {
  const rows = await (await db()).getAll("kv", IDBKeyRange.bound(prefix, prefix + "\uffff"));
  return rows.map((row) => [row.name, row.value]);
}

export async function deleteValue(name) { await (await db()).delete("kv", name); }

/** Next capture sequence number (monotonic across reloads and tabs). */
export async function nextSeq() {
  const tx = (await db()).transaction("kv", "readwrite");
  const row = await tx.store.get("seq");
  const value = Math.max(row ? row.value + 1 : 1, Date.now());
  await tx.store.put({ name: "seq", value: value });
  await tx.done;
  return value;
}

/**
 * Move items of the localStorage outbox (the first offline version) into IndexedDB, once.
 * Queued ones stay queued with their key, so they are still sent (CASES C18).
 */
export async function importLegacy() {
  let legacy = [];
  try { legacy = JSON.parse(localStorage.getItem(LEGACY_OUTBOX) || "[]"); } catch (e) { legacy = []; }
  if (!Array.isArray(legacy) || !legacy.length) { return 0; }
  let moved = 0;
  for (const old of legacy) {
    if (!old || !old.key || (await getItem(old.key))) { continue; }
    const captured = old.recorded_at || new Date().toISOString();
    await putItem({
      key: old.key, seq: Date.parse(captured) || Date.now(), kind: "deposit", username: old.username,
      member_no: old.member, member_name: old.member_name || old.member,
      body: { member: old.member, lines: old.lines, recorded_at: old.recorded_at },
      estimate: null, captured_at: captured, attempts: 0,
      state: old.state === "synced" ? "synced" : old.state === "failed" ? "fix" : "queued",
      response: old.state === "synced" ? { receipt_no: old.receipt_no, total_idr: old.total } : null,
      error: old.state === "failed" ? { code: "refused", reason: old.error || "" } : null,
    });
    moved += 1;
  }
  localStorage.removeItem(LEGACY_OUTBOX);
  return moved;
}
