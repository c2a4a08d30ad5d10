/**
 * States: the default one and the isolated sessions. A state is one SQLite database plus the
 * things that belong beside it (its clock, and whatever the control plane attaches). Every
 * request runs against exactly one state, found from the `X-Emulator-Session` header or the
 * `/_sessions/<id>/` path prefix; with neither it is the default state.
 *
 * Sessions are made by opening a copy of a prepared, serialized image of the freshly seeded
 * database: no schema or fixture work happens per session.
 */
import type { DB } from './db.js';
import { openFile, openImage, openMemory } from './db.js';
import { loadAllFixtures } from './fixtures.js';
import { Clock } from '../routes/shared/clock.js';
import type { VendorModule } from '../routes/shared/vendor.js';

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
  /** Attachments owned by other subsystems (the control plane keeps its per-state data here). */
  readonly extras = new Map<string, unknown>();

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

  close(): void {
    this.repos.clear();
    if (this._db.open) this._db.close();
  }
}

export interface StateRegistryOptions {
  vendors: readonly VendorModule[];
  fixturesDir: string;
  dbFile: string | null;
}

export class StateRegistry {
  /** Serialized image of a freshly seeded database: the source of every new session and reset. */
  readonly image: Buffer;
  readonly defaultState: EmulatorState;
  readonly sessions = new Map<string, EmulatorState>();
  readonly vendors: readonly VendorModule[];
  readonly persistent: boolean;

  constructor(opts: StateRegistryOptions) {
    this.vendors = opts.vendors;
    const seed = openMemory(opts.vendors);
    loadAllFixtures(seed, opts.fixturesDir, opts.vendors);
    this.image = seed.serialize();
    seed.close();

    let db: DB;
    if (opts.dbFile) {
      const opened = openFile(opts.dbFile, opts.vendors);
      db = opened.db;
      if (!opened.seeded) loadAllFixtures(db, opts.fixturesDir, opts.vendors);
    } else {
      db = openImage(this.image);
    }
    this.persistent = !!opts.dbFile;
    this.defaultState = new EmulatorState(DEFAULT_STATE_ID, db);
  }

  /** A new in-memory database holding the fixtures. */
  freshDb(): DB {
    return openImage(this.image);
  }

  /** The state for a session id (made on first use), or the default state. */
  get(sessionId?: string | null): EmulatorState {
    if (!sessionId || sessionId === DEFAULT_STATE_ID) return this.defaultState;
    let s = this.sessions.get(sessionId);
    if (!s) {
      s = new EmulatorState(sessionId, this.freshDb());
      this.sessions.set(sessionId, s);
    }
    return s;
  }

  drop(sessionId: string): boolean {
    const s = this.sessions.get(sessionId);
    if (!s) return false;
    s.close();
    this.sessions.delete(sessionId);
    return true;
  }

  close(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
    this.defaultState.close();
  }
}

/** Session ids: what a CI job would use (job names, UUIDs); nothing that could break a path. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
