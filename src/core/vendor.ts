/**
 * What the store needs to know of a vendor: its name, its tables and the step that runs after its
 * fixtures load. The store, the fixtures loader and the state registry see a vendor only through
 * this shape; the app-side part (plugin, contract, presets, options) is `VendorModule` in
 * src/routes/shared/vendor.ts, which extends it.
 */
import type { Database } from 'better-sqlite3';

export type VendorName = 'rackcorp' | 'emailsrvr' | 'ispcrm' | 'mgmt';

export interface VendorTable {
  /** SQLite table name, prefixed with the vendor name (e.g. `rackcorp_customers`). */
  name: string;
  /** CREATE TABLE / CREATE INDEX statements. Run once on a new database, in order. */
  ddl: string;
  /**
   * Rows of this table are messages the real vendor would have sent (emails, password resets);
   * the control plane lists them at /_emulator/outbox. Needs `id` and a creation time column.
   */
  outbox?: boolean;
}

export interface VendorData {
  name: VendorName;
  /**
   * Tables in dependency order. Fixtures are read from `<fixtures>/<vendor>/<table>.json` (an array
   * of row objects, keys = column names) in this order; reset and export use the same order.
   */
  tables: VendorTable[];
  /** Runs after the fixture rows are inserted, in the same transaction (e.g. to set id sequences). */
  afterFixtures?(db: Database): void;
}
