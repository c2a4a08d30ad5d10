/**
 * The seed: one read-only SQLite file holding every vendor's schema and the fixtures, from which
 * the default state, every reset and every new session is made.
 *
 * Parsing and inserting a big fixture set is most of a start (about 24 s of CPU at a million
 * customers per vendor, spread over two processes by seed-parallel.ts), so the seed is compiled
 * once per fixture set and kept in a cache folder, keyed by a hash of the fixture files' names and
 * contents and of the schema version (every vendor's DDL, plus SEED_FORMAT and the emulator's
 * version, for loader changes that keep the DDL). The key is made of the contents, not of
 * modification times, so a fresh checkout in CI with a restored cache folder still hits. A cache
 * entry is written to a temporary name and renamed into place, so a process never reads half a
 * file; an entry that is unreadable or not the database its name promises is compiled again. The
 * folder keeps the MAX_ENTRIES most recently used entries.
 *
 * A process hard-links the entry it uses into `live/` (removed when it closes, or found dead later),
 * so the path it hands out stays valid even if another process prunes or replaces the entry.
 *
 * A SQLite file can also be the fixture set itself (`--fixtures seed.sqlite`, made by
 * `--export-seed`): checked against the schema, then used as it is.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import Database from 'better-sqlite3';
import type { DB } from './db.js';
import { getMeta, openMemory, setMeta } from './db.js';
import { FixtureError, fixtureFile, loadAllFixtures, loadTiming } from './fixtures.js';
import { parallelPlan, startParallelCompile, type ParallelCompile } from './seed-parallel.js';
import type { VendorData } from '../core/vendor.js';
import { VERSION } from '../core/version.js';

/** Bump when the loader writes a different database from the same fixtures and DDL. */
const SEED_FORMAT = 1;
/** Cache entries kept (most recently used first); each is about the size of the loaded database. */
export const MAX_ENTRIES = 4;
/** A temporary file older than this is a leftover of a process that died while writing. */
const STALE_TMP_MS = 60 * 60_000;
const SQLITE_MAGIC = 'SQLite format 3\0';

export interface CompileSeedOptions {
  vendors: readonly VendorData[];
  /** A fixtures folder, or a SQLite file made by --export-seed. */
  fixtures: string;
  /** Cache folder; null: the default one (defaultSeedCacheDir()); false: no cache (a temporary file). */
  cacheDir?: string | null | false;
  /** Hand back the in-memory database just compiled (not on a cache hit): the caller owns it. */
  keepDb?: boolean;
  /** Where warnings go (a cache folder that cannot be written); default stderr. */
  warn?: (message: string) => void;
  /** Compile on two processes from this many bytes of JSON Lines fixtures (default PARALLEL_MIN_BYTES). */
  parallelMinBytes?: number;
  /**
   * With keepDb, a seed compiled now of more bytes than this is written after compileSeed returns
   * (default DEFER_WRITE_MIN_BYTES; see PendingSeedWrite and CompiledSeed.pending).
   */
  deferWriteMinBytes?: number;
}

export interface CompiledSeed {
  /**
   * A read-only SQLite file holding the schema and the fixtures; valid until release() or the
   * process ends. While `pending` is not done, reading it writes the rest of the file first.
   */
  readonly file: string;
  /** Whether it came from the cache (or is a SQLite fixture file) rather than compiled now. */
  cached: boolean;
  /** Milliseconds spent making it available (hashing and checking included). */
  ms: number;
  source: 'fixtures' | 'sqlite';
  /** The cache key (hex); null for a SQLite fixture file, and while `pending` has not found it yet. */
  readonly key: string | null;
  /** With keepDb, when compiled now: the seeded in-memory database (same content as `file`). */
  db?: DB;
  /** When compiled now: the vendors a helper process loaded (seed-parallel.ts); empty when this one did all. */
  helperVendors?: string[];
  /**
   * A seed compiled now whose file is still to be written (keepDb, and bigger than
   * deferWriteMinBytes): `pending.background()` writes it a slice per event loop turn.
   */
  pending?: PendingSeedWrite;
  /** Drop this process's hold on `file` (its live link or temporary copy); stops a pending write. */
  release(): void;
}

