/**
 * States: the default one and the isolated sessions. A state is one SQLite database plus the
 * things that belong beside it (its clock, and whatever the control plane attaches). Every
 * request runs against exactly one state, found from the `X-Emulator-Session` header or the
 * `/_sessions/<id>/` path prefix; with neither it is the default state.
 *
 * A session shares the freshly seeded data instead of copying it: its database is an overlay
 * (overlay.ts) over a read-only file of the seeded database, holding only what the session
 * changed, so a new session costs the same whatever the size of the fixtures. The default state
 * is a plain database holding everything (in memory, or the --db file).
 */
import type { DB } from './db.js';
import fs from 'node:fs';
import os from 'node:os';
import { openFile, openImage, openMemory } from './db.js';
import { openOverlay, overlayTemplate, removeSeedFile, writeSeedFile, type OverlayTemplate } from './overlay.js';
import { loadAllFixtures, loadTiming } from './fixtures.js';
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

  constructor(readonly id: string, private _db: DB) {}

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

/** Raised when a new session is needed, the maximum is reached and every session is busy, or memory cannot afford one. */
export class SessionLimitError extends Error {
  readonly statusCode = 503;
}

/**
 * What a new session is assumed to add to the process before it has run (measured: about 1 MB for
 * its connection, the views over the seed and its first request's statements; a few writes add
 * little). Kept free under the budget so that a session admitted has room to work.
 */
export const SESSION_MEMORY_RESERVE = 8 * 1_048_576;

/** The memory the process may use by default: 80% of the machine's, or of the cgroup (container) limit when that is lower. */
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
    super(`Unknown session "${sessionId}": this emulator runs with --session-mode explicit, so a session must be made with POST /_emulator/sessions?session=${sessionId} first (it may also have been deleted, expired, evicted at --max-sessions, or lived on an instance that has gone)`);
  }
}

/** `V`: what the owner of the registry knows of a vendor beyond what the store needs (the app's `VendorModule`). */
export interface StateRegistryOptions<V extends VendorData = VendorData> {
  vendors: readonly V[];
  fixturesDir: string;
  dbFile: string | null;
  /** Sessions unused for this long are dropped (0 = never). */
  sessionIdleMs?: number;
  /** At most this many sessions live at once (the default state is not counted). */
  maxSessions?: number;
  /** Sessions are made only by `create()`; `get()` refuses an id it does not hold. */
  explicitSessions?: boolean;
  /** A new session is refused while the process's RSS plus SESSION_MEMORY_RESERVE would pass this (bytes; 0 or absent = no limit). */
  maxMemoryBytes?: number;
}

export class StateRegistry<V extends VendorData = VendorData> {
  /** A read-only SQLite file of the freshly seeded database: what every session overlays, and every reset copies. */
  readonly seedFile: string;
  private readonly overlay: OverlayTemplate;
  readonly defaultState: EmulatorState;
  readonly sessions = new Map<string, EmulatorState>();
  readonly vendors: readonly V[];
  readonly persistent: boolean;
  readonly sessionIdleMs: number;
  readonly maxSessions: number;
  readonly explicitSessions: boolean;
  readonly maxMemoryBytes: number;
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
    const seed = openMemory(opts.vendors);
    loadAllFixtures(seed, opts.fixturesDir, opts.vendors);
    const timing = loadTiming();
    this.seedFile = writeSeedFile(seed.serialize());
    this.overlay = overlayTemplate(this.seedFile, opts.vendors);
    timing?.('seed file');

    let db: DB;
    if (opts.dbFile) {
      seed.close();
      const opened = openFile(opts.dbFile, opts.vendors);
      db = opened.db;
      if (!opened.seeded) loadAllFixtures(db, opts.fixturesDir, opts.vendors);
    } else {
      // The seed itself becomes the default state: it already holds exactly what the image holds,
      // so opening a second copy from the image would only cost time and memory (at a million
      // customers per vendor, about a second and the size of the image).
      db = seed;
    }
    this.persistent = !!opts.dbFile;
    this.defaultState = new EmulatorState(DEFAULT_STATE_ID, db);
    if (this.sessionIdleMs > 0) {
      this.sweeper = setInterval(() => this.sweep(), Math.min(60_000, Math.max(1000, Math.floor(this.sessionIdleMs / 2))));
      this.sweeper.unref();
    }
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

  /** A new plain in-memory database holding the fixtures (a copy of the seed file). */
  freshDb(): DB {
    return openImage(fs.readFileSync(this.seedFile));
  }

  /** A session's database: the fixtures with no change of its own, or the changes of a session's snapshot (`overlayImage`). */
  sessionDb(overlayImage?: Buffer): DB {
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
    throw new SessionLimitError(`No memory for another session: the emulator uses ${mb(rss)} MB of its ${mb(this.maxMemoryBytes)} MB (--max-memory) and a session needs about ${mb(SESSION_MEMORY_RESERVE)} MB more; DELETE /_emulator/sessions/<id> one you no longer need, or retry later (${this.sessions.size} sessions are kept)`);
  }

  /** At the limit: drop the least recently used session with no request running, or refuse. */
  private evictOne(): void {
    let victim: EmulatorState | null = null;
    for (const s of this.sessions.values()) {
      if (s.inFlight === 0 && (victim === null || s.lastUsedAt < victim.lastUsedAt)) victim = s;
    }
    if (!victim) {
      throw new SessionLimitError(`All ${this.maxSessions} sessions are busy (the maximum, see --max-sessions); retry later or DELETE /_emulator/sessions/<id> one you no longer need`);
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
    removeSeedFile(this.seedFile);
  }
}

/** Session ids: what a CI job would use (job names, UUIDs); nothing that could break a path. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
