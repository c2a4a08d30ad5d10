/**
 * States: the default one and the isolated sessions. A state is one SQLite database plus the
 * things that belong beside it (its clock, and whatever the control plane attaches). Every
 * request runs against exactly one state, found from the `X-Emulator-Session` header or the
 * `/_sessions/<id>/` path prefix; with neither it is the default state.
 *
 * Every state starts from the seed (seed.ts): a read-only SQLite file holding the schema and the
 * fixtures, compiled once per fixture set and cached on disk. A session shares it instead of copying
 * it: its database is an overlay (overlay.ts) over the seed file, holding only what the session
 * changed, so a new session costs the same whatever the size of the fixtures. The default state is
 * a plain database holding everything (in memory, or the --db file).
 */
import fs from 'node:fs';
import type { DB } from './db.js';
import os from 'node:os';
import { openFile, openImage } from './db.js';
import { openOverlay, overlayTemplate, type OverlayTemplate } from './overlay.js';
import { FixtureError, loadAllFixtures, loadTiming } from './fixtures.js';
import { compileSeed, type CompiledSeed } from './seed.js';
import { Clock } from '../core/clock.js';
import type { VendorData } from '../core/vendor.js';

export const DEFAULT_STATE_ID = 'default';

/** A repository factory: builds prepared statements over one database. */
export type RepoFactory<T> = (db: DB) => T;

export class EmulatorState {
  readonly clock = new Clock();
  readonly createdAt = Date.now();
  lastUsedAt = Date.now();
  /** Requests currently being served in this state (a state in use is never evicted). */
  inFlight = 0;
  private repos = new Map<RepoFactory<unknown>, unknown>();
  /**
   * Attachments owned by other subsystems (the control plane keeps its per-state data here); one
   * with a dispose() is disposed when the state closes.
   */
  readonly extras = new Map<string, unknown>();
  /** Dropped while requests were still running in it: closed when the last one ends. */
  private retired = false;

  constructor(
    readonly id: string,
    private _db: DB,
  ) {}

  get db(): DB {
    return this._db;
  }

  /** The repository made by `factory` over this state's database, made once and reused. */
  use<T>(factory: RepoFactory<T>): T {
    let repo = this.repos.get(factory) as T | undefined;
    if (repo === undefined) {
      repo = factory(this._db);
      this.repos.set(factory, repo);
    }
    return repo;
  }

  /** Swap in another database (reset, restore); prepared statements are rebuilt on next use. */
  replaceDb(db: DB): void {
    const old = this._db;
    this._db = db;
    this.repos.clear();
    if (old !== db) old.close();
  }

  /** The per-state attachment under `key`, made by `make()` on first use. */
  extra<T>(key: string, make: () => T): T {
    let v = this.extras.get(key) as T | undefined;
    if (v === undefined) {
      v = make();
      this.extras.set(key, v);
    }
    return v;
  }

  /** A request starts running in this state. */
  acquire(): void {
    this.inFlight++;
    this.lastUsedAt = Date.now();
  }

  /** A request that ran in this state is over (answered, failed or aborted). */
  release(): void {
    if (this.inFlight > 0) this.inFlight--;
    this.lastUsedAt = Date.now();
    if (this.retired && this.inFlight === 0) this.close();
  }

  /** Close now, or once the requests still running in it are over. */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) this.close();
  }

  close(): void {
    this.repos.clear();
    if (this._db.open) this._db.close();
    // An attachment that accounts for what it holds beyond the state (the journal's share of the
    // process-wide byte budget) gives it back.
    for (const v of this.extras.values()) (v as { dispose?(): void }).dispose?.();
  }
}

/**
 * Raised when a new session is needed, the maximum is reached and every session is busy, or memory cannot afford one.
 */
export class SessionLimitError extends Error {
  readonly statusCode = 503;
}

/**
 * What a new session is assumed to add to the process before it has run (measured: about 1 MB for
 * its connection, the views over the seed and its first request's statements; a few writes add
 * little). Kept free under the budget so that a session admitted has room to work.
 */
export const SESSION_MEMORY_RESERVE = 8 * 1_048_576;

/**
 * The memory the process may use by default: 80% of the machine's, or of the cgroup (container) limit when that is
 * lower.
 */
export function defaultMemoryBudget(): number {
  let limit = os.totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const n = Number(fs.readFileSync(file, 'utf8').trim()); // "max" (no limit) reads as NaN
      if (Number.isFinite(n) && n > 0 && n < limit) limit = n;
    } catch {
      // not in a cgroup of that version
    }
  }
  return Math.floor(limit * 0.8);
}

