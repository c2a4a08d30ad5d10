/** ISP CRM (NeuCRM) API: not emulated yet (its issue is open). Mounted so the table of vendors is complete. */
import type { VendorModule } from '../shared/vendor.js';

export const ispcrm: VendorModule = {
  name: 'ispcrm',
  title: 'ISP CRM (NeuCRM) API',
  prefix: '/api/customer',
  basePaths: ["/api/customer"],
  tables: [],
  plugin: async () => {},
};
