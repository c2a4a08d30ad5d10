/**
 * Keeps one of Node's `process.nextTick` entries alive for the life of the process, so that the
 * hidden classes (V8 maps) of those entries are never collected.
 *
 * Why: `process.nextTick` makes each entry with an object literal whose first keys are computed
 * (`{ [async_id_symbol]: ..., [trigger_async_id_symbol]: ..., callback, args }`). V8 remembers, per
 * key of that literal, the one map it saw there, and it holds that map weakly. A map reached only
 * through short-lived entries is freed by a full garbage collection while no entry is alive (the
 * emulator's start, which loads the fixtures and compiles the schemas, makes several), the next
 * entry gets a new map, and V8 marks those keys as seen with many maps (megamorphic) for good:
 * from then on every entry is made through V8's runtime instead of the optimised code. Node's HTTP
 * server makes a few entries per request (the end of each request's stream, among others): with the
 * keys megamorphic, `customer.get` cost 48.0 µs of CPU per request instead of 38.7, and keyword
 * lists 64.0 instead of 50.7 (medians of 5 alternated runs; docs/performance.md).
 *
 * An entry held here holds its map, and the map the maps before it (V8 keeps a map's parent
 * strongly), so the literal's keys keep seeing the maps they first saw. The entry is the one the
 * callback below runs in: `executionAsyncResource()` inside a nextTick callback is that entry.
 */
import { executionAsyncResource } from 'node:async_hooks';

let kept: object | null = null;
let scheduled = false;

/** Keep one nextTick entry (once per process; the entry is taken on the next tick). */
export function keepTickShape(): void {
  if (scheduled) return;
  scheduled = true;
  process.nextTick(() => {
    kept = executionAsyncResource();
  });
}

/** The entry kept (null before the tick that takes it ran). */
export function keptTickEntry(): object | null {
  return kept;
}