/**
 * Explicit session mode: a request named a session that POST /_emulator/sessions never made (or
 * that was deleted, expired, evicted, or lived on an instance that has since gone). Answered 404
 * by the route's own error handler: the vendor's format on vendor routes, the control plane's on
 * /_emulator. Never a fresh session under the same id: behind a load balancer that would hand a
 * test, after failover, data it never wrote.
 */
export class UnknownSessionError extends Error {
  readonly statusCode = 404;
  readonly code = 'EMULATOR_UNKNOWN_SESSION';
  constructor(readonly sessionId: string) {
    super(
      `Unknown session "${sessionId}": this emulator runs with --session-mode explicit, so a session must be made with POST /_emulator/sessions?session=${sessionId} first (it may also have been deleted, expired, evicted at --max-sessions, or lived on an instance that has gone)`,
    );
  }
}

/** `V`: what the owner of the registry knows of a vendor beyond what the store needs (the app's `VendorModule`). */
export interface StateRegistryOptions<V extends VendorData = VendorData> {
  vendors: readonly V[];
  /** A fixtures folder, or a SQLite seed file (--export-seed). */
  fixturesDir: string;
  dbFile: string | null;
  /** Seed cache folder; null: the default one; false or absent: none (a temporary file). */
  seedCache?: string | null | false;
  /** A seed compiled now of more bytes than this is written once the server listens (default DEFER_WRITE_MIN_BYTES). */
  seedWriteLaterBytes?: number;
  /** Warnings while compiling the seed (a cache that cannot be written); default stderr. */
  warn?: (message: string) => void;
  /** Sessions unused for this long are dropped (0 = never). */
  sessionIdleMs?: number;
  /** At most this many sessions live at once (the default state is not counted). */
  maxSessions?: number;
  /** Sessions are made only by `create()`; `get()` refuses an id it does not hold. */
  explicitSessions?: boolean;
  /**
   * A new session is refused while the process's RSS plus SESSION_MEMORY_RESERVE would pass this (bytes; 0 or absent =
   * no limit).
   */
  maxMemoryBytes?: number;
  /**
   * A seed up to this size is copied whole into each new session, a bigger one overlaid (overlay.ts):
   * on a small seed the copy costs less than the views cost every read after it (default 2 MiB; 0 =
   * always overlay).
   */
  sessionCopyMaxBytes?: number;
}

/** Seeds up to this size are also held in memory (see StateRegistry.smallImage). */
const SMALL_SEED_BYTES = 16 * 1024 * 1024;

export class StateRegistry<V extends VendorData = VendorData> {
  /** How the seed was had: from the cache or compiled now, and how long it took. */
  readonly seed: Pick<CompiledSeed, 'cached' | 'ms' | 'source' | 'key'>;
  private readonly compiled: CompiledSeed;
  /** Made by the first session that is overlaid (none is when every session is a copy of a small seed). */
  private overlay: OverlayTemplate | null = null;
  /**
   * A small seed's bytes, kept so that a reset does not read the file (about 1 ms for the shipped
   * fixtures, against 0.15 ms from memory); a big seed is read from its file each time rather than
   * held (it was 1 GB at a million customers per vendor).
   */
  private smallImage: Buffer | null = null;
  readonly defaultState: EmulatorState;
  readonly sessions = new Map<string, EmulatorState>();
  readonly vendors: readonly V[];
  readonly persistent: boolean;
  readonly sessionIdleMs: number;
  readonly maxSessions: number;
  readonly explicitSessions: boolean;
  readonly maxMemoryBytes: number;
  readonly sessionCopyMaxBytes: number;
  /** Sessions refused because memory could not afford them. */
  refusedForMemory = 0;
  /** Sessions dropped because of the limit (least recently used first) or idleness. */
  evicted = 0;
  expired = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private lastSweep = 0;