/** `$XDG_CACHE_HOME/vendor-api-emulator`, else `~/.cache/vendor-api-emulator`. */
export function defaultSeedCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base =
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(base, 'vendor-api-emulator');
}

/** Whether `file` starts like a SQLite database (the fixtures option names a file, not a folder). */
export function isSqliteFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    const fd = fs.openSync(file, 'r');
    try {
      const head = Buffer.alloc(16);
      return fs.readSync(fd, head, 0, 16, 0) === 16 && head.toString('latin1') === SQLITE_MAGIC;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** The schema version: every vendor's DDL in order. */
function schemaHash(vendors: readonly VendorData[]): string {
  const h = createHash('sha256');
  h.update(`seed-format ${SEED_FORMAT}\nversion ${VERSION}\n`);
  for (const v of vendors) for (const t of v.tables) h.update(`${v.name}/${t.name}\n${t.ddl}\n`);
  return h.digest('hex');
}

/** The fixture files the loader would read, in load order. */
function fixtureFiles(vendors: readonly VendorData[], dir: string): string[] {
  const out: string[] = [];
  for (const v of vendors)
    for (const t of v.tables) {
      const found = fixtureFile(dir, v, t.name);
      if (found) out.push(found.file);
    }
  return out;
}

/** Bytes hashed per step of hashKey (about 3 ms each): the slices a key found after the server listens is made of. */
const HASH_SLICE = 4 << 20;

/**
 * The cache key: the schema version and every fixture file the loader would read (name, length,
 * bytes). A generator that yields after each slice, so that it can run a slice per event loop turn
 * (see PendingSeedWrite); drain() runs it at once.
 */
function* hashKey(schema: string, dir: string, files: string[]): Generator<void, string> {
  const h = createHash('sha256');
  h.update(schema);
  const buf = Buffer.allocUnsafe(HASH_SLICE);
  for (const file of files) {
    const fd = fs.openSync(file, 'r');
    try {
      h.update(`\n${path.relative(dir, file)}\n${fs.fstatSync(fd).size}\n`);
      let n;
      while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) {
        h.update(n === buf.length ? buf : buf.subarray(0, n));
        yield;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return h.digest('hex').slice(0, 32);
}

/** Run a generator to its end, at once. */
function drain<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** What identifies a file's contents without reading it: as git's index does (any write changes ctime). */
function statLine(file: string): string {
  const st = fs.statSync(file, { bigint: true });
  return `${file}\t${st.size}\t${st.mtimeNs}\t${st.ctimeNs}\t${st.ino}\t${st.dev}`;
}

const MAX_KEY_MEMOS = 64;

/**
 * The cache key of a fixtures folder. Hashing the files costs about a second per GB, so the key is
 * remembered in the cache folder beside the files' sizes, times and inode numbers: while none of
 * them changed, `known` is the key, taken without reading the files (a fresh checkout changes them
 * all: `find()` hashes them, and remembers the key).
 */
function seedKeyOf(
  vendors: readonly VendorData[],
  dir: string,
  cacheDir: string | null,
): { known: string | null; find: () => Generator<void, string> } {
  const schema = schemaHash(vendors);
  const files = fixtureFiles(vendors, path.resolve(dir));
  if (cacheDir === null) return { known: null, find: () => hashKey(schema, path.resolve(dir), files) };
  const memoDir = path.join(cacheDir, 'keys');
  const memo = path.join(memoDir, `${createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 32)}.txt`);
  const stats = [schema, ...files.map(statLine)].join('\n');
  let known: string | null = null;
  try {
    const text = fs.readFileSync(memo, 'utf8');
    const nl = text.indexOf('\n');
    if (nl === 32 && text.slice(nl + 1) === stats) known = text.slice(0, nl);
  } catch {
    // No memo yet, or unreadable: hash.
  }
  return {
    known,
    find: function* () {
      const key = yield* hashKey(schema, path.resolve(dir), files);
      try {
        fs.mkdirSync(memoDir, { recursive: true, mode: 0o700 });
        // The files may have changed while they were hashed: remember the key only if they did not.
        if ([schema, ...files.map(statLine)].join('\n') === stats)
          writeAtomically(memo, Buffer.from(`${key}\n${stats}`), 0o600);
        const memos = fs.readdirSync(memoDir).map((name) => path.join(memoDir, name));
        if (memos.length > MAX_KEY_MEMOS) {
          const byAge = memos.map((f) => ({ f, t: fs.statSync(f).mtimeMs })).sort((a, b) => b.t - a.t);
          for (const m of byAge.slice(MAX_KEY_MEMOS)) fs.rmSync(m.f, { force: true });
        }
      } catch {
        // A memo that cannot be written only costs the hash next time.
      }
      return key;
    },
  };
}

/** A whole SQLite file: its header says how many pages it has, and they are all there. */
function completeSqliteFile(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return false;
  }
  try {
    const head = Buffer.alloc(100);
    if (fs.readSync(fd, head, 0, 100, 0) !== 100 || head.toString('latin1', 0, 16) !== SQLITE_MAGIC) return false;
    const raw = head.readUInt16BE(16);
    const pageSize = raw === 1 ? 65536 : raw;
    const pages = head.readUInt32BE(28);
    // The page count is valid only when the change counter matches "version valid for".
    if (head.readUInt32BE(24) !== head.readUInt32BE(92)) return false;
    return pages > 0 && fs.fstatSync(fd).size === pageSize * pages;
  } finally {
    fs.closeSync(fd);
  }
}

/** A cache entry that is complete and is the seed of `key`. */
function validEntry(file: string, key: string): boolean {
  if (!completeSqliteFile(file)) return false;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return getMeta(db, 'seed_key') === key;
    } finally {
      db.close();
    }
  } catch {
    return false;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Keep the MAX_ENTRIES most recently used entries; drop leftovers of dead processes. */
function prune(dir: string, keep: string): void {
  const now = Date.now();
  const entries: { file: string; mtime: number }[] = [];
  for (const name of fs.readdirSync(dir)) {
    const file = path.join(dir, name);
    try {
      const st = fs.statSync(file);
      if (/\.sqlite\.tmp-/.test(name)) {
        if (now - st.mtimeMs > STALE_TMP_MS) fs.rmSync(file, { force: true });
      } else if (/^[0-9a-f]{32}\.sqlite$/.test(name) && file !== keep) {
        entries.push({ file, mtime: st.mtimeMs });
      }
    } catch {
      // Gone meanwhile (another process pruning): nothing to do.
    }
  }
  entries.sort((a, b) => b.mtime - a.mtime);
  for (const e of entries.slice(MAX_ENTRIES - 1)) fs.rmSync(e.file, { force: true });
  const live = path.join(dir, 'live');
  if (!fs.existsSync(live)) return;
  for (const name of fs.readdirSync(live)) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !pidAlive(pid)) fs.rmSync(path.join(live, name), { force: true });
  }
}

