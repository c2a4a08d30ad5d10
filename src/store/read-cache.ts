/**
 * Answers of read queries remembered until the database changes.
 *
 * The version is SQLite's `total_changes()` of the connection (every row inserted, updated or
 * deleted through it, triggers included, rolled-back ones too) and, for a file, `data_version`
 * as well (a commit by another connection to the same file). A state's database has one
 * connection, so any write to it, by any vendor, the control plane or the fixture loader, moves
 * the version and empties the cache before the next read. Inside an open transaction nothing is
 * remembered or reused (a rollback would take back rows that an answer was made from).
 *
 * One cache per repository instance (state.use): a reset or restore that swaps the database
 * makes a new repository and so a new, empty cache. Bounded in entries and in text size.
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

/** Rough size in characters: a string's length, else that of a small object. */
const sizeOf = (v: unknown): number => (typeof v === 'string' ? v.length : 64);

export class ReadCache<V extends string | number | object | null> {
  private readonly currentVersion: () => unknown;
  private version: unknown = undefined;
  private readonly entries = new Map<string, V>();
  private chars = 0;

  constructor(
    private readonly db: DB,
    private readonly maxEntries = 64,
    private readonly maxChars = 1 << 18,
  ) {
    this.currentVersion = changeVersion(db);
  }

  /** The remembered answer for `key`, or `compute()`'s (remembered while the database stays unchanged). */
  get(key: string, compute: () => V, size: (v: V) => number = sizeOf): V {
    const version = this.currentVersion();
    if (version === null) return compute();
    if (version !== this.version) {
      this.version = version;
      this.entries.clear();
      this.chars = 0;
    } else {
      const hit = this.entries.get(key);
      if (hit !== undefined) return hit;
    }
    const value = compute();
    const n = size(value) + key.length;
    if (n > this.maxChars) return value;
    if (this.entries.size >= this.maxEntries || this.chars + n > this.maxChars) {
      this.entries.clear();
      this.chars = 0;
    }
    this.entries.set(key, value);
    this.chars += n;
    return value;
  }
}