  constructor(opts: StateRegistryOptions<V>) {
    this.vendors = opts.vendors;
    this.sessionIdleMs = opts.sessionIdleMs ?? 30 * 60_000;
    this.maxSessions = opts.maxSessions ?? 100;
    this.explicitSessions = opts.explicitSessions ?? false;
    this.maxMemoryBytes = opts.maxMemoryBytes ?? 0;
    this.sessionCopyMaxBytes = opts.sessionCopyMaxBytes ?? 2 * 1024 * 1024;
    const compiled = compileSeed({
      vendors: opts.vendors,
      fixtures: opts.fixturesDir,
      cacheDir: opts.seedCache === undefined ? false : opts.seedCache,
      keepDb: !opts.dbFile,
      deferWriteMinBytes: opts.seedWriteLaterBytes,
      warn: opts.warn,
    });
    const timing = loadTiming();
    this.compiled = compiled;
    this.seed = {
      cached: compiled.cached,
      ms: compiled.ms,
      source: compiled.source,
      get key() {
        return compiled.key;
      },
    };

    let db: DB;
    try {
      if (opts.dbFile) {
        db = openDbFile(opts.dbFile, this.seedFile, opts);
      } else {
        // A seed compiled just now is already in memory: it becomes the default state. From the
        // cache, the file is read whole and deserialized: one read and one copy, no row or index
        // work (1.5 s of CPU for the whole start at a million customers per vendor, see
        // docs/performance.md).
        db = compiled.db ?? this.freshDb();
      }
      // A seed still to be written (a big one compiled now) is read from memory rather than have
      // the file written here.
      const pendingImage = compiled.pending?.image;
      if (pendingImage) {
        if (pendingImage.length <= SMALL_SEED_BYTES) this.smallImage = Buffer.from(pendingImage);
      } else if (fs.statSync(this.seedFile).size <= SMALL_SEED_BYTES) this.smallImage = fs.readFileSync(this.seedFile);
    } catch (e) {
      compiled.db?.close();
      compiled.release();
      throw e;
    }
    timing?.('default state');
    this.persistent = !!opts.dbFile;
    this.defaultState = new EmulatorState(DEFAULT_STATE_ID, db);
    if (this.sessionIdleMs > 0) {
      this.sweeper = setInterval(
        () => this.sweep(),
        Math.min(60_000, Math.max(1000, Math.floor(this.sessionIdleMs / 2))),
      );
      this.sweeper.unref();
    }
  }

  /**
   * The seed: a read-only SQLite file with the fixtures, what every session overlays and every reset
   * copies. A big seed compiled at this start is written after the server listens
   * (PendingSeedWrite): until then, reading this writes the rest at once (about 3 s at a million
   * customers per vendor), so what can wait for it awaits seedReady() first (a new session, a
   * control-plane write); a stop writes it at once.
   */
  get seedFile(): string {
    try {
      return this.compiled.file;
    } catch (e) {
      throw new SessionLimitError(
        `The fixtures' seed could not be written to disk, so no session or reset can be made from it: ${(e as Error).message}`,
      );
    }
  }

  /**
   * Whether the seed file is written: false while a big seed compiled at this start is being
   * written, and if writing it failed (then a new session or a reset is refused, naming why).
   */
  get seedWritten(): boolean {
    const pending = this.compiled.pending;
    return pending === undefined || pending.written;
  }

  /**
   * Null when the seed file is written; else a promise of it, the write going on in the background
   * meanwhile: what needs the file can wait for it without holding up the other requests.
   */
  seedReady(): Promise<void> | null {
    const pending = this.compiled.pending;
    return pending && !pending.done ? pending.whenDone() : null;
  }

  /** Write the seed file in the background, if it is still to be written (the server calls it once it listens). */
  writeSeedInBackground(): void {
    this.compiled.pending?.background();
  }

  /** Drop the sessions idle for longer than the idle limit (none with requests running). */
  sweep(now = Date.now()): number {
    this.lastSweep = now;
    if (this.sessionIdleMs <= 0) return 0;
    let n = 0;
    for (const [id, s] of this.sessions) {
      if (s.inFlight === 0 && now - s.lastUsedAt > this.sessionIdleMs) {
        this.drop(id);
        n++;
      }
    }
    this.expired += n;
    return n;
  }

  /** A new plain in-memory database holding the fixtures (a copy of the seed). */
  freshDb(): DB {
    return openImage(this.smallImage ?? fs.readFileSync(this.seedFile));
  }

  /**
   * A session's database: the fixtures with no change of its own, or the changes of a session's snapshot
   * (`overlayImage`).
   */
  sessionDb(overlayImage?: Buffer): DB {
    if (!overlayImage && this.smallImage !== null && this.smallImage.length <= this.sessionCopyMaxBytes) {
      return openImage(this.smallImage);
    }
    this.overlay ??= overlayTemplate(this.seedFile, this.vendors);
    return openOverlay(this.overlay, overlayImage);
  }

  /** The state for a session id when it exists (or the default state), without making one. */
  find(sessionId: string | null): EmulatorState | undefined {
    if (!sessionId || sessionId === DEFAULT_STATE_ID) return this.defaultState;
    return this.sessions.get(sessionId);
  }

