/**
 * Each vendor's store side (VendorData: name, tables, what runs after its fixtures load), which the
 * vendor's module in src/routes extends. Kept apart from the routes so that what loads fixtures
 * without serving them (the seed helper process, seed-worker.ts) imports the store only: a tenth
 * of the start-up time of importing the routes (measured 0.09 vs 0.41 s).
 */
import type { VendorData } from '../core/vendor.js';
import { flushKeywordIndex, rackcorpCustomerTables } from './rackcorp.js';
import { rackcorpBillingTables } from './rackcorp-billing.js';
import { emailsrvrTables } from './emailsrvr.js';
import { ispcrmAfterFixtures, ispcrmTables } from './ispcrm.js';
import { mgmtTables } from './mgmt.js';

export const rackcorpData: VendorData = {
  name: 'rackcorp',
  tables: [...rackcorpCustomerTables, ...rackcorpBillingTables],
  // The loaded customers wait out of the keyword index (see rackcorp_customers' DDL): index them now.
  afterFixtures: flushKeywordIndex,
};

export const emailsrvrData: VendorData = { name: 'emailsrvr', tables: emailsrvrTables };

export const ispcrmData: VendorData = { name: 'ispcrm', tables: ispcrmTables, afterFixtures: ispcrmAfterFixtures };

export const mgmtData: VendorData = { name: 'mgmt', tables: mgmtTables };

/** Every vendor's store side, by name. */
export const vendorData: readonly VendorData[] = [rackcorpData, emailsrvrData, ispcrmData, mgmtData];
