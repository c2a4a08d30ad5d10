/**
 * JSON Lines fixture files: read in large chunks, with a quick path that scans plain row arrays in
 * place (no JSON.parse, no string per value) straight into the insert's bound values: with ASCII
 * chunks decoded as ASCII it took the 1M-customer load from 20.5 to 17.5 s of CPU (bench/README.md).
 * The generic loader in fixtures.ts only calls it.
 */
import { isAscii } from 'node:buffer';
import fs from 'node:fs';

/** A fixture file that cannot be read as documented. */
export class FixtureError extends Error {}

/** Where the rows of a JSON Lines file go: row objects, and row arrays with the header's columns. */
export interface JsonLinesSink {
  object(row: Record<string, unknown>): void;
  values(columns: string[], values: unknown[]): void;
  /**
   * Optional quick path for a row array line of a file with a header, given as `text` from
   * `start` to `end` (a line of a chunk with no backslash or control character): take the row
   * and answer true if it is made only of plain values (see scanPlainRow) and has one per column;
   * answer false, taking nothing, for any other line, which then goes to `values` or fails as usual.
   */
  plainRow?(columns: string[], text: string, start: number, end: number): boolean;
}

/**
 * Read a JSON Lines fixture file in large chunks, handing each row to `sink`. Blank lines are
 * skipped. A row is a JSON object (keys are column names), or a JSON array of values when the
 * file's first line is a header: an array of column names, which the arrays follow in order (the
 * compact form `npm run generate` writes: no key repeated on every line, about half the size, and
 * quicker to parse).
 */
export function readJsonLines(file: string, sink: JsonLinesSink): void {
  const fd = fs.openSync(file, 'r');
  let buf = Buffer.allocUnsafe(1 << 24);
  let lineNo = 0;
  let header: string[] | null = null;
  let first = true;
  const scratch: unknown[] = [];
  const handle = (line: string) => {
    lineNo++;
    if (line.length === 0 || (line.charCodeAt(0) <= 32 && line.trim() === '')) return;
    if (header !== null && scanPlainRow(line, scratch)) {
      if (scratch.length !== header.length)
        throw new FixtureError(
          `${file}:${lineNo}: expected ${header.length} values (one per column of the header line), found ${scratch.length}`,
        );
      sink.values(header, scratch);
      return;
    }
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new FixtureError(`${file}:${lineNo}: not valid JSON (${(e as Error).message})`);
    }
    if (Array.isArray(row)) {
      if (header !== null) {
        if (row.length !== header.length)
          throw new FixtureError(
            `${file}:${lineNo}: expected ${header.length} values (one per column of the header line), found ${row.length}`,
          );
        sink.values(header, row);
      } else if (first && row.length > 0 && row.every((c) => typeof c === 'string')) {
        if (new Set(row).size !== row.length)
          throw new FixtureError(`${file}:${lineNo}: the header line names a column twice`);
        header = row as string[];
      } else {
        throw new FixtureError(`${file}:${lineNo}: a row array needs a header line first (an array of column names)`);
      }
    } else if (row !== null && typeof row === 'object') {
      sink.object(row as Record<string, unknown>);
    } else {
      throw new FixtureError(`${file}:${lineNo}: expected a row object`);
    }
    first = false;
  };
  const plainRow = sink.plainRow;
  // A line of a chunk with no backslash and no control character but the newlines between lines
  // can only be a plain row or something JSON.parse has to look at: such a chunk's lines are
  // offered to the sink's quick path in place (no string per line, no test per line).
  const line = (text: string, start: number, end: number, clean: boolean) => {
    if (clean && header !== null && plainRow !== undefined && end > start && plainRow(header, text, start, end))
      lineNo++;
    else handle(text.slice(start, end));
  };
  try {
    // The bytes after the last newline of a read (the start of the next line) are moved to the
    // front of the buffer and read on with the next chunk, so a multi-byte character or a row
    // never straddles two chunks; a line longer than the buffer makes it grow.
    let have = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, have, buf.length - have, null);
      if (n === 0) break;
      const total = have + n;
      const end = buf.lastIndexOf(10, total - 1);
      if (end < 0) {
        have = total;
        if (have === buf.length) {
          const bigger = Buffer.allocUnsafe(buf.length * 2);
          buf.copy(bigger, 0, 0, have);
          buf = bigger;
        }
        continue;
      }
      // An ASCII chunk (the usual case) decodes as ASCII to the same string as UTF-8 would give,
      // several times faster; its bytes are its characters, so it is checked for backslashes
      // and control characters on the bytes (quicker than a regular expression on the text).
      const bytes = buf.subarray(0, end);
      const ascii = isAscii(bytes);
      const text = buf.toString(ascii ? 'ascii' : 'utf8', 0, end);
      const clean = plainRow !== undefined && (ascii ? !notPlainBytes(bytes) : !CHUNK_NOT_PLAIN.test(text));
      have = buf.copy(buf, 0, end + 1, total);
      let start = 0;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
        line(text, start, i, clean);
        start = i + 1;
      }
      line(text, start, text.length, clean);
    }
    if (have > 0) handle(buf.toString('utf8', 0, have));
  } finally {
    fs.closeSync(fd);
  }
}

