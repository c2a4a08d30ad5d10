/**
 * Compiling a big fixture set on two CPUs. Loading a vendor's fixtures (parsing, inserting,
 * building its indexes and search index) is one thread's work, and vendors share no rows, so this
 * process and a helper process (seed-worker.ts) take vendors from one queue, biggest first, each
 * into a database of its own; the helper's vendors are then copied into this process's database.
 * A process rather than a worker thread: the memory a thread frees stays in this process (its
 * malloc arena), measured 480 MB more resident after a first start at a million customers per
 * vendor; a process gives it all back when it ends. The copy is
 * SQLite's transfer of whole records and index entries between tables of the same schema (no
 * parsing, no index or search index built again): at a million customers per vendor the load takes
 * about half the time and the copy a small part of it (see docs/performance.md).
 *
 * Same database as one process makes: the same rows under the same ids, the same indexes, the same
 * search index contents and AUTOINCREMENT counters; only where SQLite puts the pages differs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { DB } from './db.js';
import { applySchema, openMemory } from './db.js';
import { checkForeignKeys, FixtureError, jsonLinesBytes, loadAllFixtures, loadTiming } from './fixtures.js';
import type { VendorData } from '../core/vendor.js';

/** Below this many bytes of JSON Lines fixtures, one process: starting the helper costs more than it saves. */
export const PARALLEL_MIN_BYTES = 32 * 1024 * 1024;

/** The helper's script beside this module (in dist/; the TypeScript sources have none: one process). */
const WORKER_FILE = fileURLToPath(new URL('./seed-worker.js', import.meta.url));

/** What the helper is given (as its one argument, JSON). */
export interface SeedWorkerData {
  dir: string;
  /** The vendors in queue order, with their DDL, which the helper's own vendor must match. */
  queue: { name: string; ddl: string[] }[];
  /** Folder for the queue's claims, the helper's database file and its answer. */
  tmpDir: string;
}

/**
 * Take queue position `at` (false: the other process has it). Creating a file that must not exist
 * is atomic, so each position goes to exactly one process.
 */
export function claim(tmpDir: string, at: number): boolean {
  try {
    fs.closeSync(fs.openSync(path.join(tmpDir, `claim-${at}`), 'wx'));
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** The helper's answer file, written whole (renamed into place) as its last act. */
export const RESULT_FILE = 'result.json';

/** What the helper answers. */
export interface SeedWorkerResult {
  /** The vendors it loaded (queue positions), into `file`. */
  taken: number[];
  file: string | null;
  error?: { message: string; fixture: boolean };
}

/** The tables a vendor's DDL makes (search index shadow tables included, the index itself not). */
function ownTables(vendor: VendorData): { tables: string[]; parents: string[] } {
  const scratch = new Database(':memory:');
  try {
    applySchema(scratch, [vendor]);
    const tables = (
      scratch
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '_emulator_meta' AND sql NOT LIKE 'CREATE VIRTUAL%'",
        )
        .pluck()
        .all() as string[]
    ).sort();
    const parents = tables.flatMap((t) =>
      (scratch.pragma(`foreign_key_list("${t}")`) as { table: string }[]).map((fk) => fk.table),
    );
    return { tables, parents };
  } finally {
    scratch.close();
  }
}

export interface ParallelPlan {
  order: number[];
  tables: string[][];
}

/**
 * Whether the fixtures are worth two processes, and the queue (vendors, biggest load first): null for
 * one process (one CPU, not Linux, a small fixture set, no worker script, or a vendor whose rows refer to
 * another vendor's, which must then load in the same database).
 */
export function parallelPlan(
  vendors: readonly VendorData[],
  dir: string,
  minBytes = PARALLEL_MIN_BYTES,
): ParallelPlan | null {
  // Linux only: this process waits for the helper blocked, so it tells a helper that died from one still
  // working by /proc (a dead child stays a zombie until reaped, and kill(pid, 0) still finds it).
  if (process.platform !== 'linux') return null;
  if (vendors.length < 2 || os.availableParallelism() < 2 || !fs.existsSync(WORKER_FILE)) return null;
  const bytes = vendors.map((v) => jsonLinesBytes(dir, v));
  if (bytes.reduce((a, b) => a + b, 0) < minBytes) return null;
  const tables = vendors.map(ownTables);
  for (const t of tables) if (t.parents.some((p) => !t.tables.includes(p))) return null;
  const order = vendors.map((_, i) => i).sort((a, b) => bytes[b] - bytes[a] || a - b);
  return { order, tables: tables.map((t) => t.tables) };
}

const TMP_PREFIX = 'vendor-api-emulator-compile-';
/** A compile folder older than this was left by a process killed while compiling (one takes under a minute). */
const STALE_MS = 60 * 60_000;

/** Remove the compile folders (the helper's database: hundreds of MB) that killed processes left behind. */
function sweepStale(): void {
  const now = Date.now();
  try {
    for (const name of fs.readdirSync(os.tmpdir())) {
      if (!name.startsWith(TMP_PREFIX)) continue;
      const dir = path.join(os.tmpdir(), name);
      try {
        if (now - fs.statSync(dir).mtimeMs > STALE_MS) fs.rmSync(dir, { recursive: true, force: true });
      } catch {
        // Gone meanwhile, or another user's: not ours to remove.
      }
    }
  } catch {
    // An unreadable temporary folder: mkdtemp below says what is wrong.
  }
}

export interface ParallelCompile {
  /**
   * Load this process's share and take in the helper's: the seeded database (the caller owns it),
   * and the vendors the helper loaded.
   */
  finish(): { db: DB; helperVendors: string[] };
  /** Stop the helper (the cache held the seed after all). */
  cancel(): void;
}

/**
 * Start the helper now (it takes vendors from the queue at once), so that it works while this
 * process does something else first (hashing the fixtures for the cache key); finish() then loads
 * what is left here.
 */
export function startParallelCompile(vendors: readonly VendorData[], dir: string, plan: ParallelPlan): ParallelCompile {
  sweepStale();
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), TMP_PREFIX));
  const data: SeedWorkerData = {
    dir: path.resolve(dir),
    queue: plan.order.map((i) => ({ name: vendors[i].name, ddl: vendors[i].tables.map((t) => t.ddl) })),
    tmpDir,
  };
  const child = spawn(process.execPath, [WORKER_FILE, JSON.stringify(data)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  child.unref();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null) child.kill('SIGKILL');
    fs.rmSync(tmpDir, { recursive: true, force: true });
  };
  return {
    cancel: stop,
    finish() {
      const timing = loadTiming();
      const db = openMemory(vendors);
      try {
        const mine: number[] = [];
        const load = (at: number) => {
          loadAllFixtures(db, dir, [vendors[plan.order[at]]], { foreignKeyCheck: false });
          mine.push(plan.order[at]);
        };
        // The first (biggest) vendor is the helper's, so that it has one whenever it can load
        // any; the others go to whichever process asks first.
        for (let at = 1; at < plan.order.length; at++) if (claim(tmpDir, at)) load(at);
        const fk = db.pragma('foreign_keys', { simple: true }) === 1;
        if (mine.length > 0 && fk) checkForeignKeys(db);
        timing?.(`loaded here: ${mine.map((v) => vendors[v].name).join(', ') || 'none'}`);
        const answer = awaitResult(tmpDir, child.pid);
        timing?.('waited for the helper');
        if (answer?.error?.fixture) throw new FixtureError(answer.error.message);
        // A helper that could not load these vendors (not the emulator's own) took none; one that
        // failed otherwise (no room for its file, killed) leaves its vendors to this process.
        const helperFailed = answer === null || answer.error !== undefined;
        const result: SeedWorkerResult = helperFailed ? { taken: [], file: null } : answer;
        const before = mine.length;
        for (let at = 0; at < plan.order.length; at++)
          if (helperFailed ? !mine.includes(plan.order[at]) : claim(tmpDir, at)) load(at);
        if (mine.length > before && fk) checkForeignKeys(db);
        if (result.file !== null) {
          takeIn(
            db,
            result.file,
            result.taken.flatMap((at) => plan.tables[plan.order[at]]),
          );
        }
        const helperVendors = result.taken.map((at) => vendors[plan.order[at]].name);
        timing?.(`copied in: ${helperVendors.join(', ') || 'none'}`);
        return { db, helperVendors };
      } catch (e) {
        db.close();
        throw e;
      } finally {
        stop();
      }
    },
  };
}