  /** The state for a session id (made on first use unless sessions are explicit), or the default state. */
  get(sessionId?: string | null): EmulatorState {
    if (!sessionId || sessionId === DEFAULT_STATE_ID) return this.defaultState;
    const now = Date.now();
    if (now - this.lastSweep > 1000) this.sweep(now);
    const s = this.sessions.get(sessionId);
    if (s) return s;
    if (this.explicitSessions) throw new UnknownSessionError(sessionId);
    return this.open(sessionId);
  }

  /** Make a session from the fixtures (POST /_emulator/sessions); null when it already exists. */
  create(sessionId: string): EmulatorState | null {
    if (sessionId === DEFAULT_STATE_ID) return null;
    this.sweep();
    if (this.sessions.has(sessionId)) return null;
    return this.open(sessionId);
  }

  private open(sessionId: string): EmulatorState {
    // The seed's image, held until its file is written, is not what a session costs (and a seed
    // that could not be written refuses the session here).
    if (!this.seedWritten) void this.seedFile;
    this.affordOne();
    if (this.sessions.size >= this.maxSessions) this.evictOne();
    const s = new EmulatorState(sessionId, this.sessionDb());
    this.sessions.set(sessionId, s);
    return s;
  }

  /**
   * Refuse a new session the memory budget cannot afford. The sessions already made keep their
   * data: dropping one to make room would take a running job's data away, so the caller is told
   * instead, and room comes back as sessions are deleted or expire.
   */
  private affordOne(): void {
    if (this.maxMemoryBytes <= 0) return;
    const rss = process.memoryUsage.rss();
    if (rss + SESSION_MEMORY_RESERVE <= this.maxMemoryBytes) return;
    this.refusedForMemory++;
    const mb = (n: number) => Math.round(n / 1_048_576);
    throw new SessionLimitError(
      `No memory for another session: the emulator uses ${mb(rss)} MB of its ${mb(this.maxMemoryBytes)} MB (--max-memory) and a session needs about ${mb(SESSION_MEMORY_RESERVE)} MB more; DELETE /_emulator/sessions/<id> one you no longer need, or retry later (${this.sessions.size} sessions are kept)`,
    );
  }

  /** At the limit: drop the least recently used session with no request running, or refuse. */
  private evictOne(): void {
    let victim: EmulatorState | null = null;
    for (const s of this.sessions.values()) {
      if (s.inFlight === 0 && (victim === null || s.lastUsedAt < victim.lastUsedAt)) victim = s;
    }
    if (!victim) {
      throw new SessionLimitError(
        `All ${this.maxSessions} sessions are busy (the maximum, see --max-sessions); retry later or DELETE /_emulator/sessions/<id> one you no longer need`,
      );
    }
    this.drop(victim.id);
    this.evicted++;
  }

  /** Forget a session; its database closes once the requests still running in it are over. */
  drop(sessionId: string): boolean {
    const s = this.sessions.get(sessionId);
    if (!s) return false;
    this.sessions.delete(sessionId);
    s.retire();
    return true;
  }

  close(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
    this.defaultState.close();
    // A seed still being written is finished, so that the next start finds it in the cache.
    if (this.compiled.pending?.done === false) {
      try {
        void this.compiled.file;
      } catch {
        // Nowhere to write it: the next start compiles again.
      }
    }
    this.compiled.release();
  }
}

/**
 * The --db file: a new (absent or empty) one starts as a copy of the seed, byte for byte; one
 * made by an older emulator that holds the schema but no fixtures is loaded from them.
 */
function openDbFile(file: string, seedFile: string, opts: StateRegistryOptions<VendorData>): DB {
  let st: fs.Stats | null;
  try {
    st = fs.statSync(file);
  } catch {
    st = null;
  }
  if (st === null || st.size === 0) {
    // The file holds the sandbox secrets and every session's data: readable by its owner only,
    // unless it already existed (its owner chose the mode).
    const mode = st === null ? 0o600 : st.mode & 0o777;
    for (const side of ['-wal', '-shm']) fs.rmSync(file + side, { force: true });
    fs.copyFileSync(seedFile, file);
    fs.chmodSync(file, mode);
  }
  const opened = openFile(file, opts.vendors);
  if (!opened.seeded) {
    if (fs.statSync(opts.fixturesDir).isFile()) {
      opened.db.close();
      throw new FixtureError(
        `${file} holds the schema but no fixtures: remove it to start it from ${opts.fixturesDir}`,
      );
    }
    loadAllFixtures(opened.db, opts.fixturesDir, opts.vendors);
  }
  return opened.db;
}

/** Session ids: what a CI job would use (job names, UUIDs); nothing that could break a path. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
