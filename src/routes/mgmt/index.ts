/** Payment gateway Management API (UniPay): not emulated yet (its issue is open). Mounted so the table of vendors is complete. */
import type { VendorModule } from '../shared/vendor.js';

export const mgmt: VendorModule = {
  name: 'mgmt',
  title: 'Payment gateway Management API (UniPay)',
  prefix: '/api/v01',
  basePaths: ["/api/v01/customers"],
  tables: [],
  plugin: async () => {},
};
