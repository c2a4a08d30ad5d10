#!/usr/bin/env node
/**
 * Hash of the default state a fixtures folder loads into: the schema (type, name, table and SQL
 * text of every sqlite_master entry, in sqlite_master order) and every row of every real table
 * (FTS5 shadow tables and sqlite_sequence included), in rowid order (primary key order for WITHOUT
 * ROWID tables), each value with its typeof(). Two loaders that give the same hash load the same
 * state. Loads through the built code (dist/), exactly as the CLI does.
 *
 *   node scripts/state-hash.mjs [--fixtures DIR] [--dist DIR] [--tables]
 *
 * --tables also prints one hash per table (to find where two loads differ).
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const argv = process.argv.slice(2);
const opt = (name, def) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
};
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(opt('--dist', path.join(root, 'dist')));
const fixtures = path.resolve(opt('--fixtures', path.join(root, 'fixtures')));
const perTable = argv.includes('--tables');

const { StateRegistry } = await import(pathToFileURL(path.join(dist, 'store/state.js')).href);
const { vendors } = await import(pathToFileURL(path.join(dist, 'vendors.js')).href);

const t0 = performance.now();
let registry;
try {
  registry = new StateRegistry({ vendors, fixturesDir: fixtures, dbFile: null, sessionIdleMs: 0 });
} catch (e) {
  console.log(`error ${e.name}: ${e.message}`);
  process.exit(1);
}
const loadMs = performance.now() - t0;
const db = registry.defaultState.db;
db.defaultSafeIntegers(true);

const all = crypto.createHash('sha256');
const enc = (t, v) =>
  t === 'blob' ? `blob:${Buffer.from(v).toString('hex')}` : t === 'null' ? 'null' : `${t}:${String(v)}`;
const quote = (n) => `"${n.replace(/"/g, '""')}"`;

const master = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid').raw().all();
const schema = crypto.createHash('sha256');
for (const r of master) schema.update(`${JSON.stringify(r.map((v) => (typeof v === 'bigint' ? String(v) : v)))}\n`);
const schemaHash = schema.digest('hex');
all.update(`schema ${schemaHash}\n`);
if (perTable) console.log(`schema ${schemaHash} (${master.length} entries)`);

let rowsTotal = 0;
for (const [type, name, , sql] of master) {
  if (type !== 'table' || /^CREATE\s+VIRTUAL/i.test(sql ?? '')) continue;
  const cols = db.prepare(`PRAGMA table_info(${quote(name)})`).all();
  const withoutRowid = /WITHOUT\s+ROWID\s*$/i.test(sql ?? '');
  const pk = cols
    .filter((c) => Number(c.pk) > 0)
    .sort((a, b) => Number(a.pk) - Number(b.pk))
    .map((c) => quote(c.name));
  const order = withoutRowid ? pk.join(', ') : 'rowid';
  const select = [
    withoutRowid ? "'-'" : 'rowid',
    ...cols.flatMap((c) => [`typeof(${quote(c.name)})`, quote(c.name)]),
  ].join(', ');
  const h = crypto.createHash('sha256');
  h.update(`${name}(${cols.map((c) => c.name).join(',')})\n`);
  let n = 0;
  for (const row of db
    .prepare(`SELECT ${select} FROM ${quote(name)} ORDER BY ${order}`)
    .raw()
    .iterate()) {
    let line = String(row[0]);
    for (let i = 1; i < row.length; i += 2) line += `|${enc(row[i], row[i + 1])}`;
    h.update(line);
    h.update('\n');
    n++;
  }
  const d = h.digest('hex');
  rowsTotal += n;
  all.update(`${name} ${d}\n`);
  if (perTable) console.log(`${name} ${d} (${n} rows)`);
}
console.log(
  `state ${all.digest('hex')} (${master.length} schema entries, ${rowsTotal} rows, load ${Math.round(loadMs)} ms) ${fixtures}`,
);
registry.close();