/** Files to remove when the process ends (a SIGKILL leaves them: live links are then pruned later). */
const heldFiles = new Set<string>();
let exitHook = false;
function hold(file: string, extraDir?: string): () => void {
  heldFiles.add(file);
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const f of heldFiles) fs.rmSync(f, { force: true });
    });
  }
  return () => {
    if (!heldFiles.delete(file)) return;
    fs.rmSync(file, { force: true });
    if (extraDir) fs.rmSync(extraDir, { recursive: true, force: true });
  };
}

/**
 * Compile the fixtures into a fresh in-memory database: on two processes when a ParallelCompile was
 * started for them, else in this process alone.
 */
function compile(
  vendors: readonly VendorData[],
  dir: string,
  parallel: ParallelCompile | null,
): { db: DB; helperVendors: string[] } {
  const made = parallel ? parallel.finish() : { db: openMemory(vendors), helperVendors: [] };
  if (parallel) return made;
  try {
    loadAllFixtures(made.db, dir, vendors);
    return made;
  } catch (e) {
    made.db.close();
    throw e;
  }
}

/**
 * Run a full garbage collection. The Buffer that db.serialize() returns holds memory V8 does not
 * count (better-sqlite3 hands it SQLite's allocation), so nothing prompts V8 to collect it: once
 * written to the cache, a seed's serialized copy (1 GB at a million customers per vendor) stayed
 * in the process's memory beside the database until some later collection. Measured: RSS after a
 * first start at 100 thousand customers per vendor 306 MB without this, 221 MB with it.
 */
