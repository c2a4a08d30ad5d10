import type { VendorModule } from '../shared/vendor.js';

export const rackcorp: VendorModule = {
  name: 'rackcorp',
  title: 'RackCorp REST API v2.9',
  prefix: '/api/rest/v2.9',
  basePaths: ['/api/rest/v2.9', '/api/v2.9', '/api/rest/v2.9/json.php'],
  tables: [],
  plugin: async () => {},
};
