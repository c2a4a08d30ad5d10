/**
 * Deep pages of a list without walking the rows before them.
 *
 * The APIs page by offset (resStart, rows_offset, page, offset), and `LIMIT n OFFSET m` walks the
 * m rows before the page one by one. Instead a list remembers, per data version, the key (its
 * ORDER BY columns) of every MARK_EVERY-th row: a page starting at row s is read from the mark at
 * or before s, `WHERE key >= mark ORDER BY key LIMIT n OFFSET (s - mark's row)`, so it walks
 * fewer than MARK_EVERY rows before its own. The marks are made on demand, each from the one
 * before by a statement that skips MARK_EVERY rows in SQLite (one statement per mark, no row
 * handed to JavaScript), and kept in the read cache of the database (read-cache.ts): the first
 * deep page after a write walks up to its place once, every later page of that version does not.
 * The order must be total (the key ends with a unique column), so a key names exactly one row.
 */
import { textBytes, type ReadCache } from './read-cache.js';

/** Rows between two marks (and at most the rows a page walks before its own). */
export const MARK_EVERY = 256;

/** How a list's marks are made. */
export interface MarkedList<K extends readonly unknown[]> {
  /** Names the list (its table, filters and order) in the read cache. */
  key: string;
  /**
   * The key of the row `skip` rows after the row whose key is `from` (that row is 0), or of row `skip` when `from` is
   * null; undefined past the end.
   */
  step(from: K | null, skip: number): K | undefined;
}

interface Marks<K> {
  /** keys[i]: the key of row i * MARK_EVERY. */
  keys: K[];
  /** Every mark is known (the list has no row at the next one). */
  done: boolean;
  bytes: number;
}

const keyBytes = (k: readonly unknown[]): number => {
  let n = 16;
  for (const v of k) n += typeof v === 'string' ? textBytes(v) : 8;
  return n;
};

/**
 * Where a page starting at row `start` begins: the key of the mark at or before it and how many
 * rows to skip from there; null when the list has no row at or before `start` that a mark names
 * (an empty list). A start past the end gives the last mark and a skip past the end (an empty page).
 */
export function pageFrom<K extends readonly unknown[]>(
  cache: ReadCache,
  list: MarkedList<K>,
  start: number,
): { from: K; skip: number; mark: number } | null {
  const cacheKey = `marks\0${list.key}`;
  const want = Math.floor(start / MARK_EVERY);
  let marks = cache.peek<Marks<K>>(cacheKey);
  if (marks === undefined) marks = { keys: [], done: false, bytes: 0 };
  if (marks.keys.length <= want && !marks.done) {
    // Made anew (never changed in place): a value handed out stays as it was.
    const keys = marks.keys.slice();
    let bytes = marks.bytes;
    let done = false;
    while (keys.length <= want) {
      const next = keys.length === 0 ? list.step(null, 0) : list.step(keys[keys.length - 1], MARK_EVERY);
      if (next === undefined) {
        done = true;
        break;
      }
      keys.push(next);
      bytes += keyBytes(next);
    }
    marks = { keys, done, bytes };
    cache.set(cacheKey, marks, bytes);
  }
  if (marks.keys.length === 0) return null;
  const at = Math.min(want, marks.keys.length - 1);
  return { from: marks.keys[at], skip: start - at * MARK_EVERY, mark: at };
}

/**
 * The number of rows of the list: every mark is made (see pageFrom), then the rows from the last
 * one are counted by `countFrom` (which needs to count at most MARK_EVERY of them).
 */
export function markedTotal<K extends readonly unknown[]>(
  cache: ReadCache,
  list: MarkedList<K>,
  countFrom: (from: K) => number,
): number {
  const totalKey = `total\0${list.key}`;
  return cache.get(
    totalKey,
    () => {
      const last = pageFrom(cache, list, Number.MAX_SAFE_INTEGER);
      if (last === null) return 0;
      return last.mark * MARK_EVERY + countFrom(last.from);
    },
    () => 8,
  );
}
