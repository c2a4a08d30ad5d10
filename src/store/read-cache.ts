/**
 * The one read cache of a database: answers of reads remembered until the database changes.
 *
 * The version is SQLite's `total_changes()` of the connection (every row inserted, updated or
 * deleted through it, triggers included, rolled-back ones too) and, for a file, `data_version`
 * as well (a commit by another connection to the same file). A state's database has one
 * connection, so any write to it, by any vendor, the control plane or the fixture loader, moves
 * the version and empties the cache before the next read. Inside an open transaction nothing is
 * remembered or reused (a rollback would take back rows that an answer was made from).
 *
 * One cache per database (readCache(db)), so per state: a reset or restore that swaps the
 * database starts with a new, empty one. Bounded in bytes (what each entry holds, its key
 * included): past the bound the oldest entries go first. Every vendor keeps its rendered answers
 * here (keyed on the authenticated caller and the request), and the stores their derived data
 * (list totals, page boundaries: see page-marks.ts). A lookup that found nothing (`undefined`) is
 * never remembered, so requests with made-up credentials cannot fill it and evict what others use.
 */
import type { Statement } from 'better-sqlite3';
import type { DB } from './db.js';

/**
 * A reader of the database's change version (see above): null inside an open transaction, where
 * nothing may be remembered or reused. Two reads that return the same version saw the same data.
 */
export function changeVersion(db: DB): () => unknown {
  const stmt: Statement = db.memory
    ? db.prepare('SELECT total_changes()').pluck()
    : db.prepare("SELECT total_changes() || ':' || data_version FROM pragma_data_version").pluck();
  return () => (db.inTransaction ? null : stmt.get());
}

/** What an entry costs beyond its value and key (the Map slot, the entry record). */
const ENTRY_BYTES = 64;
/** A string's bytes (V8 may hold two per character). */
export const textBytes = (s: string): number => 2 * s.length;
/** Rough bytes of a value: a string's, else those of a small object. */
const bytesOf = (v: unknown): number => (typeof v === 'string' ? textBytes(v) : 64);

/** The bytes a state's read cache holds at most. */
export const READ_CACHE_BYTES = 8 << 20;

interface Entry {
  value: unknown;
  bytes: number;
}

export class ReadCache {
  private readonly currentVersion: () => unknown;
  private version: unknown = undefined;
  private readonly entries = new Map<string, Entry>();
  private held = 0;

  constructor(
    db: DB,
    readonly maxBytes = READ_CACHE_BYTES,
  ) {
    this.currentVersion = changeVersion(db);
  }

  /** Bytes held now (keys, values and entry overhead, as weighed). */
  get bytes(): number {
    return this.held;
  }

  /**
   * The version the cache holds, after dropping everything when the database changed since;
   * null inside a transaction (nothing may be remembered or reused then).
   */
  private usable(): boolean {
    const version = this.currentVersion();
    if (version === null) return false;
    if (version !== this.version) {
      this.version = version;
      this.entries.clear();
      this.held = 0;
    }
    return true;
  }

  /**
   * The remembered value for `key`, or `compute()`'s, remembered while the database stays
   * unchanged (unless undefined). `weigh` tells a value's bytes (default: a string's, else 64).
   * Values are shared: callers must never change them.
   */
  get<V>(key: string, compute: () => V, weigh?: (v: V) => number): V {
    if (!this.usable()) return compute();
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit.value as V;
    const value = compute();
    if (value !== undefined) this.put(key, value, weigh ? weigh(value) : bytesOf(value));
    return value;
  }

  /** The value remembered under `key` (undefined: none, or the database changed). */
  peek<V>(key: string): V | undefined {
    if (!this.usable()) return undefined;
    return this.entries.get(key)?.value as V | undefined;
  }

  /**
   * Remember `value` under `key` (replacing what was there) for the current version; `bytes` is
   * what it holds. Used for a value that grows (page marks): set again with its new weight.
   * Nothing is kept inside a transaction, or heavier than an eighth of the bound.
   */
  set(key: string, value: unknown, bytes: number): void {
    if (!this.usable()) return;
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.held -= old.bytes;
    }
    this.put(key, value, bytes);
  }

  private put(key: string, value: unknown, bytes: number): void {
    const n = bytes + textBytes(key) + ENTRY_BYTES;
    if (n > this.maxBytes / 8) return;
    // Oldest first: a Map iterates in insertion order.
    for (const [k, e] of this.entries) {
      if (this.held + n <= this.maxBytes) break;
      this.entries.delete(k);
      this.held -= e.bytes;
    }
    this.entries.set(key, { value, bytes: n });
    this.held += n;
  }
}

const caches = new WeakMap<DB, ReadCache>();

/** The read cache of `db` (made on first use; it goes with the database). */
export function readCache(db: DB): ReadCache {
  let cache = caches.get(db);
  if (cache === undefined) {
    cache = new ReadCache(db);
    caches.set(db, cache);
  }
  return cache;
}
