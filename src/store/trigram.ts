/**
 * Substring search through an FTS5 trigram index. The indexes are built with `detail=none` (a
 * third of the size of a full index, and faster to build): they answer which rows contain every
 * trigram of the searched text, a superset of the rows containing the text. The caller always
 * keeps its exact test (LIKE ... ESCAPE) on those candidates, so answers are the same as a scan.
 * The index folds case (Unicode), at least as widely as LIKE (ASCII only), so no match is lost.
 */

/** `trigram DDL` for a contentless index over `cols`. */
export function trigramIndexDdl(name: string, cols: string[]): string {
  return `CREATE VIRTUAL TABLE ${name} USING fts5(${cols.join(', ')}, content='', contentless_delete=1, tokenize='trigram', detail=none)`;
}

/**
 * The FTS5 query for rows containing `text`: trigrams that cover it without overlap (and the last
 * one), ANDed (the index folds case itself: no JS case mapping, which can change lengths); null
 * when `text` has fewer than three characters (the index cannot help; the caller scans).
 * Overlapping trigrams add almost nothing to the filter and each costs a posting
 * list to intersect (at a million rows, half the search time).
 */
export function trigramQuery(text: string): string | null {
  const chars = [...text];
  if (chars.length < 3) return null;
  const grams = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i += 3) grams.add(chars.slice(i, i + 3).join(''));
  grams.add(chars.slice(-3).join(''));
  // FTS5 reads its query as a C string: a NUL would end it mid-quote ("unterminated string").
  // Trigrams holding one are left out; the caller's exact test still applies to the candidates.
  const usable = [...grams].filter((g) => !g.includes('\u0000'));
  if (usable.length === 0) return null;
  return usable.map((g) => `"${g.replace(/"/g, '""')}"`).join(' AND ');
}