/**
 * Wait (blocking: the seed is compiled synchronously) for the helper's answer, looking every few
 * milliseconds; null when it ended without one (killed, or it never started).
 */
function awaitResult(tmpDir: string, pid: number | undefined): SeedWorkerResult | null {
  const file = path.join(tmpDir, RESULT_FILE);
  const nap = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      return JSON.parse(fs.readFileSync(file, 'utf8')) as SeedWorkerResult;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    if (pid === undefined || !running(pid)) {
      if (fs.existsSync(file)) continue;
      return null;
    }
    Atomics.wait(nap, 0, 0, 5);
  }
}

/** Whether process `pid` still runs (not ended, nor ended and waiting to be reaped). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // Linux: a child that ended stays a zombie until this (blocked) process reaps it.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // No /proc entry: the process is gone (reaped) since kill() found it.
    return false;
  }
}

/**
 * Copy `tables` (empty here) from the database file `file`. Each is SQLite's transfer optimization
 * (INSERT INTO t SELECT * FROM other.t, same schema, empty target, no trigger, foreign keys off):
 * records and index entries copied as they are. The search indexes' shadow tables are copied the
 * same way (writing them needs SQLite's defensive mode off for the copy); their few rows made
 * at creation are replaced.
 */
function takeIn(db: DB, file: string, tables: string[]): void {
  const fk = db.pragma('foreign_keys', { simple: true }) === 1;
  db.pragma('foreign_keys = OFF');
  db.unsafeMode(true);
  db.prepare('ATTACH ? AS seed_part').run(file);
  try {
    db.transaction(() => {
      const list = tables.map((t) => `'${t}'`).join(', ');
      const triggers = db
        .prepare(`SELECT name, sql FROM main.sqlite_master WHERE type = 'trigger' AND tbl_name IN (${list})`)
        .all() as { name: string; sql: string }[];
      for (const tr of triggers) db.exec(`DROP TRIGGER main."${tr.name}"`);
      for (const t of tables)
        db.exec(`DELETE FROM main."${t}"; INSERT INTO main."${t}" SELECT * FROM seed_part."${t}"`);
      for (const tr of triggers) db.exec(tr.sql);
      const hasSeq = (schema: string) =>
        db.prepare(`SELECT 1 FROM ${schema}.sqlite_master WHERE name = 'sqlite_sequence'`).get() !== undefined;
      if (hasSeq('seed_part') && hasSeq('main')) {
        db.exec(`DELETE FROM main.sqlite_sequence WHERE name IN (${list})`);
        db.exec(`INSERT INTO main.sqlite_sequence SELECT * FROM seed_part.sqlite_sequence WHERE name IN (${list})`);
      }
    })();
  } finally {
    db.exec('DETACH seed_part');
    db.unsafeMode(false);
    if (fk) db.pragma('foreign_keys = ON');
  }
}
