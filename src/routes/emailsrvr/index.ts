/** Rackspace Email & Apps API: not emulated yet (its issue is open). Mounted so the table of vendors is complete. */
import type { VendorModule } from '../shared/vendor.js';

export const emailsrvr: VendorModule = {
  name: 'emailsrvr',
  title: 'Rackspace Email & Apps API',
  prefix: '/v0/customers',
  basePaths: ["/v0/customers", "/v1/customers", "/customers"],
  tables: [],
  plugin: async () => {},
};