function collectNow(): void {
  try {
    v8.setFlagsFromString('--expose-gc');
    (vm.runInNewContext('gc') as () => void)();
  } catch {
    // No way to collect here: the copy goes at the next collection.
  }
}

const tmpName = (file: string) => `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;

/** Write `content` to `file` so that no reader ever sees it half written. */
function writeAtomically(file: string, content: Buffer, mode: number): void {
  const tmp = tmpName(file);
  try {
    fs.writeFileSync(tmp, content, { mode });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * A hard link to `entry` under `live/`, so that pruning or replacing the entry never pulls it from under this process.
 */
function liveLink(dir: string, entry: string): string {
  const live = path.join(dir, 'live');
  fs.mkdirSync(live, { recursive: true, mode: 0o700 });
  const link = path.join(live, `${process.pid}-${randomBytes(4).toString('hex')}.sqlite`);
  fs.linkSync(entry, link);
  return link;
}

/** Bytes written per step of a seed written after the server listens (about 5-10 ms each on a 2-core machine). */
const WRITE_SLICE = 8 << 20;
/**
 * A seed compiled now and bigger than this is written after compileSeed returns (see PendingSeedWrite);
 * a smaller one costs a few milliseconds to write at once. Above what StateRegistry keeps in memory.
 */
export const DEFER_WRITE_MIN_BYTES = 32 * 1024 * 1024;

/**
 * Write a seed's image to `file` a slice per step, then mark it with its key (`seed_key`, what
 * validEntry checks) and make it read-only. With `atomically`, through a temporary name renamed
 * into place, as writeAtomically. A half-written file is removed when the steps stop early.
 */
function* writeSlices(file: string, image: Buffer, key: string, atomically: boolean): Generator<void, void> {
  const tmp = atomically ? tmpName(file) : file;
  const forget = hold(tmp);
  let done = false;
  try {
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      for (let at = 0; at < image.length;) {
        at += fs.writeSync(fd, image, at, Math.min(WRITE_SLICE, image.length - at));
        yield;
      }
    } finally {
      fs.closeSync(fd);
    }
    const db = new Database(tmp);
    try {
      // One row in a file of a gigabyte: no sync to the disk (the page cache holds it, as with
      // the files written at once) and no journal beside it.
      db.pragma('synchronous = OFF');
      db.pragma('journal_mode = OFF');
      setMeta(db, 'seed_key', key);
    } finally {
      db.close();
    }
    fs.chmodSync(tmp, 0o400);
    if (atomically) fs.renameSync(tmp, file);
    done = true;
  } finally {
    // Written and renamed: the name held is gone. Stopped or failed: the partial file goes.
    if (atomically || !done) forget();
    else heldFiles.delete(tmp);
  }
}

/**
 * Writing a seed compiled at this start to its file, from its image: taken the moment the compile
 * ended (db.serialize(), before anything could write to the database, which becomes the default
 * state). The steps find the cache key when it was not known, write the file and mark it. A small
 * seed, or one whose database is not kept, is written at once (file()); a bigger one (over
 * DEFER_WRITE_MIN_BYTES; about 3 s at a million customers per vendor) after the server listens, a
 * slice per event loop turn, so that the first request does not wait for it. What needs the file
 * meanwhile awaits whenDone() (a new session, a control-plane write) or reads `CompiledSeed.file`,
 * which finishes the write at once (a stop).
 */
export class PendingSeedWrite {
  private steps: Generator<void, { file: string; release: () => void }> | null;
  private result: { file: string; release: () => void } | null = null;
  private failure: Error | null = null;
  private timer: NodeJS.Immediate | null = null;
  private waiters: (() => void)[] = [];
  private readonly timing = loadTiming();

  /** The seed's bytes until they are written; then null (and collected). */
  image: Buffer | null;

  constructor(image: Buffer, steps: (image: Buffer) => Generator<void, { file: string; release: () => void }>) {
    this.image = image;
    this.steps = steps(image);
  }

  /** Whether the write is over (the file written, or writing it failed or was stopped). */
  get done(): boolean {
    return this.steps === null;
  }

  /** Whether the file is written. */
  get written(): boolean {
    return this.result !== null;
  }

  /** Resolves once the file is written (or the write failed or was stopped), writing on in the background meanwhile. */
  whenDone(): Promise<void> {
    if (this.steps === null) return Promise.resolve();
    this.background();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const resolve of waiting) resolve();
  }

  /** Go on writing a slice per event loop turn (each lets the requests waiting run first). */
  background(): void {
    if (this.timer === null && this.steps !== null) this.timer = setImmediate(this.tick);
  }

  private readonly tick = () => {
    this.timer = null;
    if (this.step()) this.timer = setImmediate(this.tick);
  };

  /** One slice; false once the write is over. */
  private step(): boolean {
    if (this.steps === null) return false;
    try {
      const r = this.steps.next();
      if (!r.done) return true;
      this.result = r.value;
    } catch (e) {
      this.failure = e as Error;
    }
    this.steps = null;
    this.image = null;
    this.timing?.('seed written');
    this.wake();
    // From a fresh stack: a collection run here found the image still held by this frame's
    // registers (the generator it has just finished) and left the gigabyte in place.
    setImmediate(collectNow).unref();
    return false;
  }

  /** The seed file, written now if it is not yet; throws what made the write fail. */
  file(): string {
    if (this.timer !== null) clearImmediate(this.timer);
    this.timer = null;
    while (this.step());
    if (this.failure) throw this.failure;
    return this.result!.file;
  }

  /** Stop writing (removing what was written) or drop the hold on the written file. */
  release(): void {
    if (this.timer !== null) clearImmediate(this.timer);
    this.timer = null;
    if (this.steps !== null) {
      this.steps.return({ file: '', release: () => {} });
      this.steps = null;
      this.image = null;
      this.failure = new Error('the seed was released before it was written');
      this.wake();
    }
    this.result?.release();
    this.result = null;
  }
}

/**
 * The seed of a fixture set: from the cache when it holds it, else compiled (and cached when the
 * cache folder can be written; otherwise a temporary file, with a warning).
 */
export function compileSeed(opts: CompileSeedOptions): CompiledSeed {
  const t0 = performance.now();
  const warn = opts.warn ?? ((m: string) => process.stderr.write(`vendor-api-emulator: warning: ${m}\n`));
  const { vendors } = opts;
  const ms = () => Math.round(performance.now() - t0);

  if (fs.existsSync(opts.fixtures) && fs.statSync(opts.fixtures).isFile()) {
    const file = path.resolve(opts.fixtures);
    checkSeedFile(file, vendors);
    return { file, cached: true, ms: ms(), source: 'sqlite', key: null, release: () => {} };
  }
  if (!fs.existsSync(opts.fixtures)) throw new FixtureError(`fixtures folder not found: ${opts.fixtures}`);

  const cacheDir = opts.cacheDir === false ? null : path.resolve(opts.cacheDir ?? defaultSeedCacheDir());
  let usable = cacheDir !== null;
  if (cacheDir !== null) {
    try {
      fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
      fs.accessSync(cacheDir, fs.constants.W_OK);
    } catch (e) {
      warn(`seed cache ${cacheDir} cannot be used (${(e as Error).message}); compiling the fixtures without it`);
      usable = false;
    }
  }
  const cache = usable ? cacheDir : null;

  const timing = loadTiming();
  let parallel: ParallelCompile | null = null;
  let planned = false;
  const startCompile = () => {
    if (planned) return;
    planned = true;
    const plan = parallelPlan(vendors, opts.fixtures, opts.parallelMinBytes);
    try {
      if (plan) parallel = startParallelCompile(vendors, opts.fixtures, plan);
    } catch {
      // No temporary folder for the helper: this process loads everything, as with one CPU.
    }
  };
  const cancel = () => (parallel as ParallelCompile | null)?.cancel();
  // When finding the key takes hashing the fixtures (about a second per GB) and the cache holds no
  // entry it could find, a big set's helper process starts loading at once, and the key is found
  // after the compile: by the server after it listens (a seed that keeps its database: see
  // PendingSeedWrite), else before writing. With entries there (a CI cache restored on a fresh
  // checkout) the key comes first: a helper competing with the hash for the CPUs made such a start
  // from the cache about a second slower (2.7 -> 3.7 s at 1M).
  const mayHit = cache !== null && fs.readdirSync(cache).some((n) => /^[0-9a-f]{32}\.sqlite$/.test(n));
  let keyOf: ReturnType<typeof seedKeyOf>;
  let key: string | null;
  try {
    keyOf = seedKeyOf(vendors, opts.fixtures, cache);
    key = keyOf.known;
    if (key === null) {
      if (!mayHit) startCompile();
      else key = drain(keyOf.find());
    }
  } catch (e) {
    cancel();
    throw e;
  }
  timing?.('seed key');
  if (cache !== null && key !== null) {
    const entry = path.join(cache, `${key}.sqlite`);
    if (validEntry(entry, key)) {
      try {
        const link = liveLink(cache, entry);
        const now = new Date();
        fs.utimesSync(entry, now, now);
        cancel();
        return { file: link, cached: true, ms: ms(), source: 'fixtures', key, release: hold(link) };
      } catch (e) {
        warn(`seed cache entry ${entry} cannot be used (${(e as Error).message}); compiling the fixtures again`);
      }
    }
  }

  startCompile();
  const { db, helperVendors } = compile(vendors, opts.fixtures, parallel);
  timing?.('compiled');
  // The image is the seed as compiled: written from it, now (a small seed, or a database that is
  // not kept) or after the server listens (PendingSeedWrite), while the database may change.
  let image: Buffer;
  try {
    image = db.serialize();
  } catch (e) {
    db.close();
    throw e;
  }
  timing?.('image taken');
  const pending = new PendingSeedWrite(image, function* (image) {
    const k = key ?? (yield* keyOf.find());
    key = k;
    if (cache !== null) {
      const entry = path.join(cache, `${k}.sqlite`);
      try {
        yield* writeSlices(entry, image, k, true);
        const link = liveLink(cache, entry);
        prune(cache, entry);
        return { file: link, release: hold(link) };
      } catch (e) {
        warn(`seed cache ${cache} cannot be written (${(e as Error).message}); using a temporary copy`);
      }
    }
    let temp: { file: string; tmpDir: string } | null = null;
    try {
      temp = tempSeedFile();
      yield* writeSlices(temp.file, image, k, false);
    } catch (e) {
      if (temp) fs.rmSync(temp.tmpDir, { recursive: true, force: true });
      throw tempWriteError(e);
    }
    return { file: temp.file, release: hold(temp.file, temp.tmpDir) };
  });
  const release = () => pending.release();
  if (opts.keepDb && image.length > (opts.deferWriteMinBytes ?? DEFER_WRITE_MIN_BYTES)) {
    return {
      get file() {
        return pending.file();
      },
      cached: false,
      ms: ms(),
      source: 'fixtures',
      get key() {
        return key;
      },
      helperVendors,
      db,
      pending,
      release,
    };
  }
  let file: string;
  try {
    file = pending.file();
  } catch (e) {
    db.close();
    throw e;
  }
  if (!opts.keepDb) db.close();
  return {
    file,
    cached: false,
    ms: ms(),
    source: 'fixtures',
    key,
    helperVendors,
    ...(opts.keepDb ? { db } : {}),
    release,
  };
}

/** A temporary folder for a seed that no cache folder holds (removed with the file on release). */
function tempSeedFile(): { file: string; tmpDir: string } {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vendor-api-emulator-seed-'));
  return { file: path.join(tmpDir, 'seed.sqlite'), tmpDir };
}

function tempWriteError(e: unknown): FixtureError {
  return new FixtureError(
    `cannot write the seed to a temporary file in ${os.tmpdir()} (${(e as Error).message}): set TMPDIR or --seed-cache to a writable folder`,
  );
}

/**
 * Check a SQLite fixture file against the schema: every vendor table, index and trigger there,
 * each table with the columns the emulator writes. Throws a FixtureError naming what is wrong.
 */
export function checkSeedFile(file: string, vendors: readonly VendorData[]): void {
  if (!isSqliteFile(file))
    throw new FixtureError(
      `${file}: not a SQLite database (--fixtures takes a folder, or a file made by --export-seed)`,
    );
  // A WAL-mode file (a --db file) cannot be copied into memory as it is, and may have writes
  // waiting in its -wal file.
  const head = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, head, 0, 20, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (head[18] === 2 || head[19] === 2)
    throw new FixtureError(
      `${file}: a database in WAL mode (a --db file?) cannot be used as a seed: stop what uses it and run sqlite3 ${file} 'PRAGMA journal_mode=DELETE', or make a seed with --export-seed`,
    );
  let db: DB;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (e) {
    throw new FixtureError(`${file}: cannot be opened (${(e as Error).message})`);
  }
  const reference = openMemory(vendors);
  try {
    const problems: string[] = [];
    const objects = (d: DB) =>
      new Map(
        (
          d.prepare("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").all() as {
            type: string;
            name: string;
          }[]
        ).map((r) => [r.name, r.type]),
      );
    const columns = (d: DB, table: string) =>
      (d.prepare('SELECT name FROM pragma_table_info(?)').all(table) as { name: string }[]).map((r) => r.name);
    let have: Map<string, string>;
    try {
      have = objects(db);
    } catch (e) {
      throw new FixtureError(`${file}: cannot be read as a SQLite database (${(e as Error).message})`);
    }
    const want = objects(reference);
    for (const [name, type] of want) {
      // Shadow tables of a full-text index come with the index; the index itself is what is named.
      if (
        type === 'table' &&
        /_(data|idx|content|docsize|config)$/.test(name) &&
        want.has(name.replace(/_(data|idx|content|docsize|config)$/, ''))
      )
        continue;
      if (have.get(name) !== type) {
        problems.push(`${type} ${name} is missing`);
        continue;
      }
      if (type !== 'table') continue;
      const got = columns(db, name);
      const missing = columns(reference, name).filter((c) => !got.includes(c));
      if (missing.length > 0)
        problems.push(`table ${name} lacks column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
    }
    if (problems.length === 0 && getMeta(db, 'seeded') === null)
      problems.push('it was never seeded (no "seeded" row in _emulator_meta)');
    if (problems.length > 0) {
      const shown = problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : '');
      throw new FixtureError(
        `${file}: not a seed of this emulator's schema: ${shown} (make one with --fixtures <folder> --export-seed <file>)`,
      );
    }
  } finally {
    reference.close();
    db.close();
  }
}
