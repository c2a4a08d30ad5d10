import Database from 'better-sqlite3';

/**
 * A seed file's contents, to compare two seeds: its schema, and every table's rows (the search
 * indexes' shadow tables and sqlite_sequence included) in a stable order whatever the table's key
 * (the search indexes' _idx tables have no rowid). Only where SQLite put the pages is left out.
 */
export function seedContents(file: string): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, unknown[]> = {};
    out.schema = db
      .prepare(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_autoindex%' ORDER BY name",
      )
      .all();
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name")
      .pluck()
      .all() as string[];
    for (const t of tables)
      out[t] = (db.prepare(`SELECT * FROM "${t}"`).raw().all() as unknown[][])
        .map((r) => JSON.stringify(r, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('hex') : v)))
        .sort();
    return out;
  } finally {
    db.close();
  }
}
