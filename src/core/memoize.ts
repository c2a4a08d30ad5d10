/**
 * A pure function of one key, remembered: the answers of up to `limit` distinct keys are kept
 * (past that it starts over), so repeated inputs (the same Authorization header, Accept header or
 * search pattern on request after request) are worked out once. A call that throws remembers
 * nothing. Only for functions whose answer depends on the key alone.
 */
export function memoize<K, V>(compute: (key: K) => V, limit: number): (key: K) => V {
  const known = new Map<K, V>();
  return (key) => {
    const hit = known.get(key);
    if (hit !== undefined || known.has(key)) return hit as V;
    const value = compute(key);
    if (known.size >= limit) known.clear();
    known.set(key, value);
    return value;
  };
}
