/**
 * A read-only call's answer remembered whole, with the journal warnings the request gave, in the
 * state's read cache (src/store/read-cache.ts: versioned by the database, bounded in bytes, nothing
 * kept inside a transaction). Asked again under the same key while the data is unchanged, the call
 * answers what it answered and gives the same warnings again, without reading its input again.
 * A call that throws (a refusal) is never remembered. The key must name everything the answer
 * depends on besides the data (the vendor's callers build it from the request), and the answer must
 * not depend on the clock.
 */
import { textBytes, type ReadCache } from '../../store/read-cache.js';

interface Remembered<T> {
  value: T;
  warnings: string[];
}

export function rememberCall<T>(
  reads: ReadCache,
  key: string,
  warnings: string[],
  compute: () => T,
  weigh: (value: T) => number,
): T {
  const hit = reads.peek<Remembered<T>>(key);
  if (hit !== undefined) {
    for (const w of hit.warnings) warnings.push(w);
    return hit.value;
  }
  const before = warnings.length;
  const value = compute();
  const given = warnings.slice(before);
  reads.set(
    key,
    { value, warnings: given } satisfies Remembered<T>,
    given.reduce((n, w) => n + textBytes(w), weigh(value)),
  );
  return value;
}
