/**
 * Content negotiation by `Accept`, for vendors that serve more than one format. Returns the offer
 * the client ranks highest (q-values honoured, wildcards matched), `fallback` when Accept is
 * absent, or null when nothing offered is acceptable (the vendor answers 406).
 */
/** The media type of a Content-Type value, lower case, without its parameters (`text/XML; charset=x` -> `text/xml`). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

export function negotiate<T extends string>(
  accept: string | undefined,
  offers: Record<string, T>,
  fallback: T,
): T | null {
  if (accept === undefined || accept.trim() === '') return fallback;
  const ranges = accept
    .split(',')
    .map((part, index) => {
      const [type, ...params] = part.trim().split(';');
      let q = 1;
      for (const p of params) {
        const [k, v] = p.trim().split('=');
        if (k === 'q') q = Number(v);
      }
      return { type: type.trim().toLowerCase(), q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((r) => r.q > 0 && r.type !== '')
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const r of ranges) {
    if (r.type === '*/*') return fallback;
    const exact = offers[r.type];
    if (exact !== undefined) return exact;
    if (r.type.endsWith('/*')) {
      const major = r.type.slice(0, -1);
      const match = Object.keys(offers).find((o) => o.startsWith(major));
      if (match !== undefined) return offers[match];
    }
  }
  return null;
}
