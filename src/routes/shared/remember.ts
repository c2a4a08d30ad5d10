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
  let computed = false;
  const r = reads.get<Remembered<T>>(
    key,
    () => {
      computed = true;
      const before = warnings.length;
      const value = compute();
      return { value, warnings: warnings.slice(before) };
    },
    (m) => m.warnings.reduce((n, w) => n + textBytes(w), weigh(m.value)),
  );
  // Computed now, the warnings are already the request's; remembered, they are given again.
  if (!computed) for (const w of r.warnings) warnings.push(w);
  return r.value;
}