/** A backslash (an escape) or a control character (not allowed raw in a JSON string). */
const NOT_PLAIN = /[\\\u0000-\u001f]/;
/** The same within a chunk of lines: the newlines that end its lines aside. */
const CHUNK_NOT_PLAIN = /[\\\u0000-\u0009\u000b-\u001f]/;

/**
 * Whether `bytes` hold a backslash or a control character other than a newline (the bytes
 * CHUNK_NOT_PLAIN finds in ASCII text). Control characters are found four bytes at a time: a word
 * with no byte below 0x20 is passed over with one test, the others are looked at byte by byte.
 */
function notPlainBytes(bytes: Buffer): boolean {
  if (bytes.indexOf(92) >= 0) return true;
  const n = bytes.length;
  let i = 0;
  if (bytes.byteOffset % 4 === 0) {
    const words = new Int32Array(bytes.buffer, bytes.byteOffset, n >> 2);
    for (let w = 0; w < words.length; w++) {
      const x = words[w];
      // Non-zero when some byte of x is below 0x20 (x is ASCII: no byte has its top bit set).
      if (((x - 0x20202020) & ~x & 0x80808080) !== 0) {
        for (let b = w * 4, e = b + 4; b < e; b++) {
          const c = bytes[b];
          if (c < 32 && c !== 10) return true;
        }
      }
    }
    i = words.length * 4;
  }
  for (; i < n; i++) {
    const c = bytes[i];
    if (c < 32 && c !== 10) return true;
  }
  return false;
}

/**
 * The plain values (see scanPlainRow) of the row array in `text` from `start` to `end` (a line
 * free of backslashes and control characters), written into `out` from `at`, at most `max` of
 * them, true and false as `yes` and `no` (by default 1 and 0: as toSqlValue binds them): answers
 * how many, or -1 for a line that is not plain (or with more than `max` values). Writes in place,
 * so a row of a chunk costs no array and no string but its values.
 */
export function scanPlainRowAt(
  text: string,
  start: number,
  end: number,
  out: unknown[],
  at: number,
  max: number,
  yes: unknown = 1,
  no: unknown = 0,
): number {
  if (text.charCodeAt(start) !== 91 || text.charCodeAt(end - 1) !== 93) return -1;
  if (end - start === 2) return 0;
  const last = end - 1;
  const limit = at + max;
  let k = at;
  let i = start + 1;
  for (;;) {
    if (k === limit) return -1;
    const c = text.charCodeAt(i);
    if (c === 34) {
      const q = text.indexOf('"', i + 1);
      if (q < 0 || q >= last) return -1;
      out[k++] = text.slice(i + 1, q);
      i = q + 1;
    } else if ((c >= 48 && c <= 57) || c === 45) {
      const negative = c === 45;
      if (negative) i++;
      const from = i;
      let d = text.charCodeAt(i);
      if (d < 48 || d > 57) return -1;
      let v = d - 48;
      i++;
      // JSON has no leading zeros: after a 0 only the end of the number may follow.
      if (v !== 0) for (d = text.charCodeAt(i); d >= 48 && d <= 57; d = text.charCodeAt(++i)) v = v * 10 + (d - 48);
      if (i - from > 15) return -1;
      out[k++] = negative ? -v : v;
    } else if (c === 110 && text.startsWith('null', i)) {
      out[k++] = null;
      i += 4;
    } else if (c === 116 && text.startsWith('true', i)) {
      out[k++] = yes;
      i += 4;
    } else if (c === 102 && text.startsWith('false', i)) {
      out[k++] = no;
      i += 5;
    } else {
      return -1;
    }
    const next = text.charCodeAt(i);
    if (next === 44) i++;
    else return next === 93 && i === last ? k - at : -1;
  }
}

/**
 * The values of a row array line made only of plain values, as JSON.parse would give them:
 * strings without escapes, integers of up to 15 digits, null, true and false, with no white
 * space. Fills `out` and answers true; answers false for any other line (a float, an escape,
 * white space, a nested value, or bad JSON), which JSON.parse then reads or refuses. The lines
 * `npm run generate` writes are all plain, and this reads them in about two thirds of the time
 * JSON.parse takes, making no array per line.
 */
function scanPlainRow(line: string, out: unknown[]): boolean {
  out.length = 0;
  if (NOT_PLAIN.test(line)) return false;
  const n = scanPlainRowAt(line, 0, line.length, out, 0, Infinity, true, false);
  out.length = n < 0 ? 0 : n;
  return n >= 0;
}

/** Call `each` for every row of a JSON Lines file, as an object (row arrays are paired with the header). */
export function forEachJsonLine(file: string, each: (row: Record<string, unknown>) => void): void {
  readJsonLines(file, {
    object: each,
    values: (columns, values) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < columns.length; i++) row[columns[i]] = values[i];
      each(row);
    },
  });
}
